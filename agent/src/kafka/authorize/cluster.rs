//! The answers of requests Kafka refuses whole for want of an operation on
//! the cluster, each in the field Kafka puts CLUSTER_AUTHORIZATION_FAILED:
//! the top-level error code where the API has one (only in the versions
//! that carry it), else every entry of the request.

use kafka_protocol::messages::alter_client_quotas_response::{self, EntryData};
use kafka_protocol::messages::alter_partition_reassignments_response::{
    ReassignablePartitionResponse, ReassignableTopicResponse,
};
use kafka_protocol::messages::alter_replica_log_dirs_response::{
    AlterReplicaLogDirPartitionResult, AlterReplicaLogDirTopicResult,
};
use kafka_protocol::messages::alter_user_scram_credentials_response::AlterUserScramCredentialsResult;
use kafka_protocol::messages::describe_quorum_response::{PartitionData, TopicData};
use kafka_protocol::messages::elect_leaders_response::{PartitionResult, ReplicaElectionResult};
use kafka_protocol::messages::write_txn_markers_response::{
    WritableTxnMarkerPartitionResult, WritableTxnMarkerResult, WritableTxnMarkerTopicResult,
};
use kafka_protocol::messages::{
    AlterClientQuotasRequest, AlterClientQuotasResponse, AlterPartitionReassignmentsRequest,
    AlterPartitionReassignmentsResponse, AlterReplicaLogDirsRequest, AlterReplicaLogDirsResponse,
    AlterUserScramCredentialsRequest, AlterUserScramCredentialsResponse,
    DescribeClientQuotasResponse, DescribeLogDirsResponse, DescribeQuorumRequest,
    DescribeQuorumResponse, DescribeUserScramCredentialsResponse, ElectLeadersRequest,
    ElectLeadersResponse, ListConfigResourcesResponse, ListPartitionReassignmentsResponse,
    WriteTxnMarkersRequest, WriteTxnMarkersResponse,
};
use kafka_protocol::protocol::StrBytes;

use super::CLUSTER_DENIED;

/// Kafka's message for a refused request.
fn message() -> Option<StrBytes> {
    Some(StrBytes::from_static_str("Cluster authorization failed."))
}

/// DescribeLogDirs: the top-level code (v3+); before, no directory.
pub fn describe_log_dirs(version: i16) -> DescribeLogDirsResponse {
    let resp = DescribeLogDirsResponse::default();
    if version >= 3 {
        resp.with_error_code(CLUSTER_DENIED)
    } else {
        resp
    }
}

/// AlterReplicaLogDirs: every partition asked.
pub fn alter_replica_log_dirs(req: &AlterReplicaLogDirsRequest) -> AlterReplicaLogDirsResponse {
    let results = req
        .dirs
        .iter()
        .flat_map(|d| &d.topics)
        .map(|t| {
            AlterReplicaLogDirTopicResult::default()
                .with_topic_name(t.name.clone())
                .with_partitions(
                    t.partitions
                        .iter()
                        .map(|p| {
                            AlterReplicaLogDirPartitionResult::default()
                                .with_partition_index(*p)
                                .with_error_code(CLUSTER_DENIED)
                        })
                        .collect(),
                )
        })
        .collect();
    AlterReplicaLogDirsResponse::default().with_results(results)
}

/// ElectLeaders: the top-level code (v1+) and every partition asked.
pub fn elect_leaders(req: &ElectLeadersRequest, version: i16) -> ElectLeadersResponse {
    let results = req
        .topic_partitions
        .iter()
        .flatten()
        .map(|t| {
            ReplicaElectionResult::default()
                .with_topic(t.topic.clone())
                .with_partition_result(
                    t.partitions
                        .iter()
                        .map(|p| {
                            PartitionResult::default()
                                .with_partition_id(*p)
                                .with_error_code(CLUSTER_DENIED)
                                .with_error_message(message())
                        })
                        .collect(),
                )
        })
        .collect();
    let resp = ElectLeadersResponse::default().with_replica_election_results(results);
    if version >= 1 {
        resp.with_error_code(CLUSTER_DENIED)
    } else {
        resp
    }
}

/// AlterPartitionReassignments: the top-level code and every partition.
pub fn alter_partition_reassignments(
    req: &AlterPartitionReassignmentsRequest,
) -> AlterPartitionReassignmentsResponse {
    let responses = req
        .topics
        .iter()
        .map(|t| {
            ReassignableTopicResponse::default()
                .with_name(t.name.clone())
                .with_partitions(
                    t.partitions
                        .iter()
                        .map(|p| {
                            ReassignablePartitionResponse::default()
                                .with_partition_index(p.partition_index)
                                .with_error_code(CLUSTER_DENIED)
                                .with_error_message(message())
                        })
                        .collect(),
                )
        })
        .collect();
    AlterPartitionReassignmentsResponse::default()
        .with_allow_replication_factor_change(req.allow_replication_factor_change)
        .with_error_code(CLUSTER_DENIED)
        .with_error_message(message())
        .with_responses(responses)
}

