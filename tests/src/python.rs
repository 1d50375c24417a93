//! Running the Python client drivers in `tests/python/` (confluent-kafka, kafka-python).
//!
//! Each script takes the bootstrap address as its first argument, then its own
//! arguments; it asserts what it sees and exits non-zero with a clear message on the
//! first difference.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::binary;
use crate::process::{self, Output};

/// The interpreter: `FLOE_TEST_PYTHON` if set, else `<repo>/.venv/bin/python` (made by
/// `scripts/test.sh`).
pub fn interpreter() -> Result<PathBuf> {
    if let Some(path) = std::env::var_os("FLOE_TEST_PYTHON") {
        return Ok(PathBuf::from(path));
    }
    let venv = binary::repo_root().join(".venv/bin/python");
    if !venv.exists() {
        bail!(
            "no Python venv at {}; run scripts/test.sh or set FLOE_TEST_PYTHON",
            venv.display()
        );
    }
    Ok(venv)
}

/// The folder of the driver scripts.
pub fn scripts_dir() -> PathBuf {
    binary::crate_dir().join("python")
}

/// Runs `tests/python/<script> BOOTSTRAP ARGS...` and fails with its output unless it
/// exits 0.
pub fn run_script(script: &str, bootstrap: &str, args: &[&str]) -> Result<Output> {
    let path = scripts_dir().join(script);
    if !path.is_file() {
        bail!("no such driver script: {}", path.display());
    }
    let mut cmd = Command::new(interpreter()?);
    cmd.arg("-u")
        .arg(&path)
        .arg(bootstrap)
        .args(args)
        .env("PYTHONDONTWRITEBYTECODE", "1");
    process::run(cmd, b"", Duration::from_secs(300))
        .with_context(|| format!("running {script}"))?
        .ensure_success()
}
