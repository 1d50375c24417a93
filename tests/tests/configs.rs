//! Topic and broker configs end to end: DescribeConfigs, AlterConfigs and
//! IncrementalAlterConfigs through real clients and raw frames, CreateTopics
//! refusing bad configs, and the configs the agent honours
//! (`max.message.bytes`, `message.timestamp.type=LogAppendTime`,
//! `retention.ms` altered on a live topic), on one agent and across two
//! agents sharing Postgres.

use floe_tests::agent::Agent;
use floe_tests::cluster::{Cluster, broker_view};
use floe_tests::python;
use floe_tests::raw::RawClient;
use floe_tests::records::simple_batch;
use floe_tests::unique_topic;
use kafka_protocol::messages::describe_configs_request::DescribeConfigsResource;
use kafka_protocol::messages::incremental_alter_configs_request::{
    AlterConfigsResource, AlterableConfig,
};
use kafka_protocol::messages::{
    DescribeConfigsRequest, DescribeConfigsResponse, IncrementalAlterConfigsRequest,
    ListConfigResourcesRequest,
};
use kafka_protocol::protocol::StrBytes;

const TOPIC: i8 = 2;
const BROKER: i8 = 4;
const CONFIG_SOURCE_TOPIC: i8 = 1;
const CONFIG_SOURCE_DYNAMIC_DEFAULT: i8 = 3;
const CONFIG_SOURCE_DEFAULT: i8 = 5;
const INVALID_REQUEST: i16 = 42;
const UNKNOWN_TOPIC_OR_PARTITION: i16 = 3;
const MESSAGE_TOO_LARGE: i16 = 10;
const UNSUPPORTED_VERSION: i16 = 35;

fn describe(
    client: &mut RawClient,
    version: i16,
    resource_type: i8,
    name: &str,
    keys: Option<&[&str]>,
) -> DescribeConfigsResponse {
    let resource = DescribeConfigsResource::default()
        .with_resource_type(resource_type)
        .with_resource_name(StrBytes::from_string(name.to_string()))
        .with_configuration_keys(keys.map(|k| {
            k.iter()
                .map(|s| StrBytes::from_string(s.to_string()))
                .collect()
        }));
    let req = DescribeConfigsRequest::default()
        .with_resources(vec![resource])
        .with_include_synonyms(true)
        .with_include_documentation(version >= 3);
    client.request(version, &req).expect("describe configs")
}

/// IncrementalAlterConfigs of one config: SET to `value`, or DELETE.
fn alter(
    client: &mut RawClient,
    resource_type: i8,
    resource: &str,
    name: &str,
    value: Option<&str>,
) -> i16 {
    client
        .alter_config(resource_type, resource, name, value)
        .expect("incremental alter configs")
}

fn set_topic_config(client: &mut RawClient, topic: &str, name: &str, value: &str) -> i16 {
    alter(client, TOPIC, topic, name, Some(value))
}

