//! Producers: N librdkafka clients, each with a sending thread, sending as
//! fast as the client takes records or on a `--rate` schedule.
//!
//! Each record carries its intended send time as the delivery opaque; the
//! delivery report (the ack) turns it into a latency. Memory stays bounded:
//! librdkafka's queue is capped (`queue.buffering.max.kbytes`) and a sender
//! that meets `QueueFull` backs off and retries the same record.

use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use rdkafka::ClientContext;
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};
use rdkafka::types::RDKafkaErrorCode;

use crate::clock::{Clock, Plan, ns};
use crate::payload::{Keys, Payload};
use crate::report::{RunConfig, Side, Summary};
use crate::schedule::RateSchedule;
use crate::stats::LiveStats;
use crate::{BenchArgs, BenchError, FLUSH_TIMEOUT, Outcome, progress};

/// Pause before retrying a record the full queue refused.
const QUEUE_FULL_BACKOFF: Duration = Duration::from_micros(500);
/// With `--rate`: how late past the end a record due before it is still sent.
const SCHEDULE_GRACE: Duration = Duration::from_millis(20);

/// Runs `floe bench produce`.
pub(crate) fn run(args: &BenchArgs, partitions: &[i32]) -> Result<Outcome, BenchError> {
    let plan = Plan::start(args.warmup_duration(), args.measured_duration());
    let producers = Producers::start(args, &plan)?;
    progress::watch(&plan, &[("produce", producers.stats())], || {
        producers.is_finished()
    });
    let stats = Arc::clone(producers.stats());
    let done = producers.join()?;
    if let Some(commits) = &done.commits {
        crate::txn::print_commits(commits);
    }
    let totals = stats.finish();
    let summary = Summary {
        mode: "produce",
        topic: args.topic.clone(),
        result: Side::from_totals(&totals, plan.measure_from_ns, plan.end_ns),
        latency: if args.rate.is_some() {
            "intended send to ack"
        } else {
            "send to ack"
        },
        failed: totals.failed,
        unsent: done.unsent,
        produce: None,
        agent: None,
        config: RunConfig::new(args, partitions.len()),
    };
    Ok(Outcome {
        summary,
        failure: done.failure(&stats),
    })
}

/// Running producers.
#[derive(Debug)]
pub struct Producers {
    stats: Arc<LiveStats>,
    handles: Vec<JoinHandle<SenderReport>>,
}

/// What the producers left undone.
#[derive(Debug, Default, Clone)]
pub struct ProducersDone {
    /// Records due on the `--rate` schedule that were never sent.
    pub unsent: u64,
    /// Records still queued when the final flush timed out.
    pub undelivered: u64,
    /// Transactional producers: every commit's latency in µs.
    pub commits: Option<hdrhistogram::Histogram<u64>>,
}

impl ProducersDone {
    /// The error a run ends with: failed or undelivered records.
    pub fn failure(&self, stats: &LiveStats) -> Option<BenchError> {
        if stats.failed() > 0 {
            Some(BenchError::DeliveryFailed {
                failed: stats.failed(),
                first_error: stats.first_error().unwrap_or_default(),
            })
        } else if self.undelivered > 0 {
            Some(BenchError::FlushTimedOut(self.undelivered))
        } else {
            None
        }
    }
}

impl Producers {
    /// Creates `--producers` clients and starts their sending threads.
    pub fn start(args: &BenchArgs, plan: &Plan) -> Result<Self, BenchError> {
        let stats = Arc::new(LiveStats::new());
        let payload = Arc::new(Payload::new(args.record_size, args.seed));
        let config = args.producer_config();
        let mut handles = Vec::with_capacity(args.producers);
        for n in 0..args.producers {
            let context = DeliveryCounter {
                clock: plan.clock,
                measure_from_ns: plan.measure_from_ns,
                stats: Arc::clone(&stats),
            };
            let mut config = config.clone();
            if let Some(id) = &args.transactional_id {
                config.set("transactional.id", format!("{id}-{n}"));
            }
            let producer: ThreadedProducer<DeliveryCounter> =
                config
                    .create_with_context(context)
                    .map_err(BenchError::kafka("cannot create a producer"))?;
            let txn = match &args.transactional_id {
                Some(_) => Some(crate::txn::TxnCycle::start(&producer, args.txn_records)?),
                None => None,
            };
            let sender = Sender {
                producer,
                plan: *plan,
                topic: args.topic.clone(),
                payload: Arc::clone(&payload),
                keys: Keys::new(args.keys, args.key_pattern, n as u64, args.seed),
                schedule: args.rate.and_then(|rate| {
                    RateSchedule::per_producer(rate, args.producers, plan.clock.now_ns())
                }),
                stats: Arc::clone(&stats),
                txn,
            };
            let handle = thread::Builder::new()
                .name(format!("bench-producer-{n}"))
                .spawn(move || sender.run())
                .map_err(BenchError::Spawn)?;
            handles.push(handle);
        }
        Ok(Self { stats, handles })
    }

    /// Delivery statistics, shared with the delivery callbacks.
    pub fn stats(&self) -> &Arc<LiveStats> {
        &self.stats
    }

