//! A week of traffic on a fast clock: every duration the lifecycle depends
//! on is scaled so that one simulated hour lasts [`HOUR`] (0.4 s), and an
//! embedded agent runs a week of it (about 70 s) with a producer writing
//! all the time, a consumer group reading all the time, retention of one
//! day, and the compaction, collector and orphan-sweep jobs running on
//! their own. Throughout, the object count and the index stay bounded (the
//! same on day 7 as on day 2, where without retention and compaction they
//! would grow by half again each day); at the end retention has deleted what
//! was a day old and nothing younger, and the group has read every record
//! exactly once, in order.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use floe_tests::records;
use floe_tests::{Agent, RawClient, unique_topic};
use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;

/// One simulated hour.
const HOUR: Duration = Duration::from_millis(400);
/// The simulated week.
const DAYS: u32 = 7;
const PARTITIONS: i32 = 2;
/// Retention: one simulated day.
const RETENTION_HOURS: u32 = 24;
/// A batch (four records of about 1 KB) every this often, at most.
const PRODUCE_EVERY: Duration = Duration::from_millis(20);
const RECORDS_PER_BATCH: usize = 4;

fn hours(n: u32) -> Duration {
    HOUR * n
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// One produced record: its offset, value and timestamp.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Produced {
    offset: i64,
    value: String,
    timestamp: i64,
}

/// What the group read: (offset, value) per partition, in order.
type Read = BTreeMap<i32, Vec<(i64, String)>>;

/// Index rows of the topic, read from the agent's SQLite file beside it.
async fn index_rows(store: &dyn floe_metadata::MetadataStore, topic: &str) -> usize {
    let Ok(Some(t)) = store.topic_by_name(topic).await else {
        return 0;
    };
    let mut rows = 0;
    for partition in 0..t.partitions {
        let Ok(Some(bounds)) = store.partition_offsets(t.id, partition).await else {
            continue;
        };
        rows += store
            .index_rows(t.id, partition, bounds.log_start_offset, 1_000_000)
            .await
            .map_or(0, |r| r.len());
    }
    rows
}

