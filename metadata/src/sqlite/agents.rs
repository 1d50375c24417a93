//! Agent registrations and heartbeats, timed by SQLite's clock in
//! milliseconds.

use std::time::Duration;

use sqlx::SqlitePool;

use super::SqliteStore;
use super::rows::AgentRow;
use crate::convert::{age_millis, stored_node_id};
use crate::{AgentRecord, FORGET_AGENTS_AFTER, Result, validate};

const AGENTS_FORGET: &str = include_str!("../../queries/sqlite/agents_forget.sql");
const AGENT_INSERT: &str = include_str!("../../queries/sqlite/agent_insert.sql");
const AGENT_HEARTBEAT: &str = include_str!("../../queries/sqlite/agent_heartbeat.sql");
const AGENT_DEREGISTER: &str = include_str!("../../queries/sqlite/agent_deregister.sql");
const AGENTS_LIVE: &str = include_str!("../../queries/sqlite/agents_live.sql");

/// Registers an agent, forgetting long-silent ones, in one transaction.
pub(super) async fn register(
    store: &SqliteStore,
    host: &str,
    port: i32,
    zone: Option<&str>,
    listeners: &str,
) -> Result<i32> {
    validate::agent(host, port, zone, listeners)?;
    let mut write = store.begin_write().await?;
    let forgotten = sqlx::query(AGENTS_FORGET)
        .bind(age_millis(FORGET_AGENTS_AFTER))
        .execute(&mut *write.tx)
        .await?
        .rows_affected();
    let node_id: i64 = sqlx::query_scalar(AGENT_INSERT)
        .bind(host)
        .bind(port)
        .bind(zone)
        .bind(listeners)
        .fetch_one(&mut *write.tx)
        .await?;
    let node_id = stored_node_id(node_id)?;
    write.commit().await?;
    tracing::info!(node_id, host, port, zone, forgotten, "registered agent");
    Ok(node_id)
}

/// Records a heartbeat; `false` if the agent is no longer registered.
pub(super) async fn heartbeat(store: &SqliteStore, node_id: i32) -> Result<bool> {
    let mut write = store.begin_write().await?;
    let updated = sqlx::query(AGENT_HEARTBEAT)
        .bind(node_id)
        .execute(&mut *write.tx)
        .await?
        .rows_affected();
    write.commit().await?;
    Ok(updated > 0)
}

/// The agents that heartbeated within `max_age`, ordered by node id.
pub(super) async fn live(pool: &SqlitePool, max_age: Duration) -> Result<Vec<AgentRecord>> {
    sqlx::query_as::<_, AgentRow>(AGENTS_LIVE)
        .bind(age_millis(max_age))
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(AgentRow::into_agent)
        .collect()
}

/// Removes an agent's registration, if it is still there.
pub(super) async fn deregister(store: &SqliteStore, node_id: i32) -> Result<()> {
    let mut write = store.begin_write().await?;
    let deleted = sqlx::query(AGENT_DEREGISTER)
        .bind(node_id)
        .execute(&mut *write.tx)
        .await?
        .rows_affected();
    write.commit().await?;
    tracing::info!(node_id, found = deleted > 0, "deregistered agent");
    Ok(())
}
