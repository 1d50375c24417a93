//! The agent as an operator sees it: HTTP health and metrics, graceful stop on SIGTERM
//! and SIGINT, crashes (SIGKILL) and restarts on the same data directory.

use std::thread;
use std::time::Duration;

use floe_tests::raw::{self, RawClient, versions};
use floe_tests::records;
use floe_tests::{Agent, unique_topic};
use kafka_protocol::messages::ProduceRequest;
use nix::sys::signal::Signal;

fn fetch_values(agent: &Agent, topic: &str) -> Vec<String> {
    let mut client = RawClient::connect(agent.kafka_addr()).expect("connect");
    let data = client.fetch(topic, 0, 0, 0).expect("fetch");
    assert_eq!(data.error_code, 0, "fetch error");
    let fetched = records::decode(data.records.as_ref()).expect("decode");
    assert_eq!(
        fetched.iter().map(|r| r.offset).collect::<Vec<_>>(),
        (0..fetched.len() as i64).collect::<Vec<_>>(),
        "offsets"
    );
    records::values(&fetched)
}

#[test]
fn health_readiness_and_metrics() {
    let agent = Agent::start().expect("start agent");
    for path in ["/healthz", "/readyz"] {
        let answer = agent.http_get(path).expect("GET");
        assert_eq!(answer.status, 200, "GET {path}: {}", answer.body);
    }

    let topic = unique_topic("metrics");
    let mut client = RawClient::connect(agent.kafka_addr()).expect("connect");
    let batch = records::simple_batch(&["one", "two"], 1_700_000_000_000).expect("batch");
    let produced = client
        .produce_one(&topic, 0, batch.clone())
        .expect("produce");
    assert_eq!(produced.error_code, 0);
    assert_eq!(fetch_values(&agent, &topic), ["one", "two"]);

    let text = agent.metrics().expect("GET /metrics");
    let value = |name: &str| {
        floe_tests::metrics::sum(&text, name)
            .unwrap_or_else(|| panic!("no metric {name} in /metrics:\n{text}"))
    };
    assert!(
        value("floe_produce_requests_total") >= 1.0,
        "produce requests"
    );
    assert!(
        value("floe_produce_bytes_total") >= batch.len() as f64,
        "produce bytes (one batch of {} bytes)",
        batch.len()
    );
    assert!(value("floe_fetch_requests_total") >= 1.0, "fetch requests");
    assert!(value("floe_fetch_bytes_total") > 0.0, "fetch bytes");
}

#[test]
fn sigterm_flushes_pending_produce_and_answers_the_producer() {
    // Nothing is flushed by time or size during the test: only the stop flushes.
    let mut agent = Agent::builder()
        .flush_interval_ms(600_000)
        .flush_bytes(32 << 20)
        .start()
        .expect("start agent");
    let topic = unique_topic("sigterm");
    let mut client = RawClient::connect(agent.kafka_addr()).expect("connect");
    client
        .metadata(Some(&[&topic]), true)
        .expect("create the topic");

    let batch = records::simple_batch(&["pending"], 1_700_000_000_000).expect("batch");
    let request: ProduceRequest = raw::produce_request(&topic, vec![(0, batch)], -1);
    let correlation_id = client
        .send_request(versions::PRODUCE, &request)
        .expect("send produce");
    // Let the agent take the request into its pending segment before the signal.
    agent
        .wait_for_metric("floe_produce_requests_total", 1.0, Duration::from_secs(30))
        .expect("the agent received the produce request");
    thread::sleep(Duration::from_millis(500));
    agent.send_signal(Signal::SIGTERM).expect("SIGTERM");

    let answer = client
        .receive_response::<ProduceRequest>(correlation_id, versions::PRODUCE)
        .expect("the waiting producer gets an answer on shutdown");
    drop(client);
    let status = agent.wait_exit().expect("agent exits after SIGTERM");
    agent
        .ensure_clean_exit(status, "SIGTERM")
        .expect("exit code 0");

    let partition = &answer.responses[0].partition_responses[0];
    assert_eq!(
        (partition.error_code, partition.base_offset),
        (0, 0),
        "the pending produce was flushed and acknowledged"
    );

    agent.restart().expect("restart");
    assert_eq!(fetch_values(&agent, &topic), ["pending"]);
}

#[test]
fn sigint_stops_cleanly_and_data_survives() {
    let mut agent = Agent::start().expect("start agent");
    let topic = unique_topic("sigint");
    let mut client = RawClient::connect(agent.kafka_addr()).expect("connect");
    let batch = records::simple_batch(&["a", "b"], 1_700_000_000_000).expect("batch");
    assert_eq!(
        client
            .produce_one(&topic, 0, batch)
            .expect("produce")
            .error_code,
        0
    );
    drop(client);

    agent
        .stop_with(Signal::SIGINT)
        .expect("clean exit on SIGINT");
    agent.restart().expect("restart");
    assert_eq!(fetch_values(&agent, &topic), ["a", "b"]);
    agent.stop().expect("clean exit on SIGTERM");
    assert!(
        agent.stray_files().expect("list").is_empty(),
        "agent wrote outside its data dir: {:?}",
        agent.stray_files()
    );
}

#[test]
fn acknowledged_writes_survive_sigkill() {
    let mut agent = Agent::start().expect("start agent");
    let topic = unique_topic("sigkill");
    let mut client = RawClient::connect(agent.kafka_addr()).expect("connect");
    let mut expected = Vec::new();
    for i in 0..5 {
        let values = [format!("r{i}-a"), format!("r{i}-b")];
        let refs: Vec<&str> = values.iter().map(String::as_str).collect();
        let batch = records::simple_batch(&refs, 1_700_000_000_000).expect("batch");
        let answer = client.produce_one(&topic, 0, batch).expect("produce");
        assert_eq!(
            (answer.error_code, answer.base_offset),
            (0, 2 * i),
            "batch {i}"
        );
        expected.extend(values);
    }
    drop(client);

    agent.kill().expect("SIGKILL");
    agent.restart().expect("restart after a crash");
    assert_eq!(
        fetch_values(&agent, &topic),
        expected,
        "acknowledged records"
    );

    // Offsets go on where they stopped.
    let mut client = RawClient::connect(agent.kafka_addr()).expect("connect");
    let batch = records::simple_batch(&["after"], 1_700_000_000_000).expect("batch");
    let answer = client.produce_one(&topic, 0, batch).expect("produce");
    assert_eq!((answer.error_code, answer.base_offset), (0, 10));
}
