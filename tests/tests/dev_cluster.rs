//! `floe dev-cluster`, the one-command local cluster, as a user runs it: it prints the
//! bootstrap line first, its agents sit on the announced ports in two zones and form one
//! cluster over its Postgres and S3 server, a real client (confluent-kafka, idempotent)
//! writes through it while one agent is killed, and Ctrl-C leaves nothing behind: no
//! agent, no Postgres, no temporary folder.

use std::thread;
use std::time::{Duration, Instant};

use floe_tests::cluster::{create_topic, read_topic};
use floe_tests::dev_cluster::process_exists;
use floe_tests::load::{BackgroundProducer, ProducerOptions, verify_exactly_once};
use floe_tests::{DevCluster, RawClient, python, records, unique_topic};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

const NONE: i16 = 0;
const PARTITIONS: i32 = 6;
const RECORDS: usize = 1500;
/// How long the producer may take to get a fifth of its records acknowledged.
const PROGRESS_BOUND: Duration = Duration::from_secs(60);
/// How long the agents may take to all see each other once ready.
const CONVERGE_BOUND: Duration = Duration::from_secs(30);

#[test]
fn dev_cluster_serves_clients_survives_a_killed_agent_and_cleans_up_on_ctrl_c() {
    let mut dev = DevCluster::start(3, &[]).expect("start floe dev-cluster");
    let p = dev.base_port;

    // What it prints: the bootstrap line first, agent i on P+i and P+100+i, two zones.
    assert_eq!(
        dev.bootstrap,
        format!("127.0.0.1:{},127.0.0.1:{},127.0.0.1:{}", p, p + 1, p + 2),
        "{:?}",
        dev.announcement
    );
    let layout: Vec<(u16, u16, &str)> = dev
        .agents
        .iter()
        .map(|a| (a.kafka.port(), a.http.port(), a.zone.as_str()))
        .collect();
    assert_eq!(
        layout,
        [
            (p, p + 100, "zone-a"),
            (p + 1, p + 101, "zone-b"),
            (p + 2, p + 102, "zone-a")
        ]
    );
    // One cluster: every agent soon lists all three (each sees the others at its next
    // heartbeat).
    dev.wait_until_all_listed(CONVERGE_BOUND)
        .expect("every agent lists all three");
    let postmaster: i32 = std::fs::read_to_string(dev.dir.join("postgres/data/postmaster.pid"))
        .expect("postmaster.pid")
        .lines()
        .next()
        .and_then(|line| line.trim().parse().ok())
        .expect("a pid in postmaster.pid");
    assert!(process_exists(postmaster), "postgres runs");

    // A real client writes through all three while one agent is killed.
    let topic = unique_topic("dev-cluster");
    create_topic(dev.agents[0].kafka, &topic, PARTITIONS).expect("create topic");
    let producer = BackgroundProducer::start(
        &dev.bootstrap,
        &topic,
        ProducerOptions::new("dev", RECORDS, PARTITIONS)
            .idempotent(true)
            .rate(500),
    )
    .expect("start producer");
    producer
        .wait_acked(RECORDS / 5, PROGRESS_BOUND)
        .expect("load under way");
    kill(Pid::from_raw(dev.agents[1].pid), Signal::SIGKILL).expect("SIGKILL agent 1");
    let report = producer.finish().expect("producer");
    assert!(report.fatal.is_empty(), "fatal errors: {:?}", report.fatal);
    report
        .ensure_all_acked()
        .expect("two agents carry on: every record is delivered");
    for survivor in [0, 2] {
        let log = read_topic(dev.agents[survivor].kafka, &topic, PARTITIONS).expect("read");
        let verified = verify_exactly_once(&log, &[&report]).expect("nothing lost or doubled");
        assert_eq!(verified.acked, RECORDS);
    }
    // The segments are files of the S3 server's folder.
    let segments = std::fs::read_dir(dev.dir.join("s3/floe/dev"))
        .expect("the agents' prefix in the bucket")
        .count();
    assert!(segments > 0, "no objects under s3://floe/dev");
    assert!(
        dev.is_running(),
        "one dead agent does not stop the dev cluster"
    );

    // Ctrl-C: everything stops and the folder is gone.
    let (status, stderr) = dev.stop_with(Signal::SIGINT).expect("stop");
    assert!(status.success(), "exit {status}\n{stderr}");
    assert!(
        stderr.contains("agent 1 exited"),
        "the killed agent is reported:\n{stderr}"
    );
    for agent in &dev.agents {
        assert!(
            !process_exists(agent.pid),
            "agent pid {} still runs",
            agent.pid
        );
    }
    assert!(!process_exists(postmaster), "postgres still runs");
    assert!(!dev.dir.exists(), "{} is left behind", dev.dir.display());
}

