//! The Kafka codec on the two data-heavy APIs.
//!
//! Produce: a client's request frame is cut from the read buffer
//! (`decode_frame`), its header read (`parse_request`) and its body decoded
//! (`decode_body`). Records stay as `Bytes` slices of the frame, so this
//! should cost far less than the CRC check that follows. Fetch: the generic
//! `encode_response` (`copied`) copies every served byte into one frame; the
//! agent answers Fetch with `kafka::fetch_frame` (`pieces`), which writes
//! the fields and shares the cache's buffers for the records. Versions are
//! the last non-flexible and a flexible one of each API.

use std::hint::black_box;

use bytes::BytesMut;
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use floe_agent::kafka::codec::{decode_body, decode_frame, encode_response, parse_request};
use floe_agent::kafka::fetch_frame::{self, FetchAnswer};
use kafka_protocol::messages::{ApiKey, FetchResponse, ProduceRequest};

mod support;

/// Frame size limit passed to `decode_frame`, above any bench frame.
const MAX_FRAME: usize = 100 << 20;
/// Partitions in each request and response.
const PARTITIONS: i32 = 4;
/// Records per partition in a Produce request: one ~256 KiB batch each.
const PRODUCE_RECORDS: usize = 256;
/// Standard batches per partition in a Fetch response: ~1 MiB each.
const FETCH_BATCHES: usize = 64;

/// What the connection does with a read buffer holding one Produce frame.
fn decode_produce_frame(buf: &mut BytesMut) -> ProduceRequest {
    let frame = decode_frame(buf, MAX_FRAME)
        .expect("a valid frame")
        .expect("a whole frame");
    let req = parse_request(frame).expect("a valid header");
    decode_body::<ProduceRequest>(&req).expect("a valid body")
}

/// Decodes a whole frame once, outside any measurement.
fn decode_produce(frame: &[u8]) -> ProduceRequest {
    decode_produce_frame(&mut BytesMut::from(frame))
}

fn produce_decode(c: &mut Criterion) {
    let mut group = c.benchmark_group("codec/produce_decode/4x256KiB");
    let request = support::produce_request(PARTITIONS, PRODUCE_RECORDS);
    for version in [3, 9] {
        let frame = support::request_frame(ApiKey::Produce, version, 7, &request);
        assert_eq!(
            decode_produce(&frame),
            request,
            "the frame must decode to the request it was built from"
        );
        group.throughput(Throughput::Bytes(frame.len() as u64));
        group.bench_function(format!("v{version}"), |b| {
            b.iter_batched(
                // The connection's read buffer holding exactly one frame.
                || BytesMut::from(&frame[..]),
                |mut buf| decode_produce_frame(&mut buf),
                BatchSize::LargeInput,
            );
        });
    }
    group.finish();
}

fn fetch_encode(c: &mut Criterion) {
    let mut group = c.benchmark_group("codec/fetch_encode/4x1MiB");
    let response = support::fetch_response(PARTITIONS, FETCH_BATCHES);
    for version in [11, 12] {
        let size = encode_response(ApiKey::Fetch, version, 7, &response)
            .expect("the response encodes")
            .len();
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_function(format!("copied/v{version}"), |b| {
            b.iter(|| {
                encode_response(ApiKey::Fetch, version, black_box(7), black_box(&response))
                    .expect("the response encodes")
            });
        });
        let answer = pieces_of(&response);
        group.bench_function(format!("pieces/v{version}"), |b| {
            b.iter(|| {
                fetch_frame::encode(black_box(&answer), version, black_box(7))
                    .expect("the response encodes")
            });
        });
    }
    group.finish();
}

/// The same response as the Fetch handler hands it over: record data kept
/// aside as the slices read from the cache.
fn pieces_of(response: &FetchResponse) -> FetchAnswer {
    let mut answer = FetchAnswer {
        response: response.clone(),
        ..FetchAnswer::default()
    };
    for (ti, topic) in answer.response.responses.iter_mut().enumerate() {
        for (pi, partition) in topic.partitions.iter_mut().enumerate() {
            if let Some(records) = partition.records.take() {
                answer.records.insert((ti, pi), vec![records]);
            }
        }
    }
    answer
}

criterion_group!(benches, produce_decode, fetch_encode);
criterion_main!(benches);
