//! Load for the multi-agent tests: confluent-kafka producers (`python/multi_produce.py`)
//! run in the background while a test kills, stops or restarts things, and the check
//! that a topic holds what they were told was written.
//!
//! Every record a producer sends has the key `PREFIX-i` and the value
//! `PREFIX-i-value`, goes to partition `i % partitions`, and is reported back as
//! acknowledged (with its partition and offset) or failed.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use serde_json::Value;
use tempfile::TempDir;

use crate::cluster::{TopicLog, key_text, value_text};
use crate::process::Output;
use crate::python;

/// The driver script.
const SCRIPT: &str = "multi_produce.py";

/// What one producer sends, and how.
#[derive(Debug, Clone)]
pub struct ProducerOptions {
    /// Keys are `PREFIX-i`; each producer of a test needs its own prefix.
    pub prefix: String,
    /// Records to send.
    pub count: usize,
    /// Partitions of the topic; record `i` goes to `i % partitions`.
    pub partitions: i32,
    /// `enable.idempotence`.
    pub idempotent: bool,
    /// Records per second; `None` sends as fast as the client takes them.
    pub rate: Option<u32>,
    /// `client.id` (e.g. `x,floe_az=zone-1` to be routed to zone-1's agent).
    pub client_id: Option<String>,
    /// `message.timeout.ms`, in seconds.
    pub timeout_s: u32,
    /// Fail at start unless every partition's leader is this `host:port`.
    pub expect_leader: Option<String>,
}

impl ProducerOptions {
    /// `count` records over `partitions`, not idempotent, unpaced, 120 s timeout.
    pub fn new(prefix: &str, count: usize, partitions: i32) -> Self {
        Self {
            prefix: prefix.to_string(),
            count,
            partitions,
            idempotent: false,
            rate: None,
            client_id: None,
            timeout_s: 120,
            expect_leader: None,
        }
    }

    /// Sets `enable.idempotence`.
    pub fn idempotent(mut self, idempotent: bool) -> Self {
        self.idempotent = idempotent;
        self
    }

    /// Paces the producer at `per_second` records per second.
    pub fn rate(mut self, per_second: u32) -> Self {
        self.rate = Some(per_second);
        self
    }

    /// Sets the `client.id`.
    pub fn client_id(mut self, client_id: impl Into<String>) -> Self {
        self.client_id = Some(client_id.into());
        self
    }

    /// Requires every partition to be led by `addr` for this client.
    pub fn expect_leader(mut self, addr: impl Into<String>) -> Self {
        self.expect_leader = Some(addr.into());
        self
    }

    /// The key of record `i`.
    pub fn key(&self, i: usize) -> String {
        format!("{}-{i}", self.prefix)
    }
}

/// A record the producer was told is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ack {
    /// The record's index.
    pub id: usize,
    /// Its partition.
    pub partition: i32,
    /// Its offset.
    pub offset: i64,
}

/// What a producer saw.
#[derive(Debug, Clone)]
pub struct ProduceReport {
    /// What it was asked to do.
    pub options: ProducerOptions,
    /// Its `bootstrap.servers`.
    pub bootstrap: String,
    /// Acknowledged records, in the order the acknowledgements arrived.
    pub acked: Vec<Ack>,
    /// Records whose delivery failed, with the error.
    pub failed: Vec<(usize, String)>,
    /// Fatal client errors (an idempotent producer that gave up).
    pub fatal: Vec<String>,
    /// Records still queued when it gave up waiting.
    pub unflushed: usize,
    /// The leader (`host:port`) of each partition as the client first saw it.
    pub leaders: BTreeMap<i32, String>,
    /// The script's stderr (client errors, a summary line).
    pub stderr: String,
}

impl ProduceReport {
    /// Fails unless every record was acknowledged and the client saw no fatal error.
    pub fn ensure_all_acked(&self) -> Result<()> {
        if self.acked.len() != self.options.count || !self.fatal.is_empty() {
            bail!(
                "producer {} via {}: {} of {} acknowledged, {} failed (first: {:?}), {} \
                 unflushed, fatal errors {:?}\n--- stderr ---\n{}",
                self.options.prefix,
                self.bootstrap,
                self.acked.len(),
                self.options.count,
                self.failed.len(),
                self.failed.first(),
                self.unflushed,
                self.fatal,
                crate::process::tail(&self.stderr, 4000)
            );
        }
        Ok(())
    }
}

