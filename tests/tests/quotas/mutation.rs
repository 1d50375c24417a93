//! `controller_mutation_rate` (KIP-599) with raw frames: CreateTopics,
//! CreatePartitions and DeleteTopics charge the partitions they create or
//! delete; the versions that know THROTTLING_QUOTA_EXCEEDED are refused once
//! the client's bucket is empty, older ones are let through and throttled.
//! The same scenario runs against Apache Kafka, whose answers must be the
//! same.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use floe_tests::quotas::{MATCH_EXACT, alter, component, describe, entry, request_as};
use floe_tests::raw::{RawClient, topic_name};
use floe_tests::unique_topic;
use kafka_protocol::messages::create_partitions_request::CreatePartitionsTopic;
use kafka_protocol::messages::create_topics_request::CreatableTopic;
use kafka_protocol::messages::delete_topics_request::DeleteTopicState;
use kafka_protocol::messages::{CreatePartitionsRequest, CreateTopicsRequest, DeleteTopicsRequest};

pub const THROTTLING_QUOTA_EXCEEDED: i16 = 89;

/// Per topic, the error code and message.
pub type Results = Vec<(i16, Option<String>)>;
/// The results and the throttle time answered.
pub type Outcome = (Results, i32);
/// A step of the scenario: its name, its results, whether it was throttled.
pub type Step = (&'static str, Results, bool);

/// Sets `controller_mutation_rate` of `client_id` and waits until the broker
/// describes it (Kafka applies quotas through its metadata log, a moment after
/// AlterClientQuotas answers).
pub fn set_mutation_rate(addr: SocketAddr, client_id: &str, rate: f64) {
    let mut admin = RawClient::connect(addr).expect("connect");
    let outcome = alter(
        &mut admin,
        vec![entry(
            &[("client-id", Some(client_id))],
            &[("controller_mutation_rate", Some(rate))],
        )],
        false,
    )
    .expect("alter");
    assert_eq!(outcome, vec![(0, None)]);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let described = describe(
            &mut admin,
            vec![component("client-id", MATCH_EXACT, Some(client_id))],
            false,
        )
        .expect("describe")
        .expect("no error");
        if !described.is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "the quota is never described");
        std::thread::sleep(Duration::from_millis(100));
    }
    // The controller applies the quota as it replays the same record.
    std::thread::sleep(Duration::from_secs(1));
}

/// CreateTopics at `version` of `topics` (name, partitions), as `client_id`,
/// on a connection of its own (a throttled connection is muted).
pub fn create(addr: SocketAddr, client_id: &str, version: i16, topics: &[(&str, i32)]) -> Outcome {
    let request = CreateTopicsRequest::default()
        .with_topics(
            topics
                .iter()
                .map(|(name, partitions)| {
                    CreatableTopic::default()
                        .with_name(topic_name(name))
                        .with_num_partitions(*partitions)
                        .with_replication_factor(1)
                })
                .collect(),
        )
        .with_timeout_ms(10_000);
    let mut client = RawClient::connect(addr).expect("connect");
    let response = request_as(&mut client, client_id, version, &request).expect("CreateTopics");
    let results = response
        .topics
        .iter()
        .map(|t| {
            (
                t.error_code,
                t.error_message.as_ref().map(|m| m.to_string()),
            )
        })
        .collect();
    (results, response.throttle_time_ms)
}

/// CreatePartitions at `version` growing `topic` to `count`.
pub fn grow(addr: SocketAddr, client_id: &str, version: i16, topic: &str, count: i32) -> Outcome {
    let request = CreatePartitionsRequest::default()
        .with_topics(vec![
            CreatePartitionsTopic::default()
                .with_name(topic_name(topic))
                .with_count(count)
                .with_assignments(None),
        ])
        .with_timeout_ms(10_000);
    let mut client = RawClient::connect(addr).expect("connect");
    let response = request_as(&mut client, client_id, version, &request).expect("CreatePartitions");
    let results = response
        .results
        .iter()
        .map(|t| {
            (
                t.error_code,
                t.error_message.as_ref().map(|m| m.to_string()),
            )
        })
        .collect();
    (results, response.throttle_time_ms)
}

/// DeleteTopics at `version` of `topic`.
pub fn delete(addr: SocketAddr, client_id: &str, version: i16, topic: &str) -> Outcome {
    let mut request = DeleteTopicsRequest::default().with_timeout_ms(10_000);
    if version >= 6 {
        request.topics = vec![DeleteTopicState::default().with_name(Some(topic_name(topic)))];
    } else {
        request.topic_names = vec![topic_name(topic)];
    }
    let mut client = RawClient::connect(addr).expect("connect");
    let response = request_as(&mut client, client_id, version, &request).expect("DeleteTopics");
    let results = response
        .responses
        .iter()
        .map(|t| {
            (
                t.error_code,
                t.error_message.as_ref().map(|m| m.to_string()),
            )
        })
        .collect();
    (results, response.throttle_time_ms)
}

