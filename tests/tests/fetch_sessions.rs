//! Incremental fetch sessions (KIP-227) over raw frames: a session walked
//! from creation to close, as the Java client drives it, with the exact
//! answers a client sees at each step.

use bytes::Bytes;
use floe_tests::raw::{RawClient, decode_response, encode_request, header, topic_name, versions};
use floe_tests::records;
use floe_tests::{Agent, python, unique_topic};
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic, ForgottenTopic};
use kafka_protocol::messages::fetch_response::PartitionData;
use kafka_protocol::messages::{FetchRequest, FetchResponse};
use kafka_protocol::protocol::HeaderVersion;

const NONE: i16 = 0;
const FETCH_SESSION_ID_NOT_FOUND: i16 = 70;
const INVALID_FETCH_SESSION_EPOCH: i16 = 71;

fn batch(values: &[&str]) -> Bytes {
    records::simple_batch(values, 1_700_000_000_000).expect("batch")
}

fn partition(index: i32, offset: i64) -> FetchPartition {
    FetchPartition::default()
        .with_partition(index)
        .with_current_leader_epoch(-1)
        .with_fetch_offset(offset)
        .with_last_fetched_epoch(-1)
        .with_log_start_offset(-1)
        .with_partition_max_bytes(1024 * 1024)
}

/// A Fetch of `topics` (name, [(partition, offset)]) in session `id` at
/// `epoch`, waiting at most `wait_ms` for one byte.
fn request(id: i32, epoch: i32, topics: &[(&str, &[(i32, i64)])], wait_ms: i32) -> FetchRequest {
    FetchRequest::default()
        .with_replica_id((-1).into())
        .with_max_wait_ms(wait_ms)
        .with_min_bytes(1)
        .with_max_bytes(16 * 1024 * 1024)
        .with_session_id(id)
        .with_session_epoch(epoch)
        .with_topics(
            topics
                .iter()
                .map(|(name, parts)| {
                    FetchTopic::default()
                        .with_topic(topic_name(name))
                        .with_partitions(parts.iter().map(|(p, o)| partition(*p, *o)).collect())
                })
                .collect(),
        )
}

fn fetch(client: &mut RawClient, request: &FetchRequest) -> FetchResponse {
    client
        .request(versions::FETCH, request)
        .expect("fetch response")
}

/// The partitions of an answer as (topic, partition, high watermark,
/// record values), sorted.
fn seen(response: &FetchResponse) -> Vec<(String, i32, i64, Vec<String>)> {
    let mut out: Vec<_> = response
        .responses
        .iter()
        .flat_map(|t| {
            t.partitions.iter().map(|p: &PartitionData| {
                assert_eq!(p.error_code, NONE, "{}/{}", t.topic.0, p.partition_index);
                let values =
                    records::values(&records::decode(p.records.as_ref()).expect("records"));
                (
                    t.topic.0.to_string(),
                    p.partition_index,
                    p.high_watermark,
                    values,
                )
            })
        })
        .collect();
    out.sort();
    out
}

fn sessions_open(agent: &Agent) -> f64 {
    agent
        .metric("floe_fetch_sessions")
        .expect("metrics")
        .unwrap_or(0.0)
}

