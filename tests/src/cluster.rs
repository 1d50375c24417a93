//! The production shape: several agents sharing one Postgres (the metadata store and
//! sequencer) and one S3-compatible server (the segment files).
//!
//! [`Cluster::builder`] starts a [`TestS3`] of its own, points every agent at a
//! Postgres database (a fresh one on the test binary's shared server unless a URL is
//! given) and at `s3://BUCKET/<name>`, starts the agents on free ports, and waits until
//! each agent's Metadata lists all of them. Agents may be given zones (`zone-0`,
//! `zone-1`, …): a client whose id names a zone (`floe_az=zone-1`) is then routed to that
//! zone's agent for every partition, which lets a test pin a client to one agent.
//!
//! Also here: reading a topic back from one chosen agent with the raw client (every
//! agent serves every partition, so "read through agent B" really means B).

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};

use crate::raw::RawClient;
use crate::records::TestRecord;
use crate::s3::TestS3;
use crate::{Agent, AgentBuilder, TestPostgres};

/// How long a new cluster may take until every agent sees every other.
const CONVERGE_TIMEOUT: Duration = Duration::from_secs(30);

/// One Postgres server for the whole test binary, started by the first test that needs
/// it. Statics are never dropped: the server's watchdog stops it and removes its
/// directory when the test process exits.
static POSTGRES: OnceLock<Result<TestPostgres, String>> = OnceLock::new();

/// The test binary's shared Postgres server, started on first use. Each test makes its
/// own database with [`TestPostgres::create_database`].
pub fn shared_postgres() -> Result<&'static TestPostgres> {
    POSTGRES
        .get_or_init(|| TestPostgres::start().map_err(|error| format!("{error:#}")))
        .as_ref()
        .map_err(|error| anyhow!("cannot start the shared test Postgres: {error}"))
}

/// Options for a [`Cluster`].
#[derive(Debug, Clone)]
pub struct ClusterBuilder {
    name: String,
    agents: usize,
    partitions: u32,
    zones: bool,
    flush_interval_ms: u64,
    metadata_url: Option<String>,
    concurrent_start: bool,
    extra_args: Vec<String>,
    extra_env: Vec<(String, String)>,
}

impl ClusterBuilder {
    /// Number of agents (default 3).
    pub fn agents(mut self, agents: usize) -> Self {
        self.agents = agents;
        self
    }

    /// Partitions of auto-created topics (default 1).
    pub fn partitions(mut self, partitions: u32) -> Self {
        self.partitions = partitions;
        self
    }

    /// Gives agent `i` the zone `zone-i` (default: no zones).
    pub fn zones(mut self, zones: bool) -> Self {
        self.zones = zones;
        self
    }

    /// The agents' `--flush-interval-ms` (default 5).
    pub fn flush_interval_ms(mut self, ms: u64) -> Self {
        self.flush_interval_ms = ms;
        self
    }

    /// The metadata store URL (default: a new database on [`shared_postgres`]).
    pub fn metadata_url(mut self, url: impl Into<String>) -> Self {
        self.metadata_url = Some(url.into());
        self
    }

    /// Starts all agents at once rather than one after the other (they then race to
    /// set up an empty database).
    pub fn concurrent_start(mut self, concurrent: bool) -> Self {
        self.concurrent_start = concurrent;
        self
    }

