//! Finding a record by its timestamp inside one stored batch, with bounded
//! memory and work.
//!
//! ListOffsets by timestamp is the one place Floe reads records. Batches are
//! stored as producers sent them, compressed, so a producer can store a
//! "bomb": a few KiB that decompress to gigabytes. So the records are
//! streamed out of the decompressor and never held: only the two fields a
//! lookup needs (timestamp and offset deltas) are read, the rest of each
//! record is skipped, and at most a given number of decompressed bytes
//! ([`MAX_SCAN_BYTES`] on the read path) is read per lookup. The decoders'
//! own buffers are bounded too: the zstd window is capped at
//! 2^[`ZSTD_WINDOW_LOG_MAX`] bytes, a snappy block at [`SNAPPY_BLOCK_MAX`],
//! gzip and LZ4 keep fixed windows (32 KiB, at most 4 MiB).
//!
//! Pure code over bytes, depending only on `segment::batch`: the fuzz crate
//! compiles it by path (see `fuzz/src/lib.rs`).

use std::io::{self, BufRead, BufReader, Read};

use crate::segment::batch::{BatchHeader, HEADER_LEN};

/// Decompressed bytes one timestamp lookup may read from its batch: the
/// bound on its CPU time (about 0.1 s of zstd or gzip on these machines).
pub const MAX_SCAN_BYTES: u64 = 64 << 20;
/// Largest zstd window accepted (8 MiB), the memory a zstd frame may ask
/// for. Kafka producers compress at level 3 (a 2 MiB window at most);
/// zstd's own default limit is 128 MiB.
pub const ZSTD_WINDOW_LOG_MAX: u32 = 23;
/// Largest decompressed snappy block accepted, the memory a snappy block
/// may ask for. Kafka clients write 32 KiB blocks.
pub const SNAPPY_BLOCK_MAX: usize = 8 << 20;

const COMPRESSION_MASK: i16 = 0x07;
const LOG_APPEND_TIME_FLAG: i16 = 0x08;
/// The 8-byte magic of snappy-java's framing, which Kafka clients use.
const XERIAL_MAGIC: &[u8; 8] = b"\x82SNAPPY\x00";
/// The framing's header: magic, version, compatible version.
const XERIAL_HEADER_LEN: usize = 16;
/// Read-ahead from the decompressor.
const READ_BUFFER: usize = 8 * 1024;

/// The record found by a timestamp lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimestampHit {
    /// Offset of the record.
    pub offset: i64,
    /// Its timestamp.
    pub timestamp: i64,
}

/// Why a batch could not be scanned to the end of the search.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// Finding the record would take more decompressed bytes than allowed,
    /// or a decoder asked for more memory than allowed.
    #[error("batch decompresses to more than the {0} bytes a lookup may read")]
    TooLarge(u64),
    /// The records do not decode.
    #[error("records undecodable: {0}")]
    Corrupt(String),
}

/// The first record of `batch` (whose parsed header is `header`, and whose
/// first offset in the log is `base_offset`) whose timestamp satisfies
/// `matches`, reading at most `limit` decompressed bytes; `None` if no
/// record does. Offsets outside the batch and timestamps that overflow are
/// [`ScanError::Corrupt`].
pub fn find_record(
    batch: &[u8],
    header: &BatchHeader,
    base_offset: i64,
    limit: u64,
    matches: impl Fn(i64) -> bool,
) -> Result<Option<TimestampHit>, ScanError> {
    let records = batch
        .get(HEADER_LEN..header.total_len)
        .ok_or_else(|| ScanError::Corrupt("batch shorter than its header".into()))?;
    let codec = header.attributes & COMPRESSION_MASK;
    let decompressed = decompressor(codec, records).map_err(|e| from_io(e, limit))?;
    let budget = Budget {
        inner: decompressed,
        left: limit,
    };
    let mut scan = Scan {
        r: BufReader::with_capacity(READ_BUFFER, budget),
    };
    let log_append_time = header.attributes & LOG_APPEND_TIME_FLAG != 0;
    for _ in 0..header.record_count.max(0) {
        let record = scan.record().map_err(|e| from_io(e, limit))?;
        if !(0..=header.last_offset_delta).contains(&record.offset_delta) {
            return Err(ScanError::Corrupt(format!(
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
                .ok_or_else(|| ScanError::Corrupt("record timestamp overflows".into()))?
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
                io::ErrorKind::InvalidData,
                format!("unknown compression codec {other}"),
            ));
        }
    })
}

fn from_io(e: io::Error, limit: u64) -> ScanError {
    match e.kind() {
        io::ErrorKind::FileTooLarge => ScanError::TooLarge(limit),
        io::ErrorKind::UnexpectedEof => ScanError::Corrupt("records end early".into()),
        _ => ScanError::Corrupt(e.to_string()),
    }
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

/// The fields of a record a lookup needs.
struct RecordFields {
    timestamp_delta: i64,
    offset_delta: i32,
}

/// Reads records one field at a time, skipping what a lookup does not need.
struct Scan<R> {
    r: R,
}

impl<R: BufRead> Scan<R> {
    /// Reads one record: `length` varint, then `attributes` i8,
    /// `timestampDelta` varlong and `offsetDelta` varint, and skips the
    /// rest (key, value, headers) by the length.
    fn record(&mut self) -> io::Result<RecordFields> {
        let length = self.varint(5)?;
        let length = u64::try_from(length).map_err(|_| invalid("negative record length"))?;
        let mut used = 1u64;
        self.byte()?; // attributes: unused by Kafka
        let (timestamp_delta, n) = self.varint_counted(10)?;
        used += n;
        let (offset_delta, n) = self.varint_counted(5)?;
        used += n;
        let offset_delta =
            i32::try_from(offset_delta).map_err(|_| invalid("record offset delta overflows"))?;
        let rest = length
            .checked_sub(used)
            .ok_or_else(|| invalid("record shorter than its fields"))?;
        let skipped = io::copy(&mut (&mut self.r).take(rest), &mut io::sink())?;
        if skipped < rest {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        Ok(RecordFields {
            timestamp_delta,
            offset_delta,
        })
    }

    fn byte(&mut self) -> io::Result<u8> {
        let mut b = [0u8; 1];
        self.r.read_exact(&mut b)?;
        Ok(b[0])
    }

    /// A zigzag varint of at most `max_bytes` bytes.
    fn varint(&mut self, max_bytes: u32) -> io::Result<i64> {
        self.varint_counted(max_bytes).map(|(v, _)| v)
    }

    /// A zigzag varint of at most `max_bytes` bytes, and its length.
    fn varint_counted(&mut self, max_bytes: u32) -> io::Result<(i64, u64)> {
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

fn invalid(what: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what)
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