#[test]
fn a_session_from_creation_to_close() {
    let agent = Agent::start().expect("start agent");
    let mut client = RawClient::connect(agent.kafka_addr()).expect("connect");
    let a = unique_topic("session-a");
    let b = unique_topic("session-b");
    assert_eq!(client.create_topic(&a, 2).expect("create"), NONE);
    assert_eq!(client.create_topic(&b, 2).expect("create"), NONE);
    let produced = client
        .produce_one(&a, 0, batch(&["a0", "a1"]))
        .expect("produce");
    assert_eq!(produced.error_code, NONE);

    // Full request, epoch 0: every partition answered, a session created.
    let full = fetch(
        &mut client,
        &request(0, 0, &[(&a, &[(0, 0), (1, 0)]), (&b, &[(0, 0), (1, 0)])], 0),
    );
    assert_eq!(full.error_code, NONE);
    let id = full.session_id;
    assert!(id > 0, "a session id, got {id}");
    assert_eq!(
        seen(&full),
        vec![
            (a.clone(), 0, 2, vec!["a0".into(), "a1".into()]),
            (a.clone(), 1, 0, vec![]),
            (b.clone(), 0, 0, vec![]),
            (b.clone(), 1, 0, vec![]),
        ]
    );
    assert_eq!(sessions_open(&agent), 1.0);

    // Epoch 1 moves a/0 past what it read; nothing else changed: an empty
    // answer once the wait is over.
    let idle = fetch(&mut client, &request(id, 1, &[(&a, &[(0, 2)])], 200));
    assert_eq!((idle.error_code, idle.session_id), (NONE, id));
    assert!(idle.responses.is_empty(), "{:?}", idle.responses);

    // A record on b/1: only b/1 comes back, with it (the long poll wakes).
    client.produce_one(&b, 1, batch(&["b1"])).expect("produce");
    let news = fetch(&mut client, &request(id, 2, &[], 10_000));
    assert_eq!((news.error_code, news.session_id), (NONE, id));
    assert_eq!(seen(&news), vec![(b.clone(), 1, 1, vec!["b1".into()])]);

    // Forget topic b (its b/1 moves again meanwhile): b is no longer read.
    client.produce_one(&b, 1, batch(&["b2"])).expect("produce");
    let forget = request(id, 3, &[], 200).with_forgotten_topics_data(vec![
        ForgottenTopic::default()
            .with_topic(topic_name(&b))
            .with_partitions(vec![0, 1]),
    ]);
    let forgot = fetch(&mut client, &forget);
    assert_eq!((forgot.error_code, forgot.session_id), (NONE, id));
    assert!(forgot.responses.is_empty(), "{:?}", forgot.responses);

    // A wrong epoch is refused, and changes nothing.
    let bad = fetch(&mut client, &request(id, 9, &[], 0));
    assert_eq!(
        (bad.error_code, bad.session_id, bad.responses.len()),
        (INVALID_FETCH_SESSION_EPOCH, 0, 0)
    );
    // An unknown session id too.
    let unknown = id.checked_add(1).unwrap_or(1);
    let missing = fetch(&mut client, &request(unknown, 1, &[], 0));
    assert_eq!(
        (missing.error_code, missing.session_id),
        (FETCH_SESSION_ID_NOT_FOUND, 0)
    );

    // The session still answers at epoch 4: a/1 gets a record.
    client
        .produce_one(&a, 1, batch(&["a1-0"]))
        .expect("produce");
    let still = fetch(&mut client, &request(id, 4, &[], 10_000));
    assert_eq!(still.session_id, id);
    assert_eq!(seen(&still), vec![(a.clone(), 1, 1, vec!["a1-0".into()])]);

    // Epoch -1 closes it: answered alone, session id 0; the id is gone.
    let close = fetch(&mut client, &request(id, -1, &[(&a, &[(0, 0)])], 0));
    assert_eq!((close.error_code, close.session_id), (NONE, 0));
    assert_eq!(
        seen(&close),
        vec![(a.clone(), 0, 2, vec!["a0".into(), "a1".into()])]
    );
    let after = fetch(&mut client, &request(id, 5, &[], 0));
    assert_eq!(after.error_code, FETCH_SESSION_ID_NOT_FOUND);
    assert_eq!(sessions_open(&agent), 0.0);
}

#[test]
fn a_sessionless_client_and_a_cache_of_no_slots_get_no_session() {
    let agent = Agent::builder()
        .arg("--max-incremental-fetch-session-cache-slots=0")
        .start()
        .expect("start agent");
    let mut client = RawClient::connect(agent.kafka_addr()).expect("connect");
    let topic = unique_topic("session-none");
    assert_eq!(client.create_topic(&topic, 1).expect("create"), NONE);
    for epoch in [0, -1] {
        let answer = fetch(&mut client, &request(0, epoch, &[(&topic, &[(0, 0)])], 0));
        assert_eq!(
            (answer.error_code, answer.session_id),
            (NONE, 0),
            "epoch {epoch}"
        );
        assert_eq!(seen(&answer), vec![(topic.clone(), 0, 0, vec![])]);
    }
    assert_eq!(sessions_open(&agent), 0.0);
}

/// Request and response frame sizes of one Fetch at v12 (size prefix
/// excluded), and the response.
fn sized(client: &mut RawClient, request: &FetchRequest) -> (usize, usize, FetchResponse) {
    let header = header(1, versions::FETCH, 1);
    let sent = encode_request(
        &header,
        FetchRequest::header_version(versions::FETCH),
        request,
        versions::FETCH,
    )
    .expect("encode")
    .len();
    let id = client.send_request(versions::FETCH, request).expect("send");
    let frame = client.read_frame().expect("read").expect("a response");
    let len = frame.len();
    let response = decode_response(frame, id, versions::FETCH).expect("decode");
    (sent, len, response)
}

