//! The production shape: several agents sharing one Postgres and one S3 server (moto),
//! driven by kcat (librdkafka 2.0.2), confluent-kafka (librdkafka 2.16) and the raw
//! client. Agents are killed, stopped and cut off from Postgres while producers run;
//! what the producers were told is stored must be stored, exactly once, where they
//! were told, and readable through every agent.
//!
//! Each test has its own S3 server and its own database on one Postgres server shared
//! by the test binary (the Postgres restart test has a server of its own).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

use floe_tests::cluster::{self, TopicLog, key_text, value_text};
use floe_tests::kcat::ConsumedRecord;
use floe_tests::load::{self, BackgroundProducer, ProduceReport, ProducerOptions};
use floe_tests::records::{self, Idempotence, TestRecord};
use floe_tests::{Cluster, Kcat, RawClient, TestPostgres, unique_topic};

const NONE: i16 = 0;
const OUT_OF_ORDER_SEQUENCE_NUMBER: i16 = 45;

/// How long a dead or departed agent may stay in Metadata answers before the test
/// fails (the agents drop it after 5 s of silence; this only guards against a hang).
const DEPARTURE_BOUND: Duration = Duration::from_secs(30);

/// How long a running producer may take to reach a given count before the test fails.
const PROGRESS_BOUND: Duration = Duration::from_secs(120);

/// Reads the topic back through agent `i` and checks it against the producers' reports.
fn read_and_verify(
    cluster: &Cluster,
    i: usize,
    topic: &str,
    partitions: i32,
    reports: &[&ProduceReport],
) -> TopicLog {
    let log = cluster::read_topic(cluster.agent(i).kafka_addr(), topic, partitions)
        .unwrap_or_else(|e| panic!("read {topic} through agent {i}: {e:#}"));
    let verified = load::verify_exactly_once(&log, reports)
        .unwrap_or_else(|e| panic!("{topic} read through agent {i}: {e:#}"));
    eprintln!("{topic} through agent {i}: {verified:?}");
    log
}

/// The agent whose Kafka address is `addr`.
fn agent_at(cluster: &Cluster, addr: &str) -> usize {
    (0..cluster.len())
        .find(|&i| cluster.bootstrap(i) == addr)
        .unwrap_or_else(|| panic!("no agent at {addr}"))
}

/// The agent leading partition 0 of `topic`, as agent 0 names it.
fn leader_of_partition_0(cluster: &Cluster, topic: &str) -> usize {
    let leaders = cluster::topic_leaders(cluster.agent(0).kafka_addr(), topic).expect("leaders");
    agent_at(cluster, &leaders[&0])
}

/// The records of a log as (partition, offset, key, value), for comparing logs read
/// through different agents and clients.
fn flatten(log: &TopicLog) -> Vec<(i32, i64, String, String)> {
    log.iter()
        .flat_map(|(&p, list)| {
            list.iter()
                .map(move |r| (p, r.offset, key_text(r), value_text(r)))
        })
        .collect()
}

/// Files below `dir` whose name ends with `.seg` (segment files kept locally).
fn segment_files(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(segment_files(&path));
        } else if path.to_string_lossy().ends_with(".seg") {
            found.push(path.display().to_string());
        }
    }
    found
}

