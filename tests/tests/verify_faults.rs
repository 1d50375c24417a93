//! `floe verify` against the production shape under faults: three agents on one
//! Postgres and one S3-compatible server, every agent injecting object-store errors
//! (10 % of PUTs and GETs fail) and metadata commit faults (3 % fail, 3 % apply but
//! lose their answer), while the test SIGKILLs and restarts a random agent three times
//! and restarts Postgres once. The checker must pass: every acknowledged record read
//! once where acknowledged, nothing duplicated, order and committed offsets kept, no
//! consumer stuck. That the checker fails on broken histories is shown by the unit
//! tests of `floe-verify` (`verify/src/check/tests.rs`).

use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use floe_tests::verify::VerifyRun;
use floe_tests::{Cluster, TestPostgres, unique_topic};

/// Faults every agent injects (`fault_injection`, see `agent/src/faults.rs`).
const FAULTS: &str = "put_error=0.1,get_error=0.1,commit_error=0.03,commit_lost=0.03,seed=11";
/// Names of the faults injected, as they appear in agent logs.
const FAULT_NAMES: [&str; 4] = ["put_error", "get_error", "commit_error", "commit_lost"];
/// Seconds the checker produces; the faults all happen within them.
const PRODUCE_SECS: &str = "60";
/// Longest the checker may run, drain included, before the test fails.
const VERIFY_TIMEOUT: Duration = Duration::from_secs(240);
/// Agents killed and restarted, one after the other.
const KILLS: usize = 3;

#[test]
fn verify_passes_through_agent_kills_a_postgres_restart_and_store_faults() {
    let mut postgres = TestPostgres::start().expect("start a Postgres of this test's own");
    let url = postgres.create_database("verify_faults").expect("database");
    let mut cluster = Cluster::builder("verify-faults")
        .agents(3)
        .metadata_url(url)
        .arg("--fault-injection")
        .arg(FAULTS)
        .start()
        .expect("start cluster");
    let topic = unique_topic("verify-faults");
    let run = VerifyRun::start(
        &cluster.bootstrap_all(),
        &[
            "--topic",
            &topic,
            "--partitions",
            "4",
            "--producers",
            "2",
            "--consumers",
            "2",
            "--duration",
            PRODUCE_SECS,
            "--rate",
            "150",
            "--stuck-after",
            "60",
            "--drain-timeout",
            "90",
        ],
        VERIFY_TIMEOUT,
    )
    .expect("start floe verify");

    // Victims drawn from the clock, printed so a failing run can be replayed.
    let mut draw = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(7, |d| d.as_nanos() as u64);
    thread::sleep(Duration::from_secs(10));
    for round in 0..KILLS {
        draw = draw
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let victim = usize::try_from(draw >> 33).unwrap_or(0) % cluster.len();
        eprintln!("round {round}: SIGKILL agent {victim}");
        cluster.agent_mut(victim).kill().expect("SIGKILL");
        thread::sleep(Duration::from_secs(2));
        if round == 1 {
            eprintln!("round {round}: restarting Postgres");
            postgres.restart().expect("restart Postgres");
        }
        cluster
            .agent_mut(victim)
            .restart()
            .expect("restart the killed agent");
        thread::sleep(Duration::from_secs(8));
    }

    let outcome = run.finish().expect("floe verify ran to the end");
    let logs: String = cluster.agents().iter().map(|a| a.log()).collect();
    let injected: Vec<(&str, usize)> = FAULT_NAMES
        .iter()
        .map(|name| {
            (
                *name,
                logs.matches(&format!("injected fault: {name}")).count(),
            )
        })
        .collect();
    eprintln!(
        "{}\ninjected faults logged by the agents: {injected:?}",
        outcome.output.stdout
    );
    assert!(
        outcome.output.status.success(),
        "floe verify failed: {}\n{}",
        outcome.output.status,
        outcome.output.describe()
    );
    assert_eq!(outcome.summary["passed"], true, "{}", outcome.summary);
    let checked = outcome.count("records_checked").expect("records checked");
    assert!(checked > 0, "nothing was checked: {}", outcome.summary);
    assert_eq!(outcome.count("lost").expect("lost"), 0);
    assert_eq!(outcome.count("duplicates").expect("duplicates"), 0);
    assert!(
        injected.iter().map(|(_, n)| n).sum::<usize>() > 0,
        "the agents logged no injected fault: the faults were not exercised"
    );
}

