//! Transactions as real clients use them, each test run against Apache Kafka (the
//! reference, which proves the test right) and against Floe:
//!
//! - confluent-kafka's and kafka-python's transactional producers read across each
//!   other at read_committed and read_uncommitted, a zombie fenced by a newer
//!   `init_transactions`, a transaction aborted by the coordinator's timeout
//!   (`tests/python/txn_producers.py`);
//! - a consume-transform-produce loop (`tests/python/txn_ctp.py`) SIGKILLed several
//!   times at random points and restarted with the same transactional id: its output
//!   at read_committed holds every input exactly once;
//! - the Java client's transactional producer and read_committed consumer
//!   (`tests/streams/TxnJava.java`);
//! - committed and aborted transactions among plain records on a compacted topic,
//!   read at read_committed after the log cleaner ran (`tests/python/txn_compacted.py`).
//!
//! The Floe variants run on two agents sharing Postgres and S3.

use std::time::Duration;

use floe_tests::background::Background;
use floe_tests::python;
use floe_tests::txn_clients::{self, KillPoints};

/// How many records the consume-transform-produce test pushes through.
const CTP_RECORDS: usize = 1500;
/// How many times it is killed at a random point before it may finish.
const CTP_RANDOM_KILLS: usize = 3;
/// How long one instance may take to get going or to finish.
const CTP_STEP_TIMEOUT: Duration = Duration::from_secs(90);

fn txn_producers(bootstrap: &str, scenario: &str) -> Result<(), String> {
    python::run_script("txn_producers.py", bootstrap, &[scenario])
        .map(|output| eprintln!("{}", output.stdout))
        .map_err(|error| format!("{error:#}"))
}

/// Runs `what` against a new Floe cluster; on failure the agents' logs are printed
/// as they drop.
fn on_floe(name: &str, what: impl FnOnce(&str) -> Result<(), String>) {
    let cluster = txn_clients::floe_cluster(name).expect("start a two-agent Floe cluster");
    if let Err(error) = what(&cluster.bootstrap_all()) {
        panic!("{error}");
    }
}

fn on_kafka(test: &str, what: impl FnOnce(&str) -> Result<(), String>) {
    let Some(kafka) = txn_clients::kafka(test) else {
        return;
    };
    if let Err(error) = what(&kafka.bootstrap()) {
        panic!("{error}");
    }
}

#[test]
fn python_txn_commit_abort_across_libraries_on_kafka() {
    on_kafka("python_txn_commit_abort_across_libraries_on_kafka", |b| {
        txn_producers(b, "commit_abort")
    });
}

#[test]
fn python_txn_commit_abort_across_libraries_on_floe() {
    on_floe("txn-commit-abort", |b| txn_producers(b, "commit_abort"));
}

#[test]
fn python_txn_zombie_fenced_across_libraries_on_kafka() {
    on_kafka("python_txn_zombie_fenced_across_libraries_on_kafka", |b| {
        txn_producers(b, "fencing")
    });
}

#[test]
fn python_txn_zombie_fenced_across_libraries_on_floe() {
    on_floe("txn-fencing", |b| txn_producers(b, "fencing"));
}

#[test]
fn python_txn_timeout_aborts_on_kafka() {
    on_kafka("python_txn_timeout_aborts_on_kafka", |b| {
        txn_producers(b, "timeout")
    });
}

#[test]
fn python_txn_timeout_aborts_on_floe() {
    on_floe("txn-timeout", |b| txn_producers(b, "timeout"));
}

/// `txn_ctp.py BOOTSTRAP run ...` in the background.
fn ctp_instance(bootstrap: &str, names: &CtpNames, stall_after: Option<usize>) -> Background {
    let mut command = std::process::Command::new(python::interpreter().expect("python"));
    command
        .arg("-u")
        .arg(python::scripts_dir().join("txn_ctp.py"))
        .args([bootstrap, "run"])
        .args([&names.input, &names.output, &names.group, &names.txn_id])
        .env("PYTHONDONTWRITEBYTECODE", "1");
    if let Some(n) = stall_after {
        command.arg(n.to_string());
    }
    Background::spawn("txn_ctp.py run", command).expect("start txn_ctp.py")
}

struct CtpNames {
    input: String,
    output: String,
    group: String,
    txn_id: String,
}

