//! `floe bench e2e`: producers and a consumer at once. The consumer starts
//! at the end of every partition, and each record's latency is its receipt
//! time minus the send time stamped in it (the intended send time with
//! `--rate`). After sending stops the consumer drains until every
//! acknowledged record arrived, or the drain timeout passes.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use rdkafka::Offset;

use crate::clock::{Plan, ns};
use crate::consume::{self, Drain, Measure, Reader, StopWhen};
use crate::produce::Producers;
use crate::report::{RunConfig, Side, Summary};
use crate::{Acks, BenchArgs, BenchError, DRAIN_TIMEOUT, FLUSH_TIMEOUT, Outcome, progress};

/// Runs `floe bench e2e`.
pub(crate) fn run(args: &BenchArgs, partitions: &[i32]) -> Result<Outcome, BenchError> {
    let consumer = consume::connect(args)?;
    let marks = consume::watermarks(&consumer, &args.topic, partitions)?;
    consume::assign(&consumer, &args.topic, partitions, |p| {
        marks
            .get(&p)
            .map_or(Offset::End, |&(_, high)| Offset::Offset(high))
    })?;
    let plan = Plan::start(args.warmup_duration(), args.measured_duration());
    let producers_done_ns = Arc::new(AtomicU64::new(0));
    let producers = Producers::start(args, &plan)?;
    let stop = StopWhen {
        hard_end_ns: plan
            .end_ns
            .saturating_add(ns(FLUSH_TIMEOUT))
            .saturating_add(ns(DRAIN_TIMEOUT)),
        caught_up: None,
        drain: Some(Drain {
            acked: Arc::clone(producers.stats()),
            producers_done_ns: Arc::clone(&producers_done_ns),
            timeout: DRAIN_TIMEOUT,
        }),
    };
    let reader = Reader::start(consumer, plan, Measure::SendStamp, stop)?;
    progress::watch(
        &plan,
        &[("produce", producers.stats()), ("e2e", reader.stats())],
        || {
            if producers_done_ns.load(Ordering::Acquire) == 0 && producers.is_finished() {
                producers_done_ns.store(plan.clock.now_ns().max(1), Ordering::Release);
            }
            reader.is_finished()
        },
    );
    let sent = Arc::clone(producers.stats());
    let received = Arc::clone(reader.stats());
    let done = producers.join()?;
    reader.join()?;
    let produced = sent.finish();
    let consumed = received.finish();
    let summary = Summary {
        mode: "e2e",
        topic: args.topic.clone(),
        result: Side::from_totals(&consumed, plan.measure_from_ns, plan.end_ns),
        latency: if args.rate.is_some() {
            "intended send to receipt"
        } else {
            "send to receipt"
        },
        failed: produced.failed,
        unsent: done.unsent,
        produce: Some(Side::from_totals(
            &produced,
            plan.measure_from_ns,
            plan.end_ns,
        )),
        agent: None,
        config: RunConfig::new(args, partitions.len()),
    };
    let acknowledged = sent.total_records();
    let got = received.total_records();
    let failure = done.failure(&sent).or_else(|| {
        (args.acks != Acks::Zero && got < acknowledged).then_some(BenchError::MissingRecords {
            acknowledged,
            received: got,
        })
    });
    Ok(Outcome { summary, failure })
}
