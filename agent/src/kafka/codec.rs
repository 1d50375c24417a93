//! Framing and request headers: plain functions over bytes, no I/O, so any
//! transport (and any fuzzer or golden test) can drive them.

use std::collections::VecDeque;
use std::io::IoSlice;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use kafka_protocol::messages::{ApiKey, RequestHeader, ResponseHeader};
use kafka_protocol::protocol::{Decodable, Encodable};

/// Why a frame or header could not be read. Each of these closes the
/// connection, as Kafka does.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    /// The length prefix is negative or above the limit.
    #[error("frame of {size} bytes is over the limit of {limit}")]
    FrameTooLarge {
        /// The announced size.
        size: i64,
        /// The configured limit.
        limit: usize,
    },
    /// Too short to hold a request header.
    #[error("request header truncated")]
    Truncated,
    /// An API key Kafka does not define.
    #[error("unknown api key {0}")]
    UnknownApiKey(i16),
    /// The header or body did not decode.
    #[error("malformed {what}: {reason}")]
    Malformed {
        /// What was being decoded.
        what: &'static str,
        /// The decoder's complaint.
        reason: String,
    },
    /// A response failed to encode (a bug).
    #[error("cannot encode response: {0}")]
    Encode(String),
}

/// Takes one length-prefixed frame off the front of `buf`, if complete.
/// Frames are checked against `max_frame` as soon as the prefix is in, so an
/// oversized frame is refused before any of it is buffered. An incomplete
/// frame reserves nothing: the announced length is only a claim, and the
/// caller grows its buffer as bytes really arrive.
pub fn decode_frame(buf: &mut BytesMut, max_frame: usize) -> Result<Option<Bytes>, CodecError> {
    if buf.len() < 4 {
        return Ok(None);
    }
    let size = i32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]);
    let len = usize::try_from(size)
        .ok()
        .filter(|&l| l <= max_frame)
        .ok_or(CodecError::FrameTooLarge {
            size: i64::from(size),
            limit: max_frame,
        })?;
    if buf.len() < 4 + len {
        return Ok(None);
    }
    buf.advance(4);
    Ok(Some(buf.split_to(len).freeze()))
}

/// A request whose header has been read; the body is still raw.
#[derive(Debug, Clone)]
pub struct RequestFrame {
    /// The API.
    pub api_key: ApiKey,
    /// The API version the client used.
    pub version: i16,
    /// The decoded header.
    pub header: RequestHeader,
    /// The body, to decode with the API's request type.
    pub body: Bytes,
}

/// Reads the request header of a frame. The API key and version are read
/// first because they decide the header's own version.
pub fn parse_request(mut frame: Bytes) -> Result<RequestFrame, CodecError> {
    if frame.len() < 8 {
        return Err(CodecError::Truncated);
    }
    let raw_key = i16::from_be_bytes([frame[0], frame[1]]);
    let version = i16::from_be_bytes([frame[2], frame[3]]);
    let api_key = ApiKey::try_from(raw_key).map_err(|_| CodecError::UnknownApiKey(raw_key))?;
    // Versions outside the crate's range still have a well-defined header
    // when the API's flexible versions started at or below the top known
    // version; clamp so an unsupported version can be answered politely.
    let known = api_key.valid_versions();
    let header_version = api_key.request_header_version(version.clamp(known.min, known.max));
    let header =
        RequestHeader::decode(&mut frame, header_version).map_err(|e| CodecError::Malformed {
            what: "request header",
            reason: e.to_string(),
        })?;
    Ok(RequestFrame {
        api_key,
        version,
        header,
        body: frame,
    })
}

/// Decodes a request body.
pub fn decode_body<T: Decodable>(frame: &RequestFrame) -> Result<T, CodecError> {
    let mut body = frame.body.clone();
    T::decode(&mut body, frame.version).map_err(|e| CodecError::Malformed {
        what: "request body",
        reason: e.to_string(),
    })
}

