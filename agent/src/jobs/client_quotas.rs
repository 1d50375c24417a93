//! Keeps this agent's copy of the client quotas current: they are
//! cluster-wide rows in the metadata store, altered through any agent, so
//! every agent reads them again each interval (one small query), as it
//! does the dynamic broker configs. The agent that altered them reads them
//! at once. Each pass also drops the rates of clients idle for an hour.

use std::sync::Arc;
use std::time::{Duration, Instant};

use floe_metadata::MetadataStore;
use tokio_util::sync::CancellationToken;

use super::periodic;
use crate::quotas::{ClientQuotas, QuotaSet};

/// Reads the client quotas from the store and puts them in force.
pub async fn refresh(store: &dyn MetadataStore, quotas: &ClientQuotas) -> crate::error::Result<()> {
    let all = store.client_quotas().await?;
    quotas.install(QuotaSet::new(&all));
    quotas.expire_idle(Instant::now());
    Ok(())
}

/// Refreshes every `interval` (the first at once) until `stop`.
pub async fn run(
    store: Arc<dyn MetadataStore>,
    quotas: Arc<ClientQuotas>,
    interval: Duration,
    stop: CancellationToken,
) {
    let mut ticks = periodic::Ticks::new(interval);
    while ticks.next(&stop).await {
        periodic::pass("client_quotas", refresh(&*store, &quotas)).await;
    }
}
