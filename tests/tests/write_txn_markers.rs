//! WriteTxnMarkers and ListTransactions v2 in raw frames, against Apache Kafka
//! (the reference) and Floe, whose answers must be the same: an abort marker
//! ends a producer's open transaction on a partition (the last stable offset
//! moves to the high watermark), unknown topics and partitions are
//! UNKNOWN_TOPIC_OR_PARTITION, a marker older than the producer's open
//! transaction is INVALID_PRODUCER_EPOCH; an invalid transactional id pattern
//! is INVALID_REGULAR_EXPRESSION and a valid one matches whole ids.

use std::time::{Duration, Instant};

use floe_tests::differential;
use floe_tests::raw::{RawClient, produce_request, topic_name, versions};
use floe_tests::records::{self, Idempotence, TestRecord};
use floe_tests::unique_topic;
use kafka_protocol::messages::add_partitions_to_txn_request::AddPartitionsToTxnTopic;
use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use kafka_protocol::messages::write_txn_markers_request::{
    WritableTxnMarker, WritableTxnMarkerTopic,
};
use kafka_protocol::messages::{
    AddPartitionsToTxnRequest, FindCoordinatorRequest, FindCoordinatorResponse,
    InitProducerIdRequest, ListOffsetsRequest, ListOffsetsResponse, ListTransactionsRequest,
    ListTransactionsResponse, ProduceResponse, ProducerId, WriteTxnMarkersRequest,
    WriteTxnMarkersResponse,
};
use kafka_protocol::protocol::StrBytes;

/// Codes a client retries on while a coordinator loads or a transaction ends.
const RETRIABLE: [i16; 4] = [14, 15, 16, 51];

fn s(text: &str) -> StrBytes {
    StrBytes::from_string(text.to_string())
}

