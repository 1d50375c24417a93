//! Producers: idempotent librdkafka clients (`acks=all`) that each write
//! unique values (`producer`, `seq`) on a fixed set of keys at their share
//! of `--rate`, and record every delivery report.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rdkafka::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};
use rdkafka::types::RDKafkaErrorCode;

use crate::history::{Ack, Failure, RecordId, encode_value};
use crate::{Recorder, VerifyArgs, VerifyError, lock};

/// Pause before retrying a record the full queue refused.
const QUEUE_FULL_BACKOFF: Duration = Duration::from_millis(1);
/// librdkafka gives up on a record after this long (`message.timeout.ms`):
/// long enough to ride out an agent restart or a Postgres restart.
const MESSAGE_TIMEOUT_MS: u64 = 120_000;
/// How long producers may take to deliver what they queued after the run.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(150);

/// Records each delivery report.
struct Reports {
    producer: u32,
    recorder: Arc<Mutex<Recorder>>,
}

impl ClientContext for Reports {
    /// librdkafka's log lines (its debug contexts with `--client-debug`),
    /// to stderr with the wall-clock time and the producer's number, to be
    /// matched with the violations the summary reports.
    fn log(&self, level: RDKafkaLogLevel, facility: &str, message: &str) {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        eprintln!(
            "{}.{:03} producer {} {level:?} {facility}: {message}",
            now.as_secs(),
            now.subsec_millis(),
            self.producer
        );
    }
}

impl ProducerContext for Reports {
    /// The record's sequence number.
    type DeliveryOpaque = usize;

    fn delivery(&self, result: &DeliveryResult<'_>, seq: usize) {
        let id = RecordId {
            producer: self.producer,
            seq: seq as u64,
        };
        let now = Instant::now();
        let mut r = lock(&self.recorder);
        match result {
            Ok(message) => {
                let ack = Ack {
                    id,
                    partition: message.partition(),
                    offset: message.offset(),
                };
                r.stalls.acked(ack.partition, ack.offset, now);
                r.history.acks.push(ack);
            }
            Err((error, _)) => {
                let definite = is_definite(error);
                if r.first_error.is_none() {
                    r.first_error = Some(error.to_string());
                }
                r.history.failures.push(Failure { id, definite });
            }
        }
    }
}

/// Whether a delivery error says the record was certainly not stored: the
/// broker refused it as such. Timeouts, lost connections and purges leave
/// the outcome unknown.
fn is_definite(error: &KafkaError) -> bool {
    matches!(
        error,
        KafkaError::MessageProduction(
            RDKafkaErrorCode::MessageSizeTooLarge
                | RDKafkaErrorCode::InvalidMessageSize
                | RDKafkaErrorCode::InvalidRecord
                | RDKafkaErrorCode::InvalidTopic
                | RDKafkaErrorCode::TopicAuthorizationFailed
                | RDKafkaErrorCode::ClusterAuthorizationFailed
                | RDKafkaErrorCode::InvalidRequiredAcks
        )
    )
}

/// What one producer did.
#[derive(Debug, Default)]
pub struct ProducerDone {
    /// Its number.
    pub producer: u32,
    /// Records handed to the client (sequence numbers `0..sent`).
    pub sent: u64,
    /// The client's fatal error, if it had one.
    pub fatal: Option<String>,
}

/// Starts `--producers` producers; they stop at `end` or when `stop` is set.
pub fn start(
    args: &VerifyArgs,
    run: u64,
    end: Instant,
    stop: &Arc<AtomicBool>,
    recorder: &Arc<Mutex<Recorder>>,
) -> Result<Vec<JoinHandle<ProducerDone>>, VerifyError> {
    let mut config = args.base_client_config();
    config
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("linger.ms", "5")
        .set("message.timeout.ms", MESSAGE_TIMEOUT_MS.to_string());
    let per_producer = args.rate / args.producers as f64;
    let mut handles = Vec::with_capacity(args.producers);
    for n in 0..args.producers {
        let producer = u32::try_from(n)
            .map_err(|_| VerifyError::InvalidArgs("--producers is too large".to_string()))?;
        let client: ThreadedProducer<Reports> = config
            .create_with_context(Reports {
                producer,
                recorder: Arc::clone(recorder),
            })
            .map_err(VerifyError::kafka("cannot create a producer"))?;
        let sender = Sender {
            client,
            producer,
            run,
            topic: args.topic.clone(),
            keys: args.keys,
            interval: Duration::from_secs_f64(1.0 / per_producer),
            end,
            stop: Arc::clone(stop),
        };
        let handle = thread::Builder::new()
            .name(format!("verify-producer-{n}"))
            .spawn(move || sender.run())
            .map_err(VerifyError::Spawn)?;
        handles.push(handle);
    }
    Ok(handles)
}

/// One producer client and its sending loop.
struct Sender {
    client: ThreadedProducer<Reports>,
    producer: u32,
    run: u64,
    topic: String,
    keys: u64,
    interval: Duration,
    end: Instant,
    stop: Arc<AtomicBool>,
}

impl Sender {
    fn run(self) -> ProducerDone {
        let start = Instant::now();
        let mut seq: u64 = 0;
        let mut fatal = None;
        'records: loop {
            let due = start + self.interval.mul_f64(seq as f64);
            if due >= self.end || self.stop.load(Ordering::Relaxed) {
                break;
            }
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                thread::sleep(wait);
            }
            let id = RecordId {
                producer: self.producer,
                seq,
            };
            let value = encode_value(self.run, id);
            let key = format!("key-{}", seq % self.keys);
            let Ok(opaque) = usize::try_from(seq) else {
                break;
            };
            let mut record = BaseRecord::with_opaque_to(&self.topic, opaque)
                .key(key.as_bytes())
                .payload(value.as_bytes());
            loop {
                match self.client.send(record) {
                    Ok(()) => break,
                    Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                        if self.stop.load(Ordering::Relaxed) {
                            break 'records;
                        }
                        record = back;
                        thread::sleep(QUEUE_FULL_BACKOFF);
                    }
                    Err((error, _)) => {
                        // Never handed to the client: not stored, and not
                        // counted as sent. A fatal client error stops the
                        // producer; it is reported below.
                        eprintln!("producer {}: cannot send: {error}", self.producer);
                        break 'records;
                    }
                }
            }
            seq += 1;
        }
        if let Err(error) = self.client.flush(FLUSH_TIMEOUT) {
            eprintln!(
                "producer {}: {} records still undelivered after {:?}: {error}",
                self.producer,
                self.client.in_flight_count(),
                FLUSH_TIMEOUT
            );
        }
        if let Some((code, reason)) = self.client.client().fatal_error() {
            fatal = Some(format!("producer {}: {code:?}: {reason}", self.producer));
        }
        ProducerDone {
            producer: self.producer,
            sent: seq,
            fatal,
        }
    }
}
