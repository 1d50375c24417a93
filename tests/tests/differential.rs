//! Differential tests: the same raw requests against Apache Kafka 4.x (the reference,
//! one KRaft broker shared by this binary) and against Floe (a fresh `floe serve` on
//! the embedded default, auto-creation off, four partitions per topic as Kafka's
//! `num.partitions` here), comparing what comes back field by field.
//!
//! Each scenario also checks a few of Kafka's answers outright, so a scenario that
//! stopped exercising anything cannot pass by comparing two empty answers.
//!
//! Intended differences, left out of every comparison (and listed in
//! `docs/compatibility.md` under "Differences from Apache Kafka"):
//! - node ids, hosts, ports, cluster ids: each side names itself;
//! - leader epochs: Floe has no leader elections and answers epoch 0 or -1;
//! - member ids: Kafka's are `client-id-UUID`, Floe's have their own form; only
//!   whether one was given is compared;
//! - replication: Kafka checks a replication factor against its one broker, Floe
//!   stores nothing per replica (see `create_topics_errors`);
//! - error messages: only codes are compared, the texts differ;
//! - the high watermark and log start offset of a partition whose Fetch failed with
//!   OFFSET_OUT_OF_RANGE: Kafka sends -1, Floe the real bounds so a client can apply
//!   its reset policy without another round trip (clients ignore both on errors).
//!
//! The shared helpers are in `tests/src/differential.rs`.
//!
//! Without `FLOE_KAFKA_CLASSPATH` (set by `scripts/test.sh`) every test prints why and
//! returns.

use std::net::SocketAddr;

use floe_tests::differential::{
    OFFSET_FETCH, both, code, create, create_code, describe_group, join_summary, join_with,
    produce_ok, s, two_member_rebalance,
};
use floe_tests::groups::RawGroupClient;
use floe_tests::raw::{self, RawClient, topic_name};
use floe_tests::records::{self, TestRecord};
use floe_tests::unique_topic;
use kafka_protocol::messages::describe_configs_request::DescribeConfigsResource;
use kafka_protocol::messages::offset_fetch_request::OffsetFetchRequestTopic;
use kafka_protocol::messages::{
    ApiKey, DescribeConfigsRequest, DescribeQuorumRequest, GroupId, OffsetFetchRequest,
    describe_quorum_request,
};
use kafka_protocol::protocol::{Encodable, StrBytes};
use kafka_protocol::records::Compression;

#[test]
fn unknown_topic_errors() {
    let Some((kafka, floe)) = both("unknown_topic_errors", |addr| {
        let topic = unique_topic("missing");
        let mut client = RawClient::connect(addr).expect("connect");
        let metadata = client.metadata(Some(&[&topic]), false).expect("Metadata");
        let metadata_code = metadata.topics.first().expect("a topic").error_code;
        let batch = records::simple_batch(&["v"], 1_000).expect("batch");
        let produce = client
            .produce(&topic, vec![(0, batch)], -1)
            .expect("Produce");
        let produce_codes: Vec<i16> = produce.iter().map(|p| p.error_code).collect();
        let list = client.list_offsets(&topic, 0, -1).expect("ListOffsets");
        let fetch = client.fetch(&topic, 0, 0, 0).expect("Fetch");
        // Metadata still does not list it: nothing above created it.
        let again = client.metadata(Some(&[&topic]), false).expect("Metadata");
        let again_code = again.topics.first().expect("a topic").error_code;
        (
            metadata_code,
            produce_codes,
            list.error_code,
            fetch.error_code,
            again_code,
        )
    }) else {
        return;
    };
    let unknown = code::UNKNOWN_TOPIC_OR_PARTITION;
    assert_eq!(kafka, (unknown, vec![unknown], unknown, unknown, unknown));
    assert_eq!(floe, kafka, "Floe (left) against Kafka (right)");
}

