//! `floe bench`: load generator and meter for any Kafka-compatible system.
//!
//! It drives the system with librdkafka (the `rdkafka` crate), the client
//! most users run, so the numbers say what those users would see. Three
//! modes share one set of flags:
//!
//! - `produce`: N producer clients send records, as fast as the client
//!   allows or at their share of `--rate`; latency is send to delivery report.
//! - `consume`: one consumer reads every partition from the beginning (no
//!   consumer group: partitions are assigned explicitly) and stops at the end
//!   of the topic as it was at start, or after `--duration`.
//! - `e2e`: both at once; latency is receipt time minus the send time
//!   stamped in each record.
//!
//! With `--rate`, send times follow a fixed schedule and latency is measured
//! from the intended send time, so a stall shows in the percentiles instead
//! of being hidden by coordinated omission. See `docs/benchmarks.md`.

mod agent_metrics;
mod clock;
mod consume;
mod e2e;
mod error;
mod payload;
mod produce;
mod progress;
mod report;
mod schedule;
pub mod setup;
mod stats;
mod txn;

use std::time::Duration;

use clap::{Args, ValueEnum};
use rdkafka::ClientConfig;

pub use error::BenchError;

use crate::agent_metrics::AgentSnapshot;
use crate::report::Summary;
use crate::setup::SETUP_TIMEOUT;

/// What `floe bench` measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Mode {
    /// Producers only: throughput and send-to-ack latency.
    Produce,
    /// One consumer reading the topic from the beginning: throughput.
    Consume,
    /// Producers and a consumer together: send-to-receipt latency.
    E2e,
}

impl Mode {
    /// The mode's name as typed on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Produce => "produce",
            Mode::Consume => "consume",
            Mode::E2e => "e2e",
        }
    }
}

/// Which acknowledgement producers wait for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Acks {
    /// Every in-sync replica (`acks=-1`).
    #[value(name = "all", alias = "-1")]
    All,
    /// The leader only.
    #[value(name = "1")]
    One,
    /// No acknowledgement: a record counts as delivered once sent.
    #[value(name = "0")]
    Zero,
}

impl Acks {
    fn config_value(self) -> &'static str {
        match self {
            Acks::All => "all",
            Acks::One => "1",
            Acks::Zero => "0",
        }
    }
}

/// Compression codec of produced batches (`compression.type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Compression {
    /// No compression.
    None,
    /// gzip.
    Gzip,
    /// Snappy.
    Snappy,
    /// LZ4.
    Lz4,
    /// Zstandard.
    Zstd,
}

impl Compression {
    fn config_value(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Snappy => "snappy",
            Compression::Lz4 => "lz4",
            Compression::Zstd => "zstd",
        }
    }
}

/// How records pick one of the `--keys` keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KeyPattern {
    /// Key `i mod N` for the producer's i-th record.
    RoundRobin,
    /// A uniformly random key (seeded by `--seed`).
    Random,
}

/// Flags of `floe bench`.
#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
    /// What to measure.
    #[arg(value_enum)]
    pub mode: Mode,
    /// host:port of any broker of the cluster.
    #[arg(long, default_value = "127.0.0.1:9092")]
    pub bootstrap: String,
    /// Topic to write or read; created with --partitions if missing
    /// (produce and e2e).
    #[arg(long, default_value = "floe-bench")]
    pub topic: String,
    /// Bytes of each record's value.
    #[arg(long, default_value_t = 1024)]
    pub record_size: usize,
    /// Seconds measured, after the warm-up.
    #[arg(long, default_value_t = 10.0)]
    pub duration: f64,
    /// Seconds run before measuring starts (not counted).
    #[arg(long, default_value_t = 0.0)]
    pub warmup: f64,
    /// Records per second over all producers [default: as fast as possible].
    #[arg(long)]
    pub rate: Option<f64>,
    /// Producer clients, each with its own connection and thread.
    #[arg(long, default_value_t = 1)]
    pub producers: usize,
    /// Partitions of the topic when the bench creates it.
    #[arg(long, default_value_t = 1)]
    pub partitions: i32,
    /// Acknowledgement that producers wait for.
    #[arg(long, value_enum, default_value = "all", allow_hyphen_values = true)]
    pub acks: Acks,
    /// Compression of produced batches.
    #[arg(long, value_enum, default_value = "none")]
    pub compression: Compression,
    /// Producer `linger.ms` [default: librdkafka's, 5].
    #[arg(long)]
    pub linger_ms: Option<u64>,
    /// Producer `batch.size` in bytes [default: librdkafka's, 1000000].
    #[arg(long)]
    pub batch_bytes: Option<u64>,
    /// Number of distinct record keys [default: no keys].
    #[arg(long)]
    pub keys: Option<u64>,
    /// How each record picks its key among --keys.
    #[arg(long, value_enum, default_value = "round-robin")]
    pub key_pattern: KeyPattern,
    /// Seed of the payload bytes and of random keys.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// host:port of the agent's HTTP listener: scrape /metrics before and
    /// after the run and report object-store requests and CPU per byte.
    #[arg(long)]
    pub agent_http: Option<String>,
    /// Print the summary as one JSON object on the last line of stdout.
    #[arg(long)]
    pub json: bool,
    /// Idempotent producers (`enable.idempotence`).
    #[arg(long)]
    pub idempotent: bool,
    /// Transactional producers (produce mode): producer N takes the
    /// transactional id `ID-N` and commits every --txn-records records;
    /// the commit latency is reported.
    #[arg(long, value_name = "ID")]
    pub transactional_id: Option<String>,
    /// Records per transaction with --transactional-id.
    #[arg(long, default_value_t = 1000)]
    pub txn_records: u64,
    /// Client `security.protocol`: plaintext, ssl, sasl_plaintext or sasl_ssl.
    #[arg(long, default_value = "plaintext")]
    pub security_protocol: String,
    /// CA certificate (PEM) that signed the agent's certificate (`ssl.ca.location`).
    #[arg(long)]
    pub ssl_ca_location: Option<String>,
    /// `sasl.mechanism`: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512.
    #[arg(long)]
    pub sasl_mechanism: Option<String>,
    /// `sasl.username`.
    #[arg(long)]
    pub sasl_username: Option<String>,
    /// `sasl.password` [default: the FLOE_BENCH_SASL_PASSWORD variable].
    #[arg(long, env = "FLOE_BENCH_SASL_PASSWORD", hide_env_values = true)]
    pub sasl_password: Option<String>,
}

