//! Stored batches (an index row's bytes, base offsets patched in) into
//! archive records: every record of every batch, decompressed within the
//! same bound the rest of the agent holds batches to.

use bytes::Bytes;

use super::writer::ArchiveWriter;
use super::{ArchiveError, ArchivedRecord, TimestampType};
use crate::segment::batch::BatchIter;
use crate::segment::records::{MAX_PRODUCED_RECORDS_BYTES, Records};

/// Adds the records of the batches in `data` (whose base offsets are
/// real) at offset `from` or later to `writer`, as records of
/// `partition`. Returns the records added. Control batches (transaction
/// markers, never written by Floe) hold no records a consumer sees and
/// are skipped.
pub fn add_batches(
    data: Bytes,
    partition: i32,
    from: i64,
    writer: &mut ArchiveWriter,
) -> Result<u64, ArchiveError> {
    let mut added = 0;
    for item in BatchIter::new(data) {
        let (header, batch) = item.map_err(|e| ArchiveError::Records {
            offset: -1,
            what: e.to_string(),
        })?;
        if header.is_control() {
            continue;
        }
        let failed = |what: String| ArchiveError::Records {
            offset: header.base_offset,
            what,
        };
        let mut records = Records::open(&batch, &header, MAX_PRODUCED_RECORDS_BYTES)
            .map_err(|e| failed(e.to_string()))?;
        let log_append = header.is_log_append_time();
        for _ in 0..header.record_count.max(0) {
            let r = records.next_record().map_err(|e| failed(e.to_string()))?;
            let offset = header.base_offset + i64::from(r.offset_delta);
            if offset < from {
                continue;
            }
            let (timestamp, timestamp_type) = if log_append {
                (header.max_timestamp, TimestampType::LogAppendTime)
            } else {
                (
                    header.base_timestamp.saturating_add(r.timestamp_delta),
                    TimestampType::CreateTime,
                )
            };
            writer.push(ArchivedRecord {
                partition,
                offset,
                timestamp,
                timestamp_type,
                key: r.key,
                value: r.value,
                headers: r.headers,
            })?;
            added += 1;
        }
    }
    Ok(added)
}
