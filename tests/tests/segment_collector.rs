//! Deleting data: once a topic is deleted, its records pass their
//! retention or are deleted (DeleteRecords), the segment collector deletes the objects of the segments that
//! held only that data, and what remains reads as before. (That a segment
//! shared by two topics stays while either has rows is in the metadata
//! contract suite.)

use std::path::Path;
use std::time::{Duration, Instant};

use floe_tests::records::{self, TestRecord};
use floe_tests::{Agent, RawClient, unique_topic};
use kafka_protocol::ResponseError;
use kafka_protocol::messages::DeleteRecordsRequest;
use kafka_protocol::messages::delete_records_request::{
    DeleteRecordsPartition, DeleteRecordsTopic,
};

fn produce(client: &mut RawClient, topic: &str, values: &[&str]) {
    produce_at(client, topic, values, 1_700_000_000_000);
}

fn produce_at(client: &mut RawClient, topic: &str, values: &[&str], timestamp: i64) {
    let batch = records::simple_batch(values, timestamp).expect("batch");
    let produced = client.produce_one(topic, 0, batch).expect("produce");
    assert_eq!(produced.error_code, 0, "produce to {topic}");
}

fn values(records: &[TestRecord]) -> Vec<String> {
    records
        .iter()
        .map(|r| String::from_utf8_lossy(r.value.as_deref().unwrap_or_default()).into_owned())
        .collect()
}

/// An agent collecting segments at once, with `extra` config lines.
fn agent(dir: &Path, extra: &str) -> Agent {
    let config = dir.join("floe.toml");
    let text = format!(
        "segment_gc_interval_ms = 100\nsegment_gc_grace_ms = 0\ncommit_retry_window_ms = 0\n{extra}"
    );
    std::fs::write(&config, text).expect("write config");
    Agent::builder()
        .arg("--config")
        .arg(config.to_str().expect("utf-8 path"))
        .start()
        .expect("start agent")
}