/// A producer script running in the background.
#[derive(Debug)]
pub struct BackgroundProducer {
    thread: Option<JoinHandle<Result<Output>>>,
    progress: PathBuf,
    bootstrap: String,
    options: ProducerOptions,
    _dir: TempDir,
}

impl BackgroundProducer {
    /// Starts `multi_produce.py` against `bootstrap` (one or more addresses).
    pub fn start(bootstrap: &str, topic: &str, options: ProducerOptions) -> Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("floe-producer-")
            .tempdir()
            .context("cannot create the producer's temporary directory")?;
        let progress = dir.path().join("acked");
        let mut args = vec![
            topic.to_string(),
            "--count".into(),
            options.count.to_string(),
            "--partitions".into(),
            options.partitions.to_string(),
            "--prefix".into(),
            options.prefix.clone(),
            "--timeout-s".into(),
            options.timeout_s.to_string(),
            "--progress".into(),
            progress.display().to_string(),
        ];
        if options.idempotent {
            args.push("--idempotent".into());
        }
        if let Some(rate) = options.rate {
            args.extend(["--rate".into(), rate.to_string()]);
        }
        if let Some(client_id) = &options.client_id {
            args.extend(["--client-id".into(), client_id.clone()]);
        }
        if let Some(leader) = &options.expect_leader {
            args.extend(["--expect-leader".into(), leader.clone()]);
        }
        let script_bootstrap = bootstrap.to_string();
        let thread = thread::spawn(move || {
            let refs: Vec<&str> = args.iter().map(String::as_str).collect();
            python::run_script(SCRIPT, &script_bootstrap, &refs)
        });
        Ok(Self {
            thread: Some(thread),
            progress,
            bootstrap: bootstrap.to_string(),
            options,
            _dir: dir,
        })
    }

    /// The number of records acknowledged so far.
    pub fn acked(&self) -> usize {
        std::fs::read_to_string(&self.progress)
            .ok()
            .and_then(|text| text.trim().parse().ok())
            .unwrap_or(0)
    }

    /// Waits until at least `at_least` records are acknowledged; fails after `timeout`
    /// or if the producer ended first.
    pub fn wait_acked(&self, at_least: usize, timeout: Duration) -> Result<usize> {
        let deadline = Instant::now() + timeout;
        loop {
            let acked = self.acked();
            if acked >= at_least {
                return Ok(acked);
            }
            if self.thread.as_ref().is_none_or(JoinHandle::is_finished) {
                bail!(
                    "producer {} ended with {acked} acknowledged, before {at_least} were",
                    self.options.prefix
                );
            }
            if Instant::now() >= deadline {
                bail!(
                    "producer {}: {acked} acknowledged after {timeout:?}, expected {at_least}",
                    self.options.prefix
                );
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits for the producer to end and returns what it saw.
    pub fn finish(mut self) -> Result<ProduceReport> {
        let thread = self.thread.take().context("producer already finished")?;
        let output = thread
            .join()
            .map_err(|_| anyhow!("producer thread panicked"))??;
        parse_report(&output, &self.bootstrap, self.options.clone())
    }
}

/// Runs a producer to its end.
pub fn produce(bootstrap: &str, topic: &str, options: ProducerOptions) -> Result<ProduceReport> {
    BackgroundProducer::start(bootstrap, topic, options)?.finish()
}

/// Parses the JSON line the script prints last.
fn parse_report(
    output: &Output,
    bootstrap: &str,
    options: ProducerOptions,
) -> Result<ProduceReport> {
    let parse = || -> Result<ProduceReport> {
        let line = output
            .stdout
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .context("no report printed")?;
        let json: Value = serde_json::from_str(line).context("report is not JSON")?;
        let list = |name: &str| -> Result<Vec<Value>> {
            json[name]
                .as_array()
                .cloned()
                .with_context(|| format!("no {name} list in the report"))
        };
        let int = |v: &Value| v.as_i64().context("not an integer");
        let mut acked = Vec::new();
        for entry in list("acked")? {
            acked.push(Ack {
                id: usize::try_from(int(&entry[0])?)?,
                partition: i32::try_from(int(&entry[1])?)?,
                offset: int(&entry[2])?,
            });
        }
        let mut failed = Vec::new();
        for entry in list("failed")? {
            failed.push((
                usize::try_from(int(&entry[0])?)?,
                entry[1].as_str().unwrap_or_default().to_string(),
            ));
        }
        let fatal = list("fatal")?
            .iter()
            .map(|v| v.as_str().unwrap_or_default().to_string())
            .collect();
        let mut leaders = BTreeMap::new();
        for (partition, leader) in json["leaders"].as_object().context("no leaders")? {
            leaders.insert(
                partition.parse()?,
                leader.as_str().unwrap_or_default().to_string(),
            );
        }
        Ok(ProduceReport {
            unflushed: usize::try_from(json["unflushed"].as_u64().context("no unflushed")?)?,
            options: options.clone(),
            bootstrap: bootstrap.to_string(),
            acked,
            failed,
            fatal,
            leaders,
            stderr: output.stderr.clone(),
        })
    };
    parse().with_context(|| format!("bad report from {SCRIPT}\n{}", output.describe()))
}

/// What [`verify_exactly_once`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    /// Records in the topic.
    pub records: usize,
    /// Acknowledged records (all found where they were acknowledged).
    pub acked: usize,
    /// Records stored although their producer was not told so (a failed or timed-out
    /// delivery that did get committed).
    pub unacknowledged_stored: usize,
}

/// Checks a topic read back with [`crate::cluster::read_topic`] against what the
/// producers saw:
/// - every record in the topic was sent by one of them, with its value, in the
///   partition it was sent to, and is there exactly once;
/// - every acknowledged record is there, at exactly the partition and offset it was
///   acknowledged with;
/// - each producer's records keep their sending order within a partition.
///
/// Offsets contiguous from 0 are checked by `read_topic` already.
pub fn verify_exactly_once(log: &TopicLog, reports: &[&ProduceReport]) -> Result<Verified> {
    let by_prefix: HashMap<&str, &ProduceReport> = reports
        .iter()
        .map(|r| (r.options.prefix.as_str(), *r))
        .collect();
    if by_prefix.len() != reports.len() {
        bail!("two producers share a key prefix");
    }
    // (prefix, id) → (partition, offset) of every record in the topic.
    let mut stored: HashMap<(&str, usize), (i32, i64)> = HashMap::new();
    let mut records = 0;
    for (&partition, list) in log {
        let mut last_id: HashMap<&str, usize> = HashMap::new();
        for record in list {
            records += 1;
            let key = key_text(record);
            let (prefix, id) = key
                .rsplit_once('-')
                .and_then(|(p, i)| Some((p, i.parse::<usize>().ok()?)))
                .with_context(|| {
                    format!("unexpected key {key:?} at {partition}/{}", record.offset)
                })?;
            let (&prefix, report) = by_prefix.get_key_value(prefix).with_context(|| {
                format!(
                    "record {key:?} at {partition}/{} from no producer",
                    record.offset
                )
            })?;
            let options = &report.options;
            if id >= options.count
                || i64::from(partition) != (id as i64) % i64::from(options.partitions)
            {
                bail!(
                    "record {key:?} found in partition {partition} at {}; it was sent to \
                     partition {}",
                    record.offset,
                    (id as i64) % i64::from(options.partitions)
                );
            }
            let value = value_text(record);
            if value != format!("{key}-value") {
                bail!(
                    "record {key:?} at {partition}/{} has value {value:?}",
                    record.offset
                );
            }
            if let Some(first) = stored.insert((prefix, id), (partition, record.offset)) {
                bail!(
                    "record {key:?} stored twice: at {}/{} and at {partition}/{}",
                    first.0,
                    first.1,
                    record.offset
                );
            }
            if let Some(previous) = last_id.insert(prefix, id)
                && previous > id
            {
                bail!(
                    "partition {partition}: {key:?} at offset {} comes after {prefix}-{previous}; \
                     the producer's order is lost",
                    record.offset
                );
            }
        }
    }
    let mut acked = 0;
    for report in reports {
        let prefix = report.options.prefix.as_str();
        for ack in &report.acked {
            let key = report.options.key(ack.id);
            match stored.get(&(prefix, ack.id)) {
                Some(&at) if at == (ack.partition, ack.offset) => acked += 1,
                Some(at) => bail!(
                    "record {key:?} was acknowledged at {}/{} but is stored at {}/{}",
                    ack.partition,
                    ack.offset,
                    at.0,
                    at.1
                ),
                None => bail!(
                    "record {key:?} was acknowledged at {}/{} but is not stored",
                    ack.partition,
                    ack.offset
                ),
            }
        }
    }
    Ok(Verified {
        records,
        acked,
        unacknowledged_stored: records - acked,
    })
}
