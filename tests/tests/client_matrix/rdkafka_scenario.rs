//! The client-matrix scenario with rdkafka for Rust (librdkafka bundled by
//! `rdkafka-sys`), in process. Same records, steps and details as the programs under
//! `tests/clients/` (see `tests/clients/python/scenario.py`).

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, anyhow, bail, ensure};
use floe_tests::clients::{ALL_CODECS, Step};
use rdkafka::admin::{
    AdminClient, AdminOptions, AlterConfig, NewPartitions, NewTopic, ResourceSpecifier,
    TopicReplication,
};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::message::{Header, Headers, Message, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Offset, TopicPartitionList};
use serde_json::{Value, json};

const PER_CODEC: usize = 5;
const TOTAL: usize = 25;
const TIMEOUT: Duration = Duration::from_secs(30);

/// One record as read back: offset, key, value, headers, timestamp.
type Read = (i64, String, String, Vec<(String, String)>, i64);

struct Scenario {
    bootstrap: String,
    topic: String,
    base: i64,
    admin: AdminClient<DefaultClientContext>,
    runtime: tokio::runtime::Runtime,
}

fn codec_of(i: usize) -> &'static str {
    ALL_CODECS[i / PER_CODEC]
}

fn expected(base: i64, i: usize) -> Read {
    (
        i64::try_from(i).unwrap_or(i64::MAX),
        format!("key-{i}"),
        format!("value-{}-{i}", codec_of(i)),
        vec![
            ("codec".to_string(), codec_of(i).to_string()),
            ("index".to_string(), i.to_string()),
        ],
        base + i64::try_from(i).unwrap_or(0) * 1000,
    )
}

fn check(got: &[Read], base: i64) -> Result<()> {
    ensure!(
        got.len() == TOTAL,
        "read {} records, want {TOTAL}",
        got.len()
    );
    for (i, record) in got.iter().enumerate() {
        let want = expected(base, i);
        ensure!(*record == want, "record {i}: got {record:?}, want {want:?}");
    }
    Ok(())
}

