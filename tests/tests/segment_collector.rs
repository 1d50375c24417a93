//! The segment collector: once a topic is deleted, the objects of the
//! segments that held only its data are deleted, and the other topic's
//! segment stays and reads as before. (That a segment shared by two topics
//! stays while either has rows is in the metadata contract suite.)

use std::path::Path;
use std::time::{Duration, Instant};

use floe_tests::records::{self, TestRecord};
use floe_tests::{Agent, RawClient, unique_topic};

/// Segment files under the local object store of `agent`.
fn segment_files(agent: &Agent) -> usize {
    fn count(dir: &Path) -> usize {
        std::fs::read_dir(dir).map_or(0, |entries| {
            entries
                .flatten()
                .map(|e| {
                    let path = e.path();
                    if path.is_dir() {
                        count(&path)
                    } else {
                        usize::from(path.extension().is_some_and(|x| x == "seg"))
                    }
                })
                .sum()
        })
    }
    count(&agent.data_dir().join("objects/segments"))
}

fn produce(client: &mut RawClient, topic: &str, values: &[&str]) {
    let batch = records::simple_batch(values, 1_700_000_000_000).expect("batch");
    let produced = client.produce_one(topic, 0, batch).expect("produce");
    assert_eq!(produced.error_code, 0, "produce to {topic}");
}

fn values(records: &[TestRecord]) -> Vec<String> {
    records
        .iter()
        .map(|r| String::from_utf8_lossy(r.value.as_deref().unwrap_or_default()).into_owned())
        .collect()
}

#[test]
fn deleting_a_topic_deletes_the_segments_only_it_used() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("floe.toml");
    std::fs::write(
        &config,
        "segment_gc_interval_ms = 100\nsegment_gc_grace_ms = 0\n",
    )
    .expect("write config");
    let agent = Agent::builder()
        .arg("--config")
        .arg(config.to_str().expect("utf-8 path"))
        .start()
        .expect("start agent");
    let (doomed, kept) = (unique_topic("gc-doomed"), unique_topic("gc-kept"));
    let mut client = RawClient::connect(agent.kafka_addr()).expect("connect");
    for topic in [&doomed, &kept] {
        assert_eq!(client.create_topic(topic, 1).expect("create"), 0);
    }
    // Each produce is acknowledged after its own flush: one segment each.
    produce(&mut client, &doomed, &["d1", "d2"]);
    produce(&mut client, &kept, &["k1"]);
    produce(&mut client, &doomed, &["d3"]);
    assert_eq!(segment_files(&agent), 3);

    assert_eq!(client.delete_topic_at(6, &doomed).expect("delete"), 0);
    let deadline = Instant::now() + Duration::from_secs(30);
    while segment_files(&agent) > 1 {
        assert!(
            Instant::now() < deadline,
            "{} segment files left\n{}",
            segment_files(&agent),
            agent.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        agent
            .metric("floe_segments_collected_total")
            .expect("metrics"),
        Some(2.0)
    );
    let (read, _) = client.fetch_all(&kept, 0, 1).expect("fetch kept");
    assert_eq!(values(&read), vec!["k1"]);
    // Nothing else goes: the last segment is still in use.
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(segment_files(&agent), 1);
}
