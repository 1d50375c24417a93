//! Compression of a batch's records in Kafka's codecs, the inverse of the
//! decompressors in `records.rs`: what the log cleaner needs to write a
//! filtered batch back in the codec its producer chose. Each codec writes
//! the framing Kafka's clients read: gzip streams, snappy-java's "xerial"
//! framing of 32 KiB blocks, LZ4 frames of independent 64 KiB blocks, and
//! zstd frames at Kafka's default level.

use std::io::{self, Write};

/// The codec bits of a batch's attributes.
pub const COMPRESSION_MASK: i16 = 0x07;
/// snappy-java's framing: magic, version 1, compatible version 1.
const XERIAL_HEADER: &[u8; 16] = b"\x82SNAPPY\x00\x00\x00\x00\x01\x00\x00\x00\x01";
/// Uncompressed bytes per snappy block, as snappy-java writes them.
const SNAPPY_BLOCK: usize = 32 * 1024;
/// Kafka's default zstd level.
const ZSTD_LEVEL: i32 = 3;

/// Compresses `records` (a batch's records, back to back) with `codec`
/// (the attributes' low three bits; 0 returns them as they are).
pub fn compress(codec: i16, records: &[u8]) -> io::Result<Vec<u8>> {
    match codec {
        0 => Ok(records.to_vec()),
        1 => {
            let mut encoder =
                flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            encoder.write_all(records)?;
            encoder.finish()
        }
        2 => {
            let mut out = XERIAL_HEADER.to_vec();
            let mut encoder = snap::raw::Encoder::new();
            for block in records.chunks(SNAPPY_BLOCK) {
                let compressed = encoder.compress_vec(block).map_err(io::Error::other)?;
                let len = u32::try_from(compressed.len()).map_err(io::Error::other)?;
                out.extend_from_slice(&len.to_be_bytes());
                out.extend_from_slice(&compressed);
            }
            Ok(out)
        }
        3 => {
            let mut encoder = lz4::EncoderBuilder::new()
                .block_size(lz4::BlockSize::Max64KB)
                .block_mode(lz4::BlockMode::Independent)
                .checksum(lz4::ContentChecksum::NoChecksum)
                .build(Vec::new())?;
            encoder.write_all(records)?;
            let (out, result) = encoder.finish();
            result.map(|()| out)
        }
        4 => zstd::bulk::compress(records, ZSTD_LEVEL),
        other => Err(io::Error::new(
            io::ErrorKind::Unsupported,
            format!("unknown compression codec {other}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::segment::batch::BatchHeader;
    use crate::segment::records::Records;
    use crate::test_support::batch;
    use kafka_protocol::records::Compression;

    /// Records compressed here read back through the agent's own
    /// decompressors, in every codec, as the records of a client's batch.
    #[test]
    fn every_codec_reads_back() {
        let plain = batch(&["a", "bb", "ccc"], 1_000, Compression::None);
        let header = BatchHeader::parse(&plain).unwrap();
        let records = &plain[crate::segment::batch::HEADER_LEN..];
        // Large enough for several snappy blocks and LZ4 blocks.
        let mut big = Vec::new();
        while big.len() < 200_000 {
            big.extend_from_slice(records);
        }
        for codec in 0..=4 {
            for data in [records, &big[..]] {
                let compressed = compress(codec, data).unwrap();
                let mut batch = plain[..crate::segment::batch::HEADER_LEN].to_vec();
                batch.extend_from_slice(&compressed);
                let mut h = header;
                h.total_len = batch.len();
                h.attributes = (h.attributes & !COMPRESSION_MASK) | codec;
                let mut r = Records::open(&batch, &h, 64 << 20).unwrap();
                let first = r.next_record().unwrap();
                assert_eq!(first.value.as_deref(), Some(&b"a"[..]), "codec {codec}");
            }
        }
        assert!(compress(5, b"x").is_err());
    }
}
