//! Scaling under load, as an autoscaler does it: a fourth agent joins three while an
//! idempotent producer writes (it is given partitions and receives produce traffic,
//! and the application sees no error), then one of the first agents is sent SIGTERM
//! (it leaves, drains and exits; nothing acknowledged is lost and the application
//! again sees no error). Prints how long the new agent took to receive load.

use std::time::{Duration, Instant};

use floe_tests::cluster::{self, read_topic, topic_leaders};
use floe_tests::load::{BackgroundProducer, ProducerOptions, verify_exactly_once};
use floe_tests::{Cluster, unique_topic};

const PARTITIONS: i32 = 12;
const RECORDS: usize = 6000;
const RATE: u32 = 500;
/// How long the producer may take to get going, and the new agent to get traffic.
const PROGRESS_BOUND: Duration = Duration::from_secs(60);
/// How long the agents may take to list a joining or leaving agent.
const MEMBERSHIP_BOUND: Duration = Duration::from_secs(30);

#[test]
fn agents_added_and_removed_under_load_cost_the_application_nothing() {
    let mut cluster = Cluster::builder("scale")
        .agents(3)
        .start()
        .expect("start cluster");
    let topic = unique_topic("scale");
    cluster::create_topic(cluster.agent(0).kafka_addr(), &topic, PARTITIONS).expect("create");
    let producer = BackgroundProducer::start(
        &cluster.bootstrap_all(),
        &topic,
        ProducerOptions::new("s", RECORDS, PARTITIONS)
            .idempotent(true)
            .rate(RATE),
    )
    .expect("start producer");
    producer
        .wait_acked(RECORDS / 6, PROGRESS_BOUND)
        .expect("load under way");

    // Scale out: a fourth agent starts, is listed, is given partitions, gets traffic.
    let started = Instant::now();
    let new = cluster.add_agent().expect("start a fourth agent");
    let ready_after = started.elapsed();
    let all: Vec<usize> = (0..4).collect();
    let listed_after = cluster
        .wait_for_brokers(&all, &all, MEMBERSHIP_BOUND)
        .expect("every agent lists the new one");
    let new_addr = cluster.bootstrap(new);
    let leaders = topic_leaders(cluster.agent(0).kafka_addr(), &topic).expect("leaders");
    let owned = leaders
        .values()
        .filter(|leader| **leader == new_addr)
        .count();
    assert!(
        owned > 0,
        "the new agent leads none of {PARTITIONS} partitions: {leaders:?}"
    );
    let receiving_after = loop {
        let bytes = cluster
            .agent(new)
            .metric("floe_produce_bytes_total")
            .expect("metrics of the new agent")
            .unwrap_or(0.0);
        if bytes > 0.0 {
            break started.elapsed();
        }
        assert!(
            started.elapsed() < PROGRESS_BOUND,
            "the new agent received no produce bytes within {PROGRESS_BOUND:?}\n{}",
            cluster.logs()
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    eprintln!(
        "scale out (times from the new agent's process start): ready {ready_after:?}, \
         listed by every agent {:?}, first produce bytes {receiving_after:?}; it leads \
         {owned} of {PARTITIONS} partitions",
        ready_after + listed_after
    );

    // Scale in: SIGTERM to agent 0 while the producer still writes.
    let acked_before = producer.acked();
    cluster
        .agent_mut(0)
        .stop()
        .expect("SIGTERM: leave, drain, flush, exit 0");
    let remaining: Vec<usize> = (1..4).collect();
    cluster
        .wait_for_brokers(&remaining, &remaining, MEMBERSHIP_BOUND)
        .expect("the others stop listing agent 0");
    let report = producer.finish().expect("producer");
    assert!(
        report.acked.len() > acked_before,
        "the producer went on after the SIGTERM"
    );
    assert!(
        report.failed.is_empty() && report.fatal.is_empty(),
        "the application saw errors: failed {:?}, fatal {:?}",
        report.failed.first(),
        report.fatal
    );
    report
        .ensure_all_acked()
        .expect("every record acknowledged");
    let log = read_topic(cluster.agent(1).kafka_addr(), &topic, PARTITIONS).expect("read");
    let verified = verify_exactly_once(&log, &[&report]).expect("nothing lost or doubled");
    assert_eq!(verified.acked, RECORDS);
}
