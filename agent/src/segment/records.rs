//! The records inside one batch, streamed out of its compression with
//! bounded memory and work.
//!
//! Batches are stored as producers sent them, compressed, so a producer can
//! send a "bomb": a few KiB that decompress to gigabytes. Records are
//! therefore never held: they are read one field at a time out of the
//! decompressor, what the caller does not need is skipped, and at most a
//! given number of decompressed bytes is read per batch. The decoders' own
//! buffers are bounded too: the zstd window is capped at
//! 2^[`ZSTD_WINDOW_LOG_MAX`] bytes, a snappy block at [`SNAPPY_BLOCK_MAX`],
//! gzip and LZ4 keep fixed windows (32 KiB, at most 4 MiB).
//!
//! Two readers use it: the edge, which checks every record of a produced
//! batch as Kafka's log validator does ([`check_records`]), and ListOffsets
//! by timestamp, which looks for one record (`fetch/timestamp.rs`).
//!
//! Pure code over bytes, depending only on `segment::batch`: the fuzz crate
//! compiles it by path (see `fuzz/src/lib.rs`).

use std::io::{self, BufRead, BufReader, Read};
use std::ops::RangeInclusive;

use crate::segment::batch::{BatchHeader, HEADER_LEN};

/// Largest zstd window accepted (8 MiB), the memory a zstd frame may ask
/// for. Kafka producers compress at level 3 (a 2 MiB window at most);
/// zstd's own default limit is 128 MiB.
pub const ZSTD_WINDOW_LOG_MAX: u32 = 23;
/// Largest decompressed snappy block accepted, the memory a snappy block
/// may ask for. Kafka clients write 32 KiB blocks.
pub const SNAPPY_BLOCK_MAX: usize = 8 << 20;

const COMPRESSION_MASK: i16 = 0x07;
/// The 8-byte magic of snappy-java's framing, which Kafka clients use.
const XERIAL_MAGIC: &[u8; 8] = b"\x82SNAPPY\x00";
/// The framing's header: magic, version, compatible version.
const XERIAL_HEADER_LEN: usize = 16;
/// The timestamp of a record that has none.
const NO_TIMESTAMP: i64 = -1;
/// Decompressed bytes a produced batch may hold: 64 times Kafka's default
/// `max.message.bytes`, far beyond what compression of real records gives,
/// and a bound on the work one batch costs the edge.
pub const MAX_PRODUCED_RECORDS_BYTES: u64 = 64 << 20;
/// Read-ahead from the decompressor.
const READ_BUFFER: usize = 8 * 1024;

/// Why a batch's records could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScanError {
    /// Reading them would take more decompressed bytes than allowed, or a
    /// decoder asked for more memory than allowed.
    #[error("batch decompresses to more than the {0} bytes allowed")]
    TooLarge(u64),
    /// The compressed data does not decompress.
    #[error("records do not decompress: {0}")]
    Corrupt(String),
    /// A record is malformed, or the batch holds other than its count.
    #[error("invalid record: {0}")]
    Invalid(String),
}

/// The fields of a record its readers look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordHead {
    /// `timestampDelta`, from the batch's base timestamp.
    pub timestamp_delta: i64,
    /// `offsetDelta`, from the batch's base offset.
    pub offset_delta: i32,
    /// Whether the key is null; read only by [`Records::next_checked`]
    /// (`false` from [`Records::next_head`], which skips the key).
    pub key_null: bool,
}

/// One record with all its fields, as [`Records::next_record`] reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedRecord {
    /// `timestampDelta`, from the batch's base timestamp.
    pub timestamp_delta: i64,
    /// `offsetDelta`, from the batch's base offset.
    pub offset_delta: i32,
    /// The key; `None` is a null key.
    pub key: Option<Vec<u8>>,
    /// The value; `None` is a null value (a tombstone).
    pub value: Option<Vec<u8>>,
    /// The headers in order (keys may repeat); a value may be null.
    pub headers: Vec<(Vec<u8>, Option<Vec<u8>>)>,
}

