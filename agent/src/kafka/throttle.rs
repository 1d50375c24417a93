//! `throttle_time_ms` in the answers of every API that has the field, as
//! Kafka's request quota (KIP-124) sets it: a client over its
//! `request_percentage` (or, for CreateTopics, CreatePartitions and
//! DeleteTopics, its `controller_mutation_rate`) learns how long it is
//! throttled from the answer itself, whatever the API.
//!
//! Handlers build and encode their answers without knowing the throttle,
//! which is only known once the request's handling time is counted. A
//! throttled answer (rare: only a client over its quota gets one) is
//! therefore decoded, given the throttle time and encoded again; an answer
//! whose API or version has no such field is sent as it was.

use bytes::{Buf, Bytes, BytesMut};
use kafka_protocol::messages::{self, ApiKey, ResponseHeader};
use kafka_protocol::protocol::{Decodable, Encodable};

use super::codec::{CodecError, ResponseFrame};
use super::dispatch::Completion;

/// Whether Kafka leaves `api` out of the request quota: the SASL
/// exchange, which a client must complete before anything else
/// (`ClientRequestQuotaManager` and `RequestQuotaTest`'s `SaslActions`;
/// Kafka's other exempt APIs are inter-broker ones Floe does not serve).
pub fn exempt(api: ApiKey) -> bool {
    matches!(api, ApiKey::SaslHandshake | ApiKey::SaslAuthenticate)
}

/// `completion`, its answer given `throttle_ms`.
pub fn answer_with(
    completion: Completion,
    api: ApiKey,
    version: i16,
    throttle_ms: u64,
) -> Completion {
    let throttle = i32::try_from(throttle_ms).unwrap_or(i32::MAX);
    Box::pin(async move {
        let Some(frame) = completion.await? else {
            return Ok(None);
        };
        set_throttle(frame, api, version, throttle).map(Some)
    })
}

/// Sets `throttle_time_ms` in an encoded answer (size, header, body) of
/// `api` at `version`. An answer of an API without the field is returned
/// as it was, as is one of a version without it (the field is then not
/// encoded).
pub fn set_throttle(
    mut frame: ResponseFrame,
    api: ApiKey,
    version: i16,
    throttle_ms: i32,
) -> Result<ResponseFrame, CodecError> {
    if !has_field(api) {
        return Ok(frame);
    }
    let bytes = frame.copy_to_bytes(frame.remaining());
    let decode_err = |e: anyhow::Error| CodecError::Encode(format!("re-reading an answer: {e}"));
    let encode_err = |e: anyhow::Error| CodecError::Encode(e.to_string());
    let header_version = if api == ApiKey::ApiVersions {
        0
    } else {
        api.response_header_version(version)
    };
    let mut rest = bytes.slice(4.min(bytes.len())..);
    let header = ResponseHeader::decode(&mut rest, header_version).map_err(decode_err)?;
    let mut buf = BytesMut::with_capacity(bytes.len());
    buf.extend_from_slice(&[0; 4]);
    header
        .encode(&mut buf, header_version)
        .map_err(encode_err)?;
    patch_body(api, &mut rest, version, throttle_ms, &mut buf).map_err(decode_err)?;
    let size =
        i32::try_from(buf.len() - 4).map_err(|_| CodecError::Encode("answer too large".into()))?;
    buf[..4].copy_from_slice(&size.to_be_bytes());
    Ok(Bytes::from(buf).into())
}

/// The answers with a `throttle_time_ms` field in some version, among the
/// APIs Floe serves (Produce and Fetch set theirs themselves): for each, the
/// body re-read with the throttle set.
macro_rules! throttled_answers {
    ($($kind:ident => $response:ident),* $(,)?) => {
        fn has_field(api: ApiKey) -> bool {
            matches!(api, $(ApiKey::$kind)|*)
        }

        fn patch_body(
            api: ApiKey,
            body: &mut Bytes,
            version: i16,
            throttle_ms: i32,
            out: &mut BytesMut,
        ) -> anyhow::Result<()> {
            match api {
                $(ApiKey::$kind => {
                    let mut r = messages::$response::decode(body, version)?;
                    r.throttle_time_ms = throttle_ms;
                    r.encode(out, version)
                })*
                other => anyhow::bail!("{other:?} answers have no throttle time"),
            }
        }
    };
}

