//! The table of raw requests, one per API (or per resource an API checks),
//! each returning the error code from the field where Kafka answers an
//! authorization failure: a partition's, a topic's, a group's, a
//! resource's or the top-level code.

use bytes::Bytes;
use floe_tests::raw::topic_name;
use floe_tests::{RawClient, records, unique_topic};
use kafka_protocol::messages::{
    AddOffsetsToTxnRequest, AddPartitionsToTxnRequest, AlterClientQuotasRequest,
    AlterConfigsRequest, AlterPartitionReassignmentsRequest, AlterReplicaLogDirsRequest,
    AlterUserScramCredentialsRequest, CreatePartitionsRequest, CreateTopicsRequest,
    DeleteGroupsRequest, DeleteRecordsRequest, DeleteTopicsRequest, DescribeClientQuotasRequest,
    DescribeClusterRequest, DescribeConfigsRequest, DescribeGroupsRequest, DescribeLogDirsRequest,
    DescribeProducersRequest, DescribeQuorumRequest, DescribeTopicPartitionsRequest,
    DescribeTransactionsRequest, DescribeUserScramCredentialsRequest, ElectLeadersRequest,
    EndTxnRequest, FindCoordinatorRequest, GroupId, HeartbeatRequest,
    IncrementalAlterConfigsRequest, InitProducerIdRequest, JoinGroupRequest, LeaveGroupRequest,
    ListConfigResourcesRequest, ListGroupsRequest, ListPartitionReassignmentsRequest,
    ListTransactionsRequest, MetadataRequest, OffsetCommitRequest, OffsetDeleteRequest,
    OffsetFetchRequest, OffsetForLeaderEpochRequest, ProducerId, SyncGroupRequest, TransactionalId,
    TxnOffsetCommitRequest, WriteTxnMarkersRequest,
};
use kafka_protocol::messages::{
    add_partitions_to_txn_request, alter_client_quotas_request, alter_configs_request,
    alter_partition_reassignments_request, alter_replica_log_dirs_request,
    alter_user_scram_credentials_request, create_partitions_request, create_topics_request,
    delete_records_request, describe_configs_request, describe_producers_request,
    describe_quorum_request, describe_topic_partitions_request, elect_leaders_request,
    incremental_alter_configs_request, join_group_request, offset_commit_request,
    offset_delete_request, offset_fetch_request, offset_for_leader_epoch_request,
    txn_offset_commit_request, write_txn_markers_request,
};
use kafka_protocol::protocol::StrBytes;

/// The resources the requests name.
#[derive(Debug)]
pub struct Names {
    /// An existing topic with one partition.
    pub topic: String,
    pub group: String,
    pub transactional_id: String,
}

impl Default for Names {
    fn default() -> Self {
        Names {
            topic: unique_topic("acl-table"),
            group: unique_topic("acl-group"),
            transactional_id: unique_topic("acl-txn"),
        }
    }
}

/// Which authorization error the case expects of a principal without ACLs.
#[derive(Debug, Clone, Copy)]
pub enum Denied {
    Topic,
    Group,
    Cluster,
    TransactionalId,
    /// No error: the answer is filtered instead.
    Filtered,
}

/// One request of the table.
pub struct Case {
    pub api: &'static str,
    pub run: fn(&mut RawClient, &Names) -> i16,
    pub denied: Denied,
    /// Whether the super user may send it too (it changes nothing).
    pub admin_allowed: bool,
}

fn s(v: &str) -> StrBytes {
    StrBytes::from_string(v.to_string())
}

fn group(n: &Names) -> GroupId {
    GroupId(s(&n.group))
}

fn txn(n: &Names) -> TransactionalId {
    TransactionalId(s(&n.transactional_id))
}

fn produce(raw: &mut RawClient, n: &Names) -> i16 {
    let batch = records::simple_batch(&["v"], 1_700_000_000_000).expect("batch");
    raw.produce_one(&n.topic, 0, batch)
        .expect("Produce")
        .error_code
}

fn fetch(raw: &mut RawClient, n: &Names) -> i16 {
    raw.fetch(&n.topic, 0, 0, 0).expect("Fetch").error_code
}

