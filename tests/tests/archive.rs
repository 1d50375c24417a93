//! The archive tier end to end: a topic with `floe.archive.enabled=true`,
//! a short `floe.archive.after.ms` and `floe.archive.drop.segments=true`
//! gets its records (keys, null keys and values, repeated and null
//! headers, set timestamps, every codec) written as Parquet with Iceberg
//! metadata; its segment files are dropped and collected; kcat,
//! confluent-kafka and kafka-python still read every record exactly as
//! produced, now re-encoded from Parquet; DuckDB and pyiceberg read the
//! same records from the archive; and after records with a new header
//! key are archived by a second pass, all of it still holds.

use std::path::Path;
use std::time::{Duration, Instant};

use floe_tests::kcat::Kcat;
use floe_tests::{Agent, RawClient, python, unique_topic};

/// Files under `dir` (recursively) whose name ends with `suffix`.
fn files_ending(dir: &Path, suffix: &str) -> usize {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries
            .flatten()
            .map(|e| {
                let path = e.path();
                if path.is_dir() {
                    files_ending(&path, suffix)
                } else {
                    usize::from(path.to_string_lossy().ends_with(suffix))
                }
            })
            .sum()
    })
}

fn wait_until(agent: &Agent, what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}\n{}",
            agent.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn check_clients(agent: &Agent, topic: &str, phases: &str) {
    let bootstrap = agent.bootstrap();
    python::run_script("archive.py", &bootstrap, &["consume", topic, phases])
        .expect("confluent-kafka and kafka-python read the archived records");
    let expected = python::run_script("archive.py", &bootstrap, &["expected", topic, phases])
        .expect("expected records");
    let expected: Vec<serde_json::Value> =
        serde_json::from_str(&expected.stdout).expect("expected records as JSON");
    let mut read = Kcat::new(&bootstrap)
        .consume_all(topic)
        .expect("kcat reads");
    read.sort_by_key(|r| (r.partition, r.offset));
    let read: Vec<(i32, i64, &str, &str)> = read
        .iter()
        .map(|r| (r.partition, r.offset, r.key.as_str(), r.value.as_str()))
        .collect();
    let expected: Vec<(i32, i64, &str, &str)> = expected
        .iter()
        .map(|r| {
            (
                r["partition"].as_i64().unwrap_or(-1) as i32,
                r["offset"].as_i64().unwrap_or(-1),
                r["key"].as_str().unwrap_or("?"),
                r["value"].as_str().unwrap_or("?"),
            )
        })
        .collect();
    assert_eq!(read, expected, "kcat reads what was produced");
}

#[test]
fn archived_ranges_are_served_by_fetch_and_read_by_duckdb_and_pyiceberg() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("floe.toml");
    std::fs::write(
        &config,
        "archive_interval_ms = 300\nsegment_gc_interval_ms = 100\nsegment_gc_grace_ms = 0\n\
         commit_retry_window_ms = 0\n",
    )
    .expect("write config");
    let agent = Agent::builder()
        .arg("--config")
        .arg(config.to_str().expect("utf-8 path"))
        .start()
        .expect("start agent");
    let objects = agent.data_dir().join("objects");
    let topic = unique_topic("archived");
    let mut client = RawClient::connect(agent.kafka_addr()).expect("connect");
    // Disabled first, so every record of phase 1 is in segments before the
    // first pass looks.
    assert_eq!(
        client
            .create_topic_with_config(
                &topic,
                2,
                &[
                    ("floe.archive.after.ms", "60000"),
                    ("floe.archive.drop.segments", "true"),
                ],
            )
            .expect("create"),
        0
    );
    let bootstrap = agent.bootstrap();
    python::run_script("archive.py", &bootstrap, &["produce", &topic, "1"]).expect("phase 1");
    assert!(
        files_ending(&objects.join("segments"), ".seg") >= 5,
        "one segment per codec at least"
    );
    assert_eq!(
        client
            .alter_config(2, &topic, "floe.archive.enabled", Some("true"))
            .expect("alter"),
        0
    );

    let data = objects.join("archive").join(&topic).join("data");
    wait_until(&agent, "the archive and the segment drop", || {
        files_ending(&data, ".parquet") == 2 && files_ending(&objects.join("segments"), ".seg") == 0
    });
    let metadata = objects.join("archive").join(&topic).join("metadata");
    assert!(metadata.join("v1.metadata.json").is_file());
    assert_eq!(
        files_ending(&metadata, ".avro"),
        2,
        "a manifest and a manifest list"
    );
    assert_eq!(
        agent.metric("floe_archived_files_total").expect("metrics"),
        Some(2.0)
    );
    assert_eq!(
        agent
            .metric("floe_archived_records_total")
            .expect("metrics"),
        Some(250.0)
    );

    check_clients(&agent, &topic, "1");
    let read = agent
        .metric("floe_archive_read_bytes_total")
        .expect("metrics")
        .unwrap_or(0.0);
    assert!(read > 0.0, "fetches read the archive");
    let root = objects.to_str().expect("utf-8 path").to_string();
    python::run_script("archive.py", &bootstrap, &["tables", &topic, &root, "1"])
        .expect("DuckDB and pyiceberg read phase 1");

    // Records with a header key never seen before: archived by a second
    // pass into a second snapshot; every reader still works.
    python::run_script("archive.py", &bootstrap, &["produce", &topic, "2"]).expect("phase 2");
    // Phase 2 is produced codec by codec, so one or more passes archive it.
    wait_until(&agent, "the archive of phase 2", || {
        agent.metric("floe_archived_records_total").ok().flatten() == Some(290.0)
            && files_ending(&objects.join("segments"), ".seg") == 0
    });
    assert!(metadata.join("v2.metadata.json").is_file());
    assert!(files_ending(&data, ".parquet") >= 4);
    check_clients(&agent, &topic, "2");
    python::run_script("archive.py", &bootstrap, &["tables", &topic, &root, "2"])
        .expect("DuckDB and pyiceberg read both phases");

    // ListOffsets by timestamp over the archived range.
    let hit = client
        .list_offsets(&topic, 1, 1_700_000_000_000 + 13 * 100)
        .expect("list offsets by timestamp");
    assert_eq!(hit.offset, 50, "record n=101 is the 51st of partition 1");
}

