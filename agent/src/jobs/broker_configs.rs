//! Keeps this agent's copy of the dynamic broker configs current: they are
//! cluster-wide rows in the metadata store, set through any agent, so every
//! agent reads them again each interval (one small query). The agent that
//! altered them reads them at once.

use std::sync::Arc;
use std::time::Duration;

use floe_metadata::MetadataStore;
use tokio_util::sync::CancellationToken;

use super::periodic;
use crate::configs::BrokerConfigs;

/// Reads the dynamic broker configs from the store into `configs`.
pub async fn refresh(
    store: &dyn MetadataStore,
    configs: &BrokerConfigs,
) -> crate::error::Result<()> {
    let dynamic = store.broker_configs().await?;
    if dynamic != configs.dynamic() {
        tracing::info!(?dynamic, "dynamic broker configs changed");
    }
    configs.set_dynamic(dynamic);
    Ok(())
}

/// Refreshes every `interval` (the first at once) until `stop`.
pub async fn run(
    store: Arc<dyn MetadataStore>,
    configs: Arc<BrokerConfigs>,
    interval: Duration,
    stop: CancellationToken,
) {
    let mut ticks = periodic::Ticks::new(interval);
    while ticks.next(&stop).await {
        periodic::pass("broker_configs", refresh(&*store, &configs)).await;
    }
}