    /// Appends an extra argument to every agent's `floe serve` command line.
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.extra_args.push(arg.into());
        self
    }

    /// Sets an environment variable (e.g. a `FLOE_*` setting) for every agent.
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra_env.push((key.into(), value.into()));
        self
    }

    /// Starts the S3 server and the agents, and waits until every agent lists all of
    /// them as brokers.
    pub fn start(self) -> Result<Cluster> {
        let metadata_url = match &self.metadata_url {
            Some(url) => url.clone(),
            None => shared_postgres()?.create_database(&self.name)?,
        };
        let s3 = TestS3::start()?;
        let prefix = self
            .name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect::<String>();
        let mut cluster = Cluster {
            agents: Vec::new(),
            s3,
            metadata_url,
            prefix,
            options: self,
        };
        let count = cluster.options.agents;
        if cluster.options.concurrent_start {
            let builders: Vec<AgentBuilder> =
                (0..count).map(|i| cluster.agent_builder(i)).collect();
            let handles: Vec<_> = builders
                .into_iter()
                .map(|builder| thread::spawn(move || start_agent(builder)))
                .collect();
            let mut errors = Vec::new();
            for (i, handle) in handles.into_iter().enumerate() {
                match handle.join() {
                    Ok(Ok(agent)) => cluster.agents.push(agent),
                    Ok(Err(error)) => errors.push(format!("agent {i}: {error:#}")),
                    Err(_) => errors.push(format!("agent {i}: start-up thread panicked")),
                }
            }
            if !errors.is_empty() {
                bail!(
                    "agents started at once did not all come up:\n{}",
                    errors.join("\n")
                );
            }
        } else {
            for i in 0..count {
                let agent = start_agent(cluster.agent_builder(i))
                    .with_context(|| format!("cannot start agent {i}"))?;
                cluster.agents.push(agent);
            }
        }
        let all: Vec<usize> = (0..count).collect();
        cluster.wait_for_brokers(&all, &all, CONVERGE_TIMEOUT)?;
        Ok(cluster)
    }
}

/// Tries at starting one agent whose ports turned out to be taken.
const AGENT_START_ATTEMPTS: usize = 3;

/// Starts an agent and makes sure the process listening on its ports is that agent.
///
/// Ports are picked free but bound only later, after the agent has connected to
/// Postgres: another test process may take one in between. The agent then exits, but
/// `/readyz` on its HTTP port may already have been answered by the other process.
/// So the listening sockets' owner is checked in `/proc`, and an agent that does not
/// own both of its ports is replaced by a new one on other ports.
pub fn start_agent(builder: AgentBuilder) -> Result<Agent> {
    let mut last_error = None;
    for _ in 0..AGENT_START_ATTEMPTS {
        let mut agent = builder.clone().start()?;
        match wait_owns_ports(&mut agent, CONVERGE_TIMEOUT) {
            Ok(()) => return Ok(agent),
            Err(error) => {
                eprintln!("agent on {} replaced: {error:#}", agent.bootstrap());
                last_error = Some(error);
            }
        }
    }
    Err(last_error.unwrap_or_else(|| anyhow!("no agent started")))
}

/// Waits until the agent's process holds the listening sockets of its Kafka and HTTP
/// ports; fails if it exits first or the time runs out.
pub fn wait_owns_ports(agent: &mut Agent, timeout: Duration) -> Result<()> {
    let deadline = Instant::now() + timeout;
    let ports = [agent.kafka_addr().port(), agent.http_addr().port()];
    loop {
        let pid = agent.pid().context("the agent is not running")?;
        let owned = ports
            .iter()
            .map(|&port| owns_listener(pid, port))
            .collect::<Result<Vec<bool>>>()?;
        if owned.iter().all(|&o| o) {
            return Ok(());
        }
        if !agent.is_running() {
            bail!(
                "the agent exited after it seemed ready (another process answered on its \
                 ports {ports:?})\n{}",
                crate::process::tail(&agent.log(), 4000)
            );
        }
        if Instant::now() >= deadline {
            bail!("the agent does not listen on its ports {ports:?} after {timeout:?}");
        }
        thread::sleep(Duration::from_millis(50));
    }
}

