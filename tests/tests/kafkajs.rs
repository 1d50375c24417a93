//! KafkaJS 2.2 against an agent on the embedded default: admin, produce with keys,
//! headers and gzip, a consumer group reading every message once in order, committed
//! and topic offsets, group state, resuming from commits, and topic deletion (see
//! `tests/js/kafkajs_scenarios.js`). KafkaJS encodes the protocol itself, so it
//! checks Floe's answers against a codec other than librdkafka's and the Python ones.

use floe_tests::{Agent, node, unique_topic};

#[test]
fn kafkajs_produces_consumes_in_a_group_and_administers_topics() {
    let agent = Agent::start().expect("start agent");
    let topic = unique_topic("kafkajs");
    let out = node::run_script("kafkajs_scenarios.js", &agent.bootstrap(), &[&topic])
        .unwrap_or_else(|e| panic!("kafkajs_scenarios.js: {e:#}\n{}", agent.log()));
    eprintln!("{}", out.stdout);
}
