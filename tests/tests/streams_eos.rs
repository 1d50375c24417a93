//! Kafka Streams with `processing.guarantee=exactly_once_v2`: a word count
//! (`tests/streams/WordCount.java`: lines → words → repartition → count in a state
//! store backed by a compacted changelog → output) run as two instances while its
//! input arrives; one is SIGKILLed mid-run, the other takes over its tasks, the
//! killed one is restarted. The output read at read_committed must then hold, for
//! every word, exactly the count computed from the input, and exactly one committed
//! count update per word read (`tests/python/streams_io.py`).
//!
//! Run against Apache Kafka (the reference) and against Floe (two agents sharing
//! Postgres and S3), where it needs transactions and compacted topics (the changelog
//! topic), issue 13. On Floe, with the log cleaner every 300 ms, the changelog (the
//! store's transactional writes) then shrinks to exactly one record per word, read
//! at read_uncommitted: committed updates compacted, aborted ones removed.

use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use floe_tests::background::Background;
use floe_tests::python;
use floe_tests::txn_clients::{self, KillPoints};

/// Lines of input (five words each).
const LINES: usize = 2000;
/// Lines per burst of `streams_io.py produce` (its `BURST`).
const BURST: usize = 100;
/// Held by each test while it runs: four Streams JVMs (two per test) beside a broker
/// are more than two cores carry at once without slowing every step, so the Kafka
/// and Floe runs take turns.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// How long an instance may take to reach RUNNING, or to stop.
const STEP_TIMEOUT: Duration = Duration::from_secs(90);

fn word_count(
    classpath: &str,
    bootstrap: &str,
    app: &str,
    input: &str,
    output: &str,
    state: &Path,
    name: &str,
) -> Result<Background, String> {
    let state = state.to_string_lossy();
    let command = txn_clients::java_program(
        classpath,
        "WordCount",
        &[bootstrap, app, input, output, &state],
    )
    .map_err(|e| format!("{e:#}"))?;
    Background::spawn(name, command).map_err(|e| format!("{e:#}"))
}

fn python_background(name: &str, args: &[&str]) -> Result<Background, String> {
    let mut command =
        std::process::Command::new(python::interpreter().map_err(|e| format!("{e:#}"))?);
    command
        .arg("-u")
        .arg(python::scripts_dir().join("streams_io.py"))
        .args(args)
        .env("PYTHONDONTWRITEBYTECODE", "1");
    Background::spawn(name, command).map_err(|e| format!("{e:#}"))
}

