//! Apache Kafka's own command-line tools (4.x, the classes behind `bin/kafka-*.sh`)
//! against Floe, as a new user runs them in Kafka's quick start.
//!
//! Every scenario runs against Apache Kafka too (one broker shared by this binary):
//! that proves the scenario itself right, so a failure on Floe's side is Floe's.
//!
//! Without `FLOE_KAFKA_CLASSPATH` (set by `scripts/test.sh`) every test here prints
//! why and returns.

use std::collections::BTreeMap;

use floe_tests::kafka_cli::tools;
use floe_tests::{Agent, KafkaTools, kafka_ref, unique_topic};

/// The records of the quick start: (headers, key, value) as the console producer reads
/// them with `parse.headers` and `parse.key`, and as the console consumer prints them.
const RECORDS: &[(&str, &str, &str)] = &[
    ("source:quickstart,trace:1", "alice", "first event"),
    ("source:quickstart", "bob", "second event"),
    ("source:quickstart,trace:3", "carol", "third event"),
    ("kind:x", "alice", "fourth event"),
    ("kind:y,kind:z", "dave", "fifth event with spaces"),
    ("source:quickstart", "erin", "sixth event"),
];

/// Runs a tool and fails with its output unless it exits 0.
fn run(kafka: &KafkaTools, class: &str, args: &[&str]) -> String {
    run_with_input(kafka, class, args, b"")
}

fn run_with_input(kafka: &KafkaTools, class: &str, args: &[&str], stdin: &[u8]) -> String {
    match kafka.run_ok(class, args, stdin) {
        Ok(output) => output.stdout,
        Err(error) => panic!("{error:#}"),
    }
}

/// The arguments as `&str`s.
fn strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

/// `kafka-get-offsets.sh` for `topic` at `time` (-1 latest, -2 earliest): partition →
/// offset.
fn get_offsets(kafka: &KafkaTools, bootstrap: &str, topic: &str, time: &str) -> Vec<i64> {
    let out = run(
        kafka,
        tools::GET_OFFSETS,
        &[
            "--bootstrap-server",
            bootstrap,
            "--topic",
            topic,
            "--time",
            time,
        ],
    );
    let mut offsets = BTreeMap::new();
    for line in out.lines().filter(|l| !l.trim().is_empty()) {
        let parts: Vec<&str> = line.rsplitn(3, ':').collect();
        assert_eq!(parts.len(), 3, "get-offsets line {line:?}");
        assert_eq!(parts[2], topic, "get-offsets line {line:?}");
        let partition: i32 = parts[1].parse().expect("partition");
        let offset: i64 = parts[0].parse().expect("offset");
        offsets.insert(partition, offset);
    }
    let partitions: Vec<i32> = offsets.keys().copied().collect();
    assert_eq!(
        partitions,
        (0..partitions.len() as i32).collect::<Vec<_>>(),
        "get-offsets partitions:\n{out}"
    );
    offsets.into_values().collect()
}

/// The rows of a `kafka-consumer-groups.sh` table whose first column is `group`, as
/// column name → value.
fn group_rows(out: &str, group: &str) -> Vec<BTreeMap<String, String>> {
    let mut header: Vec<String> = Vec::new();
    let mut rows = Vec::new();
    for line in out.lines() {
        let cells: Vec<&str> = line.split_whitespace().collect();
        match cells.first() {
            Some(&"GROUP") => header = cells.iter().map(|c| c.to_string()).collect(),
            Some(first) if *first == group => {
                assert_eq!(cells.len(), header.len(), "row {line:?} under {header:?}");
                rows.push(
                    header
                        .iter()
                        .cloned()
                        .zip(cells.iter().map(|c| c.to_string()))
                        .collect(),
                );
            }
            _ => {}
        }
    }
    rows.sort_by_key(|row: &BTreeMap<String, String>| row.get("PARTITION").cloned());
    rows
}

fn column(rows: &[BTreeMap<String, String>], name: &str) -> Vec<String> {
    rows.iter()
        .map(|row| row.get(name).cloned().unwrap_or_default())
        .collect()
}

