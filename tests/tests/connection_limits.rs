//! Connection limits and memory bounds, seen from the wire: refused and closed
//! connections, a huge frame header that costs nothing until its bytes arrive, and
//! a client that never reads its answers while others are served as usual.

use std::net::TcpStream;
use std::process::Command;
use std::thread::sleep;
use std::time::{Duration, Instant};

use floe_tests::raw::{self, RawClient, check_serving, versions};
use floe_tests::records;
use floe_tests::{Agent, unique_topic};
use kafka_protocol::messages::FetchRequest;
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};

/// Reads one metric (all label sets summed), 0 when it has no sample yet.
fn metric(agent: &Agent, name: &str) -> f64 {
    let text = agent.metrics().expect("GET /metrics");
    floe_tests::metrics::sum(&text, name).unwrap_or(0.0)
}

/// Polls `metric` until `done` holds (or a generous deadline passes); returns the
/// last value. Waiting is not a timing assertion: the caller asserts the value.
fn wait_for_metric(agent: &Agent, name: &str, done: impl Fn(f64) -> bool) -> f64 {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let value = metric(agent, name);
        if done(value) || Instant::now() > deadline {
            return value;
        }
        sleep(Duration::from_millis(50));
    }
}

fn connect(agent: &Agent) -> RawClient {
    RawClient::connect(agent.kafka_addr()).expect("connect")
}

/// A connection that is served: ApiVersions answers with no error.
fn served(agent: &Agent) -> RawClient {
    let mut client = connect(agent);
    let answer = client
        .api_versions(versions::API_VERSIONS)
        .expect("ApiVersions");
    assert_eq!(answer.error_code, 0);
    client
}

/// Retries `check_serving` while earlier connections are still being released.
fn eventually_serving(agent: &Agent) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while let Err(e) = check_serving(agent.kafka_addr()) {
        assert!(
            Instant::now() < deadline,
            "agent does not serve again: {e:#}"
        );
        sleep(Duration::from_millis(50));
    }
}

#[test]
fn connections_over_the_per_ip_limit_are_closed_and_counted() {
    let agent = Agent::builder()
        .arg("--max-connections-per-ip=3")
        .start()
        .expect("start agent");
    let open: Vec<RawClient> = (0..3).map(|_| served(&agent)).collect();
    let mut fourth = connect(&agent);
    fourth
        .expect_closed()
        .expect("a fourth connection from one address must be closed at once");
    assert_eq!(
        metric(&agent, "floe_connections_refused_total"),
        1.0,
        "the refusal is counted"
    );
    let text = agent.metrics().expect("metrics");
    assert!(
        text.contains("floe_connections_refused_total{reason=\"per_ip\"} 1"),
        "{text}"
    );
    drop(open);
    // The places are free again once the agent saw the closes.
    eventually_serving(&agent);
    let _again: Vec<RawClient> = (0..3).map(|_| served(&agent)).collect();
}

#[test]
fn connections_over_the_total_limit_are_closed() {
    let agent = Agent::builder()
        .arg("--max-connections=2")
        .start()
        .expect("start agent");
    let _open: Vec<RawClient> = (0..2).map(|_| served(&agent)).collect();
    connect(&agent)
        .expect_closed()
        .expect("a third connection must be closed at once");
    let text = agent.metrics().expect("metrics");
    assert!(
        text.contains("floe_connections_refused_total{reason=\"total\"} 1"),
        "{text}"
    );
}

#[test]
fn idle_connections_are_closed_but_not_while_a_long_poll_runs() {
    let agent = Agent::builder()
        .arg("--connections-max-idle-ms=300")
        .start()
        .expect("start agent");
    let topic = unique_topic("idle");
    let mut client = served(&agent);
    client.create_topic(&topic, 1).expect("create topic");
    // A Fetch waiting 1.5 s for data is a request in progress: it is answered,
    // not cut off at 300 ms.
    let answer = client
        .fetch(&topic, 0, 0, 1_500)
        .expect("long poll answered");
    assert_eq!(answer.error_code, 0);
    assert!(records::decode(answer.records.as_ref()).unwrap().is_empty());
    // Then nothing is sent: the agent closes the connection.
    client
        .expect_closed()
        .expect("an idle connection must be closed");
    assert_eq!(
        wait_for_metric(&agent, "floe_connections_closed_total", |v| v >= 1.0),
        1.0
    );
    assert!(
        agent
            .metrics()
            .unwrap()
            .contains("floe_connections_closed_total{reason=\"idle\"} 1")
    );
}