/// What [`check_records`] holds every record of a produced batch to.
#[derive(Debug, Clone)]
pub struct RecordChecks {
    /// Timestamps accepted (CreateTime batches); `None` checks none.
    pub timestamps: Option<RangeInclusive<i64>>,
    /// Decompressed bytes the batch may hold.
    pub limit: u64,
    /// Whether every record must have a key (a topic whose
    /// `cleanup.policy` has `compact`: Kafka refuses keyless records there).
    pub require_keys: bool,
}

/// Indexes of keyless records [`RecordsRefused::MissingKeys`] names at
/// most; the count covers them all.
pub const MAX_KEY_ERRORS: usize = 100;

/// Why [`check_records`] refused a batch.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordsRefused {
    /// The records do not read (see [`ScanError`]).
    #[error(transparent)]
    Scan(#[from] ScanError),
    /// A record's timestamp is outside [`RecordChecks::timestamps`].
    #[error(
        "timestamp {timestamp} of the record at index {index} is out of range: it should be within [{low}, {high}]"
    )]
    Timestamp {
        /// The record's index in its batch.
        index: i32,
        /// The record's timestamp.
        timestamp: i64,
        /// Earliest timestamp accepted.
        low: i64,
        /// Latest timestamp accepted.
        high: i64,
    },
    /// Records without a key where [`RecordChecks::require_keys`].
    #[error("{count} record(s) without a key, which a compacted topic requires")]
    MissingKeys {
        /// The first [`MAX_KEY_ERRORS`] of their indexes in the batch.
        indexes: Vec<i32>,
        /// How many records have no key.
        count: u32,
    },
}

/// Checks every record of a produced batch as Kafka's log validator does:
/// each decodes (its length covers exactly its fields, key, value and
/// headers), offset deltas run 0, 1, 2… as the producer must number them,
/// the batch holds exactly `recordCount` records and nothing after them,
/// and each CreateTime timestamp lies in `checks.timestamps` (a record
/// without one, -1, passes, as in Kafka).
pub fn check_records(
    batch: &[u8],
    header: &BatchHeader,
    checks: &RecordChecks,
) -> Result<(), RecordsRefused> {
    let mut records = Records::open(batch, header, checks.limit)?;
    let (mut keyless, mut keyless_count) = (Vec::new(), 0u32);
    for expected in 0..header.record_count.max(0) {
        let record = records.next_checked()?;
        if checks.require_keys && record.key_null {
            keyless_count += 1;
            if keyless.len() < MAX_KEY_ERRORS {
                keyless.push(expected);
            }
        }
        if record.offset_delta != expected {
            return Err(ScanError::Invalid(format!(
                "record offset delta {} where {expected} was expected",
                record.offset_delta
            ))
            .into());
        }
        if let Some(range) = &checks.timestamps {
            let timestamp = header
                .base_timestamp
                .checked_add(record.timestamp_delta)
                .ok_or_else(|| ScanError::Invalid("record timestamp overflows".into()))?;
            if timestamp != NO_TIMESTAMP && !range.contains(&timestamp) {
                return Err(RecordsRefused::Timestamp {
                    index: expected,
                    timestamp,
                    low: *range.start(),
                    high: *range.end(),
                });
            }
        }
    }
    records.finish()?;
    if keyless_count > 0 {
        return Err(RecordsRefused::MissingKeys {
            indexes: keyless,
            count: keyless_count,
        });
    }
    Ok(())
}

/// A batch's records, read one at a time.
pub struct Records<'a> {
    r: BufReader<Budget<Box<dyn Read + 'a>>>,
    limit: u64,
}

impl std::fmt::Debug for Records<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Records")
            .field("limit", &self.limit)
            .finish_non_exhaustive()
    }
}

impl<'a> Records<'a> {
    /// Opens the records of `batch` (whose parsed header is `header`),
    /// allowing at most `limit` decompressed bytes.
    pub fn open(batch: &'a [u8], header: &BatchHeader, limit: u64) -> Result<Self, ScanError> {
        let records = batch
            .get(HEADER_LEN..header.total_len)
            .ok_or_else(|| ScanError::Invalid("batch shorter than its header".into()))?;
        let codec = header.attributes & COMPRESSION_MASK;
        let inner = decompressor(codec, records).map_err(|e| from_io(e, limit))?;
        Ok(Self {
            r: BufReader::with_capacity(READ_BUFFER, Budget { inner, left: limit }),
            limit,
        })
    }

