//! Compaction end to end: three agents on Postgres and S3 (moto), flushing
//! tiny segments, compacting every 300 ms into segments of at most 64 KiB
//! while a producer keeps writing to agent 0, DeleteRecords moves partition
//! 0's log start every second, and consumers on agents 1 and 2 read the
//! whole log (from its start) again and again. No read may fail; every batch must
//! come back byte for byte as it was produced (keys, values, headers,
//! timestamps, compression), at the offset its Produce was answered with,
//! once. Afterwards the index holds fewer rows, the old objects go once the
//! collector's grace has passed, and ListOffsets by timestamp answers as
//! before.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use bytes::{Bytes, BytesMut};
use floe_tests::{Cluster, RawClient, unique_topic};
use kafka_protocol::indexmap::IndexMap;
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::records::{
    Compression, Record, RecordBatchEncoder, RecordEncodeOptions, TimestampType,
};

const PARTITIONS: i32 = 3;
/// The collector's grace: the least Postgres allows (the metadata statement
/// timeout, with no commit retry window).
const GRACE_MS: u64 = 30_000;
/// How long the producer runs while consumers read and compaction merges.
const PRODUCE_FOR: Duration = Duration::from_secs(12);
/// Bound on waits for background work, only to fail instead of hanging.
const BOUND: Duration = Duration::from_secs(120);

/// The produced batches of each partition, in offset order, each with the
/// base offset its Produce was answered with.
type Produced = BTreeMap<i32, Vec<(i64, Bytes)>>;

/// A batch of `count` records with keys, values, two headers and distinct
/// timestamps; every third one compressed with lz4.
fn batch(n: usize, count: usize) -> Bytes {
    let records: Vec<Record> = (0..count)
        .map(|i| {
            let mut headers = IndexMap::new();
            headers.insert(
                StrBytes::from_string(format!("h{n}")),
                Some(Bytes::from(format!("hv{n}-{i}"))),
            );
            headers.insert(StrBytes::from_static_str("empty"), None);
            Record {
                transactional: false,
                control: false,
                delete_horizon: false,
                partition_leader_epoch: -1,
                producer_id: -1,
                producer_epoch: -1,
                timestamp_type: TimestampType::Creation,
                offset: i as i64,
                sequence: i as i32 - 1,
                timestamp: timestamp_of(n) + i as i64,
                key: Some(Bytes::from(format!("key-{n}-{i}"))),
                value: Some(Bytes::from(format!(
                    "value-{n}-{i}-{}",
                    "x".repeat(n % 200)
                ))),
                headers,
            }
        })
        .collect();
    let compression = if n.is_multiple_of(3) {
        Compression::Lz4
    } else {
        Compression::None
    };
    let mut buf = BytesMut::new();
    RecordBatchEncoder::encode(
        &mut buf,
        &records,
        &RecordEncodeOptions {
            version: 2,
            compression,
        },
    )
    .expect("encode a batch");
    buf.freeze()
}

/// The timestamp of the first record of batch `n`: ten ms apart.
fn timestamp_of(n: usize) -> i64 {
    1_700_000_000_000 + 10 * n as i64
}

/// A batch as produced and as served compare equal once the two fields the
/// agent writes when serving (base offset, partition leader epoch) are
/// cleared; neither is covered by the CRC, which covers everything else.
fn normalized(batch: &[u8]) -> Vec<u8> {
    let mut b = batch.to_vec();
    b[..8].fill(0);
    b[12..16].fill(0);
    b
}

/// Splits fetched record data into (base offset, batch bytes).
fn split(data: &Bytes) -> Result<Vec<(i64, Bytes)>> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < data.len() {
        if data.len() - at < 12 {
            bail!("a truncated batch header at byte {at}");
        }
        let base = i64::from_be_bytes(data[at..at + 8].try_into()?);
        let len = i32::from_be_bytes(data[at + 8..at + 12].try_into()?);
        let end = at + 12 + usize::try_from(len)?;
        if end > data.len() {
            bail!("a truncated batch at byte {at}");
        }
        out.push((base, data.slice(at..end)));
        at = end;
    }
    Ok(out)
}