/// The scenario: a client allowed 0.01 partition per second (a bucket of
/// 0.11 tokens: Kafka's 11 windows of 1 s) creates, grows and deletes topics
/// with strict and permissive versions. Each step's answers, with the throttle
/// time reduced to whether there was one (it counts down as time passes).
pub fn scenario(addr: SocketAddr) -> Vec<Step> {
    let client_id = unique_topic("mutator");
    set_mutation_rate(addr, &client_id, 0.01);
    let (a, b, c, d) = (
        unique_topic("mut-a"),
        unique_topic("mut-b"),
        unique_topic("mut-c"),
        unique_topic("mut-d"),
    );
    let mut steps = Vec::new();
    let mut step = |name, (results, throttle): Outcome| {
        steps.push((name, results, throttle > 0));
    };
    // The bucket is full: `a` takes it below zero, `b` is refused.
    step(
        "create v7",
        create(addr, &client_id, 7, &[(&a, 2), (&b, 1)]),
    );
    // Permissive: created, throttled.
    step("create v5", create(addr, &client_id, 5, &[(&c, 1)]));
    step("grow v3", grow(addr, &client_id, 3, &c, 2));
    step("grow v2", grow(addr, &client_id, 2, &c, 2));
    step("delete v6", delete(addr, &client_id, 6, &a));
    step("delete v4", delete(addr, &client_id, 4, &a));
    // Another client id has no quota.
    step(
        "create v7 without a quota",
        create(addr, &unique_topic("free"), 7, &[(&d, 4)]),
    );
    steps
}

/// What the scenario must answer.
pub fn expected() -> Vec<Step> {
    // Kafka 4.4 sends no message with THROTTLING_QUOTA_EXCEEDED.
    let refused = || (THROTTLING_QUOTA_EXCEEDED, None);
    vec![
        ("create v7", vec![(0, None), refused()], true),
        ("create v5", vec![(0, None)], true),
        ("grow v3", vec![refused()], true),
        ("grow v2", vec![(0, None)], true),
        ("delete v6", vec![refused()], true),
        ("delete v4", vec![(0, None)], true),
        ("create v7 without a quota", vec![(0, None)], false),
    ]
}

/// The Java admin client (`tests/clients/java/MutationQuota.java`, run from source
/// on Kafka's classpath) creating `topics` (name, partitions) as `client_id`, with
/// `retryOnQuotaViolation` set to `retry`: per topic, "created" or the exception.
pub fn java_admin(
    classpath: &str,
    addr: SocketAddr,
    client_id: &str,
    retry: bool,
    topics: &[(&str, i32)],
) -> Vec<String> {
    let source = floe_tests::clients::clients_dir().join("java/MutationQuota.java");
    let mut java = std::process::Command::new("java");
    java.args(floe_tests::kafka_cli::java_args(classpath, "256m"))
        .arg(&source)
        .arg(addr.to_string())
        .arg(client_id)
        .arg(retry.to_string());
    for (name, partitions) in topics {
        java.arg(format!("{name}:{partitions}"));
    }
    let output = floe_tests::process::run(java, b"", Duration::from_secs(120))
        .expect("run the Java admin")
        .ensure_success()
        .expect("the Java admin exits 0");
    output.stdout.lines().map(str::to_string).collect()
}

/// The Java admin under the quota: a bucket the first topic empties for longer than
/// the admin's timeout, the same with the default retries, and one it empties for a
/// second, which the admin waits out and retries.
pub fn java_scenario(classpath: &str, addr: SocketAddr) -> Vec<(&'static str, Vec<String>)> {
    let mut outcomes = Vec::new();
    for (step, rate, retry, first) in [
        ("retry, throttled 189 s", 0.01, true, 2),
        ("no retry, throttled 1 s", 1.0, false, 12),
        ("retry, throttled 1 s", 1.0, true, 12),
    ] {
        let client_id = unique_topic("java-mutator");
        set_mutation_rate(addr, &client_id, rate);
        let (a, b) = (unique_topic("java-a"), unique_topic("java-b"));
        outcomes.push((
            step,
            java_admin(classpath, addr, &client_id, retry, &[(&a, first), (&b, 1)]),
        ));
    }
    outcomes
}
