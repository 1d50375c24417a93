//! Consumer groups end to end: confluent-kafka (librdkafka 2.16) through
//! `tests/python/group_scenarios.py`, kcat's balanced consumer (`-G`, librdkafka
//! 2.0.2), two agents sharing Postgres with the coordinator killed, and hand-made
//! group requests through the raw client.
//!
//! Groups wait 3 s before their first rebalance (as Kafka does), so every wait here is
//! generous; none is a timing assertion.

use std::collections::BTreeSet;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use bytes::Bytes;
use floe_tests::groups::errors::{
    ILLEGAL_GENERATION, NONE, UNKNOWN_MEMBER_ID, UNKNOWN_TOPIC_OR_PARTITION,
};
use floe_tests::groups::{self, RawGroupClient};
use floe_tests::{Agent, Cluster, Kcat, RawClient, python, unique_topic};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// An agent whose auto-created topics have 6 partitions.
fn agent() -> Agent {
    Agent::builder().partitions(6).start().expect("start agent")
}

/// Runs one command of `group_scenarios.py` on a fresh topic and group.
fn scenario(agent: &Agent, command: &str) {
    let topic = unique_topic(&format!("grp-{command}"));
    let group = format!("{topic}-group");
    let out = python::run_script(
        "group_scenarios.py",
        &agent.bootstrap(),
        &[command, &topic, &group],
    )
    .unwrap_or_else(|e| panic!("group_scenarios.py {command}: {e:#}"));
    eprintln!("{}", out.stdout);
}

#[test]
fn three_consumers_split_six_partitions_and_read_each_record_once() {
    scenario(&agent(), "split");
}

#[test]
fn a_member_leaving_hands_its_partitions_to_the_others() {
    scenario(&agent(), "leave");
}

#[test]
fn cooperative_sticky_join_revokes_only_the_moved_partitions() {
    scenario(&agent(), "cooperative");
}

#[test]
fn static_member_restarted_with_its_instance_id_gets_its_partitions_back() {
    scenario(&agent(), "static");
}

#[test]
fn committed_offset_metadata_round_trips_through_confluent_kafka() {
    scenario(&agent(), "metadata");
}

#[test]
fn committed_offsets_survive_an_agent_restart() {
    let mut agent = agent();
    let topic = unique_topic("grp-commit");
    let group = format!("{topic}-group");
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("state.json");
    let state = state.to_str().expect("utf-8 path");
    python::run_script(
        "group_scenarios.py",
        &agent.bootstrap(),
        &["commit", &topic, &group, state],
    )
    .expect("group_scenarios.py commit");
    agent.stop().expect("stop agent");
    agent.restart().expect("restart agent");
    python::run_script(
        "group_scenarios.py",
        &agent.bootstrap(),
        &["resume", &topic, &group, state],
    )
    .expect("group_scenarios.py resume");
}

#[test]
fn group_survives_its_coordinator_being_killed() {
    let mut cluster = Cluster::builder("groups-failover")
        .agents(2)
        .partitions(6)
        .start()
        .expect("start cluster");
    let topic = unique_topic("grp-failover");
    let group = format!("{topic}-group");
    let dir = tempfile::tempdir().expect("tempdir");
    let sync_dir = dir.path().to_str().expect("utf-8 path").to_string();
    let bootstrap = cluster.bootstrap_all();
    let driver = {
        let (topic, group, sync_dir) = (topic.clone(), group.clone(), sync_dir.clone());
        thread::spawn(move || {
            python::run_script(
                "group_scenarios.py",
                &bootstrap,
                &["failover", &topic, &group, &sync_dir],
            )
        })
    };
    let ready = dir.path().join("ready");
    let deadline = Instant::now() + Duration::from_secs(150);
    while !ready.exists() && !driver.is_finished() {
        assert!(
            Instant::now() < deadline,
            "the driver never got ready\n{}",
            cluster.logs()
        );
        thread::sleep(Duration::from_millis(100));
    }
    if ready.exists() {
        let coordinator =
            groups::coordinator(cluster.agent(0).kafka_addr(), &group).expect("coordinator");
        let victim = (0..cluster.len())
            .find(|&i| cluster.bootstrap(i) == coordinator)
            .unwrap_or_else(|| panic!("coordinator {coordinator} is no agent of the cluster"));
        eprintln!("killing agent {victim} ({coordinator}), the coordinator of {group}");
        cluster
            .agent_mut(victim)
            .kill()
            .expect("kill the coordinator");
        File::create(dir.path().join("killed")).expect("create killed");
    }
    match driver.join().expect("driver thread") {
        Ok(out) => eprintln!("{}", out.stdout),
        Err(e) => panic!("group_scenarios.py failover: {e:#}\n{}", cluster.logs()),
    }
}

