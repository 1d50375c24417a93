//! SIGTERM makes an agent leave the cluster first: Metadata answers (its own
//! and the other agents') stop naming it and `/readyz` fails, while it still
//! serves the clients connected to it for the drain period; then it flushes
//! and exits 0.

use std::time::Duration;

use floe_tests::records;
use floe_tests::{Cluster, RawClient, unique_topic};
use nix::sys::signal::Signal;

/// Long enough that the checks below run inside it, even on a loaded machine.
const DRAIN_MS: &str = "10000";
/// How long the agents may take to stop naming the leaving one (the other
/// agent refreshes its view every heartbeat, 1 s).
const LEAVE_BOUND: Duration = Duration::from_secs(6);

#[test]
fn a_stopping_agent_leaves_first_and_serves_while_it_drains() {
    let mut cluster = Cluster::builder("drain")
        .agents(2)
        .arg("--shutdown-drain-ms")
        .arg(DRAIN_MS)
        .start()
        .expect("start cluster");
    let topic = unique_topic("drain");
    let mut client = RawClient::connect(cluster.agent(0).kafka_addr()).expect("connect");
    assert_eq!(client.create_topic(&topic, 1).expect("create"), 0);

    cluster
        .agent_mut(0)
        .send_signal(Signal::SIGTERM)
        .expect("SIGTERM");
    // Both agents stop naming agent 0 at once...
    cluster
        .wait_for_brokers(&[0, 1], &[1], LEAVE_BOUND)
        .expect("agent 0 left the brokers list");
    let ready = cluster.agent(0).http_get("/readyz").expect("readyz");
    assert_eq!(ready.status, 503, "a draining agent is not ready");
    // ...while agent 0 still serves the client connected to it.
    let batch = records::simple_batch(&["during the drain"], 1_000).expect("batch");
    let written = client.produce_one(&topic, 0, batch).expect("produce");
    assert_eq!((written.error_code, written.base_offset), (0, 0));

    let status = cluster.agent_mut(0).wait_exit().expect("exit");
    cluster
        .agent(0)
        .ensure_clean_exit(status, "SIGTERM")
        .expect("clean exit");
    // The record is there for the agent that stays.
    let mut other = RawClient::connect(cluster.agent(1).kafka_addr()).expect("connect");
    let read = other.fetch(&topic, 0, 0, 1_000).expect("fetch");
    let values = records::values(&records::decode(read.records.as_ref()).expect("decode"));
    assert_eq!(values, vec!["during the drain".to_string()]);
}
