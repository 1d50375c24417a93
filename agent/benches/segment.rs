//! Segment files: writing one per flush, and reading one back.
//!
//! `encode_segment` copies every buffered batch into one object and runs a
//! CRC-32C over it on the flusher's path, so its throughput bounds how fast
//! a flush can be handed to the object store. On the read side,
//! `read_footer` checks a whole file (tools, background jobs), `BatchIter`
//! walks the batch headers of one partition's byte range (as reads of an
//! index row do), and `patch_run` numbers that range's batches once as it
//! enters the segment cache.

use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use floe_agent::segment::batch::{BatchIter, patch_run};
use floe_agent::segment::{EncodedSegment, encode_segment, reader};

mod support;

/// Partitions in a flush: a busy agent buffers many at once.
const PARTITIONS: i32 = 64;
/// Segment shapes: (name, standard 16 KiB batches per partition).
const SHAPES: [(&str, usize); 2] = [("4MiB_64p", 4), ("8MiB_64p", 8)];

fn encode(c: &mut Criterion) {
    let mut group = c.benchmark_group("segment/encode");
    for (name, batches) in SHAPES {
        let input = support::segment_input(PARTITIONS, batches);
        let bytes: usize = input.iter().flat_map(|p| &p.batches).map(|b| b.len()).sum();
        group.throughput(Throughput::Bytes(bytes as u64));
        group.bench_function(name, |b| b.iter(|| encode_segment(black_box(&input))));
    }
    group.finish();
}

fn decode(c: &mut Criterion) {
    let mut group = c.benchmark_group("segment/decode");
    for (name, batches) in SHAPES {
        let EncodedSegment { data, entries } =
            encode_segment(&support::segment_input(PARTITIONS, batches));

        group.throughput(Throughput::Bytes(data.len() as u64));
        group.bench_function(format!("read_footer/{name}"), |b| {
            b.iter(|| reader::read_footer(black_box(&data)).expect("a valid segment"));
        });

        // One partition's range, as the index names it to a fetch.
        let entry = entries[entries.len() / 2];
        let start = usize::try_from(entry.byte_offset).expect("offset fits in memory");
        let end = start + usize::try_from(entry.byte_len).expect("length fits in memory");
        let range = data.slice(start..end);
        group.throughput(Throughput::Bytes(entry.byte_len));
        group.bench_function(format!("iter_partition/{name}"), |b| {
            b.iter(|| {
                let mut offsets = 0i64;
                for item in BatchIter::new(black_box(range.clone())) {
                    let (header, batch) = item.expect("a valid batch");
                    offsets += header.offset_count();
                    black_box(batch);
                }
                offsets
            });
        });
        group.bench_function(format!("patch_run_partition/{name}"), |b| {
            b.iter_batched_ref(
                // The range as fetched from the object store, ours to patch.
                || range.to_vec(),
                |bytes| patch_run(bytes, black_box(1_000_000), 0).expect("a valid run"),
                BatchSize::SmallInput,
            );
        });
    }
    group.finish();
}

criterion_group!(benches, encode, decode);
criterion_main!(benches);
