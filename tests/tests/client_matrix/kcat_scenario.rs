//! The client-matrix scenario with Debian's kcat 1.7 (librdkafka 2.0.2), run from the
//! test process. kcat has no admin calls (it cannot create, describe, alter, grow,
//! trim or delete a topic): the test creates the topic with a raw CreateTopics
//! first, and those six steps are not applicable (the matrix's `skipped` list). It
//! runs the other four as the programs under `tests/clients/` do, with two
//! differences it cannot avoid:
//!
//! - kcat cannot set a record's timestamp, and its `-H` headers hold for every record
//!   of one run: it produces the five records of each codec in one run (`-K:`,
//!   `-H codec=…`, `-X compression.codec=…`), so they carry the header `codec` but no
//!   `index`, and their produce time. The reads check those timestamps never
//!   decrease and fall within the produce step; the offset search asks for record
//!   15's timestamp as read back (the first of the lz4 run, a run later than 14).
//! - kcat cannot read a group's committed offsets: after the group read (`-G`, whose
//!   consumer commits on close), a raw OffsetFetch reads what it committed.

use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail, ensure};
use floe_tests::clients::{ALL_CODECS, Step};
use floe_tests::groups::RawGroupClient;
use floe_tests::kcat::Kcat;
use floe_tests::raw::RawClient;
use kafka_protocol::records::Compression;
use serde_json::{Value, json};

const PER_CODEC: usize = 5;
const TOTAL: usize = 25;
const PARTITIONS: i32 = 3;
const FIND_INDEX: usize = 15;
const TIMEOUT: Duration = Duration::from_secs(30);
/// Between fields of kcat's `-f` output; never in the scenario's keys and values.
const SEP: char = '\u{1f}';

/// The steps kcat cannot do: it has no admin calls.
pub const NOT_APPLICABLE: &[&str] = &[
    "create_topic",
    "describe_configs",
    "alter_configs",
    "create_partitions",
    "delete_records",
    "delete_topic",
];

/// One record as read back: offset, key, value, headers as kcat prints them, timestamp.
type Read = (i64, String, String, String, i64);

struct Scenario {
    kcat: Kcat,
    addr: SocketAddr,
    topic: String,
    /// Wall clock (ms) before the first record was sent and after the last was acked.
    produced_between: (i64, i64),
    /// Record 15's timestamp as the plain read saw it.
    find_timestamp: Option<i64>,
}

fn codec_of(i: usize) -> &'static str {
    ALL_CODECS[i / PER_CODEC]
}

/// The scenario's name of a batch's codec.
fn codec_name(compression: Compression) -> &'static str {
    match compression {
        Compression::None => "none",
        Compression::Gzip => "gzip",
        Compression::Snappy => "snappy",
        Compression::Lz4 => "lz4",
        Compression::Zstd => "zstd",
    }
}

fn now_ms() -> Result<i64> {
    Ok(i64::try_from(
        SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis(),
    )?)
}

/// Runs the scenario against `bootstrap` on `topic` and returns its steps.
pub fn run(bootstrap: &str, topic: &str) -> Result<Vec<Step>> {
    let addr: SocketAddr = bootstrap.parse().context("bootstrap address")?;
    create_topic(addr, topic)?;
    let mut scenario = Scenario {
        kcat: Kcat::new(bootstrap),
        addr,
        topic: topic.to_string(),
        produced_between: (0, 0),
        find_timestamp: None,
    };
    type StepFn = fn(&mut Scenario) -> Result<Value>;
    let steps: [(&str, StepFn); 4] = [
        ("produce", Scenario::produce),
        ("consume", Scenario::consume),
        ("group_consume", Scenario::group_consume),
        ("list_offsets_by_time", Scenario::list_offsets_by_time),
    ];
    Ok(steps
        .iter()
        .map(|(name, run)| {
            let (ok, detail) = match run(&mut scenario) {
                Ok(detail) => (true, detail),
                Err(e) => (false, Value::String(format!("{e:#}"))),
            };
            Step {
                step: (*name).to_string(),
                ok,
                detail,
            }
        })
        .collect())
}