fn list_offsets(raw: &mut RawClient, n: &Names) -> i16 {
    raw.list_offsets(&n.topic, 0, -1)
        .expect("ListOffsets")
        .error_code
}

fn offset_for_leader_epoch(raw: &mut RawClient, n: &Names) -> i16 {
    use offset_for_leader_epoch_request::{OffsetForLeaderPartition, OffsetForLeaderTopic};
    let req = OffsetForLeaderEpochRequest::default()
        .with_replica_id((-1).into())
        .with_topics(vec![
            OffsetForLeaderTopic::default()
                .with_topic(topic_name(&n.topic))
                .with_partitions(vec![
                    OffsetForLeaderPartition::default()
                        .with_partition(0)
                        .with_current_leader_epoch(-1)
                        .with_leader_epoch(0),
                ]),
        ]);
    let resp = raw.request(4, &req).expect("OffsetForLeaderEpoch");
    resp.topics[0].partitions[0].error_code
}

fn metadata(raw: &mut RawClient, n: &Names) -> i16 {
    raw.metadata(Some(&[&n.topic]), false)
        .expect("Metadata")
        .topics[0]
        .error_code
}

fn describe_topic_partitions(raw: &mut RawClient, n: &Names) -> i16 {
    let req = DescribeTopicPartitionsRequest::default()
        .with_response_partition_limit(100)
        .with_topics(vec![
            describe_topic_partitions_request::TopicRequest::default()
                .with_name(topic_name(&n.topic)),
        ]);
    raw.request(0, &req)
        .expect("DescribeTopicPartitions")
        .topics[0]
        .error_code
}

fn create_topics(raw: &mut RawClient, n: &Names) -> i16 {
    let req = CreateTopicsRequest::default()
        .with_timeout_ms(30_000)
        .with_topics(vec![
            create_topics_request::CreatableTopic::default()
                .with_name(topic_name(&format!("{}-new", n.topic)))
                .with_num_partitions(1)
                .with_replication_factor(1),
        ]);
    raw.request(7, &req).expect("CreateTopics").topics[0].error_code
}

fn delete_topics(raw: &mut RawClient, n: &Names) -> i16 {
    let req = DeleteTopicsRequest::default()
        .with_timeout_ms(30_000)
        .with_topic_names(vec![topic_name(&n.topic)]);
    raw.request(5, &req).expect("DeleteTopics").responses[0].error_code
}

fn create_partitions(raw: &mut RawClient, n: &Names) -> i16 {
    let req = CreatePartitionsRequest::default()
        .with_timeout_ms(30_000)
        .with_topics(vec![
            create_partitions_request::CreatePartitionsTopic::default()
                .with_name(topic_name(&n.topic))
                .with_count(4),
        ]);
    raw.request(3, &req).expect("CreatePartitions").results[0].error_code
}

fn delete_records(raw: &mut RawClient, n: &Names) -> i16 {
    use delete_records_request::{DeleteRecordsPartition, DeleteRecordsTopic};
    let req = DeleteRecordsRequest::default()
        .with_timeout_ms(30_000)
        .with_topics(vec![
            DeleteRecordsTopic::default()
                .with_name(topic_name(&n.topic))
                .with_partitions(vec![
                    DeleteRecordsPartition::default()
                        .with_partition_index(0)
                        .with_offset(0),
                ]),
        ]);
    raw.request(2, &req).expect("DeleteRecords").topics[0].partitions[0].error_code
}

fn describe_configs(raw: &mut RawClient, resource_type: i8, name: &str) -> i16 {
    let req = DescribeConfigsRequest::default().with_resources(vec![
        describe_configs_request::DescribeConfigsResource::default()
            .with_resource_type(resource_type)
            .with_resource_name(s(name))
            .with_configuration_keys(None),
    ]);
    raw.request(4, &req).expect("DescribeConfigs").results[0].error_code
}

fn describe_topic_configs(raw: &mut RawClient, n: &Names) -> i16 {
    describe_configs(raw, 2, &n.topic)
}

fn describe_broker_configs(raw: &mut RawClient, _: &Names) -> i16 {
    describe_configs(raw, 4, "")
}

fn describe_group_configs(raw: &mut RawClient, n: &Names) -> i16 {
    describe_configs(raw, 32, &n.group)
}

