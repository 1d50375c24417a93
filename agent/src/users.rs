//! `floe users`: SCRAM users written straight into the metadata store, so
//! the first (super) user exists before any client can connect. Kafka's
//! tools do the same through AlterUserScramCredentials once one can.

use std::io::Read;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};

use crate::config::Config;
use crate::sasl::scram::{MAX_ITERATIONS, MIN_ITERATIONS, ScramHash};

/// Longest password read from standard input.
const MAX_PASSWORD_BYTES: u64 = 1024;

/// Where the users live.
#[derive(Debug, Args)]
pub struct StoreArgs {
    /// Metadata store URL, as `floe serve --metadata`
    /// [default: sqlite://<data-dir>/metadata.db].
    #[arg(long, env = "FLOE_METADATA")]
    metadata: Option<String>,
    /// The agent's data folder, for the default SQLite store [default: ./floe-data].
    #[arg(long, env = "FLOE_DATA_DIR")]
    data_dir: Option<PathBuf>,
}

impl StoreArgs {
    /// The store's URL; the data folder of the default SQLite store is
    /// created as `floe serve` creates it.
    fn url(&self) -> anyhow::Result<String> {
        let mut config = Config::default();
        if let Some(dir) = &self.data_dir {
            config.data_dir = dir.clone();
        }
        config.metadata = self.metadata.clone();
        if config.metadata.is_none() {
            std::fs::create_dir_all(&config.data_dir)
                .with_context(|| format!("cannot create data dir {}", config.data_dir.display()))?;
        }
        Ok(config.metadata_url())
    }
}

/// `floe users …`.
#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Create a user or set a new password (one credential per mechanism);
    /// the password is read from standard input.
    Set {
        /// The user name (the principal is User:NAME).
        name: String,
        /// SCRAM-SHA-256 or SCRAM-SHA-512 (PLAIN checks either).
        #[arg(long, default_value = "SCRAM-SHA-512")]
        mechanism: String,
        /// Read the password from standard input (its first line).
        #[arg(long, required = true)]
        password_stdin: bool,
        /// PBKDF2 iterations, 4096 to 16384.
        #[arg(long, default_value_t = MIN_ITERATIONS)]
        iterations: i32,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Delete a user's credentials (of one mechanism with --mechanism).
    Delete {
        /// The user name.
        name: String,
        /// Only this mechanism's credential.
        #[arg(long)]
        mechanism: Option<String>,
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// Runs a `floe users` command.
pub async fn run(command: UsersCommand) -> anyhow::Result<()> {
    match command {
        UsersCommand::Set {
            name,
            mechanism,
            password_stdin: _,
            iterations,
            store,
        } => {
            let hash = ScramHash::parse(&mechanism).with_context(|| {
                format!("unknown mechanism {mechanism}: SCRAM-SHA-256 or SCRAM-SHA-512")
            })?;
            if !(MIN_ITERATIONS..=MAX_ITERATIONS).contains(&iterations) {
                bail!("iterations must be {MIN_ITERATIONS} to {MAX_ITERATIONS}");
            }
            let mut input = String::new();
            std::io::stdin()
                .take(MAX_PASSWORD_BYTES)
                .read_to_string(&mut input)
                .context("cannot read the password from standard input")?;
            let password = input.lines().next().unwrap_or_default();
            if password.is_empty() {
                bail!("no password on standard input");
            }
            let credential = hash.new_credential(&name, password.as_bytes(), iterations)?;
            let store = floe_metadata::open(&store.url()?).await?;
            store.upsert_scram_credential(&credential).await?;
            println!("user {name}: {} credential set", hash.mechanism());
        }
        UsersCommand::Delete {
            name,
            mechanism,
            store,
        } => {
            if let Some(m) = &mechanism
                && ScramHash::parse(m).is_none()
            {
                bail!("unknown mechanism {m}: SCRAM-SHA-256 or SCRAM-SHA-512");
            }
            let store = floe_metadata::open(&store.url()?).await?;
            let deleted = store
                .delete_scram_credential(&name, mechanism.as_deref())
                .await?;
            if deleted == 0 {
                bail!("user {name} has no such credential");
            }
            println!("user {name}: {deleted} credential(s) deleted");
        }
    }
    Ok(())
}