/// kcat's balanced consumer (`kcat -G`), started in the background with its output
/// going to files.
struct KcatMember {
    child: Child,
    stdout: PathBuf,
    stderr: PathBuf,
}

/// The output format of the kcat members: `partition offset value`.
const KCAT_FORMAT: &str = "%p %o %s\\n";

impl KcatMember {
    fn start(dir: &Path, name: &str, bootstrap: &str, group: &str, topic: &str) -> Self {
        let stdout = dir.join(format!("{name}.out"));
        let stderr = dir.join(format!("{name}.err"));
        let child = Command::new("kcat")
            .args(["-b", bootstrap, "-u", "-G", group, "-f", KCAT_FORMAT])
            .args(["-X", "auto.offset.reset=earliest", topic])
            .stdin(Stdio::null())
            .stdout(File::create(&stdout).expect("stdout file"))
            .stderr(File::create(&stderr).expect("stderr file"))
            .spawn()
            .expect("start kcat -G");
        Self {
            child,
            stdout,
            stderr,
        }
    }

    /// The partitions of the last "assigned:" line kcat printed, if any.
    fn assigned(&self) -> Option<BTreeSet<i32>> {
        let err = std::fs::read_to_string(&self.stderr).unwrap_or_default();
        let line = err.lines().rev().find(|l| l.contains("assigned:"))?;
        let list = line.split("assigned:").nth(1)?;
        Some(
            list.split(',')
                .filter_map(|item| {
                    let inner = item.split('[').nth(1)?.split(']').next()?;
                    inner.trim().parse().ok()
                })
                .collect(),
        )
    }

    /// The records printed so far as (partition, offset, value).
    fn records(&self) -> Vec<(i32, i64, String)> {
        parse_kcat_lines(&std::fs::read_to_string(&self.stdout).unwrap_or_default())
    }

    fn describe(&self) -> String {
        format!(
            "stderr {}:\n{}",
            self.stderr.display(),
            std::fs::read_to_string(&self.stderr).unwrap_or_default()
        )
    }

    /// SIGTERM (kcat closes its consumer, committing what it stored) and wait.
    fn stop(mut self) {
        let pid = Pid::from_raw(self.child.id() as i32);
        kill(pid, Signal::SIGTERM).expect("SIGTERM kcat");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait kcat") {
                assert!(
                    status.success(),
                    "kcat exited {status}: {}",
                    self.describe()
                );
                return;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("kcat did not exit after SIGTERM: {}", self.describe());
            }
            thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for KcatMember {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn parse_kcat_lines(text: &str) -> Vec<(i32, i64, String)> {
    text.lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            let mut f = l.splitn(3, ' ');
            let p = f.next().and_then(|x| x.parse().ok()).expect("partition");
            let o = f.next().and_then(|x| x.parse().ok()).expect("offset");
            (p, o, f.next().unwrap_or("").to_string())
        })
        .collect()
}

/// Produces `per_partition` records to every partition; value `p{p}-{n}`.
fn kcat_produce(kcat: &Kcat, topic: &str, from: usize, per_partition: usize) {
    for p in 0..6 {
        let lines: String = (from..from + per_partition)
            .map(|n| format!("k:p{p}-{n}\n"))
            .collect();
        kcat.produce_keyed(topic, &lines, &["-p", &p.to_string()])
            .expect("kcat produce");
    }
}

