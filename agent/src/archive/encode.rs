//! Rows of the archive back into Kafka v2 record batches, for Fetch; and
//! the batch and record writers the log cleaner shares ([`put_batch`],
//! [`put_record`]) to write a filtered batch.
//!
//! Offsets, timestamps, keys, values and headers come out as they were
//! produced; batch boundaries, compression and producer ids do not (no
//! consumer sees those). Batches are written uncompressed, so every client
//! decodes them whatever codecs it was built with; consecutive records
//! share a batch while their timestamp type agrees (and, for
//! LogAppendTime, their append time, which consumers read from the batch's
//! max timestamp), up to [`MAX_BATCH_RECORDS`] records or
//! [`MAX_BATCH_BYTES`] bytes.
//!
//! The offsets of a row group's range after its last record (markers and
//! aborted records left out of the archive) end in an empty batch
//! ([`BatchEncoder::finish_through`]), as Kafka's log cleaner leaves empty
//! batches: a consumer's position moves past them, so one that read the
//! archive to the end of the log reaches the high watermark.

use arrow_array::cast::AsArray;
use arrow_array::types::{Int32Type, Int64Type};
use arrow_array::{Array, RecordBatch};
use bytes::{BufMut, Bytes, BytesMut};

use super::{ArchiveError, TimestampType};
use crate::segment::batch::{HEADER_LEN, LOG_OVERHEAD};

/// Records per encoded batch at most.
pub const MAX_BATCH_RECORDS: i32 = 1_000;
/// Record bytes per encoded batch at most (a single larger record still
/// makes one batch of its own).
pub const MAX_BATCH_BYTES: usize = 1 << 20;
const TIMESTAMP_TYPE_FLAG: i16 = 0x08;
const LEADER_EPOCH: i32 = 0;
/// Kafka's timestamp of a batch without one.
const NO_TIMESTAMP: i64 = -1;

#[derive(Debug)]
struct OpenBatch {
    base_offset: i64,
    last_offset: i64,
    base_timestamp: i64,
    max_timestamp: i64,
    log_append_time: bool,
    count: i32,
    records: BytesMut,
}

/// Encodes records, in offset order, into record batches laid end to end.
#[derive(Debug, Default)]
pub struct BatchEncoder {
    out: BytesMut,
    open: Option<OpenBatch>,
    /// One encoded record, and the scratch space of its body, reused.
    record: Vec<u8>,
    scratch: Vec<u8>,
    /// The offset of the last record pushed.
    last_offset: Option<i64>,
}

