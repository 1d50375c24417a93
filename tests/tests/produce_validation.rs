//! The edge refuses what Kafka refuses, batch by batch, with Kafka's codes:
//! a bad batch is its producer's error and never fails the other batches
//! flushed with it. Raw Produce requests pin down the exact codes, and
//! what was accepted is read back.

use std::path::Path;
use std::time::{Duration, Instant};

use bytes::Bytes;
use floe_tests::raw::{RawClient, produce_request, topic_name, versions};
use floe_tests::records::{self, Idempotence, TestRecord};
use floe_tests::{Agent, unique_topic};
use kafka_protocol::messages::ProduceResponse;
use kafka_protocol::messages::produce_response::PartitionProduceResponse;
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::records::Compression;

const NONE: i16 = 0;
const INVALID_RECORD: i16 = 87;
const INVALID_PRODUCER_EPOCH: i16 = 47;
const INVALID_REQUIRED_ACKS: i16 = 21;
const INVALID_TIMESTAMP: i16 = 32;
const INVALID_TXN_STATE: i16 = 48;
const TRANSACTIONAL_ID_AUTHORIZATION_FAILED: i16 = 53;

fn now_ms() -> i64 {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970");
    i64::try_from(since_epoch.as_millis()).expect("ms fit")
}

/// One uncompressed batch of `values`, every record at `timestamp`.
fn batch_at(values: &[&str], timestamp: i64) -> Bytes {
    records::batch(&records_at(values, timestamp), Compression::None).expect("batch")
}

fn records_at(values: &[&str], timestamp: i64) -> Vec<TestRecord> {
    values
        .iter()
        .map(|v| TestRecord::new("k", v, timestamp))
        .collect()
}

fn idempotent(values: &[&str], producer_id: i64, producer_epoch: i16, base_sequence: i32) -> Bytes {
    let producer = Idempotence {
        producer_id,
        producer_epoch,
        base_sequence,
    };
    records::idempotent_batch(&records_at(values, now_ms()), producer).expect("batch")
}

/// The partition answers sorted by partition, as `(index, error code)`.
fn codes(answers: &mut [PartitionProduceResponse]) -> Vec<(i32, i16)> {
    answers.sort_by_key(|a| a.index);
    answers.iter().map(|a| (a.index, a.error_code)).collect()
}

/// Every value stored in `partition` of `topic`, from offset 0.
fn stored(client: &mut RawClient, topic: &str, partition: i32, expected: usize) -> Vec<String> {
    let (fetched, _) = client.fetch_all(topic, partition, expected).expect("fetch");
    records::values(&fetched)
}

fn high_watermark(client: &mut RawClient, topic: &str, partition: i32) -> i64 {
    client
        .list_offsets(topic, partition, -1)
        .expect("latest")
        .offset
}

