//! The admin APIs beyond topic creation (CreatePartitions, DeleteRecords,
//! DescribeCluster, authorized operations, OffsetForLeaderEpoch,
//! ElectLeaders, partition reassignments, group settings), through confluent-kafka's and
//! kafka-python's admin clients (`tests/python/admin_apis.py`), and on two
//! agents sharing Postgres.

use std::thread;
use std::time::{Duration, Instant};

use floe_tests::records::{Idempotence, TestRecord};
use floe_tests::{Agent, Cluster, RawClient, python, raw, records, unique_topic};
use kafka_protocol::ResponseError;
use kafka_protocol::messages::alter_partition_reassignments_request::{
    ReassignablePartition, ReassignableTopic,
};
use kafka_protocol::messages::alter_replica_log_dirs_request::{
    AlterReplicaLogDir, AlterReplicaLogDirTopic,
};
use kafka_protocol::messages::create_partitions_request::{
    CreatePartitionsAssignment, CreatePartitionsTopic,
};
use kafka_protocol::messages::delete_records_request::{
    DeleteRecordsPartition, DeleteRecordsTopic,
};
use kafka_protocol::messages::describe_log_dirs_request::DescribableLogDirTopic;
use kafka_protocol::messages::describe_producers_request::TopicRequest as ProducersTopicRequest;
use kafka_protocol::messages::describe_topic_partitions_request::{
    Cursor as RequestCursor, TopicRequest as DescribeTopicPartitionsTopicRequest,
};
use kafka_protocol::messages::elect_leaders_request::TopicPartitions;
use kafka_protocol::messages::offset_for_leader_epoch_request::{
    OffsetForLeaderPartition, OffsetForLeaderTopic,
};
use kafka_protocol::messages::{
    AlterPartitionReassignmentsRequest, AlterReplicaLogDirsRequest, BrokerId,
    CreatePartitionsRequest, DeleteRecordsRequest, DescribeClusterRequest, DescribeLogDirsRequest,
    DescribeProducersRequest, DescribeTopicPartitionsRequest, ElectLeadersRequest,
    ListPartitionReassignmentsRequest, OffsetForLeaderEpochRequest,
};
use kafka_protocol::protocol::StrBytes;

fn scenario(name: &str, agent: &Agent) {
    let topic = unique_topic(&format!("admin-{name}"));
    python::run_script("admin_apis.py", &agent.bootstrap(), &[name, &topic])
        .unwrap_or_else(|e| panic!("admin_apis.py {name}: {e:#}"));
}

#[test]
fn confluent_create_partitions_then_produce_and_consume_the_new_one() {
    let agent = Agent::start().expect("start agent");
    scenario("partitions", &agent);
}

#[test]
fn confluent_delete_records_moves_the_log_start() {
    let agent = Agent::start().expect("start agent");
    scenario("records", &agent);
}

#[test]
fn confluent_describe_cluster_and_topics_with_authorized_operations_and_elect_leaders() {
    let agent = Agent::start().expect("start agent");
    scenario("describe", &agent);
}

#[test]
fn kafka_python_admin_grows_trims_and_describes() {
    let agent = Agent::start().expect("start agent");
    scenario("kafka-python", &agent);
}

#[test]
fn group_session_timeout_bounds_are_settings() {
    let agent = Agent::start().expect("start agent");
    scenario("session-refused", &agent);
    let agent = Agent::builder()
        .arg("--group-min-session-timeout-ms=1000")
        .arg("--group-initial-rebalance-delay-ms=0")
        .start()
        .expect("start agent");
    scenario("session-ok", &agent);
}

/// How long another agent may take to hear of a change (Postgres
/// `NOTIFY`): a guard against a hang, not a latency requirement.
const NOTIFY_BOUND: Duration = Duration::from_secs(15);

fn grow(
    client: &mut RawClient,
    topic: &str,
    count: i32,
    validate_only: bool,
) -> (i16, Option<String>) {
    let request = CreatePartitionsRequest::default()
        .with_topics(vec![
            CreatePartitionsTopic::default()
                .with_name(raw::topic_name(topic))
                .with_count(count)
                .with_assignments(None),
        ])
        .with_timeout_ms(30_000)
        .with_validate_only(validate_only);
    let response = client.request(3, &request).expect("create partitions");
    let result = &response.results[0];
    assert_eq!(result.name.as_str(), topic);
    (
        result.error_code,
        result.error_message.as_ref().map(|m| m.to_string()),
    )
}

