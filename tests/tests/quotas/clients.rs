//! Real clients against quotas: rdkafka (librdkafka, in process) producing and
//! consuming as fast as it can under a byte-rate quota, beside a client without
//! one. Rates are measured from acknowledgements (or records received) between
//! the first second and the end, as bytes of record values over time; they count
//! a little less than the request or response bytes the quota holds, so being
//! within 10% of the quota is the check.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use floe_tests::quotas::{alter, entry};
use floe_tests::{Agent, RawClient, unique_topic};
use rdkafka::ClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::statistics::Statistics;
use rdkafka::{Offset, TopicPartitionList};

/// The quota of the held clients: 1 MiB/s.
const QUOTA: f64 = 1_048_576.0;
/// Size of each record value.
const VALUE: usize = 1000;
/// How long the held clients run; the rate is measured from the first second on.
const RUN: Duration = Duration::from_secs(11);
const SKIP: Duration = Duration::from_secs(1);

/// Keeps the largest throttle time the client reported in its statistics.
#[derive(Clone, Default)]
struct Throttles(Arc<AtomicI64>);

impl ClientContext for Throttles {
    fn stats(&self, statistics: Statistics) {
        for broker in statistics.brokers.values() {
            if let Some(window) = &broker.throttle {
                self.0.fetch_max(window.max, Ordering::Relaxed);
            }
        }
    }
}

impl rdkafka::consumer::ConsumerContext for Throttles {}

fn producer(
    bootstrap: &str,
    client_id: &str,
    batch_size: &str,
) -> (FutureProducer<Throttles>, Throttles) {
    let throttles = Throttles::default();
    let producer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("client.id", client_id)
        .set("linger.ms", "5")
        .set("batch.size", batch_size)
        .set("message.timeout.ms", "60000")
        .set("queue.buffering.max.kbytes", "4096")
        .set("statistics.interval.ms", "500")
        .create_with_context(throttles.clone())
        .expect("producer");
    (producer, throttles)
}

fn set_quota(agent: &Agent, client_id: &str, key: &str) {
    let mut admin = RawClient::connect(agent.kafka_addr()).expect("connect");
    let outcome = alter(
        &mut admin,
        vec![entry(
            &[("client-id", Some(client_id))],
            &[(key, Some(QUOTA))],
        )],
        false,
    )
    .expect("alter");
    assert_eq!(outcome, vec![(0, None)]);
}

/// Bytes per second of `events` (time since start, bytes) between `SKIP` and `end`.
fn rate(events: &[(Duration, usize)], end: Duration) -> f64 {
    let bytes: usize = events
        .iter()
        .filter(|(at, _)| *at >= SKIP && *at < end)
        .map(|(_, b)| b)
        .sum();
    bytes as f64 / (end - SKIP).as_secs_f64()
}

/// The 99th percentile of `latencies`.
fn p99(mut latencies: Vec<Duration>) -> Duration {
    latencies.sort();
    let at = (latencies.len() * 99 / 100).min(latencies.len().saturating_sub(1));
    latencies.get(at).copied().unwrap_or_default()
}

/// Sends a 1 KB record every 10 ms for `run` as `client_id`; the latency of each.
async fn steady(producer: &FutureProducer<Throttles>, topic: &str, run: Duration) -> Vec<Duration> {
    let value = vec![b'b'; VALUE];
    let start = Instant::now();
    let mut latencies = Vec::new();
    let mut tick = tokio::time::interval(Duration::from_millis(10));
    while start.elapsed() < run {
        tick.tick().await;
        let sent = Instant::now();
        let delivered = producer
            .send(
                FutureRecord::<(), _>::to(topic).payload(&value),
                Duration::from_secs(10),
            )
            .await;
        assert!(delivered.is_ok(), "steady producer: {delivered:?}");
        latencies.push(sent.elapsed());
    }
    latencies
}

/// Sends as fast as the client takes records for `run`; (time, bytes) of each
/// acknowledgement.
async fn greedy(
    producer: &FutureProducer<Throttles>,
    topic: &str,
    run: Duration,
) -> Vec<(Duration, usize)> {
    let value = vec![b'a'; VALUE];
    let start = Instant::now();
    let acks = Arc::new(Mutex::new(Vec::new()));
    let mut waiting = Vec::new();
    while start.elapsed() < run {
        match producer.send_result(FutureRecord::<(), _>::to(topic).payload(&value)) {
            Ok(delivery) => {
                let acks = acks.clone();
                waiting.push(tokio::spawn(async move {
                    if let Ok(Ok(_)) = delivery.await {
                        let at = start.elapsed();
                        acks.lock().expect("acks").push((at, VALUE));
                    }
                }));
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(2)).await,
        }
        if waiting.len() > 50_000 {
            waiting.retain(|h: &tokio::task::JoinHandle<()>| !h.is_finished());
        }
    }
    acks.lock().expect("acks").clone()
}