#[test]
fn missing_partitions_and_bad_names() {
    let Some((kafka, floe)) = both("missing_partitions_and_bad_names", |addr| {
        let topic = unique_topic("one-partition");
        create(addr, &topic, 1);
        let mut client = RawClient::connect(addr).expect("connect");
        let list = client.list_offsets(&topic, 9, -1).expect("ListOffsets");
        let fetch = client.fetch(&topic, 9, 0, 0).expect("Fetch");
        let bad = "bad name!";
        let metadata = client.metadata(Some(&[bad]), true).expect("Metadata");
        let metadata_code = metadata.topics.first().expect("a topic").error_code;
        let batch = records::simple_batch(&["v"], 1_000).expect("batch");
        let produce = client.produce(bad, vec![(0, batch)], -1).expect("Produce");
        let produce_codes: Vec<i16> = produce.iter().map(|p| p.error_code).collect();
        (
            list.error_code,
            fetch.error_code,
            metadata_code,
            produce_codes,
        )
    }) else {
        return;
    };
    assert_eq!(
        kafka.0,
        code::UNKNOWN_TOPIC_OR_PARTITION,
        "Kafka's answers: {kafka:?}"
    );
    assert_eq!(floe, kafka, "Floe (left) against Kafka (right)");
}

#[test]
fn produce_errors() {
    let Some((kafka, floe)) = both("produce_errors", |addr| {
        let topic = unique_topic("produce-errors");
        create(addr, &topic, 1);
        let mut client = RawClient::connect(addr).expect("connect");
        let batch = records::simple_batch(&["v"], 1_000).expect("batch");
        let bad_acks = client
            .produce(&topic, vec![(0, batch.clone())], 2)
            .expect("Produce acks=2");
        let bad_partition = client
            .produce(&topic, vec![(7, batch.clone())], -1)
            .expect("Produce to partition 7");
        // Nothing above was stored: the next record still gets offset 0.
        let good = client.produce_one(&topic, 0, batch).expect("Produce");
        (
            bad_acks.iter().map(|p| p.error_code).collect::<Vec<_>>(),
            bad_partition
                .iter()
                .map(|p| (p.index, p.error_code))
                .collect::<Vec<_>>(),
            (good.error_code, good.base_offset),
        )
    }) else {
        return;
    };
    assert_eq!(
        kafka,
        (
            vec![code::INVALID_REQUIRED_ACKS],
            vec![(7, code::UNKNOWN_TOPIC_OR_PARTITION)],
            (code::NONE, 0)
        )
    );
    assert_eq!(floe, kafka, "Floe (left) against Kafka (right)");
}

#[test]
fn offsets_after_produce() {
    let Some((kafka, floe)) = both("offsets_after_produce", |addr| {
        let topic = unique_topic("offsets");
        create(addr, &topic, 2);
        let mut client = RawClient::connect(addr).expect("connect");
        let mut answers = Vec::new();
        for (partition, values) in [
            (0, vec!["a"]),
            (0, vec!["b", "c", "d"]),
            (1, vec!["x", "y"]),
            (0, vec!["e", "f"]),
        ] {
            let batch = records::simple_batch(&values, 1_000).expect("batch");
            let response = client
                .produce_one(&topic, partition, batch)
                .expect("Produce");
            answers.push((
                partition,
                response.error_code,
                response.base_offset,
                response.log_append_time_ms,
            ));
        }
        let ends: Vec<i64> = (0..2)
            .map(|p| {
                client
                    .list_offsets(&topic, p, -1)
                    .expect("ListOffsets")
                    .offset
            })
            .collect();
        (answers, ends)
    }) else {
        return;
    };
    assert_eq!(
        kafka.1,
        vec![6, 2],
        "Kafka's end offsets; its answers: {kafka:?}"
    );
    assert_eq!(floe, kafka, "Floe (left) against Kafka (right)");
}

/// Produce v5+ reports the partition's log start offset: 0 on a fresh partition, the
/// new start after DeleteRecords moved it.
#[test]
fn produce_reports_log_start_offset() {
    let Some((kafka, floe)) = both("produce_reports_log_start_offset", |addr| {
        let topic = unique_topic("log-start");
        create(addr, &topic, 1);
        let mut client = RawClient::connect(addr).expect("connect");
        let mut answers = Vec::new();
        for (round, values) in [["a", "b"], ["c", "d"]].iter().enumerate() {
            if round == 1 {
                let moved = client.delete_records(&topic, 0, 1).expect("DeleteRecords");
                assert_eq!(moved, (code::NONE, 1), "DeleteRecords");
            }
            let batch = records::simple_batch(values, 1_000).expect("batch");
            let response = client.produce_one(&topic, 0, batch).expect("Produce");
            answers.push((
                response.error_code,
                response.base_offset,
                response.log_start_offset,
            ));
        }
        answers
    }) else {
        return;
    };
    assert_eq!(kafka, vec![(code::NONE, 0, 0), (code::NONE, 2, 1)]);
    assert_eq!(floe, kafka, "Floe (left) against Kafka (right)");
}