/// Batches of one partition, each with its base offset.
type Batches = Vec<(i64, Bytes)>;

/// The offset after the last batch of `batches`.
fn end_of(batches: &[(i64, Bytes)]) -> Result<Option<i64>> {
    let Some((at, last)) = batches.last() else {
        return Ok(None);
    };
    Ok(Some(
        at + i64::from(i32::from_be_bytes(last[23..27].try_into()?)) + 1,
    ))
}

/// The batches at or after `start` (DeleteRecords cuts at batch bounds here).
fn kept(batches: &[(i64, Bytes)], start: i64) -> Vec<(i64, Bytes)> {
    batches
        .iter()
        .filter(|(at, _)| *at >= start)
        .cloned()
        .collect()
}

/// Reads every batch of one partition through `client` from the partition's
/// log start up to `end`; `None` when the log start moved past the read
/// (OFFSET_OUT_OF_RANGE: DeleteRecords ran meanwhile), with the start read.
fn read_partition(
    client: &mut RawClient,
    topic: &str,
    partition: i32,
    end: i64,
) -> Result<(i64, Option<Batches>)> {
    let start = client.list_offsets(topic, partition, -2)?.offset;
    let mut out: Vec<(i64, Bytes)> = Vec::new();
    let mut next = start;
    while next < end {
        let data = client.fetch(topic, partition, next, 100)?;
        if data.error_code == 1 {
            return Ok((start, None));
        }
        if data.error_code != 0 {
            bail!(
                "fetch {topic}/{partition} at {next}: error {}",
                data.error_code
            );
        }
        let Some(records) = data.records.as_ref() else {
            bail!("fetch {topic}/{partition} at {next}: no records below {end}");
        };
        let batches = split(records)?;
        if batches.is_empty() {
            bail!("fetch {topic}/{partition} at {next}: empty answer below {end}");
        }
        for (base, bytes) in batches {
            let count = i64::from(i32::from_be_bytes(bytes[23..27].try_into()?)) + 1;
            if base + count <= next {
                continue;
            }
            if base != next {
                bail!("{topic}/{partition}: a batch at {base} where {next} was expected");
            }
            next = base + count;
            out.push((base, bytes));
        }
    }
    Ok((start, Some(out)))
}

/// Checks what a consumer read of a partition against what was produced:
/// the same batches, at the same offsets, in order, none missing or twice.
fn check(read: &[(i64, Bytes)], produced: &[(i64, Bytes)], partition: i32) -> Result<()> {
    if read.len() < produced.len() {
        bail!(
            "partition {partition}: read {} batches, {} produced",
            read.len(),
            produced.len()
        );
    }
    for (i, ((got_at, got), (want_at, want))) in read.iter().zip(produced).enumerate() {
        if got_at != want_at || normalized(got) != normalized(want) {
            bail!(
                "partition {partition}: batch {i} at {got_at} differs from the one produced at {want_at}"
            );
        }
    }
    Ok(())
}

/// The index rows of every partition of `topic`, read from the store.
fn index_rows(url: &str, topic: &str) -> Result<usize> {
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let store = floe_metadata::open(url).await?;
        let id = store
            .topic_by_name(topic)
            .await?
            .context("the topic exists")?
            .id;
        let mut rows = 0;
        for partition in 0..PARTITIONS {
            rows += store.index_rows(id, partition, 0, 100_000).await?.len();
        }
        anyhow::Ok(rows)
    })
}

/// Produces batch after batch, each acknowledged, round robin over the
/// partitions, until `stop`; records what each was answered with.
fn produce(
    addr: std::net::SocketAddr,
    topic: String,
    stop: Arc<AtomicBool>,
    produced: Arc<Mutex<Produced>>,
) -> Result<()> {
    let mut client = RawClient::connect(addr)?;
    let mut n = 0;
    while !stop.load(Ordering::Acquire) {
        let partition = (n % PARTITIONS as usize) as i32;
        let b = batch(n, 1 + n % 4);
        let answer = client.produce_one(&topic, partition, b.clone())?;
        if answer.error_code != 0 {
            bail!("produce {n}: error {}", answer.error_code);
        }
        produced
            .lock()
            .map_err(|_| anyhow::anyhow!("poisoned"))?
            .entry(partition)
            .or_default()
            .push((answer.base_offset, b));
        n += 1;
    }
    Ok(())
}