/// Waits until the agent holds `files` segment files.
fn wait_for_segment_files(agent: &Agent, files: usize) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while agent.segment_files() != files {
        assert!(
            Instant::now() < deadline,
            "{} segment files, expected {files}\n{}",
            agent.segment_files(),
            agent.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn deleting_a_topic_deletes_the_segments_only_it_used() {
    let dir = tempfile::tempdir().expect("tempdir");
    let agent = agent(dir.path(), "");
    let (doomed, kept) = (unique_topic("gc-doomed"), unique_topic("gc-kept"));
    let mut client = RawClient::connect(agent.kafka_addr()).expect("connect");
    for topic in [&doomed, &kept] {
        assert_eq!(client.create_topic(topic, 1).expect("create"), 0);
    }
    // Each produce is acknowledged after its own flush: one segment each.
    produce(&mut client, &doomed, &["d1", "d2"]);
    produce(&mut client, &kept, &["k1"]);
    produce(&mut client, &doomed, &["d3"]);
    assert_eq!(agent.segment_files(), 3);

    assert_eq!(client.delete_topic_at(6, &doomed).expect("delete"), 0);
    wait_for_segment_files(&agent, 1);
    // The collector counts its deletions once it has forgotten the
    // segments, just after their files went: wait for the count, then
    // check it is exactly the doomed topic's two.
    let collected = agent
        .wait_for_metric(
            "floe_segments_collected_total",
            2.0,
            Duration::from_secs(30),
        )
        .expect("collected segments counted");
    assert_eq!(collected, 2.0);
    let (read, _) = client.fetch_all(&kept, 0, 1).expect("fetch kept");
    assert_eq!(values(&read), vec!["k1"]);
    // Nothing else goes: the last segment is still in use.
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(agent.segment_files(), 1);
}

#[test]
fn records_past_their_retention_go_with_their_segments() {
    let dir = tempfile::tempdir().expect("tempdir");
    // One hour by default; the second topic keeps everything.
    let agent = agent(
        dir.path(),
        "retention_check_interval_ms = 100\ndefault_retention_ms = 3600000\n",
    );
    let (topic, forever) = (unique_topic("retained"), unique_topic("forever"));
    let mut client = RawClient::connect(agent.kafka_addr()).expect("connect");
    assert_eq!(client.create_topic(&topic, 1).expect("create"), 0);
    assert_eq!(
        client
            .create_topic_with_config(&forever, 1, &[("retention.ms", "-1")])
            .expect("create"),
        0
    );
    let now = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock after 1970")
            .as_millis(),
    )
    .expect("ms fit");
    // Two days old, then fresh: the first segment expires, the second stays.
    produce_at(&mut client, &topic, &["old1", "old2"], now - 48 * 3_600_000);
    produce_at(&mut client, &topic, &["new"], now);
    produce_at(&mut client, &forever, &["ancient"], 1_000);
    wait_for_segment_files(&agent, 2);

    let earliest = client.list_offsets(&topic, 0, -2).expect("list offsets");
    assert_eq!(
        earliest.offset, 2,
        "the log now starts after the expired records"
    );
    let at_zero = client.fetch(&topic, 0, 0, 0).expect("fetch at 0");
    assert_eq!(
        (
            at_zero.error_code,
            at_zero.log_start_offset,
            at_zero.high_watermark
        ),
        (1, 2, 3),
        "OFFSET_OUT_OF_RANGE with the new bounds"
    );
    let kept = client.fetch(&topic, 0, 2, 0).expect("fetch at 2");
    assert_eq!(
        values(&records::decode(kept.records.as_ref()).expect("decode")),
        vec!["new"]
    );
    let (ancient, _) = client.fetch_all(&forever, 0, 1).expect("fetch forever");
    assert_eq!(
        values(&ancient),
        vec!["ancient"],
        "retention.ms=-1 keeps everything"
    );
}

#[test]
fn records_past_the_size_retention_go_with_their_segments() {
    let dir = tempfile::tempdir().expect("tempdir");
    // 2,500 bytes per partition by default (`log.retention.bytes`); the
    // second topic keeps everything with its own retention.bytes.
    let agent = agent(
        dir.path(),
        "retention_check_interval_ms = 100\ndefault_retention_bytes = 2500\n",
    );
    let (topic, forever) = (unique_topic("sized"), unique_topic("unsized"));
    let mut client = RawClient::connect(agent.kafka_addr()).expect("connect");
    assert_eq!(client.create_topic(&topic, 1).expect("create"), 0);
    assert_eq!(
        client
            .create_topic_with_config(&forever, 1, &[("retention.bytes", "-1")])
            .expect("create"),
        0
    );
    // Five batches of one 1,000-byte record each (about 1,070 bytes a
    // batch), each its own segment. Retention keeps the newest rows while
    // what is left stays at least 2,500 bytes: the last three.
    let payloads: Vec<String> = (0..5).map(|i| format!("{i}").repeat(1_000)).collect();
    for value in &payloads {
        produce(&mut client, &topic, &[value]);
    }
    produce(&mut client, &forever, &[&payloads[0]]);
    produce(&mut client, &forever, &[&payloads[1]]);
    produce(&mut client, &forever, &[&payloads[2]]);
    wait_for_segment_files(&agent, 6);

    let earliest = client.list_offsets(&topic, 0, -2).expect("list offsets");
    assert_eq!(earliest.offset, 2, "the two oldest batches went");
    let kept = client.fetch(&topic, 0, 2, 0).expect("fetch at 2");
    assert_eq!(
        values(&records::decode(kept.records.as_ref()).expect("decode")),
        payloads[2..].to_vec()
    );
    let (all, _) = client.fetch_all(&forever, 0, 3).expect("fetch forever");
    assert_eq!(values(&all).len(), 3, "retention.bytes=-1 keeps everything");

    // Lowered on the topic itself, it applies at the next pass.
    let altered = client
        .alter_config(2, &topic, "retention.bytes", Some("1000"))
        .expect("alter");
    assert_eq!(altered, 0);
    wait_for_segment_files(&agent, 4);
    assert_eq!(client.list_offsets(&topic, 0, -2).expect("list").offset, 4);
}

#[test]
fn a_crash_between_put_and_commit_leaves_an_orphan_that_the_sweep_deletes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("floe.toml");
    let settings = |extra: &str| {
        let text = format!(
            "segment_gc_interval_ms = 100\nsegment_gc_grace_ms = 1000\n\
             commit_retry_window_ms = 0\n{extra}"
        );
        std::fs::write(&config, text).expect("write config");
    };
    settings("orphan_sweep_interval_ms = 100\n");
    let mut agent = Agent::builder()
        .arg("--config")
        .arg(config.to_str().expect("utf-8 path"))
        .start()
        .expect("start agent");
    let topic = unique_topic("orphaned");
    let mut client = RawClient::connect(agent.kafka_addr()).expect("connect");
    assert_eq!(client.create_topic(&topic, 1).expect("create"), 0);
    produce(&mut client, &topic, &["kept"]);
    wait_for_segment_files(&agent, 1);

    // From now on commits hang: the next flush uploads its segment and the
    // agent dies before the commit lands. (The sweep waits an hour here, so
    // only the crash decides.)
    settings("orphan_sweep_interval_ms = 3600000\nfault_injection = \"commit_hang=1.0\"\n");
    agent.restart().expect("restart with hanging commits");
    let addr = agent.kafka_addr();
    let lost_topic = topic.clone();
    let producer = std::thread::spawn(move || {
        let mut client = RawClient::connect(addr).expect("connect");
        let batch = records::simple_batch(&["lost"], 1_700_000_000_000).expect("batch");
        // Never answered: the agent is killed mid-commit.
        let _ = client.produce_one(&lost_topic, 0, batch);
    });
    wait_for_segment_files(&agent, 2);
    agent.kill().expect("SIGKILL");
    let _ = producer.join();

    // Restarted without faults: the object no commit knows is deleted once
    // older than the grace, and the committed one stays.
    settings("orphan_sweep_interval_ms = 100\n");
    agent.restart().expect("restart");
    wait_for_segment_files(&agent, 1);
    agent
        .wait_for_metric(
            "floe_job_items_total{job=\"orphan_sweep\"}",
            1.0,
            Duration::from_secs(10),
        )
        .expect("the sweep counted the orphan");
    let mut client = RawClient::connect(agent.kafka_addr()).expect("connect");
    let (kept, _) = client.fetch_all(&topic, 0, 1).expect("fetch");
    assert_eq!(values(&kept), vec!["kept"]);
    let bounds = client.list_offsets(&topic, 0, -1).expect("list offsets");
    assert_eq!(bounds.offset, 1, "the lost record was never committed");
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(agent.segment_files(), 1, "the committed segment stays");
}