#[test]
fn a_frame_that_dribbles_in_is_cut_off_and_its_memory_returned() {
    let agent = Agent::builder()
        .arg("--frame-read-timeout-ms=500")
        .start()
        .expect("start agent");
    let mut slow = connect(&agent);
    let mut partial = 1000i32.to_be_bytes().to_vec();
    partial.extend_from_slice(&[0u8; 10]);
    slow.send_raw(&partial).expect("send part of a frame");
    slow.expect_closed()
        .expect("a frame that does not arrive in time closes the connection");
    assert!(
        agent
            .metrics()
            .unwrap()
            .contains("floe_connections_closed_total{reason=\"frame_timeout\"} 1")
    );
    assert_eq!(
        wait_for_metric(&agent, "floe_request_pool_bytes", |v| v == 0.0),
        0.0
    );
    check_serving(agent.kafka_addr()).expect("still serving");
}

#[test]
fn huge_frame_headers_reserve_only_the_bytes_that_arrived() {
    let agent = Agent::start().expect("start agent");
    const CLIENTS: usize = 20;
    const SENT: usize = 256 * 1024;
    // Each announces 100 MiB (the default limit, so it is accepted and awaited)
    // but sends only 256 KiB of it.
    let mut clients = Vec::new();
    for _ in 0..CLIENTS {
        let mut client = connect(&agent);
        let mut start = (100i32 * 1024 * 1024).to_be_bytes().to_vec();
        start.extend_from_slice(&vec![0u8; SENT]);
        client.send_raw(&start).expect("send the start of a frame");
        clients.push(client);
    }
    let all_sent = (CLIENTS * SENT) as f64;
    let reserved = wait_for_metric(&agent, "floe_request_pool_bytes", |v| v >= all_sent);
    assert!(
        reserved >= all_sent,
        "the bytes received are reserved: {reserved}"
    );
    assert!(
        reserved <= all_sent * 2.5,
        "no more than the bytes received (and room to read): {reserved} for {all_sent}"
    );
    // Far below 20 × 100 MiB, and everyone else is served as usual.
    check_serving(agent.kafka_addr()).expect("still serving");
    drop(clients);
    assert_eq!(
        wait_for_metric(&agent, "floe_request_pool_bytes", |v| v == 0.0),
        0.0,
        "closed connections give their memory back"
    );
}

/// A Fetch of everything in `topic`/0, up to 16 MiB.
fn big_fetch(topic: &str) -> FetchRequest {
    FetchRequest::default()
        .with_replica_id((-1).into())
        .with_max_wait_ms(0)
        .with_min_bytes(1)
        .with_max_bytes(64 * 1024 * 1024)
        .with_session_id(0)
        .with_session_epoch(-1)
        .with_topics(vec![
            FetchTopic::default()
                .with_topic(raw::topic_name(topic))
                .with_partitions(vec![
                    FetchPartition::default()
                        .with_partition(0)
                        .with_current_leader_epoch(-1)
                        .with_fetch_offset(0)
                        .with_last_fetched_epoch(-1)
                        .with_log_start_offset(-1)
                        .with_partition_max_bytes(16 * 1024 * 1024),
                ]),
        ])
}