/// A batch an idempotent producer poisoned (a negative epoch, a negative
/// sequence) travels in one request, so in one flush, with good batches:
/// the good ones get their offsets and are readable, each bad one gets
/// Kafka's code, and nothing else fails. Before, the store refused the
/// whole segment and every partition got KAFKA_STORAGE_ERROR.
#[test]
fn poisoned_batch_fails_alone_in_its_flush() {
    let agent = Agent::builder().partitions(4).start().expect("start agent");
    let mut client = RawClient::connect(agent.kafka_addr()).expect("connect");
    let topic = unique_topic("poisoned");
    assert_eq!(client.create_topic(&topic, 4).expect("create"), NONE);
    let (producer_id, epoch) = client.init_producer_id().expect("InitProducerId");

    let mut answers = client
        .produce(
            &topic,
            vec![
                (0, idempotent(&["bad-epoch"], producer_id, -1, 0)),
                (1, idempotent(&["bad-sequence"], producer_id, epoch, -1)),
                (2, batch_at(&["good-plain"], now_ms())),
                (3, idempotent(&["good-1", "good-2"], producer_id, epoch, 0)),
            ],
            -1,
        )
        .expect("produce");
    assert_eq!(
        codes(&mut answers),
        vec![
            (0, INVALID_PRODUCER_EPOCH),
            (1, INVALID_RECORD),
            (2, NONE),
            (3, NONE)
        ]
    );
    assert_eq!((answers[2].base_offset, answers[3].base_offset), (0, 0));
    assert!(
        answers[0].error_message.is_some() && answers[1].error_message.is_some(),
        "refusals say why: {answers:?}"
    );

    assert_eq!(stored(&mut client, &topic, 2, 1), ["good-plain"]);
    assert_eq!(stored(&mut client, &topic, 3, 2), ["good-1", "good-2"]);
    assert_eq!(high_watermark(&mut client, &topic, 0), 0);
    assert_eq!(high_watermark(&mut client, &topic, 1), 0);

    // The producer goes on where its accepted batch left it.
    let next = client
        .produce_one(&topic, 3, idempotent(&["good-3"], producer_id, epoch, 2))
        .expect("produce");
    assert_eq!((next.error_code, next.base_offset), (NONE, 2));
    // A producer id below -1 is refused too; -1 with any epoch and sequence
    // is a plain batch, as in Kafka.
    let below = client
        .produce_one(&topic, 0, idempotent(&["x"], -2, 0, 0))
        .expect("produce");
    assert_eq!(below.error_code, INVALID_RECORD);
    let plain = client
        .produce_one(&topic, 0, idempotent(&["plain"], -1, 3, 7))
        .expect("produce");
    assert_eq!((plain.error_code, plain.base_offset), (NONE, 0));
    assert_eq!(stored(&mut client, &topic, 0, 1), ["plain"]);
}

/// acks other than 0, 1 and -1: INVALID_REQUIRED_ACKS on every partition,
/// and nothing is stored.
#[test]
fn acks_other_than_0_1_all_are_invalid_required_acks() {
    let agent = Agent::builder().partitions(2).start().expect("start agent");
    let mut client = RawClient::connect(agent.kafka_addr()).expect("connect");
    let topic = unique_topic("acks");
    assert_eq!(client.create_topic(&topic, 2).expect("create"), NONE);
    for acks in [2, -2, 5] {
        let batches = vec![
            (0, batch_at(&["a"], now_ms())),
            (1, batch_at(&["b"], now_ms())),
        ];
        let mut answers = client.produce(&topic, batches, acks).expect("produce");
        assert_eq!(
            codes(&mut answers),
            vec![(0, INVALID_REQUIRED_ACKS), (1, INVALID_REQUIRED_ACKS)],
            "acks={acks}"
        );
    }
    assert_eq!(high_watermark(&mut client, &topic, 0), 0);
    assert_eq!(high_watermark(&mut client, &topic, 1), 0);
}

/// Transactional batches outside a transaction: without a transactional
/// id the whole request is TRANSACTIONAL_ID_AUTHORIZATION_FAILED (Kafka's
/// first check); with one, the batch is INVALID_TXN_STATE (its producer
/// never added the partition to a transaction: KIP-890's verification) and
/// the request's other batches are stored.
#[test]
fn transactional_batches_are_refused() {
    let agent = Agent::builder().partitions(2).start().expect("start agent");
    let mut client = RawClient::connect(agent.kafka_addr()).expect("connect");
    let topic = unique_topic("transactional");
    assert_eq!(client.create_topic(&topic, 2).expect("create"), NONE);
    let (producer_id, producer_epoch) = client.init_producer_id().expect("InitProducerId");
    let transactional = records::transactional_batch(
        &records_at(&["in-txn"], now_ms()),
        Idempotence {
            producer_id,
            producer_epoch,
            base_sequence: 0,
        },
    )
    .expect("batch");
    let batches = vec![
        (0, transactional.clone()),
        (1, batch_at(&["plain"], now_ms())),
    ];

    let mut answers = client
        .produce(&topic, batches.clone(), -1)
        .expect("produce");
    assert_eq!(
        codes(&mut answers),
        vec![
            (0, TRANSACTIONAL_ID_AUTHORIZATION_FAILED),
            (1, TRANSACTIONAL_ID_AUTHORIZATION_FAILED)
        ]
    );
    assert_eq!(high_watermark(&mut client, &topic, 1), 0);

    let request = produce_request(&topic, batches, -1)
        .with_transactional_id(Some(StrBytes::from_static_str("txn-1").into()));
    let response: ProduceResponse = client
        .request(versions::PRODUCE, &request)
        .expect("produce");
    let topic_response = response
        .responses
        .iter()
        .find(|t| t.name == topic_name(&topic))
        .expect("topic answered");
    let mut answers = topic_response.partition_responses.clone();
    assert_eq!(codes(&mut answers), vec![(0, INVALID_TXN_STATE), (1, NONE)]);
    assert_eq!(high_watermark(&mut client, &topic, 0), 0);
    assert_eq!(stored(&mut client, &topic, 1, 1), ["plain"]);
}