    /// The next record's timestamp and offset deltas; the rest of it (key,
    /// value, headers) is skipped by its length.
    pub fn next_head(&mut self) -> Result<RecordHead, ScanError> {
        self.read_head(false).map_err(|e| from_io(e, self.limit))
    }

    /// The next record, every field read and checked against its length.
    pub fn next_checked(&mut self) -> Result<RecordHead, ScanError> {
        self.read_head(true).map_err(|e| from_io(e, self.limit))
    }

    /// The next record with every field read out (what the archive
    /// stores). Fields are read as their bytes arrive, never allocated by
    /// the length a record claims, and all of it counts against the
    /// batch's budget of decompressed bytes.
    pub fn next_record(&mut self) -> Result<DecodedRecord, ScanError> {
        self.read_record().map_err(|e| from_io(e, self.limit))
    }

    /// The next record's offset delta and key (`None`: null); its value and
    /// headers are skipped by the record's length, never allocated (what
    /// the log cleaner's key map needs).
    pub fn next_key(&mut self) -> Result<(i32, Option<Vec<u8>>), ScanError> {
        self.read_key().map_err(|e| from_io(e, self.limit))
    }

    /// Ends the reading: nothing may follow the last record.
    pub fn finish(mut self) -> Result<(), ScanError> {
        let more = self.r.fill_buf().map_err(|e| from_io(e, self.limit))?;
        if more.is_empty() {
            Ok(())
        } else {
            Err(ScanError::Invalid(
                "bytes follow the batch's last record".into(),
            ))
        }
    }

    /// Reads one record: `length` varint, `attributes` i8,
    /// `timestampDelta` varlong, `offsetDelta` varint, then, when
    /// `checked`, `keyLength` varint and key, `valueLength` varint and
    /// value, header count and headers (each a key length and key, a value
    /// length and value), all of which must end exactly at `length`;
    /// otherwise the rest is skipped by `length`.
    fn read_head(&mut self, checked: bool) -> io::Result<RecordHead> {
        let length = self.varint(5)?.0;
        let length = u64::try_from(length).map_err(|_| invalid("negative record length"))?;
        let mut used = 1u64;
        self.byte()?; // attributes: unused by Kafka
        let (timestamp_delta, n) = self.varint(10)?;
        used += n;
        let (offset_delta, n) = self.varint(5)?;
        used += n;
        let offset_delta =
            i32::try_from(offset_delta).map_err(|_| invalid("record offset delta overflows"))?;
        let mut key_null = false;
        if checked {
            // Key and value: -1 is null.
            let (n, null) = self.nullable_field(length, used)?;
            (used, key_null) = (used + n, null);
            used += self.sized_field(length, used, true)?;
            let (headers, n) = self.varint(5)?;
            used += n;
            if headers < 0 {
                return Err(invalid("negative record header count"));
            }
            for _ in 0..headers {
                // Each header takes at least two bytes: the loop ends with
                // the record, whatever count it claims.
                used += self.sized_field(length, used, false)?;
                used += self.sized_field(length, used, true)?;
            }
            if used != length {
                return Err(invalid("record length does not match its fields"));
            }
        } else {
            let rest = length
                .checked_sub(used)
                .ok_or_else(|| invalid("record shorter than its fields"))?;
            self.skip(rest)?;
        }
        Ok(RecordHead {
            timestamp_delta,
            offset_delta,
            key_null,
        })
    }

    fn read_key(&mut self) -> io::Result<(i32, Option<Vec<u8>>)> {
        let length = self.varint(5)?.0;
        let length = u64::try_from(length).map_err(|_| invalid("negative record length"))?;
        let mut used = 1u64;
        self.byte()?; // attributes: unused by Kafka
        used += self.varint(10)?.1;
        let (offset_delta, n) = self.varint(5)?;
        used += n;
        let offset_delta =
            i32::try_from(offset_delta).map_err(|_| invalid("record offset delta overflows"))?;
        let key = self.read_field(length, &mut used)?;
        let rest = length
            .checked_sub(used)
            .ok_or_else(|| invalid("record shorter than its fields"))?;
        self.skip(rest)?;
        Ok((offset_delta, key))
    }