/// Transactional and plain producers on one partition, archived while a
/// transaction is open, then again to the end of the log
/// (`tests/python/archive_txn.py`): the archive holds only committed
/// records and stops at the last stable offset; read_committed readers get
/// every committed record once across the archive → live boundary and from
/// the archive alone; read_uncommitted readers no longer see the aborted
/// records of archived ranges; DuckDB and pyiceberg read exactly the
/// committed records; raw read_committed fetches of the archived log report
/// no aborted transactions and serve batches without a producer.
/// `metadata` is the store's URL, `None` for SQLite.
fn archive_transactional_ranges(metadata: Option<String>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("floe.toml");
    std::fs::write(&config, "archive_interval_ms = 300\n").expect("write config");
    let mut builder = Agent::builder()
        .arg("--config")
        .arg(config.to_str().expect("utf-8 path"));
    if let Some(url) = metadata {
        builder = builder.arg("--metadata").arg(url);
    }
    let agent = builder.start().expect("start agent");
    let objects = agent.data_dir().join("objects");
    let topic = unique_topic("archived-txn");
    let root = objects.to_str().expect("utf-8 path").to_string();
    if let Err(error) = python::run_script("archive_txn.py", &agent.bootstrap(), &[&topic, &root]) {
        panic!("{error:#}\n{}", agent.log());
    }
    // The whole log is archived: read_committed fetches from anywhere in it
    // are answered with no aborted transactions (their markers are not in
    // the archive, so none may be reported), and its batches carry no
    // producer.
    let mut client = RawClient::connect(agent.kafka_addr()).expect("connect");
    for offset in [0, 40, 70, 100] {
        let data = fetch_committed(&mut client, &topic, offset);
        assert_eq!(data.error_code, 0);
        assert_eq!(data.high_watermark, data.last_stable_offset);
        assert_eq!(
            data.aborted_transactions,
            Some(Vec::new()),
            "aborted transactions reported from offset {offset}"
        );
        let mut bytes = data.records.expect("records");
        assert!(!bytes.is_empty(), "records from offset {offset}");
        while !bytes.is_empty() {
            let batch = kafka_protocol::records::RecordBatchDecoder::decode(&mut bytes)
                .expect("batches decode");
            assert!(
                batch
                    .records
                    .iter()
                    .all(|r| r.producer_id == -1 && !r.transactional),
                "archived batches carry no producer"
            );
        }
    }
    let records = agent
        .metric("floe_archived_records_total")
        .expect("metrics")
        .unwrap_or(0.0);
    // 2 phases of 9 rounds: 9 plain records, 9 inside the transactions and
    // 6 committed transactions of 4; and 3 plain records after the open one.
    assert_eq!(records, 2.0 * (9.0 + 9.0 + 6.0 * 4.0) + 3.0);
}

/// Fetch v12 of partition 0 from `offset` at read_committed.
fn fetch_committed(
    client: &mut RawClient,
    topic: &str,
    offset: i64,
) -> kafka_protocol::messages::fetch_response::PartitionData {
    use kafka_protocol::messages::FetchRequest;
    use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
    let request = FetchRequest::default()
        .with_replica_id((-1).into())
        .with_max_wait_ms(0)
        .with_min_bytes(0)
        .with_max_bytes(1 << 20)
        .with_isolation_level(1)
        .with_session_id(0)
        .with_session_epoch(-1)
        .with_topics(vec![
            FetchTopic::default()
                .with_topic(floe_tests::raw::topic_name(topic))
                .with_partitions(vec![
                    FetchPartition::default()
                        .with_partition(0)
                        .with_current_leader_epoch(-1)
                        .with_fetch_offset(offset)
                        .with_last_fetched_epoch(-1)
                        .with_log_start_offset(-1)
                        .with_partition_max_bytes(1 << 20),
                ]),
        ]);
    let resp = client.request(12, &request).expect("fetch");
    resp.responses[0].partitions[0].clone()
}

#[test]
fn archived_transactional_ranges_hold_committed_records_only() {
    archive_transactional_ranges(None);
}

#[test]
fn archived_transactional_ranges_hold_committed_records_only_on_postgres() {
    let postgres = floe_tests::cluster::shared_postgres().expect("postgres");
    let url = postgres
        .create_database(&unique_topic("archive-txn"))
        .expect("database");
    archive_transactional_ranges(Some(url));
}
