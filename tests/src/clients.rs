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
        problems.push(format!("reported steps {got_names:?}, want {want_names:?}"));
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

/// The cache folder for compiled scenario programs, `~/.cache/floe-clients/<what>`,
/// kept between runs (and by CI) so only the first run pays for `javac` and `go build`.
fn cache_dir(what: &str) -> Result<PathBuf> {
    let home = std::env::var_os("HOME").context("HOME is not set")?;
    let dir = PathBuf::from(home).join(".cache/floe-clients").join(what);
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    Ok(dir)
}

/// A digest of `parts` naming a cache entry, so an edited source compiles afresh.
fn digest(parts: &[&[u8]]) -> String {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    for part in parts {
        part.hash(&mut hasher);
    }
    format!("{:016x}", hasher.finish())
}

/// Kafka's jars (`FLOE_KAFKA_CLASSPATH`, set by `scripts/test.sh`).
fn kafka_classpath() -> Result<String> {
    std::env::var("FLOE_KAFKA_CLASSPATH").context("FLOE_KAFKA_CLASSPATH is not set")
}

/// `java Scenario BOOTSTRAP TOPIC` with `tests/clients/java/Scenario.java` compiled
/// against the kafka-clients jar of `FLOE_KAFKA_CLASSPATH`, once per source and
/// classpath (cached under `~/.cache/floe-clients/java`).
pub fn java_command(bootstrap: &str, topic: &str) -> Result<Command> {
    let classpath = kafka_classpath()?;
    let source_path = clients_dir().join("java/Scenario.java");
    let source = std::fs::read(&source_path)
        .with_context(|| format!("cannot read {}", source_path.display()))?;
    let classes = cache_dir("java")?.join(digest(&[&source, classpath.as_bytes()]));
    if !classes.join("Scenario.class").is_file() {
        let building = classes.with_extension("building");
        let _ = std::fs::remove_dir_all(&building);
        let mut javac = Command::new("javac");
        javac
            .arg("-nowarn")
            .arg("-d")
            .arg(&building)
            .arg("-cp")
            .arg(&classpath)
            .arg(&source_path);
        process::run(javac, b"", SCENARIO_TIMEOUT)?.ensure_success()?;
        std::fs::rename(&building, &classes)
            .with_context(|| format!("cannot move the classes to {}", classes.display()))?;
    }
    let mut java = Command::new("java");
    java.arg("-cp")
        .arg(format!("{classpath}:{}", classes.display()))
        .arg("Scenario")
        .arg(bootstrap)
        .arg(topic);
    Ok(java)
}

/// The `go` tool: on the PATH, else Go's own install in /usr/local/go.
fn go_tool() -> PathBuf {
    let local = PathBuf::from("/usr/local/go/bin/go");
    let on_path = std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join("go").is_file()));
    if !on_path && local.is_file() {
        local
    } else {
        PathBuf::from("go")
    }
}

/// Builds the Go module `tests/clients/go` (franz-go and Sarama, versions pinned in
/// its go.mod and go.sum) into `~/.cache/floe-clients/go`, once per test process;
/// `go build` itself skips the work when nothing changed (its module and build caches
/// are under `~/.cache/floe-go`).
fn go_binary() -> Result<PathBuf> {
    static BUILT: std::sync::OnceLock<std::result::Result<PathBuf, String>> =
        std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            let build = || -> Result<PathBuf> {
                let home = std::env::var_os("HOME").context("HOME is not set")?;
                let caches = PathBuf::from(home).join(".cache/floe-go");
                let binary = cache_dir("go")?.join("clientmatrix");
                let mut go = Command::new(go_tool());
                go.current_dir(clients_dir().join("go"))
                    .env("GOMODCACHE", caches.join("mod"))
                    .env("GOCACHE", caches.join("build"))
                    // The pinned modules need Go 1.26: an older `go` (Debian's, whose
                    // go.env says `local`) fetches that toolchain from the module proxy
                    // into the module cache, once.
                    .env("GOTOOLCHAIN", "auto")
                    .env("GOFLAGS", "-mod=readonly")
                    .arg("build")
                    .arg("-o")
                    .arg(&binary)
                    .arg(".");
                process::run(go, b"", Duration::from_secs(900))?.ensure_success()?;
                Ok(binary)
            };
            build().map_err(|e| format!("{e:#}"))
        })
        .clone()
        .map_err(|e| anyhow::anyhow!("cannot build tests/clients/go: {e}"))
}

/// The Go scenario program for `family` (`franz` or `sarama`).
pub fn go_command(family: &str, bootstrap: &str, topic: &str) -> Result<Command> {
    let mut cmd = Command::new(go_binary()?);
    cmd.arg(family).arg(bootstrap).arg(topic);
    Ok(cmd)
}

/// `node tests/clients/js/<script> BOOTSTRAP TOPIC`, resolving KafkaJS from
/// `tests/js/node_modules` (installed by `scripts/test.sh`).
pub fn node_command(script: &str, bootstrap: &str, topic: &str) -> Result<Command> {
    let modules = binary::crate_dir().join("js/node_modules");
    if !modules.is_dir() {
        bail!(
            "no {}; run scripts/test.sh (or npm ci in tests/js)",
            modules.display()
        );
    }
    let mut cmd = Command::new("node");
    cmd.env("NODE_PATH", modules)
        .arg(clients_dir().join("js").join(script))
        .arg(bootstrap)
        .arg(topic);
    Ok(cmd)
}