/// The long soak of `docs/operations.md`, on the test harness: three agents with the
/// same faults, six partitions, three producers and consumers at 200 records/s for
/// `FLOE_SOAK_SECS` (default 900) seconds, a random agent SIGKILLed and restarted
/// about every 30 s and Postgres restarted about every 150 s. Prints the kills,
/// restarts and injected faults, and writes the agents' logs and the checker's
/// output to `FLOE_SOAK_LOGS` if set; `FLOE_SOAK_CLIENT_DEBUG` (e.g. `eos,msg`)
/// turns on the checker's librdkafka debug contexts. Run: `FLOE_SOAK_SECS=900 cargo test -p floe-tests --test verify_faults --
/// --ignored --nocapture soak`.
#[test]
#[ignore = "a long soak, run by hand (docs/operations.md)"]
fn soak() {
    let secs: u64 = std::env::var("FLOE_SOAK_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(900);
    let mut postgres = TestPostgres::start().expect("start a Postgres of this test's own");
    let url = postgres.create_database("verify_soak").expect("database");
    let mut cluster = Cluster::builder("verify-soak")
        .agents(3)
        .metadata_url(url)
        .arg("--fault-injection")
        .arg(FAULTS)
        .start()
        .expect("start cluster");
    let topic = unique_topic("verify-soak");
    let duration = secs.to_string();
    let client_debug = std::env::var("FLOE_SOAK_CLIENT_DEBUG").ok();
    let debug_args = client_debug
        .iter()
        .flat_map(|contexts| ["--client-debug", contexts.as_str()]);
    let args: Vec<&str> = [
        "--topic",
        &topic,
        "--partitions",
        "6",
        "--producers",
        "3",
        "--consumers",
        "3",
        "--duration",
        &duration,
        "--rate",
        "200",
        "--stuck-after",
        "60",
        "--drain-timeout",
        "240",
    ]
    .into_iter()
    .chain(debug_args)
    .collect();
    let run = VerifyRun::start(
        &cluster.bootstrap_all(),
        &args,
        Duration::from_secs(secs + 600),
    )
    .expect("start floe verify");
    let start = Instant::now();
    let mut draw = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(7, |d| d.as_nanos() as u64);
    let (mut kills, mut restarts) = (0, 0);
    let mut last_restart = Instant::now();
    thread::sleep(Duration::from_secs(15));
    while start.elapsed() < Duration::from_secs(secs.saturating_sub(20)) {
        draw = draw
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let victim = usize::try_from(draw >> 33).unwrap_or(0) % cluster.len();
        eprintln!("[{:.0?}] SIGKILL agent {victim}", start.elapsed());
        cluster.agent_mut(victim).kill().expect("SIGKILL");
        kills += 1;
        thread::sleep(Duration::from_secs(2));
        if last_restart.elapsed() > Duration::from_secs(150) {
            eprintln!("[{:.0?}] restarting Postgres", start.elapsed());
            postgres.restart().expect("restart Postgres");
            restarts += 1;
            last_restart = Instant::now();
        }
        cluster
            .agent_mut(victim)
            .restart()
            .expect("restart the killed agent");
        thread::sleep(Duration::from_secs(25));
    }
    let outcome = run.finish().expect("floe verify ran to the end");
    let logs: String = cluster.agents().iter().map(|a| a.log()).collect();
    if let Ok(dir) = std::env::var("FLOE_SOAK_LOGS") {
        for (i, agent) in cluster.agents().iter().enumerate() {
            let path = std::path::Path::new(&dir).join(format!("agent-{i}.log"));
            std::fs::write(&path, agent.log()).expect("write an agent log");
        }
        let dir = std::path::Path::new(&dir);
        std::fs::write(dir.join("verify.out"), &outcome.output.stdout).expect("write verify.out");
        std::fs::write(dir.join("verify.err"), &outcome.output.stderr).expect("write verify.err");
    }
    let injected: Vec<(&str, usize)> = FAULT_NAMES
        .iter()
        .map(|name| {
            (
                *name,
                logs.matches(&format!("injected fault: {name}")).count(),
            )
        })
        .collect();
    eprintln!(
        "{}\nsoak of {secs} s: {kills} agent kills, {restarts} Postgres restarts, injected \
         faults logged: {injected:?}",
        outcome.output.stdout
    );
    assert!(
        outcome.output.status.success(),
        "floe verify failed: {}\n{}",
        outcome.output.status,
        outcome.output.describe()
    );
}