fn partition_count(client: &mut RawClient, topic: &str) -> usize {
    let response = client.metadata(Some(&[topic]), false).expect("metadata");
    assert_eq!(response.topics[0].error_code, 0, "metadata of {topic}");
    response.topics[0].partitions.len()
}

#[test]
fn partitions_added_through_one_agent_are_served_by_the_other() {
    let cluster = Cluster::builder("admin-grow")
        .agents(2)
        .start()
        .expect("start cluster");
    let mut a = RawClient::connect(cluster.agent(0).kafka_addr()).expect("connect a");
    let mut b = RawClient::connect(cluster.agent(1).kafka_addr()).expect("connect b");
    let topic = unique_topic("grown");
    assert_eq!(a.create_topic(&topic, 1).expect("create"), 0);
    // Agent a caches the topic with one partition.
    assert_eq!(partition_count(&mut a, &topic), 1);
    let written = a.produce_one(&topic, 0, one_record("p0")).expect("produce");
    assert_eq!((written.error_code, written.base_offset), (0, 0));

    assert_eq!(grow(&mut b, &topic, 3, true), (0, None), "validate only");
    assert_eq!(
        partition_count(&mut b, &topic),
        1,
        "validate only changes nothing"
    );
    assert_eq!(grow(&mut b, &topic, 3, false), (0, None));
    // The agent that grew it serves the new partitions at once.
    assert_eq!(partition_count(&mut b, &topic), 3);
    let written = b.produce_one(&topic, 2, one_record("b")).expect("produce");
    assert_eq!((written.error_code, written.base_offset), (0, 0));
    // The other one forgets what it cached when the store tells it.
    let deadline = Instant::now() + NOTIFY_BOUND;
    while partition_count(&mut a, &topic) != 3 {
        assert!(
            Instant::now() < deadline,
            "agent a still answers {} partitions\n{}",
            partition_count(&mut a, &topic),
            cluster.logs()
        );
        thread::sleep(Duration::from_millis(50));
    }
    let written = a.produce_one(&topic, 2, one_record("a")).expect("produce");
    assert_eq!((written.error_code, written.base_offset), (0, 1));
    let written = a.produce_one(&topic, 1, one_record("a")).expect("produce");
    assert_eq!((written.error_code, written.base_offset), (0, 0));

    // Shrinking is refused through either agent, with Kafka's message.
    assert_eq!(
        grow(&mut a, &topic, 2, false),
        (
            ResponseError::InvalidPartitions.code(),
            Some(format!(
                "The topic {topic} currently has 3 partition(s); 2 would not be an increase."
            ))
        )
    );
}