/// Waits until both instances are RUNNING with active tasks of their own (after the
/// rebalance that spreads the tasks over both).
fn wait_both_working(a: &mut Background, b: &mut Background) -> Result<(), String> {
    let deadline = Instant::now() + STEP_TIMEOUT;
    loop {
        let working = |x: &Background| {
            x.last_line("STATE").as_deref() == Some("STATE RUNNING")
                && x.last_line("TASKS").is_some_and(|t| t != "TASKS")
        };
        if working(a) && working(b) {
            return Ok(());
        }
        for x in [&mut *a, &mut *b] {
            if x.try_wait().map_err(|e| format!("{e:#}"))?.is_some() {
                return Err(format!("an instance exited\n{}", x.describe()));
            }
        }
        if Instant::now() > deadline {
            return Err(format!(
                "the instances did not both run tasks within {STEP_TIMEOUT:?}\n{}\n{}",
                a.describe(),
                b.describe()
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Runs the word count with a kill and verifies its output; returns the
/// application id (its changelog is `<id>-counts-changelog`).
fn word_count_survives_a_killed_instance(
    test: &str,
    classpath: &str,
    bootstrap: &str,
) -> Result<String, String> {
    let run = uuid::Uuid::new_v4().simple().to_string()[..12].to_string();
    let app = format!("wordcount-{run}");
    let input = format!("wc-in-{run}");
    let output = format!("wc-out-{run}");
    let lines = LINES.to_string();
    let err = |e: anyhow::Error| format!("{e:#}");
    python::run_script("streams_io.py", bootstrap, &["create", &input, &output]).map_err(err)?;

    let state_a = tempfile::tempdir().map_err(|e| e.to_string())?;
    let state_b = tempfile::tempdir().map_err(|e| e.to_string())?;
    let start = |state: &Path, name: &str| {
        word_count(classpath, bootstrap, &app, &input, &output, state, name)
    };
    let mut a = start(state_a.path(), "WordCount A")?;
    let mut b = start(state_b.path(), "WordCount B")?;
    let describe_all =
        |a: &Background, b: &Background| format!("{}\n{}", a.describe(), b.describe());
    wait_both_working(&mut a, &mut b)?;

    // Input arrives in bursts while both run; A dies at a random burst.
    let mut producer = python_background(
        "streams_io.py produce",
        &[bootstrap, "produce", &input, &lines],
    )?;
    let bursts = LINES / BURST;
    let kill_after = 3 + KillPoints::from_env(test).below((bursts / 2) as u64) as usize;
    producer
        .wait_for_lines("PRODUCED", kill_after, STEP_TIMEOUT)
        .map_err(err)?;
    let a_tasks = a.last_line("TASKS").unwrap_or_default();
    a.kill().map_err(err)?;
    eprintln!(
        "{test}: killed instance A ({a_tasks}) after {kill_after} of {bursts} bursts of input"
    );
    if a.last_line("STATE").as_deref() != Some("STATE RUNNING") || a_tasks == "TASKS" {
        return Err(format!(
            "instance A was not running tasks when killed, so its kill proved nothing\n{}",
            a.describe()
        ));
    }
    producer.wait_success(STEP_TIMEOUT).map_err(err)?;
    if b.try_wait().map_err(err)?.is_some() {
        return Err(format!("instance B exited\n{}", b.describe()));
    }

    // A comes back with its state directory (the same process id, so the same
    // transactional id: its restart fences what is left of the killed one).
    let mut a = start(state_a.path(), "WordCount A restarted")?;
    python::run_script("streams_io.py", bootstrap, &["wait", &output, &lines])
        .map_err(|e| format!("{e:#}\n{}", describe_all(&a, &b)))?;
    a.terminate(STEP_TIMEOUT)
        .map_err(|e| format!("{e:#}\n{}", b.describe()))?;
    b.terminate(STEP_TIMEOUT).map_err(err)?;

    let verified = python::run_script("streams_io.py", bootstrap, &["verify", &output, &lines])
        .map_err(err)?;
    eprintln!("{test}: {}", verified.stdout.trim());
    Ok(app)
}

#[test]
fn streams_word_count_exactly_once_with_a_killed_instance_on_kafka() {
    let test = "streams_word_count_exactly_once_with_a_killed_instance_on_kafka";
    let Some(classpath) = txn_clients::streams_classpath_or_skip(test) else {
        return;
    };
    let _turn = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let Some(kafka) = txn_clients::kafka(test) else {
        return;
    };
    if let Err(error) = word_count_survives_a_killed_instance(test, &classpath, &kafka.bootstrap())
    {
        panic!("{error}");
    }
    // Kafka cleans only rolled segments (minutes later by default): its
    // changelog is not checked.
}

#[test]
fn streams_word_count_exactly_once_with_a_killed_instance_on_floe() {
    let test = "streams_word_count_exactly_once_with_a_killed_instance_on_floe";
    let Some(classpath) = txn_clients::streams_classpath_or_skip(test) else {
        return;
    };
    // Two agents sharing Postgres and S3: the application's clients are bootstrapped
    // from both, so its coordinators and partition writers are spread over them.
    // The agents' logs are printed as they drop on failure.
    let _turn = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let cluster =
        txn_clients::floe_cluster_with("streams-eos", &[("FLOE_LOG_CLEANER_INTERVAL_MS", "300")])
            .expect("start a two-agent Floe cluster");
    let bootstrap = cluster.bootstrap_all();
    let app = word_count_survives_a_killed_instance(test, &classpath, &bootstrap)
        .unwrap_or_else(|error| panic!("{error}"));
    // The changelog, written in transactions: one record per word once cleaned.
    let changelog = format!("{app}-counts-changelog");
    let lines = LINES.to_string();
    match python::run_script(
        "streams_io.py",
        &bootstrap,
        &["changelog", &changelog, &lines],
    ) {
        Ok(output) => eprintln!("{test}: {}", output.stdout.trim()),
        Err(error) => panic!("{error:#}"),
    }
}
