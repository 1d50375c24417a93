//! Inputs shared by the agent's micro-benchmarks: real Kafka v2 record
//! batches made with kafka-protocol's encoder, segments built from them, and
//! Produce requests and Fetch responses as a client and the agent exchange
//! them. Everything is built once, before measuring.

// Each bench file includes this module and uses only part of it.
#![allow(dead_code)]

use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::messages::fetch_response::{FetchableTopicResponse, PartitionData};
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::{ApiKey, FetchResponse, ProduceRequest, RequestHeader, TopicName};
use kafka_protocol::protocol::{Encodable, StrBytes};
use kafka_protocol::records::Compression;
use uuid::Uuid;

use floe_agent::segment::PartitionBatches;
use floe_agent::segment::batch::{BatchHeader, patch_offsets};

/// The unit tests' batch builder, shared so batches are built one way.
#[path = "../../src/test_support.rs"]
mod test_support;
use test_support::encode_batch;

/// Record value size used throughout: 1 KiB, a common event size.
pub const VALUE_LEN: usize = 1024;
/// Producer-side batch size used throughout: 16 records of 1 KiB, close to
/// the Java client's default `batch.size` of 16 KiB.
pub const RECORDS_PER_BATCH: usize = 16;
/// Topic name used in requests and responses.
pub const TOPIC: &str = "bench-events";
/// The topic id used in segments (any fixed id will do).
pub const TOPIC_ID: Uuid = Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0001);
/// First record timestamp, in ms.
const BASE_TIMESTAMP: i64 = 1_700_000_000_000;

/// `len` bytes of deterministic noise (xorshift64), so record values look
/// like payloads rather than runs of one byte.
fn noise(seed: u64, len: usize) -> Bytes {
    let mut state = seed | 1;
    let mut out = BytesMut::with_capacity(len + 8);
    while out.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.put_u64(state);
    }
    out.truncate(len);
    out.freeze()
}

/// One uncompressed v2 batch of `record_count` records with keys `key-N`
/// and `value_len`-byte values, base offset 0, no producer id: what a
/// non-idempotent producer sends. `seed` makes batches differ.
pub fn record_batch(record_count: usize, value_len: usize, seed: u64) -> Bytes {
    let values = noise(seed, record_count * value_len);
    let records = (0..record_count).map(|i| {
        (
            Bytes::from(format!("key-{seed}-{i}")),
            values.slice(i * value_len..(i + 1) * value_len),
        )
    });
    encode_batch(
        records,
        BASE_TIMESTAMP + seed as i64 * 1000,
        Compression::None,
    )
}

/// One v2 batch of `record_count` records of `value_len`-byte values that
/// compress about as log lines do (repeated text with a counter), under
/// `compression`.
pub fn compressible_batch(
    record_count: usize,
    value_len: usize,
    compression: Compression,
) -> Bytes {
    let records = (0..record_count).map(|i| {
        let line = format!("level=info msg=\"request served\" id={i:08} path=/v1/items ");
        let value: Vec<u8> = line.bytes().cycle().take(value_len).collect();
        (Bytes::from(format!("key-{i}")), Bytes::from(value))
    });
    encode_batch(records, BASE_TIMESTAMP, compression)
}

/// `count` distinct standard batches (16 records of 1 KiB each), so that a
/// benchmark over many of them reads distinct memory, as the agent would.
pub fn standard_batches(count: usize, first_seed: u64) -> Vec<Bytes> {
    (0..count as u64)
        .map(|i| record_batch(RECORDS_PER_BATCH, VALUE_LEN, first_seed + i))
        .collect()
}

/// One partition's batches ready for `encode_segment`, with the offset
/// count and max timestamp taken from their headers.
pub fn partition_batches(partition: i32, batches: Vec<Bytes>) -> PartitionBatches {
    let headers: Vec<BatchHeader> = batches
        .iter()
        .map(|b| BatchHeader::parse(b).expect("the encoder writes valid headers"))
        .collect();
    PartitionBatches {
        topic_id: TOPIC_ID,
        partition,
        offset_count: headers.iter().map(BatchHeader::offset_count).sum(),
        max_timestamp: headers.iter().map(|h| h.max_timestamp).max().unwrap_or(-1),
        batches,
    }
}

