//! Debian's kcat 1.7.1 (librdkafka 2.0.2), an old client users really run.

use std::collections::{BTreeMap, HashSet};

use floe_tests::kcat::ConsumedRecord;
use floe_tests::{Agent, Kcat, RawClient, unique_topic};
use kafka_protocol::records::Compression;

const RECORDS: usize = 20_000;
const PARTITIONS: usize = 3;

/// Checks what kcat consumed against the `key-{i}:value-{i}` lines produced: every
/// record exactly once, offsets contiguous from 0 in each partition, and the
/// production order kept within each partition. Returns the records per partition.
fn check_keyed(records: &[ConsumedRecord]) -> BTreeMap<i32, Vec<ConsumedRecord>> {
    assert_eq!(records.len(), RECORDS, "number of consumed records");
    let mut seen = HashSet::new();
    let mut by_partition: BTreeMap<i32, Vec<ConsumedRecord>> = BTreeMap::new();
    for r in records {
        let index: usize = r
            .key
            .strip_prefix("key-")
            .and_then(|i| i.parse().ok())
            .unwrap_or_else(|| panic!("unexpected key in {r:?}"));
        assert!(index < RECORDS, "unexpected key in {r:?}");
        assert_eq!(r.value, format!("value-{index}"), "value of {r:?}");
        assert!(seen.insert(index), "record {index} consumed twice: {r:?}");
        by_partition.entry(r.partition).or_default().push(r.clone());
    }
    assert_eq!(
        by_partition.keys().copied().collect::<Vec<_>>(),
        (0..PARTITIONS as i32).collect::<Vec<_>>(),
        "partitions that received records (keys hash over all of them)"
    );
    for (partition, list) in &mut by_partition {
        list.sort_by_key(|r| r.offset);
        let offsets: Vec<i64> = list.iter().map(|r| r.offset).collect();
        let expected: Vec<i64> = (0..list.len() as i64).collect();
        assert!(
            offsets == expected,
            "offsets of partition {partition} are not contiguous from 0: first differences {:?}",
            offsets
                .iter()
                .zip(&expected)
                .filter(|(a, b)| a != b)
                .take(5)
                .collect::<Vec<_>>()
        );
        let order: Vec<usize> = list
            .iter()
            .map(|r| r.key["key-".len()..].parse().unwrap_or(usize::MAX))
            .collect();
        assert!(
            order.windows(2).all(|w| w[0] < w[1]),
            "partition {partition} does not keep the production order"
        );
    }
    by_partition
}

#[test]
fn keyed_records_round_trip_exactly_once_and_survive_restart() {
    let mut agent = Agent::builder()
        .partitions(PARTITIONS as u32)
        .start()
        .expect("start agent");
    let kcat = Kcat::new(agent.bootstrap());
    let topic = unique_topic("kcat-keyed");

    let input: String = (0..RECORDS)
        .map(|i| format!("key-{i}:value-{i}\n"))
        .collect();
    kcat.produce_keyed(&topic, &input, &[])
        .expect("kcat -P -K: failed");

    let before = check_keyed(&kcat.consume_all(&topic).expect("kcat -C failed"));

    agent.stop().expect("graceful stop");
    agent.restart().expect("restart on the same data dir");

    let after = check_keyed(
        &kcat
            .consume_all(&topic)
            .expect("kcat -C after restart failed"),
    );
    assert!(before == after, "records differ after restart");

    agent.stop().expect("graceful stop");
    let stray = agent.stray_files().expect("list the agent's directory");
    assert!(
        stray.is_empty(),
        "agent wrote outside its --data-dir: {stray:?}"
    );
    let data: Vec<_> = std::fs::read_dir(agent.data_dir())
        .expect("list data dir")
        .collect();
    assert!(
        !data.is_empty(),
        "the data dir is empty after storing records"
    );
}