fn alter_topic_configs(raw: &mut RawClient, n: &Names) -> i16 {
    let req = AlterConfigsRequest::default()
        .with_validate_only(true)
        .with_resources(vec![
            alter_configs_request::AlterConfigsResource::default()
                .with_resource_type(2)
                .with_resource_name(s(&n.topic))
                .with_configs(vec![
                    alter_configs_request::AlterableConfig::default()
                        .with_name(s("retention.ms"))
                        .with_value(Some(s("1000"))),
                ]),
        ]);
    raw.request(2, &req).expect("AlterConfigs").responses[0].error_code
}

fn alter_broker_configs(raw: &mut RawClient, _: &Names) -> i16 {
    let req = IncrementalAlterConfigsRequest::default()
        .with_validate_only(true)
        .with_resources(vec![
            incremental_alter_configs_request::AlterConfigsResource::default()
                .with_resource_type(4)
                .with_resource_name(s(""))
                .with_configs(vec![
                    incremental_alter_configs_request::AlterableConfig::default()
                        .with_name(s("log.retention.ms"))
                        .with_config_operation(0)
                        .with_value(Some(s("100000"))),
                ]),
        ]);
    raw.request(1, &req)
        .expect("IncrementalAlterConfigs")
        .responses[0]
        .error_code
}

fn describe_producers(raw: &mut RawClient, n: &Names) -> i16 {
    let req = DescribeProducersRequest::default().with_topics(vec![
        describe_producers_request::TopicRequest::default()
            .with_name(topic_name(&n.topic))
            .with_partition_indexes(vec![0]),
    ]);
    raw.request(0, &req).expect("DescribeProducers").topics[0].partitions[0].error_code
}

fn join_group(raw: &mut RawClient, n: &Names) -> i16 {
    let req = JoinGroupRequest::default()
        .with_group_id(group(n))
        .with_session_timeout_ms(10_000)
        .with_rebalance_timeout_ms(10_000)
        .with_protocol_type(s("consumer"))
        .with_protocols(vec![
            join_group_request::JoinGroupRequestProtocol::default()
                .with_name(s("range"))
                .with_metadata(Bytes::new()),
        ]);
    raw.request(9, &req).expect("JoinGroup").error_code
}

fn sync_group(raw: &mut RawClient, n: &Names) -> i16 {
    let req = SyncGroupRequest::default()
        .with_group_id(group(n))
        .with_generation_id(1)
        .with_member_id(s("m"))
        .with_protocol_type(Some(s("consumer")))
        .with_protocol_name(Some(s("range")));
    raw.request(5, &req).expect("SyncGroup").error_code
}

fn heartbeat(raw: &mut RawClient, n: &Names) -> i16 {
    let req = HeartbeatRequest::default()
        .with_group_id(group(n))
        .with_generation_id(1)
        .with_member_id(s("m"));
    raw.request(4, &req).expect("Heartbeat").error_code
}

fn leave_group(raw: &mut RawClient, n: &Names) -> i16 {
    let req = LeaveGroupRequest::default()
        .with_group_id(group(n))
        .with_member_id(s("m"));
    raw.request(1, &req).expect("LeaveGroup").error_code
}

pub fn offset_commit(raw: &mut RawClient, n: &Names) -> i16 {
    let req = OffsetCommitRequest::default()
        .with_group_id(group(n))
        .with_generation_id_or_member_epoch(-1)
        .with_topics(vec![
            offset_commit_request::OffsetCommitRequestTopic::default()
                .with_name(topic_name(&n.topic))
                .with_partitions(vec![
                    offset_commit_request::OffsetCommitRequestPartition::default()
                        .with_partition_index(0)
                        .with_committed_offset(0),
                ]),
        ]);
    raw.request(8, &req).expect("OffsetCommit").topics[0].partitions[0].error_code
}

fn offset_fetch(raw: &mut RawClient, n: &Names) -> i16 {
    let req = OffsetFetchRequest::default().with_groups(vec![
        offset_fetch_request::OffsetFetchRequestGroup::default()
            .with_group_id(group(n))
            .with_topics(None),
    ]);
    raw.request(8, &req).expect("OffsetFetch").groups[0].error_code
}