/// The input of one flush: `partitions` partitions of one topic, each with
/// `batches_per_partition` standard batches, sorted as `encode_segment`
/// requires.
pub fn segment_input(partitions: i32, batches_per_partition: usize) -> Vec<PartitionBatches> {
    (0..partitions)
        .map(|p| {
            let seed = p as u64 * batches_per_partition as u64;
            partition_batches(p, standard_batches(batches_per_partition, seed))
        })
        .collect()
}

/// Batches laid end to end with consecutive base offsets from `base` and
/// leader epoch 0, as the read path serves them.
pub fn served_log(batches: &[Bytes], mut base: i64) -> Bytes {
    let mut out = BytesMut::with_capacity(batches.iter().map(Bytes::len).sum());
    for batch in batches {
        let start = out.len();
        out.extend_from_slice(batch);
        patch_offsets(&mut out[start..], base, 0);
        let header = BatchHeader::parse(batch).expect("the encoder writes valid headers");
        base += header.offset_count();
    }
    out.freeze()
}

/// A Produce request for one topic with one batch of `records_per_partition`
/// 1 KiB records in each of `partitions` partitions (Produce v3 and later
/// allow exactly one batch per partition).
pub fn produce_request(partitions: i32, records_per_partition: usize) -> ProduceRequest {
    let partition_data = (0..partitions)
        .map(|p| {
            PartitionProduceData::default()
                .with_index(p)
                .with_records(Some(record_batch(
                    records_per_partition,
                    VALUE_LEN,
                    p as u64,
                )))
        })
        .collect();
    ProduceRequest::default()
        .with_acks(-1)
        .with_timeout_ms(30_000)
        .with_topic_data(vec![
            TopicProduceData::default()
                .with_name(TopicName(StrBytes::from_static_str(TOPIC)))
                .with_partition_data(partition_data),
        ])
}

/// A whole request frame as a client writes it to the socket: length
/// prefix, request header (of the version `api_key` and `version` call for),
/// body.
pub fn request_frame<T: Encodable>(
    api_key: ApiKey,
    version: i16,
    correlation_id: i32,
    body: &T,
) -> Bytes {
    let header_version = api_key.request_header_version(version);
    let header = RequestHeader::default()
        .with_request_api_key(api_key as i16)
        .with_request_api_version(version)
        .with_correlation_id(correlation_id)
        .with_client_id(Some(StrBytes::from_static_str("floe-bench")));
    let header_size = header
        .compute_size(header_version)
        .expect("a default header has a size");
    let body_size = body
        .compute_size(version)
        .expect("the body is valid at this version");
    let frame_len = i32::try_from(header_size + body_size).expect("bench frames stay under 2 GiB");
    let mut buf = BytesMut::with_capacity(4 + header_size + body_size);
    buf.put_i32(frame_len);
    header
        .encode(&mut buf, header_version)
        .expect("the header encodes at its version");
    body.encode(&mut buf, version)
        .expect("the body encodes at this version");
    buf.freeze()
}

/// A Fetch response for one topic (by name, as in v12 and earlier) with
/// `batches_per_partition` standard batches served in each of `partitions`
/// partitions, filled in as the Fetch handler fills it.
pub fn fetch_response(partitions: i32, batches_per_partition: usize) -> FetchResponse {
    let partition_data = (0..partitions)
        .map(|p| {
            let seed = p as u64 * batches_per_partition as u64;
            let records = served_log(&standard_batches(batches_per_partition, seed), 0);
            let high_watermark = (batches_per_partition * RECORDS_PER_BATCH) as i64;
            PartitionData::default()
                .with_partition_index(p)
                .with_high_watermark(high_watermark)
                .with_last_stable_offset(high_watermark)
                .with_log_start_offset(0)
                .with_records(Some(records))
        })
        .collect();
    FetchResponse::default().with_responses(vec![
        FetchableTopicResponse::default()
            .with_topic(TopicName(StrBytes::from_static_str(TOPIC)))
            .with_partitions(partition_data),
    ])
}