    fn read_record(&mut self) -> io::Result<DecodedRecord> {
        let length = self.varint(5)?.0;
        let length = u64::try_from(length).map_err(|_| invalid("negative record length"))?;
        let mut used = 1u64;
        self.byte()?; // attributes: unused by Kafka
        let (timestamp_delta, n) = self.varint(10)?;
        used += n;
        let (offset_delta, n) = self.varint(5)?;
        used += n;
        let offset_delta =
            i32::try_from(offset_delta).map_err(|_| invalid("record offset delta overflows"))?;
        let key = self.read_field(length, &mut used)?;
        let value = self.read_field(length, &mut used)?;
        let (count, n) = self.varint(5)?;
        used += n;
        if count < 0 {
            return Err(invalid("negative record header count"));
        }
        let mut headers = Vec::new();
        for _ in 0..count {
            let key = self
                .read_field(length, &mut used)?
                .ok_or_else(|| invalid("null header key"))?;
            let value = self.read_field(length, &mut used)?;
            headers.push((key, value));
        }
        if used != length {
            return Err(invalid("record length does not match its fields"));
        }
        Ok(DecodedRecord {
            timestamp_delta,
            offset_delta,
            key,
            value,
            headers,
        })
    }

    /// Reads a varint length (-1: null) and that many bytes, within a
    /// record of `length` bytes of which `used` are read (and updated).
    fn read_field(&mut self, length: u64, used: &mut u64) -> io::Result<Option<Vec<u8>>> {
        let (size, n) = self.varint(5)?;
        *used += n;
        if size == -1 {
            return Ok(None);
        }
        let size = u64::try_from(size).map_err(|_| invalid("negative field length"))?;
        if *used + size > length {
            return Err(invalid("record field runs past the record"));
        }
        let mut field = Vec::new();
        (&mut self.r).take(size).read_to_end(&mut field)?;
        if (field.len() as u64) < size {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        *used += size;
        Ok(Some(field))
    }

    /// Reads a varint length and skips that many bytes, within a record of
    /// `length` bytes of which `used` are read; returns the bytes read.
    /// A length of -1 (null) is allowed when `nullable`.
    fn sized_field(&mut self, length: u64, used: u64, nullable: bool) -> io::Result<u64> {
        if nullable {
            return Ok(self.nullable_field(length, used)?.0);
        }
        let (size, n) = self.varint(5)?;
        let size = u64::try_from(size).map_err(|_| invalid("negative field length"))?;
        if used + n + size > length {
            return Err(invalid("record field runs past the record"));
        }
        self.skip(size)?;
        Ok(n + size)
    }

    /// [`Self::sized_field`] of a nullable field, also telling whether
    /// it was null.
    fn nullable_field(&mut self, length: u64, used: u64) -> io::Result<(u64, bool)> {
        let (size, n) = self.varint(5)?;
        let size = match size {
            -1 => return Ok((n, true)),
            size => u64::try_from(size).map_err(|_| invalid("negative field length"))?,
        };
        if used + n + size > length {
            return Err(invalid("record field runs past the record"));
        }
        self.skip(size)?;
        Ok((n + size, false))
    }

    fn skip(&mut self, n: u64) -> io::Result<()> {
        let skipped = io::copy(&mut (&mut self.r).take(n), &mut io::sink())?;
        if skipped < n {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        Ok(())
    }

    fn byte(&mut self) -> io::Result<u8> {
        let mut b = [0u8; 1];
        self.r.read_exact(&mut b)?;
        Ok(b[0])
    }

    /// A zigzag varint of at most `max_bytes` bytes, and its length.
    fn varint(&mut self, max_bytes: u32) -> io::Result<(i64, u64)> {
        let mut raw = 0u64;
        for i in 0..max_bytes {
            let b = self.byte()?;
            raw |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                let value = (raw >> 1) as i64 ^ -((raw & 1) as i64);
                return Ok((value, u64::from(i) + 1));
            }
        }
        Err(invalid("varint too long"))
    }
}

/// A reader of the decompressed records of a batch compressed with `codec`
/// (the attributes' low three bits).
fn decompressor<'a>(codec: i16, data: &'a [u8]) -> io::Result<Box<dyn Read + 'a>> {
    Ok(match codec {
        0 => Box::new(data),
        1 => Box::new(flate2::read::MultiGzDecoder::new(data)),
        2 => Box::new(SnappyReader::new(data)),
        3 => Box::new(lz4::Decoder::new(data)?),
        4 => {
            let mut decoder = zstd::stream::read::Decoder::with_buffer(data)?;
            decoder.window_log_max(ZSTD_WINDOW_LOG_MAX)?;
            Box::new(decoder)
        }
        other => {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                format!("unknown compression codec {other}"),
            ));
        }
    })
}

