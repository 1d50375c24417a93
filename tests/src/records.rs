//! Record batches for the raw client: building them (well-formed or broken) and
//! reading fetched ones.

use anyhow::{Context, Result, bail};
use bytes::{Bytes, BytesMut};
use kafka_protocol::indexmap::IndexMap;
use kafka_protocol::records::{
    BatchDecodeInfo, Compression, Record, RecordBatchDecoder, RecordBatchEncoder,
    RecordEncodeOptions, TimestampType,
};

/// Byte range of the CRC-32C field in a v2 record batch header.
pub const CRC_RANGE: std::ops::Range<usize> = 17..21;

/// A record as a test writes or reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestRecord {
    /// The offset (as fetched; ignored when building).
    pub offset: i64,
    /// The timestamp in ms.
    pub timestamp: i64,
    /// The key.
    pub key: Option<Bytes>,
    /// The value.
    pub value: Option<Bytes>,
}

impl TestRecord {
    /// A record with a UTF-8 key and value.
    pub fn new(key: &str, value: &str, timestamp: i64) -> Self {
        Self {
            offset: 0,
            timestamp,
            key: Some(Bytes::copy_from_slice(key.as_bytes())),
            value: Some(Bytes::copy_from_slice(value.as_bytes())),
        }
    }
}

/// Producer identity and first sequence number of an idempotent batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Idempotence {
    /// The producer id from InitProducerId.
    pub producer_id: i64,
    /// The producer epoch from InitProducerId.
    pub producer_epoch: i16,
    /// The sequence number of the batch's first record.
    pub base_sequence: i32,
}

/// Encodes `records` as one v2 batch (base offset 0, no producer id) with `compression`.
pub fn batch(records: &[TestRecord], compression: Compression) -> Result<Bytes> {
    encode(records, compression, None)
}

/// Encodes `records` as one uncompressed v2 batch of an idempotent producer.
pub fn idempotent_batch(records: &[TestRecord], producer: Idempotence) -> Result<Bytes> {
    encode(records, Compression::None, Some(producer))
}

/// Encodes `records` as one uncompressed v2 batch of a transactional
/// producer.
pub fn transactional_batch(records: &[TestRecord], producer: Idempotence) -> Result<Bytes> {
    encode_with(records, Compression::None, Some(producer), true)
}

/// Encodes `records` as one v2 batch.
fn encode(
    records: &[TestRecord],
    compression: Compression,
    producer: Option<Idempotence>,
) -> Result<Bytes> {
    encode_with(records, compression, producer, false)
}

/// Encodes `records` as one v2 batch, transactional or not.
fn encode_with(
    records: &[TestRecord],
    compression: Compression,
    producer: Option<Idempotence>,
    transactional: bool,
) -> Result<Bytes> {
    if records.is_empty() {
        bail!("a batch needs at least one record");
    }
    let encoded: Vec<Record> = records
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let offset = i as i64;
            // The encoder keeps records in one batch only while offset - sequence stays
            // the same; without a producer this gives the batch base sequence -1.
            let base_sequence = producer.map_or(-1, |p| p.base_sequence);
            Record {
                transactional,
                control: false,
                delete_horizon: false,
                partition_leader_epoch: -1,
                producer_id: producer.map_or(-1, |p| p.producer_id),
                producer_epoch: producer.map_or(-1, |p| p.producer_epoch),
                timestamp_type: TimestampType::Creation,
                offset,
                sequence: base_sequence.wrapping_add(i as i32),
                timestamp: r.timestamp,
                key: r.key.clone(),
                value: r.value.clone(),
                headers: IndexMap::new(),
            }
        })
        .collect();
    let mut buf = BytesMut::new();
    RecordBatchEncoder::encode(
        &mut buf,
        &encoded,
        &RecordEncodeOptions {
            version: 2,
            compression,
        },
    )
    .context("cannot encode a record batch")?;
    Ok(buf.freeze())
}

/// One uncompressed batch of `values` (keys `k0`, `k1`, …, timestamps from `timestamp`).
pub fn simple_batch(values: &[&str], timestamp: i64) -> Result<Bytes> {
    let records: Vec<TestRecord> = values
        .iter()
        .enumerate()
        .map(|(i, v)| TestRecord::new(&format!("k{i}"), v, timestamp + i as i64))
        .collect();
    batch(&records, Compression::None)
}

