//! confluent-kafka (librdkafka 2.16) and kafka-python, through the driver scripts in
//! `tests/python/`. Each script asserts what the client sees; some tests then look at
//! the stored batches with the raw client as well.

use floe_tests::records::{self, TestRecord};
use floe_tests::{Agent, RawClient, python, unique_topic};
use kafka_protocol::records::{BatchDecodeInfo, Compression};

/// Fetches `count` records of `topic`/`partition` from offset 0 with the raw client.
fn fetch_all(
    agent: &Agent,
    topic: &str,
    partition: i32,
    count: usize,
) -> (Vec<TestRecord>, Vec<BatchDecodeInfo>) {
    let mut client = RawClient::connect(agent.kafka_addr()).expect("connect");
    let (records, infos) = client.fetch_all(topic, partition, count).expect("fetch");
    assert_eq!(
        records.len(),
        count,
        "records fetched from {topic}/{partition}"
    );
    (records, infos)
}

#[test]
fn confluent_keyed_records_with_headers_and_timestamps_round_trip() {
    let agent = Agent::start().expect("start agent");
    python::run_script(
        "roundtrip.py",
        &agent.bootstrap(),
        &[&unique_topic("cf-roundtrip")],
    )
    .expect("roundtrip.py");
}

#[test]
fn confluent_all_compression_codecs_round_trip() {
    let agent = Agent::start().expect("start agent");
    let prefix = unique_topic("cf-compression");
    python::run_script("compression.py", &agent.bootstrap(), &[&prefix]).expect("compression.py");

    // The batches are stored as the producer sent them: compressed with its codec.
    for (codec, compression) in [
        ("gzip", Compression::Gzip),
        ("snappy", Compression::Snappy),
        ("lz4", Compression::Lz4),
        ("zstd", Compression::Zstd),
    ] {
        let topic = format!("{prefix}-{codec}");
        let (fetched, infos) = fetch_all(&agent, &topic, 0, 200);
        assert!(
            infos.iter().all(|info| info.compression == compression),
            "{codec}: stored batches are not all {compression:?}: {infos:?}"
        );
        for (i, r) in fetched.iter().enumerate() {
            assert_eq!(r.offset, i as i64, "{codec}: offset of record {i}");
            let mut value = format!("{codec}:{i}:").into_bytes();
            value.extend(b"abcdefgh".repeat(10 + i % 40));
            assert_eq!(
                r.value.as_deref(),
                Some(&value[..]),
                "{codec}: value of record {i}"
            );
        }
    }
}

#[test]
fn confluent_consumer_assigned_mid_batch_starts_at_that_record() {
    let agent = Agent::start().expect("start agent");
    let topic = unique_topic("cf-mid-batch");
    python::run_script("mid_batch.py", &agent.bootstrap(), &[&topic]).expect("mid_batch.py");

    // The ten records really are one batch, and a fetch from offset 5 returns it whole.
    let (_, infos) = fetch_all(&agent, &topic, 0, 10);
    assert_eq!(
        infos.len(),
        1,
        "the producer's ten records should be one batch: {infos:?}"
    );
    let mut client = RawClient::connect(agent.kafka_addr()).expect("connect");
    let data = client.fetch(&topic, 0, 5, 1000).expect("fetch from 5");
    assert_eq!(data.error_code, 0);
    let fetched = records::decode(data.records.as_ref()).expect("decode");
    assert_eq!(
        fetched.iter().map(|r| r.offset).collect::<Vec<_>>(),
        (0..10).collect::<Vec<_>>(),
        "a fetch from the middle of a batch returns the whole batch"
    );
}

#[test]
fn confluent_long_poll_wakes_up_on_new_data() {
    let agent = Agent::start().expect("start agent");
    python::run_script(
        "long_poll.py",
        &agent.bootstrap(),
        &[&unique_topic("cf-long-poll")],
    )
    .expect("long_poll.py");
}

#[test]
fn confluent_list_offsets_earliest_latest_and_by_timestamp() {
    let agent = Agent::start().expect("start agent");
    python::run_script(
        "list_offsets.py",
        &agent.bootstrap(),
        &[&unique_topic("cf-offsets")],
    )
    .expect("list_offsets.py");
}

#[test]
fn confluent_admin_creates_and_deletes_topics() {
    let agent = Agent::builder()
        .auto_create(false)
        .start()
        .expect("start agent");
    python::run_script("admin.py", &agent.bootstrap(), &[&unique_topic("cf-admin")])
        .expect("admin.py");
}

#[test]
fn confluent_produce_to_unknown_topic_fails_without_auto_create() {
    let agent = Agent::builder()
        .auto_create(false)
        .start()
        .expect("start agent");
    python::run_script(
        "unknown_topic.py",
        &agent.bootstrap(),
        &[&unique_topic("cf-unknown")],
    )
    .expect("unknown_topic.py");
}

#[test]
fn kafka_python_keyed_records_with_headers_round_trip() {
    let agent = Agent::start().expect("start agent");
    python::run_script(
        "kafka_python_roundtrip.py",
        &agent.bootstrap(),
        &[&unique_topic("kp-roundtrip")],
    )
    .expect("kafka_python_roundtrip.py");
}

#[test]
fn confluent_idempotent_producer_writes_exactly_once() {
    let agent = Agent::start().expect("start agent");
    python::run_script(
        "idempotent.py",
        &agent.bootstrap(),
        &[&unique_topic("cf-idempotent")],
    )
    .expect("idempotent.py");
}