#[test]
fn compaction_under_load_loses_nothing_and_shrinks_the_index() {
    let cluster = Cluster::builder("compaction")
        .agents(3)
        .flush_interval_ms(5)
        .arg("--compaction-interval-ms=300")
        .arg("--compaction-target-bytes=65536")
        .arg("--commit-retry-window-ms=0")
        .arg(format!("--segment-gc-grace-ms={GRACE_MS}"))
        .arg("--segment-gc-interval-ms=500")
        .start()
        .expect("cluster");
    let topic = unique_topic("compaction");
    let mut admin = RawClient::connect(cluster.agent(0).kafka_addr()).expect("connect");
    assert_eq!(admin.create_topic(&topic, PARTITIONS).expect("create"), 0);

    let stop = Arc::new(AtomicBool::new(false));
    let produced = Arc::new(Mutex::new(Produced::new()));
    let producer = {
        let (addr, topic, stop, produced) = (
            cluster.agent(0).kafka_addr(),
            topic.clone(),
            stop.clone(),
            produced.clone(),
        );
        thread::spawn(move || produce(addr, topic, stop, produced))
    };
    let reads = Arc::new(AtomicUsize::new(0));
    let consumers: Vec<_> = [1, 2]
        .into_iter()
        .map(|i| {
            let (addr, topic, stop, produced, reads) = (
                cluster.agent(i).kafka_addr(),
                topic.clone(),
                stop.clone(),
                produced.clone(),
                reads.clone(),
            );
            thread::spawn(move || -> Result<()> {
                let mut client = RawClient::connect(addr)?;
                while !stop.load(Ordering::Acquire) {
                    let snapshot = produced
                        .lock()
                        .map_err(|_| anyhow::anyhow!("poisoned"))?
                        .clone();
                    for (partition, batches) in &snapshot {
                        let Some(end) = end_of(batches)? else {
                            continue;
                        };
                        let (start, read) = read_partition(&mut client, &topic, *partition, end)
                            .with_context(|| format!("consumer on agent {i}"))?;
                        // The log start moved under the read: read again.
                        let Some(read) = read else { continue };
                        check(&read, &kept(batches, start), *partition)
                            .with_context(|| format!("consumer on agent {i}"))?;
                        reads.fetch_add(read.len(), Ordering::AcqRel);
                    }
                }
                Ok(())
            })
        })
        .collect();

    // DeleteRecords on partition 0 every second, through agent 0, racing the
    // readers and the swaps: the log start moves to a third of what was
    // produced there.
    let deleter = {
        let (addr, topic, stop, produced) = (
            cluster.agent(0).kafka_addr(),
            topic.clone(),
            stop.clone(),
            produced.clone(),
        );
        thread::spawn(move || -> Result<usize> {
            let mut client = RawClient::connect(addr)?;
            let mut deletions = 0;
            while !stop.load(Ordering::Acquire) {
                thread::sleep(Duration::from_secs(1));
                let cut = {
                    let produced = produced.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
                    let batches = produced.get(&0).map(Vec::as_slice).unwrap_or_default();
                    batches.get(batches.len() / 3).map(|(at, _)| *at)
                };
                if let Some(cut) = cut.filter(|cut| *cut > 0) {
                    let (code, _) = client.delete_records(&topic, 0, cut)?;
                    if code != 0 {
                        bail!("DeleteRecords before {cut}: error {code}");
                    }
                    deletions += 1;
                }
            }
            Ok(deletions)
        })
    };

    thread::sleep(PRODUCE_FOR);
    stop.store(true, Ordering::Release);
    producer.join().expect("producer thread").expect("producer");
    let deletions = deleter.join().expect("deleter thread").expect("deleter");
    assert!(deletions > 0, "DeleteRecords raced the readers");
    for c in consumers {
        c.join()
            .expect("consumer thread")
            .unwrap_or_else(|e| panic!("{e:#}\n{}", cluster.logs()));
    }
    let produced = produced.lock().expect("not poisoned").clone();
    let batches: usize = produced.values().map(Vec::len).sum();
    let compacted: f64 = (0..3)
        .map(|i| {
            cluster
                .agent(i)
                .metric("floe_compaction_input_segments_total")
                .ok()
                .flatten()
                .unwrap_or(0.0)
        })
        .sum();
    eprintln!(
        "{batches} batches produced, {} batches read and checked, {compacted} segments \
         compacted while producing",
        reads.load(Ordering::Acquire)
    );
    assert!(
        reads.load(Ordering::Acquire) >= batches,
        "consumers read the log again and again"
    );
    assert!(compacted > 0.0, "compaction ran while consumers read");

    // Once writes stop, compaction settles: the rows shrink far below one
    // per produced batch (each was its own flush and row).
    let url = cluster.metadata_url().to_string();
    let deadline = Instant::now() + BOUND;
    let rows = loop {
        let rows = index_rows(&url, &topic).expect("count rows");
        if rows * 4 <= batches || Instant::now() > deadline {
            break rows;
        }
        thread::sleep(Duration::from_millis(500));
    };
    eprintln!("{rows} index rows for {batches} produced batches");
    assert!(
        rows * 4 <= batches,
        "{rows} rows for {batches} batches\n{}",
        cluster.logs()
    );

    // The whole log still reads the same through every agent.
    for i in 0..3 {
        let mut client = RawClient::connect(cluster.agent(i).kafka_addr()).expect("connect");
        for (partition, all) in &produced {
            let end = end_of(all).expect("batches").expect("a batch");
            let (start, read) =
                read_partition(&mut client, &topic, *partition, end).expect("read after");
            let read = read.expect("no deletion now");
            if *partition == 0 {
                assert!(start > 0, "DeleteRecords moved partition 0's log start");
            }
            let want = kept(all, start);
            assert_eq!(read.len(), want.len(), "agent {i} partition {partition}");
            check(&read, &want, *partition).expect("same log after compaction");
            // By timestamp: each batch's second record is found exactly.
            for (at, b) in want.iter().step_by(7) {
                let records = i32::from_be_bytes(b[57..61].try_into().expect("4 bytes"));
                let first_ts = i64::from_be_bytes(b[27..35].try_into().expect("8 bytes"));
                let (ts, offset) = if records > 1 {
                    (first_ts + 1, at + 1)
                } else {
                    (first_ts, *at)
                };
                let found = client
                    .list_offsets(&topic, *partition, ts)
                    .expect("list offsets");
                assert_eq!(
                    (found.error_code, found.offset),
                    (0, offset),
                    "timestamp {ts}"
                );
            }
        }
    }

    // The replaced objects go after the grace: fewer objects than flushes.
    let deadline = Instant::now() + Duration::from_millis(GRACE_MS) + BOUND;
    let objects = loop {
        let objects = cluster.object_keys().expect("list objects").len();
        if objects * 4 <= batches || Instant::now() > deadline {
            break objects;
        }
        thread::sleep(Duration::from_secs(1));
    };
    eprintln!("{objects} objects for {batches} produced batches");
    assert!(
        objects * 4 <= batches,
        "{objects} objects for {batches} batches"
    );
    // And what is left still reads the same.
    let mut client = RawClient::connect(cluster.agent(1).kafka_addr()).expect("connect");
    for (partition, all) in &produced {
        let end = end_of(all).expect("batches").expect("a batch");
        let (start, read) =
            read_partition(&mut client, &topic, *partition, end).expect("read at the end");
        let read = read.expect("no deletion now");
        check(&read, &kept(all, start), *partition).expect("same log after collection");
    }
}
