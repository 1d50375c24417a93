//! Transactions end to end, with confluent-kafka's transactional producer
//! (`tests/python/transactions_basic.py`) and raw frames: commit and abort
//! seen by read_committed and read_uncommitted consumers, a zombie fenced
//! by a newer InitProducerId, a transaction aborted by the agent past its
//! timeout, and Kafka's error codes for requests in the wrong state.

use floe_tests::{Agent, python, unique_topic};

#[test]
fn confluent_commit_and_abort_seen_by_both_isolation_levels() {
    let agent = Agent::start().expect("start agent");
    let topic = unique_topic("txn-commit-abort");
    python::run_script(
        "transactions_basic.py",
        &agent.bootstrap(),
        &[&topic, "commit_abort"],
    )
    .expect("transactions_basic.py commit_abort");
}

#[test]
fn confluent_zombie_is_fenced_by_a_newer_producer() {
    let agent = Agent::start().expect("start agent");
    let topic = unique_topic("txn-zombie");
    python::run_script(
        "transactions_basic.py",
        &agent.bootstrap(),
        &[&topic, "zombie"],
    )
    .expect("transactions_basic.py zombie");
}

#[test]
fn open_transaction_past_its_timeout_is_aborted() {
    let agent = Agent::builder()
        .env("FLOE_TRANSACTION_CHECK_INTERVAL_MS", "500")
        .start()
        .expect("start agent");
    let topic = unique_topic("txn-timeout");
    python::run_script(
        "transactions_basic.py",
        &agent.bootstrap(),
        &[&topic, "timeout"],
    )
    .expect("transactions_basic.py timeout");
    assert!(
        agent.metric("floe_txn_timed_out_total").expect("metrics") >= Some(1.0),
        "the abort is counted"
    );
}