/// Runs the scenario against `bootstrap` on `topic` and returns its steps.
pub fn run(bootstrap: &str, topic: &str) -> Result<Vec<Step>> {
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
    let scenario = Scenario {
        bootstrap: bootstrap.to_string(),
        topic: topic.to_string(),
        base: (i64::try_from(now)? - 600) * 1000,
        admin: ClientConfig::new()
            .set("bootstrap.servers", bootstrap)
            .create()?,
        runtime: tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?,
    };
    type StepFn = fn(&Scenario) -> Result<Value>;
    let steps: [(&str, StepFn); 10] = [
        ("create_topic", Scenario::create_topic),
        ("produce", Scenario::produce),
        ("consume", Scenario::consume),
        ("group_consume", Scenario::group_consume),
        ("describe_configs", Scenario::describe_configs),
        ("alter_configs", Scenario::alter_configs),
        ("create_partitions", Scenario::create_partitions),
        ("delete_records", Scenario::delete_records),
        ("list_offsets_by_time", Scenario::list_offsets_by_time),
        ("delete_topic", Scenario::delete_topic),
    ];
    Ok(steps
        .iter()
        .map(|(name, run)| {
            let (ok, detail) = match run(&scenario) {
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

fn wait_for(what: &str, mut done: impl FnMut() -> bool) -> Result<()> {
    let deadline = Instant::now() + TIMEOUT;
    while !done() {
        ensure!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
    Ok(())
}

impl Scenario {
    fn options(&self) -> AdminOptions {
        AdminOptions::new().operation_timeout(Some(TIMEOUT))
    }

    fn consumer(&self, group: &str) -> Result<BaseConsumer> {
        Ok(ClientConfig::new()
            .set("bootstrap.servers", &self.bootstrap)
            .set("group.id", group)
            .set("enable.auto.commit", "false")
            .set("auto.offset.reset", "earliest")
            .create()?)
    }

    fn partition_count(&self) -> usize {
        let Ok(consumer) = self.consumer("floe-matrix-metadata") else {
            return 0;
        };
        consumer
            .fetch_metadata(Some(&self.topic), Duration::from_secs(10))
            .ok()
            .and_then(|md| {
                md.topics()
                    .iter()
                    .find(|t| t.name() == self.topic && t.error().is_none())
                    .map(|t| t.partitions().len())
            })
            .unwrap_or(0)
    }

    fn create_topic(&self) -> Result<Value> {
        let topic = NewTopic::new(&self.topic, 3, TopicReplication::Fixed(1))
            .set("retention.ms", "86400000")
            .set("cleanup.policy", "delete");
        for result in self
            .runtime
            .block_on(self.admin.create_topics([&topic], &self.options()))?
        {
            result.map_err(|(t, code)| anyhow!("creating {t}: {code}"))?;
        }
        wait_for("the topic", || self.partition_count() == 3)?;
        Ok(json!({"partitions": self.partition_count()}))
    }

    fn produce(&self) -> Result<Value> {
        let mut offsets = Vec::new();
        for (c, codec) in ALL_CODECS.iter().enumerate() {
            let producer: FutureProducer = ClientConfig::new()
                .set("bootstrap.servers", &self.bootstrap)
                .set("compression.type", *codec)
                .set("linger.ms", "50")
                .set("acks", "all")
                .create()?;
            let mut deliveries = Vec::new();
            for i in c * PER_CODEC..(c + 1) * PER_CODEC {
                let (_, key, value, headers, ts) = expected(self.base, i);
                let mut owned = OwnedHeaders::new();
                for (k, v) in &headers {
                    owned = owned.insert(Header {
                        key: k,
                        value: Some(v.as_bytes()),
                    });
                }
                let record = FutureRecord::to(&self.topic)
                    .partition(0)
                    .key(key.as_bytes())
                    .payload(value.as_bytes())
                    .headers(owned)
                    .timestamp(ts);
                deliveries.push(producer.send_result(record).map_err(|(e, _)| e)?);
            }
            for delivery in deliveries {
                let delivered = self
                    .runtime
                    .block_on(delivery)
                    .context("delivery cancelled")?
                    .map_err(|(e, _)| e)?;
                offsets.push(delivered.offset);
            }
        }
        let want: Vec<i64> = (0..25).collect();
        ensure!(offsets == want, "delivered at offsets {offsets:?}");
        Ok(json!({"records": offsets.len(), "codecs": ALL_CODECS}))
    }

    fn read(&self, consumer: &BaseConsumer) -> Result<Vec<Read>> {
        let mut got = Vec::new();
        let deadline = Instant::now() + TIMEOUT;
        while got.len() < TOTAL {
            ensure!(
                Instant::now() < deadline,
                "timed out with {} records read",
                got.len()
            );
            let Some(message) = consumer.poll(Duration::from_millis(500)) else {
                continue;
            };
            let m = message?;
            ensure!(
                m.partition() == 0,
                "a record in partition {}",
                m.partition()
            );
            let text =
                |b: Option<&[u8]>| String::from_utf8_lossy(b.unwrap_or_default()).into_owned();
            let headers = m
                .headers()
                .map(|h| {
                    h.iter()
                        .map(|h| (h.key.to_string(), text(h.value)))
                        .collect()
                })
                .unwrap_or_default();
            got.push((
                m.offset(),
                text(m.key()),
                text(m.payload()),
                headers,
                m.timestamp().to_millis().unwrap_or(-1),
            ));
        }
        got.sort();
        Ok(got)
    }

    fn consume(&self) -> Result<Value> {
        let consumer = self.consumer(&format!("{}-assign", self.topic))?;
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition_offset(&self.topic, 0, Offset::Beginning)?;
        consumer.assign(&tpl)?;
        let got = self.read(&consumer)?;
        check(&got, self.base)?;
        Ok(json!({"records": got.len()}))
    }

    fn group_consume(&self) -> Result<Value> {
        let consumer = self.consumer(&format!("{}-group", self.topic))?;
        consumer.subscribe(&[&self.topic])?;
        let got = self.read(&consumer)?;
        check(&got, self.base)?;
        consumer.commit_consumer_state(CommitMode::Sync)?;
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition(&self.topic, 0);
        let committed = consumer.committed_offsets(tpl, Duration::from_secs(10))?;
        let offset = committed
            .find_partition(&self.topic, 0)
            .context("no committed offset for partition 0")?
            .offset();
        let Offset::Offset(offset) = offset else {
            bail!("committed offset {offset:?}");
        };
        Ok(json!({"records": got.len(), "committed": offset}))
    }

    fn config(&self, name: &str) -> Result<String> {
        let results = self.runtime.block_on(
            self.admin
                .describe_configs([&ResourceSpecifier::Topic(&self.topic)], &self.options()),
        )?;
        let resource = results
            .into_iter()
            .next()
            .context("no DescribeConfigs result")?
            .map_err(|code| anyhow!("DescribeConfigs: {code}"))?;
        resource
            .get(name)
            .and_then(|e| e.value.clone())
            .with_context(|| format!("no {name} in the topic's configs"))
    }

    fn describe_configs(&self) -> Result<Value> {
        Ok(json!({
            "cleanup.policy": self.config("cleanup.policy")?,
            "retention.ms": self.config("retention.ms")?,
        }))
    }

    /// rdkafka 0.39 has only the whole-set AlterConfigs.
    fn alter_configs(&self) -> Result<Value> {
        let alter = AlterConfig::new(ResourceSpecifier::Topic(&self.topic))
            .set("retention.ms", "7200000")
            .set("cleanup.policy", "delete");
        for result in self
            .runtime
            .block_on(self.admin.alter_configs([&alter], &self.options()))?
        {
            result.map_err(|(_, code)| anyhow!("AlterConfigs: {code}"))?;
        }
        Ok(json!({"retention.ms": self.config("retention.ms")?}))
    }

    fn create_partitions(&self) -> Result<Value> {
        let more = NewPartitions::new(&self.topic, 5);
        for result in self
            .runtime
            .block_on(self.admin.create_partitions([&more], &self.options()))?
        {
            result.map_err(|(t, code)| anyhow!("CreatePartitions {t}: {code}"))?;
        }
        wait_for("the new partitions", || self.partition_count() == 5)?;
        Ok(json!({"partitions": self.partition_count()}))
    }

    fn delete_records(&self) -> Result<Value> {
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition_offset(&self.topic, 0, Offset::Offset(10))?;
        let result = self
            .runtime
            .block_on(self.admin.delete_records(&tpl, &self.options()))?;
        for element in result.elements() {
            element.error()?;
        }
        let consumer = self.consumer(&format!("{}-watermarks", self.topic))?;
        let (low, _) = consumer.fetch_watermarks(&self.topic, 0, Duration::from_secs(10))?;
        Ok(json!({"low_watermark": low}))
    }

    fn list_offsets_by_time(&self) -> Result<Value> {
        let consumer = self.consumer(&format!("{}-times", self.topic))?;
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition_offset(&self.topic, 0, Offset::Offset(self.base + 15_000))?;
        let found = consumer.offsets_for_times(tpl, Duration::from_secs(10))?;
        let element = found
            .find_partition(&self.topic, 0)
            .context("no answer for partition 0")?;
        element.error()?;
        let Offset::Offset(offset) = element.offset() else {
            bail!("found offset {:?}", element.offset());
        };
        Ok(json!({"offset": offset}))
    }

    fn delete_topic(&self) -> Result<Value> {
        for result in self
            .runtime
            .block_on(self.admin.delete_topics(&[&self.topic], &self.options()))?
        {
            result.map_err(|(t, code)| anyhow!("deleting {t}: {code}"))?;
        }
        wait_for("the topic to go", || self.partition_count() == 0)?;
        Ok(json!({"deleted": true}))
    }
}
