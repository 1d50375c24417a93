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
