//! Compacted topics (`cleanup.policy=compact`) end to end.
//!
//! On two agents sharing Postgres and S3 (moto), with the log cleaner every
//! 300 ms: confluent-kafka (librdkafka 2.16) produces five rounds of updates
//! to 300 keys with tombstones, and reads from the beginning exactly the
//! latest record of each key at its offset (gaps where the older ones
//! were), tombstones first kept then gone after `delete.retention.ms`; a
//! keyless record is refused INVALID_RECORD by confluent-kafka and by kcat
//! (librdkafka 2.0.2) while keyed ones in the same runs are delivered; and
//! `compact,delete` lets retention drop old records where `compact` alone
//! keeps them (`tests/python/compacted_topics.py`). Raw Produce frames pin
//! down Kafka's message and per-record errors of the refusal, partition by
//! partition.

use bytes::Bytes;
use floe_tests::raw::{RawClient, versions};
use floe_tests::records::{self, TestRecord};
use floe_tests::{Agent, Cluster, Kcat, python, unique_topic};
use kafka_protocol::records::Compression;

const NONE: i16 = 0;
const INVALID_RECORD: i16 = 87;

/// A record of `key` (`None`: keyless).
fn record(key: Option<&str>, value: &str) -> TestRecord {
    TestRecord {
        offset: 0,
        timestamp: 1_700_000_000_000,
        key: key.map(|k| Bytes::copy_from_slice(k.as_bytes())),
        value: Some(Bytes::copy_from_slice(value.as_bytes())),
    }
}

/// The sum of a metric over the agents (whichever holds the cleaner's lease
/// did the work).
fn metric_sum(cluster: &Cluster, name: &str) -> f64 {
    cluster
        .agents()
        .iter()
        .map(|a| a.metric(name).ok().flatten().unwrap_or(0.0))
        .sum()
}

#[test]
fn compacted_topics_keep_the_latest_record_of_each_key() {
    let cluster = Cluster::builder("compacted-topics")
        .agents(2)
        .flush_interval_ms(20)
        .arg("--log-cleaner-interval-ms=300")
        .arg("--retention-check-interval-ms=300")
        .start()
        .expect("cluster");
    let prefix = unique_topic("compacted");
    python::run_script("compacted_topics.py", &cluster.bootstrap_all(), &[&prefix])
        .unwrap_or_else(|e| panic!("compacted_topics.py: {e:#}\n{}", cluster.logs()));

    assert!(metric_sum(&cluster, "floe_log_cleaner_partitions_cleaned_total") >= 2.0);
    assert!(metric_sum(&cluster, "floe_log_cleaner_records_removed_total") >= 1200.0);
    assert!(metric_sum(&cluster, "floe_log_cleaner_tombstones_removed_total") >= 30.0);
    assert!(metric_sum(&cluster, "floe_log_cleaner_bytes_written_total") > 0.0);

    // kcat (Debian's, librdkafka 2.0.2): a keyless line is refused, keyed
    // lines in the same run are delivered.
    let topic = format!("{prefix}-kcat");
    let mut admin = RawClient::connect(cluster.agent(0).kafka_addr()).expect("connect");
    let created = admin
        .create_topic_with_config(&topic, 1, &[("cleanup.policy", "compact")])
        .expect("create");
    assert_eq!(created, NONE);
    let kcat = Kcat::new(cluster.bootstrap(1));
    let keyless = kcat
        .run(&["-P", "-t", &topic, "-p", "0"], b"no key here\n")
        .expect("kcat runs");
    assert!(
        // librdkafka's text of INVALID_RECORD (87).
        keyless
            .stderr
            .contains("Broker: Broker failed to validate record"),
        "kcat reports the refusal\n{}",
        keyless.describe()
    );
    kcat.produce_keyed(&topic, "k1:v1\nk2:v2\n", &["-p", "0"])
        .expect("keyed lines delivered");
    let consumed = kcat.consume_all(&topic).expect("consume");
    let pairs: Vec<(i64, String, String)> = consumed
        .iter()
        .map(|r| (r.offset, r.key.clone(), r.value.clone()))
        .collect();
    assert_eq!(
        pairs,
        vec![
            (0, "k1".to_string(), "v1".to_string()),
            (1, "k2".to_string(), "v2".to_string())
        ],
        "only the keyed records, at the first offsets"
    );
}

/// Kafka's answer to keyless records on a compacted topic, as Produce v9
/// carries it: INVALID_RECORD for that partition only, one record error
/// per keyless record with `LogValidator`'s message, and the summary of
/// the first three; the other partition of the same request is appended.
#[test]
fn keyless_records_get_kafkas_record_errors() {
    let agent = Agent::start().expect("agent");
    let mut client = RawClient::connect(agent.kafka_addr()).expect("connect");
    let topic = unique_topic("keyless");
    assert_eq!(
        client
            .create_topic_with_config(&topic, 2, &[("cleanup.policy", "compact,delete")])
            .expect("create"),
        NONE
    );
    let mixed = records::batch(
        &[
            record(Some("a"), "1"),
            record(None, "2"),
            record(Some("b"), "3"),
            record(None, "4"),
        ],
        Compression::Lz4,
    )
    .expect("batch");
    let keyed = records::batch(&[record(Some("c"), "5")], Compression::None).expect("batch");
    let mut answers = client
        .produce_at(versions::PRODUCE, &topic, vec![(0, mixed), (1, keyed)], -1)
        .expect("produce");
    answers.sort_by_key(|a| a.index);
    let codes: Vec<(i32, i16)> = answers.iter().map(|a| (a.index, a.error_code)).collect();
    assert_eq!(codes, vec![(0, INVALID_RECORD), (1, NONE)]);
    let each =
        format!("Compacted topic cannot accept message without key in topic partition {topic}-0.");
    let errors: Vec<(i32, String)> = answers[0]
        .record_errors
        .iter()
        .map(|e| {
            let message = e.batch_index_error_message.as_ref().map(|m| m.to_string());
            (e.batch_index, message.unwrap_or_default())
        })
        .collect();
    assert_eq!(errors, vec![(1, each.clone()), (3, each.clone())]);
    assert_eq!(
        answers[0].error_message.as_ref().map(|m| m.to_string()),
        Some(format!(
            "One or more records have been rejected due to 2 record errors in total, and only showing the first three errors at most: [RecordError(batchIndex=1, message='{each}'), RecordError(batchIndex=3, message='{each}')]"
        ))
    );
    assert_eq!(answers[1].base_offset, 0);
    // Nothing of the refused batch was stored.
    let latest = client.list_offsets(&topic, 0, -1).expect("latest");
    assert_eq!(latest.offset, 0);
    // A topic that is not compacted takes keyless records.
    let plain = unique_topic("keyless-plain");
    assert_eq!(client.create_topic(&plain, 1).expect("create"), NONE);
    let keyless = records::batch(&[record(None, "x")], Compression::None).expect("batch");
    let answer = client.produce_one(&plain, 0, keyless).expect("produce");
    assert_eq!(answer.error_code, NONE);
}