#[test]
fn a_client_that_never_reads_is_not_read_from_and_others_are_served() {
    let agent = Agent::builder()
        .arg("--max-queued-response-bytes=1048576")
        .arg("--response-write-timeout-ms=2000")
        .start()
        .expect("start agent");
    let big = unique_topic("big");
    let mut producer = served(&agent);
    producer.create_topic(&big, 1).expect("create topic");
    // Just under Kafka's default max.message.bytes (1,048,588) with the
    // batch's overhead.
    let value = "v".repeat(1_000_000);
    for _ in 0..16 {
        let batch = records::simple_batch(&[value.as_str()], 1_700_000_000_000).unwrap();
        assert_eq!(producer.produce_one(&big, 0, batch).unwrap().error_code, 0);
    }

    // 200 pipelined fetches of 16 MiB each, and not one answer read.
    let fetches_before = metric(&agent, "floe_fetch_requests_total");
    let mut stalled = connect(&agent);
    for _ in 0..200 {
        stalled
            .send_request(versions::FETCH, &big_fetch(&big))
            .expect("send fetch");
    }

    // Meanwhile another client produces and consumes as usual.
    let topic = unique_topic("normal");
    let mut normal = served(&agent);
    normal.create_topic(&topic, 1).expect("create topic");
    for i in 0..20 {
        let v = format!("record-{i}");
        let batch = records::simple_batch(&[v.as_str()], 1_700_000_000_000).unwrap();
        assert_eq!(normal.produce_one(&topic, 0, batch).unwrap().error_code, 0);
    }
    let (consumed, _) = normal.fetch_all(&topic, 0, 20).expect("consume");
    let expected: Vec<String> = (0..20).map(|i| format!("record-{i}")).collect();
    assert_eq!(records::values(&consumed), expected, "nothing lost");
    let normal_fetches = metric(&agent, "floe_fetch_requests_total") - fetches_before;

    // The stalled client's writes make no progress: it is closed.
    assert_eq!(
        wait_for_metric(&agent, "floe_connections_closed_total", |v| v >= 1.0),
        1.0
    );
    assert!(
        agent
            .metrics()
            .unwrap()
            .contains("floe_connections_closed_total{reason=\"write_timeout\"} 1")
    );
    let stalled_fetches = metric(&agent, "floe_fetch_requests_total") - fetches_before;
    // Reading stopped after a few fetches (at most 4 unanswered at a time):
    // not 200 answers of 16 MiB.
    // The normal client's fetch_all needs one or two fetches.
    assert!(
        stalled_fetches < 50.0,
        "the stalled client's requests must not all be read: {stalled_fetches} fetches \
         served, {normal_fetches} of them by the time the normal client was done"
    );
    assert_eq!(
        wait_for_metric(&agent, "floe_queued_response_bytes", |v| v == 0.0),
        0.0,
        "closing the stalled connection drops its queued answers"
    );
    drop(stalled);
    check_serving(agent.kafka_addr()).expect("still serving");
}

/// Descriptors the process `pid` has open.
fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| d.count())
        .unwrap_or(0)
}

fn set_fd_limit(pid: u32, soft: usize) {
    let status = Command::new("prlimit")
        .arg(format!("--pid={pid}"))
        .arg(format!("--nofile={soft}:"))
        .status()
        .expect("run prlimit");
    assert!(status.success(), "prlimit failed");
}

#[test]
fn accept_backs_off_while_out_of_file_descriptors() {
    if Command::new("prlimit").arg("--version").output().is_err() {
        eprintln!("prlimit is not installed; skipping");
        return;
    }
    let agent = Agent::start().expect("start agent");
    let pid = agent.pid().expect("agent pid");
    let keep = served(&agent);
    let limit = open_fds(pid) + 3;
    set_fd_limit(pid, limit);
    // More connections than descriptors: the kernel completes their handshakes,
    // the agent's accept() fails with EMFILE while they wait in the backlog.
    let waiting: Vec<TcpStream> = (0..10)
        .map(|_| TcpStream::connect(agent.kafka_addr()).expect("connect"))
        .collect();
    let errors_seen = Instant::now();
    while open_fds(pid) < limit && errors_seen.elapsed() < Duration::from_secs(10) {
        sleep(Duration::from_millis(20));
    }
    sleep(Duration::from_secs(2));
    drop(waiting);
    drop(keep);
    set_fd_limit(pid, 20_000);
    eventually_serving(&agent);
    let errors = metric(&agent, "floe_accept_errors_total");
    assert!(errors >= 1.0, "accept must have failed with EMFILE");
    // Spinning on the error fails accept() hundreds of thousands of times a
    // second; backing off (10 ms doubling to 1 s) a handful of times.
    assert!(
        errors < 100.0,
        "accept errors must be backed off, not spun on: {errors}"
    );
}
