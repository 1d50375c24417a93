//! The consumer: one librdkafka client assigned every partition explicitly
//! (no group rebalance), reading on its own thread.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};

use crate::clock::{Plan, ns};
use crate::payload::read_stamp;
use crate::report::{RunConfig, Side, Summary};
use crate::stats::LiveStats;
use crate::{BenchArgs, BenchError, Outcome, SETUP_TIMEOUT, progress};

const POLL: Duration = Duration::from_millis(100);
/// Consumer errors printed before the rest are only counted.
const MAX_ERRORS_SHOWN: u64 = 5;

/// Runs `floe bench consume`: reads from the beginning to the end of the
/// topic as it is at start (or until `--duration` ends, or for the whole
/// duration if the topic is empty).
pub(crate) fn run(args: &BenchArgs, partitions: &[i32]) -> Result<Outcome, BenchError> {
    let consumer = connect(args)?;
    let marks = watermarks(&consumer, &args.topic, partitions)?;
    let available: i64 = marks.values().map(|(low, high)| high - low).sum();
    eprintln!(
        "reading {available} records from {} partitions of {}",
        partitions.len(),
        args.topic
    );
    assign(&consumer, &args.topic, partitions, |_| Offset::Beginning)?;
    let plan = Plan::start(args.warmup_duration(), args.measured_duration());
    let stop = StopWhen {
        hard_end_ns: plan.end_ns,
        caught_up: (available > 0).then(|| {
            marks
                .iter()
                .filter(|(_, (low, high))| high > low)
                .map(|(p, (_, high))| (*p, *high))
                .collect()
        }),
        drain: None,
    };
    let reader = Reader::start(consumer, plan, Measure::Receipt, stop)?;
    progress::watch(&plan, &[("consume", reader.stats())], || {
        reader.is_finished()
    });
    let stats = Arc::clone(reader.stats());
    reader.join()?;
    let totals = stats.finish();
    let summary = Summary {
        mode: "consume",
        topic: args.topic.clone(),
        result: Side::from_totals(&totals, plan.measure_from_ns, plan.end_ns),
        latency: "none",
        failed: 0,
        unsent: 0,
        produce: None,
        agent: None,
        config: RunConfig::new(args, partitions.len()),
    };
    Ok(Outcome {
        summary,
        failure: None,
    })
}

/// A consumer client, connected.
pub fn connect(args: &BenchArgs) -> Result<BaseConsumer, BenchError> {
    // librdkafka only assigns partitions in a consumer that has a group id;
    // nothing is committed and no group is joined.
    let group = format!("floe-bench-{}", std::process::id());
    let mut config = args.consumer_config();
    config.set("group.id", group);
    config
        .create()
        .map_err(BenchError::kafka("cannot create the consumer"))
}

/// Low and high watermarks of each partition.
pub fn watermarks(
    consumer: &BaseConsumer,
    topic: &str,
    partitions: &[i32],
) -> Result<HashMap<i32, (i64, i64)>, BenchError> {
    partitions
        .iter()
        .map(|&p| {
            consumer
                .fetch_watermarks(topic, p, SETUP_TIMEOUT)
                .map(|marks| (p, marks))
                .map_err(BenchError::kafka(format!(
                    "cannot read the offsets of {topic}/{p}"
                )))
        })
        .collect()
}

/// Assigns every partition, each from the offset `start` gives.
pub fn assign(
    consumer: &BaseConsumer,
    topic: &str,
    partitions: &[i32],
    start: impl Fn(i32) -> Offset,
) -> Result<(), BenchError> {
    let mut list = TopicPartitionList::new();
    for &p in partitions {
        list.add_partition_offset(topic, p, start(p))
            .map_err(BenchError::kafka("cannot build the assignment"))?;
    }
    consumer
        .assign(&list)
        .map_err(BenchError::kafka("cannot assign partitions"))
}

/// Which records count and what latency they carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// Records received in the window; no latency.
    Receipt,
    /// Records sent in the window; latency from their send stamp.
    SendStamp,
}

/// When the reader stops.
#[derive(Debug)]
pub struct StopWhen {
    /// Stop at this time whatever happens.
    pub hard_end_ns: u64,
    /// Stop once every listed partition reached its offset.
    pub caught_up: Option<HashMap<i32, i64>>,
    /// Stop once producers are done and everything they acked arrived.
    pub drain: Option<Drain>,
}

