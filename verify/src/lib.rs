//! `floe verify`: a checker for a Kafka-compatible cluster under faults.
//!
//! Idempotent producers (`acks=all`) write unique values on known keys
//! while consumers in one group read and commit. After `--duration`, the
//! producers stop and flush, the consumers drain to the high watermarks
//! (bounded by `--drain-timeout`), and the history is checked
//! ([`check::check`]): every acknowledged record read, at its acknowledged
//! offset; no value stored twice and no offset holding two values; each
//! producer's records in send order within a partition; offsets gapless
//! from the log start to the high watermark; committed offsets never going
//! back; no partition stuck with unread records longer than
//! `--stuck-after`. It prints a summary (JSON with `--json`) and fails on
//! any violation. See `docs/operations.md` for a soak with faults.
//!
//! It drives the cluster with librdkafka (the `rdkafka` crate), like
//! `floe bench`: what it proves holds for the client most users run.
//! Memory grows with the records of the run (tens of bytes per record
//! read), which `--rate` × `--duration` bounds.

pub mod check;
mod consume;
mod error;
pub mod history;
mod produce;
mod report;
mod stall;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::Args;
use rdkafka::ClientConfig;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::{BaseConsumer, Consumer};

pub use error::VerifyError;

use crate::history::{Failure, History, RecordId, Watermarks};
use crate::stall::StallWatch;

/// How often the run's progress is printed.
const PROGRESS_EVERY: Duration = Duration::from_secs(5);
/// How often the stall watch is updated and the drain re-checked.
const TICK: Duration = Duration::from_millis(250);
/// How long one watermark query may take.
const WATERMARK_TIMEOUT: Duration = Duration::from_secs(5);

/// Flags of `floe verify`.
#[derive(Debug, Clone, Args)]
pub struct VerifyArgs {
    /// host:port of brokers of the cluster (comma-separated).
    #[arg(long, default_value = "127.0.0.1:9092")]
    pub bootstrap: String,
    /// Topic to write and read; created with --partitions if missing. Records
    /// of earlier runs in it are read but not checked.
    #[arg(long, default_value = "floe-verify")]
    pub topic: String,
    /// Partitions of the topic when the checker creates it.
    #[arg(long, default_value_t = 4)]
    pub partitions: i32,
    /// Idempotent producer clients.
    #[arg(long, default_value_t = 2)]
    pub producers: usize,
    /// Consumer clients, all in one group.
    #[arg(long, default_value_t = 2)]
    pub consumers: usize,
    /// Seconds of producing.
    #[arg(long, default_value_t = 60.0)]
    pub duration: f64,
    /// Records per second over all producers.
    #[arg(long, default_value_t = 200.0)]
    pub rate: f64,
    /// Distinct record keys (`key-0`…) each producer cycles through.
    #[arg(long, default_value_t = 16)]
    pub keys: u64,
    /// Seconds a partition may have unread acknowledged records while no
    /// consumer reads from it, before it counts as stuck.
    #[arg(long, default_value_t = 60.0)]
    pub stuck_after: f64,
    /// Seconds the consumers may take, after the producers stopped, to read
    /// up to the high watermarks.
    #[arg(long, default_value_t = 180.0)]
    pub drain_timeout: f64,
    /// Print the summary as one JSON object on the last line of stdout.
    #[arg(long)]
    pub json: bool,
    /// librdkafka debug contexts for the checker's clients (e.g. `eos,msg`),
    /// logged to stderr: to see what a client did around a violation.
    #[arg(long)]
    pub client_debug: Option<String>,
}

impl VerifyArgs {
    /// Rejects flag values that cannot run.
    fn validate(&self) -> Result<(), VerifyError> {
        let bad = |m: &str| Err(VerifyError::InvalidArgs(m.to_string()));
        let positive = |v: f64| v.is_finite() && v > 0.0;
        if !positive(self.duration) {
            return bad("--duration must be a positive number of seconds");
        }
        if !positive(self.rate) {
            return bad("--rate must be a positive number of records per second");
        }
        if !positive(self.stuck_after) {
            return bad("--stuck-after must be a positive number of seconds");
        }
        if !positive(self.drain_timeout) {
            return bad("--drain-timeout must be a positive number of seconds");
        }
        if self.producers == 0 || self.consumers == 0 {
            return bad("--producers and --consumers must be at least 1");
        }
        if self.partitions < 1 {
            return bad("--partitions must be at least 1");
        }
        if self.keys == 0 {
            return bad("--keys must be at least 1");
        }
        if self.topic.is_empty() {
            return bad("--topic must not be empty");
        }
        Ok(())
    }