/// What an idle consumer of 1,000 partitions costs per poll, without and
/// with a session: the incremental answer carries no partition at all.
#[test]
fn an_idle_consumer_of_a_thousand_partitions_polls_in_a_few_bytes() {
    let agent = Agent::start().expect("start agent");
    let mut client = RawClient::connect(agent.kafka_addr()).expect("connect");
    let topic = unique_topic("session-idle");
    assert_eq!(client.create_topic(&topic, 1000).expect("create"), NONE);
    let all: Vec<(i32, i64)> = (0..1000).map(|p| (p, 0)).collect();

    let (full_req, full_resp, full) = sized(&mut client, &request(0, -1, &[(&topic, &all)], 0));
    assert_eq!(full.session_id, 0);
    assert_eq!(seen(&full).len(), 1000);

    let (_, _, created) = sized(&mut client, &request(0, 0, &[(&topic, &all)], 0));
    let id = created.session_id;
    assert!(id > 0);
    let (inc_req, inc_resp, idle) = sized(&mut client, &request(id, 1, &[], 0));
    assert_eq!((idle.error_code, idle.session_id), (NONE, id));
    assert!(idle.responses.is_empty());
    println!(
        "idle poll of 1000 partitions, Fetch v12: without a session request {full_req} B, \
         response {full_resp} B; with a session request {inc_req} B, response {inc_resp} B"
    );
    assert!(
        inc_resp < 32,
        "an idle incremental answer is a header: {inc_resp} B"
    );
    assert!(
        full_resp > 1000 * 30,
        "a full answer names every partition: {full_resp} B"
    );
}

/// The value of one series (`name{labels}`) of the agent's metrics.
fn series(agent: &Agent, series: &str) -> f64 {
    let text = agent.metrics().expect("metrics");
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
        .unwrap_or(0.0)
}

/// Runs `many_partitions.py` with `client`; returns the Fetch requests by
/// session kind and the session errors the agent answered.
fn many_partitions(client: &str) -> (f64, f64, f64) {
    let agent = Agent::start().expect("start agent");
    let topic = unique_topic("session-many");
    python::run_script(
        "many_partitions.py",
        &agent.bootstrap(),
        &[&topic, client, "200", "4000"],
    )
    .expect("many_partitions.py");
    let kind = |k: &str| {
        series(
            &agent,
            &format!("floe_fetch_session_requests_total{{kind=\"{k}\"}}"),
        )
    };
    let refused = series(
        &agent,
        "floe_request_errors_total{api=\"Fetch\",code=\"70\"}",
    ) + series(
        &agent,
        "floe_request_errors_total{api=\"Fetch\",code=\"71\"}",
    );
    (kind("incremental"), kind("sessionless"), refused)
}

/// kafka-python keeps a session: it reads 200 partitions with incremental
/// fetches, every record exactly once, while records keep arriving.
#[test]
fn kafka_python_reads_many_partitions_exactly_once_through_a_session() {
    let (incremental, _, refused) = many_partitions("kafka-python");
    assert!(incremental > 0.0, "kafka-python sent no incremental fetch");
    assert_eq!(refused, 0.0, "session errors answered");
}

/// librdkafka (confluent-kafka 2.16) asks for no session (its fetches are
/// answered in full, as before sessions existed) and reads everything
/// exactly once too.
#[test]
fn confluent_kafka_reads_many_partitions_exactly_once() {
    let (_, _, refused) = many_partitions("confluent");
    assert_eq!(refused, 0.0, "session errors answered");
}

/// Sessions belong to the agent that made them: the same session id sent
/// to another agent (a client reconnected elsewhere) is not found, and a
/// full request there starts a new one.
#[test]
fn a_session_is_unknown_to_another_agent() {
    let first = Agent::start().expect("start agent");
    let second = Agent::start().expect("start agent");
    let topic = unique_topic("session-elsewhere");
    let mut a = RawClient::connect(first.kafka_addr()).expect("connect");
    let mut b = RawClient::connect(second.kafka_addr()).expect("connect");
    assert_eq!(a.create_topic(&topic, 1).expect("create"), NONE);
    assert_eq!(b.create_topic(&topic, 1).expect("create"), NONE);
    let id = fetch(&mut a, &request(0, 0, &[(&topic, &[(0, 0)])], 0)).session_id;
    assert!(id > 0);
    let elsewhere = fetch(&mut b, &request(id, 1, &[], 0));
    assert_eq!(
        (elsewhere.error_code, elsewhere.session_id),
        (FETCH_SESSION_ID_NOT_FOUND, 0)
    );
    let restarted = fetch(&mut b, &request(0, 0, &[(&topic, &[(0, 0)])], 0));
    assert!(restarted.session_id > 0);
    assert_eq!(seen(&restarted), vec![(topic.clone(), 0, 0, vec![])]);
}
