//! Test support: record batches built by hand, as a hostile producer would,
//! including decompression bombs. Used by the unit tests of the record
//! reader and the timestamp lookup and, included by path, by
//! `agent/tests/bounded_memory.rs`.

use std::io::Write;

use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::records::Compression;

/// Every codec Kafka producers use.
pub const CODECS: [Compression; 5] = [
    Compression::None,
    Compression::Gzip,
    Compression::Snappy,
    Compression::Lz4,
    Compression::Zstd,
];

/// `attributes` of a zstd batch.
pub const ZSTD: i16 = 4;

/// A v2 batch (base offset 0, no producer id) around `records`, the records
/// section as stored (compressed per `attributes`), holding `count`
/// records; the header claims `base_ts` and `max_ts`. The CRC is right.
pub fn raw_batch(attributes: i16, records: &[u8], count: i32, base_ts: i64, max_ts: i64) -> Bytes {
    let mut b = BytesMut::with_capacity(61 + records.len());
    b.put_i64(0); // base offset
    b.put_i32((49 + records.len()) as i32); // batch length
    b.put_i32(-1); // partition leader epoch
    b.put_i8(2); // magic
    b.put_u32(0); // crc, below
    b.put_i16(attributes);
    b.put_i32(count - 1); // last offset delta
    b.put_i64(base_ts);
    b.put_i64(max_ts);
    b.put_i64(-1); // producer id
    b.put_i16(-1); // producer epoch
    b.put_i32(-1); // base sequence
    b.put_i32(count);
    b.put_slice(records);
    let crc = crc32c::crc32c(&b[21..]);
    b[17..21].copy_from_slice(&crc.to_be_bytes());
    b.freeze()
}

/// Appends a zigzag varint.
pub fn put_varint(out: &mut Vec<u8>, v: i64) {
    let mut z = ((v << 1) ^ (v >> 63)) as u64;
    while z >= 0x80 {
        out.push((z as u8) | 0x80);
        z >>= 7;
    }
    out.push(z as u8);
}

/// The encoding of one record without its value bytes (no key, no
/// headers) whose value is `value_len` bytes: write the value after it.
pub fn record_head(timestamp_delta: i64, offset_delta: i32, value_len: usize) -> Vec<u8> {
    let mut fields = vec![0u8]; // attributes
    put_varint(&mut fields, timestamp_delta);
    put_varint(&mut fields, i64::from(offset_delta));
    put_varint(&mut fields, -1); // no key
    put_varint(&mut fields, value_len as i64);
    let length = fields.len() + value_len + 1; // + the header count after the value
    let mut out = Vec::new();
    put_varint(&mut out, length as i64);
    out.extend_from_slice(&fields);
    out
}

/// A zstd decompression bomb: `count` records of `value_len` zero bytes
/// each, with timestamps `base_ts + i`, compressed as a stream so that the
/// decompressed bytes are never held here. The header claims `max_ts`,
/// which may promise a record the batch does not hold.
pub fn zstd_bomb(count: i32, value_len: usize, base_ts: i64, max_ts: i64) -> Bytes {
    let zeros = vec![0u8; 64 * 1024];
    let mut z = zstd::stream::write::Encoder::new(Vec::new(), 1).expect("zstd encoder");
    for i in 0..count {
        z.write_all(&record_head(i64::from(i), i, value_len))
            .expect("write to memory");
        let mut left = value_len;
        while left > 0 {
            let n = left.min(zeros.len());
            z.write_all(&zeros[..n]).expect("write to memory");
            left -= n;
        }
        z.write_all(&[0]).expect("write to memory"); // no headers
    }
    let compressed = z.finish().expect("zstd finish");
    raw_batch(ZSTD, &compressed, count, base_ts, max_ts)
}