/// 1. Three agents on one Postgres and one bucket: each lists all three as brokers and
///    names the same leaders; a topic of 6 partitions produced through agent A with
///    kcat reads back identically through B and C (kcat) and through each agent alone
///    (raw client): every record once, offsets contiguous from 0, order kept. The
///    segments are in S3, not on the agents' disks.
#[test]
fn three_agents_serve_one_log_from_shared_postgres_and_s3() {
    const RECORDS: usize = 3000;
    const PARTITIONS: i32 = 6;
    let cluster = Cluster::builder("multi-share")
        .agents(3)
        .partitions(PARTITIONS as u32)
        .start()
        .expect("start cluster");
    let topic = unique_topic("multi-share");
    let lines: String = (0..RECORDS)
        .map(|i| format!("key-{i}:value-{i}\n"))
        .collect();
    Kcat::new(cluster.bootstrap(0))
        .produce_keyed(&topic, &lines, &[])
        .expect("kcat produce through agent A");

    let all_addresses: BTreeSet<String> = (0..3).map(|i| cluster.bootstrap(i)).collect();
    let mut leaders_seen = Vec::new();
    for i in 0..3 {
        let json = Kcat::new(cluster.bootstrap(i))
            .metadata_json(&["-t", &topic])
            .expect("kcat -L -J");
        let brokers: BTreeMap<i64, String> = json["brokers"]
            .as_array()
            .expect("brokers array")
            .iter()
            .map(|b| {
                (
                    b["id"].as_i64().expect("broker id"),
                    b["name"].as_str().expect("broker name").to_string(),
                )
            })
            .collect();
        assert_eq!(
            brokers.values().cloned().collect::<BTreeSet<_>>(),
            all_addresses,
            "brokers listed by agent {i}: {json}"
        );
        let entry = json["topics"]
            .as_array()
            .expect("topics array")
            .iter()
            .find(|t| t["topic"].as_str() == Some(topic.as_str()))
            .unwrap_or_else(|| panic!("topic {topic} missing from agent {i}'s answer {json}"));
        let leaders: BTreeMap<i64, String> = entry["partitions"]
            .as_array()
            .expect("partitions array")
            .iter()
            .map(|p| {
                let leader = p["leader"].as_i64().expect("leader");
                let addr = brokers
                    .get(&leader)
                    .unwrap_or_else(|| panic!("leader {leader} is not a listed broker: {json}"));
                (p["partition"].as_i64().expect("partition"), addr.clone())
            })
            .collect();
        assert_eq!(
            leaders.keys().copied().collect::<Vec<_>>(),
            (0..i64::from(PARTITIONS)).collect::<Vec<_>>(),
            "partitions listed by agent {i}"
        );
        leaders_seen.push(leaders);
    }
    assert!(
        leaders_seen.windows(2).all(|w| w[0] == w[1]),
        "agents name different partition leaders: {leaders_seen:?}"
    );

    // kcat through B and through C (it fetches from each partition's leader).
    let mut consumed: Vec<Vec<ConsumedRecord>> = Vec::new();
    for i in [1, 2] {
        let mut records = Kcat::new(cluster.bootstrap(i))
            .consume_all(&topic)
            .expect("kcat consume");
        records.sort_by_key(|r| (r.partition, r.offset));
        consumed.push(records);
    }
    assert!(
        consumed[0] == consumed[1],
        "kcat read different records through agents B and C"
    );
    let from_kcat: Vec<(i32, i64, String, String)> = consumed[0]
        .iter()
        .map(|r| (r.partition, r.offset, r.key.clone(), r.value.clone()))
        .collect();

    // The raw client through each agent alone: every agent serves every partition.
    for i in 0..3 {
        let log = cluster::read_topic(cluster.agent(i).kafka_addr(), &topic, PARTITIONS)
            .unwrap_or_else(|e| panic!("read through agent {i}: {e:#}"));
        let served = flatten(&log);
        assert!(
            served == from_kcat,
            "agent {i} serves other records than kcat consumed ({} vs {})",
            served.len(),
            from_kcat.len()
        );
    }

    // Every record exactly once, offsets contiguous (read_topic checked), order kept.
    assert_eq!(from_kcat.len(), RECORDS, "records consumed");
    let mut seen = BTreeSet::new();
    let mut last_in_partition: BTreeMap<i32, usize> = BTreeMap::new();
    for (partition, offset, key, value) in &from_kcat {
        let i: usize = key
            .strip_prefix("key-")
            .and_then(|i| i.parse().ok())
            .unwrap_or_else(|| panic!("unexpected key {key:?} at {partition}/{offset}"));
        assert_eq!(value, &format!("value-{i}"), "value of {key}");
        assert!(seen.insert(i), "{key} read twice");
        if let Some(previous) = last_in_partition.insert(*partition, i) {
            assert!(
                previous < i,
                "partition {partition}: key-{i} at {offset} after key-{previous}"
            );
        }
    }
    assert_eq!(
        last_in_partition.len(),
        PARTITIONS as usize,
        "partitions that received records (keys hash over all of them)"
    );

    // The data lives in S3 under the cluster's prefix, and on no agent's disk.
    let keys = cluster.object_keys().expect("list S3 keys");
    assert!(
        !keys.is_empty(),
        "no object under {}/ in the bucket",
        cluster.prefix()
    );
    let segments_prefix = format!("{}/segments/", cluster.prefix());
    assert!(
        keys.iter()
            .all(|k| k.starts_with(&segments_prefix) && k.ends_with(".seg")),
        "unexpected objects in S3: {:?}",
        keys.iter()
            .filter(|k| !k.starts_with(&segments_prefix))
            .take(5)
            .collect::<Vec<_>>()
    );
    for agent in cluster.agents() {
        assert_eq!(
            segment_files(&agent.data_dir()),
            Vec::<String>::new(),
            "segment files on an agent's disk"
        );
        assert_eq!(
            agent.stray_files().expect("stray files"),
            Vec::<std::path::PathBuf>::new(),
            "agent wrote outside its data dir"
        );
    }
}