/// Seeds the input, then runs the loop to the end of its input with SIGKILLs along
/// the way: one while a transaction is surely open (the instance stalls after
/// writing a batch), then [`CTP_RANDOM_KILLS`] at random moments after a random
/// number of commits; each restart uses the same transactional id and group. Then
/// the output must hold every input exactly once at read_committed, and more at
/// read_uncommitted (the killed transactions' aborted records), so the kills did
/// hit open transactions.
fn consume_transform_produce_killed(test: &str, bootstrap: &str) -> Result<(), String> {
    let run = uuid_suffix();
    let names = CtpNames {
        input: format!("ctp-in-{run}"),
        output: format!("ctp-out-{run}"),
        group: format!("ctp-group-{run}"),
        txn_id: format!("ctp-txn-{run}"),
    };
    let records = CTP_RECORDS.to_string();
    python::run_script(
        "txn_ctp.py",
        bootstrap,
        &["seed", &names.input, &names.output, &records],
    )
    .map_err(|e| format!("{e:#}"))?;

    let mut kill_points = KillPoints::from_env(test);
    let mut commits_seen = 0;
    // A kill with a transaction surely open.
    let mut stalled = ctp_instance(bootstrap, &names, Some(2));
    stalled
        .wait_for_lines("STALLED", 1, CTP_STEP_TIMEOUT)
        .map_err(|e| format!("{e:#}"))?;
    commits_seen += stalled.count_lines("COMMITTED");
    stalled.kill().map_err(|e| format!("{e:#}"))?;
    // Kills at random points.
    for round in 0..CTP_RANDOM_KILLS {
        let mut instance = ctp_instance(bootstrap, &names, None);
        let commits = 1 + kill_points.below(6) as usize;
        instance
            .wait_for_lines("COMMITTED", commits, CTP_STEP_TIMEOUT)
            .map_err(|e| format!("round {round}: {e:#}"))?;
        std::thread::sleep(Duration::from_millis(kill_points.below(400)));
        let finished = instance.count_lines("DONE") > 0;
        commits_seen += instance.count_lines("COMMITTED");
        instance.kill().map_err(|e| format!("{e:#}"))?;
        eprintln!("{test}: round {round}: killed after {commits}+ commits ({commits_seen} so far)");
        if finished {
            return Err(format!(
                "round {round}: the instance finished all {CTP_RECORDS} records before \
                 its kill; the test needs more records to kill it mid-run"
            ));
        }
    }
    let mut last = ctp_instance(bootstrap, &names, None);
    last.wait_success(CTP_STEP_TIMEOUT)
        .map_err(|e| format!("last run: {e:#}"))?;
    commits_seen += last.count_lines("COMMITTED");

    let output = python::run_script(
        "txn_ctp.py",
        bootstrap,
        &["verify", &names.output, &records],
    )
    .map_err(|e| format!("{e:#}"))?;
    let line = output
        .stdout
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .ok_or_else(|| format!("verify printed no counts\n{}", output.describe()))?;
    let counts: serde_json::Value =
        serde_json::from_str(line).map_err(|e| format!("verify printed {line}: {e}"))?;
    let committed = counts["committed"].as_u64().unwrap_or(0);
    let uncommitted = counts["uncommitted"].as_u64().unwrap_or(0);
    eprintln!(
        "{test}: {commits_seen} commits; output {committed} records at read_committed, \
         {uncommitted} at read_uncommitted"
    );
    if committed != CTP_RECORDS as u64 {
        return Err(format!(
            "{committed} records at read_committed, want {CTP_RECORDS}"
        ));
    }
    if uncommitted <= committed {
        return Err(format!(
            "read_uncommitted saw {uncommitted} records, no more than read_committed's \
             {committed}: no killed transaction left aborted records, so the kills proved nothing"
        ));
    }
    Ok(())
}

fn uuid_suffix() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..12].to_string()
}

#[test]
fn consume_transform_produce_killed_mid_run_on_kafka() {
    let test = "consume_transform_produce_killed_mid_run_on_kafka";
    on_kafka(test, |b| consume_transform_produce_killed(test, b));
}

#[test]
fn consume_transform_produce_killed_mid_run_on_floe() {
    on_floe("txn-ctp", |b| {
        consume_transform_produce_killed("consume_transform_produce_killed_mid_run_on_floe", b)
    });
}

/// `java TxnJava BOOTSTRAP` (tests/streams/TxnJava.java) to completion.
fn java_transactions(classpath: &str, bootstrap: &str) -> Result<(), String> {
    let command = txn_clients::java_program(classpath, "TxnJava", &[bootstrap])
        .map_err(|e| format!("{e:#}"))?;
    let output = floe_tests::process::run(command, b"", CTP_STEP_TIMEOUT)
        .and_then(|o| o.ensure_success())
        .map_err(|e| format!("{e:#}"))?;
    eprintln!("{}", output.stdout);
    Ok(())
}

#[test]
fn java_txn_commit_abort_and_fencing_on_kafka() {
    let test = "java_txn_commit_abort_and_fencing_on_kafka";
    let Some(classpath) = txn_clients::streams_classpath_or_skip(test) else {
        return;
    };
    on_kafka(test, |b| java_transactions(&classpath, b));
}

#[test]
fn java_txn_commit_abort_and_fencing_on_floe() {
    let test = "java_txn_commit_abort_and_fencing_on_floe";
    let Some(classpath) = txn_clients::streams_classpath_or_skip(test) else {
        return;
    };
    on_floe("txn-java", |b| java_transactions(&classpath, b));
}

#[test]
fn transactions_on_a_compacted_topic_on_kafka() {
    on_kafka("transactions_on_a_compacted_topic_on_kafka", |b| {
        let topic = format!("txn-compacted-{}", uuid_suffix());
        // Kafka cleans only rolled segments, minutes later by default: its run is
        // the reference for what read_committed shows, cleaned or not.
        python::run_script("txn_compacted.py", b, &[&topic])
            .map(|output| eprintln!("{}", output.stdout))
            .map_err(|e| format!("{e:#}"))
    });
}

#[test]
fn transactions_on_a_compacted_topic_on_floe() {
    // The log cleaner every 300 ms, so the check runs on a cleaned log.
    let cluster =
        txn_clients::floe_cluster_with("txn-compacted", &[("FLOE_LOG_CLEANER_INTERVAL_MS", "300")])
            .expect("start a two-agent Floe cluster");
    let topic = format!("txn-compacted-{}", uuid_suffix());
    match python::run_script(
        "txn_compacted.py",
        &cluster.bootstrap_all(),
        &[&topic, "cleaned"],
    ) {
        Ok(output) => eprintln!("{}", output.stdout),
        Err(error) => panic!("{error:#}"),
    }
}