impl BatchEncoder {
    /// An empty encoder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends one record.
    #[allow(clippy::too_many_arguments)]
    pub fn push<'a>(
        &mut self,
        offset: i64,
        timestamp: i64,
        timestamp_type: TimestampType,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        headers: impl ExactSizeIterator<Item = (&'a [u8], Option<&'a [u8]>)>,
    ) {
        let log_append_time = timestamp_type == TimestampType::LogAppendTime;
        let fits = self.open.as_ref().is_some_and(|b| {
            b.log_append_time == log_append_time
                && (!log_append_time || b.base_timestamp == timestamp)
                && b.count < MAX_BATCH_RECORDS
                && b.records.len() < MAX_BATCH_BYTES
                && offset > b.last_offset
                && offset - b.base_offset <= i64::from(i32::MAX)
        });
        if !fits {
            self.close();
            self.open = Some(OpenBatch {
                base_offset: offset,
                last_offset: offset,
                base_timestamp: timestamp,
                max_timestamp: timestamp,
                log_append_time,
                count: 0,
                records: BytesMut::new(),
            });
        }
        let Some(batch) = self.open.as_mut() else {
            return;
        };
        let timestamp_delta = if log_append_time {
            0
        } else {
            timestamp - batch.base_timestamp
        };
        // `fits` bounds the delta to i32.
        let offset_delta = (offset - batch.base_offset) as i32;
        self.record.clear();
        put_record(
            &mut self.record,
            &mut self.scratch,
            timestamp_delta,
            offset_delta,
            key,
            value,
            headers,
        );
        batch.records.put_slice(&self.record);
        batch.count += 1;
        batch.last_offset = offset;
        self.last_offset = Some(offset);
        batch.max_timestamp = batch.max_timestamp.max(timestamp);
    }

    /// Appends every row of an archive Arrow batch.
    pub fn push_rows(&mut self, rows: &RecordBatch) -> Result<(), ArchiveError> {
        let column = |name: &str| {
            rows.column_by_name(name)
                .ok_or_else(|| arrow_schema::ArrowError::SchemaError(format!("no column {name}")))
        };
        let offsets = column("offset")?.as_primitive_opt::<Int64Type>();
        let timestamps = column("timestamp")?.as_primitive_opt::<Int64Type>();
        let types = column("timestamp_type")?.as_primitive_opt::<Int32Type>();
        let keys = column("key")?.as_binary_opt::<i32>();
        let values = column("value")?.as_binary_opt::<i32>();
        let headers = column("headers")?.as_list_opt::<i32>();
        let (Some(offsets), Some(timestamps), Some(types), Some(keys), Some(values), Some(headers)) =
            (offsets, timestamps, types, keys, values, headers)
        else {
            return Err(arrow_schema::ArrowError::SchemaError(
                "archive columns have unexpected types".into(),
            )
            .into());
        };
        let entries = headers.values().as_struct_opt().ok_or_else(|| {
            arrow_schema::ArrowError::SchemaError("headers are not structs".into())
        })?;
        let (Some(header_keys), Some(header_values)) = (
            entries.column(0).as_binary_opt::<i32>(),
            entries.column(1).as_binary_opt::<i32>(),
        ) else {
            return Err(arrow_schema::ArrowError::SchemaError(
                "header fields are not binary".into(),
            )
            .into());
        };
        let list_offsets = headers.value_offsets();
        for i in 0..rows.num_rows() {
            let start = usize::try_from(list_offsets[i]).unwrap_or(0);
            let end = usize::try_from(list_offsets[i + 1]).unwrap_or(start);
            self.push(
                offsets.value(i),
                timestamps.value(i),
                TimestampType::from_code(types.value(i)),
                nullable(keys, i),
                nullable(values, i),
                (start..end).map(|h| (header_keys.value(h), nullable(header_values, h))),
            );
        }
        Ok(())
    }

    fn close(&mut self) {
        let Some(batch) = self.open.take() else {
            return;
        };
        let attributes: i16 = if batch.log_append_time {
            TIMESTAMP_TYPE_FLAG
        } else {
            0
        };
        let fields = BatchFields {
            base_offset: batch.base_offset,
            attributes,
            // `push` bounds the span to i32.
            last_offset_delta: (batch.last_offset - batch.base_offset) as i32,
            base_timestamp: batch.base_timestamp,
            max_timestamp: batch.max_timestamp,
            producer_id: -1,
            producer_epoch: -1,
            base_sequence: -1,
            count: batch.count,
        };
        put_batch(&mut self.out, &fields, &batch.records);
    }

    /// The batches encoded so far, the open one closed.
    pub fn finish(mut self) -> Bytes {
        self.close();
        self.out.freeze()
    }

    /// [`BatchEncoder::finish`], then empty batches (no records, no
    /// producer) over the offsets after the last record (or from `first`
    /// if none was pushed) through `last`: what a row group covering
    /// `first..=last` serves.
    pub fn finish_through(mut self, first: i64, last: i64) -> Bytes {
        self.close();
        let mut next = self.last_offset.map_or(first, |l| l.saturating_add(1));
        while next <= last {
            let span = (last - next).min(i64::from(i32::MAX));
            let fields = BatchFields {
                base_offset: next,
                attributes: 0,
                // Bounded to i32 just above.
                last_offset_delta: span as i32,
                base_timestamp: NO_TIMESTAMP,
                max_timestamp: NO_TIMESTAMP,
                producer_id: -1,
                producer_epoch: -1,
                base_sequence: -1,
                count: 0,
            };
            put_batch(&mut self.out, &fields, &[]);
            next += span + 1;
        }
        self.out.freeze()
    }
}