/// Produces `batch` on `client` until its answer is `code` (another agent's
/// change reaches this one within a heartbeat interval).
fn produce_until(client: &mut RawClient, topic: &str, batch: &bytes::Bytes, code: i16) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let answer = client
            .produce_one(topic, 0, batch.clone())
            .expect("produce");
        if answer.error_code == code {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still {} instead of {code}",
            answer.error_code
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

#[test]
fn confluent_admin_describes_alters_and_the_agent_honours_configs() {
    let agent = Agent::builder()
        .env("FLOE_RETENTION_CHECK_INTERVAL_MS", "100")
        .start()
        .expect("start agent");
    python::run_script(
        "configs.py",
        &agent.bootstrap(),
        &[&unique_topic("cf-configs")],
    )
    .expect("configs.py");
}

#[test]
fn kafka_python_admin_describes_and_alters_configs() {
    let agent = Agent::start().expect("start agent");
    python::run_script(
        "kafka_python_configs.py",
        &agent.bootstrap(),
        &[&unique_topic("kp-configs")],
    )
    .expect("kafka_python_configs.py");
}

/// Every served version answers with what that version carries: types and
/// documentation from v3, the keys asked for only, synonyms in order.
#[test]
fn describe_configs_answers_every_version() {
    let agent = Agent::start().expect("start agent");
    let mut client = RawClient::connect(agent.kafka_addr()).expect("connect");
    let topic = unique_topic("raw-describe");
    assert_eq!(client.create_topic(&topic, 1).expect("create"), 0);
    assert_eq!(
        set_topic_config(&mut client, &topic, "retention.ms", "1000"),
        0
    );
    for version in 1..=4 {
        let resp = describe(
            &mut client,
            version,
            TOPIC,
            &topic,
            Some(&["retention.ms", "segment.bytes"]),
        );
        let result = &resp.results[0];
        assert_eq!(result.error_code, 0, "v{version}");
        let names: Vec<&str> = result.configs.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["retention.ms", "segment.bytes"], "v{version}");
        let retention = &result.configs[0];
        assert_eq!(retention.value.as_deref(), Some("1000"));
        assert_eq!(retention.config_source, CONFIG_SOURCE_TOPIC);
        let synonyms: Vec<(&str, i8)> = retention
            .synonyms
            .iter()
            .map(|s| (s.name.as_str(), s.source))
            .collect();
        assert_eq!(
            synonyms,
            // No default synonym: Kafka has no default for
            // log.retention.ms (it falls back to log.retention.hours).
            [("retention.ms", CONFIG_SOURCE_TOPIC)]
        );
        let segment = &result.configs[1];
        assert_eq!(segment.value.as_deref(), Some("1073741824"));
        assert_eq!(segment.config_source, CONFIG_SOURCE_DEFAULT);
        if version >= 3 {
            assert_eq!(retention.config_type, 5, "LONG");
            assert_eq!(segment.config_type, 3, "INT");
            assert!(
                retention
                    .documentation
                    .as_deref()
                    .is_some_and(|d| !d.is_empty())
            );
        }
    }
    // A resource naming one config twice is refused whole, as in Kafka.
    let twice = |value: &str| {
        AlterableConfig::default()
            .with_name(StrBytes::from_static_str("retention.ms"))
            .with_config_operation(0)
            .with_value(Some(StrBytes::from_string(value.to_string())))
    };
    let duplicated = IncrementalAlterConfigsRequest::default().with_resources(vec![
        AlterConfigsResource::default()
            .with_resource_type(TOPIC)
            .with_resource_name(StrBytes::from_string(topic.clone()))
            .with_configs(vec![twice("7"), twice("8")]),
    ]);
    let refused = client.request(1, &duplicated).expect("alter twice");
    assert_eq!(refused.responses[0].error_code, INVALID_REQUEST);
    let kept = describe(&mut client, 4, TOPIC, &topic, Some(&["retention.ms"]));
    assert_eq!(kept.results[0].configs[0].value.as_deref(), Some("1000"));

    let missing = describe(&mut client, 4, TOPIC, &format!("{topic}-missing"), None);
    assert_eq!(missing.results[0].error_code, UNKNOWN_TOPIC_OR_PARTITION);
    let stranger = describe(&mut client, 4, BROKER, "987654", None);
    assert_eq!(stranger.results[0].error_code, INVALID_REQUEST);
    // The cluster default resource holds the dynamic defaults: none set.
    let defaults = describe(&mut client, 4, BROKER, "", None);
    assert_eq!(defaults.results[0].error_code, 0);
    assert!(defaults.results[0].configs.is_empty());
}

/// ListConfigResources lists every topic and this agent under v1, the
/// types asked for only; an unknown type fails the request as in Kafka.
#[test]
fn list_config_resources_lists_topics_and_agents() {
    let agent = Agent::start().expect("start agent");
    let mut client = RawClient::connect(agent.kafka_addr()).expect("connect");
    let topic = unique_topic("listed");
    assert_eq!(client.create_topic(&topic, 1).expect("create"), 0);
    let node = broker_view(agent.kafka_addr()).expect("metadata").node_id;

    let all = client
        .request(1, &ListConfigResourcesRequest::default())
        .expect("list config resources");
    assert_eq!(all.error_code, 0);
    let listed: Vec<(i8, String)> = all
        .config_resources
        .iter()
        .map(|r| (r.resource_type, r.resource_name.to_string()))
        .collect();
    assert_eq!(listed, [(TOPIC, topic.clone()), (BROKER, node.to_string())]);

    let brokers = client
        .request(
            1,
            &ListConfigResourcesRequest::default().with_resource_types(vec![BROKER]),
        )
        .expect("list brokers");
    assert_eq!(brokers.config_resources.len(), 1);
    assert_eq!(brokers.config_resources[0].resource_type, BROKER);

    let unknown = client
        .request(
            1,
            &ListConfigResourcesRequest::default().with_resource_types(vec![99]),
        )
        .expect("list an unknown type");
    assert_eq!(unknown.error_code, UNSUPPORTED_VERSION);
    assert!(unknown.config_resources.is_empty());

    // v0 lists client-metrics subscriptions only: Floe has none.
    let v0 = client
        .request(0, &ListConfigResourcesRequest::default())
        .expect("list v0");
    assert_eq!(v0.error_code, 0);
    assert!(v0.config_resources.is_empty());
}

