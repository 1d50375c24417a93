//! Fetch responses encoded in pieces: the record data of each partition are
//! the segment cache's own buffers, placed between the encoded fields, so a
//! fetch copies no record byte between the cache and the socket (the generic
//! encoder would copy every byte into one frame buffer).
//!
//! Field for field this writes what kafka-protocol's `FetchResponse` encoder
//! writes for the versions Floe serves (4–12); a test holds the two to the
//! same bytes.

use std::collections::{BTreeMap, HashMap};

use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::messages::fetch_response::PartitionData;
use kafka_protocol::messages::{ApiKey, FetchResponse, ResponseHeader};
use kafka_protocol::protocol::Encodable;

use super::codec::{CodecError, ResponseFrame};

/// Record data shorter than this is copied: a separate piece costs more
/// than the copy.
const SHARE_MIN: usize = 1024;
/// First version with compact (flexible) encodings and tagged fields.
const FLEXIBLE: i16 = 12;
/// The versions this encoder writes.
const VERSIONS: std::ops::RangeInclusive<i16> = 4..=12;

/// A Fetch response whose record data are kept as pieces.
#[derive(Debug, Default)]
pub struct FetchAnswer {
    /// Every field but the record data of the partitions in `records`.
    pub response: FetchResponse,
    /// Record data by (topic index, partition index) in `response`, which
    /// then leaves that partition's `records` unset.
    pub records: HashMap<(usize, usize), Vec<Bytes>>,
}

/// Encodes a whole response frame: length prefix, header, body.
pub fn encode(
    answer: &FetchAnswer,
    version: i16,
    correlation_id: i32,
) -> Result<ResponseFrame, CodecError> {
    if !VERSIONS.contains(&version) {
        return Err(CodecError::Encode(format!(
            "Fetch v{version} is not written in pieces"
        )));
    }
    let mut out = Pieces::default();
    ResponseHeader::default()
        .with_correlation_id(correlation_id)
        .encode(&mut out.buf, ApiKey::Fetch.response_header_version(version))
        .map_err(encode_err)?;
    write_body(&mut out, answer, version).map_err(encode_err)?;
    let pieces = out.finish();
    let len: usize = pieces.iter().map(Bytes::len).sum();
    let len = i32::try_from(len)
        .map_err(|_| CodecError::Encode(format!("Fetch response of {len} bytes")))?;
    let mut frame = ResponseFrame::default();
    frame.push(Bytes::copy_from_slice(&len.to_be_bytes()));
    for piece in pieces {
        frame.push(piece);
    }
    Ok(frame)
}

fn encode_err(e: anyhow::Error) -> CodecError {
    CodecError::Encode(e.to_string())
}

/// The frame so far: finished pieces, and the buffer fields go into.
#[derive(Debug, Default)]
struct Pieces {
    done: Vec<Bytes>,
    buf: BytesMut,
}

impl Pieces {
    /// Adds `data` as a piece of its own, or copies it when small.
    fn share(&mut self, data: &Bytes) {
        if data.len() < SHARE_MIN {
            self.buf.put_slice(data);
            return;
        }
        if !self.buf.is_empty() {
            self.done.push(self.buf.split().freeze());
        }
        self.done.push(data.clone());
    }

    fn finish(mut self) -> Vec<Bytes> {
        if !self.buf.is_empty() {
            self.done.push(self.buf.freeze());
        }
        self.done
    }
}

type EncodeResult = anyhow::Result<()>;

fn write_body(out: &mut Pieces, answer: &FetchAnswer, version: i16) -> EncodeResult {
    let r = &answer.response;
    let flexible = version >= FLEXIBLE;
    out.buf.put_i32(r.throttle_time_ms);
    if version >= 7 {
        out.buf.put_i16(r.error_code);
        out.buf.put_i32(r.session_id);
    } else if r.session_id != 0 {
        anyhow::bail!("session id is not available in Fetch v{version}");
    }
    length(&mut out.buf, Some(r.responses.len()), flexible)?;
    for (ti, topic) in r.responses.iter().enumerate() {
        string(&mut out.buf, topic.topic.as_bytes(), flexible)?;
        length(&mut out.buf, Some(topic.partitions.len()), flexible)?;
        for (pi, partition) in topic.partitions.iter().enumerate() {
            write_partition(out, partition, answer.records.get(&(ti, pi)), version)?;
        }
        if flexible {
            tagged_fields(&mut out.buf, 0, &topic.unknown_tagged_fields)?;
        }
    }
    if flexible {
        tagged_fields(&mut out.buf, 1, &r.unknown_tagged_fields)?;
    }
    Ok(())
}

