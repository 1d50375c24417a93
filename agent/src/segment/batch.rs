//! The Kafka v2 record batch header, read without decoding any record.
//!
//! Floe stores batches as producers sent them. The hot paths only need the
//! 61-byte header: the produce path validates it (and the CRC), the read path
//! walks batches by their length and patches the base offset, which the CRC
//! does not cover.

use std::ops::RangeInclusive;

use bytes::{Buf, Bytes};

use crate::segment::records::RecordsRefused;

/// Size of the v2 batch header up to and including `recordCount`.
pub const HEADER_LEN: usize = 61;
/// Bytes before `batchLength` counts: `baseOffset` (8) and `batchLength` (4).
pub const LOG_OVERHEAD: usize = 12;
const CRC_OFFSET: usize = 17;
const ATTRIBUTES_OFFSET: usize = 21;
const LEADER_EPOCH_OFFSET: usize = 12;
const MAX_TIMESTAMP_OFFSET: usize = 35;
const TIMESTAMP_TYPE_FLAG: i16 = 0x08;
const TRANSACTIONAL_FLAG: i16 = 0x10;
const CONTROL_FLAG: i16 = 0x20;
/// `producerId` of a batch of a plain (not idempotent) producer.
pub const NO_PRODUCER_ID: i64 = -1;
/// A record timestamp that was not set.
pub const NO_TIMESTAMP: i64 = -1;

/// Why a batch was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BatchError {
    /// Shorter than a header, or its length field runs past the data.
    #[error("record batch truncated or with a bad length")]
    Truncated,
    /// Not message format v2.
    #[error("record batch magic {0} is not supported (only v2)")]
    UnsupportedMagic(i8),
    /// The CRC-32C does not match the contents.
    #[error("record batch crc mismatch")]
    CorruptCrc,
    /// The counts in the header contradict each other or are out of range.
    #[error("record batch header is invalid: {0}")]
    Invalid(&'static str),
    /// An idempotent producer's batch (`producerId >= 0`) with a negative
    /// `producerEpoch`: Kafka's producer state answers
    /// INVALID_PRODUCER_EPOCH for an epoch below the one it holds.
    #[error("producer {producer_id} sent a negative epoch {epoch}")]
    InvalidProducerEpoch {
        /// `producerId` of the batch.
        producer_id: i64,
        /// `producerEpoch` of the batch.
        epoch: i16,
    },
    /// A transactional batch without a producer id: no transaction can
    /// hold it.
    #[error("transactional batch without a producer id")]
    Transactional,
    /// The producer set the LogAppendTime timestamp type, which only
    /// brokers may set.
    #[error("producers may not set the timestamp type to LogAppendTime")]
    LogAppendTime,
    /// A record of the batch is refused (every record is read, see
    /// `segment/records.rs`).
    #[error(transparent)]
    Records(#[from] RecordsRefused),
    /// A CreateTime timestamp outside the topic's
    /// `message.timestamp.before.max.ms` / `message.timestamp.after.max.ms`.
    #[error("timestamp {timestamp} is out of range: it should be within [{low}, {high}]")]
    TimestampOutOfRange {
        /// The offending timestamp (`baseTimestamp` or `maxTimestamp`).
        timestamp: i64,
        /// Whether it is the `baseTimestamp`, the first record's.
        first_record: bool,
        /// Earliest timestamp accepted.
        low: i64,
        /// Latest timestamp accepted.
        high: i64,
    },
}

/// The fields of a batch header that Floe uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchHeader {
    /// `baseOffset` as stored (0 as the producer sent it).
    pub base_offset: i64,
    /// Whole size of the batch in bytes, header included.
    pub total_len: usize,
    /// `attributes`: compression, timestamp type, transactional, control.
    pub attributes: i16,
    /// `lastOffsetDelta`: the batch takes `last_offset_delta + 1` offsets.
    pub last_offset_delta: i32,
    /// `baseTimestamp`.
    pub base_timestamp: i64,
    /// `maxTimestamp`.
    pub max_timestamp: i64,
    /// `producerId` (-1 when not idempotent).
    pub producer_id: i64,
    /// `producerEpoch`.
    pub producer_epoch: i16,
    /// `baseSequence`.
    pub base_sequence: i32,
    /// `recordCount`.
    pub record_count: i32,
}