/// Produce is advertised from v0 (librdkafka before 2.8 compresses with gzip and snappy
/// only then: KAFKA-18659) but v0–2 are refused: the connection closes.
#[test]
fn produce_advertised_from_v0_and_old_versions_refused() {
    let Some((kafka, floe)) = both("produce_advertised_from_v0", |addr| {
        let mut client = RawClient::connect(addr).expect("connect");
        let advertised = client.api_versions(3).expect("ApiVersions");
        let lowest = advertised
            .api_keys
            .iter()
            .find(|k| k.api_key == ApiKey::Produce as i16)
            .map(|k| k.min_version);
        let mut frame = bytes::BytesMut::new();
        raw::header(ApiKey::Produce as i16, 2, client.next_correlation_id())
            .encode(&mut frame, 1)
            .expect("encode header");
        client.send_frame(&frame).expect("send");
        (lowest, client.expect_closed().is_ok())
    }) else {
        return;
    };
    assert_eq!(kafka, (Some(0), true), "Kafka");
    assert_eq!(floe, kafka, "Floe (left) against Kafka (right)");
}

/// What a DescribeQuorum answer shows once ids are reduced to how they relate: per
/// partition (topic, index, error, whether the leader is a voter, voters, observers,
/// whether every voter has an endpoint in `nodes`), and the high watermark apart.
type QuorumSummary = (i16, Vec<(String, i32, i16, bool, usize, usize, bool)>);

fn describe_quorum(addr: SocketAddr, topic: &str, partitions: &[i32]) -> (QuorumSummary, i64) {
    let mut client = RawClient::connect(addr).expect("connect");
    let request = DescribeQuorumRequest::default().with_topics(vec![
        describe_quorum_request::TopicData::default()
            .with_topic_name(topic_name(topic))
            .with_partitions(
                partitions
                    .iter()
                    .map(|p| {
                        describe_quorum_request::PartitionData::default().with_partition_index(*p)
                    })
                    .collect(),
            ),
    ]);
    let response = client.request(2, &request).expect("DescribeQuorum");
    let node_ids: Vec<i32> = response.nodes.iter().map(|n| n.node_id.0).collect();
    let mut high_watermark = None;
    let partitions = response
        .topics
        .iter()
        .flat_map(|t| t.partitions.iter().map(move |p| (t, p)))
        .map(|(t, p)| {
            let voters: Vec<i32> = p.current_voters.iter().map(|v| v.replica_id.0).collect();
            high_watermark.get_or_insert(p.high_watermark);
            (
                t.topic_name.0.to_string(),
                p.partition_index,
                p.error_code,
                voters.contains(&p.leader_id.0),
                voters.len(),
                p.observers.len(),
                voters.iter().all(|v| node_ids.contains(v)),
            )
        })
        .collect();
    (
        (response.error_code, partitions),
        high_watermark.unwrap_or(i64::MIN),
    )
}