    /// Whether every sender has stopped and flushed.
    pub fn is_finished(&self) -> bool {
        self.handles.iter().all(JoinHandle::is_finished)
    }

    /// Waits for every sender to stop and flush.
    pub fn join(self) -> Result<ProducersDone, BenchError> {
        let mut done = ProducersDone::default();
        for handle in self.handles {
            let name = handle.thread().name().unwrap_or("producer").to_string();
            let report = handle
                .join()
                .map_err(|_| BenchError::ThreadPanicked(name))?;
            done.unsent += report.unsent;
            done.undelivered += report.undelivered;
            if let Some(commits) = report.commits {
                match &mut done.commits {
                    Some(all) => {
                        let _ = all.add(&commits);
                    }
                    None => done.commits = Some(commits),
                }
            }
        }
        Ok(done)
    }
}

/// Counts delivery reports; runs on librdkafka's polling thread.
#[derive(Debug)]
struct DeliveryCounter {
    clock: Clock,
    measure_from_ns: u64,
    stats: Arc<LiveStats>,
}

impl ClientContext for DeliveryCounter {}

impl ProducerContext for DeliveryCounter {
    /// The record's intended send time on the bench clock, in ns.
    type DeliveryOpaque = usize;

    fn delivery(&self, result: &DeliveryResult<'_>, intended_ns: usize) {
        let now = self.clock.now_ns();
        let intended = intended_ns as u64;
        match result {
            Ok(message) => {
                let bytes = message.payload_len() + message.key().map_or(0, <[u8]>::len);
                self.stats.record(
                    bytes as u64,
                    now,
                    intended >= self.measure_from_ns,
                    Some(now.saturating_sub(intended) / 1_000),
                );
            }
            Err((error, _)) => self.stats.fail(|| error.to_string()),
        }
    }
}

/// One producer client and its sending loop.
struct Sender {
    producer: ThreadedProducer<DeliveryCounter>,
    plan: Plan,
    topic: String,
    payload: Arc<Payload>,
    keys: Keys,
    schedule: Option<RateSchedule>,
    stats: Arc<LiveStats>,
    /// Transactional producers: the open transaction.
    txn: Option<crate::txn::TxnCycle>,
}

/// What one sender left undone.
#[derive(Debug, Default)]
struct SenderReport {
    unsent: u64,
    undelivered: u64,
    commits: Option<hdrhistogram::Histogram<u64>>,
}

impl Sender {
    /// How far past the end a scheduled record may still be sent.
    fn grace_ns(&self) -> u64 {
        if self.schedule.is_some() {
            ns(SCHEDULE_GRACE)
        } else {
            0
        }
    }

    fn run(mut self) -> SenderReport {
        let clock = self.plan.clock;
        let end = self.plan.end_ns;
        let stop_at = end.saturating_add(self.grace_ns());
        let mut value = Vec::new();
        let mut i: u64 = 0;
        'records: loop {
            let due = match self.schedule {
                Some(schedule) => {
                    let due = schedule.due_ns(i);
                    if due >= end {
                        break;
                    }
                    clock.sleep_until(due);
                    due
                }
                None => clock.now_ns(),
            };
            // A scheduled record due in the window is sent even if the
            // sleep overshot the end a little.
            if clock.now_ns() >= stop_at {
                break;
            }
            let stamp_us = clock.unix_us_at(due);
            self.payload.fill(&mut value, i, stamp_us);
            let millis = i64::try_from(stamp_us / 1_000).unwrap_or(i64::MAX);
            let opaque = usize::try_from(due).unwrap_or(usize::MAX);
            let mut record = BaseRecord::<[u8], [u8], usize>::with_opaque_to(&self.topic, opaque)
                .payload(&value[..])
                .timestamp(millis);
            if let Some(key) = self.keys.pick(i) {
                record = record.key(key);
            }
            loop {
                match self.producer.send(record) {
                    Ok(()) => {
                        if let Some(txn) = &mut self.txn
                            && let Err(e) = txn.sent(&self.producer)
                        {
                            self.stats.fail(|| e);
                            break 'records;
                        }
                        break;
                    }
                    Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                        if clock.now_ns() >= stop_at {
                            break 'records;
                        }
                        record = back;
                        thread::sleep(QUEUE_FULL_BACKOFF);
                    }
                    Err((error, _)) => {
                        self.stats.fail(|| error.to_string());
                        break;
                    }
                }
            }
            i += 1;
        }
        let unsent = self
            .schedule
            .map_or(0, |s| s.due_before(end).saturating_sub(i));
        if let Some(txn) = &mut self.txn
            && let Err(e) = txn.commit(&self.producer)
        {
            self.stats.fail(|| e);
        }
        let undelivered = match self.producer.flush(FLUSH_TIMEOUT) {
            Ok(()) => 0,
            Err(_) => u64::try_from(self.producer.in_flight_count()).unwrap_or(0),
        };
        SenderReport {
            unsent,
            undelivered,
            commits: self.txn.map(crate::txn::TxnCycle::into_commits),
        }
    }
}