/// Whether process `pid` holds a listening TCP socket (IPv4 or IPv6) on `port`.
fn owns_listener(pid: u32, port: u16) -> Result<bool> {
    const LISTEN: &str = "0A";
    let mut inodes = BTreeSet::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (Some(local), Some(state), Some(inode)) =
                (fields.get(1), fields.get(3), fields.get(9))
            else {
                continue;
            };
            let local_port = local
                .rsplit_once(':')
                .and_then(|(_, p)| u16::from_str_radix(p, 16).ok());
            if *state == LISTEN && local_port == Some(port) {
                inodes.insert(format!("socket:[{inode}]"));
            }
        }
    }
    if inodes.is_empty() {
        return Ok(false);
    }
    let fds = match std::fs::read_dir(format!("/proc/{pid}/fd")) {
        Ok(fds) => fds,
        Err(_) => return Ok(false),
    };
    Ok(fds.flatten().any(|fd| {
        std::fs::read_link(fd.path())
            .map(|target| inodes.contains(target.to_string_lossy().as_ref()))
            .unwrap_or(false)
    }))
}

/// Agents sharing one metadata database and one S3 bucket prefix. Dropping it kills
/// the agents, then the S3 server.
#[derive(Debug)]
pub struct Cluster {
    // Declared first: dropped (killed) before the S3 server goes away.
    agents: Vec<Agent>,
    s3: TestS3,
    metadata_url: String,
    prefix: String,
    options: ClusterBuilder,
}

impl Cluster {
    /// Options for a cluster; `name` names its database and its S3 prefix.
    pub fn builder(name: &str) -> ClusterBuilder {
        ClusterBuilder {
            name: name.to_string(),
            agents: 3,
            partitions: 1,
            zones: false,
            flush_interval_ms: 5,
            metadata_url: None,
            concurrent_start: false,
            extra_args: Vec::new(),
            extra_env: Vec::new(),
        }
    }

    /// The number of agents (running or not).
    pub fn len(&self) -> usize {
        self.agents.len()
    }

    /// Whether the cluster has no agent.
    pub fn is_empty(&self) -> bool {
        self.agents.is_empty()
    }

    /// Agent `i`.
    pub fn agent(&self, i: usize) -> &Agent {
        &self.agents[i]
    }

    /// Agent `i`, to stop, kill or restart it.
    pub fn agent_mut(&mut self, i: usize) -> &mut Agent {
        &mut self.agents[i]
    }

    /// All agents.
    pub fn agents(&self) -> &[Agent] {
        &self.agents
    }

    /// Agent `i`'s Kafka address as `127.0.0.1:PORT`.
    pub fn bootstrap(&self, i: usize) -> String {
        self.agents[i].bootstrap()
    }