/// DescribeQuorum of the metadata log: one voter (Kafka's one combined node, Floe's one
/// agent) leading, no observers, its endpoint listed; any other partition is
/// UNKNOWN_TOPIC_OR_PARTITION. The high watermark is an intended difference: Kafka's
/// metadata log has offsets, Floe's is the metadata store's own and answers -1.
#[test]
fn describe_quorum_of_the_metadata_log() {
    let Some((kafka, floe)) = both("describe_quorum_of_the_metadata_log", |addr| {
        (
            describe_quorum(addr, "__cluster_metadata", &[0]),
            describe_quorum(addr, "__cluster_metadata", &[1]).0,
            describe_quorum(addr, "no-such-log", &[0]).0,
        )
    }) else {
        return;
    };
    let log = "__cluster_metadata".to_string();
    assert_eq!(
        kafka.0.0,
        (
            code::NONE,
            vec![(log.clone(), 0, code::NONE, true, 1, 0, true)]
        ),
        "Kafka"
    );
    assert!(kafka.0.1 > 0, "Kafka's high watermark {}", kafka.0.1);
    assert_eq!(floe.0.1, -1, "Floe's high watermark");
    assert_eq!(
        kafka.1.1,
        vec![(log, 1, code::UNKNOWN_TOPIC_OR_PARTITION, false, 0, 0, true)],
        "Kafka, another partition"
    );
    assert_eq!(
        (&floe.0.0, &floe.1, &floe.2),
        (&kafka.0.0, &kafka.1, &kafka.2),
        "Floe (left) against Kafka (right)"
    );
}

/// One described config: name, value, source, type, synonyms (name, value, source).
type ConfigSummary = (
    String,
    Option<String>,
    i8,
    i8,
    Vec<(String, Option<String>, i8)>,
);

/// DescribeConfigs v4 (synonyms) of one resource: its error code and configs sorted by
/// name, and the configs' read-only flags apart.
fn describe_resource(
    addr: SocketAddr,
    kind: i8,
    name: &str,
) -> (i16, Vec<ConfigSummary>, Vec<bool>) {
    let mut client = RawClient::connect(addr).expect("connect");
    let request = DescribeConfigsRequest::default()
        .with_resources(vec![
            DescribeConfigsResource::default()
                .with_resource_type(kind)
                .with_resource_name(s(name)),
        ])
        .with_include_synonyms(true);
    let response = client.request(4, &request).expect("DescribeConfigs");
    let result = response.results.first().expect("a result");
    let mut configs: Vec<(ConfigSummary, bool)> = result
        .configs
        .iter()
        .map(|c| {
            let text = |v: &Option<StrBytes>| v.as_ref().map(|v| v.to_string());
            (
                (
                    c.name.to_string(),
                    text(&c.value),
                    c.config_source,
                    c.config_type,
                    c.synonyms
                        .iter()
                        .map(|y| (y.name.to_string(), text(&y.value), y.source))
                        .collect(),
                ),
                c.read_only,
            )
        })
        .collect();
    configs.sort_by(|a, b| a.0.0.cmp(&b.0.0));
    let (configs, read_only) = configs.into_iter().unzip();
    (result.error_code, configs, read_only)
}

/// DescribeConfigs of a GROUP and of a CLIENT_METRICS resource: Kafka lists, for any
/// name, KIP-848's consumer, share and streams group configs at their defaults (each
/// with the broker config it defaults to as synonym) and a subscription's fields;
/// Floe lists the same names, values, sources, types and synonyms. Read-only is an
/// intended difference: Floe serves none of those protocols, so it reports them
/// read-only where Kafka lets them be altered.
#[test]
fn describe_configs_of_groups_and_client_metrics() {
    const GROUP: i8 = 32;
    const CLIENT_METRICS: i8 = 16;
    const TOPIC: i8 = 2;
    let Some((kafka, floe)) = both("describe_configs_of_groups_and_client_metrics", |addr| {
        let topic = unique_topic("describe-all");
        create(addr, &topic, 1);
        // The requests carry an empty key list, which asks for every config.
        (
            describe_resource(addr, GROUP, "some-group"),
            describe_resource(addr, CLIENT_METRICS, "some-subscription"),
            describe_resource(addr, TOPIC, &topic).1.len(),
        )
    }) else {
        return;
    };
    assert!(
        kafka.2 > 20 && floe.2 > 20,
        "topic configs: {} {}",
        kafka.2,
        floe.2
    );
    assert_eq!(kafka.0.0, code::NONE, "Kafka, group");
    assert_eq!(
        kafka.0.1.len(),
        21,
        "Kafka's group configs: {:?}",
        kafka.0.1
    );
    assert!(
        kafka
            .0
            .1
            .iter()
            .any(|c| c.0 == "consumer.session.timeout.ms" && c.1.as_deref() == Some("45000")),
        "{:?}",
        kafka.0.1
    );
    assert_eq!(
        kafka.1.1.len(),
        3,
        "Kafka's client-metrics configs: {:?}",
        kafka.1.1
    );
    assert!(
        kafka.0.2.iter().chain(&kafka.1.2).all(|ro| !ro),
        "Kafka: alterable"
    );
    assert!(
        floe.0.2.iter().chain(&floe.1.2).all(|ro| *ro),
        "Floe: read-only"
    );
    assert_eq!(
        (&floe.0.0, &floe.0.1, &floe.1.0, &floe.1.1),
        (&kafka.0.0, &kafka.0.1, &kafka.1.0, &kafka.1.1),
        "Floe (left) against Kafka (right)"
    );
}

