//! Fixtures of the real-client transaction tests (`tests/tests/transactions_clients.rs`,
//! `tests/tests/streams_eos.rs`): Apache Kafka as the reference with transaction
//! timeouts enforced within a second, Kafka Streams' classpath, and the Java programs
//! of `tests/streams/` compiled against it.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use anyhow::{Context, Result};

use crate::Cluster;
use crate::kafka_ref::KafkaBroker;
use crate::{binary, kafka_cli, process};

/// The environment variable `scripts/test.sh` sets to Kafka Streams' classpath
/// (resolved by Maven from `tests/streams/pom.xml`).
pub const STREAMS_CLASSPATH_ENV: &str = "FLOE_STREAMS_CLASSPATH";

/// How long compiling the Java programs may take.
const JAVAC_TIMEOUT: Duration = Duration::from_secs(300);

/// The Apache Kafka broker of this test binary for transaction tests, started by the
/// first caller; `None` (after printing why `test` is skipped) without
/// `FLOE_KAFKA_CLASSPATH`.
///
/// Unlike [`crate::kafka_ref::shared`] it looks for timed-out transactions every
/// second (Kafka's default is every 10 s), so a test of the coordinator's timeout, or
/// a killed Kafka Streams instance whose transaction must be aborted before its
/// successor reads on, waits seconds, not tens of seconds.
pub fn kafka(test: &str) -> Option<&'static KafkaBroker> {
    static BROKER: OnceLock<std::result::Result<KafkaBroker, String>> = OnceLock::new();
    let classpath = kafka_cli::classpath_or_skip(test)?;
    let broker = BROKER.get_or_init(|| {
        KafkaBroker::builder()
            .config(
                "transaction.abort.timed.out.transaction.cleanup.interval.ms",
                "1000",
            )
            .start(&classpath)
            .map_err(|error| format!("{error:#}"))
    });
    match broker {
        Ok(broker) => Some(broker),
        Err(error) => panic!("cannot start Apache Kafka: {error}"),
    }
}

/// Floe as it runs in production, for the same tests: two agents sharing Postgres
/// (the metadata store, where transaction state lives) and S3 (moto), so a
/// transaction's coordinator and its partitions' writers may be different agents.
/// Like [`kafka`], the agents look for timed-out transactions every second
/// (`FLOE_TRANSACTION_CHECK_INTERVAL_MS`; an environment variable, which an agent
/// without that setting ignores). `name` names the cluster's database.
pub fn floe_cluster(name: &str) -> Result<Cluster> {
    floe_cluster_with(name, &[])
}

/// [`floe_cluster`] with further `FLOE_*` settings for its agents.
pub fn floe_cluster_with(name: &str, env: &[(&str, &str)]) -> Result<Cluster> {
    let mut builder = Cluster::builder(name)
        .agents(2)
        .env("FLOE_TRANSACTION_CHECK_INTERVAL_MS", "1000");
    for (key, value) in env {
        builder = builder.env(*key, *value);
    }
    builder.start()
}

/// Kafka Streams' classpath from `FLOE_STREAMS_CLASSPATH`, or `None` (after printing
/// why `test` is skipped) when it is not set.
pub fn streams_classpath_or_skip(test: &str) -> Option<String> {
    match std::env::var(STREAMS_CLASSPATH_ENV) {
        Ok(classpath) if !classpath.trim().is_empty() => Some(classpath),
        _ => {
            eprintln!(
                "skipping {test}: {STREAMS_CLASSPATH_ENV} is not set (scripts/test.sh \
                 resolves Kafka Streams' jars with Maven from tests/streams/pom.xml and sets it)"
            );
            None
        }
    }
}

/// The folder of the Java programs, `tests/streams/`.
pub fn streams_dir() -> PathBuf {
    binary::crate_dir().join("streams")
}

/// The classes of `tests/streams/*.java` compiled against `classpath`, once per
/// source and classpath (cached under `~/.cache/floe-clients/streams/<digest>`), so
/// only the first run pays for `javac`.
pub fn compiled_classes(classpath: &str) -> Result<PathBuf> {
    let dir = streams_dir();
    let mut sources: Vec<PathBuf> = std::fs::read_dir(&dir)
        .with_context(|| format!("cannot list {}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "java"))
        .collect();
    sources.sort();
    let mut hasher = DefaultHasher::new();
    classpath.hash(&mut hasher);
    for source in &sources {
        let text =
            std::fs::read(source).with_context(|| format!("cannot read {}", source.display()))?;
        source.file_name().hash(&mut hasher);
        text.hash(&mut hasher);
    }
    let digest = format!("{:016x}", hasher.finish());
    let home = std::env::var_os("HOME").context("HOME is not set")?;
    let cache = PathBuf::from(home).join(".cache/floe-clients/streams");
    std::fs::create_dir_all(&cache)
        .with_context(|| format!("cannot create {}", cache.display()))?;
    let classes = cache.join(digest);
    if !classes.is_dir() {
        let building = classes.with_extension(format!("building-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&building);
        let mut javac = Command::new("javac");
        javac
            .arg("-nowarn")
            .arg("-d")
            .arg(&building)
            .arg("-cp")
            .arg(classpath)
            .args(&sources);
        process::run(javac, b"", JAVAC_TIMEOUT)?.ensure_success()?;
        // Another test process may have won the race; its classes are the same.
        if std::fs::rename(&building, &classes).is_err() && !classes.is_dir() {
            anyhow::bail!("cannot move the classes to {}", classes.display());
        }
        let _ = std::fs::remove_dir_all(&building);
    }
    Ok(classes)
}

/// `java MAIN ARGS...` on Kafka Streams' classpath plus the compiled programs, with a
/// small heap and logging at WARN.
pub fn java_program(classpath: &str, main: &str, args: &[&str]) -> Result<Command> {
    let classes = compiled_classes(classpath)?;
    let full = format!("{classpath}:{}", classes.display());
    let mut command = kafka_cli::java(&full, "256m");
    command.arg(main).args(args);
    Ok(command)
}

/// A small pseudo-random number generator (xorshift), seeded from the clock unless
/// `FLOE_TXN_SEED` is set, so the kill points of a crash test differ between runs
/// and a failing run can be repeated: the seed is printed.
#[derive(Debug)]
pub struct KillPoints {
    state: u64,
}

impl KillPoints {
    /// A generator seeded from `FLOE_TXN_SEED` or the clock; prints the seed.
    pub fn from_env(test: &str) -> Self {
        let seed = std::env::var("FLOE_TXN_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos() as u64)
                    .unwrap_or(1)
            });
        eprintln!("{test}: kill points from FLOE_TXN_SEED={seed}");
        Self { state: seed.max(1) }
    }

    /// A number in `0..bound` (`bound` > 0).
    pub fn below(&mut self, bound: u64) -> u64 {
        let mut x = self.state;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.state = x;
        x % bound.max(1)
    }
}
