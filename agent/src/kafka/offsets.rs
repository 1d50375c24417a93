//! Committed offsets: OffsetCommit, OffsetFetch (one group, or several
//! from v8) and OffsetDelete.
//!
//! Partitions are resolved to topic ids here; the group's task checks the
//! member and generation and writes to the store, in the order the
//! connection sent its requests, so a fetch after a commit sees it.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::Arc;

use floe_metadata::{CommittedOffset, Topic, TopicId};
use kafka_protocol::ResponseError;
use kafka_protocol::messages::offset_commit_response::{
    OffsetCommitResponsePartition, OffsetCommitResponseTopic,
};
use kafka_protocol::messages::offset_delete_response::{
    OffsetDeleteResponsePartition, OffsetDeleteResponseTopic,
};
use kafka_protocol::messages::offset_fetch_response::{
    OffsetFetchResponseGroup, OffsetFetchResponsePartition, OffsetFetchResponsePartitions,
    OffsetFetchResponseTopic, OffsetFetchResponseTopics,
};
use kafka_protocol::messages::{
    GroupId, OffsetCommitRequest, OffsetCommitResponse, OffsetDeleteRequest, OffsetDeleteResponse,
    OffsetFetchRequest, OffsetFetchResponse, TopicName,
};
use kafka_protocol::protocol::StrBytes;

use super::authorize::{Access, GROUP_DENIED, Op, TOPIC_DENIED};
use super::error_codes::{for_agent, for_group};
use crate::authz::ResourceType;
use crate::context::AgentContext;
use crate::groups::types::OffsetToDelete;
use crate::groups::{CommitArgs, GroupError, Pending};

const UNKNOWN_PARTITION: i16 = ResponseError::UnknownTopicOrPartition.code();
const UNSTABLE: i16 = ResponseError::UnstableOffsetCommit.code();

/// A topic of a request and, per partition, an error decided before the
/// group saw it (`None`: the group's answer applies).
type Planned = (TopicName, Vec<(i32, Option<i16>)>);

/// A topic looked up by name: the topic, or the error code for all of
/// its partitions.
async fn resolve(ctx: &AgentContext, name: &str) -> Result<Arc<Topic>, i16> {
    match ctx.topics.get(name).await {
        Ok(Some(t)) => Ok(t),
        Ok(None) => Err(UNKNOWN_PARTITION),
        Err(e) => Err(for_agent(&e)),
    }
}

/// OffsetCommit. As Kafka: without READ on the group every partition is
/// GROUP_AUTHORIZATION_FAILED; a topic without READ is
/// TOPIC_AUTHORIZATION_FAILED; the others are committed.
pub async fn commit(
    ctx: &AgentContext,
    req: OffsetCommitRequest,
    access: &Access,
) -> impl Future<Output = OffsetCommitResponse> + Send + 'static {
    let group_refused = !access.group(Op::Read, &req.group_id);
    let now_ms = ctx.groups.now_ms();
    let max_metadata = ctx.groups.settings().max_metadata_bytes;
    let mut offsets = Vec::new();
    // Per topic, per partition: an error decided here, or `None` for the
    // partitions that go to the group.
    let mut plan: Vec<Planned> = Vec::new();
    for t in req.topics {
        let topic = if group_refused {
            Err(GROUP_DENIED)
        } else if !access.topic(Op::Read, &t.name) {
            Err(TOPIC_DENIED)
        } else {
            resolve(ctx, t.name.as_str()).await
        };
        let mut parts = Vec::with_capacity(t.partitions.len());
        for p in t.partitions {
            let early = match &topic {
                Ok(topic) if !(0..topic.partitions).contains(&p.partition_index) => {
                    Some(UNKNOWN_PARTITION)
                }
                Ok(_)
                    if p.committed_metadata
                        .as_ref()
                        .is_some_and(|m| m.len() > max_metadata) =>
                {
                    Some(for_group(GroupError::OffsetMetadataTooLarge))
                }
                Ok(topic) => {
                    offsets.push(CommittedOffset {
                        topic_id: topic.id,
                        partition: p.partition_index,
                        offset: p.committed_offset,
                        leader_epoch: p.committed_leader_epoch,
                        metadata: p.committed_metadata.map(|m| m.to_string()),
                        commit_timestamp_ms: now_ms,
                    });
                    None
                }
                Err(code) => Some(*code),
            };
            parts.push((p.partition_index, early));
        }
        plan.push((t.name, parts));
    }
    let pending = if offsets.is_empty() {
        Pending::ready(Ok(()))
    } else {
        let args = CommitArgs {
            member_id: req.member_id.to_string(),
            group_instance_id: req.group_instance_id.map(|s| s.to_string()),
            generation: req.generation_id_or_member_epoch,
            offsets,
        };
        ctx.groups.commit(req.group_id.as_str(), args).await
    };
    async move {
        let code = pending.wait().await.err().map_or(0, for_group);
        let topics = plan
            .into_iter()
            .map(|(name, parts)| {
                OffsetCommitResponseTopic::default()
                    .with_name(name)
                    .with_partitions(
                        parts
                            .into_iter()
                            .map(|(index, early)| {
                                OffsetCommitResponsePartition::default()
                                    .with_partition_index(index)
                                    .with_error_code(early.unwrap_or(code))
                            })
                            .collect(),
                    )
            })
            .collect();
        OffsetCommitResponse::default().with_topics(topics)
    }
}

