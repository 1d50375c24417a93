//! Client quotas end to end (KIP-546 APIs, KIP-219 throttling): Kafka's own
//! `kafka-configs.sh` sets and describes them, AlterClientQuotas refuses what
//! Kafka refuses with Kafka's codes (and the same codes as a Kafka broker),
//! raw Produce and Fetch answers carry `throttle_time_ms` over a quota (and 0
//! otherwise) and the connection is muted for that long, a quota set through
//! one agent is enforced by another, and real clients (rdkafka in process) are
//! held to their byte rates while a client without a quota is left alone.

#[path = "quotas/clients.rs"]
mod clients;
#[path = "quotas/mutation.rs"]
mod mutation;

use std::time::{Duration, Instant};

use floe_tests::differential;
use floe_tests::kafka_cli::tools;
use floe_tests::quotas::{
    MATCH_DEFAULT, MATCH_EXACT, MATCH_SPECIFIED, alter, component, describe, entry, request_as,
};
use floe_tests::raw::{self, RawClient, versions};
use floe_tests::{Agent, Cluster, KafkaTools, records, unique_topic};
use kafka_protocol::messages::{
    ApiVersionsRequest, DescribeClusterRequest, FetchRequest, FindCoordinatorRequest,
    MetadataRequest, ProduceRequest,
};

const INVALID_REQUEST: i16 = 42;