fn wait_until(
    what: &str,
    timeout: Duration,
    mut done: impl FnMut() -> bool,
    info: impl Fn() -> String,
) {
    let deadline = Instant::now() + timeout;
    while !done() {
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}\n{}",
            info()
        );
        thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn kcat_balanced_consumers_split_the_topic_and_resume_after_commits() {
    let agent = agent();
    let topic = unique_topic("grp-kcat");
    let group = format!("{topic}-group");
    let mut raw = RawClient::connect(agent.kafka_addr()).expect("connect");
    assert_eq!(raw.create_topic(&topic, 6).expect("create topic"), 0);
    let dir = tempfile::tempdir().expect("tempdir");
    let members: Vec<KcatMember> = (0..3)
        .map(|i| {
            KcatMember::start(
                dir.path(),
                &format!("m{i}"),
                &agent.bootstrap(),
                &group,
                &topic,
            )
        })
        .collect();
    let describe = || {
        members
            .iter()
            .map(KcatMember::describe)
            .collect::<Vec<_>>()
            .join("\n")
    };
    let split = || {
        let sets: Vec<_> = members.iter().map(KcatMember::assigned).collect();
        if sets.iter().any(|s| s.as_ref().is_none_or(|s| s.len() != 2)) {
            return false;
        }
        let all: BTreeSet<i32> = sets.into_iter().flatten().flatten().collect();
        all == (0..6).collect()
    };
    wait_until(
        "three kcat members with 2 partitions each",
        Duration::from_secs(60),
        split,
        describe,
    );

    let kcat = Kcat::new(agent.bootstrap());
    kcat_produce(&kcat, &topic, 0, 10);
    let total = || members.iter().map(|m| m.records().len()).sum::<usize>();
    wait_until(
        "60 records read",
        Duration::from_secs(60),
        || total() >= 60,
        describe,
    );
    thread::sleep(Duration::from_secs(1));
    assert!(split(), "assignment changed while reading\n{}", describe());
    let mut values = Vec::new();
    for m in &members {
        let records = m.records();
        let assigned = m.assigned().expect("assigned");
        for (p, _, v) in &records {
            assert!(
                assigned.contains(p),
                "record {v} of partition {p} read by a member assigned {assigned:?}"
            );
        }
        values.extend(records.into_iter().map(|(_, _, v)| v));
    }
    values.sort();
    let mut expected: Vec<String> = (0..6)
        .flat_map(|p| (0..10).map(move |n| format!("p{p}-{n}")))
        .collect();
    expected.sort();
    assert_eq!(values, expected, "records read by the kcat group");
    for m in members {
        m.stop();
    }

    // A new kcat of the group resumes after the offsets committed on close.
    kcat_produce(&kcat, &topic, 10, 5);
    let output = kcat
        .run(
            &[
                "-G",
                &group,
                "-e",
                "-f",
                KCAT_FORMAT,
                "-X",
                "auto.offset.reset=earliest",
                &topic,
            ],
            b"",
        )
        .expect("kcat -G -e")
        .ensure_success()
        .expect("kcat -G -e succeeds");
    let mut resumed = parse_kcat_lines(&output.stdout);
    resumed.sort();
    let expected: Vec<(i32, i64, String)> = (0..6)
        .flat_map(|p| (10..15).map(move |n| (p, n as i64, format!("p{p}-{n}"))))
        .collect();
    assert_eq!(
        resumed,
        expected,
        "records read by the restarted kcat\n{}",
        output.describe()
    );
}