/// The partitions asked for in one group of an OffsetFetch: `None` for
/// all of them.
type Asked = Option<Vec<(TopicName, Vec<i32>)>>;

/// One group's part of an OffsetFetch, queued.
struct GroupFetch {
    group_id: GroupId,
    asked: Asked,
    /// Topics of the asked partitions, by name (those that exist).
    topics: HashMap<String, TopicId>,
    /// Asked-for topics the requester may not DESCRIBE.
    denied: HashSet<String>,
    /// GROUP_AUTHORIZATION_FAILED when the requester may not DESCRIBE the
    /// group (then `pending` is not the group's answer).
    refused: Option<i16>,
    pending: Pending<Result<Vec<CommittedOffset>, GroupError>>,
}

/// The answer for one partition.
#[derive(Debug, Clone)]
struct Fetched {
    partition: i32,
    offset: i64,
    leader_epoch: i32,
    metadata: Option<StrBytes>,
    error: i16,
}

impl Fetched {
    /// A partition without a committed offset, as Kafka answers it.
    fn none(partition: i32, error: i16) -> Self {
        Self {
            partition,
            offset: -1,
            leader_epoch: -1,
            metadata: Some(StrBytes::default()),
            error,
        }
    }
}

/// OffsetFetch. As Kafka: a group the requester may not DESCRIBE is
/// GROUP_AUTHORIZATION_FAILED; asked-for topics it may not DESCRIBE are
/// TOPIC_AUTHORIZATION_FAILED per partition, and left out of an answer
/// for all the group's topics.
pub async fn fetch(
    ctx: &Arc<AgentContext>,
    req: OffsetFetchRequest,
    version: i16,
    access: &Access,
) -> impl Future<Output = OffsetFetchResponse> + Send + 'static {
    // v7+: offsets pending in an open transaction are UNSTABLE_OFFSET_COMMIT
    // (KIP-447), so a consumer does not start from an offset that may yet
    // be rolled back.
    let require_stable = version >= 7 && req.require_stable;
    let asked: Vec<(GroupId, Asked)> = if version >= 8 {
        req.groups
            .into_iter()
            .map(|g| {
                let topics = g.topics.map(|ts| {
                    ts.into_iter()
                        .map(|t| (t.name, t.partition_indexes))
                        .collect()
                });
                (g.group_id, topics)
            })
            .collect()
    } else {
        let topics = req.topics.map(|ts| {
            ts.into_iter()
                .map(|t| (t.name, t.partition_indexes))
                .collect()
        });
        vec![(req.group_id, topics)]
    };
    let mut queued = Vec::with_capacity(asked.len());
    for (group_id, asked) in asked {
        if !access.group(Op::Describe, &group_id) {
            queued.push(GroupFetch {
                group_id,
                asked,
                topics: HashMap::new(),
                denied: HashSet::new(),
                refused: Some(GROUP_DENIED),
                pending: Pending::ready(Ok(Vec::new())),
            });
            continue;
        }
        let mut topics = HashMap::new();
        let mut denied = HashSet::new();
        let partitions = match &asked {
            None => None,
            Some(list) => {
                let mut partitions = Vec::new();
                for (name, indexes) in list {
                    if !access.topic(Op::Describe, name) {
                        denied.insert(name.to_string());
                        continue;
                    }
                    if let Ok(t) = resolve(ctx, name.as_str()).await {
                        topics.insert(name.to_string(), t.id);
                        partitions.extend(indexes.iter().map(|&p| (t.id, p)));
                    }
                }
                Some(partitions)
            }
        };
        let pending = ctx
            .groups
            .fetch_offsets(group_id.as_str(), partitions)
            .await;
        queued.push(GroupFetch {
            group_id,
            asked,
            topics,
            denied,
            refused: None,
            pending,
        });
    }
    let ctx = ctx.clone();
    let access = access.clone();
    async move {
        let mut groups = Vec::with_capacity(queued.len());
        for q in queued {
            if let Some(code) = q.refused {
                let parts = q
                    .asked
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(name, idx)| {
                        (
                            name,
                            idx.into_iter().map(|p| Fetched::none(p, code)).collect(),
                        )
                    })
                    .collect();
                groups.push((q.group_id, Err((code, parts))));
                continue;
            }
            let all_topics = q.asked.is_none();
            let result = q.pending.wait().await;
            let unstable = if require_stable {
                match ctx.store.pending_txn_offsets(q.group_id.as_str()).await {
                    Ok(pending) => pending.into_iter().collect(),
                    Err(e) => {
                        tracing::warn!(group = %q.group_id.as_str(), error = %e, "pending transactional offsets unknown");
                        HashSet::new()
                    }
                }
            } else {
                HashSet::new()
            };
            let answer = answer_group(&ctx, q.asked, &q.topics, result, &unstable).await;
            groups.push((q.group_id, restrict(answer, &q.denied, all_topics, &access)));
        }
        fetch_response(groups, version)
    }
}

