//! Apache Kafka's own jars: where they are, and running its CLI tool classes.
//!
//! `scripts/test.sh` resolves Apache Kafka 4.x with Maven from `tests/kafka/pom.xml`
//! and exports the classpath as `FLOE_KAFKA_CLASSPATH`. Without it (plain `cargo test`
//! on a machine without Java) the tests that need Kafka print why and return early,
//! so they pass as skipped; `scripts/test.sh`, and so CI, always sets it.
//!
//! The tools are the classes behind the distribution's `bin/*.sh` scripts, run with
//! `java -cp`, exactly as those scripts run them.

use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::process::{self, Output};

/// The environment variable holding the Kafka classpath.
pub const CLASSPATH_ENV: &str = "FLOE_KAFKA_CLASSPATH";

/// How long one tool run may take before it is killed.
const TOOL_TIMEOUT: Duration = Duration::from_secs(180);

/// The main classes of Kafka 4.x's command-line tools (`bin/kafka-*.sh`).
pub mod tools {
    /// `kafka-topics.sh`.
    pub const TOPICS: &str = "org.apache.kafka.tools.TopicCommand";
    /// `kafka-console-producer.sh`.
    pub const CONSOLE_PRODUCER: &str = "org.apache.kafka.tools.ConsoleProducer";
    /// `kafka-console-consumer.sh`.
    pub const CONSOLE_CONSUMER: &str = "org.apache.kafka.tools.consumer.ConsoleConsumer";
    /// `kafka-consumer-groups.sh`.
    pub const CONSUMER_GROUPS: &str = "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand";
    /// `kafka-configs.sh`.
    pub const CONFIGS: &str = "org.apache.kafka.tools.ConfigCommand";
    /// `kafka-delete-records.sh`.
    pub const DELETE_RECORDS: &str = "org.apache.kafka.tools.DeleteRecordsCommand";
    /// `kafka-get-offsets.sh`.
    pub const GET_OFFSETS: &str = "org.apache.kafka.tools.GetOffsetShell";
    /// `kafka-producer-perf-test.sh`.
    pub const PRODUCER_PERF: &str = "org.apache.kafka.tools.ProducerPerformance";
    /// `kafka-metadata-quorum.sh`.
    pub const METADATA_QUORUM: &str = "org.apache.kafka.tools.MetadataQuorumCommand";
    /// `kafka-consumer-perf-test.sh`.
    pub const CONSUMER_PERF: &str = "org.apache.kafka.tools.ConsumerPerformance";
    /// `kafka-storage.sh` (formats a KRaft log directory).
    pub const STORAGE: &str = "kafka.tools.StorageTool";
    /// `kafka-server-start.sh`.
    pub const SERVER: &str = "kafka.Kafka";
}

/// The Kafka classpath from `FLOE_KAFKA_CLASSPATH`, or `None` (after printing why the
/// caller's test is skipped) when it is not set.
pub fn classpath_or_skip(test: &str) -> Option<String> {
    match std::env::var(CLASSPATH_ENV) {
        Ok(classpath) if !classpath.trim().is_empty() => Some(classpath),
        _ => {
            eprintln!(
                "skipping {test}: {CLASSPATH_ENV} is not set (scripts/test.sh resolves \
                 Apache Kafka's jars with Maven from tests/kafka/pom.xml and sets it)"
            );
            None
        }
    }
}

/// A `java` command on the Kafka classpath, with logging at WARN to stderr (SLF4J's
/// simple logger), so a tool's stdout carries only what the tool prints.
pub fn java(classpath: &str, heap: &str) -> Command {
    let mut command = Command::new("java");
    command.args(java_args(classpath, heap));
    command
}

/// The arguments of [`java`] (heap limit, logging, classpath), for callers that start
/// `java` some other way.
pub fn java_args(classpath: &str, heap: &str) -> Vec<String> {
    vec![
        format!("-Xmx{heap}"),
        "-Djava.awt.headless=true".to_string(),
        "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn".to_string(),
        "-cp".to_string(),
        classpath.to_string(),
    ]
}

/// Runs Kafka's command-line tools (any bootstrap address: Floe or Apache Kafka).
#[derive(Debug, Clone)]
pub struct KafkaTools {
    classpath: String,
}

impl KafkaTools {
    /// The tools from `FLOE_KAFKA_CLASSPATH`, or `None` (printing why `test` is skipped).
    pub fn from_env_or_skip(test: &str) -> Option<Self> {
        classpath_or_skip(test).map(|classpath| Self { classpath })
    }

    /// The tools on `classpath`.
    pub fn new(classpath: impl Into<String>) -> Self {
        Self {
            classpath: classpath.into(),
        }
    }

    /// The classpath.
    pub fn classpath(&self) -> &str {
        &self.classpath
    }

    /// Runs the tool `class` with `args` and `stdin`; returns what it printed, whatever
    /// its exit status (see [`Output::ensure_success`]).
    pub fn run(&self, class: &str, args: &[&str], stdin: &[u8]) -> Result<Output> {
        let mut command = java(&self.classpath, "256m");
        // Short-lived programs: compile with C1 only, as `bin/kafka-run-class.sh` does
        // not, but it halves the start-up on a busy machine.
        command
            .arg("-XX:TieredStopAtLevel=1")
            .arg("-XX:+UseSerialGC")
            .arg(class)
            .args(args);
        process::run(command, stdin, TOOL_TIMEOUT).with_context(|| format!("running {class}"))
    }

    /// Runs the tool and fails (with its output) unless it exits 0.
    pub fn run_ok(&self, class: &str, args: &[&str], stdin: &[u8]) -> Result<Output> {
        let output = self.run(class, args, stdin)?;
        if !output.status.success() {
            // Named by class and arguments: the classpath would drown the message.
            bail!(
                "{class} {} failed: {}\n{}",
                args.join(" "),
                output.status,
                output.describe()
            );
        }
        Ok(output)
    }
}