impl BatchHeader {
    /// Parses the header at the start of `data` and checks that the whole
    /// batch fits in `data`. Does not check the CRC.
    pub fn parse(data: &[u8]) -> Result<Self, BatchError> {
        if data.len() < HEADER_LEN {
            return Err(BatchError::Truncated);
        }
        let mut b = data;
        let base_offset = b.get_i64();
        let batch_length = b.get_i32();
        let _leader_epoch = b.get_i32();
        let magic = b.get_i8();
        if magic != 2 {
            return Err(BatchError::UnsupportedMagic(magic));
        }
        let _crc = b.get_u32();
        let attributes = b.get_i16();
        let last_offset_delta = b.get_i32();
        let base_timestamp = b.get_i64();
        let max_timestamp = b.get_i64();
        let producer_id = b.get_i64();
        let producer_epoch = b.get_i16();
        let base_sequence = b.get_i32();
        let record_count = b.get_i32();
        let total_len = usize::try_from(batch_length)
            .ok()
            .and_then(|l| l.checked_add(LOG_OVERHEAD))
            .filter(|&l| l >= HEADER_LEN)
            .ok_or(BatchError::Truncated)?;
        if total_len > data.len() {
            return Err(BatchError::Truncated);
        }
        Ok(Self {
            base_offset,
            total_len,
            attributes,
            last_offset_delta,
            base_timestamp,
            max_timestamp,
            producer_id,
            producer_epoch,
            base_sequence,
            record_count,
        })
    }

    /// Number of offsets the batch takes in the log.
    pub fn offset_count(&self) -> i64 {
        i64::from(self.last_offset_delta) + 1
    }

    /// Whether the batch belongs to a transaction.
    pub fn is_transactional(&self) -> bool {
        self.attributes & TRANSACTIONAL_FLAG != 0
    }

    /// Whether the batch is a control batch (transaction markers).
    pub fn is_control(&self) -> bool {
        self.attributes & CONTROL_FLAG != 0
    }

    /// Whether the timestamp type is LogAppendTime (else CreateTime).
    pub fn is_log_append_time(&self) -> bool {
        self.attributes & TIMESTAMP_TYPE_FLAG != 0
    }
}

/// How far a CreateTime timestamp may be from the agent's clock: Kafka's
/// `message.timestamp.before.max.ms` and `message.timestamp.after.max.ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimestampLimits {
    /// Largest age accepted, in ms (Kafka 4.x default: `i64::MAX`, no limit).
    pub before_max_ms: i64,
    /// Largest lead over the clock accepted, in ms (Kafka 4.x default: one
    /// hour).
    pub after_max_ms: i64,
}

impl TimestampLimits {
    /// The CreateTime timestamps accepted at `now_ms`.
    pub fn window(&self, now_ms: i64) -> RangeInclusive<i64> {
        now_ms.saturating_sub(self.before_max_ms.max(0))
            ..=now_ms.saturating_add(self.after_max_ms.max(0))
    }
}

impl Default for TimestampLimits {
    fn default() -> Self {
        Self {
            before_max_ms: i64::MAX,
            after_max_ms: 3_600_000,
        }
    }
}

/// Checks the timestamps of a produced batch against `limits` at `now_ms`,
/// as Kafka's `LogValidator` does for CreateTime topics: a timestamp of -1
/// (not set) passes, a batch claiming LogAppendTime is refused.
///
/// Only the header's `baseTimestamp` (the first record's) and
/// `maxTimestamp` (the latest record's) are checked here, before anything
/// is decompressed; every record's is checked by
/// `segment::records::check_records`.
pub fn check_timestamps(
    header: &BatchHeader,
    now_ms: i64,
    limits: TimestampLimits,
) -> Result<(), BatchError> {
    if header.is_log_append_time() {
        return Err(BatchError::LogAppendTime);
    }
    let window = limits.window(now_ms);
    let (low, high) = (*window.start(), *window.end());
    for (timestamp, first_record) in [(header.base_timestamp, true), (header.max_timestamp, false)]
    {
        if timestamp != NO_TIMESTAMP && !(low..=high).contains(&timestamp) {
            return Err(BatchError::TimestampOutOfRange {
                timestamp,
                first_record,
                low,
                high,
            });
        }
    }
    Ok(())
}

/// Checks the CRC-32C of the batch at the start of `data` (whose header was
/// parsed into `header`).
pub fn verify_crc(data: &[u8], header: &BatchHeader) -> Result<(), BatchError> {
    let stored = u32::from_be_bytes([
        data[CRC_OFFSET],
        data[CRC_OFFSET + 1],
        data[CRC_OFFSET + 2],
        data[CRC_OFFSET + 3],
    ]);
    let computed = crc32c::crc32c(&data[ATTRIBUTES_OFFSET..header.total_len]);
    if stored == computed {
        Ok(())
    } else {
        Err(BatchError::CorruptCrc)
    }
}

