//! The log cleaner on transactional data, end to end (as a Kafka Streams
//! `exactly_once_v2` changelog writes it): two agents on Postgres and S3
//! (moto), the cleaner every 300 ms.
//!
//! confluent-kafka's transactional producer writes rounds of 100 keys, two
//! rounds aborted, and leaves one transaction open
//! (`tests/python/compacted_transactions.py`): once cleaned, consumers at
//! read_committed and read_uncommitted from the log start see exactly the
//! latest committed record of each key at its offset, no aborted record,
//! and the open transaction's records untouched until it commits. Then raw
//! Fetch frames check Kafka's two-phase marker removal: after
//! `delete.retention.ms`, only the markers of transactions that still have
//! a record in the log remain, and a read_committed Fetch lists no aborted
//! transaction any more (their ranges went with their markers).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use floe_tests::raw::{RawClient, topic_name, versions};
use floe_tests::records;
use floe_tests::{Cluster, python, unique_topic};
use kafka_protocol::messages::FetchRequest;
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::fetch_response::PartitionData;
use kafka_protocol::records::RecordBatchDecoder;

/// Transactions the script commits (four of the six rounds, the open one,
/// the late one) and aborts.
const COMMITTED: usize = 6;
const ABORTED: usize = 2;
/// Transactions with a record left once everything is compacted: the last
/// round (k10..k49), the open one (k00..k09) and the late one (k50..k99).
const STILL_HOLDING: usize = 3;

/// The sum of a metric over the agents (whichever holds the cleaner's
/// lease did the work).
fn metric_sum(cluster: &Cluster, name: &str) -> f64 {
    cluster
        .agents()
        .iter()
        .map(|a| a.metric(name).ok().flatten().unwrap_or(0.0))
        .sum()
}

/// Fetch of partition 0 from offset 0 at `isolation` (0 read_uncommitted,
/// 1 read_committed), all of it.
fn fetch(c: &mut RawClient, topic: &str, isolation: i8) -> PartitionData {
    let request = FetchRequest::default()
        .with_replica_id((-1).into())
        .with_max_wait_ms(0)
        .with_min_bytes(0)
        .with_max_bytes(16 << 20)
        .with_isolation_level(isolation)
        .with_session_id(0)
        .with_session_epoch(-1)
        .with_topics(vec![
            FetchTopic::default()
                .with_topic(topic_name(topic))
                .with_partitions(vec![
                    FetchPartition::default()
                        .with_partition(0)
                        .with_current_leader_epoch(-1)
                        .with_fetch_offset(0)
                        .with_last_fetched_epoch(-1)
                        .with_log_start_offset(-1)
                        .with_partition_max_bytes(16 << 20),
                ]),
        ]);
    let resp = c.request(versions::FETCH, &request).expect("fetch");
    let partition = resp.responses[0].partitions[0].clone();
    assert_eq!(partition.error_code, 0, "fetch error");
    partition
}

#[test]
fn the_cleaner_compacts_committed_transactions_and_removes_aborted_ones() {
    let cluster = Cluster::builder("compacted-txn")
        .agents(2)
        .flush_interval_ms(20)
        .arg("--log-cleaner-interval-ms=300")
        .env("FLOE_TRANSACTION_CHECK_INTERVAL_MS", "1000")
        .start()
        .expect("cluster");
    let topic = unique_topic("compacted-txn");
    let output = python::run_script(
        "compacted_transactions.py",
        &cluster.bootstrap_all(),
        &[&topic],
    )
    .unwrap_or_else(|e| panic!("compacted_transactions.py: {e:#}\n{}", cluster.logs()));
    eprintln!("{}", output.stdout);
    let last = output.stdout.lines().last().expect("the expected log");
    let expected: BTreeMap<String, (i64, String)> =
        serde_json::from_str(last).expect("the expected log as JSON");
    let mut expected: Vec<(i64, String, String)> =
        expected.into_iter().map(|(k, (o, v))| (o, k, v)).collect();
    expected.sort();

    // Markers of transactions without a record left go after
    // delete.retention.ms (3 s); the others stay.
    let mut c = RawClient::connect(cluster.agent(0).kafka_addr()).expect("connect");
    let deadline = Instant::now() + Duration::from_secs(60);
    let infos = loop {
        let data = fetch(&mut c, &topic, 0);
        let infos = records::batch_infos(data.records.as_ref()).expect("batches");
        let markers = infos.iter().filter(|b| b.control).count();
        if markers == STILL_HOLDING {
            break infos;
        }
        assert!(
            Instant::now() < deadline,
            "{markers} markers left, not {STILL_HOLDING}\n{}",
            cluster.logs()
        );
        std::thread::sleep(Duration::from_millis(300));
    };
    let markers: Vec<_> = infos.iter().filter(|b| b.control).collect();
    assert!(
        markers.iter().all(|m| m.transactional && !m.delete_horizon),
        "the markers left hold records: no delete horizon, {markers:?}"
    );
    let data_batches = infos.iter().filter(|b| !b.control);
    assert!(
        data_batches.clone().all(|b| b.transactional),
        "only transactional data"
    );

    // The records did not move, at either isolation level (the markers
    // left are control records, which consumers skip); read_committed gets
    // no aborted range any more.
    for isolation in [0, 1] {
        let data = fetch(&mut c, &topic, isolation);
        let mut bytes = data.records.clone().unwrap_or_default();
        let read: Vec<(i64, String, String)> = RecordBatchDecoder::decode_all(&mut bytes)
            .expect("records")
            .into_iter()
            .flat_map(|set| set.records)
            .filter(|r| !r.control)
            .map(|r| {
                let text = |b: Option<bytes::Bytes>| {
                    String::from_utf8(b.expect("not null").to_vec()).expect("utf-8")
                };
                (r.offset, text(r.key), text(r.value))
            })
            .collect();
        assert_eq!(read, expected, "isolation {isolation}");
        if isolation == 1 {
            assert_eq!(
                data.aborted_transactions.as_deref().map_or(0, <[_]>::len),
                0,
                "aborted ranges pruned with their markers"
            );
        }
    }

    let markers_removed = metric_sum(&cluster, "floe_log_cleaner_markers_removed_total");
    assert_eq!(
        markers_removed,
        (COMMITTED + ABORTED - STILL_HOLDING) as f64,
        "every marker of a transaction without a record, once"
    );
    assert!(
        metric_sum(&cluster, "floe_log_cleaner_aborted_records_removed_total") >= 200.0,
        "both aborted rounds"
    );
}