#[test]
fn raw_group_requests_get_kafkas_error_codes() {
    let agent = agent();
    let topic = unique_topic("grp-raw");
    let group = format!("{topic}-group");
    let mut raw = RawClient::connect(agent.kafka_addr()).expect("connect");
    assert_eq!(raw.create_topic(&topic, 6).expect("create topic"), NONE);
    let mut g = RawGroupClient::connect(agent.kafka_addr(), &group).expect("connect");

    // Nobody is in a group that does not exist.
    assert_eq!(
        g.heartbeat(1, "nobody").expect("heartbeat"),
        UNKNOWN_MEMBER_ID,
        "heartbeat to an unknown group"
    );

    let join = g.join_new(subscription(&topic)).expect("join");
    assert_eq!(join.error_code, NONE, "JoinGroup: {join:?}");
    let me = join.member_id.to_string();
    let generation = join.generation_id;
    assert_eq!(join.leader.to_string(), me, "the only member leads");
    assert_eq!(
        join.members.len(),
        1,
        "members in the leader's JoinGroup response"
    );
    assert_eq!(
        join.members[0].metadata,
        subscription(&topic),
        "member metadata round-trips"
    );

    // Assignments are opaque to the coordinator: any bytes come back unchanged.
    let garbage = Bytes::from_static(b"\xff\xff\xff\xffnot a ConsumerProtocolAssignment");
    let sync = g
        .sync(generation, &me, vec![(me.clone(), garbage.clone())])
        .expect("sync");
    assert_eq!(sync.error_code, NONE, "SyncGroup: {sync:?}");
    assert_eq!(sync.assignment, garbage, "assignment returned by SyncGroup");

    assert_eq!(
        g.heartbeat(generation, &me).expect("heartbeat"),
        NONE,
        "heartbeat of the member"
    );
    assert_eq!(
        g.heartbeat(generation, "nobody").expect("heartbeat"),
        UNKNOWN_MEMBER_ID,
        "heartbeat of an unknown member"
    );
    assert_eq!(
        g.heartbeat(generation + 1, &me).expect("heartbeat"),
        ILLEGAL_GENERATION,
        "heartbeat with a future generation"
    );
    assert_eq!(
        g.heartbeat(generation - 1, &me).expect("heartbeat"),
        ILLEGAL_GENERATION,
        "heartbeat with a stale generation"
    );

    assert_eq!(
        g.commit(generation, &me, &topic, 0, 5, "m-1")
            .expect("commit"),
        NONE,
        "commit of the member"
    );
    assert_eq!(
        g.fetch_offset(&topic, 0).expect("fetch"),
        (NONE, 5, Some("m-1".to_string())),
        "OffsetFetch after the commit"
    );
    assert_eq!(
        g.commit(generation, &me, "grp-raw-no-such-topic", 0, 1, "")
            .expect("commit"),
        UNKNOWN_TOPIC_OR_PARTITION,
        "commit to an unknown topic"
    );
    assert_eq!(
        g.commit(generation, &me, &topic, 6, 1, "").expect("commit"),
        UNKNOWN_TOPIC_OR_PARTITION,
        "commit to a partition past the last"
    );
    assert_eq!(
        g.commit(generation, "nobody", &topic, 0, 7, "")
            .expect("commit"),
        UNKNOWN_MEMBER_ID,
        "commit of an unknown member"
    );
    assert_eq!(
        g.commit(generation - 1, &me, &topic, 0, 7, "")
            .expect("commit"),
        ILLEGAL_GENERATION,
        "commit with a stale generation"
    );
    assert_eq!(
        g.fetch_offset(&topic, 0).expect("fetch"),
        (NONE, 5, Some("m-1".to_string())),
        "OffsetFetch after the rejected commits"
    );
}

/// A ConsumerProtocolSubscription v0 for one topic, as clients send it.
fn subscription(topic: &str) -> Bytes {
    let mut out = Vec::new();
    out.extend(0i16.to_be_bytes());
    out.extend(1i32.to_be_bytes());
    out.extend((topic.len() as i16).to_be_bytes());
    out.extend(topic.as_bytes());
    out.extend((-1i32).to_be_bytes());
    Bytes::from(out)
}

#[test]
fn offset_metadata_with_a_nul_character_is_stored_as_sent() {
    // Kafka strings may hold NUL; confluent-kafka (Python) sends the C string's NUL
    // terminator as part of the metadata.
    let agent = agent();
    let topic = unique_topic("grp-nul");
    let group = format!("{topic}-group");
    let mut raw = RawClient::connect(agent.kafka_addr()).expect("connect");
    assert_eq!(raw.create_topic(&topic, 1).expect("create topic"), NONE);
    let mut g = RawGroupClient::connect(agent.kafka_addr(), &group).expect("connect");
    let code = g
        .commit(-1, "", &topic, 0, 3, "m-1\0")
        .expect("OffsetCommit answered");
    assert_eq!(code, NONE, "standalone commit with NUL in the metadata");
    assert_eq!(
        g.fetch_offset(&topic, 0).expect("fetch"),
        (NONE, 3, Some("m-1\0".to_string())),
        "OffsetFetch after the commit"
    );
}