#[test]
fn raw_admin_requests_get_kafkas_errors() {
    let agent = Agent::start().expect("start agent");
    let mut client = RawClient::connect(agent.kafka_addr()).expect("connect");
    let topic = unique_topic("raw-admin");
    assert_eq!(client.create_topic(&topic, 2).expect("create"), 0);

    // DeleteRecords of a partition the topic does not have, and of a topic
    // that does not exist.
    let request = DeleteRecordsRequest::default()
        .with_topics(vec![
            DeleteRecordsTopic::default()
                .with_name(raw::topic_name(&topic))
                .with_partitions(vec![
                    DeleteRecordsPartition::default()
                        .with_partition_index(7)
                        .with_offset(0),
                    DeleteRecordsPartition::default()
                        .with_partition_index(1)
                        .with_offset(-1),
                ]),
            DeleteRecordsTopic::default()
                .with_name(raw::topic_name("no-such-topic"))
                .with_partitions(vec![DeleteRecordsPartition::default()]),
        ])
        .with_timeout_ms(30_000);
    let response = client.request(2, &request).expect("delete records");
    let answers: Vec<(i32, i64, i16)> = response
        .topics
        .iter()
        .flat_map(|t| &t.partitions)
        .map(|p| (p.partition_index, p.low_watermark, p.error_code))
        .collect();
    let unknown = ResponseError::UnknownTopicOrPartition.code();
    assert_eq!(answers, vec![(7, -1, unknown), (1, 0, 0), (0, -1, unknown)]);

    // Manual assignments: one per added partition, naming live brokers.
    let assigned = |brokers: Vec<Vec<i32>>| {
        CreatePartitionsRequest::default().with_topics(vec![
            CreatePartitionsTopic::default()
                .with_name(raw::topic_name(&topic))
                .with_count(4)
                .with_assignments(Some(
                    brokers
                        .into_iter()
                        .map(|ids| {
                            CreatePartitionsAssignment::default()
                                .with_broker_ids(ids.into_iter().map(BrokerId).collect())
                        })
                        .collect(),
                )),
        ])
    };
    let me = client
        .metadata(Some(&[&topic]), false)
        .expect("metadata")
        .brokers[0]
        .node_id
        .0;
    for (brokers, why) in [
        (vec![vec![me]], "too few"),
        (vec![vec![me], vec![me + 100]], "unknown broker"),
        (vec![vec![me], vec![me, me]], "a broker twice"),
    ] {
        let response = client
            .request(3, &assigned(brokers))
            .expect("create partitions");
        assert_eq!(
            response.results[0].error_code,
            ResponseError::InvalidReplicaAssignment.code(),
            "{why}: {:?}",
            response.results[0].error_message
        );
    }
    assert_eq!(partition_count(&mut client, &topic), 2);
    let response = client
        .request(3, &assigned(vec![vec![me], vec![me]]))
        .expect("create partitions");
    assert_eq!(response.results[0].error_code, 0);
    assert_eq!(partition_count(&mut client, &topic), 4);

    // The same topic twice in one request: both refused.
    let twice = CreatePartitionsRequest::default().with_topics(vec![
        CreatePartitionsTopic::default(
        )
        .with_name(raw::topic_name(&topic))
        .with_count(6);
        2
    ]);
    let response = client.request(3, &twice).expect("create partitions");
    assert!(
        response
            .results
            .iter()
            .all(|r| r.error_code == ResponseError::InvalidRequest.code()),
        "{response:?}"
    );
    assert_eq!(partition_count(&mut client, &topic), 4);

    // DescribeCluster: only broker endpoints exist.
    let response = client
        .request(1, &DescribeClusterRequest::default().with_endpoint_type(2))
        .expect("describe cluster");
    assert_eq!(
        response.error_code,
        ResponseError::UnsupportedEndpointType.code()
    );
    let response = client
        .request(0, &DescribeClusterRequest::default())
        .expect("describe cluster");
    assert_eq!(response.error_code, 0);
    assert_eq!(response.cluster_id.as_str(), "floe");
    assert_eq!(response.controller_id.0, me);
    assert_eq!(response.cluster_authorized_operations, i32::MIN);
}

#[test]
fn offset_for_leader_epoch_ends_epoch_zero_at_the_high_watermark() {
    let agent = Agent::start().expect("start agent");
    let mut client = RawClient::connect(agent.kafka_addr()).expect("connect");
    let topic = unique_topic("epochs");
    assert_eq!(client.create_topic(&topic, 1).expect("create"), 0);
    for i in 0..3 {
        let written = client
            .produce_one(&topic, 0, one_record("r"))
            .expect("produce");
        assert_eq!((written.error_code, written.base_offset), (0, i));
    }
    let ask = |partition: i32, current: i32, epoch: i32| {
        OffsetForLeaderPartition::default()
            .with_partition(partition)
            .with_current_leader_epoch(current)
            .with_leader_epoch(epoch)
    };
    let request = OffsetForLeaderEpochRequest::default()
        .with_replica_id(BrokerId(-1))
        .with_topics(vec![
            OffsetForLeaderTopic::default()
                .with_topic(raw::topic_name(&topic))
                .with_partitions(vec![
                    ask(0, 0, 0),
                    ask(0, -1, 0),
                    ask(0, 0, 1),
                    ask(0, 1, 0),
                    ask(4, 0, 0),
                ]),
            OffsetForLeaderTopic::default()
                .with_topic(raw::topic_name("no-such-topic"))
                .with_partitions(vec![ask(0, 0, 0)]),
        ]);
    for version in 2..=4 {
        let response = client
            .request(version, &request)
            .expect("offset for leader epoch");
        let answers: Vec<(i32, i16, i32, i64)> = response
            .topics
            .iter()
            .flat_map(|t| &t.partitions)
            .map(|p| (p.partition, p.error_code, p.leader_epoch, p.end_offset))
            .collect();
        let unknown = ResponseError::UnknownTopicOrPartition.code();
        assert_eq!(
            answers,
            vec![
                (0, 0, 0, 3),
                (0, 0, 0, 3),
                (0, 0, -1, -1),
                (0, ResponseError::UnknownLeaderEpoch.code(), -1, -1),
                (4, unknown, -1, -1),
                (0, unknown, -1, -1),
            ],
            "v{version}"
        );
    }
}

