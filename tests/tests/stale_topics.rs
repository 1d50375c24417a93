//! Topic ids cached by one agent do not outlive the topic: deleted and
//! created again through another agent, a topic is answered with its new id
//! and partitions, and produced to, by the agent that had cached the old one
//! (Postgres tells it through `NOTIFY`; a commit that finds the old id gone
//! drops it too).

use std::thread;
use std::time::{Duration, Instant};

use floe_tests::records;
use floe_tests::{Cluster, RawClient, unique_topic};

/// How long the notification may take before the test fails: a guard
/// against a hang, not a latency requirement.
const NOTIFY_BOUND: Duration = Duration::from_secs(15);

fn one_record(value: &str) -> bytes::Bytes {
    records::simple_batch(&[value], 1_000).expect("encode a batch")
}

/// The topic's id and partition count as agent `client` answers Metadata.
fn described(client: &mut RawClient, topic: &str) -> (uuid::Uuid, usize) {
    let response = client.metadata(Some(&[topic]), false).expect("metadata");
    let t = &response.topics[0];
    assert_eq!(t.error_code, 0, "metadata of {topic}");
    (t.topic_id, t.partitions.len())
}

#[test]
fn topic_recreated_through_another_agent_is_seen_with_its_new_id() {
    let cluster = Cluster::builder("stale-topics")
        .agents(2)
        .start()
        .expect("start cluster");
    let mut a = RawClient::connect(cluster.agent(0).kafka_addr()).expect("connect a");
    let mut b = RawClient::connect(cluster.agent(1).kafka_addr()).expect("connect b");
    let topic = unique_topic("recreated");

    assert_eq!(a.create_topic(&topic, 1).expect("create"), 0);
    let written = a
        .produce_one(&topic, 0, one_record("old"))
        .expect("produce");
    assert_eq!((written.error_code, written.base_offset), (0, 0));
    let (old_id, _) = described(&mut a, &topic);

    // Deleted and created again, with three partitions, through agent b.
    assert_eq!(b.delete_topic_at(6, &topic).expect("delete"), 0);
    assert_eq!(b.create_topic(&topic, 3).expect("recreate"), 0);
    let (new_id, partitions) = described(&mut b, &topic);
    assert_ne!(new_id, old_id);
    assert_eq!(partitions, 3);

    // Agent a drops the id it cached and answers with the new topic.
    let deadline = Instant::now() + NOTIFY_BOUND;
    while described(&mut a, &topic) != (new_id, 3) {
        assert!(
            Instant::now() < deadline,
            "agent a still answers {:?} for the recreated topic\n{}",
            described(&mut a, &topic),
            cluster.logs()
        );
        thread::sleep(Duration::from_millis(50));
    }
    // And writes go to the new topic, from offset 0, on every partition.
    for partition in 0..3 {
        let written = a
            .produce_one(&topic, partition, one_record("new"))
            .expect("produce");
        assert_eq!(
            (written.error_code, written.base_offset),
            (0, 0),
            "partition {partition}"
        );
    }
}
