//! The bounds (log start offset, high watermark) of every partition a
//! request names, read from the store in one round trip, so that Fetch and
//! ListOffsets cost the same however many partitions they cover.

use std::collections::HashMap;

use floe_metadata::{PartitionOffsets, TopicId};

use super::error_codes;
use crate::context::AgentContext;

/// Bounds by (topic, partition); partitions that do not exist are absent.
pub type Bounds = HashMap<(TopicId, i32), PartitionOffsets>;

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
