//! DescribeQuorum: the metadata quorum, as a leaderless log has it.
//!
//! A Kafka 4.x broker forwards DescribeQuorum to its KRaft controllers, whose
//! Raft log (`__cluster_metadata`, partition 0) orders every metadata change.
//! Floe's equivalent is the metadata store, which every agent reads and
//! writes directly: no agent copies a log from another, so every live agent
//! is a voter and always caught up, and none is an observer. The leader is
//! the answering agent, the controller id Metadata and DescribeCluster report
//! (any agent serves admin requests), at leader epoch 0 like every epoch Floe
//! reports. Floe's metadata log is the store's own and has no Kafka offsets:
//! the high watermark and each voter's log end offset are -1, Kafka's value
//! for "not known". Requests for any other partition get
//! UNKNOWN_TOPIC_OR_PARTITION per partition, as Kafka answers them.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::describe_quorum_response::{
    Listener, Node, PartitionData, ReplicaState, TopicData,
};
use kafka_protocol::messages::{
    BrokerId, DescribeQuorumRequest, DescribeQuorumResponse, TopicName,
};
use kafka_protocol::protocol::StrBytes;

use crate::cluster::routing::AgentAddress;
use crate::context::AgentContext;
use crate::wall_clock;

/// The metadata log's topic, as Kafka names it.
pub const METADATA_TOPIC: &str = "__cluster_metadata";
/// The listener name the voters' endpoints carry: Floe agents have one
/// listener, the Kafka one.
const LISTENER_NAME: &str = "PLAINTEXT";

/// Answers DescribeQuorum.
pub fn handle(ctx: &AgentContext, req: DescribeQuorumRequest) -> DescribeQuorumResponse {
    let asks_for_the_log = matches!(
        &req.topics[..],
        [topic] if topic.topic_name.0.as_str() == METADATA_TOPIC
            && matches!(&topic.partitions[..], [p] if p.partition_index == 0)
    );
    if !asks_for_the_log {
        return unknown_partitions(&req);
    }
    let me = ctx.registry.me();
    let mut voters = ctx.registry.live();
    if !voters.iter().any(|a| a.node_id == me.node_id) {
        voters.push(me.clone());
    }
    voters.sort_by_key(|a| a.node_id);
    let now = wall_clock::now_ms();
    let partition = PartitionData::default()
        .with_partition_index(0)
        .with_leader_id(BrokerId(me.node_id))
        .with_leader_epoch(0)
        .with_high_watermark(-1)
        .with_current_voters(
            voters
                .iter()
                .map(|a| {
                    ReplicaState::default()
                        .with_replica_id(BrokerId(a.node_id))
                        .with_log_end_offset(-1)
                        .with_last_fetch_timestamp(now)
                        .with_last_caught_up_timestamp(now)
                })
                .collect(),
        );
    DescribeQuorumResponse::default()
        .with_topics(vec![
            TopicData::default()
                .with_topic_name(TopicName(StrBytes::from_static_str(METADATA_TOPIC)))
                .with_partitions(vec![partition]),
        ])
        .with_nodes(voters.iter().map(node).collect())
}

/// A voter's endpoint (v2+).
fn node(agent: &AgentAddress) -> Node {
    Node::default()
        .with_node_id(BrokerId(agent.node_id))
        .with_listeners(vec![
            Listener::default()
                .with_name(StrBytes::from_static_str(LISTENER_NAME))
                .with_host(StrBytes::from_string(agent.host.clone()))
                .with_port(u16::try_from(agent.port).unwrap_or(0)),
        ])
}

/// Every partition asked for, refused as not this log's.
fn unknown_partitions(req: &DescribeQuorumRequest) -> DescribeQuorumResponse {
    let code = ResponseError::UnknownTopicOrPartition.code();
    DescribeQuorumResponse::default().with_topics(
        req.topics
            .iter()
            .map(|topic| {
                TopicData::default()
                    .with_topic_name(topic.topic_name.clone())
                    .with_partitions(
                        topic
                            .partitions
                            .iter()
                            .map(|p| {
                                PartitionData::default()
                                    .with_partition_index(p.partition_index)
                                    .with_error_code(code)
                            })
                            .collect(),
                    )
            })
            .collect(),
    )
}
