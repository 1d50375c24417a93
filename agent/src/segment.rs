//! The segment file: one immutable object per flush, holding the batches of
//! every partition written in that flush, and the Kafka batch header logic
//! the write and read paths share.

pub mod batch;
pub mod compress;
pub mod control;
pub mod format;
pub mod reader;
pub mod records;
pub mod writer;

#[cfg(test)]
mod tests;

pub use format::{FooterEntry, SegmentError};
pub use writer::{EncodedSegment, PartitionBatches, encode_segment};