fn offset_delete(raw: &mut RawClient, n: &Names) -> i16 {
    let req = OffsetDeleteRequest::default()
        .with_group_id(group(n))
        .with_topics(vec![
            offset_delete_request::OffsetDeleteRequestTopic::default()
                .with_name(topic_name(&n.topic))
                .with_partitions(vec![
                    offset_delete_request::OffsetDeleteRequestPartition::default()
                        .with_partition_index(0),
                ]),
        ]);
    raw.request(0, &req).expect("OffsetDelete").error_code
}

fn describe_groups(raw: &mut RawClient, n: &Names) -> i16 {
    let req = DescribeGroupsRequest::default().with_groups(vec![group(n)]);
    raw.request(5, &req).expect("DescribeGroups").groups[0].error_code
}

fn delete_groups(raw: &mut RawClient, n: &Names) -> i16 {
    let req = DeleteGroupsRequest::default().with_groups_names(vec![group(n)]);
    raw.request(2, &req).expect("DeleteGroups").results[0].error_code
}

fn find_coordinator(raw: &mut RawClient, key_type: i8, key: &str) -> i16 {
    let req = FindCoordinatorRequest::default()
        .with_key_type(key_type)
        .with_coordinator_keys(vec![s(key)]);
    raw.request(4, &req).expect("FindCoordinator").coordinators[0].error_code
}

fn find_group_coordinator(raw: &mut RawClient, n: &Names) -> i16 {
    find_coordinator(raw, 0, &n.group)
}

fn find_txn_coordinator(raw: &mut RawClient, n: &Names) -> i16 {
    find_coordinator(raw, 1, &n.transactional_id)
}

/// InitProducerId with `transactional_id`: its error code.
pub fn init_transactional(raw: &mut RawClient, transactional_id: &str) -> i16 {
    let req = InitProducerIdRequest::default()
        .with_transactional_id(Some(TransactionalId(s(transactional_id))))
        .with_transaction_timeout_ms(10_000)
        .with_producer_id(ProducerId(-1))
        .with_producer_epoch(-1);
    raw.request(4, &req).expect("InitProducerId").error_code
}

fn init_txn_producer(raw: &mut RawClient, n: &Names) -> i16 {
    init_transactional(raw, &n.transactional_id)
}

fn init_idempotent_producer(raw: &mut RawClient, _: &Names) -> i16 {
    let req = InitProducerIdRequest::default()
        .with_transactional_id(None)
        .with_transaction_timeout_ms(10_000)
        .with_producer_id(ProducerId(-1))
        .with_producer_epoch(-1);
    raw.request(4, &req).expect("InitProducerId").error_code
}

fn add_partitions_to_txn(raw: &mut RawClient, n: &Names) -> i16 {
    let req = AddPartitionsToTxnRequest::default()
        .with_v3_and_below_transactional_id(txn(n))
        .with_v3_and_below_producer_id(ProducerId(1))
        .with_v3_and_below_producer_epoch(0)
        .with_v3_and_below_topics(vec![
            add_partitions_to_txn_request::AddPartitionsToTxnTopic::default()
                .with_name(topic_name(&n.topic))
                .with_partitions(vec![0]),
        ]);
    let resp = raw.request(3, &req).expect("AddPartitionsToTxn");
    resp.results_by_topic_v3_and_below[0].results_by_partition[0].partition_error_code
}

fn add_offsets_to_txn(raw: &mut RawClient, n: &Names) -> i16 {
    let req = AddOffsetsToTxnRequest::default()
        .with_transactional_id(txn(n))
        .with_producer_id(ProducerId(1))
        .with_producer_epoch(0)
        .with_group_id(group(n));
    raw.request(3, &req).expect("AddOffsetsToTxn").error_code
}

fn txn_offset_commit(raw: &mut RawClient, n: &Names) -> i16 {
    let req = TxnOffsetCommitRequest::default()
        .with_transactional_id(txn(n))
        .with_group_id(group(n))
        .with_producer_id(ProducerId(1))
        .with_producer_epoch(0)
        .with_generation_id(-1)
        .with_topics(vec![
            txn_offset_commit_request::TxnOffsetCommitRequestTopic::default()
                .with_name(topic_name(&n.topic))
                .with_partitions(vec![
                    txn_offset_commit_request::TxnOffsetCommitRequestPartition::default()
                        .with_partition_index(0)
                        .with_committed_offset(0),
                ]),
        ]);
    raw.request(3, &req).expect("TxnOffsetCommit").topics[0].partitions[0].error_code
}