/// Validates the `records` of one partition in a Produce request: exactly
/// one batch (Kafka's rule for Produce v3 and later), with a sound length,
/// magic 2, a matching CRC, and consistent counts. Producers number records
/// with consecutive offset deltas, so `recordCount` must equal
/// `lastOffsetDelta + 1`.
///
/// The producer fields are checked as Kafka's `LogValidator` and producer
/// state do, so that no batch the store would refuse reaches the pending
/// segment: an idempotent batch (`producerId >= 0`) needs a `baseSequence`
/// of at least 0 (INVALID_RECORD) and an epoch of at least 0
/// (INVALID_PRODUCER_EPOCH; Kafka also takes -1 from a producer it has
/// never seen, which no client sends, as InitProducerId hands out epochs
/// from 0). A `producerId` below -1 is refused as INVALID_RECORD, where
/// Kafka would take the batch as a plain one: no client sends it, and
/// storing it would hand consumers a producer id that means nothing. With
/// `producerId` -1 the epoch and sequence are not looked at, as in Kafka.
/// A transactional batch needs a producer id ([`BatchError::Transactional`]
/// otherwise); whether its producer has a transaction open on the
/// partition is the commit's check (KIP-890 verification against the
/// store). Timestamps are checked apart
/// ([`check_timestamps`]), as they depend on the clock and the topic.
pub fn validate_produced(records: &[u8]) -> Result<BatchHeader, BatchError> {
    if records.is_empty() {
        return Err(BatchError::Invalid("no record batch"));
    }
    let header = BatchHeader::parse(records)?;
    verify_crc(records, &header)?;
    if header.total_len != records.len() {
        return Err(BatchError::Invalid(
            "exactly one record batch per partition is allowed",
        ));
    }
    if header.record_count < 1 {
        return Err(BatchError::Invalid("record batch holds no record"));
    }
    if i64::from(header.record_count) != header.offset_count() {
        return Err(BatchError::Invalid(
            "record count does not match last offset delta",
        ));
    }
    if header.is_control() {
        return Err(BatchError::Invalid("control batches cannot be produced"));
    }
    if header.producer_id < NO_PRODUCER_ID {
        return Err(BatchError::Invalid("producer id below -1"));
    }
    if header.producer_id > NO_PRODUCER_ID {
        if header.base_sequence < 0 {
            return Err(BatchError::Invalid(
                "idempotent batch with a negative base sequence",
            ));
        }
        if header.producer_epoch < 0 {
            return Err(BatchError::InvalidProducerEpoch {
                producer_id: header.producer_id,
                epoch: header.producer_epoch,
            });
        }
    }
    if header.is_transactional() && header.producer_id == NO_PRODUCER_ID {
        return Err(BatchError::Transactional);
    }
    Ok(header)
}

/// Gives the batch at the start of `batch` (its header parsed into
/// `header`) the broker's append time, as Kafka does for a topic with
/// `message.timestamp.type=LogAppendTime`: `maxTimestamp` becomes
/// `now_ms`, the timestamp-type bit of the attributes is set, and the
/// CRC-32C (which covers both) is computed again. Consumers then read
/// `maxTimestamp` as every record's timestamp.
pub fn set_log_append_time(batch: &mut [u8], header: &BatchHeader, now_ms: i64) {
    let attributes = header.attributes | TIMESTAMP_TYPE_FLAG;
    batch[ATTRIBUTES_OFFSET..ATTRIBUTES_OFFSET + 2].copy_from_slice(&attributes.to_be_bytes());
    batch[MAX_TIMESTAMP_OFFSET..MAX_TIMESTAMP_OFFSET + 8].copy_from_slice(&now_ms.to_be_bytes());
    let crc = crc32c::crc32c(&batch[ATTRIBUTES_OFFSET..header.total_len]);
    batch[CRC_OFFSET..CRC_OFFSET + 4].copy_from_slice(&crc.to_be_bytes());
}

/// Iterates over the batches laid end to end in `data`, yielding each
/// batch's bytes and header. Stops at the first malformed batch.
#[derive(Debug, Clone)]
pub struct BatchIter {
    rest: Bytes,
}

impl BatchIter {
    /// Walks the batches in `data`.
    pub fn new(data: Bytes) -> Self {
        Self { rest: data }
    }
}

impl Iterator for BatchIter {
    type Item = Result<(BatchHeader, Bytes), BatchError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        match BatchHeader::parse(&self.rest) {
            Ok(header) => {
                let batch = self.rest.split_to(header.total_len);
                Some(Ok((header, batch)))
            }
            Err(e) => {
                self.rest.clear();
                Some(Err(e))
            }
        }
    }
}

/// Writes `base_offset` and `leader_epoch` into the header of the batch at
/// the start of `batch`. Neither field is covered by the CRC.
pub fn patch_offsets(batch: &mut [u8], base_offset: i64, leader_epoch: i32) {
    batch[..8].copy_from_slice(&base_offset.to_be_bytes());
    batch[LEADER_EPOCH_OFFSET..LEADER_EPOCH_OFFSET + 4]
        .copy_from_slice(&leader_epoch.to_be_bytes());
}

/// Patches every batch of a run laid end to end in `data` (an index row's
/// bytes): the first takes `base_offset`, each next one the offset after the
/// batch before. Done once when the bytes enter the cache, so that fetches
/// serve slices of it as they are.
pub fn patch_run(data: &mut [u8], base_offset: i64, leader_epoch: i32) -> Result<(), BatchError> {
    let (mut at, mut base) = (0, base_offset);
    while at < data.len() {
        let header = BatchHeader::parse(&data[at..])?;
        patch_offsets(&mut data[at..], base, leader_epoch);
        base += header.offset_count();
        at += header.total_len;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