/// Decodes the body of `frame` with the request type its handler decodes
/// it into, and drops it. The handlers each name their own type; this names
/// them all in one place, so that the fuzzer (`fuzz/`) and the allocation
/// tests reach every body decoder the agent runs on client bytes. The
/// caller checks the version is served ([`super::versions::is_supported`]),
/// as dispatch does. ApiVersions is answered without reading its body, so
/// nothing is decoded for it.
pub fn decode_served_body(frame: &RequestFrame) -> Result<(), CodecError> {
    use kafka_protocol::messages::{
        CreateTopicsRequest, DeleteGroupsRequest, DeleteTopicsRequest, DescribeGroupsRequest,
        FetchRequest, FindCoordinatorRequest, HeartbeatRequest, InitProducerIdRequest,
        JoinGroupRequest, LeaveGroupRequest, ListGroupsRequest, ListOffsetsRequest,
        MetadataRequest, OffsetCommitRequest, OffsetDeleteRequest, OffsetFetchRequest,
        ProduceRequest, SyncGroupRequest,
    };
    match frame.api_key {
        ApiKey::ApiVersions => Ok(()),
        ApiKey::Produce => decode_body::<ProduceRequest>(frame).map(drop),
        ApiKey::Fetch => decode_body::<FetchRequest>(frame).map(drop),
        ApiKey::ListOffsets => decode_body::<ListOffsetsRequest>(frame).map(drop),
        ApiKey::Metadata => decode_body::<MetadataRequest>(frame).map(drop),
        ApiKey::CreateTopics => decode_body::<CreateTopicsRequest>(frame).map(drop),
        ApiKey::DeleteTopics => decode_body::<DeleteTopicsRequest>(frame).map(drop),
        ApiKey::InitProducerId => decode_body::<InitProducerIdRequest>(frame).map(drop),
        ApiKey::FindCoordinator => decode_body::<FindCoordinatorRequest>(frame).map(drop),
        ApiKey::JoinGroup => decode_body::<JoinGroupRequest>(frame).map(drop),
        ApiKey::SyncGroup => decode_body::<SyncGroupRequest>(frame).map(drop),
        ApiKey::Heartbeat => decode_body::<HeartbeatRequest>(frame).map(drop),
        ApiKey::LeaveGroup => decode_body::<LeaveGroupRequest>(frame).map(drop),
        ApiKey::OffsetCommit => decode_body::<OffsetCommitRequest>(frame).map(drop),
        ApiKey::OffsetFetch => decode_body::<OffsetFetchRequest>(frame).map(drop),
        ApiKey::OffsetDelete => decode_body::<OffsetDeleteRequest>(frame).map(drop),
        ApiKey::ListGroups => decode_body::<ListGroupsRequest>(frame).map(drop),
        ApiKey::DescribeGroups => decode_body::<DescribeGroupsRequest>(frame).map(drop),
        ApiKey::DeleteGroups => decode_body::<DeleteGroupsRequest>(frame).map(drop),
        ApiKey::CreatePartitions => {
            decode_body::<kafka_protocol::messages::CreatePartitionsRequest>(frame).map(drop)
        }
        ApiKey::DeleteRecords => {
            decode_body::<kafka_protocol::messages::DeleteRecordsRequest>(frame).map(drop)
        }
        ApiKey::DescribeCluster => {
            decode_body::<kafka_protocol::messages::DescribeClusterRequest>(frame).map(drop)
        }
        ApiKey::DescribeQuorum => {
            decode_body::<kafka_protocol::messages::DescribeQuorumRequest>(frame).map(drop)
        }
        ApiKey::DescribeTopicPartitions => {
            decode_body::<kafka_protocol::messages::DescribeTopicPartitionsRequest>(frame).map(drop)
        }
        ApiKey::DescribeProducers => {
            decode_body::<kafka_protocol::messages::DescribeProducersRequest>(frame).map(drop)
        }
        ApiKey::DescribeLogDirs => {
            decode_body::<kafka_protocol::messages::DescribeLogDirsRequest>(frame).map(drop)
        }
        ApiKey::AlterReplicaLogDirs => {
            decode_body::<kafka_protocol::messages::AlterReplicaLogDirsRequest>(frame).map(drop)
        }
        ApiKey::ElectLeaders => {
            decode_body::<kafka_protocol::messages::ElectLeadersRequest>(frame).map(drop)
        }
        ApiKey::ListPartitionReassignments => {
            decode_body::<kafka_protocol::messages::ListPartitionReassignmentsRequest>(frame)
                .map(drop)
        }
        ApiKey::AlterPartitionReassignments => {
            decode_body::<kafka_protocol::messages::AlterPartitionReassignmentsRequest>(frame)
                .map(drop)
        }
        ApiKey::OffsetForLeaderEpoch => {
            decode_body::<kafka_protocol::messages::OffsetForLeaderEpochRequest>(frame).map(drop)
        }
        ApiKey::DescribeConfigs => {
            decode_body::<kafka_protocol::messages::DescribeConfigsRequest>(frame).map(drop)
        }
        ApiKey::AlterConfigs => {
            decode_body::<kafka_protocol::messages::AlterConfigsRequest>(frame).map(drop)
        }
        ApiKey::ListConfigResources => {
            decode_body::<kafka_protocol::messages::ListConfigResourcesRequest>(frame).map(drop)
        }
        ApiKey::IncrementalAlterConfigs => {
            decode_body::<kafka_protocol::messages::IncrementalAlterConfigsRequest>(frame).map(drop)
        }
        ApiKey::AddPartitionsToTxn => {
            decode_body::<kafka_protocol::messages::AddPartitionsToTxnRequest>(frame).map(drop)
        }
        ApiKey::AddOffsetsToTxn => {
            decode_body::<kafka_protocol::messages::AddOffsetsToTxnRequest>(frame).map(drop)
        }
        ApiKey::TxnOffsetCommit => {
            decode_body::<kafka_protocol::messages::TxnOffsetCommitRequest>(frame).map(drop)
        }
        ApiKey::EndTxn => decode_body::<kafka_protocol::messages::EndTxnRequest>(frame).map(drop),
        ApiKey::DescribeTransactions => {
            decode_body::<kafka_protocol::messages::DescribeTransactionsRequest>(frame).map(drop)
        }
        ApiKey::ListTransactions => {
            decode_body::<kafka_protocol::messages::ListTransactionsRequest>(frame).map(drop)
        }
        ApiKey::SaslHandshake => {
            decode_body::<kafka_protocol::messages::SaslHandshakeRequest>(frame).map(drop)
        }
        ApiKey::SaslAuthenticate => {
            decode_body::<kafka_protocol::messages::SaslAuthenticateRequest>(frame).map(drop)
        }
        ApiKey::DescribeUserScramCredentials => {
            decode_body::<kafka_protocol::messages::DescribeUserScramCredentialsRequest>(frame)
                .map(drop)
        }
        ApiKey::AlterUserScramCredentials => {
            decode_body::<kafka_protocol::messages::AlterUserScramCredentialsRequest>(frame)
                .map(drop)
        }
        ApiKey::DescribeClientQuotas => {
            decode_body::<kafka_protocol::messages::DescribeClientQuotasRequest>(frame).map(drop)
        }
        ApiKey::AlterClientQuotas => {
            decode_body::<kafka_protocol::messages::AlterClientQuotasRequest>(frame).map(drop)
        }
        ApiKey::CreateAcls => {
            decode_body::<kafka_protocol::messages::CreateAclsRequest>(frame).map(drop)
        }
        ApiKey::DescribeAcls => {
            decode_body::<kafka_protocol::messages::DescribeAclsRequest>(frame).map(drop)
        }
        ApiKey::DeleteAcls => {
            decode_body::<kafka_protocol::messages::DeleteAclsRequest>(frame).map(drop)
        }
        other => Err(CodecError::Malformed {
            what: "api",
            reason: format!("{other:?} is not served"),
        }),
    }
}

