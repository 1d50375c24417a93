//! The read path: find the index rows covering an offset, read their bytes
//! (from the segment cache or with ranged GETs), and hand out whole batches
//! with their offsets patched in; long-polling fetches wait on the
//! partitions they read (`watermarks.rs`).

mod cache;
mod reader;
pub mod session;
mod timestamp;
mod watermarks;

pub use cache::SegmentCache;
pub use reader::{LEADER_EPOCH, LogReader, PartitionRead};
pub use timestamp::{MAX_SCAN_BYTES, ScanError, TimestampHit, find_record};
pub use watermarks::{Watch, Watermarks};
