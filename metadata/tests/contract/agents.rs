//! Agent registrations: node ids, heartbeats and liveness by the database's
//! clock.

use std::collections::HashSet;
use std::time::Duration;

use floe_metadata::{AgentRecord, MetadataError};

use crate::backends::Backend;

/// A window every agent registered or heartbeating during a test is in.
const LONG_AGO: Duration = Duration::from_secs(3_600);

/// The window of the expiry test: small, so the test is quick.
const SHORT_WINDOW: Duration = Duration::from_millis(300);

/// The node ids of `agents`, in order.
fn ids(agents: &[AgentRecord]) -> Vec<i32> {
    agents.iter().map(|agent| agent.node_id).collect()
}

/// The agent record a registration should produce.
fn record(node_id: i32, host: &str, port: i32, zone: Option<&str>) -> AgentRecord {
    AgentRecord {
        node_id,
        host: host.to_string(),
        port,
        zone: zone.map(str::to_string),
        listeners: String::new(),
    }
}

/// An agent's advertised listeners, kept as registered.
const B_LISTENERS: &str = "PLAINTEXT://agent-b.internal:19092,SASL_SSL://agent-b.internal:19093";

pub async fn registered_agents_are_live(backend: &dyn Backend) -> anyhow::Result<()> {
    let store = backend.open().await?;
    assert_eq!(store.live_agents(LONG_AGO).await?, vec![]);
    let a = store
        .register_agent("10.0.0.1", 9092, Some("eu-west-1a"), "")
        .await?;
    let b = store
        .register_agent("agent-b.internal", 19092, None, B_LISTENERS)
        .await?;
    assert!(a > 0 && b > 0, "node ids {a} and {b} must be positive");
    assert_ne!(a, b);
    let mut expected = vec![
        record(a, "10.0.0.1", 9092, Some("eu-west-1a")),
        AgentRecord {
            listeners: B_LISTENERS.to_string(),
            ..record(b, "agent-b.internal", 19092, None)
        },
    ];
    expected.sort_by_key(|agent| agent.node_id);
    assert_eq!(store.live_agents(LONG_AGO).await?, expected);

    // Another store (another agent) on the same database sees them too.
    let other = backend.open().await?;
    assert_eq!(other.live_agents(LONG_AGO).await?, expected);
    Ok(())
}

pub async fn silent_agent_expires(backend: &dyn Backend) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let beating = store.register_agent("10.0.0.1", 9092, None, "").await?;
    let silent = store.register_agent("10.0.0.2", 9092, None, "").await?;
    tokio::time::sleep(SHORT_WINDOW * 2).await;
    assert_eq!(
        store.live_agents(SHORT_WINDOW).await?,
        vec![],
        "both registrations are older than the window"
    );

    // A heartbeat brings one back. The query follows it at once, but a
    // stalled machine could take longer than the window between the two:
    // try a few times before calling the heartbeat broken.
    let mut live = Vec::new();
    for _ in 0..5 {
        assert!(store.heartbeat_agent(beating).await?);
        live = store.live_agents(SHORT_WINDOW).await?;
        if !live.is_empty() {
            break;
        }
    }
    assert_eq!(ids(&live), vec![beating]);

    // The silent one is still registered, just not live.
    assert_eq!(
        ids(&store.live_agents(LONG_AGO).await?),
        vec![beating, silent]
    );
    assert!(store.heartbeat_agent(silent).await?);
    Ok(())
}

pub async fn deregistered_agent_is_gone(backend: &dyn Backend) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let leaving = store.register_agent("10.0.0.1", 9092, None, "").await?;
    let staying = store.register_agent("10.0.0.2", 9092, None, "").await?;
    store.deregister_agent(leaving).await?;
    assert!(!store.heartbeat_agent(leaving).await?);
    assert_eq!(ids(&store.live_agents(LONG_AGO).await?), vec![staying]);
    assert!(store.heartbeat_agent(staying).await?);

    // Deregistering again, or an id never handed out, is harmless.
    store.deregister_agent(leaving).await?;
    store.deregister_agent(i32::MAX).await?;
    assert!(!store.heartbeat_agent(i32::MAX).await?);
    assert_eq!(ids(&store.live_agents(LONG_AGO).await?), vec![staying]);
    Ok(())
}

pub async fn node_ids_are_never_reused(backend: &dyn Backend) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let mut seen = HashSet::new();
    // Deregistering the newest agent each time is what tempts a database to
    // hand its id out again.
    for _ in 0..5 {
        let id = store.register_agent("10.0.0.1", 9092, None, "").await?;
        assert!(seen.insert(id), "node id {id} handed out twice");
        store.deregister_agent(id).await?;
    }
    drop(store);

    let store = backend.open().await?;
    let id = store.register_agent("10.0.0.1", 9092, None, "").await?;
    assert!(
        !seen.contains(&id),
        "node id {id} handed out again after a restart"
    );
    assert_eq!(ids(&store.live_agents(LONG_AGO).await?), vec![id]);
    Ok(())
}

pub async fn invalid_registrations_fail(backend: &dyn Backend) -> anyhow::Result<()> {
    let store = backend.open().await?;
    for (host, port, zone) in [
        ("", 9092, None),
        ("10.0.0.1", 0, None),
        ("10.0.0.1", 70_000, None),
        ("10.0.0.1", 9092, Some("")),
    ] {
        let result = store.register_agent(host, port, zone, "").await;
        assert!(
            matches!(result, Err(MetadataError::Invalid(_))),
            "{host:?}:{port} in {zone:?}: got {result:?}"
        );
    }
    assert_eq!(store.live_agents(LONG_AGO).await?, vec![]);
    Ok(())
}