/// CreateTime timestamps outside the topic's
/// `message.timestamp.before.max.ms` / `after.max.ms` are INVALID_TIMESTAMP
/// (with the first record named when it is the one out of range); a
/// topic without them takes Kafka 4.x's defaults: any age, at most an hour
/// ahead. Records without a timestamp (-1) pass.
#[test]
fn timestamps_out_of_the_window_are_invalid_timestamp() {
    let agent = Agent::builder().partitions(1).start().expect("start agent");
    let mut client = RawClient::connect(agent.kafka_addr()).expect("connect");
    let strict = unique_topic("strict-time");
    let configs = [
        ("message.timestamp.before.max.ms", "600000"),
        ("message.timestamp.after.max.ms", "600000"),
    ];
    assert_eq!(
        client
            .create_topic_with_config(&strict, 1, &configs)
            .expect("create"),
        NONE
    );
    let hour = 3_600_000;
    for (timestamp, code) in [
        (now_ms() - hour, INVALID_TIMESTAMP),
        (now_ms() + hour, INVALID_TIMESTAMP),
        (now_ms(), NONE),
        (-1, NONE),
    ] {
        let answer = client
            .produce_one(&strict, 0, batch_at(&["v"], timestamp))
            .expect("produce");
        assert_eq!(answer.error_code, code, "timestamp {timestamp}");
        if code == INVALID_TIMESTAMP {
            let indexes: Vec<i32> = answer.record_errors.iter().map(|e| e.batch_index).collect();
            assert_eq!(indexes, [0], "the first record is out of range");
            assert!(answer.error_message.is_some());
        }
    }
    assert_eq!(high_watermark(&mut client, &strict, 0), 2);

    let lenient = unique_topic("default-time");
    assert_eq!(client.create_topic(&lenient, 1).expect("create"), NONE);
    for (timestamp, code) in [
        (1_000, NONE),
        (now_ms() + 2 * hour, INVALID_TIMESTAMP),
        (now_ms() + 30_000, NONE),
    ] {
        let answer = client
            .produce_one(&lenient, 0, batch_at(&["v"], timestamp))
            .expect("produce");
        assert_eq!(answer.error_code, code, "timestamp {timestamp}");
    }
    // Only the last record of a batch in the future: no record index.
    let mut late = records_at(&["now"], now_ms());
    late.extend(records_at(&["later"], now_ms() + 2 * hour));
    let answer = client
        .produce_one(
            &lenient,
            0,
            records::batch(&late, Compression::None).expect("batch"),
        )
        .expect("produce");
    assert_eq!(answer.error_code, INVALID_TIMESTAMP);
    assert!(answer.record_errors.is_empty(), "{answer:?}");
    assert_eq!(high_watermark(&mut client, &lenient, 0), 2);
}

/// An agent whose retention runs every 100 ms and keeps an hour.
fn retaining_agent(dir: &Path) -> Agent {
    let config = dir.join("floe.toml");
    let text = "retention_check_interval_ms = 100\ndefault_retention_ms = 3600000\n";
    std::fs::write(&config, text).expect("write config");
    Agent::builder()
        .arg("--config")
        .arg(config.to_str().expect("utf-8 path"))
        .start()
        .expect("start agent")
}

