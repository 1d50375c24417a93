//! Agent registrations and heartbeats, timed by the database's clock.

use std::time::Duration;

use sqlx::PgPool;

use super::rows::AgentRow;
use crate::convert::age_micros;
use crate::{AgentRecord, FORGET_AGENTS_AFTER, Result, validate};

const AGENT_REGISTER: &str = include_str!("../../queries/postgres/agent_register.sql");
const AGENT_HEARTBEAT: &str = include_str!("../../queries/postgres/agent_heartbeat.sql");
const AGENT_DEREGISTER: &str = include_str!("../../queries/postgres/agent_deregister.sql");
const AGENTS_LIVE: &str = include_str!("../../queries/postgres/agents_live.sql");

/// Registers an agent, forgetting long-silent ones, in one statement.
pub(super) async fn register(
    pool: &PgPool,
    host: &str,
    port: i32,
    zone: Option<&str>,
    listeners: &str,
) -> Result<i32> {
    validate::agent(host, port, zone, listeners)?;
    let node_id: i32 = sqlx::query_scalar(AGENT_REGISTER)
        .bind(host)
        .bind(port)
        .bind(zone)
        .bind(age_micros(FORGET_AGENTS_AFTER))
        .bind(listeners)
        .fetch_one(pool)
        .await?;
    tracing::info!(node_id, host, port, zone, "registered agent");
    Ok(node_id)
}

/// Records a heartbeat; `false` if the agent is no longer registered.
pub(super) async fn heartbeat(pool: &PgPool, node_id: i32) -> Result<bool> {
    let updated = sqlx::query(AGENT_HEARTBEAT)
        .bind(node_id)
        .execute(pool)
        .await?
        .rows_affected();
    Ok(updated > 0)
}

/// The agents that heartbeated within `max_age`, ordered by node id.
pub(super) async fn live(pool: &PgPool, max_age: Duration) -> Result<Vec<AgentRecord>> {
    sqlx::query_as::<_, AgentRow>(AGENTS_LIVE)
        .bind(age_micros(max_age))
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(AgentRow::into_agent)
        .collect()
}

/// Removes an agent's registration, if it is still there.
pub(super) async fn deregister(pool: &PgPool, node_id: i32) -> Result<()> {
    let deleted = sqlx::query(AGENT_DEREGISTER)
        .bind(node_id)
        .execute(pool)
        .await?
        .rows_affected();
    tracing::info!(node_id, found = deleted > 0, "deregistered agent");
    Ok(())
}