/// One group's answer: per topic name, per partition; or the group's error
/// with the partitions that were asked.
async fn answer_group(
    ctx: &AgentContext,
    asked: Asked,
    topics: &HashMap<String, TopicId>,
    result: Result<Vec<CommittedOffset>, GroupError>,
    unstable: &HashSet<(TopicId, i32)>,
) -> Result<Vec<(TopicName, Vec<Fetched>)>, (i16, Vec<(TopicName, Vec<Fetched>)>)> {
    let offsets = match result {
        Ok(o) => o,
        Err(e) => {
            let code = for_group(e);
            let parts = asked
                .unwrap_or_default()
                .into_iter()
                .map(|(name, idx)| {
                    (
                        name,
                        idx.into_iter().map(|p| Fetched::none(p, code)).collect(),
                    )
                })
                .collect();
            return Err((code, parts));
        }
    };
    let found = |o: &CommittedOffset| {
        if unstable.contains(&(o.topic_id, o.partition)) {
            return Fetched::none(o.partition, UNSTABLE);
        }
        Fetched {
            partition: o.partition,
            offset: o.offset,
            leader_epoch: o.leader_epoch,
            metadata: o.metadata.clone().map(StrBytes::from_string),
            error: 0,
        }
    };
    match asked {
        Some(list) => {
            let by_key: HashMap<(TopicId, i32), &CommittedOffset> = offsets
                .iter()
                .map(|o| ((o.topic_id, o.partition), o))
                .collect();
            Ok(list
                .into_iter()
                .map(|(name, indexes)| {
                    let id = topics.get(name.as_str());
                    let parts = indexes
                        .into_iter()
                        .map(|p| {
                            if id.is_some_and(|id| unstable.contains(&(*id, p))) {
                                return Fetched::none(p, UNSTABLE);
                            }
                            id.and_then(|id| by_key.get(&(*id, p)))
                                .map_or_else(|| Fetched::none(p, 0), |o| found(o))
                        })
                        .collect();
                    (name, parts)
                })
                .collect())
        }
        None => {
            // All of the group's offsets, by topic; offsets of deleted
            // topics are left out.
            let mut names: HashMap<TopicId, Option<String>> = HashMap::new();
            let mut out: Vec<(TopicName, Vec<Fetched>)> = Vec::new();
            for o in &offsets {
                if let std::collections::hash_map::Entry::Vacant(slot) = names.entry(o.topic_id) {
                    let name = match ctx.topics.get_by_id(o.topic_id).await {
                        Ok(t) => t.map(|t| t.name.clone()),
                        Err(_) => None,
                    };
                    slot.insert(name);
                }
                let Some(Some(name)) = names.get(&o.topic_id) else {
                    continue;
                };
                match out.last_mut() {
                    Some((n, parts)) if n.as_str() == name => parts.push(found(o)),
                    _ => out.push((
                        TopicName(StrBytes::from_string(name.clone())),
                        vec![found(o)],
                    )),
                }
            }
            Ok(out)
        }
    }
}