#[test]
fn metadata_listing_works_for_librdkafka_2_0_2() {
    let agent = Agent::builder().partitions(2).start().expect("start agent");
    let kcat = Kcat::new(agent.bootstrap());

    // The trap: an ApiVersions answer with default-valued tagged fields written out
    // makes librdkafka 2.0.2 fail with "Read underflow" before anything else.
    let listing = kcat
        .run(&["-L"], b"")
        .expect("run kcat -L")
        .ensure_success()
        .expect("kcat -L failed");
    assert!(
        !listing.stderr.to_lowercase().contains("underflow"),
        "kcat -L: {}",
        listing.describe()
    );
    assert!(
        listing.stdout.contains(" 1 brokers:")
            && listing
                .stdout
                .contains(&format!(" at {}", agent.bootstrap())),
        "kcat -L does not list the agent as the one broker\n{}",
        listing.describe()
    );

    let topic = unique_topic("kcat-meta");
    kcat.produce_keyed(&topic, "k:v\n", &[])
        .expect("produce one record");
    let listing = kcat
        .run(&["-L", "-t", &topic], b"")
        .expect("run kcat -L -t")
        .ensure_success()
        .expect("kcat -L -t failed");
    assert!(
        listing
            .stdout
            .contains(&format!("topic \"{topic}\" with 2 partitions:")),
        "kcat -L -t does not show the auto-created topic with 2 partitions\n{}",
        listing.describe()
    );

    let json = kcat.metadata_json(&[]).expect("kcat -L -J");
    let brokers = json["brokers"].as_array().expect("brokers array");
    assert_eq!(brokers.len(), 1, "brokers in {json}");
    assert_eq!(
        brokers[0]["name"].as_str(),
        Some(agent.bootstrap().as_str()),
        "advertised address in {json}"
    );
    let broker_id = brokers[0]["id"].as_i64().expect("broker id");
    let topics = json["topics"].as_array().expect("topics array");
    let entry = topics
        .iter()
        .find(|t| t["topic"].as_str() == Some(topic.as_str()))
        .unwrap_or_else(|| panic!("topic {topic} missing in {json}"));
    let partitions = entry["partitions"].as_array().expect("partitions array");
    let mut ids: Vec<i64> = partitions
        .iter()
        .filter_map(|p| p["partition"].as_i64())
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, vec![0, 1], "partitions in {entry}");
    for p in partitions {
        assert_eq!(p["leader"].as_i64(), Some(broker_id), "leader in {entry}");
    }
}

/// librdkafka decides from the agent's ApiVersions answer whether it may compress:
/// 2.0.2 sends gzip, snappy and lz4 only to brokers serving Produce v0 or v1, which
/// Floe, like Kafka 4.0 (KIP-896), does not (Produce starts at v3). So this old
/// client sends those codecs uncompressed, exactly as it does to Kafka 4.0; zstd
/// needs Produce v7 and is compressed. Records must come back identical whatever the
/// codec, and zstd must be stored compressed (confluent-kafka's test checks that all
/// four codecs are stored compressed with a current librdkafka).
#[test]
fn compressed_records_round_trip_and_are_stored_compressed() {
    let agent = Agent::start().expect("start agent");
    let kcat = Kcat::new(agent.bootstrap());
    let mut not_compressed = Vec::new();
    for (codec, compression) in [
        ("gzip", Compression::Gzip),
        ("snappy", Compression::Snappy),
        ("lz4", Compression::Lz4),
        ("zstd", Compression::Zstd),
    ] {
        let topic = unique_topic(&format!("kcat-{codec}"));
        let value = |i: usize| format!("{codec}-{i}-{}", "abcdefgh".repeat(20));
        let input: String = (0..200).map(|i| format!("k{i}:{}\n", value(i))).collect();
        kcat.produce_keyed(&topic, &input, &["-z", codec])
            .unwrap_or_else(|e| panic!("kcat -z {codec}: {e:#}"));
        let consumed = kcat.consume_all(&topic).expect("kcat -C");
        let got: Vec<(i64, String, String)> = consumed
            .into_iter()
            .map(|r| (r.offset, r.key, r.value))
            .collect();
        let expected: Vec<(i64, String, String)> = (0..200)
            .map(|i| (i as i64, format!("k{i}"), value(i)))
            .collect();
        assert!(got == expected, "{codec}: consumed records differ");

        let mut client = RawClient::connect(agent.kafka_addr()).expect("connect");
        let (_, infos) = client.fetch_all(&topic, 0, 200).expect("fetch");
        let expect_compressed = compression == Compression::Zstd;
        if expect_compressed && !infos.iter().all(|i| i.compression == compression) {
            not_compressed.push(codec);
        }
    }
    assert!(
        not_compressed.is_empty(),
        "kcat (librdkafka 2.0.2) stored these codecs uncompressed: {not_compressed:?}; \
         zstd must stay compressed"
    );
}
