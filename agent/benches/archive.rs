//! The archive tier's CPU cost, single-threaded (so time is CPU time):
//!
//! - `archive/write`: stored batches (zstd, as producers compress them) of
//!   one partition decoded and written as a Parquet file, per byte of the
//!   stored batches: the archive job's work per MiB of segments.
//! - `archive/fetch_row_group`: one row group decoded and encoded again as
//!   Kafka batches, per byte of batches served: what a Fetch of the archive
//!   tier costs on a cache miss.
//!
//! The setup prints the Parquet file's size as a fraction of the stored
//! batches it replaces. `cargo bench -p floe-agent --bench archive`.

use std::hint::black_box;

use bytes::{BufMut, Bytes, BytesMut};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use floe_agent::archive::TimestampType;
use floe_agent::archive::decode::{AbortedRanges, add_batches};
use floe_agent::archive::encode::BatchEncoder;
use floe_agent::archive::reader::encode_row_group;
use floe_agent::archive::writer::{ArchiveFile, ArchiveWriter};
use floe_agent::segment::batch::{BatchHeader, BatchIter, HEADER_LEN, LOG_OVERHEAD};
use parquet::file::metadata::ParquetMetaDataReader;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Records in the bench's range: ~50 MiB of values before compression.
const RECORDS: i64 = 160_000;
/// Records per produced batch (librdkafka fills ~1 MB batches).
const PER_BATCH: i64 = 500;
const ACTIONS: [&str; 8] = [
    "view",
    "click",
    "add_to_cart",
    "checkout",
    "search",
    "login",
    "logout",
    "share",
];
const WORDS: [&str; 12] = [
    "alpha", "bravo", "delta", "echo", "kilo", "lima", "mike", "oscar", "papa", "romeo", "tango",
    "zulu",
];

/// A JSON-like event of about 300 bytes with random ids and words.
fn value(rng: &mut StdRng, n: i64) -> Vec<u8> {
    let words: Vec<&str> = (0..rng.random_range(8..30))
        .map(|_| WORDS[rng.random_range(0..WORDS.len())])
        .collect();
    format!(
        r#"{{"id":{n},"user":"user-{}","action":"{}","amount":{}.{:02},"session":"{:016x}","note":"{}"}}"#,
        rng.random_range(0..100_000),
        ACTIONS[rng.random_range(0..ACTIONS.len())],
        rng.random_range(0..5_000),
        rng.random_range(0..100),
        rng.random::<u64>(),
        words.join(" ")
    )
    .into_bytes()
}

/// The range as a producer stores it: zstd batches of [`PER_BATCH`]
/// records with keys and a header, real offsets.
fn stored_batches() -> Bytes {
    let mut rng = StdRng::seed_from_u64(7);
    let mut out = BytesMut::new();
    for first in (0..RECORDS).step_by(PER_BATCH as usize) {
        let mut encoder = BatchEncoder::new();
        for n in first..first + PER_BATCH {
            let key = format!("user-{}", rng.random_range(0..100_000)).into_bytes();
            let value = value(&mut rng, n);
            let trace = format!("{:032x}", rng.random::<u128>()).into_bytes();
            encoder.push(
                n,
                1_700_000_000_000 + n * 3,
                TimestampType::CreateTime,
                Some(&key),
                Some(&value),
                [(&b"trace-id"[..], Some(&trace[..]))].into_iter(),
            );
        }
        out.put_slice(&compress(&encoder.finish()));
    }
    out.freeze()
}

/// An uncompressed batch compressed with zstd, as a producer sends it.
fn compress(batch: &[u8]) -> Vec<u8> {
    let header = BatchHeader::parse(batch).expect("a batch");
    let records = zstd::encode_all(&batch[HEADER_LEN..header.total_len], 3).expect("zstd");
    let mut out = batch[..HEADER_LEN].to_vec();
    out.extend_from_slice(&records);
    let len = (out.len() - LOG_OVERHEAD) as i32;
    out[8..12].copy_from_slice(&len.to_be_bytes());
    let attributes = header.attributes | 4;
    out[21..23].copy_from_slice(&attributes.to_be_bytes());
    let crc = crc32c::crc32c(&out[21..]);
    out[17..21].copy_from_slice(&crc.to_be_bytes());
    out
}

fn archive(stored: &Bytes) -> ArchiveFile {
    let mut writer = ArchiveWriter::new().expect("writer");
    add_batches(stored.clone(), 0, 0, &AbortedRanges::default(), &mut writer).expect("decode");
    writer.finish().expect("parquet")
}

fn benches(c: &mut Criterion) {
    let stored = stored_batches();
    let file = archive(&stored);
    let raw_batches: usize = BatchIter::new(stored.clone()).count();
    eprintln!(
        "archive: {} records in {raw_batches} zstd batches, {:.1} MiB stored; Parquet {:.1} MiB \
         in {} row groups = {:.3} of the stored bytes",
        file.records(),
        stored.len() as f64 / 1048576.0,
        file.bytes.len() as f64 / 1048576.0,
        file.row_groups.len(),
        file.bytes.len() as f64 / stored.len() as f64
    );

    let mut group = c.benchmark_group("archive");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(stored.len() as u64));
    group.bench_function("write", |b| b.iter(|| black_box(archive(&stored))));

    let metadata = ParquetMetaDataReader::new()
        .parse_and_finish(&file.bytes)
        .expect("footer");
    let row_group = &file.row_groups[0];
    let start = row_group.byte_offset as usize;
    let data = file.bytes.slice(start..start + row_group.byte_len as usize);
    let served = encode_row_group(
        metadata.clone(),
        0,
        row_group.byte_offset,
        data.clone(),
        row_group.base_offset..=row_group.last_offset,
    )
    .expect("encode")
    .len();
    eprintln!(
        "archive: row group 0 holds {} records, {:.2} MiB of Parquet, serves {:.2} MiB of batches",
        row_group.records,
        row_group.byte_len as f64 / 1048576.0,
        served as f64 / 1048576.0
    );
    group.throughput(Throughput::Bytes(served as u64));
    group.bench_function("fetch_row_group", |b| {
        b.iter(|| {
            black_box(
                encode_row_group(
                    metadata.clone(),
                    0,
                    row_group.byte_offset,
                    data.clone(),
                    row_group.base_offset..=row_group.last_offset,
                )
                .expect("encode"),
            )
        })
    });
    group.finish();
}

criterion_group!(archive_benches, benches);
criterion_main!(archive_benches);
