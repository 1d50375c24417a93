//! The client matrix (`tests/tests/client_matrix.rs`): one scenario written once per
//! client family under `tests/clients/`, each program taking a bootstrap address and a
//! topic and printing one JSON line per step, `{"step": ..., "ok": ..., "detail": ...}`.
//!
//! This module runs a program, parses its steps and compares them with the one
//! expectation every client must meet ([`expected_steps`]), so a client that skipped a
//! step, reported the wrong value or stopped early fails with the step named.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use crate::binary;
use crate::process::{self, Output};

/// How long one client's whole scenario may take.
pub const SCENARIO_TIMEOUT: Duration = Duration::from_secs(300);

/// The compression codecs the scenario produces under, one batch of records each.
pub const ALL_CODECS: &[&str] = &["none", "gzip", "snappy", "lz4", "zstd"];

/// The folder of the scenario programs, `tests/clients/`.
pub fn clients_dir() -> PathBuf {
    binary::crate_dir().join("clients")
}

/// One step a program reported.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// The step's name, e.g. `alter_configs`.
    pub step: String,
    /// Whether the program saw the step succeed (its own exact checks included).
    pub ok: bool,
    /// What it observed (on success) or the error (on failure).
    pub detail: Value,
}

/// The steps of a program's output: every stdout line that is a JSON object with a
/// `step`; other lines (client logging) are ignored.
pub fn parse_steps(stdout: &str) -> Result<Vec<Step>> {
    let mut steps = Vec::new();
    for line in stdout.lines().map(str::trim).filter(|l| l.starts_with('{')) {
        let value: Value =
            serde_json::from_str(line).with_context(|| format!("not a JSON step: {line}"))?;
        let Some(step) = value.get("step").and_then(Value::as_str) else {
            continue;
        };
        let ok = value
            .get("ok")
            .and_then(Value::as_bool)
            .with_context(|| format!("step without a boolean ok: {line}"))?;
        steps.push(Step {
            step: step.to_string(),
            ok,
            detail: value.get("detail").cloned().unwrap_or(Value::Null),
        });
    }
    Ok(steps)
}

/// Runs a scenario program to completion (whatever its exit status: a failed step is
/// reported, not fatal) and returns its output.
pub fn run(mut command: Command) -> Result<Output> {
    command.env("PYTHONDONTWRITEBYTECODE", "1");
    process::run(command, b"", SCENARIO_TIMEOUT)
}

/// The steps in order with the detail each must report, given the codecs the client
/// produced under (a client lacking a codec reports the ones it used).
pub fn expected_steps(codecs: &[&str]) -> Vec<(&'static str, Value)> {
    vec![
        ("create_topic", json!({"partitions": 3})),
        ("produce", json!({"records": 25, "codecs": codecs})),
        ("consume", json!({"records": 25})),
        ("group_consume", json!({"records": 25, "committed": 25})),
        (
            "describe_configs",
            json!({"cleanup.policy": "delete", "retention.ms": "86400000"}),
        ),
        ("alter_configs", json!({"retention.ms": "7200000"})),
        ("create_partitions", json!({"partitions": 5})),
        ("delete_records", json!({"low_watermark": 10})),
        ("list_offsets_by_time", json!({"offset": 15})),
        ("delete_topic", json!({"deleted": true})),
    ]
}

/// Compares a program's steps with the expectation; `skipped` are steps the client
/// cannot do at all (documented in `docs/compatibility.md`), which it must not
/// report, and `allowed_to_fail` are steps whose failure is accepted (APIs Floe does
/// not serve yet). Returns one message per difference, empty when all is as expected.
pub fn compare(
    steps: &[Step],
    codecs: &[&str],
    skipped: &[&str],
    allowed_to_fail: &[&str],
) -> Vec<String> {
    let mut problems = Vec::new();
    let want: Vec<_> = expected_steps(codecs)
        .into_iter()
        .filter(|(name, _)| !skipped.contains(name))
        .collect();
    let got_names: Vec<&str> = steps.iter().map(|s| s.step.as_str()).collect();
    let want_names: Vec<&str> = want.iter().map(|(n, _)| *n).collect();
    if got_names != want_names {
        problems.push(format!(
            "reported steps {got_names:?}, want {want_names:?}"
        ));
    }
    for (name, detail) in &want {
        let Some(step) = steps.iter().find(|s| s.step == *name) else {
            continue;
        };
        if !step.ok {
            if !allowed_to_fail.contains(name) {
                problems.push(format!("step {name} failed: {}", step.detail));
            }
        } else if step.detail != *detail {
            problems.push(format!(
                "step {name} reported {}, want {detail}",
                step.detail
            ));
        }
    }
    problems
}

/// Fails unless the program printed at least one step (it started at all).
pub fn ensure_started(output: &Output, steps: &[Step]) -> Result<()> {
    if steps.is_empty() {
        bail!("{} reported no step\n{}", output.command, output.describe());
    }
    Ok(())
}