/// The quick start: create, describe and list a topic; produce keyed records with
/// headers with the console producer; read them back with the console consumer in a
/// group; describe the group, reset it to the earliest offsets; get offsets; the
/// producer and consumer performance tools; delete the topic.
fn quick_start(kafka: &KafkaTools, bootstrap: &str) {
    let topic = unique_topic("quickstart-events");
    let group = unique_topic("quickstart-group");
    let b = bootstrap;

    let out = run(
        kafka,
        tools::TOPICS,
        &[
            "--bootstrap-server",
            b,
            "--create",
            "--topic",
            &topic,
            "--partitions",
            "3",
        ],
    );
    assert!(out.contains(&format!("Created topic {topic}.")), "{out}");

    let out = run(kafka, tools::TOPICS, &["--bootstrap-server", b, "--list"]);
    assert!(
        out.lines().any(|l| l == topic),
        "{topic} not listed:\n{out}"
    );

    let input: String = RECORDS
        .iter()
        .map(|(headers, key, value)| format!("{headers}\t{key}:{value}\n"))
        .collect();
    run_with_input(
        kafka,
        tools::CONSOLE_PRODUCER,
        &[
            "--bootstrap-server",
            b,
            "--topic",
            &topic,
            "--reader-property",
            "parse.key=true",
            "--reader-property",
            "key.separator=:",
            "--reader-property",
            "parse.headers=true",
        ],
        input.as_bytes(),
    );

    let out = run(
        kafka,
        tools::CONSOLE_CONSUMER,
        &[
            "--bootstrap-server",
            b,
            "--topic",
            &topic,
            "--from-beginning",
            "--group",
            &group,
            "--max-messages",
            &RECORDS.len().to_string(),
            "--timeout-ms",
            "60000",
            "--formatter-property",
            "print.key=true",
            "--formatter-property",
            "print.headers=true",
        ],
    );
    let mut consumed: Vec<String> = out.lines().map(str::to_string).collect();
    consumed.sort();
    let mut expected: Vec<String> = RECORDS
        .iter()
        .map(|(headers, key, value)| format!("{headers}\t{key}\t{value}"))
        .collect();
    expected.sort();
    assert_eq!(consumed, expected, "what the console consumer printed");

    // Records of one key share a partition; all six are there, none twice.
    let end = get_offsets(kafka, b, &topic, "-1");
    assert_eq!(end.len(), 3, "partitions: {end:?}");
    assert_eq!(end.iter().sum::<i64>(), RECORDS.len() as i64, "{end:?}");
    assert_eq!(get_offsets(kafka, b, &topic, "-2"), vec![0, 0, 0]);

    // The console consumer committed what it read when it closed.
    let out = run(
        kafka,
        tools::CONSUMER_GROUPS,
        &["--bootstrap-server", b, "--describe", "--group", &group],
    );
    let rows = group_rows(&out, &group);
    assert_eq!(column(&rows, "PARTITION"), ["0", "1", "2"], "{out}");
    // The consumer left: no member owns a partition.
    assert_eq!(column(&rows, "CONSUMER-ID"), ["-", "-", "-"], "{out}");
    let end_text: Vec<String> = end.iter().map(i64::to_string).collect();
    assert_eq!(column(&rows, "LOG-END-OFFSET"), end_text, "{out}");
    assert_eq!(column(&rows, "CURRENT-OFFSET"), end_text, "{out}");
    assert_eq!(column(&rows, "LAG"), ["0", "0", "0"], "{out}");

    let out = run(
        kafka,
        tools::CONSUMER_GROUPS,
        &[
            "--bootstrap-server",
            b,
            "--reset-offsets",
            "--to-earliest",
            "--execute",
            "--group",
            &group,
            "--topic",
            &topic,
        ],
    );
    let rows = group_rows(&out, &group);
    assert_eq!(column(&rows, "NEW-OFFSET"), ["0", "0", "0"], "{out}");
    let out = run(
        kafka,
        tools::CONSUMER_GROUPS,
        &["--bootstrap-server", b, "--describe", "--group", &group],
    );
    let rows = group_rows(&out, &group);
    assert_eq!(column(&rows, "CURRENT-OFFSET"), ["0", "0", "0"], "{out}");
    assert_eq!(column(&rows, "LAG"), end_text, "{out}");

    let out = run(
        kafka,
        tools::PRODUCER_PERF,
        &[
            "--topic",
            &topic,
            "--num-records",
            "500",
            "--record-size",
            "100",
            "--throughput",
            "-1",
            "--bootstrap-server",
            b,
            "--command-property",
            "acks=all",
        ],
    );
    assert!(out.contains("500 records sent"), "{out}");
    let end = get_offsets(kafka, b, &topic, "-1");
    assert_eq!(end.iter().sum::<i64>(), 506, "{end:?}");

    let out = run(
        kafka,
        tools::CONSUMER_PERF,
        &[
            "--bootstrap-server",
            b,
            "--topic",
            &topic,
            "--num-records",
            "506",
            "--timeout",
            "60000",
        ],
    );
    let data = out.lines().last().unwrap_or_default();
    let fields: Vec<&str> = data.split(", ").collect();
    assert_eq!(
        fields.get(4).copied(),
        Some("506"),
        "messages consumed:\n{out}"
    );

    let out = run(
        kafka,
        tools::TOPICS,
        &["--bootstrap-server", b, "--delete", "--topic", &topic],
    );
    assert!(!out.contains("Error"), "{out}");
    let out = run(kafka, tools::TOPICS, &["--bootstrap-server", b, "--list"]);
    assert!(
        !out.lines().any(|l| l == topic),
        "{topic} still listed:\n{out}"
    );
}

