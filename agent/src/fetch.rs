//! The read path: find the index rows covering an offset, read their bytes
//! (from the segment cache or with ranged GETs), and hand out whole batches
//! with their offsets patched in.

mod cache;
mod reader;
mod timestamp;

pub use cache::SegmentCache;
pub use reader::{LEADER_EPOCH, LogReader, PartitionRead};
pub use timestamp::{MAX_SCAN_BYTES, ScanError, TimestampHit, find_record};