/// The header fields of a v2 batch that [`put_batch`] writes (the length,
/// magic and CRC it computes; the partition leader epoch is 0, patched on
/// the way out as every stored batch's is).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchFields {
    /// `baseOffset`.
    pub base_offset: i64,
    /// `attributes`: codec, timestamp type, transactional and control bits.
    pub attributes: i16,
    /// `lastOffsetDelta`: the log cleaner keeps the original's, so a
    /// filtered batch takes the same offsets (and its producer's last
    /// sequence stays where it was).
    pub last_offset_delta: i32,
    /// `baseTimestamp`.
    pub base_timestamp: i64,
    /// `maxTimestamp`.
    pub max_timestamp: i64,
    /// `producerId`.
    pub producer_id: i64,
    /// `producerEpoch`.
    pub producer_epoch: i16,
    /// `baseSequence`.
    pub base_sequence: i32,
    /// `recordsCount`.
    pub count: i32,
}

/// Appends one v2 batch to `out`: the header of `fields`, then `records`
/// (already compressed with the codec its attributes name), with the batch
/// length and CRC-32C computed.
pub fn put_batch(out: &mut BytesMut, fields: &BatchFields, records: &[u8]) {
    let total = HEADER_LEN + records.len();
    let start = out.len();
    out.reserve(total);
    out.put_i64(fields.base_offset);
    out.put_i32((total - LOG_OVERHEAD) as i32);
    out.put_i32(LEADER_EPOCH);
    out.put_i8(2);
    let crc_at = out.len();
    out.put_u32(0);
    out.put_i16(fields.attributes);
    out.put_i32(fields.last_offset_delta);
    out.put_i64(fields.base_timestamp);
    out.put_i64(fields.max_timestamp);
    out.put_i64(fields.producer_id);
    out.put_i16(fields.producer_epoch);
    out.put_i32(fields.base_sequence);
    out.put_i32(fields.count);
    out.put_slice(records);
    let crc = crc32c::crc32c(&out[crc_at + 4..start + total]);
    out[crc_at..crc_at + 4].copy_from_slice(&crc.to_be_bytes());
}

/// Appends one record to `out`, length prefix included, as a v2 batch
/// holds it uncompressed; `body` is scratch space (cleared and reused).
pub fn put_record<'a>(
    out: &mut Vec<u8>,
    body: &mut Vec<u8>,
    timestamp_delta: i64,
    offset_delta: i32,
    key: Option<&[u8]>,
    value: Option<&[u8]>,
    headers: impl ExactSizeIterator<Item = (&'a [u8], Option<&'a [u8]>)>,
) {
    body.clear();
    body.push(0); // record attributes: unused
    put_varlong(body, timestamp_delta);
    put_varlong(body, i64::from(offset_delta));
    put_bytes(body, key);
    put_bytes(body, value);
    put_varlong(body, headers.len() as i64);
    for (k, v) in headers {
        put_bytes(body, Some(k));
        put_bytes(body, v);
    }
    put_varlong(out, body.len() as i64);
    out.extend_from_slice(body);
}

/// A nullable binary cell.
fn nullable(array: &arrow_array::BinaryArray, i: usize) -> Option<&[u8]> {
    (!array.is_null(i)).then(|| array.value(i))
}

fn put_varlong(out: &mut Vec<u8>, value: i64) {
    let mut v = ((value << 1) ^ (value >> 63)) as u64;
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_bytes(out: &mut Vec<u8>, field: Option<&[u8]>) {
    match field {
        None => put_varlong(out, -1),
        Some(data) => {
            put_varlong(out, data.len() as i64);
            out.extend_from_slice(data);
        }
    }
}