#[test]
fn leaderless_partitions_need_no_election_and_no_reassignment() {
    let agent = Agent::start().expect("start agent");
    let mut client = RawClient::connect(agent.kafka_addr()).expect("connect");
    let topic = unique_topic("leaderless");
    assert_eq!(client.create_topic(&topic, 2).expect("create"), 0);
    let me = client
        .metadata(Some(&[&topic]), false)
        .expect("metadata")
        .brokers[0]
        .node_id
        .0;

    // ElectLeaders: not needed for an existing partition, unknown otherwise;
    // nothing to report when asked for every partition.
    for (version, election_type) in [(0, 0), (1, 1), (2, 0)] {
        let request = ElectLeadersRequest::default()
            .with_election_type(election_type)
            .with_topic_partitions(Some(vec![
                TopicPartitions::default()
                    .with_topic(raw::topic_name(&topic))
                    .with_partitions(vec![1, 5]),
            ]))
            .with_timeout_ms(30_000);
        let response = client.request(version, &request).expect("elect leaders");
        let answers: Vec<(i32, i16)> = response.replica_election_results[0]
            .partition_result
            .iter()
            .map(|p| (p.partition_id, p.error_code))
            .collect();
        assert_eq!(
            answers,
            vec![
                (1, ResponseError::ElectionNotNeeded.code()),
                (5, ResponseError::UnknownTopicOrPartition.code())
            ],
            "v{version}"
        );
        let all = client
            .request(
                version,
                &ElectLeadersRequest::default().with_topic_partitions(None),
            )
            .expect("elect leaders");
        assert_eq!((all.error_code, all.replica_election_results.len()), (0, 0));
    }

    // No reassignment is ever in progress.
    let listed = client
        .request(
            0,
            &ListPartitionReassignmentsRequest::default().with_topics(None),
        )
        .expect("list reassignments");
    assert_eq!((listed.error_code, listed.topics.len()), (0, 0));

    let reassign = |partition: i32, replicas: Option<Vec<i32>>| {
        ReassignablePartition::default()
            .with_partition_index(partition)
            .with_replicas(replicas.map(|r| r.into_iter().map(BrokerId).collect()))
    };
    let request = AlterPartitionReassignmentsRequest::default().with_topics(vec![
        ReassignableTopic::default()
            .with_name(raw::topic_name(&topic))
            .with_partitions(vec![
                reassign(0, Some(vec![me])),
                reassign(1, None),
                reassign(0, Some(vec![me + 100])),
                reassign(0, Some(vec![])),
                reassign(9, Some(vec![me])),
            ]),
    ]);
    for version in 0..=1 {
        let response = client
            .request(version, &request)
            .expect("alter reassignments");
        let answers: Vec<(i32, i16)> = response.responses[0]
            .partitions
            .iter()
            .map(|p| (p.partition_index, p.error_code))
            .collect();
        let invalid = ResponseError::InvalidReplicaAssignment.code();
        assert_eq!(
            answers,
            vec![
                (0, 0),
                (1, ResponseError::NoReassignmentInProgress.code()),
                (0, invalid),
                (0, invalid),
                (9, ResponseError::UnknownTopicOrPartition.code()),
            ],
            "v{version}"
        );
    }
}

