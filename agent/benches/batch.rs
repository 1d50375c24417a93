//! Record batch header work on the produce and fetch paths.
//!
//! Every produced partition goes through `validate_produced` (header parse
//! and a CRC-32C over the whole batch) before it is buffered, so its
//! throughput bounds what one core can accept. `BatchHeader::parse` and
//! `patch_offsets` run once per batch on the read path and should cost a
//! few nanoseconds whatever the batch size. Every record of a produced
//! batch is then read (`check_records`, decompressing when the batch is
//! compressed): its throughput, against `validate_produced`'s, is what
//! reading records costs the edge.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use floe_agent::segment::batch::{BatchHeader, patch_offsets, validate_produced};
use floe_agent::segment::records::{MAX_PRODUCED_RECORDS_BYTES, RecordChecks, check_records};
use kafka_protocol::records::Compression;

mod support;

/// Batch shapes measured: a producer's default-sized batch and a large one.
const SHAPES: [(&str, usize); 2] = [("16x1KiB", support::RECORDS_PER_BATCH), ("1024x1KiB", 1024)];

fn validate(c: &mut Criterion) {
    let mut group = c.benchmark_group("batch/validate_produced");
    for (name, records) in SHAPES {
        let batch = support::record_batch(records, support::VALUE_LEN, 1);
        group.throughput(Throughput::Bytes(batch.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| validate_produced(black_box(&batch)).expect("a valid batch"));
        });
    }
    group.finish();
}

fn parse_header(c: &mut Criterion) {
    let mut group = c.benchmark_group("batch/header_parse");
    for (name, records) in SHAPES {
        let batch = support::record_batch(records, support::VALUE_LEN, 1);
        group.throughput(Throughput::Elements(1));
        group.bench_function(name, |b| {
            b.iter(|| BatchHeader::parse(black_box(&batch)).expect("a valid header"));
        });
    }
    group.finish();
}

fn patch(c: &mut Criterion) {
    let mut group = c.benchmark_group("batch/patch_offsets");
    let mut batch =
        support::record_batch(support::RECORDS_PER_BATCH, support::VALUE_LEN, 1).to_vec();
    group.throughput(Throughput::Elements(1));
    group.bench_function("16x1KiB", |b| {
        b.iter(|| patch_offsets(black_box(&mut batch), black_box(42_000), black_box(0)));
    });
    group.finish();
}

fn check(c: &mut Criterion) {
    let mut group = c.benchmark_group("batch/check_records");
    let checks = RecordChecks {
        timestamps: Some(0..=i64::MAX),
        limit: MAX_PRODUCED_RECORDS_BYTES,
        require_keys: false,
    };
    let batches = [
        (
            "16x1KiB",
            support::record_batch(support::RECORDS_PER_BATCH, support::VALUE_LEN, 1),
        ),
        (
            "16x1KiB-lz4",
            support::compressible_batch(
                support::RECORDS_PER_BATCH,
                support::VALUE_LEN,
                Compression::Lz4,
            ),
        ),
        (
            "16x1KiB-zstd",
            support::compressible_batch(
                support::RECORDS_PER_BATCH,
                support::VALUE_LEN,
                Compression::Zstd,
            ),
        ),
    ];
    for (name, batch) in batches {
        let header = BatchHeader::parse(&batch).expect("a valid header");
        // Throughput in uncompressed record bytes, as the producer wrote them.
        group.throughput(Throughput::Bytes(
            (support::RECORDS_PER_BATCH * support::VALUE_LEN) as u64,
        ));
        group.bench_function(name, |b| {
            b.iter(|| check_records(black_box(&batch), &header, &checks).expect("valid records"));
        });
    }
    group.finish();
}

criterion_group!(benches, validate, parse_header, patch, check);
criterion_main!(benches);