#[test]
fn a_week_of_traffic_keeps_objects_and_index_bounded_and_loses_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("floe.toml");
    let ms = |d: Duration| d.as_millis();
    std::fs::write(
        &config,
        format!(
            "retention_check_interval_ms = {}\n\
             segment_gc_interval_ms = {}\n\
             segment_gc_grace_ms = {}\n\
             commit_retry_window_ms = {}\n\
             orphan_sweep_interval_ms = {}\n\
             compaction_interval_ms = {}\n\
             compaction_target_bytes = {}\n",
            ms(hours(1)),
            ms(hours(1)),
            ms(hours(4)),
            ms(hours(2)),
            ms(hours(6)),
            ms(hours(1)),
            64 * 1024,
        ),
    )
    .expect("write config");
    let agent = Agent::builder()
        .arg("--config")
        .arg(config.to_str().expect("utf-8 path"))
        .start()
        .expect("start agent");
    let topic = unique_topic("week");
    let retention_ms = ms(hours(RETENTION_HOURS)).to_string();
    let mut client = RawClient::connect(agent.kafka_addr()).expect("connect");
    assert_eq!(
        client
            .create_topic_with_config(&topic, PARTITIONS, &[("retention.ms", &retention_ms)])
            .expect("create"),
        0
    );

    let stop = Arc::new(AtomicBool::new(false));
    let produced: Arc<Mutex<BTreeMap<i32, Vec<Produced>>>> = Arc::default();
    let producer = {
        let (stop, produced, topic, addr) = (
            stop.clone(),
            produced.clone(),
            topic.clone(),
            agent.kafka_addr(),
        );
        thread::spawn(move || {
            let mut client = RawClient::connect(addr).expect("connect");
            let mut n = 0u64;
            while !stop.load(Ordering::SeqCst) {
                let partition = (n % PARTITIONS as u64) as i32;
                let values: Vec<String> = (0..RECORDS_PER_BATCH)
                    .map(|i| format!("p{partition}-{n}-{i}-{}", "x".repeat(1_000)))
                    .collect();
                let refs: Vec<&str> = values.iter().map(String::as_str).collect();
                let timestamp = now_ms();
                let batch = records::simple_batch(&refs, timestamp).expect("batch");
                let answer = client
                    .produce_one(&topic, partition, batch)
                    .expect("produce");
                assert_eq!(answer.error_code, 0, "produce");
                let mut produced = produced.lock().unwrap();
                let log = produced.entry(partition).or_default();
                for (i, value) in values.into_iter().enumerate() {
                    log.push(Produced {
                        offset: answer.base_offset + i as i64,
                        value,
                        timestamp,
                    });
                }
                drop(produced);
                n += 1;
                thread::sleep(PRODUCE_EVERY);
            }
        })
    };

    let consumed: Arc<Mutex<Read>> = Arc::default();
    let consumer_done = Arc::new(AtomicBool::new(false));
    let consumer = {
        let (done, consumed, topic, bootstrap) = (
            consumer_done.clone(),
            consumed.clone(),
            topic.clone(),
            agent.bootstrap(),
        );
        thread::spawn(move || {
            let consumer: BaseConsumer = ClientConfig::new()
                .set("bootstrap.servers", &bootstrap)
                .set("group.id", format!("{topic}-readers"))
                .set("auto.offset.reset", "earliest")
                .set("enable.auto.commit", "true")
                .set("auto.commit.interval.ms", "200")
                .create()
                .expect("consumer");
            consumer.subscribe(&[&topic]).expect("subscribe");
            while !done.load(Ordering::SeqCst) {
                let Some(message) = consumer.poll(Duration::from_millis(100)) else {
                    continue;
                };
                let m = message.expect("no consumer error");
                let value = String::from_utf8_lossy(m.payload().unwrap_or_default()).into_owned();
                consumed
                    .lock()
                    .unwrap()
                    .entry(m.partition())
                    .or_default()
                    .push((m.offset(), value));
            }
        })
    };

    // Sample objects and index rows every six simulated hours.
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let metadata_url = format!(
        "sqlite://{}",
        agent.data_dir().join("metadata.db").display()
    );
    let store = runtime
        .block_on(floe_metadata::open(&metadata_url))
        .expect("open the agent's metadata");
    let started = Instant::now();
    let mut samples: Vec<(f64, usize, usize)> = Vec::new();
    while started.elapsed() < hours(24 * DAYS) {
        thread::sleep(hours(6));
        let day = started.elapsed().as_secs_f64() / hours(24).as_secs_f64();
        let rows = runtime.block_on(index_rows(&*store, &topic));
        samples.push((day, agent.segment_files(), rows));
    }
    stop.store(true, Ordering::SeqCst);
    producer.join().expect("producer");
    let produced = produced.lock().unwrap().clone();

    // The group reads up to the end of every partition.
    let caught_up = || {
        let consumed = consumed.lock().unwrap();
        produced.iter().all(|(p, log)| {
            consumed.get(p).and_then(|c| c.last()).map(|c| c.0) == log.last().map(|r| r.offset)
        })
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while !caught_up() {
        assert!(Instant::now() < deadline, "the group did not catch up");
        thread::sleep(Duration::from_millis(100));
    }
    consumer_done.store(true, Ordering::SeqCst);
    consumer.join().expect("consumer");

    // Bounded: with a day of retention the log holds a day of data after the
    // first day; the counts on the last days stay within half again of those
    // on day 2 (unbounded, they would be 3.5 times as many).
    eprintln!("samples (day, objects, index rows): {samples:?}");
    let peak = |from: f64, to: f64, pick: fn(&(f64, usize, usize)) -> usize| {
        samples
            .iter()
            .filter(|s| s.0 >= from && s.0 < to)
            .map(pick)
            .max()
            .unwrap_or(0)
    };
    for (what, pick) in [
        (
            "objects",
            (|s: &(f64, usize, usize)| s.1) as fn(&_) -> usize,
        ),
        ("index rows", |s: &(f64, usize, usize)| s.2),
    ] {
        let (early, late) = (peak(1.5, 2.5, pick), peak(5.0, 8.0, pick));
        assert!(early > 0, "no {what} sampled on day 2");
        assert!(
            late * 2 <= early * 3,
            "{what} grew from {early} on day 2 to {late} on days 6 and 7"
        );
    }
    let batches = produced.values().map(Vec::len).sum::<usize>() / RECORDS_PER_BATCH;
    let (_, objects, rows) = *samples.last().expect("samples");
    eprintln!("{batches} batches produced; at the end {objects} objects, {rows} index rows");

    // Retention deleted what was a day old and nothing younger: every
    // record at or after the log start is there, every record before it is
    // older than a day, and what is older than a day and a few hours
    // (retention deletes whole rows, and compacted rows span hours) is gone.
    let end = now_ms();
    let day_ms = ms(hours(24)) as i64;
    let slack_ms = ms(hours(6)) as i64;
    for (partition, log) in &produced {
        let start = client
            .list_offsets(&topic, *partition, -2)
            .expect("log start")
            .offset;
        assert!(
            start > 0,
            "partition {partition}: retention deleted nothing"
        );
        for record in log {
            if record.offset < start {
                assert!(
                    record.timestamp < end - day_ms,
                    "partition {partition}: {record:?} deleted while younger than a day"
                );
            } else {
                assert!(
                    record.timestamp >= end - day_ms - slack_ms - 2 * ms(HOUR) as i64,
                    "partition {partition}: {record:?} kept long past a day"
                );
            }
        }
        let mut kept = Vec::new();
        let mut offset = start;
        let last = log.last().expect("records").offset;
        while offset <= last {
            let data = client.fetch(&topic, *partition, offset, 0).expect("fetch");
            assert_eq!(data.error_code, 0, "fetch at {offset}");
            let batch = records::decode(data.records.as_ref()).expect("decode");
            let Some(next) = batch.last().map(|r| r.offset + 1) else {
                panic!("no record at {offset}");
            };
            kept.extend(batch.into_iter().filter(|r| r.offset >= offset));
            offset = next;
        }
        let expected: Vec<(i64, String)> = log
            .iter()
            .filter(|r| r.offset >= start)
            .map(|r| (r.offset, r.value.clone()))
            .collect();
        let got: Vec<(i64, String)> = kept
            .iter()
            .map(|r| {
                (
                    r.offset,
                    String::from_utf8_lossy(r.value.as_deref().unwrap_or_default()).into_owned(),
                )
            })
            .collect();
        assert!(
            got == expected,
            "partition {partition}: kept records differ"
        );
    }

    // The group read every record once, in order, across the whole week.
    let consumed = consumed.lock().unwrap();
    for (partition, log) in &produced {
        let expected: Vec<(i64, String)> =
            log.iter().map(|r| (r.offset, r.value.clone())).collect();
        let got = consumed.get(partition).cloned().unwrap_or_default();
        assert_eq!(got.len(), expected.len(), "partition {partition}: count");
        assert!(
            got == expected,
            "partition {partition}: records read differ"
        );
    }
}