/// A group's answer as the requester may see it: asked-for topics it may
/// not DESCRIBE carry TOPIC_AUTHORIZATION_FAILED, and an answer for all
/// the group's topics leaves them out.
fn restrict(
    answer: GroupAnswer,
    denied: &HashSet<String>,
    all_topics: bool,
    access: &Access,
) -> GroupAnswer {
    let Ok(topics) = answer else {
        return answer;
    };
    if all_topics {
        if !access.is_checked() {
            return Ok(topics);
        }
        return Ok(topics
            .into_iter()
            .filter(|(name, _)| access.shows(Op::Describe, ResourceType::Topic, name))
            .collect());
    }
    Ok(topics
        .into_iter()
        .map(|(name, parts)| {
            if !denied.contains(name.as_str()) {
                return (name, parts);
            }
            let parts = parts
                .into_iter()
                .map(|f| Fetched::none(f.partition, TOPIC_DENIED))
                .collect();
            (name, parts)
        })
        .collect())
}

type GroupAnswer = Result<Vec<(TopicName, Vec<Fetched>)>, (i16, Vec<(TopicName, Vec<Fetched>)>)>;

fn fetch_response(groups: Vec<(GroupId, GroupAnswer)>, version: i16) -> OffsetFetchResponse {
    if version >= 8 {
        let groups = groups
            .into_iter()
            .map(|(id, answer)| {
                let (code, topics) = match answer {
                    Ok(t) => (0, t),
                    Err((code, _)) => (code, Vec::new()),
                };
                OffsetFetchResponseGroup::default()
                    .with_group_id(id)
                    .with_error_code(code)
                    .with_topics(
                        topics
                            .into_iter()
                            .map(|(name, parts)| {
                                OffsetFetchResponseTopics::default()
                                    .with_name(name)
                                    .with_partitions(parts.into_iter().map(partitions_v8).collect())
                            })
                            .collect(),
                    )
            })
            .collect();
        return OffsetFetchResponse::default().with_groups(groups);
    }
    let Some((_, answer)) = groups.into_iter().next() else {
        return OffsetFetchResponse::default();
    };
    let (code, topics) = match answer {
        Ok(t) => (0, t),
        // v2+ carry the group's error at the top; v1 only per partition.
        Err((code, parts)) if version < 2 => (code, parts),
        Err((code, _)) => (code, Vec::new()),
    };
    let resp = OffsetFetchResponse::default().with_topics(
        topics
            .into_iter()
            .map(|(name, parts)| {
                OffsetFetchResponseTopic::default()
                    .with_name(name)
                    .with_partitions(parts.into_iter().map(partition_v0).collect())
            })
            .collect(),
    );
    if version >= 2 {
        resp.with_error_code(code)
    } else {
        resp
    }
}

