//! Finding a record by its timestamp inside one stored batch, with bounded
//! memory and work.
//!
//! ListOffsets by timestamp is the one place the read path looks inside
//! records. A producer may have stored a decompression bomb, so the records
//! are streamed ([`Records`], `segment/records.rs`): only the two fields a
//! lookup needs (timestamp and offset deltas) are read, the rest of each
//! record is skipped, and at most [`MAX_SCAN_BYTES`] decompressed bytes are
//! read per lookup.
//!
//! Pure code over bytes, depending only on `segment`: the fuzz crate
//! compiles it by path (see `fuzz/src/lib.rs`).

use crate::segment::batch::BatchHeader;
use crate::segment::records::Records;
pub use crate::segment::records::ScanError;

/// Decompressed bytes one timestamp lookup may read from its batch: the
/// bound on its CPU time (about 0.1 s of zstd or gzip on these machines).
pub const MAX_SCAN_BYTES: u64 = 64 << 20;

const LOG_APPEND_TIME_FLAG: i16 = 0x08;

/// The record found by a timestamp lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimestampHit {
    /// Offset of the record.
    pub offset: i64,
    /// Its timestamp.
    pub timestamp: i64,
}

/// The first record of `batch` (whose parsed header is `header`, and whose
/// first offset in the log is `base_offset`) whose timestamp satisfies
/// `matches`, reading at most `limit` decompressed bytes; `None` if no
/// record does. Offsets outside the batch and timestamps that overflow are
/// [`ScanError::Invalid`].
pub fn find_record(
    batch: &[u8],
    header: &BatchHeader,
    base_offset: i64,
    limit: u64,
    matches: impl Fn(i64) -> bool,
) -> Result<Option<TimestampHit>, ScanError> {
    let mut records = Records::open(batch, header, limit)?;
    let log_append_time = header.attributes & LOG_APPEND_TIME_FLAG != 0;
    for _ in 0..header.record_count.max(0) {
        let record = records.next_head()?;
        if !(0..=header.last_offset_delta).contains(&record.offset_delta) {
            return Err(ScanError::Invalid(format!(
                "record offset delta {} outside the batch",
                record.offset_delta
            )));
        }
        let timestamp = if log_append_time {
            header.max_timestamp
        } else {
            header
                .base_timestamp
                .checked_add(record.timestamp_delta)
                .ok_or_else(|| ScanError::Invalid("record timestamp overflows".into()))?
        };
        if matches(timestamp) {
            return Ok(Some(TimestampHit {
                offset: base_offset + i64::from(record.offset_delta),
                timestamp,
            }));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests;