#[test]
fn fetch_out_of_range() {
    let Some((kafka, floe)) = both("fetch_out_of_range", |addr| {
        let topic = unique_topic("fetch-range");
        create(addr, &topic, 1);
        let mut client = RawClient::connect(addr).expect("connect");
        let batch = records::simple_batch(&["a", "b", "c"], 1_000).expect("batch");
        produce_ok(&mut client, &topic, 0, batch);
        let mut answers = Vec::new();
        for offset in [0, 2, 3, 4, 100, -1] {
            let data = client.fetch(&topic, 0, offset, 0).expect("Fetch");
            let fetched = records::decode(data.records.as_ref()).expect("decode");
            let offsets: Vec<i64> = fetched
                .iter()
                .map(|r| r.offset)
                .filter(|o| *o >= offset)
                .collect();
            // The bounds of a failed partition are an intended difference.
            let high_watermark = if data.error_code == code::NONE {
                data.high_watermark
            } else {
                -1
            };
            answers.push((offset, data.error_code, high_watermark, offsets));
        }
        answers
    }) else {
        return;
    };
    assert_eq!(kafka[0], (0, code::NONE, 3, vec![0, 1, 2]), "{kafka:?}");
    assert_eq!(kafka[4].1, code::OFFSET_OUT_OF_RANGE, "{kafka:?}");
    assert_eq!(floe, kafka, "Floe (left) against Kafka (right)");
}

#[test]
fn list_offsets_by_time() {
    let Some((kafka, floe)) = both("list_offsets_by_time", |addr| {
        let topic = unique_topic("list-offsets");
        create(addr, &topic, 2);
        let mut client = RawClient::connect(addr).expect("connect");
        let first = vec![
            TestRecord::new("k", "a", 1_000),
            TestRecord::new("k", "b", 2_000),
            TestRecord::new("k", "c", 3_000),
        ];
        // The largest timestamp sits in the middle of the second batch.
        let second = vec![
            TestRecord::new("k", "d", 4_000),
            TestRecord::new("k", "e", 9_000),
            TestRecord::new("k", "f", 5_000),
        ];
        for batch in [first, second] {
            let batch = records::batch(&batch, Compression::None).expect("batch");
            produce_ok(&mut client, &topic, 0, batch);
        }
        let mut answers = Vec::new();
        for partition in [0, 1] {
            for timestamp in [-2, -1, -3, 0, 1_000, 1_500, 4_500, 9_000, 9_001] {
                let p = client
                    .list_offsets(&topic, partition, timestamp)
                    .expect("ListOffsets");
                answers.push((partition, timestamp, p.error_code, p.timestamp, p.offset));
            }
        }
        answers
    }) else {
        return;
    };
    assert!(
        kafka.contains(&(0, -3, code::NONE, 9_000, 4)),
        "Kafka's max-timestamp answer: {kafka:?}"
    );
    assert!(
        kafka.contains(&(0, 1_500, code::NONE, 2_000, 1)),
        "Kafka's by-time answer: {kafka:?}"
    );
    assert_eq!(floe, kafka, "Floe (left) against Kafka (right)");
}

