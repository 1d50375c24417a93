//! Running the Node.js client drivers in `tests/js/` (KafkaJS, whose wire codec is
//! its own JavaScript, not librdkafka).
//!
//! Each script takes the bootstrap address as its first argument, then its own
//! arguments; it asserts what it sees and exits non-zero with a clear message on the
//! first difference. `scripts/test.sh` installs the packages (`npm ci` in `tests/js`).

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::binary;
use crate::process::{self, Output};

/// The folder of the driver scripts and their `node_modules`.
pub fn scripts_dir() -> PathBuf {
    binary::crate_dir().join("js")
}

/// Runs `node tests/js/<script> BOOTSTRAP ARGS...` and fails with its output unless
/// it exits 0.
pub fn run_script(script: &str, bootstrap: &str, args: &[&str]) -> Result<Output> {
    let dir = scripts_dir();
    let path = dir.join(script);
    if !path.is_file() {
        bail!("no such driver script: {}", path.display());
    }
    if !dir.join("node_modules").is_dir() {
        bail!(
            "no node_modules in {}; run scripts/test.sh (or npm ci there)",
            dir.display()
        );
    }
    let mut cmd = Command::new("node");
    cmd.current_dir(&dir).arg(&path).arg(bootstrap).args(args);
    process::run(cmd, b"", Duration::from_secs(300))
        .with_context(|| format!("running node {script}"))?
        .ensure_success()
}