/// How long producers may take to deliver what they queued after the run.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(60);
/// librdkafka gives up on a record after this long (`message.timeout.ms`).
const MESSAGE_TIMEOUT_MS: u64 = 30_000;
/// Upper bound of each producer's send queue (`queue.buffering.max.kbytes`),
/// as the Java client's default `buffer.memory`.
const PRODUCER_QUEUE_KIB: u64 = 32 * 1024;
/// How long e2e waits, after producers are done, for the last records.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

impl BenchArgs {
    /// Rejects flag values that cannot run.
    fn validate(&self) -> Result<(), BenchError> {
        let bad = |m: &str| Err(BenchError::InvalidArgs(m.to_string()));
        if !(self.duration.is_finite() && self.duration > 0.0) {
            return bad("--duration must be a positive number of seconds");
        }
        if !(self.warmup.is_finite() && self.warmup >= 0.0) {
            return bad("--warmup must be zero or a positive number of seconds");
        }
        if self.producers == 0 {
            return bad("--producers must be at least 1");
        }
        if self.partitions < 1 {
            return bad("--partitions must be at least 1");
        }
        if let Some(rate) = self.rate
            && !(rate.is_finite() && rate > 0.0)
        {
            return bad("--rate must be a positive number of records per second");
        }
        if self.keys == Some(0) {
            return bad("--keys must be at least 1");
        }
        if self.topic.is_empty() {
            return bad("--topic must not be empty");
        }
        if self.txn_records == 0 {
            return bad("--txn-records must be at least 1");
        }
        if self.transactional_id.is_some() && self.mode != Mode::Produce {
            return bad("--transactional-id is for produce mode");
        }
        Ok(())
    }

    fn warmup_duration(&self) -> Duration {
        Duration::from_secs_f64(self.warmup)
    }

    fn measured_duration(&self) -> Duration {
        Duration::from_secs_f64(self.duration)
    }

    /// Settings common to every client.
    fn base_client_config(&self) -> ClientConfig {
        let mut c = ClientConfig::new();
        c.set("bootstrap.servers", &self.bootstrap)
            .set("client.id", "floe-bench")
            .set("security.protocol", &self.security_protocol);
        let optional = [
            ("ssl.ca.location", &self.ssl_ca_location),
            ("sasl.mechanism", &self.sasl_mechanism),
            ("sasl.username", &self.sasl_username),
            ("sasl.password", &self.sasl_password),
        ];
        for (key, value) in optional {
            if let Some(value) = value {
                c.set(key, value);
            }
        }
        c
    }

    /// Producer settings from the flags.
    fn producer_config(&self) -> ClientConfig {
        let mut c = self.base_client_config();
        c.set("acks", self.acks.config_value())
            .set("compression.type", self.compression.config_value())
            .set("message.timeout.ms", MESSAGE_TIMEOUT_MS.to_string())
            .set("queue.buffering.max.kbytes", PRODUCER_QUEUE_KIB.to_string());
        if let Some(linger) = self.linger_ms {
            c.set("linger.ms", linger.to_string());
        }
        if let Some(batch) = self.batch_bytes {
            c.set("batch.size", batch.to_string());
        }
        if self.idempotent || self.transactional_id.is_some() {
            c.set("enable.idempotence", "true");
        }
        c
    }

    /// Consumer settings: no group, nothing committed.
    fn consumer_config(&self) -> ClientConfig {
        let mut c = self.base_client_config();
        c.set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("enable.partition.eof", "false")
            .set("auto.offset.reset", "earliest");
        c
    }