#[test]
fn malformed_subscription_metadata_does_not_bring_the_agent_down() {
    // The coordinator treats member metadata as opaque bytes (Kafka only tries to
    // parse it and ignores what it cannot parse).
    let mut agent = agent();
    let group = unique_topic("grp-garbage");
    let mut g = RawGroupClient::connect(agent.kafka_addr(), &group).expect("connect");
    let garbage = Bytes::from_static(b"\x00\x00\x7f\xff\xff\xffnot a subscription");
    let join = g.join_new(garbage.clone());
    assert!(
        agent.is_running(),
        "agent died on a JoinGroup with malformed metadata\n{}",
        agent.log()
    );
    let join = join.expect("JoinGroup answered");
    assert_eq!(join.error_code, NONE, "JoinGroup: {join:?}");
    assert_eq!(join.members.len(), 1, "members");
    assert_eq!(
        join.members[0].metadata, garbage,
        "metadata returned to the leader"
    );
}

/// The coordinator exports `floe_consumer_group_lag{group,topic,partition}`:
/// high watermark minus committed offset, refreshed as records arrive and
/// offsets move; a deleted group's samples go away.
#[test]
fn consumer_lag_is_exported_per_partition_by_the_coordinator() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("floe.toml");
    std::fs::write(&config, "group_lag_interval_ms = 100\n").expect("write config");
    let agent = Agent::builder()
        .partitions(6)
        .arg("--config")
        .arg(config.to_str().expect("utf-8 path"))
        .start()
        .expect("start agent");
    let topic = unique_topic("grp-lag");
    let group = format!("{topic}-group");
    let mut raw = RawClient::connect(agent.kafka_addr()).expect("connect");
    assert_eq!(raw.create_topic(&topic, 6).expect("create topic"), 0);
    let kcat = Kcat::new(agent.bootstrap());
    kcat_produce(&kcat, &topic, 0, 10);

    // A simple consumer (generation -1) commits partition 0 at 4 and
    // partition 3 at 10: lag 6 and 0; uncommitted partitions have no lag.
    let mut g = RawGroupClient::connect(agent.kafka_addr(), &group).expect("connect group");
    assert_eq!(g.commit(-1, "", &topic, 0, 4, "").expect("commit"), NONE);
    assert_eq!(g.commit(-1, "", &topic, 3, 10, "").expect("commit"), NONE);
    let lag_of = |partition: i32| {
        let needle = format!(
            "floe_consumer_group_lag{{group=\"{group}\",partition=\"{partition}\",topic=\"{topic}\"}}"
        );
        agent
            .metrics()
            .expect("metrics")
            .lines()
            .find_map(|l| l.strip_prefix(&needle).map(|v| v.trim().to_string()))
    };
    let lags = || (lag_of(0), lag_of(1), lag_of(3));
    wait_until(
        "lag of partitions 0 and 3",
        Duration::from_secs(30),
        || lags() == (Some("6".into()), None, Some("0".into())),
        || format!("{:?}\n{}", lags(), agent.metrics().unwrap_or_default()),
    );

    // New records raise the lag; a commit lowers it.
    kcat_produce(&kcat, &topic, 10, 5);
    assert_eq!(g.commit(-1, "", &topic, 0, 12, "").expect("commit"), NONE);
    wait_until(
        "lag after more records and a commit",
        Duration::from_secs(30),
        || lags() == (Some("3".into()), None, Some("5".into())),
        || format!("{:?}\n{}", lags(), agent.metrics().unwrap_or_default()),
    );
    assert!(
        agent
            .metrics()
            .expect("metrics")
            .contains("floe_consumer_groups{state=\"Empty\"} 1"),
        "one empty group coordinated here"
    );

    // Deleting the group removes its samples.
    assert_eq!(g.delete().expect("delete group"), NONE);
    wait_until(
        "the deleted group's lag gone",
        Duration::from_secs(30),
        || lags() == (None, None, None),
        || format!("{:?}\n{}", lags(), agent.metrics().unwrap_or_default()),
    );
}
