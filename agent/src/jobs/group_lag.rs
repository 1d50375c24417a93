//! Consumer lag as metrics: for each group this agent coordinates, the
//! records between its committed offset and the high watermark of every
//! partition it committed, read from the store every interval (one
//! statement per group), and the number of groups by state.
//!
//! Only a group's coordinator reports it, so summing over a cluster's
//! agents counts every group once. A group that moves to another agent, or
//! is deleted, leaves this agent's metrics at the next pass.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tracing::warn;

use crate::context::AgentContext;
use crate::groups::GroupStatus;
use crate::jobs::periodic::Ticks;

/// The label values of one lag sample: group, topic, partition.
type LagLabels = [String; 3];

const STATES: [GroupStatus; 5] = [
    GroupStatus::Empty,
    GroupStatus::PreparingRebalance,
    GroupStatus::CompletingRebalance,
    GroupStatus::Stable,
    GroupStatus::Dead,
];

/// Refreshes the lag and group metrics every `interval` until `stop`.
pub async fn export_lag(ctx: Arc<AgentContext>, interval: Duration, stop: CancellationToken) {
    let mut exported = BTreeSet::new();
    let mut ticks = Ticks::new(interval);
    while ticks.next(&stop).await {
        exported = refresh(&ctx, exported).await;
    }
}

/// One pass: sets every current sample and removes the ones that are gone.
/// Returns the label sets now exported.
async fn refresh(ctx: &AgentContext, before: BTreeSet<LagLabels>) -> BTreeSet<LagLabels> {
    let Ok(groups) = ctx.groups.list().await else {
        // The store is unreachable or the agent is stopping: keep the last
        // values rather than report every group as gone.
        return before;
    };
    let mut by_state: BTreeMap<&str, i64> = STATES.iter().map(|s| (s.as_str(), 0)).collect();
    let mut now = BTreeSet::new();
    let mut failed = None;
    for group in &groups {
        *by_state.entry(group.status.as_str()).or_default() += 1;
        match ctx.store.group_lag(&group.group_id).await {
            Ok(partitions) => {
                for p in partitions {
                    let labels = [group.group_id.clone(), p.topic, p.partition.to_string()];
                    let lag = (p.high_watermark - p.committed_offset).max(0);
                    ctx.metrics.group_lag.with_label_values(&labels).set(lag);
                    now.insert(labels);
                }
            }
            Err(e) => {
                failed.get_or_insert_with(|| e.to_string());
                now.extend(
                    before
                        .iter()
                        .filter(|labels| labels[0] == group.group_id)
                        .cloned(),
                );
            }
        }
    }
    if let Some(error) = failed {
        warn!(%error, "cannot read some groups' lag; their last values stay");
    }
    for gone in before.difference(&now) {
        let _ = ctx.metrics.group_lag.remove_label_values(&[
            gone[0].as_str(),
            gone[1].as_str(),
            gone[2].as_str(),
        ]);
    }
    for (state, count) in by_state {
        ctx.metrics.groups.with_label_values(&[state]).set(count);
    }
    now
}