fn partition_v0(f: Fetched) -> OffsetFetchResponsePartition {
    OffsetFetchResponsePartition::default()
        .with_partition_index(f.partition)
        .with_committed_offset(f.offset)
        .with_committed_leader_epoch(f.leader_epoch)
        .with_metadata(f.metadata)
        .with_error_code(f.error)
}

fn partitions_v8(f: Fetched) -> OffsetFetchResponsePartitions {
    OffsetFetchResponsePartitions::default()
        .with_partition_index(f.partition)
        .with_committed_offset(f.offset)
        .with_committed_leader_epoch(f.leader_epoch)
        .with_metadata(f.metadata)
        .with_error_code(f.error)
}

/// OffsetDelete. As Kafka: without DELETE on the group the answer is the
/// top-level GROUP_AUTHORIZATION_FAILED alone; a topic without READ is
/// TOPIC_AUTHORIZATION_FAILED per partition.
pub async fn delete(
    ctx: &AgentContext,
    req: OffsetDeleteRequest,
    access: &Access,
) -> impl Future<Output = OffsetDeleteResponse> + Send + 'static {
    let refused = !req.group_id.is_empty() && !access.group(Op::Delete, &req.group_id);
    let mut to_delete = Vec::new();
    let mut plan: Vec<Planned> = Vec::new();
    for t in req.topics.into_iter().filter(|_| !refused) {
        let topic = if access.topic(Op::Read, &t.name) {
            resolve(ctx, t.name.as_str()).await
        } else {
            Err(TOPIC_DENIED)
        };
        let parts = t
            .partitions
            .into_iter()
            .map(|p| {
                let early = match &topic {
                    Ok(topic) if (0..topic.partitions).contains(&p.partition_index) => {
                        to_delete.push(OffsetToDelete {
                            topic: t.name.to_string(),
                            topic_id: topic.id,
                            partition: p.partition_index,
                        });
                        None
                    }
                    Ok(_) => Some(UNKNOWN_PARTITION),
                    Err(code) => Some(*code),
                };
                (p.partition_index, early)
            })
            .collect();
        plan.push((t.name, parts));
    }
    let pending = if req.group_id.is_empty() {
        Pending::ready(Err(GroupError::InvalidGroupId))
    } else if refused {
        Pending::ready(Ok(Vec::new()))
    } else {
        ctx.groups
            .delete_offsets(req.group_id.as_str(), to_delete)
            .await
    };
    async move {
        if refused {
            return OffsetDeleteResponse::default().with_error_code(GROUP_DENIED);
        }
        let (group_code, mut results) = match pending.wait().await {
            Ok(r) => (0, r.into_iter()),
            Err(e) => (for_group(e), Vec::new().into_iter()),
        };
        let topics = plan
            .into_iter()
            .filter_map(|(name, parts)| {
                let parts: Vec<OffsetDeleteResponsePartition> = parts
                    .into_iter()
                    .filter_map(|(index, early)| {
                        let code = match early {
                            Some(code) => code,
                            // On a group error only the partitions decided
                            // here are listed, as Kafka does.
                            None if group_code != 0 => return None,
                            None => results.next().and_then(|r| r.err()).map_or(0, for_group),
                        };
                        Some(
                            OffsetDeleteResponsePartition::default()
                                .with_partition_index(index)
                                .with_error_code(code),
                        )
                    })
                    .collect();
                (!parts.is_empty()).then(|| {
                    OffsetDeleteResponseTopic::default()
                        .with_name(name)
                        .with_partitions(parts)
                })
            })
            .collect();
        OffsetDeleteResponse::default()
            .with_error_code(group_code)
            .with_topics(topics)
    }
}