throttled_answers!(
    ListOffsets => ListOffsetsResponse,
    Metadata => MetadataResponse,
    ApiVersions => ApiVersionsResponse,
    CreateTopics => CreateTopicsResponse,
    DeleteTopics => DeleteTopicsResponse,
    CreatePartitions => CreatePartitionsResponse,
    DeleteRecords => DeleteRecordsResponse,
    InitProducerId => InitProducerIdResponse,
    FindCoordinator => FindCoordinatorResponse,
    JoinGroup => JoinGroupResponse,
    SyncGroup => SyncGroupResponse,
    Heartbeat => HeartbeatResponse,
    LeaveGroup => LeaveGroupResponse,
    OffsetCommit => OffsetCommitResponse,
    OffsetFetch => OffsetFetchResponse,
    OffsetDelete => OffsetDeleteResponse,
    ListGroups => ListGroupsResponse,
    DescribeGroups => DescribeGroupsResponse,
    DeleteGroups => DeleteGroupsResponse,
    ConsumerGroupHeartbeat => ConsumerGroupHeartbeatResponse,
    ConsumerGroupDescribe => ConsumerGroupDescribeResponse,
    DescribeCluster => DescribeClusterResponse,
    OffsetForLeaderEpoch => OffsetForLeaderEpochResponse,
    ElectLeaders => ElectLeadersResponse,
    DescribeProducers => DescribeProducersResponse,
    DescribeLogDirs => DescribeLogDirsResponse,
    AlterReplicaLogDirs => AlterReplicaLogDirsResponse,
    DescribeTopicPartitions => DescribeTopicPartitionsResponse,
    ListPartitionReassignments => ListPartitionReassignmentsResponse,
    AlterPartitionReassignments => AlterPartitionReassignmentsResponse,
    DescribeConfigs => DescribeConfigsResponse,
    AlterConfigs => AlterConfigsResponse,
    IncrementalAlterConfigs => IncrementalAlterConfigsResponse,
    ListConfigResources => ListConfigResourcesResponse,
    AddPartitionsToTxn => AddPartitionsToTxnResponse,
    AddOffsetsToTxn => AddOffsetsToTxnResponse,
    TxnOffsetCommit => TxnOffsetCommitResponse,
    EndTxn => EndTxnResponse,
    DescribeTransactions => DescribeTransactionsResponse,
    ListTransactions => ListTransactionsResponse,
    DescribeUserScramCredentials => DescribeUserScramCredentialsResponse,
    AlterUserScramCredentials => AlterUserScramCredentialsResponse,
    DescribeClientQuotas => DescribeClientQuotasResponse,
    AlterClientQuotas => AlterClientQuotasResponse,
    CreateAcls => CreateAclsResponse,
    DescribeAcls => DescribeAclsResponse,
    DeleteAcls => DeleteAclsResponse,
);

#[cfg(test)]
mod tests {
    use kafka_protocol::messages::{ApiVersionsResponse, MetadataResponse, SaslHandshakeResponse};

    use super::*;
    use crate::kafka::codec::encode_response;

    fn reread<T: Decodable>(frame: ResponseFrame, api: ApiKey, version: i16) -> T {
        let mut frame = frame;
        let mut bytes = frame.copy_to_bytes(frame.remaining());
        bytes.advance(4);
        let header_version = if api == ApiKey::ApiVersions {
            0
        } else {
            api.response_header_version(version)
        };
        ResponseHeader::decode(&mut bytes, header_version).expect("header");
        let body = T::decode(&mut bytes, version).expect("body");
        assert!(bytes.is_empty(), "nothing left over");
        body
    }

    #[test]
    fn the_throttle_is_set_and_everything_else_kept() {
        let original = MetadataResponse::default()
            .with_cluster_id(Some("c".into()))
            .with_controller_id(7.into());
        for version in [1, 3, 12] {
            let frame = encode_response(ApiKey::Metadata, version, 42, &original).expect("encode");
            let patched =
                set_throttle(frame.clone().into(), ApiKey::Metadata, version, 1234).expect("patch");
            let body: MetadataResponse = reread(patched, ApiKey::Metadata, version);
            let expected = if version >= 3 { 1234 } else { 0 };
            assert_eq!(body.throttle_time_ms, expected, "v{version}");
            assert_eq!(
                body.with_throttle_time_ms(0),
                reread(frame.into(), ApiKey::Metadata, version)
            );
        }
        // ApiVersions answers use header v0 at every version.
        let frame = encode_response(ApiKey::ApiVersions, 3, 1, &ApiVersionsResponse::default())
            .expect("encode");
        let patched = set_throttle(frame.into(), ApiKey::ApiVersions, 3, 5).expect("patch");
        let body: ApiVersionsResponse = reread(patched, ApiKey::ApiVersions, 3);
        assert_eq!(body.throttle_time_ms, 5);
        // An API without the field is sent as it was.
        let frame = encode_response(
            ApiKey::SaslHandshake,
            1,
            1,
            &SaslHandshakeResponse::default(),
        )
        .expect("encode");
        let same = set_throttle(frame.clone().into(), ApiKey::SaslHandshake, 1, 5).expect("patch");
        let mut same = same;
        assert_eq!(same.copy_to_bytes(same.remaining()), frame);
    }
}