#[test]
fn describe_topic_partitions_pages_by_partition_limit_and_cursor() {
    let agent = Agent::start().expect("start agent");
    let mut client = RawClient::connect(agent.kafka_addr()).expect("connect");
    let prefix = unique_topic("paged");
    let (a, b, c) = (
        format!("{prefix}-a"),
        format!("{prefix}-b"),
        format!("{prefix}-c"),
    );
    for (name, partitions) in [(&a, 2), (&b, 3), (&c, 1)] {
        assert_eq!(client.create_topic(name, partitions).expect("create"), 0);
    }
    let missing = format!("{prefix}-missing");
    let asked = |names: &[&String]| {
        names
            .iter()
            .map(|n| DescribeTopicPartitionsTopicRequest::default().with_name(raw::topic_name(n)))
            .collect::<Vec<_>>()
    };
    let page = |client: &mut RawClient, cursor: Option<(&str, i32)>| {
        let request = DescribeTopicPartitionsRequest::default()
            .with_topics(asked(&[&c, &missing, &a, &b]))
            .with_response_partition_limit(4)
            .with_cursor(cursor.map(|(t, p)| {
                RequestCursor::default()
                    .with_topic_name(raw::topic_name(t))
                    .with_partition_index(p)
            }));
        let response = client
            .request(0, &request)
            .expect("describe topic partitions");
        let described: Vec<(String, i16, Vec<i32>, i32)> = response
            .topics
            .iter()
            .map(|t| {
                (
                    t.name.as_ref().map(|n| n.to_string()).unwrap_or_default(),
                    t.error_code,
                    t.partitions.iter().map(|p| p.partition_index).collect(),
                    t.topic_authorized_operations,
                )
            })
            .collect();
        let next = response
            .next_cursor
            .map(|c| (c.topic_name.to_string(), c.partition_index));
        (described, next)
    };
    // Name order; four partitions, then a cursor at the fifth.
    let ops = 3576;
    let (first, next) = page(&mut client, None);
    assert_eq!(
        first,
        vec![
            (a.clone(), 0, vec![0, 1], ops),
            (b.clone(), 0, vec![0, 1], ops),
        ]
    );
    assert_eq!(next, Some((b.clone(), 2)));
    let (second, next) = page(&mut client, Some((&b, 2)));
    let unknown = ResponseError::UnknownTopicOrPartition.code();
    assert_eq!(
        second,
        vec![
            (b.clone(), 0, vec![2], ops),
            (c.clone(), 0, vec![0], ops),
            (missing.clone(), unknown, vec![], i32::MIN),
        ]
    );
    assert_eq!(next, None);
    // A cursor outside the topics asked for is refused.
    let request = DescribeTopicPartitionsRequest::default()
        .with_topics(asked(&[&a]))
        .with_response_partition_limit(10)
        .with_cursor(Some(
            RequestCursor::default().with_topic_name(raw::topic_name(&b)),
        ));
    let response = client
        .request(0, &request)
        .expect("describe topic partitions");
    assert_eq!(
        response.topics[0].error_code,
        ResponseError::InvalidRequest.code()
    );
    // Leaders are the agent, epoch 0, as in Metadata.
    let me = client
        .metadata(Some(&[&a]), false)
        .expect("metadata")
        .brokers[0]
        .node_id;
    let request = DescribeTopicPartitionsRequest::default()
        .with_topics(asked(&[&a]))
        .with_response_partition_limit(10);
    let response = client
        .request(0, &request)
        .expect("describe topic partitions");
    let p = &response.topics[0].partitions[0];
    assert_eq!(
        (p.leader_id, p.leader_epoch, p.isr_nodes.clone()),
        (me, 0, vec![me])
    );
}