/// Invalid data in a record is [`ScanError::Invalid`]; anything else the
/// decompressor or the budget raised maps to its own kind.
fn from_io(e: io::Error, limit: u64) -> ScanError {
    match e.kind() {
        io::ErrorKind::FileTooLarge => ScanError::TooLarge(limit),
        io::ErrorKind::UnexpectedEof => ScanError::Invalid("records end early".into()),
        io::ErrorKind::InvalidInput => ScanError::Invalid(e.to_string()),
        _ => ScanError::Corrupt(e.to_string()),
    }
}

/// A record that does not decode. `InvalidInput`, which the decompressors
/// do not raise (they use `InvalidData` and `Other`), tells it apart.
fn invalid(what: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, what)
}

/// Passes through at most `left` bytes; past them, a read that would
/// return more fails with `FileTooLarge` (an exact fit ends normally).
struct Budget<R> {
    inner: R,
    left: u64,
}

impl<R: Read> Read for Budget<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.left == 0 {
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => Err(io::ErrorKind::FileTooLarge.into()),
            };
        }
        let max = usize::try_from(self.left).map_or(buf.len(), |left| left.min(buf.len()));
        let n = self.inner.read(&mut buf[..max])?;
        self.left -= n as u64;
        Ok(n)
    }
}

/// Snappy as Kafka clients write it: snappy-java's framing (a 16-byte
/// header, then blocks each prefixed by its compressed length), or, as
/// Kafka also reads, one raw snappy block without the header. One block is
/// held decompressed at a time, and a block announcing more than
/// [`SNAPPY_BLOCK_MAX`] is refused before anything is allocated for it.
struct SnappyReader<'a> {
    rest: &'a [u8],
    framed: bool,
    block: Vec<u8>,
    pos: usize,
    decoder: snap::raw::Decoder,
}

impl<'a> SnappyReader<'a> {
    fn new(data: &'a [u8]) -> Self {
        let framed = data.len() >= XERIAL_HEADER_LEN && data.starts_with(XERIAL_MAGIC);
        Self {
            rest: if framed {
                &data[XERIAL_HEADER_LEN..]
            } else {
                data
            },
            framed,
            block: Vec::new(),
            pos: 0,
            decoder: snap::raw::Decoder::new(),
        }
    }

    /// Decompresses the next block; `false` at the end of the data.
    fn next_block(&mut self) -> io::Result<bool> {
        if self.rest.is_empty() {
            return Ok(false);
        }
        let chunk = if self.framed {
            let (len, rest) = self
                .rest
                .split_first_chunk::<4>()
                .ok_or(io::ErrorKind::UnexpectedEof)?;
            let len = u32::from_be_bytes(*len) as usize;
            if len > rest.len() {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            let (chunk, rest) = rest.split_at(len);
            self.rest = rest;
            chunk
        } else {
            std::mem::take(&mut self.rest)
        };
        let len = snap::raw::decompress_len(chunk).map_err(io::Error::other)?;
        if len > SNAPPY_BLOCK_MAX {
            return Err(io::ErrorKind::FileTooLarge.into());
        }
        self.block.resize(len, 0);
        let written = self
            .decoder
            .decompress(chunk, &mut self.block)
            .map_err(io::Error::other)?;
        self.block.truncate(written);
        self.pos = 0;
        Ok(true)
    }
}

impl Read for SnappyReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.block.len() {
            if !self.next_block()? {
                return Ok(0);
            }
        }
        let n = buf.len().min(self.block.len() - self.pos);
        buf[..n].copy_from_slice(&self.block[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[cfg(test)]
pub(crate) mod bomb;
#[cfg(test)]
mod tests;