fn end_txn(raw: &mut RawClient, n: &Names) -> i16 {
    let req = EndTxnRequest::default()
        .with_transactional_id(txn(n))
        .with_producer_id(ProducerId(1))
        .with_producer_epoch(0)
        .with_committed(true);
    raw.request(3, &req).expect("EndTxn").error_code
}

fn describe_transactions(raw: &mut RawClient, n: &Names) -> i16 {
    let req = DescribeTransactionsRequest::default().with_transactional_ids(vec![txn(n)]);
    raw.request(0, &req)
        .expect("DescribeTransactions")
        .transaction_states[0]
        .error_code
}

fn list_transactions(raw: &mut RawClient, _: &Names) -> i16 {
    raw.request(1, &ListTransactionsRequest::default())
        .expect("ListTransactions")
        .error_code
}

fn list_groups(raw: &mut RawClient, _: &Names) -> i16 {
    raw.request(4, &ListGroupsRequest::default())
        .expect("ListGroups")
        .error_code
}

fn describe_log_dirs(raw: &mut RawClient, _: &Names) -> i16 {
    let req = DescribeLogDirsRequest::default().with_topics(None);
    raw.request(4, &req).expect("DescribeLogDirs").error_code
}

fn alter_replica_log_dirs(raw: &mut RawClient, n: &Names) -> i16 {
    use alter_replica_log_dirs_request::{AlterReplicaLogDir, AlterReplicaLogDirTopic};
    let req = AlterReplicaLogDirsRequest::default().with_dirs(vec![
        AlterReplicaLogDir::default()
            .with_path(s("/elsewhere"))
            .with_topics(vec![
                AlterReplicaLogDirTopic::default()
                    .with_name(topic_name(&n.topic))
                    .with_partitions(vec![0]),
            ]),
    ]);
    raw.request(2, &req).expect("AlterReplicaLogDirs").results[0].partitions[0].error_code
}

fn elect_leaders(raw: &mut RawClient, n: &Names) -> i16 {
    let req = ElectLeadersRequest::default()
        .with_election_type(0)
        .with_timeout_ms(10_000)
        .with_topic_partitions(Some(vec![
            elect_leaders_request::TopicPartitions::default()
                .with_topic(topic_name(&n.topic))
                .with_partitions(vec![0]),
        ]));
    raw.request(2, &req).expect("ElectLeaders").error_code
}

fn alter_partition_reassignments(raw: &mut RawClient, n: &Names) -> i16 {
    use alter_partition_reassignments_request::{ReassignablePartition, ReassignableTopic};
    let req = AlterPartitionReassignmentsRequest::default()
        .with_timeout_ms(10_000)
        .with_topics(vec![
            ReassignableTopic::default()
                .with_name(topic_name(&n.topic))
                .with_partitions(vec![
                    ReassignablePartition::default()
                        .with_partition_index(0)
                        .with_replicas(None),
                ]),
        ]);
    raw.request(0, &req)
        .expect("AlterPartitionReassignments")
        .error_code
}

fn list_partition_reassignments(raw: &mut RawClient, _: &Names) -> i16 {
    let req = ListPartitionReassignmentsRequest::default()
        .with_timeout_ms(10_000)
        .with_topics(None);
    raw.request(0, &req)
        .expect("ListPartitionReassignments")
        .error_code
}

fn write_txn_markers(raw: &mut RawClient, n: &Names) -> i16 {
    use write_txn_markers_request::{WritableTxnMarker, WritableTxnMarkerTopic};
    let req = WriteTxnMarkersRequest::default().with_markers(vec![
        WritableTxnMarker::default()
            .with_producer_id(ProducerId(1))
            .with_producer_epoch(0)
            .with_transaction_result(false)
            .with_topics(vec![
                WritableTxnMarkerTopic::default()
                    .with_name(topic_name(&n.topic))
                    .with_partition_indexes(vec![0]),
            ]),
    ]);
    raw.request(1, &req).expect("WriteTxnMarkers").markers[0].topics[0].partitions[0].error_code
}