/// Creates the topic with the scenario's configs (kcat cannot) and waits until every
/// partition has a leader that answers ListOffsets.
fn create_topic(addr: SocketAddr, topic: &str) -> Result<()> {
    let mut client = RawClient::connect(addr)?;
    let code = client.create_topic_with_config(
        topic,
        PARTITIONS,
        &[("retention.ms", "86400000"), ("cleanup.policy", "delete")],
    )?;
    ensure!(code == 0, "CreateTopics answered error {code}");
    let deadline = Instant::now() + TIMEOUT;
    while !(0..PARTITIONS).all(|p| {
        client
            .list_offsets(topic, p, -1)
            .is_ok_and(|answer| answer.error_code == 0)
    }) {
        ensure!(Instant::now() < deadline, "{topic} has no leaders");
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(())
}

/// Parses `offset␟key␟value␟headers␟timestamp` lines.
fn parse(stdout: &str) -> Result<Vec<Read>> {
    stdout
        .lines()
        .map(|line| {
            let fields: Vec<&str> = line.split(SEP).collect();
            let [offset, key, value, headers, timestamp] = fields[..] else {
                bail!("bad kcat line {line:?}");
            };
            Ok((
                offset.parse()?,
                key.to_string(),
                value.to_string(),
                headers.to_string(),
                timestamp.parse()?,
            ))
        })
        .collect()
}

impl Scenario {
    /// kcat's `-f` format for [`parse`].
    fn format() -> String {
        format!("%o{SEP}%k{SEP}%s{SEP}%h{SEP}%T\\n")
    }

    /// Checks the records read: offsets, keys, values and headers exactly, timestamps
    /// never decreasing and within the produce step.
    fn check(&self, got: &[Read]) -> Result<()> {
        ensure!(
            got.len() == TOTAL,
            "read {} records, want {TOTAL}: {got:?}",
            got.len()
        );
        let (from, to) = self.produced_between;
        let mut previous = from;
        for (i, (offset, key, value, headers, timestamp)) in got.iter().enumerate() {
            let want = (
                i64::try_from(i)?,
                format!("key-{i}"),
                format!("value-{}-{i}", codec_of(i)),
                format!("codec={}", codec_of(i)),
            );
            ensure!(
                (*offset, key.clone(), value.clone(), headers.clone()) == want,
                "record {i}: got {:?}, want {want:?}",
                got[i]
            );
            ensure!(
                *timestamp >= previous && *timestamp <= to,
                "record {i}: timestamp {timestamp} before {previous} or after {to}"
            );
            previous = *timestamp;
        }
        Ok(())
    }

    /// One kcat run per codec: five `key:value` lines to partition 0 under that codec,
    /// with the header `codec=…`, acknowledged by all replicas; then the codec of every
    /// stored batch as a raw Fetch sees it (librdkafka sends a batch uncompressed when
    /// compressing would not shrink it, which would leave a codec untested).
    fn produce(&mut self) -> Result<Value> {
        let from = now_ms()?;
        for (c, codec) in ALL_CODECS.iter().enumerate() {
            let lines: String = (c * PER_CODEC..(c + 1) * PER_CODEC)
                .map(|i| format!("key-{i}:value-{codec}-{i}\n"))
                .collect();
            let (header, compression) = (
                format!("codec={codec}"),
                format!("compression.codec={codec}"),
            );
            self.kcat.produce_keyed(
                &self.topic,
                &lines,
                &[
                    "-p",
                    "0",
                    "-H",
                    &header,
                    "-X",
                    &compression,
                    "-X",
                    "acks=all",
                ],
            )?;
            // Each run's records a millisecond after the last run's, so the offset
            // search by time finds the first record of a run exactly.
            std::thread::sleep(Duration::from_millis(2));
        }
        self.produced_between = (from, now_ms()?);
        let mut client = RawClient::connect(self.addr)?;
        let (stored, batches) = client.fetch_all(&self.topic, 0, TOTAL)?;
        ensure!(stored.len() == TOTAL, "{} records stored", stored.len());
        let codecs: Vec<&str> = batches.iter().map(|b| codec_name(b.compression)).collect();
        ensure!(
            codecs == ALL_CODECS,
            "stored batches' codecs {codecs:?}, want {ALL_CODECS:?}"
        );
        Ok(json!({"records": TOTAL, "codecs": codecs}))
    }

    /// `kcat -C -p 0 -o beginning -e`: every record of partition 0, then exit.
    fn consume(&mut self) -> Result<Value> {
        let output = self
            .kcat
            .run(
                &[
                    "-C",
                    "-t",
                    &self.topic,
                    "-p",
                    "0",
                    "-o",
                    "beginning",
                    "-e",
                    "-q",
                    "-f",
                    &Self::format(),
                ],
                b"",
            )?
            .ensure_success()?;
        let got = parse(&output.stdout)?;
        self.check(&got)?;
        self.find_timestamp = Some(got[FIND_INDEX].4);
        Ok(json!({"records": got.len()}))
    }

    /// `kcat -G GROUP TOPIC -e`: a balanced consumer of every partition that exits at
    /// the end of them and commits on close; the commit read with a raw OffsetFetch.
    fn group_consume(&mut self) -> Result<Value> {
        let group = format!("{}-group", self.topic);
        let output = self
            .kcat
            .run(
                &[
                    "-G",
                    &group,
                    "-X",
                    "auto.offset.reset=earliest",
                    "-e",
                    "-q",
                    "-f",
                    &Self::format(),
                    &self.topic,
                ],
                b"",
            )?
            .ensure_success()?;
        let mut got = parse(&output.stdout)?;
        got.sort();
        self.check(&got)?;
        let mut offsets = RawGroupClient::connect(self.addr, &group)?;
        let (code, committed, _) = offsets.fetch_offset(&self.topic, 0)?;
        ensure!(code == 0, "OffsetFetch answered error {code}");
        Ok(json!({"records": got.len(), "committed": committed}))
    }

    /// `kcat -Q -t TOPIC:0:TIMESTAMP` with record 15's timestamp.
    fn list_offsets_by_time(&mut self) -> Result<Value> {
        let timestamp = self
            .find_timestamp
            .context("the plain read found no timestamp for record 15")?;
        let query = format!("{}:0:{timestamp}", self.topic);
        let output = self
            .kcat
            .run(&["-Q", "-t", &query], b"")?
            .ensure_success()?;
        // "TOPIC [0] offset 15"
        let offset: i64 = output
            .stdout
            .lines()
            .find_map(|line| line.split_once(" offset ").map(|(_, o)| o.trim()))
            .with_context(|| format!("no offset in kcat -Q's output\n{}", output.describe()))?
            .parse()?;
        Ok(json!({"offset": offset}))
    }
}