#[test]
fn create_topics_errors() {
    let Some((kafka, floe)) = both("create_topics_errors", |addr| {
        let topic = unique_topic("create-errors");
        let mut client = RawClient::connect(addr).expect("connect");
        let long = "x".repeat(250);
        vec![
            ("new", create_code(&mut client, &topic, 2, 1)),
            ("duplicate", create_code(&mut client, &topic, 2, 1)),
            (
                "zero partitions",
                create_code(&mut client, &format!("{topic}-z"), 0, 1),
            ),
            (
                "-5 partitions",
                create_code(&mut client, &format!("{topic}-n"), -5, 1),
            ),
            (
                "replication 0",
                create_code(&mut client, &format!("{topic}-r0"), 1, 0),
            ),
            ("space in name", create_code(&mut client, "bad name", 1, 1)),
            ("bang in name", create_code(&mut client, "bad!", 1, 1)),
            ("dot dot", create_code(&mut client, "..", 1, 1)),
            ("empty name", create_code(&mut client, "", 1, 1)),
            ("250 characters", create_code(&mut client, &long, 1, 1)),
        ]
    }) else {
        return;
    };
    let codes: Vec<i16> = kafka.iter().map(|(_, code)| *code).collect();
    let invalid = code::INVALID_TOPIC_EXCEPTION;
    assert_eq!(
        codes,
        [
            code::NONE,
            code::TOPIC_ALREADY_EXISTS,
            code::INVALID_PARTITIONS,
            code::INVALID_PARTITIONS,
            code::INVALID_REPLICATION_FACTOR,
            invalid,
            invalid,
            invalid,
            invalid,
            invalid,
        ],
        "{kafka:?}"
    );
    assert_eq!(floe, kafka, "Floe (left) against Kafka (right)");
}

/// A replication factor above the broker count: Kafka (one broker) refuses it; Floe
/// accepts it on purpose (an intended difference, `docs/compatibility.md`): it places
/// no replicas, durability comes from the object store and the metadata store, and a
/// topic created for a three-broker Kafka (Kafka Connect's internal topics default to
/// 3) must work on any number of agents.
#[test]
fn create_topics_replication_factor_above_broker_count() {
    let Some((kafka, floe)) = both(
        "create_topics_replication_factor_above_broker_count",
        |addr| {
            let mut client = RawClient::connect(addr).expect("connect");
            create_code(&mut client, &unique_topic("rf3"), 1, 3)
        },
    ) else {
        return;
    };
    assert_eq!(kafka, code::INVALID_REPLICATION_FACTOR);
    assert_eq!(
        floe,
        code::NONE,
        "Floe accepts any positive replication factor"
    );
}

#[test]
fn group_rebalance_with_range() {
    let Some((kafka, floe)) = both("group_rebalance_with_range", |addr| {
        two_member_rebalance(addr, &["range"], &["range"])
    }) else {
        return;
    };
    assert!(
        kafka.iter().any(|l| l
            == &format!(
                "m1 heartbeat during rebalance: {}",
                code::REBALANCE_IN_PROGRESS
            )),
        "{kafka:#?}"
    );
    assert!(
        kafka.iter().any(|l| l
            == &format!(
                "heartbeats: {} {} {}",
                code::NONE,
                code::ILLEGAL_GENERATION,
                code::UNKNOWN_MEMBER_ID
            )),
        "{kafka:#?}"
    );
    assert_eq!(floe, kafka, "Floe (left) against Kafka (right)");
}

#[test]
fn group_rebalance_picks_the_common_protocol() {
    let Some((kafka, floe)) = both("group_rebalance_picks_the_common_protocol", |addr| {
        two_member_rebalance(
            addr,
            &["cooperative-sticky", "roundrobin", "range"],
            &["roundrobin", "range"],
        )
    }) else {
        return;
    };
    assert!(
        kafka
            .iter()
            .any(|l| l == "m1 rejoin: (0, 2, \"roundrobin\", true, true, 2)"),
        "{kafka:#?}"
    );
    assert_eq!(floe, kafka, "Floe (left) against Kafka (right)");
}