/// `kafka-topics.sh --describe`: partition count and one line per partition. Kafka's
/// tool asks for the topic's configs (DescribeConfigs) to print them.
fn describe_topic(kafka: &KafkaTools, bootstrap: &str) {
    let topic = unique_topic("describe");
    let b = bootstrap;
    run(
        kafka,
        tools::TOPICS,
        &[
            "--bootstrap-server",
            b,
            "--create",
            "--topic",
            &topic,
            "--partitions",
            "3",
        ],
    );
    let out = run(
        kafka,
        tools::TOPICS,
        &["--bootstrap-server", b, "--describe", "--topic", &topic],
    );
    assert!(out.contains(&format!("Topic: {topic}\t")), "{out}");
    assert!(out.contains("PartitionCount: 3"), "{out}");
    for partition in 0..3 {
        assert!(
            out.contains(&format!("Partition: {partition}\t")),
            "partition {partition} missing:\n{out}"
        );
    }
}

/// `kafka-configs.sh`: set a topic config, see it described as a dynamic topic
/// config, delete it again.
fn configs(kafka: &KafkaTools, bootstrap: &str) {
    let topic = unique_topic("configs");
    let b = bootstrap;
    run(
        kafka,
        tools::TOPICS,
        &[
            "--bootstrap-server",
            b,
            "--create",
            "--topic",
            &topic,
            "--partitions",
            "1",
        ],
    );
    let entity = [
        "--bootstrap-server",
        b,
        "--entity-type",
        "topics",
        "--entity-name",
        &topic,
    ];
    let with = |extra: &[&'static str]| -> Vec<String> {
        entity
            .iter()
            .map(|a| a.to_string())
            .chain(extra.iter().map(|a| a.to_string()))
            .collect()
    };
    let out = run(
        kafka,
        tools::CONFIGS,
        &strs(&with(&["--alter", "--add-config", "retention.ms=3600000"])),
    );
    assert!(
        out.contains(&format!("Completed updating config for topic {topic}.")),
        "{out}"
    );
    let out = run(kafka, tools::CONFIGS, &strs(&with(&["--describe"])));
    assert!(
        out.contains("retention.ms=3600000 sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:retention.ms=3600000}"),
        "{out}"
    );
    let out = run(
        kafka,
        tools::CONFIGS,
        &strs(&with(&["--alter", "--delete-config", "retention.ms"])),
    );
    assert!(out.contains("Completed updating config"), "{out}");
    let out = run(kafka, tools::CONFIGS, &strs(&with(&["--describe"])));
    assert!(!out.contains("retention.ms"), "{out}");
}