    /// The Kafka addresses of `agents`, comma-separated, for `bootstrap.servers`.
    pub fn bootstrap_of(&self, agents: &[usize]) -> String {
        agents
            .iter()
            .map(|&i| self.bootstrap(i))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Every agent's Kafka address, comma-separated.
    pub fn bootstrap_all(&self) -> String {
        let all: Vec<usize> = (0..self.len()).collect();
        self.bootstrap_of(&all)
    }

    /// The zone of agent `i`, when the cluster has zones.
    pub fn zone(&self, i: usize) -> Option<String> {
        self.options.zones.then(|| format!("zone-{i}"))
    }

    /// The shared metadata store URL.
    pub fn metadata_url(&self) -> &str {
        &self.metadata_url
    }

    /// The S3 server.
    pub fn s3(&self) -> &TestS3 {
        &self.s3
    }

    /// The prefix of this cluster's objects in the bucket.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The `--object-store` URL every agent is given.
    pub fn object_store_url(&self) -> String {
        self.s3.url(&self.prefix)
    }

    /// The keys of every object the agents stored in S3.
    pub fn object_keys(&self) -> Result<Vec<String>> {
        self.s3.list_keys(&format!("{}/", self.prefix))
    }

    /// Starts one more agent with the cluster's options and returns its index. (Does
    /// not wait for the others to see it; see [`Cluster::wait_for_brokers`].)
    pub fn add_agent(&mut self) -> Result<usize> {
        let i = self.agents.len();
        let agent = start_agent(self.agent_builder(i))
            .with_context(|| format!("cannot start agent {i}"))?;
        self.agents.push(agent);
        Ok(i)
    }

    /// What agent `i` answers to Metadata.
    pub fn view(&self, i: usize) -> Result<BrokerView> {
        broker_view(self.agents[i].kafka_addr())
    }

    /// Polls the Metadata of each agent in `via` until the brokers it lists are exactly
    /// the agents in `expected`; fails after `timeout`. Returns how long it took.
    pub fn wait_for_brokers(
        &self,
        via: &[usize],
        expected: &[usize],
        timeout: Duration,
    ) -> Result<Duration> {
        let started = Instant::now();
        let deadline = started + timeout;
        let want: BTreeSet<String> = expected.iter().map(|&i| self.bootstrap(i)).collect();
        for &i in via {
            loop {
                let last = match self.view(i) {
                    Ok(view) if view.addresses() == want => break,
                    Ok(view) => format!("lists {:?}", view.addresses()),
                    Err(error) => format!("{error:#}"),
                };
                if Instant::now() >= deadline {
                    bail!(
                        "agent {i} ({}) does not list exactly {want:?} as brokers after \
                         {timeout:?}: it {last}\n{}",
                        self.bootstrap(i),
                        self.logs()
                    );
                }
                thread::sleep(Duration::from_millis(100));
            }
        }
        Ok(started.elapsed())
    }

    /// The end of every agent's log, labelled, for failure messages.
    pub fn logs(&self) -> String {
        self.agents
            .iter()
            .enumerate()
            .map(|(i, agent)| {
                format!(
                    "--- agent {i} ({}) log ---\n{}",
                    agent.bootstrap(),
                    crate::process::tail(&agent.log(), 6000)
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The builder of agent `i`.
    fn agent_builder(&self, i: usize) -> AgentBuilder {
        let o = &self.options;
        let mut builder = Agent::builder()
            .partitions(o.partitions)
            .flush_interval_ms(o.flush_interval_ms)
            .arg("--metadata")
            .arg(self.metadata_url.clone())
            .arg("--object-store")
            .arg(self.object_store_url());
        if let Some(zone) = self.zone(i) {
            builder = builder.arg("--zone").arg(zone);
        }
        for arg in &o.extra_args {
            builder = builder.arg(arg.clone());
        }
        for (key, value) in self.s3.env() {
            builder = builder.env(key, value);
        }
        for (key, value) in &o.extra_env {
            builder = builder.env(key.clone(), value.clone());
        }
        builder
    }
}

/// What one agent answers to Metadata about the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerView {
    /// The answering agent's own node id (it names itself the controller).
    pub node_id: i32,
    /// The brokers listed: node id → `host:port`.
    pub brokers: BTreeMap<i32, String>,
}

impl BrokerView {
    /// The listed brokers' addresses.
    pub fn addresses(&self) -> BTreeSet<String> {
        self.brokers.values().cloned().collect()
    }
}

/// Asks the agent at `addr` for Metadata (no topics) and returns its brokers.
pub fn broker_view(addr: SocketAddr) -> Result<BrokerView> {
    let mut client = RawClient::connect(addr)?;
    let topics: &[&str] = &[];
    let metadata = client.metadata(Some(topics), false)?;
    let brokers = metadata
        .brokers
        .iter()
        .map(|b| (b.node_id.0, format!("{}:{}", b.host.as_str(), b.port)))
        .collect();
    Ok(BrokerView {
        node_id: metadata.controller_id.0,
        brokers,
    })
}

/// The leader (`host:port`) of each partition of `topic` as the agent at `addr` names
/// it (to the raw client, which names no zone).
pub fn topic_leaders(addr: SocketAddr, topic: &str) -> Result<BTreeMap<i32, String>> {
    let mut client = RawClient::connect(addr)?;
    let metadata = client.metadata(Some(&[topic]), false)?;
    let brokers: BTreeMap<i32, String> = metadata
        .brokers
        .iter()
        .map(|b| (b.node_id.0, format!("{}:{}", b.host.as_str(), b.port)))
        .collect();
    let entry = metadata
        .topics
        .iter()
        .find(|t| t.name.as_ref().map(|n| n.0.as_str()) == Some(topic))
        .with_context(|| format!("no topic {topic} in the Metadata of {addr}"))?;
    if entry.error_code != 0 {
        bail!("Metadata of {addr}: error {} for {topic}", entry.error_code);
    }
    entry
        .partitions
        .iter()
        .map(|p| {
            let leader = brokers.get(&p.leader_id.0).with_context(|| {
                format!(
                    "{topic}/{} is led by node {}, which is not among the brokers {brokers:?}",
                    p.partition_index, p.leader_id.0
                )
            })?;
            Ok((p.partition_index, leader.clone()))
        })
        .collect()
}

/// Creates `topic` with `partitions` through the agent at `addr` (CreateTopics).
pub fn create_topic(addr: SocketAddr, topic: &str, partitions: i32) -> Result<()> {
    let mut client = RawClient::connect(addr)?;
    let code = client.create_topic(topic, partitions)?;
    if code != 0 {
        bail!("CreateTopics {topic} ({partitions} partitions) via {addr}: error {code}");
    }
    Ok(())
}

/// The records of each partition of a topic, by partition, in offset order.
pub type TopicLog = BTreeMap<i32, Vec<TestRecord>>;

/// Reads partitions `0..partitions` of `topic` through the agent at `addr` with the raw
/// client: ListOffsets (latest) gives each partition's end, then everything from offset
/// 0 is fetched. Fails unless each partition's offsets are exactly `0..end`.
pub fn read_topic(addr: SocketAddr, topic: &str, partitions: i32) -> Result<TopicLog> {
    let mut client = RawClient::connect(addr)?;
    let mut log = TopicLog::new();
    for partition in 0..partitions {
        let earliest = client.list_offsets(topic, partition, -2)?;
        let latest = client.list_offsets(topic, partition, -1)?;
        if earliest.error_code != 0 || latest.error_code != 0 {
            bail!(
                "ListOffsets {topic}/{partition} via {addr}: errors {} (earliest), {} (latest)",
                earliest.error_code,
                latest.error_code
            );
        }
        if earliest.offset != 0 {
            bail!(
                "{topic}/{partition} via {addr}: earliest offset {}, expected 0",
                earliest.offset
            );
        }
        let end = usize::try_from(latest.offset)
            .with_context(|| format!("latest offset {} of {topic}/{partition}", latest.offset))?;
        let (records, _) = client.fetch_all(topic, partition, end)?;
        let offsets: Vec<i64> = records.iter().map(|r| r.offset).collect();
        let expected: Vec<i64> = (0..latest.offset).collect();
        if offsets != expected {
            let first_difference = offsets
                .iter()
                .zip(&expected)
                .position(|(a, b)| a != b)
                .unwrap_or(offsets.len().min(expected.len()));
            bail!(
                "{topic}/{partition} via {addr}: fetched {} records for latest offset {}, \
                 offsets not exactly 0..{}; first difference at index {first_difference} \
                 (fetched {:?}, expected {:?})",
                offsets.len(),
                latest.offset,
                latest.offset,
                offsets.get(first_difference),
                expected.get(first_difference)
            );
        }
        log.insert(partition, records);
    }
    Ok(log)
}

/// The key of a record as text (empty when it has none).
pub fn key_text(record: &TestRecord) -> String {
    record
        .key
        .as_ref()
        .map(|k| String::from_utf8_lossy(k).into_owned())
        .unwrap_or_default()
}

/// The value of a record as text (empty when it has none).
pub fn value_text(record: &TestRecord) -> String {
    record
        .value
        .as_ref()
        .map(|v| String::from_utf8_lossy(v).into_owned())
        .unwrap_or_default()
}