/// Encodes a whole response frame: length prefix, header, body.
pub fn encode_response<T: Encodable>(
    api_key: ApiKey,
    version: i16,
    correlation_id: i32,
    body: &T,
) -> Result<Bytes, CodecError> {
    // ApiVersions answers always use header v0 so that a client that sent
    // a version we do not know can still read the error.
    let header_version = if api_key == ApiKey::ApiVersions {
        0
    } else {
        api_key.response_header_version(version)
    };
    let header = ResponseHeader::default().with_correlation_id(correlation_id);
    let encode_err = |e: anyhow::Error| CodecError::Encode(e.to_string());
    let header_size = header.compute_size(header_version).map_err(encode_err)?;
    let body_size = body.compute_size(version).map_err(encode_err)?;
    let mut buf = BytesMut::with_capacity(4 + header_size + body_size);
    buf.put_i32((header_size + body_size) as i32);
    header
        .encode(&mut buf, header_version)
        .map_err(encode_err)?;
    body.encode(&mut buf, version).map_err(encode_err)?;
    Ok(buf.freeze())
}

/// An encoded response frame in one or more pieces, written in order with
/// vectored writes: the record data of a Fetch answer stay the cache's own
/// buffers instead of being copied into one.
#[derive(Debug, Clone, Default)]
pub struct ResponseFrame {
    chunks: VecDeque<Bytes>,
    remaining: usize,
}

impl ResponseFrame {
    /// Appends a piece (empty ones are dropped).
    pub fn push(&mut self, chunk: Bytes) {
        if !chunk.is_empty() {
            self.remaining += chunk.len();
            self.chunks.push_back(chunk);
        }
    }

    /// The pieces not yet written.
    pub fn chunks(&self) -> impl Iterator<Item = &Bytes> {
        self.chunks.iter()
    }
}

impl From<Bytes> for ResponseFrame {
    fn from(frame: Bytes) -> Self {
        let mut out = Self::default();
        out.push(frame);
        out
    }
}