/// `kafka-delete-records.sh`: the log start offset moves, the earliest offset and the
/// console consumer follow it.
fn delete_records(kafka: &KafkaTools, bootstrap: &str) {
    let topic = unique_topic("delete-records");
    let b = bootstrap;
    run(
        kafka,
        tools::TOPICS,
        &[
            "--bootstrap-server",
            b,
            "--create",
            "--topic",
            &topic,
            "--partitions",
            "1",
        ],
    );
    run_with_input(
        kafka,
        tools::CONSOLE_PRODUCER,
        &["--bootstrap-server", b, "--topic", &topic],
        b"r0\nr1\nr2\nr3\nr4\n",
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let json = dir.path().join("offsets.json");
    std::fs::write(
        &json,
        format!(r#"{{"partitions":[{{"topic":"{topic}","partition":0,"offset":3}}],"version":1}}"#),
    )
    .expect("write offsets.json");
    let out = run(
        kafka,
        tools::DELETE_RECORDS,
        &[
            "--bootstrap-server",
            b,
            "--offset-json-file",
            &json.to_string_lossy(),
        ],
    );
    assert!(
        out.contains(&format!("partition: {topic}-0\tlow_watermark: 3")),
        "{out}"
    );
    assert_eq!(get_offsets(kafka, b, &topic, "-2"), vec![3]);
    assert_eq!(get_offsets(kafka, b, &topic, "-1"), vec![5]);
    let out = run(
        kafka,
        tools::CONSOLE_CONSUMER,
        &[
            "--bootstrap-server",
            b,
            "--topic",
            &topic,
            "--from-beginning",
            "--max-messages",
            "2",
            "--timeout-ms",
            "60000",
        ],
    );
    assert_eq!(out.lines().collect::<Vec<_>>(), ["r3", "r4"], "{out}");
}

/// `kafka-topics.sh --alter --partitions`: a topic grows from 3 to 5 partitions.
fn add_partitions(kafka: &KafkaTools, bootstrap: &str) {
    let topic = unique_topic("add-partitions");
    let b = bootstrap;
    run(
        kafka,
        tools::TOPICS,
        &[
            "--bootstrap-server",
            b,
            "--create",
            "--topic",
            &topic,
            "--partitions",
            "3",
        ],
    );
    run(
        kafka,
        tools::TOPICS,
        &[
            "--bootstrap-server",
            b,
            "--alter",
            "--topic",
            &topic,
            "--partitions",
            "5",
        ],
    );
    assert_eq!(get_offsets(kafka, b, &topic, "-1"), vec![0; 5]);
    // Shrinking is refused.
    let output = kafka
        .run(
            tools::TOPICS,
            &[
                "--bootstrap-server",
                b,
                "--alter",
                "--topic",
                &topic,
                "--partitions",
                "2",
            ],
            b"",
        )
        .expect("run kafka-topics");
    let text = format!("{}{}", output.stdout, output.stderr);
    assert!(
        text.contains("InvalidPartitionsException"),
        "{}",
        output.describe()
    );
    assert_eq!(get_offsets(kafka, b, &topic, "-1"), vec![0; 5]);
}

/// `kafka-metadata-quorum.sh describe --status`: a leader that is one of the voters,
/// no observers. (Kafka's high watermark counts its metadata records; Floe's is -1,
/// its metadata log being the store's own: `docs/compatibility.md`.)
fn metadata_quorum(kafka: &KafkaTools, bootstrap: &str) {
    let out = run(
        kafka,
        tools::METADATA_QUORUM,
        &["--bootstrap-server", bootstrap, "describe", "--status"],
    );
    let field = |name: &str| {
        out.lines()
            .find_map(|line| line.strip_prefix(&format!("{name}:")).map(str::trim))
            .unwrap_or_else(|| panic!("no {name} in\n{out}"))
            .to_string()
    };
    let leader: i32 = field("LeaderId").parse().expect("a numeric LeaderId");
    let voters = field("CurrentVoters");
    assert!(
        voters.contains(&format!("\"id\": {leader},"))
            || voters.contains(&format!("\"id\":{leader},")),
        "leader {leader} among the voters {voters}\n{out}"
    );
    assert_eq!(field("CurrentObservers"), "[]", "{out}");
    field("HighWatermark");
    field("ClusterId");
}

/// Runs `scenario` against the Apache Kafka broker shared by this binary.
fn on_kafka(test: &str, scenario: fn(&KafkaTools, &str)) {
    let Some(broker) = kafka_ref::shared(test) else {
        return;
    };
    let Some(kafka) = KafkaTools::from_env_or_skip(test) else {
        return;
    };
    scenario(&kafka, &broker.bootstrap());
}

/// Runs `scenario` against a fresh `floe serve` on the embedded default.
fn on_floe(test: &str, scenario: fn(&KafkaTools, &str)) {
    let Some(kafka) = KafkaTools::from_env_or_skip(test) else {
        return;
    };
    let agent = Agent::start().expect("start agent");
    scenario(&kafka, &agent.bootstrap());
}

#[test]
fn kafka_quick_start_reference() {
    on_kafka("kafka_quick_start_reference", quick_start);
}

#[test]
fn floe_quick_start() {
    on_floe("floe_quick_start", quick_start);
}

#[test]
fn kafka_describe_topic_reference() {
    on_kafka("kafka_describe_topic_reference", describe_topic);
}

#[test]
fn floe_describe_topic() {
    on_floe("floe_describe_topic", describe_topic);
}

#[test]
fn kafka_configs_reference() {
    on_kafka("kafka_configs_reference", configs);
}

#[test]
fn floe_configs() {
    on_floe("floe_configs", configs);
}

#[test]
fn kafka_delete_records_reference() {
    on_kafka("kafka_delete_records_reference", delete_records);
}

#[test]
fn floe_delete_records() {
    on_floe("floe_delete_records", delete_records);
}

#[test]
fn kafka_add_partitions_reference() {
    on_kafka("kafka_add_partitions_reference", add_partitions);
}

#[test]
fn floe_add_partitions() {
    on_floe("floe_add_partitions", add_partitions);
}

#[test]
fn kafka_metadata_quorum_reference() {
    on_kafka("kafka_metadata_quorum_reference", metadata_quorum);
}

#[test]
fn floe_metadata_quorum() {
    on_floe("floe_metadata_quorum", metadata_quorum);
}