/// e2e: the producers' side, seen from the reader.
#[derive(Debug)]
pub struct Drain {
    /// Records the producers had acknowledged.
    pub acked: Arc<LiveStats>,
    /// When producers finished, in ns on the bench clock (0: not yet).
    pub producers_done_ns: Arc<AtomicU64>,
    /// How long to wait for the rest once producers are done.
    pub timeout: Duration,
}

impl Drain {
    fn complete(&self, received: u64, now_ns: u64) -> bool {
        let done = self.producers_done_ns.load(Ordering::Acquire);
        done != 0
            && (received >= self.acked.total_records()
                || now_ns >= done.saturating_add(ns(self.timeout)))
    }
}

/// The consumer thread.
#[derive(Debug)]
pub struct Reader {
    stats: Arc<LiveStats>,
    handle: JoinHandle<()>,
}

impl Reader {
    /// Starts reading on a new thread.
    pub fn start(
        consumer: BaseConsumer,
        plan: Plan,
        measure: Measure,
        stop: StopWhen,
    ) -> Result<Self, BenchError> {
        let stats = Arc::new(LiveStats::new());
        let thread_stats = Arc::clone(&stats);
        let handle = thread::Builder::new()
            .name("bench-consumer".to_string())
            .spawn(move || read(&consumer, &plan, measure, stop, &thread_stats))
            .map_err(BenchError::Spawn)?;
        Ok(Self { stats, handle })
    }

    /// Records received.
    pub fn stats(&self) -> &Arc<LiveStats> {
        &self.stats
    }

    /// Whether the reader has stopped.
    pub fn is_finished(&self) -> bool {
        self.handle.is_finished()
    }

    /// Waits for the reader to stop.
    pub fn join(self) -> Result<(), BenchError> {
        self.handle
            .join()
            .map_err(|_| BenchError::ThreadPanicked("bench-consumer".to_string()))
    }
}

fn read(consumer: &BaseConsumer, plan: &Plan, measure: Measure, stop: StopWhen, stats: &LiveStats) {
    let clock = plan.clock;
    let window_start_us = clock.unix_us_at(plan.measure_from_ns);
    let window_end_us = clock.unix_us_at(plan.end_ns);
    let mut remaining = stop.caught_up.unwrap_or_default();
    let catching_up = !remaining.is_empty();
    let mut errors: u64 = 0;
    loop {
        let now = clock.now_ns();
        if now >= stop.hard_end_ns
            || (catching_up && remaining.is_empty())
            || stop
                .drain
                .as_ref()
                .is_some_and(|d| d.complete(stats.total_records(), now))
        {
            break;
        }
        let message = match consumer.poll(POLL) {
            None => continue,
            Some(Ok(message)) => message,
            Some(Err(error)) => {
                errors += 1;
                if errors <= MAX_ERRORS_SHOWN {
                    eprintln!("consumer error: {error}");
                }
                continue;
            }
        };
        let now = clock.now_ns();
        let value = message.payload().unwrap_or_default();
        let bytes = (value.len() + message.key().map_or(0, <[u8]>::len)) as u64;
        match measure {
            Measure::Receipt => stats.record(bytes, now, plan.in_window(now), None),
            Measure::SendStamp => {
                let stamp = read_stamp(value).or_else(|| {
                    let ms = message.timestamp().to_millis()?;
                    u64::try_from(ms).ok().map(|ms| ms * 1_000)
                });
                match stamp {
                    Some(sent_us) => {
                        let measured = (window_start_us..window_end_us).contains(&sent_us);
                        let latency = clock.unix_us_at(now).saturating_sub(sent_us);
                        stats.record(bytes, now, measured, Some(latency));
                    }
                    None => stats.record(bytes, now, false, None),
                }
            }
        }
        if catching_up
            && let Some(&target) = remaining.get(&message.partition())
            && message.offset() + 1 >= target
        {
            remaining.remove(&message.partition());
        }
    }
    if errors > MAX_ERRORS_SHOWN {
        eprintln!("consumer errors: {errors} in all");
    }
}