impl Buf for ResponseFrame {
    fn remaining(&self) -> usize {
        self.remaining
    }

    fn chunk(&self) -> &[u8] {
        self.chunks.front().map_or(&[], |c| &c[..])
    }

    fn advance(&mut self, mut cnt: usize) {
        assert!(cnt <= self.remaining, "advance past the end of the frame");
        self.remaining -= cnt;
        while cnt > 0 {
            let Some(front) = self.chunks.front_mut() else {
                break;
            };
            if cnt < front.len() {
                front.advance(cnt);
                break;
            }
            cnt -= front.len();
            self.chunks.pop_front();
        }
    }

    fn chunks_vectored<'a>(&'a self, dst: &mut [IoSlice<'a>]) -> usize {
        let mut n = 0;
        for (slot, chunk) in dst.iter_mut().zip(&self.chunks) {
            *slot = IoSlice::new(chunk);
            n += 1;
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use bytes::BufMut;
    use kafka_protocol::messages::ProduceRequest;

    use super::*;

    /// A Produce v9 request whose topic array claims 2^31 - 1 entries: it
    /// must be refused as malformed, not allocate gigabytes and abort.
    #[test]
    fn forged_array_length_is_refused_without_allocating() {
        let mut frame = BytesMut::new();
        frame.put_i16(0); // Produce
        frame.put_i16(7); // non-flexible version: plain i32 array lengths
        frame.put_i32(1); // correlation id
        frame.put_i16(-1); // null client id
        frame.put_i16(-1); // null transactional id
        frame.put_i16(-1); // acks
        frame.put_i32(30_000); // timeout
        frame.put_i32(i32::MAX); // topic count
        let req = parse_request(frame.freeze()).unwrap();
        let err = decode_body::<ProduceRequest>(&req).unwrap_err();
        assert!(matches!(err, CodecError::Malformed { .. }), "{err:?}");
    }

    /// Every served API has its body decoder here: an empty body decodes
    /// (ListGroups v0 has no fields) or is malformed, never "not served".
    #[test]
    fn every_served_api_has_a_body_decoder() {
        for (api, range) in crate::kafka::versions::all() {
            for version in range.min..=range.max {
                let mut frame = BytesMut::new();
                frame.put_i16(api as i16);
                frame.put_i16(version);
                frame.put_i32(7); // correlation id
                frame.put_i16(-1); // null client id
                if api.request_header_version(version) >= 2 {
                    frame.put_u8(0); // no tagged fields
                }
                let req = parse_request(frame.freeze()).unwrap();
                match decode_served_body(&req) {
                    Ok(())
                    | Err(CodecError::Malformed {
                        what: "request body",
                        ..
                    }) => {}
                    Err(e) => panic!("{api:?} v{version}: {e}"),
                }
            }
        }
    }

    #[test]
    fn a_frame_in_pieces_reads_as_one() {
        let mut frame = ResponseFrame::default();
        for piece in [&b"ab"[..], b"", b"cde", b"f"] {
            frame.push(Bytes::copy_from_slice(piece));
        }
        assert_eq!(frame.remaining(), 6);
        let mut slices = [IoSlice::new(&[]); 8];
        assert_eq!(
            frame.chunks_vectored(&mut slices),
            3,
            "the empty piece is dropped"
        );
        frame.advance(3);
        assert_eq!(frame.chunk(), b"de");
        assert_eq!(frame.copy_to_bytes(3), Bytes::from_static(b"def"));
        assert!(!frame.has_remaining());
        assert_eq!(frame.chunk(), b"");
    }

    #[test]
    fn frames_are_split_and_oversized_ones_refused() {
        let mut buf = BytesMut::new();
        buf.put_i32(3);
        buf.put_slice(b"abc");
        buf.put_i32(2);
        buf.put_slice(b"d");
        assert_eq!(
            decode_frame(&mut buf, 1024).unwrap(),
            Some(Bytes::from_static(b"abc"))
        );
        assert_eq!(
            decode_frame(&mut buf, 1024).unwrap(),
            None,
            "second frame incomplete"
        );
        let mut claim = BytesMut::with_capacity(4);
        claim.put_i32(1000);
        assert_eq!(decode_frame(&mut claim, 1024).unwrap(), None);
        assert_eq!(claim.capacity(), 4, "an announced length reserves nothing");

        let mut big = BytesMut::new();
        big.put_i32(2048);
        assert!(matches!(
            decode_frame(&mut big, 1024),
            Err(CodecError::FrameTooLarge { .. })
        ));
        let mut negative = BytesMut::new();
        negative.put_i32(-1);
        assert!(decode_frame(&mut negative, 1024).is_err());
    }
}
