//! Record batch header work on the produce and fetch paths.
//!
//! Every produced partition goes through `validate_produced` (header parse
//! and a CRC-32C over the whole batch) before it is buffered, so its
//! throughput bounds what one core can accept. `BatchHeader::parse` and
//! `patch_offsets` run once per batch on the read path and should cost a
//! few nanoseconds whatever the batch size.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use floe_agent::segment::batch::{BatchHeader, patch_offsets, validate_produced};

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

criterion_group!(benches, validate, parse_header, patch);
criterion_main!(benches);