/// 2. Three confluent-kafka producers, each pinned to a different agent (its client id
///    names that agent's zone, so the agent leads every partition for it), write the
///    same partitions at once; two are idempotent, one is not. Offsets are unique and
///    contiguous per partition, and every acknowledged record is stored exactly once
///    where it was acknowledged, as every agent serves it.
#[test]
fn concurrent_producers_through_different_agents_share_partitions() {
    const PARTITIONS: i32 = 4;
    const PER_PRODUCER: usize = 2000;
    let cluster = Cluster::builder("multi-concurrent")
        .agents(3)
        .zones(true)
        .start()
        .expect("start cluster");
    let topic = unique_topic("multi-concurrent");
    cluster::create_topic(cluster.agent(0).kafka_addr(), &topic, PARTITIONS).expect("create");

    let producers: Vec<BackgroundProducer> = (0..3)
        .map(|i| {
            let zone = cluster.zone(i).expect("zone");
            let options = ProducerOptions::new(&format!("p{i}"), PER_PRODUCER, PARTITIONS)
                .idempotent(i != 2)
                .rate(1000)
                .client_id(format!("floe-tests-p{i},floe_az={zone}"))
                .expect_leader(cluster.bootstrap(i));
            BackgroundProducer::start(&cluster.bootstrap(i), &topic, options).expect("start")
        })
        .collect();
    let reports: Vec<ProduceReport> = producers
        .into_iter()
        .map(|p| p.finish().expect("producer"))
        .collect();
    for (i, report) in reports.iter().enumerate() {
        report
            .ensure_all_acked()
            .expect("every record acknowledged");
        assert!(
            report.leaders.values().all(|l| *l == cluster.bootstrap(i)),
            "producer {i} was not routed to agent {i}: {:?}",
            report.leaders
        );
    }
    let refs: Vec<&ProduceReport> = reports.iter().collect();
    let logs: Vec<TopicLog> = (0..3)
        .map(|i| read_and_verify(&cluster, i, &topic, PARTITIONS, &refs))
        .collect();
    let total: usize = logs[0].values().map(Vec::len).sum();
    assert_eq!(total, 3 * PER_PRODUCER, "records stored");
    for i in 1..3 {
        assert!(
            flatten(&logs[i]) == flatten(&logs[0]),
            "agent {i} serves other records than agent 0"
        );
    }
    for (partition, list) in &logs[0] {
        let producers: BTreeSet<String> = list
            .iter()
            .filter_map(|r| key_text(r).split('-').next().map(str::to_string))
            .collect();
        assert_eq!(
            producers.len(),
            3,
            "partition {partition} lacks some producer's records"
        );
        let switches = list
            .windows(2)
            .filter(|w| key_text(&w[0]).split('-').next() != key_text(&w[1]).split('-').next())
            .count();
        eprintln!("partition {partition}: producers interleave {switches} times");
    }
}

// 3. A commit on one agent wakes a long poll on another: moved to
//    tests/tests/dev_cluster.rs, where it runs on `floe dev-cluster`.

