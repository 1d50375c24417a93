//! Keeps this agent's ACLs current: they are cluster-wide rows in the
//! metadata store, changed through any agent, so every agent reads the
//! store's ACL version each interval (one row) and reads the ACLs again
//! only when it moved. The agent that changed them refreshes at once,
//! before it answers.

use std::time::Duration;

use floe_metadata::MetadataStore;
use tokio_util::sync::CancellationToken;

use super::periodic;
use crate::authz::Authorizer;

/// Reads the ACLs again if the store's version moved past the one in
/// force; nothing without an authorizer.
pub async fn refresh(
    store: &dyn MetadataStore,
    authorizer: &Authorizer,
) -> crate::error::Result<()> {
    let Some(held) = authorizer.version() else {
        return Ok(());
    };
    if store.acl_version().await? == held {
        return Ok(());
    }
    let (version, acls) = store.acls().await?;
    let count = acls.len();
    authorizer.install(version, acls);
    tracing::debug!(version, count, "ACLs refreshed");
    Ok(())
}

/// Refreshes every `interval` until `stop` (nothing to do, and returns at
/// once, without an authorizer).
pub async fn run(
    store: std::sync::Arc<dyn MetadataStore>,
    authorizer: Authorizer,
    interval: Duration,
    stop: CancellationToken,
) {
    if !authorizer.is_enabled() {
        return;
    }
    let mut ticks = periodic::Ticks::new(interval);
    while ticks.next(&stop).await {
        periodic::pass("acls", refresh(&*store, &authorizer)).await;
    }
}