/// An alter through one agent reaches another agent that had the topic
/// cached: its DescribeConfigs and its Produce path both see the new
/// value (the altering agent forgets at once, the other on NOTIFY).
#[test]
fn two_agents_on_postgres_see_an_alter_made_through_the_other() {
    let cluster = Cluster::builder("configs")
        .agents(2)
        .start()
        .expect("start cluster");
    let mut a = RawClient::connect(cluster.agent(0).kafka_addr()).expect("connect a");
    let mut b = RawClient::connect(cluster.agent(1).kafka_addr()).expect("connect b");
    let topic = unique_topic("alter-seen");
    assert_eq!(a.create_topic(&topic, 1).expect("create"), 0);

    // b caches the topic, with its default max.message.bytes, and takes a
    // 4 KiB record.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64;
    let large = simple_batch(&[&"x".repeat(4096)], now).expect("encode");
    let small = simple_batch(&["small"], now).expect("encode");
    let produced = b
        .produce_one(&topic, 0, large.clone())
        .expect("produce on b");
    assert_eq!(produced.error_code, 0);
    let before = describe(&mut b, 4, TOPIC, &topic, Some(&["max.message.bytes"]));
    assert_eq!(
        before.results[0].configs[0].value.as_deref(),
        Some("1048588")
    );

    assert_eq!(
        set_topic_config(&mut a, &topic, "max.message.bytes", "1024"),
        0
    );

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let now = describe(&mut b, 4, TOPIC, &topic, Some(&["max.message.bytes"]));
        if now.results[0].configs[0].value.as_deref() == Some("1024") {
            assert_eq!(now.results[0].configs[0].config_source, CONFIG_SOURCE_TOPIC);
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "agent b never saw the alter"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let refused = b
        .produce_one(&topic, 0, large.clone())
        .expect("produce on b again");
    assert_eq!(
        refused.error_code, MESSAGE_TOO_LARGE,
        "b honours the altered max.message.bytes"
    );
    let taken = b.produce_one(&topic, 0, small).expect("produce small on b");
    assert_eq!(taken.error_code, 0);
    assert_eq!(taken.base_offset, 1, "the refused batch took no offset");

    // A dynamic broker default set through a reaches b: a topic without a
    // max.message.bytes of its own takes message.max.bytes from it.
    let other = unique_topic("dynamic-default");
    assert_eq!(a.create_topic(&other, 1).expect("create"), 0);
    produce_until(&mut b, &other, &large, 0);
    assert_eq!(
        alter(&mut a, BROKER, "", "message.max.bytes", Some("2048")),
        0
    );
    produce_until(&mut b, &other, &large, MESSAGE_TOO_LARGE);
    let defaults = describe(&mut b, 4, BROKER, "", None);
    let entries: Vec<(&str, Option<&str>, i8)> = defaults.results[0]
        .configs
        .iter()
        .map(|c| (c.name.as_str(), c.value.as_deref(), c.config_source))
        .collect();
    assert_eq!(
        entries,
        [(
            "message.max.bytes",
            Some("2048"),
            CONFIG_SOURCE_DYNAMIC_DEFAULT
        )]
    );
    let topic_view = describe(&mut b, 4, TOPIC, &other, Some(&["max.message.bytes"]));
    let entry = &topic_view.results[0].configs[0];
    assert_eq!(entry.value.as_deref(), Some("2048"));
    assert_eq!(entry.config_source, CONFIG_SOURCE_DYNAMIC_DEFAULT);
    // Per-agent changes are refused: Floe's dynamic configs are cluster-wide.
    let node = cluster.view(1).expect("metadata of b").node_id;
    assert_eq!(
        alter(
            &mut b,
            BROKER,
            &node.to_string(),
            "message.max.bytes",
            Some("1")
        ),
        INVALID_REQUEST
    );
    // Static settings stay static.
    assert_eq!(
        alter(&mut a, BROKER, "", "num.partitions", Some("3")),
        INVALID_REQUEST
    );
    assert_eq!(alter(&mut a, BROKER, "", "message.max.bytes", None), 0);
    produce_until(&mut b, &other, &large, 0);
}