    /// Settings common to every client.
    fn base_client_config(&self) -> ClientConfig {
        let mut c = ClientConfig::new();
        c.set("bootstrap.servers", &self.bootstrap)
            .set("client.id", "floe-verify");
        if let Some(contexts) = &self.client_debug {
            c.set("debug", contexts)
                .set_log_level(RDKafkaLogLevel::Debug);
        }
        c
    }
}

/// What producers and consumers record as they go, behind one lock.
#[derive(Debug, Default)]
struct Recorder {
    history: History,
    stalls: StallWatch,
    first_error: Option<String>,
    consumer_errors: u64,
}

/// Locks the recorder; a thread that panicked holding it leaves the data
/// as it was, which is still worth checking.
fn lock(recorder: &Mutex<Recorder>) -> MutexGuard<'_, Recorder> {
    recorder
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Runs the checker: produce and consume under whatever faults the cluster
/// suffers, drain, check, print the summary (stdout) and progress (stderr).
///
/// Fails with [`VerifyError::Violations`] if any check failed.
pub fn run(args: VerifyArgs) -> Result<(), VerifyError> {
    args.validate()?;
    let run_id = run_id();
    let group = format!("floe-verify-{run_id:016x}");
    eprintln!(
        "floe verify: run {run_id:016x} bootstrap={} topic={} partitions={} producers={} \
         consumers={} duration={}s rate={}/s stuck-after={}s group={group}",
        args.bootstrap,
        args.topic,
        args.partitions,
        args.producers,
        args.consumers,
        args.duration,
        args.rate,
        args.stuck_after
    );
    let partitions = floe_bench::setup::prepare_topic(
        &args.base_client_config(),
        floe_bench::setup::TopicPlan {
            bootstrap: &args.bootstrap,
            topic: &args.topic,
            partitions: args.partitions,
            create: true,
        },
    )?;
    let recorder = Arc::new(Mutex::new(Recorder::default()));
    lock(&recorder).history.partitions = partitions.clone();
    let started = Instant::now();
    let stop_producing = Arc::new(AtomicBool::new(false));
    let stop_consuming = Arc::new(AtomicBool::new(false));
    let end = started + Duration::from_secs_f64(args.duration);
    let consumers = consume::start(&args, run_id, &group, &stop_consuming, &recorder)?;
    let producers = produce::start(&args, run_id, end, &stop_producing, &recorder)?;

    let mut progress = Progress::new(started);
    while !producers.iter().all(thread::JoinHandle::is_finished) {
        thread::sleep(TICK);
        progress.tick(&recorder, "producing");
    }
    let mut sent = BTreeMap::new();
    for handle in producers {
        let done = handle
            .join()
            .map_err(|_| VerifyError::Panicked("producer"))?;
        if let Some(fatal) = done.fatal {
            lock(&recorder).history.producer_fatal.push(fatal);
        }
        sent.insert(done.producer, done.sent);
    }
    record_unknown_outcomes(&mut lock(&recorder).history, &sent);

    let watermark_client: BaseConsumer = args
        .base_client_config()
        .create()
        .map_err(VerifyError::kafka("cannot create the watermark client"))?;
    let drain_deadline = Instant::now() + Duration::from_secs_f64(args.drain_timeout);
    let mut watermarks = BTreeMap::new();
    let drained = loop {
        watermarks = fetch_watermarks(&watermark_client, &args.topic, &partitions, watermarks);
        if caught_up(&lock(&recorder), &partitions, &watermarks) {
            break true;
        }
        if Instant::now() >= drain_deadline {
            eprintln!("drain timed out after {}s", args.drain_timeout);
            break false;
        }
        thread::sleep(TICK);
        progress.tick(&recorder, "draining");
    };
    stop_consuming.store(true, Ordering::Relaxed);
    stop_producing.store(true, Ordering::Relaxed);
    for handle in consumers {
        handle
            .join()
            .map_err(|_| VerifyError::Panicked("consumer"))?;
    }

    let (history, consumer_errors, first_error) = {
        let mut r = lock(&recorder);
        r.stalls.tick(Instant::now());
        let mut history = std::mem::take(&mut r.history);
        history.watermarks = watermarks;
        history.longest_stall = r.stalls.longest();
        (history, r.consumer_errors, r.first_error.clone())
    };
    let verdict = check::check(&history, Duration::from_secs_f64(args.stuck_after));
    let summary = report::Summary {
        topic: args.topic.clone(),
        run: format!("{run_id:016x}"),
        partitions: partitions.len(),
        producers: args.producers,
        consumers: args.consumers,
        duration_secs: started.elapsed().as_secs_f64(),
        rate: args.rate,
        stuck_after_secs: args.stuck_after,
        drained,
        consumer_errors,
        first_delivery_error: first_error,
        passed: verdict.passed(),
        verdict,
    };
    report::print(&summary, args.json)?;
    if summary.passed {
        Ok(())
    } else {
        Err(VerifyError::Violations {
            count: summary.verdict.violation_count(),
            lost: summary.verdict.lost,
            duplicates: summary.verdict.duplicates,
        })
    }
}

