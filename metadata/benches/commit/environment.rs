//! What the numbers were measured on: the server's durability settings and
//! the machine's load, printed beside the tables because both move them.

use anyhow::Result;
use sqlx::PgPool;

/// The server's version and durability settings, as one line.
pub async fn server_settings(admin: &PgPool) -> Result<String> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT name, setting FROM pg_settings WHERE name IN \
         ('server_version', 'fsync', 'synchronous_commit', 'full_page_writes', \
          'wal_sync_method', 'shared_buffers') ORDER BY name",
    )
    .fetch_all(admin)
    .await?;
    Ok(rows
        .iter()
        .map(|(name, setting)| format!("{name}={setting}"))
        .collect::<Vec<_>>()
        .join(" "))
}

/// The machine's 1-minute load average: other work running beside the
/// benchmark makes its numbers noisy.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|text| text.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".to_string())
}