/// The same batch with one bit of its CRC flipped.
pub fn with_bad_crc(batch: &Bytes) -> Result<Bytes> {
    if batch.len() < 61 {
        bail!("not a v2 record batch: {} bytes", batch.len());
    }
    let mut broken = batch.to_vec();
    broken[CRC_RANGE.start] ^= 0x01;
    Ok(Bytes::from(broken))
}

/// One record written by hand for [`raw_batch`]: deltas as the producer
/// numbers them, a value, and a header count (0 for a well-formed record).
#[derive(Debug, Clone, Copy)]
pub struct RawRecord<'a> {
    /// `timestampDelta`, from the batch's base timestamp (may be negative).
    pub timestamp_delta: i64,
    /// `offsetDelta`.
    pub offset_delta: i32,
    /// The value (the key is null).
    pub value: &'a [u8],
    /// The header count written, with no header after it: anything but 0
    /// makes a record that lies about its contents.
    pub header_count: i64,
}

/// An uncompressed v2 batch (no producer id) of hand-written records, whose
/// header claims `base_ts` and `max_ts`, with a valid CRC: what a client
/// sends that encodes records its own way (Java writes the first record's
/// timestamp as the base, so later records may have negative deltas), or a
/// broken one.
pub fn raw_batch(records: &[RawRecord<'_>], base_ts: i64, max_ts: i64) -> Bytes {
    fn varint(out: &mut Vec<u8>, v: i64) {
        let mut z = ((v << 1) ^ (v >> 63)) as u64;
        while z >= 0x80 {
            out.push((z as u8) | 0x80);
            z >>= 7;
        }
        out.push(z as u8);
    }
    let mut body = Vec::new();
    for r in records {
        let mut fields = vec![0u8]; // attributes
        varint(&mut fields, r.timestamp_delta);
        varint(&mut fields, i64::from(r.offset_delta));
        varint(&mut fields, -1); // null key
        varint(&mut fields, r.value.len() as i64);
        fields.extend_from_slice(r.value);
        varint(&mut fields, r.header_count);
        varint(&mut body, fields.len() as i64);
        body.extend(fields);
    }
    let count = records.len() as i32;
    let mut b = Vec::with_capacity(61 + body.len());
    b.extend(0i64.to_be_bytes()); // base offset
    b.extend(((49 + body.len()) as i32).to_be_bytes()); // batch length
    b.extend((-1i32).to_be_bytes()); // partition leader epoch
    b.push(2); // magic
    b.extend([0; 4]); // crc, below
    b.extend(0i16.to_be_bytes()); // attributes
    b.extend((count - 1).to_be_bytes()); // last offset delta
    b.extend(base_ts.to_be_bytes());
    b.extend(max_ts.to_be_bytes());
    b.extend((-1i64).to_be_bytes()); // producer id
    b.extend((-1i16).to_be_bytes()); // producer epoch
    b.extend((-1i32).to_be_bytes()); // base sequence
    b.extend(count.to_be_bytes());
    b.extend(body);
    let crc = crc32c::crc32c(&b[CRC_RANGE.end..]);
    b[CRC_RANGE].copy_from_slice(&crc.to_be_bytes());
    Bytes::from(b)
}

/// Decodes every record of fetched record data (any number of whole batches).
pub fn decode(records: Option<&Bytes>) -> Result<Vec<TestRecord>> {
    let Some(records) = records else {
        return Ok(Vec::new());
    };
    let mut buf = records.clone();
    let sets = RecordBatchDecoder::decode_all(&mut buf).context("cannot decode fetched records")?;
    Ok(sets
        .into_iter()
        .flat_map(|set| set.records)
        .map(|r| TestRecord {
            offset: r.offset,
            timestamp: r.timestamp,
            key: r.key,
            value: r.value,
        })
        .collect())
}

/// The header of each batch in fetched record data (count, base offset, compression…).
pub fn batch_infos(records: Option<&Bytes>) -> Result<Vec<BatchDecodeInfo>> {
    let Some(records) = records else {
        return Ok(Vec::new());
    };
    let mut buf = records.clone();
    RecordBatchDecoder::decode_batch_info(&mut buf).context("cannot read fetched batch headers")
}

/// The values of `records` as text.
pub fn values(records: &[TestRecord]) -> Vec<String> {
    records
        .iter()
        .map(|r| {
            r.value
                .as_ref()
                .map(|v| String::from_utf8_lossy(v).into_owned())
                .unwrap_or_default()
        })
        .collect()
}
