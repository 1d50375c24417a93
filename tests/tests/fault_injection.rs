//! Faults injected between a real client and a real agent.

use floe_tests::{Agent, FaultProxy, python, unique_topic};

/// An idempotent producer whose Produce answers are lost after the agent
/// committed the records (the connection drops before the answer arrives)
/// retries them, and the commit's sequence check answers the retries with the
/// original offsets: every record is stored exactly once, offsets contiguous.
#[test]
fn idempotent_producer_retrying_after_lost_answers_writes_no_duplicate() {
    // The agent advertises the proxy, so that every client connection,
    // bootstrap or not, goes through it.
    let proxy = FaultProxy::start(3).expect("proxy");
    let agent = Agent::builder()
        .advertised_addr(proxy.addr().to_string())
        .start()
        .expect("start agent");
    proxy.set_upstream(agent.kafka_addr());
    let topic = unique_topic("fault-idempotent");
    // idempotent.py checks that every record is stored once, in order, at the
    // offset its delivery report gave.
    python::run_script("idempotent.py", &proxy.addr().to_string(), &[&topic]).unwrap_or_else(|e| {
        panic!(
            "idempotent.py through the fault proxy: {e:#}\n{}",
            agent.log()
        )
    });
    assert_eq!(
        proxy.dropped(),
        3,
        "the proxy dropped three Produce answers"
    );
}