/// (b) and (c): a producer with `producer_byte_rate` = 1 MiB/s sending as fast as it
/// can is held within 10% of it; a producer without a quota, sending at the same time,
/// is never throttled and keeps its latency.
pub fn producer_held_to_quota() {
    let agent = Agent::builder().partitions(1).start().expect("agent");
    let bootstrap = agent.bootstrap();
    let topic = unique_topic("quota-produce");
    set_quota(&agent, "held-producer", "producer_byte_rate");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (held, held_throttles) = producer(&bootstrap, "held-producer", "65536");
    let (free, free_throttles) = producer(&bootstrap, "free-producer", "65536");
    runtime.block_on(async {
        // The free producer alone, then beside the held one.
        let solo = steady(&free, &topic, Duration::from_secs(4)).await;
        let (acks, beside) = tokio::join!(greedy(&held, &topic, RUN), steady(&free, &topic, RUN));
        let achieved = rate(&acks, RUN);
        assert!(
            (achieved / QUOTA - 1.0).abs() <= 0.10,
            "held producer: {achieved:.0} B/s acknowledged against a quota of {QUOTA} B/s"
        );
        assert!(held_throttles.0.load(Ordering::Relaxed) > 0, "the held producer saw throttle times");
        assert_eq!(free_throttles.0.load(Ordering::Relaxed), 0, "the free producer was never throttled");
        let (solo_p99, beside_p99) = (p99(solo), p99(beside));
        eprintln!("free producer p99: {solo_p99:?} alone, {beside_p99:?} beside; held at {achieved:.0} B/s");
        assert!(
            beside_p99 <= solo_p99 * 10 + Duration::from_millis(200),
            "free producer p99 {beside_p99:?} beside the held one, {solo_p99:?} alone"
        );
        assert!(beside_p99 < Duration::from_secs(5), "sanity: {beside_p99:?}");
    });
    let metrics = agent.metrics().expect("metrics");
    assert!(
        metrics.contains("floe_quota_throttle_time_ms_count{kind=\"produce\"}"),
        "{metrics}"
    );
}

/// (d): a consumer with `consumer_byte_rate` = 1 MiB/s reading a backlog as fast as it
/// can is held within 10% of it.
pub fn consumer_held_to_quota() {
    let agent = Agent::builder().partitions(1).start().expect("agent");
    let bootstrap = agent.bootstrap();
    let topic = unique_topic("quota-fetch");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    // 20 MB of backlog in batches of at most 32 KB, so that an answer (at least one
    // batch, as Kafka's) stays small against the quota.
    let (loader, _) = producer(&bootstrap, "loader", "32768");
    runtime.block_on(async {
        let value = vec![b'c'; VALUE];
        let mut deliveries = Vec::new();
        for _ in 0..20_000 {
            loop {
                match loader.send_result(FutureRecord::<(), _>::to(&topic).payload(&value)) {
                    Ok(d) => break deliveries.push(d),
                    Err(_) => tokio::time::sleep(Duration::from_millis(2)).await,
                }
            }
        }
        for d in deliveries {
            assert!(matches!(d.await, Ok(Ok(_))), "backlog record lost");
        }
    });
    set_quota(&agent, "held-consumer", "consumer_byte_rate");
    let throttles = Throttles::default();
    let consumer: BaseConsumer<Throttles> = ClientConfig::new()
        .set("bootstrap.servers", &bootstrap)
        .set("client.id", "held-consumer")
        .set("group.id", "quota-reader")
        .set("enable.auto.commit", "false")
        .set("max.partition.fetch.bytes", "65536")
        .set("statistics.interval.ms", "500")
        .create_with_context(throttles.clone())
        .expect("consumer");
    let mut assignment = TopicPartitionList::new();
    assignment
        .add_partition_offset(&topic, 0, Offset::Beginning)
        .expect("assignment");
    consumer.assign(&assignment).expect("assign");
    let start = Instant::now();
    let mut received = Vec::new();
    while start.elapsed() < RUN {
        if let Some(message) = consumer.poll(Duration::from_millis(100)) {
            let message = message.expect("consume");
            received.push((start.elapsed(), message.payload_len()));
        }
    }
    let total: usize = received.iter().map(|(_, b)| b).sum();
    assert!(
        total < 20_000 * VALUE,
        "the backlog outlasted the run: {total} bytes read"
    );
    let achieved = rate(&received, RUN);
    eprintln!("held consumer: {achieved:.0} B/s");
    assert!(
        (achieved / QUOTA - 1.0).abs() <= 0.10,
        "held consumer: {achieved:.0} B/s received against a quota of {QUOTA} B/s"
    );
    assert!(
        throttles.0.load(Ordering::Relaxed) > 0,
        "the consumer saw throttle times"
    );
}
