//! The bounds (log start offset, high watermark) of every partition a
//! request names, read from the store in one round trip, so that Fetch and
//! ListOffsets cost the same however many partitions they cover.

use std::collections::HashMap;
use std::sync::Arc;

use floe_metadata::{PartitionOffsets, Topic, TopicId};

use super::error_codes;
use crate::context::AgentContext;
use crate::error::Result as AgentResult;

/// A topic a request names, as the catalogue resolved it.
pub type Resolved = AgentResult<Option<Arc<Topic>>>;

/// Bounds by (topic, partition); partitions that do not exist are absent.
pub type Bounds = HashMap<(TopicId, i32), PartitionOffsets>;

/// Resolves the topics a request names, in order, and reads the bounds of
/// every partition asked of those that exist, in one round trip: what
/// ListOffsets and OffsetForLeaderEpoch both start with. `asked` gives each
/// topic's name and partition indexes.
pub async fn resolve_and_read<'a>(
    ctx: &AgentContext,
    asked: impl IntoIterator<Item = (&'a str, Vec<i32>)>,
) -> (Vec<Resolved>, Result<Bounds, i16>) {
    let asked: Vec<(&str, Vec<i32>)> = asked.into_iter().collect();
    let mut resolved = Vec::with_capacity(asked.len());
    for (name, _) in &asked {
        resolved.push(ctx.topics.get(name).await);
    }
    let partitions = asked
        .iter()
        .zip(&resolved)
        .filter_map(|((_, partitions), topic)| match topic {
            Ok(Some(topic)) => Some((partitions, topic)),
            _ => None,
        })
        .flat_map(|(partitions, topic)| {
            partitions
                .iter()
                .filter(|p| (0..topic.partitions).contains(*p))
                .map(|p| (topic.id, *p))
        })
        .collect();
    let bounds = read(ctx, partitions).await;
    (resolved, bounds)
}

/// The bounds of `asked`, or the Kafka error code of the store call.
pub async fn read(ctx: &AgentContext, asked: Vec<(TopicId, i32)>) -> Result<Bounds, i16> {
    let found = ctx
        .reader
        .bounds_many(&asked)
        .await
        .map_err(|e| error_codes::for_agent(&e))?;
    Ok(asked
        .into_iter()
        .zip(found)
        .filter_map(|(partition, bounds)| Some((partition, bounds?)))
        .collect())
}