/// 4. SIGKILL of one agent while an idempotent producer (bootstrap: all three agents)
///    writes: the survivors drop the dead agent from Metadata, the producer moves on,
///    and every record it was told is stored is stored once, at its acknowledged
///    offset, readable through every survivor and through the killed agent restarted.
#[test]
fn sigkill_of_one_agent_mid_load_loses_and_duplicates_nothing_acknowledged() {
    const PARTITIONS: i32 = 6;
    const RECORDS: usize = 3000;
    let mut cluster = Cluster::builder("multi-sigkill")
        .agents(3)
        .start()
        .expect("start cluster");
    let topic = unique_topic("multi-sigkill");
    cluster::create_topic(cluster.agent(0).kafka_addr(), &topic, PARTITIONS).expect("create");
    let victim = leader_of_partition_0(&cluster, &topic);
    let survivors: Vec<usize> = (0..3).filter(|&i| i != victim).collect();

    let producer = BackgroundProducer::start(
        &cluster.bootstrap_all(),
        &topic,
        ProducerOptions::new("k", RECORDS, PARTITIONS)
            .idempotent(true)
            .rate(500),
    )
    .expect("start producer");
    producer
        .wait_acked(RECORDS / 5, PROGRESS_BOUND)
        .expect("load under way");
    cluster.agent_mut(victim).kill().expect("SIGKILL");
    let killed_at = Instant::now();
    let gone_after = cluster
        .wait_for_brokers(&survivors, &survivors, DEPARTURE_BOUND)
        .expect("the survivors must stop listing the dead agent");
    eprintln!(
        "agent {victim} killed at {} acknowledged; left Metadata after {gone_after:?}",
        producer.acked()
    );
    let report = producer.finish().expect("producer");
    eprintln!(
        "producer: {} acknowledged, {} failed, {} unflushed, {:.1}s after the kill",
        report.acked.len(),
        report.failed.len(),
        report.unflushed,
        killed_at.elapsed().as_secs_f64()
    );
    assert!(
        report.fatal.is_empty(),
        "fatal producer errors: {:?}",
        report.fatal
    );
    report
        .ensure_all_acked()
        .expect("with two agents left and a 120 s message timeout, every record is delivered");

    let first = read_and_verify(&cluster, survivors[0], &topic, PARTITIONS, &[&report]);
    let second = read_and_verify(&cluster, survivors[1], &topic, PARTITIONS, &[&report]);
    assert!(
        flatten(&first) == flatten(&second),
        "the survivors serve different logs"
    );

    // The killed agent comes back (as a new member) and serves the same log.
    cluster
        .agent_mut(victim)
        .restart()
        .expect("restart the killed agent");
    cluster::wait_owns_ports(cluster.agent_mut(victim), DEPARTURE_BOUND)
        .expect("the restarted agent listens on its ports");
    let all: Vec<usize> = (0..3).collect();
    cluster
        .wait_for_brokers(&all, &all, DEPARTURE_BOUND)
        .expect("the restarted agent rejoins");
    let again = read_and_verify(&cluster, victim, &topic, PARTITIONS, &[&report]);
    assert!(
        flatten(&again) == flatten(&first),
        "the restarted agent serves another log"
    );
}

/// 5. Postgres restarts while an idempotent producer writes through two agents: every
///    acknowledged record is stored exactly once, and afterwards the agents still see
///    each other and serve new produce and fetch requests.
#[test]
fn postgres_restart_mid_load_loses_and_duplicates_nothing_acknowledged() {
    const PARTITIONS: i32 = 4;
    const RECORDS: usize = 3000;
    let mut postgres = TestPostgres::start().expect("start a Postgres of this test's own");
    let url = postgres
        .create_database("multi_pg_restart")
        .expect("database");
    let cluster = Cluster::builder("multi-pg-restart")
        .agents(2)
        .metadata_url(url)
        .start()
        .expect("start cluster");
    let topic = unique_topic("multi-pg-restart");
    cluster::create_topic(cluster.agent(0).kafka_addr(), &topic, PARTITIONS).expect("create");

    let producer = BackgroundProducer::start(
        &cluster.bootstrap_all(),
        &topic,
        ProducerOptions::new("k", RECORDS, PARTITIONS)
            .idempotent(true)
            .rate(500),
    )
    .expect("start producer");
    producer
        .wait_acked(RECORDS / 4, PROGRESS_BOUND)
        .expect("load under way");
    let before = producer.acked();
    postgres.restart().expect("restart Postgres");
    eprintln!("Postgres restarted at {before} acknowledged records");
    let report = producer.finish().expect("producer");
    eprintln!(
        "producer: {} acknowledged, {} failed, {} unflushed",
        report.acked.len(),
        report.failed.len(),
        report.unflushed
    );
    assert!(
        report.fatal.is_empty(),
        "fatal producer errors: {:?}",
        report.fatal
    );
    report
        .ensure_all_acked()
        .expect("with a 120 s message timeout, every record is delivered once Postgres is back");
    let first = read_and_verify(&cluster, 0, &topic, PARTITIONS, &[&report]);
    let second = read_and_verify(&cluster, 1, &topic, PARTITIONS, &[&report]);
    assert!(
        flatten(&first) == flatten(&second),
        "the agents serve different logs"
    );
    for (i, agent) in cluster.agents().iter().enumerate() {
        let log = agent.log();
        let complaints: Vec<&str> = log
            .lines()
            .filter(|l| l.contains("WARN") || l.contains("ERROR"))
            .collect();
        eprintln!(
            "agent {i} logged {} warnings/errors around the restart; first: {:?}",
            complaints.len(),
            complaints.iter().take(3).collect::<Vec<_>>()
        );
    }

    // The agents keep serving: they still see each other, and a new topic written
    // through each is read back through the other.
    let all = [0, 1];
    cluster
        .wait_for_brokers(&all, &all, DEPARTURE_BOUND)
        .expect("the agents still list each other");
    for (writer, reader) in [(0, 1), (1, 0)] {
        let topic = unique_topic("multi-pg-after");
        let lines: String = (0..20)
            .map(|i| format!("k{i}:after-{writer}-{i}\n"))
            .collect();
        Kcat::new(cluster.bootstrap(writer))
            .produce_keyed(&topic, &lines, &[])
            .expect("produce after the restart");
        let got = Kcat::new(cluster.bootstrap(reader))
            .consume_all(&topic)
            .expect("consume after the restart");
        let values: Vec<String> = got.iter().map(|r| r.value.clone()).collect();
        let expected: Vec<String> = (0..20).map(|i| format!("after-{writer}-{i}")).collect();
        assert_eq!(
            values, expected,
            "records written through {writer}, read through {reader}"
        );
    }
}

