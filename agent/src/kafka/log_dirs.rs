//! DescribeLogDirs and AlterReplicaLogDirs, answered honestly for a
//! diskless log.
//!
//! Agents keep no partition data on disk: every partition lives in one
//! place, the object store, which is reported as the agent's one log
//! directory, named by its URL. A partition's size is the bytes of its
//! batches in segment objects, from the index (records deleted by retention
//! or DeleteRecords no longer count; segment headers are not counted). The
//! store has no fixed capacity: total and usable bytes are -1, unknown.
//! Every agent serves every partition, so each reports all of them.
//!
//! AlterReplicaLogDirs can only "move" a partition to the directory it is
//! already in: that path succeeds with nothing to do, any other path is
//! LOG_DIR_NOT_FOUND, as Kafka answers for a directory it does not have.

use std::sync::Arc;

use floe_metadata::Topic;
use kafka_protocol::ResponseError;
use kafka_protocol::messages::alter_replica_log_dirs_response::{
    AlterReplicaLogDirPartitionResult, AlterReplicaLogDirTopicResult,
};
use kafka_protocol::messages::describe_log_dirs_response::{
    DescribeLogDirsPartition, DescribeLogDirsResult, DescribeLogDirsTopic,
};
use kafka_protocol::messages::{
    AlterReplicaLogDirsRequest, AlterReplicaLogDirsResponse, DescribeLogDirsRequest,
    DescribeLogDirsResponse, TopicName,
};
use kafka_protocol::protocol::StrBytes;

use super::error_codes;
use crate::context::AgentContext;
use crate::error::AgentError;

/// Capacity Kafka reports when it does not know it.
const UNKNOWN_BYTES: i64 = -1;

/// Answers DescribeLogDirs: every partition asked for (all of them for a
/// null list) that exists, with its size.
pub async fn describe(ctx: &AgentContext, req: DescribeLogDirsRequest) -> DescribeLogDirsResponse {
    let dir = DescribeLogDirsResult::default()
        .with_log_dir(StrBytes::from_string(ctx.log_dir.clone()))
        .with_total_bytes(UNKNOWN_BYTES)
        .with_usable_bytes(UNKNOWN_BYTES);
    let dir = match sizes(ctx, req).await {
        Ok(topics) => dir.with_topics(topics),
        Err(e) => dir.with_error_code(error_codes::for_agent(&e)),
    };
    DescribeLogDirsResponse::default().with_results(vec![dir])
}

async fn sizes(
    ctx: &AgentContext,
    req: DescribeLogDirsRequest,
) -> Result<Vec<DescribeLogDirsTopic>, AgentError> {
    // (topic, the partitions asked for; None: all of them).
    let asked: Vec<(Arc<Topic>, Option<Vec<i32>>)> = match req.topics {
        None => ctx
            .topics
            .list()
            .await?
            .into_iter()
            .map(|t| (t, None))
            .collect(),
        Some(list) => {
            let mut found = Vec::with_capacity(list.len());
            for t in list {
                if let Some(topic) = ctx.topics.get(t.topic.as_str()).await? {
                    found.push((topic, Some(t.partitions)));
                }
            }
            found
        }
    };
    let mut topics = Vec::with_capacity(asked.len());
    for (topic, partitions) in asked {
        let sizes = ctx.store.partition_sizes(topic.id).await?;
        let size_of = |p: i32| {
            sizes
                .binary_search_by_key(&p, |&(partition, _)| partition)
                .map_or(0, |i| sizes[i].1)
        };
        let described = match partitions {
            None => (0..topic.partitions).collect(),
            Some(list) => list
                .into_iter()
                .filter(|p| (0..topic.partitions).contains(p))
                .collect::<Vec<_>>(),
        }
        .into_iter()
        .map(|p| {
            DescribeLogDirsPartition::default()
                .with_partition_index(p)
                .with_partition_size(size_of(p))
        })
        .collect();
        topics.push(
            DescribeLogDirsTopic::default()
                .with_name(TopicName(StrBytes::from_string(topic.name.clone())))
                .with_partitions(described),
        );
    }
    Ok(topics)
}

/// Answers AlterReplicaLogDirs: only the one directory exists.
pub async fn alter(
    ctx: &AgentContext,
    req: AlterReplicaLogDirsRequest,
) -> AlterReplicaLogDirsResponse {
    let mut results = Vec::new();
    for dir in req.dirs {
        let ours = dir.path.as_str() == ctx.log_dir;
        for t in dir.topics {
            let topic = ctx.topics.get(t.name.as_str()).await;
            let partitions = t
                .partitions
                .iter()
                .map(|&p| {
                    let code = match &topic {
                        _ if !ours => ResponseError::LogDirNotFound.code(),
                        Ok(Some(topic)) if (0..topic.partitions).contains(&p) => 0,
                        Ok(_) => ResponseError::UnknownTopicOrPartition.code(),
                        Err(e) => error_codes::for_agent(e),
                    };
                    AlterReplicaLogDirPartitionResult::default()
                        .with_partition_index(p)
                        .with_error_code(code)
                })
                .collect();
            results.push(
                AlterReplicaLogDirTopicResult::default()
                    .with_topic_name(t.name)
                    .with_partitions(partitions),
            );
        }
    }
    AlterReplicaLogDirsResponse::default().with_results(results)
}
