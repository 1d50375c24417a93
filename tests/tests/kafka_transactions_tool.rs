//! Kafka's own `kafka-transactions.sh` (`org.apache.kafka.tools.TransactionsCommand`
//! of Kafka 4.x) against a transaction left open on a partition
//! (`tests/python/txn_hanging.py`): `list` (with KIP-1152's transactional id
//! pattern, ListTransactions v2), `describe`, `describe-producers`, `find-hanging`,
//! and `abort`, whose WriteTxnMarkers ends the transaction on the partition so a
//! read_committed consumer reads past it without its records.
//!
//! The scenario runs against Apache Kafka too (one broker shared by this binary),
//! which proves it right. Without `FLOE_KAFKA_CLASSPATH` (set by `scripts/test.sh`)
//! both tests print why and return.

use floe_tests::{Agent, KafkaTools, kafka_ref, python, unique_topic};

const TRANSACTIONS: &str = "org.apache.kafka.tools.TransactionsCommand";

/// The rows of a table the tool prints (tab-separated, a header line first), each
/// as (column, value) pairs.
fn rows(out: &str) -> Vec<Vec<(String, String)>> {
    let mut lines = out.lines().filter(|l| l.contains('\t'));
    let Some(header) = lines.next() else {
        return Vec::new();
    };
    let names: Vec<String> = header.split('\t').map(|c| c.trim().to_string()).collect();
    lines
        .map(|line| {
            names
                .iter()
                .cloned()
                .zip(line.split('\t').map(|c| c.trim().to_string()))
                .collect()
        })
        .collect()
}

/// The value of `column` in `row`.
fn cell<'a>(row: &'a [(String, String)], column: &str) -> &'a str {
    row.iter()
        .find(|(name, _)| name == column)
        .map_or("", |(_, value)| value.as_str())
}

fn tool(kafka: &KafkaTools, bootstrap: &str, args: &[&str]) -> String {
    let mut all = vec!["--bootstrap-server", bootstrap];
    all.extend_from_slice(args);
    match kafka.run_ok(TRANSACTIONS, &all, b"") {
        Ok(output) => output.stdout,
        Err(error) => panic!("kafka-transactions {args:?}: {error:#}"),
    }
}

fn script(bootstrap: &str, args: &[&str]) -> serde_json::Value {
    let output = python::run_script("txn_hanging.py", bootstrap, args)
        .unwrap_or_else(|e| panic!("txn_hanging.py {args:?}: {e:#}"));
    serde_json::from_str(output.stdout.trim()).expect("the script prints JSON")
}

/// The row of `producer` in `describe-producers` of partition 0 of `topic`.
fn producer_row(
    kafka: &KafkaTools,
    bootstrap: &str,
    topic: &str,
    producer: &str,
) -> Vec<(String, String)> {
    let out = tool(
        kafka,
        bootstrap,
        &["describe-producers", "--topic", topic, "--partition", "0"],
    );
    rows(&out)
        .into_iter()
        .find(|r| cell(r, "ProducerId") == producer)
        .unwrap_or_else(|| panic!("producer {producer} not described:\n{out}"))
}

fn hanging_transaction_is_found_and_aborted(kafka: &KafkaTools, bootstrap: &str) {
    let topic = unique_topic("txn-tool");
    let txn_id = format!("{topic}-txn");
    let opened = script(bootstrap, &["open", &topic, &txn_id]);
    let start = opened["start"].as_i64().expect("start offset").to_string();

    // list: the id, ongoing; the pattern (v2) keeps it or leaves it out.
    let listed = |extra: &[&str]| {
        let mut args = vec!["list"];
        args.extend_from_slice(extra);
        rows(&tool(kafka, bootstrap, &args))
            .into_iter()
            .filter(|r| cell(r, "TransactionalId") == txn_id)
            .collect::<Vec<_>>()
    };
    let all = listed(&[]);
    assert_eq!(all.len(), 1, "list shows the transactional id");
    assert_eq!(cell(&all[0], "TransactionState"), "Ongoing");
    let producer = cell(&all[0], "ProducerId").to_string();
    let pattern = format!("{topic}-t.*");
    assert_eq!(
        listed(&["--transactional-id-pattern", &pattern]).len(),
        1,
        "a matching pattern keeps it"
    );
    assert!(
        listed(&["--transactional-id-pattern", "txn-tool"]).is_empty(),
        "a pattern matching only part of the id leaves it out"
    );

    // describe: state, producer, partition.
    let described = rows(&tool(
        kafka,
        bootstrap,
        &["describe", "--transactional-id", &txn_id],
    ));
    assert_eq!(described.len(), 1);
    assert_eq!(cell(&described[0], "TransactionState"), "Ongoing");
    assert_eq!(cell(&described[0], "ProducerId"), producer);
    assert_eq!(cell(&described[0], "TopicPartitions"), format!("{topic}-0"));

    // describe-producers: the open transaction's first offset.
    let row = producer_row(kafka, bootstrap, &topic, &producer);
    assert_eq!(cell(&row, "CurrentTransactionStartOffset"), start);

    // find-hanging: the coordinator still knows the transaction, so it is not
    // hanging.
    let hanging = tool(
        kafka,
        bootstrap,
        &[
            "find-hanging",
            "--topic",
            &topic,
            "--max-transaction-timeout",
            "0",
        ],
    );
    assert!(
        rows(&hanging).is_empty(),
        "nothing hanging while the coordinator knows it:\n{hanging}"
    );

    // abort: WriteTxnMarkers ends it on the partition.
    tool(
        kafka,
        bootstrap,
        &[
            "abort",
            "--topic",
            &topic,
            "--partition",
            "0",
            "--start-offset",
            &start,
        ],
    );
    let row = producer_row(kafka, bootstrap, &topic, &producer);
    assert_eq!(cell(&row, "CurrentTransactionStartOffset"), "None");
    let committed = script(bootstrap, &["read", &topic, "read_committed"]);
    assert_eq!(committed, serde_json::json!(["before", "after"]));
    let uncommitted = script(bootstrap, &["read", &topic, "read_uncommitted"]);
    assert_eq!(
        uncommitted,
        serde_json::json!(["before", "open-0", "open-1", "open-2", "after"])
    );
}

#[test]
fn kafka_transactions_tool_reference() {
    let test = "kafka_transactions_tool_reference";
    let Some(broker) = kafka_ref::shared(test) else {
        return;
    };
    let Some(kafka) = KafkaTools::from_env_or_skip(test) else {
        return;
    };
    hanging_transaction_is_found_and_aborted(&kafka, &broker.bootstrap());
}

#[test]
fn floe_kafka_transactions_tool() {
    let Some(kafka) = KafkaTools::from_env_or_skip("floe_kafka_transactions_tool") else {
        return;
    };
    let agent = Agent::start().expect("start agent");
    hanging_transaction_is_found_and_aborted(&kafka, &agent.bootstrap());
}