fn write_partition(
    out: &mut Pieces,
    p: &PartitionData,
    pieces: Option<&Vec<Bytes>>,
    version: i16,
) -> EncodeResult {
    let flexible = version >= FLEXIBLE;
    let buf = &mut out.buf;
    buf.put_i32(p.partition_index);
    buf.put_i16(p.error_code);
    buf.put_i64(p.high_watermark);
    buf.put_i64(p.last_stable_offset);
    if version >= 5 {
        buf.put_i64(p.log_start_offset);
    }
    let aborted = p.aborted_transactions.as_deref();
    length(buf, aborted.map(<[_]>::len), flexible)?;
    for transaction in aborted.unwrap_or_default() {
        transaction.encode(buf, version)?;
    }
    if version >= 11 {
        buf.put_i32(p.preferred_read_replica.0);
    } else if p.preferred_read_replica != -1 {
        anyhow::bail!("preferred read replica is not available in Fetch v{version}");
    }
    match pieces {
        Some(pieces) => {
            length(buf, Some(pieces.iter().map(Bytes::len).sum()), flexible)?;
            for piece in pieces {
                out.share(piece);
            }
        }
        None => {
            length(buf, p.records.as_ref().map(Bytes::len), flexible)?;
            buf.put_slice(p.records.as_deref().unwrap_or_default());
        }
    }
    if flexible {
        let buf = &mut out.buf;
        let diverging = p.diverging_epoch != Default::default();
        let leader = p.current_leader != Default::default();
        let snapshot = p.snapshot_id != Default::default();
        let known = [diverging, leader, snapshot]
            .iter()
            .filter(|set| **set)
            .count();
        uvarint(buf, known + p.unknown_tagged_fields.len())?;
        if diverging {
            tagged_struct(buf, 0, &p.diverging_epoch, version)?;
        }
        if leader {
            tagged_struct(buf, 1, &p.current_leader, version)?;
        }
        if snapshot {
            tagged_struct(buf, 2, &p.snapshot_id, version)?;
        }
        unknown_tagged(buf, 3, &p.unknown_tagged_fields)?;
    }
    Ok(())
}

/// The length of an array or of bytes, `None` for null: an INT32 (-1 for
/// null), or in flexible versions an unsigned varint of length + 1 (0 for
/// null).
fn length(buf: &mut BytesMut, len: Option<usize>, flexible: bool) -> EncodeResult {
    match (len, flexible) {
        (Some(len), true) => uvarint(buf, len + 1),
        (None, true) => uvarint(buf, 0),
        (Some(len), false) => {
            buf.put_i32(i32::try_from(len)?);
            Ok(())
        }
        (None, false) => {
            buf.put_i32(-1);
            Ok(())
        }
    }
}

/// A non-null string: INT16 length, or a compact string when flexible.
fn string(buf: &mut BytesMut, s: &[u8], flexible: bool) -> EncodeResult {
    if flexible {
        uvarint(buf, s.len() + 1)?;
    } else {
        buf.put_i16(i16::try_from(s.len())?);
    }
    buf.put_slice(s);
    Ok(())
}

fn uvarint(buf: &mut BytesMut, value: usize) -> EncodeResult {
    let mut v = u32::try_from(value)?;
    while v >= 0x80 {
        buf.put_u8((v as u8) | 0x80);
        v >>= 7;
    }
    buf.put_u8(v as u8);
    Ok(())
}

fn tagged_struct<T: Encodable>(
    buf: &mut BytesMut,
    tag: usize,
    value: &T,
    version: i16,
) -> EncodeResult {
    uvarint(buf, tag)?;
    uvarint(buf, value.compute_size(version)?)?;
    value.encode(buf, version)
}

/// A tagged-field section with no known field set: the unknown ones
/// carried through from tag `from` on (as kafka-protocol writes them).
fn tagged_fields(buf: &mut BytesMut, from: i32, unknown: &BTreeMap<i32, Bytes>) -> EncodeResult {
    uvarint(buf, unknown.len())?;
    unknown_tagged(buf, from, unknown)
}

fn unknown_tagged(buf: &mut BytesMut, from: i32, unknown: &BTreeMap<i32, Bytes>) -> EncodeResult {
    for (tag, value) in unknown.range(from..) {
        uvarint(buf, usize::try_from(*tag)?)?;
        uvarint(buf, value.len())?;
        buf.put_slice(value);
    }
    Ok(())
}

#[cfg(test)]
mod tests;