/// ListPartitionReassignments: the top-level code.
pub fn list_partition_reassignments() -> ListPartitionReassignmentsResponse {
    ListPartitionReassignmentsResponse::default()
        .with_error_code(CLUSTER_DENIED)
        .with_error_message(message())
}

/// DescribeQuorum: the top-level code (and message from v2), and each
/// partition asked.
pub fn describe_quorum(req: &DescribeQuorumRequest, version: i16) -> DescribeQuorumResponse {
    let topics = req
        .topics
        .iter()
        .map(|t| {
            TopicData::default()
                .with_topic_name(t.topic_name.clone())
                .with_partitions(
                    t.partitions
                        .iter()
                        .map(|p| {
                            PartitionData::default()
                                .with_partition_index(p.partition_index)
                                .with_error_code(CLUSTER_DENIED)
                        })
                        .collect(),
                )
        })
        .collect();
    let resp = DescribeQuorumResponse::default()
        .with_error_code(CLUSTER_DENIED)
        .with_topics(topics);
    if version >= 2 {
        resp.with_error_message(message())
    } else {
        resp
    }
}

/// DescribeClientQuotas: the top-level code, no entries.
pub fn describe_client_quotas() -> DescribeClientQuotasResponse {
    DescribeClientQuotasResponse::default()
        .with_error_code(CLUSTER_DENIED)
        .with_error_message(message())
        .with_entries(None)
}

/// AlterClientQuotas: every entity asked.
pub fn alter_client_quotas(req: &AlterClientQuotasRequest) -> AlterClientQuotasResponse {
    let entries = req
        .entries
        .iter()
        .map(|e| {
            EntryData::default()
                .with_error_code(CLUSTER_DENIED)
                .with_error_message(message())
                .with_entity(
                    e.entity
                        .iter()
                        .map(|entity| {
                            alter_client_quotas_response::EntityData::default()
                                .with_entity_type(entity.entity_type.clone())
                                .with_entity_name(entity.entity_name.clone())
                        })
                        .collect(),
                )
        })
        .collect();
    AlterClientQuotasResponse::default().with_entries(entries)
}

/// DescribeUserScramCredentials: the top-level code.
pub fn describe_user_scram_credentials() -> DescribeUserScramCredentialsResponse {
    DescribeUserScramCredentialsResponse::default()
        .with_error_code(CLUSTER_DENIED)
        .with_error_message(message())
}

/// AlterUserScramCredentials: every user named, once.
pub fn alter_user_scram_credentials(
    req: &AlterUserScramCredentialsRequest,
) -> AlterUserScramCredentialsResponse {
    let mut users: Vec<&StrBytes> = req
        .deletions
        .iter()
        .map(|d| &d.name)
        .chain(req.upsertions.iter().map(|u| &u.name))
        .collect();
    users.sort();
    users.dedup();
    let results = users
        .into_iter()
        .map(|user| {
            AlterUserScramCredentialsResult::default()
                .with_user(user.clone())
                .with_error_code(CLUSTER_DENIED)
                .with_error_message(message())
        })
        .collect();
    AlterUserScramCredentialsResponse::default().with_results(results)
}

/// ListConfigResources: the top-level code.
pub fn list_config_resources() -> ListConfigResourcesResponse {
    ListConfigResourcesResponse::default().with_error_code(CLUSTER_DENIED)
}

/// WriteTxnMarkers (CLUSTER_ACTION): every partition of every marker.
pub fn write_txn_markers(req: &WriteTxnMarkersRequest) -> WriteTxnMarkersResponse {
    let markers = req
        .markers
        .iter()
        .map(|marker| {
            let topics = marker
                .topics
                .iter()
                .map(|topic| {
                    let partitions = topic
                        .partition_indexes
                        .iter()
                        .map(|&p| {
                            WritableTxnMarkerPartitionResult::default()
                                .with_partition_index(p)
                                .with_error_code(CLUSTER_DENIED)
                        })
                        .collect();
                    WritableTxnMarkerTopicResult::default()
                        .with_name(topic.name.clone())
                        .with_partitions(partitions)
                })
                .collect();
            WritableTxnMarkerResult::default()
                .with_producer_id(marker.producer_id)
                .with_topics(topics)
        })
        .collect();
    WriteTxnMarkersResponse::default().with_markers(markers)
}
