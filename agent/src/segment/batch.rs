//! The Kafka v2 record batch header, read without decoding any record.
//!
//! Floe stores batches as producers sent them. The hot paths only need the
//! 61-byte header: the produce path validates it (and the CRC), the read path
//! walks batches by their length and patches the base offset, which the CRC
//! does not cover.

use bytes::{Buf, Bytes};

/// Size of the v2 batch header up to and including `recordCount`.
pub const HEADER_LEN: usize = 61;
/// Bytes before `batchLength` counts: `baseOffset` (8) and `batchLength` (4).
pub const LOG_OVERHEAD: usize = 12;
const CRC_OFFSET: usize = 17;
const ATTRIBUTES_OFFSET: usize = 21;
const LEADER_EPOCH_OFFSET: usize = 12;
const TRANSACTIONAL_FLAG: i16 = 0x10;
const CONTROL_FLAG: i16 = 0x20;

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
    Ok(header)
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