/// Records without a timestamp (-1) are kept for the retention period from
/// their append, not expired at the first pass as if from 1970.
#[test]
fn retention_keeps_records_without_timestamps() {
    let dir = tempfile::tempdir().expect("tempdir");
    let agent = retaining_agent(dir.path());
    let mut client = RawClient::connect(agent.kafka_addr()).expect("connect");
    let topic = unique_topic("no-timestamp");
    assert_eq!(client.create_topic(&topic, 1).expect("create"), NONE);
    // Two days old (expires at the first pass), then without timestamps.
    let old = client
        .produce_one(&topic, 0, batch_at(&["old"], now_ms() - 48 * 3_600_000))
        .expect("produce");
    assert_eq!(old.error_code, NONE);
    let untimed = client
        .produce_one(&topic, 0, batch_at(&["untimed-1", "untimed-2"], -1))
        .expect("produce");
    assert_eq!((untimed.error_code, untimed.base_offset), (NONE, 1));

    // Wait for a pass to expire the old record: the log then starts at 1.
    let deadline = Instant::now() + Duration::from_secs(30);
    let start = loop {
        let start = client.list_offsets(&topic, 0, -2).expect("earliest").offset;
        if start > 0 || Instant::now() > deadline {
            break start;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(start, 1, "retention expired the old record and only it");
    // More passes change nothing.
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        client.list_offsets(&topic, 0, -2).expect("earliest").offset,
        1
    );
    let kept = client.fetch(&topic, 0, 1, 0).expect("fetch");
    assert_eq!(
        records::values(&records::decode(kept.records.as_ref()).expect("decode")),
        ["untimed-1", "untimed-2"]
    );
}

/// Every record of a batch is read at the edge, as Kafka's log validator
/// reads it. Java writes the first record's timestamp as the batch's base,
/// so a later record may be older than the first: the header alone passed
/// such a batch before, now the record's index comes back with
/// INVALID_TIMESTAMP. A batch whose records lie about their contents (with
/// a valid CRC) is INVALID_RECORD and never stored, while the request's
/// other partition is.
#[test]
fn every_record_is_checked() {
    let agent = Agent::builder().partitions(1).start().expect("start agent");
    let mut client = RawClient::connect(agent.kafka_addr()).expect("connect");
    let topic = unique_topic("record-checks");
    let configs = [("message.timestamp.before.max.ms", "600000")];
    assert_eq!(
        client
            .create_topic_with_config(&topic, 2, &configs)
            .expect("create"),
        NONE
    );
    let record =
        |timestamp_delta: i64, offset_delta: i32, value: &'static [u8]| records::RawRecord {
            timestamp_delta,
            offset_delta,
            value,
            header_count: 0,
        };
    let now = now_ms();
    let hour = 3_600_000;
    let older_second = records::raw_batch(
        &[
            record(0, 0, b"a"),
            record(-hour, 1, b"b"),
            record(5, 2, b"c"),
        ],
        now,
        now + 5,
    );
    let answer = client
        .produce_one(&topic, 0, older_second)
        .expect("produce");
    assert_eq!(answer.error_code, INVALID_TIMESTAMP, "{answer:?}");
    let indexes: Vec<i32> = answer.record_errors.iter().map(|e| e.batch_index).collect();
    assert_eq!(indexes, [1], "the second record is out of range");
    // The same shape within the window is taken, as Kafka takes it.
    let in_window = records::raw_batch(
        &[
            record(0, 0, b"a"),
            record(-1_000, 1, b"b"),
            record(5, 2, b"c"),
        ],
        now,
        now + 5,
    );
    assert_eq!(
        client
            .produce_one(&topic, 0, in_window)
            .expect("produce")
            .error_code,
        NONE
    );

    let lying = records::raw_batch(
        &[records::RawRecord {
            header_count: 1_000_000,
            ..record(0, 0, b"x")
        }],
        now,
        now,
    );
    let out_of_order = records::raw_batch(&[record(0, 1, b"y"), record(0, 0, b"z")], now, now);
    for bad in [lying, out_of_order] {
        let mut answers = client
            .produce(
                &topic,
                vec![(0, bad), (1, batch_at(&["fine"], now_ms()))],
                -1,
            )
            .expect("produce");
        assert_eq!(codes(&mut answers), vec![(0, INVALID_RECORD), (1, NONE)]);
    }
    assert_eq!(high_watermark(&mut client, &topic, 0), 3);
    assert_eq!(stored(&mut client, &topic, 0, 3), ["a", "b", "c"]);
    assert_eq!(high_watermark(&mut client, &topic, 1), 2);
}