fn describe_quorum(raw: &mut RawClient, _: &Names) -> i16 {
    use describe_quorum_request::{PartitionData, TopicData};
    let req = DescribeQuorumRequest::default().with_topics(vec![
        TopicData::default()
            .with_topic_name(topic_name("__cluster_metadata"))
            .with_partitions(vec![PartitionData::default().with_partition_index(0)]),
    ]);
    raw.request(2, &req).expect("DescribeQuorum").error_code
}

fn describe_client_quotas(raw: &mut RawClient, _: &Names) -> i16 {
    let req = DescribeClientQuotasRequest::default();
    raw.request(1, &req)
        .expect("DescribeClientQuotas")
        .error_code
}

fn alter_client_quotas(raw: &mut RawClient, _: &Names) -> i16 {
    use alter_client_quotas_request::{EntityData, EntryData, OpData};
    let req = AlterClientQuotasRequest::default()
        .with_validate_only(true)
        .with_entries(vec![
            EntryData::default()
                .with_entity(vec![
                    EntityData::default()
                        .with_entity_type(s("user"))
                        .with_entity_name(Some(s("mallory"))),
                ])
                .with_ops(vec![
                    OpData::default()
                        .with_key(s("producer_byte_rate"))
                        .with_value(1e9),
                ]),
        ]);
    raw.request(1, &req).expect("AlterClientQuotas").entries[0].error_code
}

fn describe_user_scram_credentials(raw: &mut RawClient, _: &Names) -> i16 {
    let req = DescribeUserScramCredentialsRequest::default().with_users(None);
    raw.request(0, &req)
        .expect("DescribeUserScramCredentials")
        .error_code
}

fn alter_user_scram_credentials(raw: &mut RawClient, _: &Names) -> i16 {
    use alter_user_scram_credentials_request::ScramCredentialDeletion;
    let req = AlterUserScramCredentialsRequest::default().with_deletions(vec![
        ScramCredentialDeletion::default()
            .with_name(s("admin"))
            .with_mechanism(2),
    ]);
    raw.request(0, &req)
        .expect("AlterUserScramCredentials")
        .results[0]
        .error_code
}

fn list_config_resources(raw: &mut RawClient, _: &Names) -> i16 {
    raw.request(1, &ListConfigResourcesRequest::default())
        .expect("ListConfigResources")
        .error_code
}

/// DescribeCluster's authorized operations: Kafka answers 0 to a requester
/// without DESCRIBE on the cluster (the request itself needs no ACL).
fn describe_cluster(raw: &mut RawClient, _: &Names) -> i16 {
    let req = DescribeClusterRequest::default()
        .with_include_cluster_authorized_operations(true)
        .with_endpoint_type(1);
    let resp = raw.request(1, &req).expect("DescribeCluster");
    assert_eq!(resp.error_code, 0);
    if resp.cluster_authorized_operations == 0 {
        31
    } else {
        0
    }
}

/// How many topics an all-topics Metadata lists.
pub fn listed_topics(raw: &mut RawClient) -> usize {
    raw.request(12, &MetadataRequest::default().with_topics(None))
        .expect("Metadata")
        .topics
        .len()
}

/// The groups ListGroups lists.
pub fn listed_groups(raw: &mut RawClient) -> Vec<String> {
    let resp = raw
        .request(4, &ListGroupsRequest::default())
        .expect("ListGroups");
    assert_eq!(resp.error_code, 0);
    resp.groups.iter().map(|g| g.group_id.to_string()).collect()
}

/// The transactional ids ListTransactions lists.
pub fn listed_transactions(raw: &mut RawClient) -> Vec<String> {
    let resp = raw
        .request(1, &ListTransactionsRequest::default())
        .expect("ListTransactions");
    assert_eq!(resp.error_code, 0);
    resp.transaction_states
        .iter()
        .map(|t| t.transactional_id.to_string())
        .collect()
}

macro_rules! case {
    ($api:literal, $run:ident, $denied:ident, $admin:literal) => {
        Case {
            api: $api,
            run: $run,
            denied: Denied::$denied,
            admin_allowed: $admin,
        }
    };
}