#[test]
fn groups_without_members() {
    let Some((kafka, floe)) = both("groups_without_members", |addr| {
        let topic = unique_topic("empty-group-topic");
        create(addr, &topic, 1);
        let never = unique_topic("never-seen");
        let mut answers = vec![describe_group(addr, &never)];

        // OffsetFetch of a group nobody used: the partition has no offset.
        let mut client = RawClient::connect(addr).expect("connect");
        let request = OffsetFetchRequest::default()
            .with_group_id(GroupId(s(&never)))
            .with_topics(Some(vec![
                OffsetFetchRequestTopic::default()
                    .with_name(topic_name(&topic))
                    .with_partition_indexes(vec![0]),
            ]));
        let response = client.request(OFFSET_FETCH, &request).expect("OffsetFetch");
        let partitions: Vec<_> = response
            .topics
            .iter()
            .flat_map(|t| &t.partitions)
            .map(|p| {
                (
                    p.partition_index,
                    p.committed_offset,
                    p.metadata.clone(),
                    p.error_code,
                )
            })
            .collect();
        answers.push(format!(
            "offset fetch: error {} partitions {partitions:?}",
            response.error_code
        ));
        let all = OffsetFetchRequest::default()
            .with_group_id(GroupId(s(&never)))
            .with_topics(None);
        let response = client.request(OFFSET_FETCH, &all).expect("OffsetFetch all");
        answers.push(format!(
            "offset fetch of all: error {} topics {}",
            response.error_code,
            response.topics.len()
        ));

        // A group that only ever committed offsets (no member): Empty, and a commit from
        // a member it does not know is refused.
        let committed = unique_topic("committed-only");
        let mut group = RawGroupClient::connect(addr, &committed).expect("connect");
        answers.push(format!(
            "commit without a member: {}",
            group.commit(-1, "", &topic, 0, 3, "meta").expect("commit")
        ));
        answers.push(format!(
            "commit from an unknown member: {}",
            group.commit(1, "ghost", &topic, 0, 4, "").expect("commit")
        ));
        answers.push(format!(
            "committed: {:?}",
            group.fetch_offset(&topic, 0).expect("fetch offset")
        ));
        answers.push(describe_group(addr, &committed));
        answers
    }) else {
        return;
    };
    assert!(kafka[6].contains("Empty"), "{kafka:#?}");
    assert_eq!(
        kafka[4],
        format!("commit from an unknown member: {}", code::UNKNOWN_MEMBER_ID),
        "{kafka:#?}"
    );
    assert_eq!(floe, kafka, "Floe (left) against Kafka (right)");
}

#[test]
fn join_errors() {
    let Some((kafka, floe)) = both("join_errors", |addr| {
        let group = unique_topic("join-errors");
        let mut m = RawGroupClient::connect(addr, &group).expect("connect");
        let v = floe_tests::groups::versions::JOIN_GROUP;
        let mut answers = Vec::new();
        // An unknown member id in a group that does not exist.
        let request = join_with(&group, "ghost", &["range"]);
        let j = m.client.request(v, &request).expect("join");
        answers.push(format!("unknown member: {:?}", join_summary(&j)));
        // No protocols at all.
        let request = join_with(&group, "", &[]);
        let j = m.client.request(v, &request).expect("join");
        answers.push(format!("no protocols: {:?}", join_summary(&j)));
        // A proper join, then a sync from the wrong generation.
        let request = join_with(&group, "", &["range"]);
        let first = m.client.request(v, &request).expect("join");
        answers.push(format!("first join: {:?}", join_summary(&first)));
        let id = first.member_id.to_string();
        let request = join_with(&group, &id, &["range"]);
        let j = m.client.request(v, &request).expect("join");
        answers.push(format!("join: {:?}", join_summary(&j)));
        let sync = m.sync(j.generation_id + 1, &id, vec![]).expect("sync");
        answers.push(format!("sync, wrong generation: {}", sync.error_code));
        let sync = m.sync(j.generation_id, "ghost", vec![]).expect("sync");
        answers.push(format!("sync, unknown member: {}", sync.error_code));
        answers
    }) else {
        return;
    };
    assert_eq!(
        kafka[2],
        format!(
            "first join: {:?}",
            (code::MEMBER_ID_REQUIRED, -1, String::new(), true, false, 0)
        ),
        "{kafka:#?}"
    );
    assert_eq!(
        kafka[4],
        format!("sync, wrong generation: {}", code::ILLEGAL_GENERATION),
        "{kafka:#?}"
    );
    assert_eq!(floe, kafka, "Floe (left) against Kafka (right)");
}