#[test]
fn deleted_records_go_with_their_segments() {
    let dir = tempfile::tempdir().expect("tempdir");
    let agent = agent(dir.path(), "");
    let mut client = RawClient::connect(agent.kafka_addr()).expect("connect");
    let topic = unique_topic("deleted-records");
    assert_eq!(client.create_topic(&topic, 1).expect("create"), 0);
    // Three segments: offsets 0-1, 2-3, 4-5.
    produce(&mut client, &topic, &["a", "b"]);
    produce(&mut client, &topic, &["c", "d"]);
    produce(&mut client, &topic, &["e", "f"]);
    wait_for_segment_files(&agent, 3);

    let request = DeleteRecordsRequest::default()
        .with_topics(vec![
            DeleteRecordsTopic::default()
                .with_name(floe_tests::raw::topic_name(&topic))
                .with_partitions(vec![
                    DeleteRecordsPartition::default()
                        .with_partition_index(0)
                        .with_offset(4),
                ]),
        ])
        .with_timeout_ms(30_000);
    let response = client.request(2, &request).expect("delete records");
    let answer = &response.topics[0].partitions[0];
    assert_eq!((answer.error_code, answer.low_watermark), (0, 4));

    // The two segments only the deleted records used are collected; what
    // remains reads as before, and below the start is out of range.
    wait_for_segment_files(&agent, 1);
    let earliest = client.list_offsets(&topic, 0, -2).expect("list offsets");
    assert_eq!(earliest.offset, 4);
    let below = client.fetch(&topic, 0, 1, 0).expect("fetch");
    assert_eq!(below.error_code, ResponseError::OffsetOutOfRange.code());
    assert_eq!(below.log_start_offset, 4);
    let kept = client.fetch(&topic, 0, 4, 0).expect("fetch");
    assert_eq!(kept.error_code, 0);
    assert_eq!(
        values(&records::decode(kept.records.as_ref()).expect("decode")),
        vec!["e", "f"]
    );
}