/// Every API that checks an ACL, with the error a principal without ACLs
/// gets. Destructive requests are not repeated by the super user.
pub const CASES: &[Case] = &[
    case!("Produce", produce, Topic, true),
    case!("Fetch", fetch, Topic, true),
    case!("ListOffsets", list_offsets, Topic, true),
    case!("OffsetForLeaderEpoch", offset_for_leader_epoch, Topic, true),
    case!("Metadata", metadata, Topic, true),
    case!(
        "DescribeTopicPartitions",
        describe_topic_partitions,
        Topic,
        true
    ),
    case!("CreateTopics", create_topics, Topic, false),
    case!("CreatePartitions", create_partitions, Topic, false),
    case!("DeleteRecords", delete_records, Topic, false),
    case!(
        "DescribeConfigs(topic)",
        describe_topic_configs,
        Topic,
        true
    ),
    case!(
        "DescribeConfigs(broker)",
        describe_broker_configs,
        Cluster,
        true
    ),
    case!(
        "DescribeConfigs(group)",
        describe_group_configs,
        Group,
        true
    ),
    case!("AlterConfigs(topic)", alter_topic_configs, Topic, true),
    case!(
        "IncrementalAlterConfigs(broker)",
        alter_broker_configs,
        Cluster,
        true
    ),
    case!("DescribeProducers", describe_producers, Topic, true),
    case!("JoinGroup", join_group, Group, false),
    case!("SyncGroup", sync_group, Group, false),
    case!("Heartbeat", heartbeat, Group, true),
    case!("LeaveGroup", leave_group, Group, true),
    case!("OffsetCommit", offset_commit, Group, false),
    case!("OffsetFetch", offset_fetch, Group, true),
    case!("OffsetDelete", offset_delete, Group, false),
    case!("DescribeGroups", describe_groups, Group, true),
    case!("DeleteGroups", delete_groups, Group, false),
    case!(
        "FindCoordinator(group)",
        find_group_coordinator,
        Group,
        true
    ),
    case!(
        "FindCoordinator(transaction)",
        find_txn_coordinator,
        TransactionalId,
        true
    ),
    case!(
        "InitProducerId(transactional)",
        init_txn_producer,
        TransactionalId,
        false
    ),
    case!(
        "InitProducerId(idempotent)",
        init_idempotent_producer,
        Cluster,
        true
    ),
    case!(
        "AddPartitionsToTxn",
        add_partitions_to_txn,
        TransactionalId,
        false
    ),
    case!(
        "AddOffsetsToTxn",
        add_offsets_to_txn,
        TransactionalId,
        false
    ),
    case!("TxnOffsetCommit", txn_offset_commit, TransactionalId, false),
    case!("EndTxn", end_txn, TransactionalId, false),
    case!(
        "DescribeTransactions",
        describe_transactions,
        TransactionalId,
        true
    ),
    case!("ListTransactions", list_transactions, Filtered, true),
    case!("ListGroups", list_groups, Filtered, true),
    case!("DescribeLogDirs", describe_log_dirs, Cluster, true),
    case!("AlterReplicaLogDirs", alter_replica_log_dirs, Cluster, true),
    case!("ElectLeaders", elect_leaders, Cluster, true),
    case!(
        "AlterPartitionReassignments",
        alter_partition_reassignments,
        Cluster,
        true
    ),
    case!(
        "ListPartitionReassignments",
        list_partition_reassignments,
        Cluster,
        true
    ),
    case!("DescribeQuorum", describe_quorum, Cluster, true),
    case!("WriteTxnMarkers", write_txn_markers, Cluster, false),
    case!(
        "DescribeClientQuotas",
        describe_client_quotas,
        Cluster,
        true
    ),
    case!("AlterClientQuotas", alter_client_quotas, Cluster, true),
    case!(
        "DescribeUserScramCredentials",
        describe_user_scram_credentials,
        Cluster,
        true
    ),
    case!(
        "AlterUserScramCredentials",
        alter_user_scram_credentials,
        Cluster,
        false
    ),
    case!("ListConfigResources", list_config_resources, Cluster, true),
    case!(
        "DescribeCluster(authorized operations)",
        describe_cluster,
        Cluster,
        true
    ),
    // Last: it deletes the topic the others name.
    case!("DeleteTopics", delete_topics, Topic, false),
];