/// A run id that tells this run's values from earlier runs' in one topic.
fn run_id() -> u64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    nanos ^ (u64::from(std::process::id()) << 48)
}

/// Records sent (`0..sent` per producer) without any delivery report become
/// failures with an unknown outcome.
fn record_unknown_outcomes(history: &mut History, sent: &BTreeMap<u32, u64>) {
    let reported: BTreeSet<RecordId> = history
        .acks
        .iter()
        .map(|a| a.id)
        .chain(history.failures.iter().map(|f| f.id))
        .collect();
    for (&producer, &count) in sent {
        for seq in 0..count {
            let id = RecordId { producer, seq };
            if !reported.contains(&id) {
                history.failures.push(Failure {
                    id,
                    definite: false,
                });
            }
        }
    }
}

/// Current log bounds of every partition; keeps the previous answer of a
/// partition whose query failed (an agent may be restarting).
fn fetch_watermarks(
    client: &BaseConsumer,
    topic: &str,
    partitions: &[i32],
    mut known: BTreeMap<i32, Watermarks>,
) -> BTreeMap<i32, Watermarks> {
    for &p in partitions {
        if let Ok((low, high)) = client.fetch_watermarks(topic, p, WATERMARK_TIMEOUT) {
            known.insert(p, Watermarks { low, high });
        }
    }
    known
}

/// Whether consumers have read up to the high watermark of every partition
/// (and past every acknowledged offset).
fn caught_up(r: &Recorder, partitions: &[i32], marks: &BTreeMap<i32, Watermarks>) -> bool {
    let mut read_max: BTreeMap<i32, i64> = BTreeMap::new();
    for read in &r.history.reads {
        let m = read_max.entry(read.partition).or_insert(-1);
        *m = (*m).max(read.offset);
    }
    let mut needed: BTreeMap<i32, i64> = BTreeMap::new();
    for ack in &r.history.acks {
        let n = needed.entry(ack.partition).or_insert(-1);
        *n = (*n).max(ack.offset);
    }
    partitions.iter().all(|p| {
        let Some(mark) = marks.get(p) else {
            return false;
        };
        let need = needed.get(p).copied().unwrap_or(-1).max(mark.high - 1);
        need < mark.low || read_max.get(p).copied().unwrap_or(-1) >= need
    })
}

/// Prints a progress line to stderr every [`PROGRESS_EVERY`] and keeps the
/// stall watch up to date.
struct Progress {
    started: Instant,
    last: Instant,
}

impl Progress {
    fn new(started: Instant) -> Self {
        Self {
            started,
            last: started,
        }
    }

    fn tick(&mut self, recorder: &Mutex<Recorder>, phase: &str) {
        let now = Instant::now();
        let mut r = lock(recorder);
        r.stalls.tick(now);
        if now.duration_since(self.last) < PROGRESS_EVERY {
            return;
        }
        self.last = now;
        eprintln!(
            "[{:>6.1}s] {phase}: acked {} failed {} read {} commits {} worst stall {:.1}s",
            now.duration_since(self.started).as_secs_f64(),
            r.history.acks.len(),
            r.history.failures.len(),
            r.history.reads.len(),
            r.history.commits.len(),
            r.stalls.current_worst(now).as_secs_f64()
        );
    }
}

#[cfg(test)]
mod tests;