/// 6. SIGTERM of one of two agents while a producer writes through both: it exits 0,
///    leaves Metadata, and everything the producer was told is stored is readable
///    through the other agent, exactly once.
#[test]
fn sigterm_of_one_agent_mid_load_hands_over_cleanly() {
    const PARTITIONS: i32 = 4;
    const RECORDS: usize = 2000;
    let mut cluster = Cluster::builder("multi-sigterm")
        .agents(2)
        .start()
        .expect("start cluster");
    let topic = unique_topic("multi-sigterm");
    cluster::create_topic(cluster.agent(0).kafka_addr(), &topic, PARTITIONS).expect("create");
    let leaving = leader_of_partition_0(&cluster, &topic);
    let staying = 1 - leaving;

    let producer = BackgroundProducer::start(
        &cluster.bootstrap_all(),
        &topic,
        ProducerOptions::new("k", RECORDS, PARTITIONS)
            .idempotent(true)
            .rate(500),
    )
    .expect("start producer");
    producer
        .wait_acked(RECORDS / 5, PROGRESS_BOUND)
        .expect("load under way");
    cluster
        .agent_mut(leaving)
        .stop()
        .expect("SIGTERM: flush, deregister, exit 0");
    let gone_after = cluster
        .wait_for_brokers(&[staying], &[staying], DEPARTURE_BOUND)
        .expect("the remaining agent must stop listing the departed one");
    eprintln!("agent {leaving} stopped; left Metadata after {gone_after:?}");
    let report = producer.finish().expect("producer");
    assert!(
        report.fatal.is_empty(),
        "fatal producer errors: {:?}",
        report.fatal
    );
    report
        .ensure_all_acked()
        .expect("with one agent left and a 120 s message timeout, every record is delivered");
    read_and_verify(&cluster, staying, &topic, PARTITIONS, &[&report]);
}