#[test]
fn log_dirs_and_producers_are_answered_from_the_index() {
    let agent = Agent::start().expect("start agent");
    let mut client = RawClient::connect(agent.kafka_addr()).expect("connect");
    let topic = unique_topic("sized");
    assert_eq!(client.create_topic(&topic, 2).expect("create"), 0);
    let (producer_id, producer_epoch) = client.init_producer_id().expect("init producer id");
    let mut sizes = 0;
    for base_sequence in [0, 3] {
        let batch = records::idempotent_batch(
            &[
                TestRecord::new("k", "a", 1_000),
                TestRecord::new("k", "b", 1_000),
                TestRecord::new("k", "c", 1_000),
            ],
            Idempotence {
                producer_id,
                producer_epoch,
                base_sequence,
            },
        )
        .expect("encode");
        sizes += batch.len() as i64;
        let written = client.produce_one(&topic, 1, batch).expect("produce");
        assert_eq!(written.error_code, 0);
    }

    // One log dir, the object store, with every partition and its bytes.
    let asked = DescribeLogDirsRequest::default().with_topics(Some(vec![
        DescribableLogDirTopic::default()
            .with_topic(raw::topic_name(&topic))
            .with_partitions(vec![0, 1, 7]),
    ]));
    for version in 1..=4 {
        let response = client.request(version, &asked).expect("describe log dirs");
        assert_eq!(response.results.len(), 1);
        let dir = &response.results[0];
        assert_eq!(dir.error_code, 0);
        assert!(
            dir.log_dir.starts_with("file://"),
            "log dir {}",
            dir.log_dir.as_str()
        );
        let described: Vec<(i32, i64)> = dir.topics[0]
            .partitions
            .iter()
            .map(|p| (p.partition_index, p.partition_size))
            .collect();
        assert_eq!(described, vec![(0, 0), (1, sizes)], "v{version}");
    }
    let all = client
        .request(4, &DescribeLogDirsRequest::default().with_topics(None))
        .expect("describe log dirs");
    let dir = all.results[0].clone();
    assert!(
        dir.topics
            .iter()
            .any(|t| t.name.as_str() == topic && t.partitions.len() == 2)
    );

    // Moving a partition to its own directory is nothing; to another is
    // LOG_DIR_NOT_FOUND.
    let alter = |path: &str| {
        AlterReplicaLogDirsRequest::default().with_dirs(vec![
            AlterReplicaLogDir::default()
                .with_path(StrBytes::from_string(path.to_string()))
                .with_topics(vec![
                    AlterReplicaLogDirTopic::default()
                        .with_name(raw::topic_name(&topic))
                        .with_partitions(vec![0, 9]),
                ]),
        ])
    };
    let answers = |client: &mut RawClient, path: &str| {
        let response = client.request(2, &alter(path)).expect("alter log dirs");
        response.results[0]
            .partitions
            .iter()
            .map(|p| (p.partition_index, p.error_code))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        answers(&mut client, dir.log_dir.as_str()),
        vec![(0, 0), (9, ResponseError::UnknownTopicOrPartition.code())]
    );
    let not_found = ResponseError::LogDirNotFound.code();
    assert_eq!(
        answers(&mut client, "/var/lib/kafka"),
        vec![(0, not_found), (9, not_found)]
    );

    // The idempotent producer's state on partition 1, none on partition 0.
    let request = DescribeProducersRequest::default().with_topics(vec![
        ProducersTopicRequest::default()
            .with_name(raw::topic_name(&topic))
            .with_partition_indexes(vec![0, 1, 5]),
    ]);
    let response = client.request(0, &request).expect("describe producers");
    let partitions = &response.topics[0].partitions;
    assert_eq!(
        partitions.iter().map(|p| p.error_code).collect::<Vec<_>>(),
        vec![0, 0, ResponseError::UnknownTopicOrPartition.code()]
    );
    assert!(partitions[0].active_producers.is_empty());
    let state: Vec<_> = partitions[1]
        .active_producers
        .iter()
        .map(|s| {
            (
                s.producer_id.0,
                s.producer_epoch,
                s.last_sequence,
                s.coordinator_epoch,
                s.current_txn_start_offset,
                s.last_timestamp > 0,
            )
        })
        .collect();
    assert_eq!(
        state,
        vec![(producer_id, i32::from(producer_epoch), 5, -1, -1, true)]
    );
}

fn one_record(value: &str) -> bytes::Bytes {
    records::simple_batch(&[value], 1_000).expect("encode a batch")
}
