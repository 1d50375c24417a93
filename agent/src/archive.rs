//! The archive tier: old ranges of a topic's log rewritten as Parquet (one
//! row per record) with Iceberg v2 table metadata beside them, so DuckDB,
//! Spark, Trino or pyiceberg read them directly, while Fetch still serves
//! their offsets by encoding Kafka record batches again from the rows.
//!
//! One file per job: [`schema`] (the columns and their Iceberg field ids),
//! [`writer`] (records → a Parquet file in row groups sized for scans),
//! [`encode`] (rows → Kafka v2 record batches), [`reader`] (one row group
//! read by ranged GETs and encoded for Fetch), [`avro`] (the Avro container
//! files Iceberg's manifests need) and [`iceberg`] (manifests, manifest
//! lists and `metadata/v<N>.metadata.json`). The job that drives them is
//! `jobs/archive.rs`; the layout is described in `docs/operations.md`.

pub mod avro;
pub mod decode;
pub mod encode;
pub mod iceberg;
pub mod reader;
pub mod schema;
pub mod table;
pub mod writer;

#[cfg(test)]
mod tests;

/// Why archiving or reading the archive failed.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// Parquet could not be written or read.
    #[error("parquet: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),
    /// Arrow arrays could not be built or read.
    #[error("arrow: {0}")]
    Arrow(#[from] arrow_schema::ArrowError),
    /// A file of the archive does not hold what its index row says.
    #[error("archive file {key}: {what}")]
    Inconsistent {
        /// Object key of the file.
        key: String,
        /// What does not match.
        what: String,
    },
    /// A stored batch's records could not be decoded for archiving.
    #[error("records at offset {offset} do not decode: {what}")]
    Records {
        /// Base offset of the batch.
        offset: i64,
        /// The decoder's complaint.
        what: String,
    },
}

/// How a record's timestamp was set: the two Kafka timestamp types, kept
/// per record in the archive (column `timestamp_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimestampType {
    /// Set by the producer (`0` in the archive).
    CreateTime,
    /// Set by the agent when it appended the batch (`1` in the archive):
    /// consumers read the batch's max timestamp as every record's.
    LogAppendTime,
}

impl TimestampType {
    /// The value stored in the `timestamp_type` column.
    pub fn code(self) -> i32 {
        match self {
            Self::CreateTime => 0,
            Self::LogAppendTime => 1,
        }
    }

    /// The type stored as `code`; anything but 1 is CreateTime.
    pub fn from_code(code: i32) -> Self {
        if code == 1 {
            Self::LogAppendTime
        } else {
            Self::CreateTime
        }
    }
}

/// One record as the archive holds it: what a consumer sees of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchivedRecord {
    /// The record's partition.
    pub partition: i32,
    /// Its offset.
    pub offset: i64,
    /// Its timestamp as consumers read it (for LogAppendTime, the append
    /// time), ms since the epoch.
    pub timestamp: i64,
    /// How the timestamp was set.
    pub timestamp_type: TimestampType,
    /// The key; `None` is null.
    pub key: Option<Vec<u8>>,
    /// The value; `None` is null.
    pub value: Option<Vec<u8>>,
    /// Headers in order; keys may repeat; a value may be null.
    pub headers: Vec<(Vec<u8>, Option<Vec<u8>>)>,
}

impl ArchivedRecord {
    /// Bytes of keys, values and headers: what sizes a row group.
    pub fn payload_len(&self) -> usize {
        let field = |f: &Option<Vec<u8>>| f.as_ref().map_or(0, Vec::len);
        32 + field(&self.key)
            + field(&self.value)
            + self
                .headers
                .iter()
                .map(|(k, v)| k.len() + field(v))
                .sum::<usize>()
    }
}