/// Ctrl-C while the cluster is still starting (Postgres being created, agents not yet
/// ready) stops what had started and removes everything: no process is left that
/// names the cluster's folder, and the folder is gone.
#[test]
fn ctrl_c_during_start_up_leaves_nothing_behind() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let child = std::process::Command::new(floe_tests::binary::floe_bin().expect("floe"))
        .args(["dev-cluster", "--agents", "2", "--base-port"])
        .arg(free_base_port().to_string())
        .env("TMPDIR", tmp.path())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start floe dev-cluster");
    // Wait until it has made its folder, then interrupt it at once.
    let deadline = Instant::now() + PROGRESS_BOUND;
    let folder = loop {
        let made = std::fs::read_dir(tmp.path())
            .expect("read TMPDIR")
            .flatten()
            .map(|entry| entry.path())
            .find(|path| path.to_string_lossy().contains("floe-dev-"));
        if let Some(folder) = made {
            break folder;
        }
        assert!(Instant::now() < deadline, "no floe-dev- folder appeared");
        std::thread::sleep(Duration::from_millis(5));
    };
    let pid = i32::try_from(child.id()).expect("pid");
    kill(Pid::from_raw(pid), Signal::SIGINT).expect("SIGINT");
    let output = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "exit {}\n{stderr}", output.status);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        !stdout.contains("ready:"),
        "the signal came after start-up, not during it:\n{stdout}"
    );
    assert!(
        !folder.exists(),
        "{} is left behind\n{stderr}",
        folder.display()
    );
    let left: Vec<i32> = processes_naming(&folder);
    assert!(
        left.is_empty(),
        "processes still name {}: {left:?}",
        folder.display()
    );
}

/// Processes (not zombies) whose command line names `path`.
fn processes_naming(path: &std::path::Path) -> Vec<i32> {
    let needle = path.to_string_lossy().into_owned();
    std::fs::read_dir("/proc")
        .expect("/proc")
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<i32>().ok())
        .filter(|&pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|cmdline| String::from_utf8_lossy(&cmdline).contains(&needle))
                .unwrap_or(false)
                && process_exists(pid)
        })
        .collect()
}

/// A base port whose agent ports are unlikely to be taken: the interrupted cluster may
/// never bind them, so any free-looking range does.
fn free_base_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    port.clamp(1024, 60_000)
}

/// One of our multi-agent tests, on `floe dev-cluster`: a fetch waiting on agent B is
/// woken by a commit made on agent A, well before its 10 s wait runs out: with
/// confluent-kafka (both clients pinned by zone) and with the raw client.
#[test]
fn commit_on_one_agent_wakes_a_long_poll_on_another() {
    const BOUND: Duration = Duration::from_secs(5);
    // Two agents of `floe dev-cluster`: zone-a and zone-b.
    let dev = DevCluster::start(2, &[]).expect("start floe dev-cluster");
    dev.wait_until_all_listed(CONVERGE_BOUND)
        .expect("both agents list both");
    let (a, b) = (&dev.agents[0], &dev.agents[1]);

    let topic = unique_topic("multi-longpoll-cf");
    create_topic(a.kafka, &topic, 1).expect("create");
    python::run_script(
        "multi_long_poll.py",
        &a.kafka.to_string(),
        &[&topic, &b.kafka.to_string(), &a.zone, &b.zone],
    )
    .expect("multi_long_poll.py");

    // The raw client: a fetch on B (max wait 10 s), a produce on A 1.5 s later.
    let topic = unique_topic("multi-longpoll-raw");
    create_topic(a.kafka, &topic, 1).expect("create");
    let b = b.kafka;
    let fetch_topic = topic.clone();
    let waiting = thread::spawn(move || {
        let mut client = RawClient::connect(b).expect("connect to B");
        let data = client
            .fetch(&fetch_topic, 0, 0, 10_000)
            .expect("fetch on B");
        (Instant::now(), data)
    });
    thread::sleep(Duration::from_millis(1500));
    let mut producer = RawClient::connect(a.kafka).expect("connect to A");
    let produced_at = Instant::now();
    let answer = producer
        .produce_one(
            &topic,
            0,
            records::simple_batch(&["wake-up"], 1_700_000_000_000).expect("batch"),
        )
        .expect("produce on A");
    assert_eq!(
        (answer.error_code, answer.base_offset),
        (NONE, 0),
        "produce on A"
    );
    let (received_at, data) = waiting.join().expect("fetch thread");
    assert_eq!(data.error_code, NONE, "fetch on B");
    let fetched = records::decode(data.records.as_ref()).expect("decode");
    assert_eq!(
        records::values(&fetched),
        ["wake-up"],
        "the waiting fetch on B must return the record committed on A"
    );
    let latency = received_at.saturating_duration_since(produced_at);
    eprintln!("raw: fetch on B answered {latency:?} after the produce on A began");
    assert!(
        latency < BOUND,
        "the fetch waiting on B answered {latency:?} after the produce on A; a commit on \
         another agent must wake it (bound {BOUND:?}, max wait 10 s)"
    );
}
