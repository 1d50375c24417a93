//! Consumers: librdkafka clients in one group that read the topic from the
//! start, record every record handed to them, and commit their positions
//! synchronously every [`COMMIT_INTERVAL`], recording each accepted commit.
//!
//! Commits are synchronous and made between polls, so no commit is in
//! flight across a rebalance: a committed offset going backwards is then
//! the coordinator's doing, not a client race.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};

use crate::history::{Commit, Read, decode_value};
use crate::{Recorder, VerifyArgs, VerifyError, lock};

/// How long one poll waits for a record.
const POLL: Duration = Duration::from_millis(100);
/// How often a consumer commits its positions.
const COMMIT_INTERVAL: Duration = Duration::from_millis(500);
/// How many poll or commit errors each consumer prints (they are expected
/// while agents restart; the rest are only counted).
const ERRORS_PRINTED: u32 = 5;

/// Starts `--consumers` consumers in group `group`; they run until `stop`.
pub fn start(
    args: &VerifyArgs,
    run: u64,
    group: &str,
    stop: &Arc<AtomicBool>,
    recorder: &Arc<Mutex<Recorder>>,
) -> Result<Vec<JoinHandle<()>>, VerifyError> {
    let mut config = args.base_client_config();
    config
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .set("enable.partition.eof", "false")
        .set("session.timeout.ms", "10000")
        .set("heartbeat.interval.ms", "1000");
    let mut handles = Vec::with_capacity(args.consumers);
    for n in 0..args.consumers {
        let consumer_id = u32::try_from(n)
            .map_err(|_| VerifyError::InvalidArgs("--consumers is too large".to_string()))?;
        let client: BaseConsumer = config
            .create()
            .map_err(VerifyError::kafka("cannot create a consumer"))?;
        client
            .subscribe(&[&args.topic])
            .map_err(VerifyError::kafka("cannot subscribe"))?;
        let reader = Reader {
            client,
            consumer: consumer_id,
            run,
            stop: Arc::clone(stop),
            recorder: Arc::clone(recorder),
            errors: 0,
        };
        let handle = thread::Builder::new()
            .name(format!("verify-consumer-{n}"))
            .spawn(move || reader.run())
            .map_err(VerifyError::Spawn)?;
        handles.push(handle);
    }
    Ok(handles)
}

/// One consumer client and its poll loop.
struct Reader {
    client: BaseConsumer,
    consumer: u32,
    run: u64,
    stop: Arc<AtomicBool>,
    recorder: Arc<Mutex<Recorder>>,
    errors: u32,
}

impl Reader {
    fn run(mut self) {
        let mut last_commit = Instant::now();
        while !self.stop.load(Ordering::Relaxed) {
            match self.client.poll(POLL) {
                Some(Ok(message)) => {
                    let read = Read {
                        partition: message.partition(),
                        offset: message.offset(),
                        value: decode_value(self.run, message.payload().unwrap_or_default()),
                    };
                    let mut r = lock(&self.recorder);
                    r.stalls.read(read.partition, read.offset, Instant::now());
                    r.history.reads.push(read);
                }
                Some(Err(error)) => self.complain("poll", &error),
                None => {}
            }
            if last_commit.elapsed() >= COMMIT_INTERVAL {
                self.commit();
                last_commit = Instant::now();
            }
        }
        self.commit();
        self.client.unsubscribe();
    }

    /// Commits the positions of the assigned partitions that have one, and
    /// records them once the coordinator accepted them.
    fn commit(&mut self) {
        let positions = match self.client.position() {
            Ok(p) => p,
            Err(error) => return self.complain("position", &error),
        };
        let mut list = TopicPartitionList::new();
        let mut offsets = Vec::new();
        for element in positions.elements() {
            if let Offset::Offset(offset) = element.offset() {
                let added = list.add_partition_offset(
                    element.topic(),
                    element.partition(),
                    Offset::Offset(offset),
                );
                if added.is_ok() {
                    offsets.push((element.partition(), offset));
                }
            }
        }
        if offsets.is_empty() {
            return;
        }
        match self.client.commit(&list, CommitMode::Sync) {
            Ok(()) => {
                let mut r = lock(&self.recorder);
                for (partition, offset) in offsets {
                    r.history.commits.push(Commit {
                        consumer: self.consumer,
                        partition,
                        offset,
                    });
                }
            }
            Err(error) => self.complain("commit", &error),
        }
    }

    fn complain(&mut self, what: &str, error: &dyn std::fmt::Display) {
        self.errors += 1;
        lock(&self.recorder).consumer_errors += 1;
        if self.errors <= ERRORS_PRINTED {
            eprintln!("consumer {}: {what}: {error}", self.consumer);
        }
    }
}
