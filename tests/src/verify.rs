//! `floe verify` run in the background against a cluster, while a test
//! injects faults, and its JSON summary read back.

use std::process::Command;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use anyhow::{Context, Result, anyhow};

use crate::binary::floe_bin;
use crate::process::{self, Output};

/// A running `floe verify`.
#[derive(Debug)]
pub struct VerifyRun {
    handle: JoinHandle<Result<Output>>,
}

/// A finished `floe verify`: its output and its JSON summary.
#[derive(Debug)]
pub struct VerifyOutcome {
    /// What it printed and how it exited.
    pub output: Output,
    /// The JSON object of its last stdout line.
    pub summary: serde_json::Value,
}

impl VerifyOutcome {
    /// A whole-number field of the summary.
    pub fn count(&self, field: &str) -> Result<u64> {
        self.summary
            .get(field)
            .and_then(serde_json::Value::as_u64)
            .ok_or_else(|| anyhow!("the summary has no count {field:?}: {}", self.summary))
    }
}

impl VerifyRun {
    /// Starts `floe verify --bootstrap <bootstrap> --json <args>`; it is killed
    /// if it runs longer than `timeout`.
    pub fn start(bootstrap: &str, args: &[&str], timeout: Duration) -> Result<Self> {
        let mut command = Command::new(floe_bin()?);
        command
            .arg("verify")
            .args(["--bootstrap", bootstrap, "--json"])
            .args(args)
            .env("FLOE_LOG", "warn");
        let handle = thread::Builder::new()
            .name("floe-verify".into())
            .spawn(move || process::run(command, b"", timeout))
            .context("cannot start the floe verify thread")?;
        Ok(Self { handle })
    }

    /// Waits for it to exit and parses its summary (whatever the exit status).
    pub fn finish(self) -> Result<VerifyOutcome> {
        let output = self
            .handle
            .join()
            .map_err(|_| anyhow!("the floe verify thread panicked"))??;
        let last = output
            .stdout
            .lines()
            .rev()
            .find(|l| l.starts_with('{'))
            .with_context(|| format!("floe verify printed no JSON\n{}", output.describe()))?;
        let summary = serde_json::from_str(last)
            .with_context(|| format!("bad JSON summary {last:?}\n{}", output.describe()))?;
        Ok(VerifyOutcome { output, summary })
    }
}