fn values(pairs: &[(&str, f64)]) -> Vec<(String, f64)> {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

fn entity(pairs: &[(&str, Option<&str>)]) -> Vec<(String, Option<String>)> {
    pairs
        .iter()
        .map(|(t, n)| (t.to_string(), n.map(str::to_string)))
        .collect()
}

/// Set, describe with each match type and `strict`, remove, validate only.
#[test]
fn quotas_are_altered_and_described_as_kafka_does() {
    let agent = Agent::start().expect("agent");
    let mut client = RawClient::connect(agent.kafka_addr()).expect("connect");
    let outcomes = alter(
        &mut client,
        vec![
            entry(
                &[("client-id", Some("c1"))],
                &[("producer_byte_rate", Some(1048576.0))],
            ),
            entry(
                &[("client-id", None)],
                &[("consumer_byte_rate", Some(2048.0))],
            ),
            entry(
                &[("user", Some("alice")), ("client-id", Some("c1"))],
                &[
                    ("request_percentage", Some(12.5)),
                    ("controller_mutation_rate", Some(3.0)),
                ],
            ),
            entry(&[("user", None)], &[("producer_byte_rate", Some(4096.0))]),
        ],
        false,
    )
    .expect("alter");
    assert_eq!(outcomes, vec![(0, None); 4]);

    let exact = describe(
        &mut client,
        vec![component("client-id", MATCH_EXACT, Some("c1"))],
        false,
    )
    .expect("describe")
    .expect("no error");
    assert_eq!(
        exact,
        vec![
            (
                entity(&[("client-id", Some("c1"))]),
                values(&[("producer_byte_rate", 1048576.0)])
            ),
            (
                entity(&[("client-id", Some("c1")), ("user", Some("alice"))]),
                values(&[
                    ("controller_mutation_rate", 3.0),
                    ("request_percentage", 12.5)
                ])
            ),
        ]
    );
    let strict = describe(
        &mut client,
        vec![component("client-id", MATCH_EXACT, Some("c1"))],
        true,
    )
    .expect("describe")
    .expect("no error");
    assert_eq!(
        strict.len(),
        1,
        "strict leaves out entities with a user: {strict:?}"
    );
    let defaults = describe(
        &mut client,
        vec![component("client-id", MATCH_DEFAULT, None)],
        false,
    )
    .expect("describe")
    .expect("no error");
    assert_eq!(
        defaults,
        vec![(
            entity(&[("client-id", None)]),
            values(&[("consumer_byte_rate", 2048.0)])
        )]
    );
    let users = describe(
        &mut client,
        vec![component("user", MATCH_SPECIFIED, None)],
        false,
    )
    .expect("describe")
    .expect("no error");
    assert_eq!(users.len(), 2, "the default user and alice: {users:?}");
    let all = describe(&mut client, vec![], false)
        .expect("describe")
        .expect("no error");
    assert_eq!(all.len(), 4);

    // validate_only changes nothing; removals drop keys, then entities.
    let checked = alter(
        &mut client,
        vec![entry(
            &[("client-id", Some("c2"))],
            &[("producer_byte_rate", Some(1.0))],
        )],
        true,
    )
    .expect("alter");
    assert_eq!(checked, vec![(0, None)]);
    let removed = alter(
        &mut client,
        vec![
            entry(
                &[("client-id", Some("c1"))],
                &[("producer_byte_rate", None)],
            ),
            entry(
                &[("user", None)],
                &[("producer_byte_rate", None), ("consumer_byte_rate", None)],
            ),
        ],
        false,
    )
    .expect("alter");
    assert_eq!(removed, vec![(0, None); 2]);
    let all = describe(&mut client, vec![], false)
        .expect("describe")
        .expect("no error");
    let entities: Vec<_> = all.iter().map(|(e, _)| e.clone()).collect();
    assert_eq!(
        entities,
        vec![
            entity(&[("client-id", None)]),
            entity(&[("client-id", Some("c1")), ("user", Some("alice"))]),
        ]
    );
}

/// What a broker answers to one refusal per rule: AlterClientQuotas outcomes by
/// entity (code and message), and the codes of bad DescribeClientQuotas filters.
type Refusals = (Vec<(String, i16, Option<String>)>, Vec<i16>);

/// The refusals of AlterClientQuotas and DescribeClientQuotas, one per rule, each
/// on its own entry so the others still apply.
fn refusals(addr: std::net::SocketAddr) -> Refusals {
    let mut client = RawClient::connect(addr).expect("connect");
    let c = |name| [("client-id", Some(name))];
    let mut alterations = floe_tests::quotas::alter_by_entity(
        &mut client,
        vec![
            entry(&c("ok"), &[("producer_byte_rate", Some(1024.0))]),
            entry(&c("unknown-key"), &[("producer_byte_rat", Some(1.0))]),
            entry(&c("negative"), &[("consumer_byte_rate", Some(-5.0))]),
            entry(&c("zero"), &[("request_percentage", Some(0.0))]),
            entry(&c("fraction"), &[("producer_byte_rate", Some(1.5))]),
            entry(&[], &[("producer_byte_rate", Some(1.0))]),
            entry(
                &[("group", Some("g"))],
                &[("producer_byte_rate", Some(1.0))],
            ),
            entry(&c(""), &[("producer_byte_rate", Some(1.0))]),
            entry(
                &c("dup-key"),
                &[
                    ("producer_byte_rate", Some(1.0)),
                    ("producer_byte_rate", Some(2.0)),
                ],
            ),
            entry(&c("remove-unknown-key"), &[("no_such_key", None)]),
        ],
        false,
    )
    .expect("alter");
    alterations.sort();
    let mut filter_codes = Vec::new();
    for components in [
        vec![component("", MATCH_EXACT, Some("x"))],
        vec![component("user", MATCH_EXACT, None)],
        vec![component("user", MATCH_DEFAULT, Some("x"))],
        vec![component("user", MATCH_SPECIFIED, Some("x"))],
        vec![component("user", 9, None)],
        vec![
            component("user", MATCH_DEFAULT, None),
            component("user", MATCH_SPECIFIED, None),
        ],
        vec![
            component("ip", MATCH_DEFAULT, None),
            component("client-id", MATCH_DEFAULT, None),
        ],
        vec![component("group", MATCH_DEFAULT, None)],
    ] {
        let response =
            floe_tests::quotas::describe_raw(&mut client, components, false).expect("describe");
        filter_codes.push(response.error_code);
    }
    (alterations, filter_codes)
}

#[test]
fn invalid_alterations_and_filters_get_kafkas_codes() {
    let agent = Agent::start().expect("agent");
    let (alterations, filters) = refusals(agent.kafka_addr());
    let i = INVALID_REQUEST;
    let codes: Vec<(&str, i16)> = alterations
        .iter()
        .map(|(entity, code, _)| (entity.as_str(), *code))
        .collect();
    assert_eq!(
        codes,
        vec![
            ("", i),
            ("client-id=", i),
            ("client-id=dup-key", i),
            ("client-id=fraction", i),
            ("client-id=negative", i),
            ("client-id=ok", 0),
            ("client-id=remove-unknown-key", 0),
            ("client-id=unknown-key", i),
            ("client-id=zero", i),
            ("group=g", i),
        ]
    );
    assert_eq!(filters, vec![i, i, i, i, i, i, i, 35]);
}

/// The same refusals against Apache Kafka: the same codes and messages.
#[test]
fn refusals_match_the_kafka_reference_broker() {
    let Some((kafka, floe)) = differential::both("quota refusals", refusals) else {
        return;
    };
    assert_eq!(floe, kafka);
}

/// Kafka's `kafka-configs.sh` sets, describes and deletes client and user quotas.
#[test]
fn kafka_configs_sets_and_describes_quotas() {
    let Some(kafka) = KafkaTools::from_env_or_skip("kafka_configs_sets_and_describes_quotas")
    else {
        return;
    };
    let agent = Agent::start().expect("agent");
    let bootstrap = agent.bootstrap();
    let run = |args: &[&str]| {
        let mut all = vec!["--bootstrap-server", bootstrap.as_str()];
        all.extend_from_slice(args);
        match kafka.run_ok(tools::CONFIGS, &all, b"") {
            Ok(output) => output.stdout,
            Err(error) => panic!("{error:#}"),
        }
    };
    let out = run(&[
        "--alter",
        "--add-config",
        "producer_byte_rate=1048576,consumer_byte_rate=2097152",
        "--entity-type",
        "clients",
        "--entity-name",
        "c1",
    ]);
    assert!(
        out.contains("Completed updating config for client c1."),
        "{out}"
    );
    let out = run(&[
        "--alter",
        "--add-config",
        "request_percentage=50",
        "--entity-type",
        "users",
        "--entity-default",
    ]);
    assert!(
        out.contains("Completed updating default config for users"),
        "{out}"
    );
    let out = run(&[
        "--describe",
        "--entity-type",
        "clients",
        "--entity-name",
        "c1",
    ]);
    assert!(
        out.contains("Quota configs for client-id 'c1' are")
            && out.contains("producer_byte_rate=1048576.0")
            && out.contains("consumer_byte_rate=2097152.0"),
        "{out}"
    );
    let out = run(&["--describe", "--entity-type", "users", "--entity-default"]);
    assert!(
        out.contains("Quota configs for the default user-principal are request_percentage=50.0"),
        "{out}"
    );
    let out = run(&[
        "--alter",
        "--delete-config",
        "producer_byte_rate",
        "--entity-type",
        "clients",
        "--entity-name",
        "c1",
    ]);
    assert!(
        out.contains("Completed updating config for client c1."),
        "{out}"
    );
    let out = run(&[
        "--describe",
        "--entity-type",
        "clients",
        "--entity-name",
        "c1",
    ]);
    assert!(
        out.contains("consumer_byte_rate=2097152.0") && !out.contains("producer_byte_rate"),
        "{out}"
    );
    // What the tool wrote is what a raw describe reads.
    let mut client = RawClient::connect(agent.kafka_addr()).expect("connect");
    let described = describe(
        &mut client,
        vec![component("client-id", MATCH_EXACT, Some("c1"))],
        true,
    )
    .expect("describe")
    .expect("no error");
    assert_eq!(
        described,
        vec![(
            entity(&[("client-id", Some("c1"))]),
            values(&[("consumer_byte_rate", 2097152.0)])
        )]
    );
}

/// A Produce of `values` to partition 0 of `topic` as `client_id`: the throttle
/// time answered, after checking the produce succeeded.
fn produce_as(client: &mut RawClient, client_id: &str, topic: &str, values: &[&str]) -> i32 {
    let batch = records::simple_batch(values, 1_700_000_000_000).expect("batch");
    let request: ProduceRequest = raw::produce_request(topic, vec![(0, batch)], -1);
    let response = request_as(client, client_id, versions::PRODUCE, &request).expect("produce");
    let code = response.responses[0].partition_responses[0].error_code;
    assert_eq!(code, 0, "produce as {client_id}");
    response.throttle_time_ms
}

/// A Fetch of partition 0 of `topic` from offset 0 as `client_id`: the throttle
/// time and the bytes of records answered.
fn fetch_as(client: &mut RawClient, client_id: &str, topic: &str) -> (i32, usize) {
    use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
    let request = FetchRequest::default()
        .with_replica_id((-1).into())
        .with_max_wait_ms(100)
        .with_min_bytes(1)
        .with_max_bytes(1 << 20)
        .with_session_epoch(-1)
        .with_topics(vec![
            FetchTopic::default()
                .with_topic(raw::topic_name(topic))
                .with_partitions(vec![
                    FetchPartition::default()
                        .with_fetch_offset(0)
                        .with_current_leader_epoch(-1)
                        .with_last_fetched_epoch(-1)
                        .with_log_start_offset(-1)
                        .with_partition_max_bytes(1 << 20),
                ]),
        ]);
    let response = request_as(client, client_id, versions::FETCH, &request).expect("fetch");
    let partition = &response.responses[0].partitions[0];
    assert_eq!(partition.error_code, 0, "fetch as {client_id}");
    let bytes = partition.records.as_ref().map_or(0, |r| r.len());
    (response.throttle_time_ms, bytes)
}

/// Raw frames: `throttle_time_ms` is set in Produce and Fetch answers over a quota,
/// 0 for a client without one, and the throttled connection reads nothing more until
/// the throttle time is over.
#[test]
fn throttle_time_is_answered_over_quota_and_the_connection_muted() {
    let agent = Agent::start().expect("agent");
    let topic = unique_topic("quota-raw");
    let mut admin = RawClient::connect(agent.kafka_addr()).expect("connect");
    assert_eq!(admin.create_topic(&topic, 1).expect("create"), 0);
    let quota = [
        ("producer_byte_rate", Some(1024.0)),
        ("consumer_byte_rate", Some(1024.0)),
    ];
    let outcome = alter(
        &mut admin,
        vec![entry(&[("client-id", Some("slow"))], &quota)],
        false,
    )
    .expect("alter");
    assert_eq!(outcome, vec![(0, None)]);
    let kb = "x".repeat(1000);
    let three_kb = [kb.as_str(); 3];

    let mut free = RawClient::connect(agent.kafka_addr()).expect("connect");
    for _ in 0..3 {
        assert_eq!(produce_as(&mut free, "fast", &topic, &three_kb), 0);
    }
    let (throttle, bytes) = fetch_as(&mut free, "fast", &topic);
    assert_eq!(throttle, 0, "no quota, no throttle");
    assert!(bytes > 9000, "{bytes} bytes fetched");

    // 3 KB against 1 KB/s: about two seconds to fall back under the quota.
    let mut slow = RawClient::connect(agent.kafka_addr()).expect("connect");
    let sent = Instant::now();
    let throttle = produce_as(&mut slow, "slow", &topic, &three_kb);
    assert!(
        (2000..=3000).contains(&throttle),
        "produce throttle {throttle} ms"
    );
    // Muted: the next request is read only once the throttle time is over.
    request_as(&mut slow, "slow", 3, &ApiVersionsRequest::default()).expect("api versions");
    let waited = sent.elapsed();
    assert!(
        waited >= Duration::from_millis(throttle as u64),
        "answered {waited:?} after the throttled produce, throttle {throttle} ms"
    );

    let mut reader = RawClient::connect(agent.kafka_addr()).expect("connect");
    let (throttle, bytes) = fetch_as(&mut reader, "slow", &topic);
    assert!(
        bytes > 9000,
        "the data is answered with the throttle: {bytes} bytes"
    );
    assert!(
        throttle > 5000,
        "fetch throttle {throttle} ms for {bytes} bytes at 1 KB/s"
    );

    let metrics = agent.metrics().expect("metrics");
    for kind in ["produce", "fetch"] {
        let line = format!("floe_quota_throttled_requests_total{{kind=\"{kind}\"}} 1");
        assert!(metrics.contains(&line), "{line} in:\n{metrics}");
    }
}

/// `request_percentage`: the time spent handling a client's requests counts against
/// it, and its throttle is capped at one window (1 s), as Kafka caps it.
#[test]
fn request_time_is_held_to_request_percentage() {
    let agent = Agent::start().expect("agent");
    let topic = unique_topic("quota-request-time");
    let mut admin = RawClient::connect(agent.kafka_addr()).expect("connect");
    assert_eq!(admin.create_topic(&topic, 1).expect("create"), 0);
    // A thousandth of a percent of a thread: 10 µs of handling per second.
    let outcome = alter(
        &mut admin,
        vec![entry(
            &[("client-id", Some("busy"))],
            &[("request_percentage", Some(0.001))],
        )],
        false,
    )
    .expect("alter");
    assert_eq!(outcome, vec![(0, None)]);
    let mut busy = RawClient::connect(agent.kafka_addr()).expect("connect");
    let mut throttle = 0;
    for _ in 0..20 {
        throttle = produce_as(&mut busy, "busy", &topic, &["v"]);
        if throttle > 0 {
            break;
        }
    }
    assert!(
        (1..=1000).contains(&throttle),
        "request-time throttle {throttle} ms"
    );
    let mut idle = RawClient::connect(agent.kafka_addr()).expect("connect");
    assert_eq!(produce_as(&mut idle, "not-busy", &topic, &["v"]), 0);
}

/// A quota altered through one agent is enforced by another within a few seconds.
#[test]
fn a_quota_set_through_one_agent_is_enforced_by_another() {
    let cluster = Cluster::builder("quotas-two-agents")
        .agents(2)
        .start()
        .expect("cluster");
    let topic = unique_topic("quota-spread");
    let mut first = RawClient::connect(cluster.agent(0).kafka_addr()).expect("connect");
    assert_eq!(first.create_topic(&topic, 1).expect("create"), 0);
    let mut second = RawClient::connect(cluster.agent(1).kafka_addr()).expect("connect");
    let kb = "y".repeat(1000);
    let values = [kb.as_str(); 4];
    assert_eq!(produce_as(&mut second, "tenant", &topic, &values), 0);
    let outcome = alter(
        &mut first,
        vec![entry(
            &[("client-id", None)],
            &[("producer_byte_rate", Some(1024.0))],
        )],
        false,
    )
    .expect("alter");
    assert_eq!(outcome, vec![(0, None)]);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        // A fresh connection each time, so a mute does not hold the loop.
        let mut conn = RawClient::connect(cluster.agent(1).kafka_addr()).expect("connect");
        let throttle = produce_as(&mut conn, "tenant", &topic, &values);
        if throttle > 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the second agent never enforced the default client quota"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_producer_is_held_to_its_quota_and_another_keeps_its_latency() {
    clients::producer_held_to_quota();
}

#[test]
fn a_consumer_is_held_to_its_quota() {
    clients::consumer_held_to_quota();
}

/// `controller_mutation_rate` with raw frames: strict versions refuse the topics
/// that do not fit with THROTTLING_QUOTA_EXCEEDED and a throttle time, older ones
/// are let through and throttled, another client id is left alone.
#[test]
fn controller_mutations_are_held_to_their_rate() {
    let agent = Agent::start().expect("agent");
    assert_eq!(mutation::scenario(agent.kafka_addr()), mutation::expected());

    // The throttle time is the time the bucket takes to climb back to zero:
    // 0.11 tokens less 2 partitions, at 0.01 per second, is 189 s.
    let addr = agent.kafka_addr();
    mutation::set_mutation_rate(addr, "timed", 0.01);
    let (a, b) = (unique_topic("timed-a"), unique_topic("timed-b"));
    let (results, throttle) = mutation::create(addr, "timed", 7, &[(&a, 2), (&b, 1)]);
    assert_eq!(results[1].0, mutation::THROTTLING_QUOTA_EXCEEDED);
    assert!(
        (150_000..=189_000).contains(&throttle),
        "throttle {throttle} ms"
    );
    // The refused topic does not exist; the accepted one does.
    let mut client = RawClient::connect(addr).expect("connect");
    let metadata = client
        .metadata(Some(&[a.as_str(), b.as_str()]), false)
        .expect("metadata");
    let codes: Vec<i16> = metadata.topics.iter().map(|t| t.error_code).collect();
    assert_eq!(codes, vec![0, 3], "{a} created, {b} not");

    let metrics = agent.metrics().expect("metrics");
    let line = "floe_quota_throttled_requests_total{kind=\"mutation\"}";
    assert!(metrics.contains(line), "{line} in:\n{metrics}");
}

/// The same mutations against Apache Kafka: the same codes, messages and throttles.
#[test]
fn controller_mutations_match_the_kafka_reference_broker() {
    let Some((kafka, floe)) = differential::both("mutation quota", mutation::scenario) else {
        return;
    };
    assert_eq!(kafka, mutation::expected(), "Kafka's answers");
    assert_eq!(floe, kafka);
}

/// `request_percentage` on every API: once a client is over its request-time
/// quota, Metadata, ApiVersions, DescribeCluster and FindCoordinator answers carry
/// the throttle time (at most one window), and the connection is muted for it.
#[test]
fn every_api_answers_the_request_time_throttle() {
    let agent = Agent::start().expect("agent");
    let mut admin = RawClient::connect(agent.kafka_addr()).expect("connect");
    // A thousandth of a percent of a thread: 10 µs of handling per second.
    let outcome = alter(
        &mut admin,
        vec![entry(
            &[("client-id", Some("busy"))],
            &[("request_percentage", Some(0.001))],
        )],
        false,
    )
    .expect("alter");
    assert_eq!(outcome, vec![(0, None)]);
    let mut busy = RawClient::connect(agent.kafka_addr()).expect("connect");
    let mut throttle = 0;
    for _ in 0..20 {
        let metadata =
            request_as(&mut busy, "busy", 12, &MetadataRequest::default()).expect("metadata");
        throttle = metadata.throttle_time_ms;
        if throttle > 0 {
            break;
        }
    }
    assert!(
        (1..=1000).contains(&throttle),
        "metadata throttle {throttle} ms"
    );
    let sent = Instant::now();
    let versions =
        request_as(&mut busy, "busy", 3, &ApiVersionsRequest::default()).expect("api versions");
    assert!(
        sent.elapsed() >= Duration::from_millis(throttle as u64),
        "muted for the throttle time: answered after {:?}",
        sent.elapsed()
    );
    assert_eq!(versions.error_code, 0);
    assert!(
        (1..=1000).contains(&versions.throttle_time_ms),
        "api versions throttle {} ms",
        versions.throttle_time_ms
    );
    let cluster = request_as(&mut busy, "busy", 0, &DescribeClusterRequest::default())
        .expect("describe cluster");
    assert!(
        (1..=1000).contains(&cluster.throttle_time_ms),
        "describe cluster throttle {} ms",
        cluster.throttle_time_ms
    );
    let coordinator = request_as(
        &mut busy,
        "busy",
        4,
        &FindCoordinatorRequest::default().with_coordinator_keys(vec![differential::s("g")]),
    )
    .expect("find coordinator");
    assert!(
        (1..=1000).contains(&coordinator.throttle_time_ms),
        "find coordinator throttle {} ms",
        coordinator.throttle_time_ms
    );
    // Another client id on the same agent is not throttled.
    let mut idle = RawClient::connect(agent.kafka_addr()).expect("connect");
    let metadata =
        request_as(&mut idle, "idle", 12, &MetadataRequest::default()).expect("metadata");
    assert_eq!(metadata.throttle_time_ms, 0);
}

/// The Java admin client under a mutation quota, on Apache Kafka and on Floe: a
/// topic refused for longer than the admin's timeout fails with
/// ThrottlingQuotaExceededException whether it retries or not, and one refused for
/// a second is created once the admin has waited out the throttle and retried.
#[test]
fn the_java_admin_sees_the_mutation_quota_as_on_kafka() {
    let Some(classpath) = floe_tests::kafka_cli::classpath_or_skip("java admin mutation quota")
    else {
        return;
    };
    let Some(kafka) = floe_tests::kafka_ref::shared("java admin mutation quota") else {
        return;
    };
    let refused = || {
        vec![
            "created".to_string(),
            "ThrottlingQuotaExceededException".into(),
        ]
    };
    let expected = vec![
        ("retry, throttled 189 s", refused()),
        ("no retry, throttled 1 s", refused()),
        (
            "retry, throttled 1 s",
            vec!["created".to_string(), "created".into()],
        ),
    ];
    let on_kafka = mutation::java_scenario(&classpath, kafka.addr());
    assert_eq!(on_kafka, expected, "on Apache Kafka");
    let agent = Agent::start().expect("agent");
    assert_eq!(
        mutation::java_scenario(&classpath, agent.kafka_addr()),
        expected,
        "on Floe"
    );
}