/// 7. Idempotent producers pinned to two agents write the same partitions: ListOffsets
///    through each agent counts exactly the acknowledged records. And a batch retried
///    on another agent (same producer id, epoch and sequence) is answered with its
///    first offset and not stored twice; a sequence gap is refused on either agent.
#[test]
fn idempotent_writes_through_two_agents_are_counted_exactly_once() {
    const PARTITIONS: i32 = 3;
    const PER_PRODUCER: usize = 1500;
    let cluster = Cluster::builder("multi-idempotent")
        .agents(2)
        .zones(true)
        .start()
        .expect("start cluster");
    let topic = unique_topic("multi-idempotent");
    cluster::create_topic(cluster.agent(1).kafka_addr(), &topic, PARTITIONS).expect("create");
    let producers: Vec<BackgroundProducer> = (0..2)
        .map(|i| {
            let zone = cluster.zone(i).expect("zone");
            let options = ProducerOptions::new(&format!("i{i}"), PER_PRODUCER, PARTITIONS)
                .idempotent(true)
                .client_id(format!("floe-tests-i{i},floe_az={zone}"))
                .expect_leader(cluster.bootstrap(i));
            BackgroundProducer::start(&cluster.bootstrap(i), &topic, options).expect("start")
        })
        .collect();
    let reports: Vec<ProduceReport> = producers
        .into_iter()
        .map(|p| p.finish().expect("producer"))
        .collect();
    let mut acked_per_partition: BTreeMap<i32, i64> = BTreeMap::new();
    for report in &reports {
        report
            .ensure_all_acked()
            .expect("every record acknowledged");
        for ack in &report.acked {
            *acked_per_partition.entry(ack.partition).or_default() += 1;
        }
    }
    for i in 0..2 {
        let mut client = RawClient::connect(cluster.agent(i).kafka_addr()).expect("connect");
        for partition in 0..PARTITIONS {
            let latest = client
                .list_offsets(&topic, partition, -1)
                .expect("ListOffsets latest");
            assert_eq!(
                (latest.error_code, latest.offset),
                (NONE, acked_per_partition[&partition]),
                "latest offset of partition {partition} through agent {i}"
            );
        }
    }
    let refs: Vec<&ProduceReport> = reports.iter().collect();
    for i in 0..2 {
        read_and_verify(&cluster, i, &topic, PARTITIONS, &refs);
    }

    // A retry that lands on the other agent.
    let topic = unique_topic("multi-idempotent-raw");
    cluster::create_topic(cluster.agent(0).kafka_addr(), &topic, 1).expect("create");
    let mut a = RawClient::connect(cluster.agent(0).kafka_addr()).expect("connect to A");
    let mut b = RawClient::connect(cluster.agent(1).kafka_addr()).expect("connect to B");
    let (producer_id, producer_epoch) = a.init_producer_id().expect("InitProducerId on A");
    let batch = |values: &[&str], base_sequence: i32| {
        let list: Vec<TestRecord> = values
            .iter()
            .map(|v| TestRecord::new("k", v, 1_700_000_000_000))
            .collect();
        let producer = Idempotence {
            producer_id,
            producer_epoch,
            base_sequence,
        };
        records::idempotent_batch(&list, producer).expect("batch")
    };
    let first = batch(&["a", "b", "c"], 0);
    let on_a = a
        .produce_one(&topic, 0, first.clone())
        .expect("produce on A");
    assert_eq!(
        (on_a.error_code, on_a.base_offset),
        (NONE, 0),
        "first batch on A"
    );
    let retry_on_b = b.produce_one(&topic, 0, first).expect("retry on B");
    assert_eq!(
        (retry_on_b.error_code, retry_on_b.base_offset),
        (NONE, 0),
        "the same batch retried on B is answered with its first offset"
    );
    let next_on_b = b
        .produce_one(&topic, 0, batch(&["d", "e"], 3))
        .expect("next batch on B");
    assert_eq!(
        (next_on_b.error_code, next_on_b.base_offset),
        (NONE, 3),
        "next batch on B"
    );
    let gap_on_a = a
        .produce_one(&topic, 0, batch(&["lost"], 10))
        .expect("batch with a gap on A");
    assert_eq!(
        gap_on_a.error_code, OUT_OF_ORDER_SEQUENCE_NUMBER,
        "sequence gap on A"
    );
    for (name, client) in [("A", &mut a), ("B", &mut b)] {
        let latest = client.list_offsets(&topic, 0, -1).expect("ListOffsets");
        assert_eq!(
            (latest.error_code, latest.offset),
            (NONE, 5),
            "latest offset via {name}"
        );
        let (fetched, _) = client.fetch_all(&topic, 0, 5).expect("fetch");
        assert_eq!(
            records::values(&fetched),
            ["a", "b", "c", "d", "e"],
            "records stored, read through {name}"
        );
    }
}

/// Agents started at the same moment on an empty database all come up (they race to
/// create the schema), see each other, and serve one log.
#[test]
fn agents_started_at_once_on_an_empty_database_form_one_cluster() {
    let cluster = Cluster::builder("multi-concurrent-start")
        .agents(3)
        .partitions(2)
        .concurrent_start(true)
        .start()
        .expect("three agents started at once");
    let topic = unique_topic("multi-start");
    let lines: String = (0..100).map(|i| format!("k{i}:v{i}\n")).collect();
    Kcat::new(cluster.bootstrap(2))
        .produce_keyed(&topic, &lines, &[])
        .expect("produce");
    let logs: Vec<Vec<(i32, i64, String, String)>> = (0..3)
        .map(|i| {
            flatten(
                &cluster::read_topic(cluster.agent(i).kafka_addr(), &topic, 2)
                    .unwrap_or_else(|e| panic!("read through agent {i}: {e:#}")),
            )
        })
        .collect();
    assert_eq!(logs[0].len(), 100, "records stored");
    assert!(
        logs.windows(2).all(|w| w[0] == w[1]),
        "the agents serve different logs"
    );
}
