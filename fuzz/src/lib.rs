//! The agent's code that parses untrusted bytes, compiled from its own
//! source files (it is pure code over bytes, no I/O), under the same module
//! paths as in `floe_agent`; and the checks the fuzz targets share.
//!
//! A module included here must depend only on modules included here: the
//! fuzz build fails otherwise, which is the reminder to keep it so.

#![allow(dead_code)]

/// `floe_agent::kafka`: framing, headers and the served request decoders.
#[path = "../../agent/src/kafka"]
pub mod kafka {
    pub mod codec;
    pub mod versions;
}

/// `floe_agent::segment`: batch headers and the segment file format.
#[path = "../../agent/src/segment"]
pub mod segment {
    pub mod batch;
    pub mod format;
    pub mod reader;
    pub mod records;
}

/// `floe_agent::fetch`: the timestamp search inside one batch.
#[path = "../../agent/src/fetch"]
pub mod fetch {
    pub mod timestamp;
    pub use timestamp::find_record;
}

use bytes::Bytes;

use crate::fetch::find_record;
use crate::segment::batch::{BatchHeader, BatchIter, patch_run, verify_crc};

/// Decompressed bytes a fuzzed timestamp scan may read: the agent's limit
/// is larger, the logic the same, and a small one keeps runs fast.
pub const SCAN_LIMIT: u64 = 1 << 20;

/// Walks `run` as the read path does: patches base offsets from `base`,
/// then walks the patched batches and searches each for a timestamp.
/// Never panics, and every answer lies inside its batch.
pub fn check_run(run: &[u8], base: i64) {
    let mut patched = run.to_vec();
    if patch_run(&mut patched, base, 0).is_err() {
        return;
    }
    let mut next = base;
    for item in BatchIter::new(Bytes::from(patched)) {
        let Ok((header, batch)) = item else {
            panic!("a run that patched must walk");
        };
        assert_eq!(header.base_offset, next, "patched base offsets follow on");
        check_batch(&batch, &header, next);
        next = next.saturating_add(header.offset_count());
    }
}

/// Searches one batch for records by timestamp within [`SCAN_LIMIT`];
/// a hit must be an offset of the batch.
pub fn check_batch(batch: &[u8], header: &BatchHeader, base: i64) {
    let probe = header.base_timestamp.saturating_add(1);
    for hit in [
        find_record(batch, header, base, SCAN_LIMIT, |ts| ts >= probe),
        find_record(batch, header, base, SCAN_LIMIT, |ts| {
            ts == header.max_timestamp
        }),
    ]
    .into_iter()
    .flatten()
    .flatten()
    {
        let last = base.saturating_add(i64::from(header.last_offset_delta));
        assert!(
            (base..=last).contains(&hit.offset),
            "hit {hit:?} outside the batch {base}..={last}"
        );
    }
}

/// Recomputes the CRC-32C of the batch at the start of `data`, if its header
/// parses, so that mutations reach the checks behind the CRC.
pub fn fix_batch_crc(data: &mut [u8]) {
    if let Ok(header) = BatchHeader::parse(data) {
        let crc = crc32c::crc32c(&data[21..header.total_len]);
        data[17..21].copy_from_slice(&crc.to_be_bytes());
        debug_assert!(verify_crc(data, &header).is_ok());
    }
}
