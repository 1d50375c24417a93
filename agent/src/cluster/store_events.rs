//! What other agents changed, as the metadata store tells it: commits wake
//! this agent's long-polling fetches, topic deletions drop the topic ids it
//! cached. A store that can notify (Postgres) is also polled, in case a
//! notification was lost; after its stream reconnected (notifications of
//! the gap lost), every cached topic is dropped.

use std::sync::Arc;
use std::time::Duration;

use floe_metadata::StoreEvent;
use futures::StreamExt;
use tokio_util::sync::CancellationToken;
use tracing::warn;

use crate::context::AgentContext;

/// Follows the store's events until `stop`; `poll` is the fallback wake-up
/// of long polls.
pub async fn follow(ctx: Arc<AgentContext>, poll: Duration, stop: CancellationToken) {
    let mut events = match ctx.store.commit_notifications().await {
        Ok(n) => n,
        Err(e) => {
            warn!(error = %e, "store notifications unavailable; polling only");
            ctx.topics.forget_all();
            None
        }
    };
    // A store that cannot notify (SQLite) serves a single agent, whose own
    // commits wake its fetches directly: nothing to poll for.
    let can_notify = events.is_some();
    let mut tick = tokio::time::interval(poll);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let next = async |events: &mut Option<floe_metadata::CommitNotifications>| match events {
        Some(stream) => stream.next().await,
        None => std::future::pending().await,
    };
    loop {
        tokio::select! {
            Some(event) = next(&mut events) => match event {
                StoreEvent::Committed => {}
                StoreEvent::TopicChanged(name) => ctx.topics.forget(&name),
                StoreEvent::Resumed => ctx.topics.forget_all(),
            },
            _ = tick.tick(), if can_notify => {}
            _ = stop.cancelled() => return,
        }
        ctx.watermarks.wake_all();
    }
}