    /// One line describing the run, printed at start.
    fn describe(&self) -> String {
        let opt = |v: Option<u64>| v.map_or("default".to_string(), |v| v.to_string());
        format!(
            "floe bench {}: bootstrap={} topic={} record_size={} duration={}s warmup={}s \
             rate={} producers={} partitions={} acks={} compression={} linger.ms={} \
             batch.size={} keys={}",
            self.mode.name(),
            self.bootstrap,
            self.topic,
            self.record_size,
            self.duration,
            self.warmup,
            self.rate
                .map_or("unlimited".to_string(), |r| format!("{r}/s")),
            self.producers,
            self.partitions,
            self.acks.config_value(),
            self.compression.config_value(),
            opt(self.linger_ms),
            opt(self.batch_bytes),
            self.keys.map_or("none".to_string(), |k| k.to_string()),
        )
    }
}

/// Runs the bench described by `args`, prints its progress to stderr and
/// its summary to stdout (as JSON on the last line with `--json`).
///
/// Fails if the cluster cannot be reached, if any record failed delivery,
/// or if e2e did not receive every acknowledged record.
pub fn run(args: BenchArgs) -> Result<(), BenchError> {
    args.validate()?;
    eprintln!("{}", args.describe());
    let partitions = setup::prepare_topic(
        &args.base_client_config(),
        setup::TopicPlan {
            bootstrap: &args.bootstrap,
            topic: &args.topic,
            partitions: args.partitions,
            create: args.mode != Mode::Consume,
        },
    )?;
    let before = match &args.agent_http {
        Some(addr) => Some(AgentSnapshot::scrape(addr)?),
        None => None,
    };
    let outcome = match args.mode {
        Mode::Produce => produce::run(&args, &partitions)?,
        Mode::Consume => consume::run(&args, &partitions)?,
        Mode::E2e => e2e::run(&args, &partitions)?,
    };
    let mut summary: Summary = outcome.summary;
    if let (Some(addr), Some(before)) = (&args.agent_http, before) {
        match AgentSnapshot::scrape(addr) {
            Ok(after) => summary.agent = Some(before.cost_until(&after)),
            Err(e) => eprintln!("warning: no agent metrics after the run: {e}"),
        }
    }
    report::print(&summary, args.json)?;
    match outcome.failure {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// What a mode hands back: its summary, and the error to exit with after
/// the summary is printed (failed deliveries, missing records).
#[derive(Debug)]
struct Outcome {
    summary: Summary,
    failure: Option<BenchError>,
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        bench: BenchArgs,
    }

    fn parse(args: &[&str]) -> Result<BenchArgs, clap::Error> {
        Cli::try_parse_from(std::iter::once("bench").chain(args.iter().copied())).map(|c| c.bench)
    }

    #[test]
    fn parses_the_documented_interface() {
        let a = parse(&[
            "produce",
            "--bootstrap",
            "127.0.0.1:29092",
            "--topic",
            "b1",
            "--record-size",
            "1024",
            "--duration",
            "10",
            "--rate",
            "10000",
            "--producers",
            "2",
            "--partitions",
            "4",
            "--acks",
            "1",
            "--compression",
            "zstd",
            "--linger-ms",
            "20",
            "--batch-bytes",
            "262144",
            "--agent-http",
            "127.0.0.1:29644",
            "--json",
            "--warmup",
            "2",
            "--keys",
            "100",
        ])
        .expect("valid flags");
        assert_eq!(a.mode, Mode::Produce);
        assert_eq!(a.acks, Acks::One);
        assert_eq!(a.compression, Compression::Zstd);
        assert_eq!(a.rate, Some(10_000.0));
        assert_eq!(a.keys, Some(100));
        assert_eq!(a.linger_ms, Some(20));
        assert!(a.json);
        assert!(a.validate().is_ok());
        let c = a.producer_config();
        assert_eq!(c.get("acks"), Some("1"));
        assert_eq!(c.get("compression.type"), Some("zstd"));
        assert_eq!(c.get("linger.ms"), Some("20"));
        assert_eq!(c.get("batch.size"), Some("262144"));
    }

    #[test]
    fn acks_accepts_all_one_zero() {
        for (flag, want) in [("all", Acks::All), ("-1", Acks::All), ("0", Acks::Zero)] {
            let a = parse(&["e2e", "--acks", flag]).expect("valid acks");
            assert_eq!(a.acks, want);
        }
        assert!(parse(&["e2e", "--acks", "2"]).is_err());
    }

    #[test]
    fn rejects_values_that_cannot_run() {
        for bad in [
            &["consume", "--duration", "0"][..],
            &["produce", "--producers", "0"],
            &["produce", "--rate=-5"],
            &["produce", "--keys", "0"],
            &["produce", "--partitions", "0"],
        ] {
            let a = parse(bad).expect("parses");
            assert!(
                matches!(a.validate(), Err(BenchError::InvalidArgs(_))),
                "{bad:?}"
            );
        }
    }
}
