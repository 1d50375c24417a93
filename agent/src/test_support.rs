//! Helpers for unit tests (and, included by path, the benchmarks): real
//! Kafka record batches built with the kafka-protocol crate's encoder, as a
//! client would send them.

use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use floe_metadata::{MetadataStore, NewTopic, SqliteStore, TopicId};
use kafka_protocol::records::{
    Compression, Record, RecordBatchEncoder, RecordEncodeOptions, TimestampType,
};

/// Encodes one v2 batch holding `values` with keys `k0, k1, ...` and
/// timestamps `base_ts, base_ts + 1, ...`, base offset 0.
pub fn batch(values: &[&str], base_ts: i64, compression: Compression) -> Bytes {
    let records = values.iter().enumerate().map(|(i, v)| {
        (
            Bytes::from(format!("k{i}")),
            Bytes::copy_from_slice(v.as_bytes()),
        )
    });
    encode_batch(records, base_ts, compression)
}

/// Encodes one v2 batch of (key, value) records with timestamps `base_ts,
/// base_ts + 1, ...`, base offset 0 and no producer id: what a
/// non-idempotent producer sends.
pub fn encode_batch(
    records: impl IntoIterator<Item = (Bytes, Bytes)>,
    base_ts: i64,
    compression: Compression,
) -> Bytes {
    let records: Vec<Record> = records
        .into_iter()
        .enumerate()
        .map(|(i, (key, value))| Record {
            transactional: false,
            control: false,
            partition_leader_epoch: -1,
            producer_id: -1,
            producer_epoch: -1,
            timestamp_type: TimestampType::Creation,
            offset: i as i64,
            // The encoder keeps records in one batch while offset - sequence is
            // constant; starting at -1 leaves the batch non-idempotent.
            sequence: i as i32 - 1,
            timestamp: base_ts + i as i64,
            key: Some(key),
            value: Some(value),
            headers: Default::default(),
            delete_horizon: false,
        })
        .collect();
    let mut buf = BytesMut::new();
    let options = RecordEncodeOptions {
        version: 2,
        compression,
    };
    RecordBatchEncoder::encode(&mut buf, &records, &options).expect("encode test batch");
    buf.freeze()
}

/// A fresh in-memory SQLite store holding one topic `t` of one partition.
pub async fn store_with_topic() -> (Arc<dyn MetadataStore>, TopicId) {
    let store: Arc<dyn MetadataStore> = Arc::new(
        SqliteStore::connect("sqlite::memory:")
            .await
            .expect("in-memory store"),
    );
    let topic = store
        .create_topic(NewTopic {
            name: "t".into(),
            partitions: 1,
            config: Default::default(),
        })
        .await
        .expect("create topic")
        .id;
    (store, topic)
}