/// Calls `call` until its code is not retriable (or a minute passed).
fn retry<T>(c: &mut RawClient, call: impl Fn(&mut RawClient) -> (i16, T)) -> (i16, T) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let answer = call(c);
        if !RETRIABLE.contains(&answer.0) || Instant::now() > deadline {
            return answer;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// InitProducerId of `txn`: (code, producer id, epoch).
fn init(c: &mut RawClient, txn: &str) -> (i16, (i64, i16)) {
    let resp = c
        .request(
            4,
            &InitProducerIdRequest::default()
                .with_transactional_id(Some(s(txn).into()))
                .with_transaction_timeout_ms(60_000)
                .with_producer_id(ProducerId(-1))
                .with_producer_epoch(-1),
        )
        .expect("InitProducerId");
    (resp.error_code, (resp.producer_id.0, resp.producer_epoch))
}

/// Opens a transaction of `txn` on partition 0 of `topic` with one batch.
fn open(c: &mut RawClient, txn: &str, topic: &str, pid: i64, epoch: i16) {
    let added = retry(c, |c| {
        let resp = c
            .request(
                3,
                &AddPartitionsToTxnRequest::default()
                    .with_v3_and_below_transactional_id(s(txn).into())
                    .with_v3_and_below_producer_id(ProducerId(pid))
                    .with_v3_and_below_producer_epoch(epoch)
                    .with_v3_and_below_topics(vec![
                        AddPartitionsToTxnTopic::default()
                            .with_name(topic_name(topic))
                            .with_partitions(vec![0]),
                    ]),
            )
            .expect("AddPartitionsToTxn");
        let code =
            resp.results_by_topic_v3_and_below[0].results_by_partition[0].partition_error_code;
        (code, ())
    });
    assert_eq!(added.0, 0, "AddPartitionsToTxn");
    let batch = records::transactional_batch(
        &[TestRecord::new("k", "v", 1_700_000_000_000)],
        Idempotence {
            producer_id: pid,
            producer_epoch: epoch,
            base_sequence: 0,
        },
    )
    .expect("batch");
    let request =
        produce_request(topic, vec![(0, batch)], -1).with_transactional_id(Some(s(txn).into()));
    let resp: ProduceResponse = c.request(versions::PRODUCE, &request).expect("produce");
    assert_eq!(resp.responses[0].partition_responses[0].error_code, 0);
}

/// WriteTxnMarkers v1 of one abort marker: the code of each (topic,
/// partition) asked, in order.
fn abort_marker(
    c: &mut RawClient,
    pid: i64,
    epoch: i16,
    partitions: &[(&str, i32)],
) -> Vec<(String, i32, i16)> {
    let topics = partitions
        .iter()
        .map(|(topic, partition)| {
            WritableTxnMarkerTopic::default()
                .with_name(topic_name(topic))
                .with_partition_indexes(vec![*partition])
        })
        .collect();
    let resp: WriteTxnMarkersResponse = c
        .request(
            1,
            &WriteTxnMarkersRequest::default().with_markers(vec![
                WritableTxnMarker::default()
                    .with_producer_id(ProducerId(pid))
                    .with_producer_epoch(epoch)
                    .with_transaction_result(false)
                    .with_topics(topics)
                    .with_coordinator_epoch(0),
            ]),
        )
        .expect("WriteTxnMarkers");
    resp.markers
        .iter()
        .flat_map(|m| m.topics.iter())
        .flat_map(|t| {
            t.partitions
                .iter()
                .map(|p| (t.name.as_str().to_string(), p.partition_index, p.error_code))
        })
        .collect()
}

/// (high watermark, last stable offset) of partition 0: ListOffsets latest at
/// read_uncommitted and read_committed.
fn bounds(c: &mut RawClient, topic: &str) -> (i64, i64) {
    let latest = |c: &mut RawClient, isolation: i8| {
        let resp: ListOffsetsResponse = c
            .request(
                versions::LIST_OFFSETS,
                &ListOffsetsRequest::default()
                    .with_replica_id((-1).into())
                    .with_isolation_level(isolation)
                    .with_topics(vec![
                        ListOffsetsTopic::default()
                            .with_name(topic_name(topic))
                            .with_partitions(vec![
                                ListOffsetsPartition::default()
                                    .with_partition_index(0)
                                    .with_current_leader_epoch(-1)
                                    .with_timestamp(-1),
                            ]),
                    ]),
            )
            .expect("ListOffsets");
        resp.topics[0].partitions[0].offset
    };
    (latest(c, 0), latest(c, 1))
}

/// ListTransactions v2 with `pattern`: (code, the ids listed among `ids`).
fn list(c: &mut RawClient, pattern: Option<&str>, ids: &[&str]) -> (i16, Vec<String>) {
    let resp: ListTransactionsResponse = c
        .request(
            2,
            &ListTransactionsRequest::default()
                .with_duration_filter(-1)
                .with_transactional_id_pattern(pattern.map(s)),
        )
        .expect("ListTransactions");
    let mut listed: Vec<String> = resp
        .transaction_states
        .iter()
        .map(|t| t.transactional_id.as_str().to_string())
        .filter(|id| ids.contains(&id.as_str()))
        .collect();
    listed.sort();
    (resp.error_code, listed)
}

#[test]
fn write_txn_markers_and_list_transactions_v2_answer_as_kafka() {
    let Some((kafka, floe)) = differential::both("write_txn_markers", |addr| {
        let topic = unique_topic("markers");
        differential::create(addr, &topic, 1);
        let mut c = RawClient::connect(addr).expect("connect");
        let txn = format!("{topic}-txn");
        let find = |c: &mut RawClient| {
            let found: FindCoordinatorResponse = c
                .request(
                    3,
                    &FindCoordinatorRequest::default()
                        .with_key_type(1)
                        .with_key(s(&txn)),
                )
                .expect("FindCoordinator");
            (found.error_code, ())
        };
        assert_eq!(retry(&mut c, find).0, 0, "FindCoordinator");
        let (code, (pid, epoch)) = retry(&mut c, |c| init(c, &txn));
        assert_eq!((code, epoch), (0, 0), "InitProducerId");
        open(&mut c, &txn, &topic, pid, epoch);
        let open_bounds = bounds(&mut c, &topic);

        let mut answers = vec![format!("open: {open_bounds:?}")];
        // The abort marker ends it; an unknown partition and topic are refused.
        let mut codes = abort_marker(
            &mut c,
            pid,
            epoch,
            &[(&topic, 0), (&topic, 7), ("no-such-topic-markers", 0)],
        );
        // Kafka answers the topics in no particular order.
        codes.sort();
        answers.push(format!("abort: {codes:?}"));
        answers.push(format!("after abort: {:?}", bounds(&mut c, &topic)));

        // A new epoch's transaction is not ended by a marker of the old one.
        let (code, (again, epoch)) = retry(&mut c, |c| init(c, &txn));
        assert_eq!((code, again), (0, pid), "InitProducerId again");
        open(&mut c, &txn, &topic, pid, epoch);
        let stale = abort_marker(&mut c, pid, epoch - 1, &[(&topic, 0)]);
        answers.push(format!("stale marker: {:?}", stale[0].2));
        let (hw, lso) = bounds(&mut c, &topic);
        answers.push(format!("still open: {}", lso < hw));
        let current = abort_marker(&mut c, pid, epoch, &[(&topic, 0)]);
        answers.push(format!("current marker: {:?}", current[0].2));
        let (hw, lso) = bounds(&mut c, &topic);
        answers.push(format!("ended: {}", lso == hw));

        // ListTransactions v2: whole-id patterns; an invalid one refused.
        let ids = [txn.as_str()];
        let whole = format!("{topic}-t.*");
        answers.push(format!("pattern: {:?}", list(&mut c, Some(&whole), &ids)));
        answers.push(format!("prefix: {:?}", list(&mut c, Some("markers"), &ids)));
        answers.push(format!("empty: {:?}", list(&mut c, Some(""), &ids)));
        answers.push(format!("null: {:?}", list(&mut c, None, &ids).0));
        answers.push(format!("invalid: {:?}", list(&mut c, Some("(["), &ids).0));
        answers
            .into_iter()
            .map(|a| a.replace(&topic, "TOPIC"))
            .collect::<Vec<_>>()
    }) else {
        return;
    };
    eprintln!("Kafka: {kafka:#?}");
    assert!(
        kafka.contains(
            &"abort: [(\"TOPIC\", 0, 0), (\"TOPIC\", 7, 3), (\"no-such-topic-markers\", 0, 3)]"
                .to_string()
        ),
        "the abort is written, unknown partitions refused: {kafka:?}"
    );
    assert_eq!(floe, kafka);
}
