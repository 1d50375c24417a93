//! `floe dev-cluster` run as users run it: the harness starts the command on a free
//! range of ports, reads what it prints (the `bootstrap:` line first, then one line per
//! agent and the folder it works in), and on drop sends it SIGTERM and waits.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read};
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::binary;
use crate::cluster::broker_view;

/// How long the whole cluster may take to come up (Postgres, S3, agents ready).
const START_TIMEOUT: Duration = Duration::from_secs(120);
/// How long `floe dev-cluster` may take to stop after SIGTERM.
const STOP_TIMEOUT: Duration = Duration::from_secs(60);
/// Tries at finding a free range of ports and starting on it.
const START_ATTEMPTS: usize = 5;

/// One agent as `floe dev-cluster` announced it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevAgent {
    /// Its Kafka address.
    pub kafka: SocketAddr,
    /// Its HTTP address.
    pub http: SocketAddr,
    /// Its zone.
    pub zone: String,
    /// Its process id.
    pub pid: i32,
}

/// A running `floe dev-cluster`.
#[derive(Debug)]
pub struct DevCluster {
    child: Option<Child>,
    /// The base port it was given.
    pub base_port: u16,
    /// The first line it printed, without the `bootstrap: ` label.
    pub bootstrap: String,
    /// Its agents, in order.
    pub agents: Vec<DevAgent>,
    /// The temporary folder it works in (removed when it stops).
    pub dir: PathBuf,
    /// Every line it printed on standard output up to `ready:`.
    pub announcement: Vec<String>,
    stderr: mpsc::Receiver<String>,
}

impl DevCluster {
    /// Starts `floe dev-cluster --agents N --base-port P [-- SERVE_ARGS]` on a free range
    /// of ports and waits until it prints `ready:`.
    pub fn start(agents: usize, serve_args: &[&str]) -> Result<DevCluster> {
        let mut last = None;
        for _ in 0..START_ATTEMPTS {
            let base = free_range(agents)?;
            match Self::start_on(agents, base, serve_args) {
                Ok(cluster) => return Ok(cluster),
                Err(error) => last = Some(error),
            }
        }
        Err(last.unwrap_or_else(|| anyhow::anyhow!("dev-cluster did not start")))
    }

    fn start_on(agents: usize, base_port: u16, serve_args: &[&str]) -> Result<DevCluster> {
        let mut command = Command::new(binary::floe_bin()?);
        command
            .args(["dev-cluster", "--agents"])
            .arg(agents.to_string())
            .arg("--base-port")
            .arg(base_port.to_string());
        if !serve_args.is_empty() {
            command.arg("--").args(serve_args);
        }
        let mut child = command
            .env("FLOE_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .context("cannot start floe dev-cluster")?;
        let stdout = child.stdout.take().context("no stdout")?;
        let stderr = child.stderr.take().context("no stderr")?;
        let (err_tx, err_rx) = mpsc::channel();
        thread::spawn(move || {
            let mut text = String::new();
            let _ = BufReader::new(stderr).read_to_string(&mut text);
            let _ = err_tx.send(text);
        });
        let (line_tx, line_rx) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if line_tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut cluster = DevCluster {
            child: Some(child),
            base_port,
            bootstrap: String::new(),
            agents: Vec::new(),
            dir: PathBuf::new(),
            announcement: Vec::new(),
            stderr: err_rx,
        };
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match line_rx.recv_timeout(left) {
                Ok(line) => {
                    let done = line.starts_with("ready:");
                    cluster.announcement.push(line);
                    if done {
                        break;
                    }
                }
                Err(_) => {
                    let status = cluster.stop_now()?;
                    bail!(
                        "floe dev-cluster did not print ready: ({status}); stdout:\n{}\nstderr:\n{}",
                        cluster.announcement.join("\n"),
                        cluster.stderr_text()
                    );
                }
            }
        }
        cluster.parse_announcement()?;
        Ok(cluster)
    }

    fn parse_announcement(&mut self) -> Result<()> {
        let first = self.announcement.first().context("nothing printed")?;
        self.bootstrap = first
            .strip_prefix("bootstrap: ")
            .with_context(|| format!("first line is not the bootstrap line: {first:?}"))?
            .to_string();
        for line in &self.announcement[1..] {
            if let Some(rest) = line.strip_prefix("dir: ") {
                self.dir = PathBuf::from(rest);
            } else if line.starts_with("agent ") {
                let field = |name: &str| -> Result<String> {
                    line.split_whitespace()
                        .find_map(|word| word.strip_prefix(&format!("{name}=")))
                        .map(str::to_string)
                        .with_context(|| format!("no {name}= in {line:?}"))
                };
                self.agents.push(DevAgent {
                    kafka: field("kafka")?.parse()?,
                    http: field("http")?.parse()?,
                    zone: field("zone")?,
                    pid: field("pid")?.parse()?,
                });
            }
        }
        Ok(())
    }

    /// The Kafka addresses of the agents in `which`, comma-separated.
    pub fn bootstrap_of(&self, which: &[usize]) -> String {
        which
            .iter()
            .map(|&i| self.agents[i].kafka.to_string())
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Waits until every agent's Metadata lists every agent (each sees the others at
    /// its next heartbeat); fails after `timeout`.
    pub fn wait_until_all_listed(&self, timeout: Duration) -> Result<()> {
        let all: BTreeSet<String> = self.agents.iter().map(|a| a.kafka.to_string()).collect();
        let deadline = Instant::now() + timeout;
        for agent in &self.agents {
            loop {
                let seen = broker_view(agent.kafka).map(|view| view.addresses());
                match seen {
                    Ok(seen) if seen == all => break,
                    Ok(seen) if Instant::now() >= deadline => {
                        bail!("agent {} lists {seen:?}, not {all:?}", agent.kafka)
                    }
                    Err(error) if Instant::now() >= deadline => return Err(error),
                    _ => thread::sleep(Duration::from_millis(100)),
                }
            }
        }
        Ok(())
    }

    /// Whether the `floe dev-cluster` process still runs.
    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|child| matches!(child.try_wait(), Ok(None)))
    }

    /// Sends `signal` to `floe dev-cluster` and waits for it to exit; returns its status
    /// and what it printed on standard error.
    pub fn stop_with(&mut self, signal: Signal) -> Result<(ExitStatus, String)> {
        let child = self.child.as_mut().context("already stopped")?;
        let pid = Pid::from_raw(i32::try_from(child.id())?);
        kill(pid, signal).context("cannot signal floe dev-cluster")?;
        let deadline = Instant::now() + STOP_TIMEOUT;
        let status = loop {
            if let Some(status) = child.try_wait()? {
                break status;
            }
            if Instant::now() >= deadline {
                let status = self.stop_now()?;
                bail!("floe dev-cluster did not stop within {STOP_TIMEOUT:?} ({status})");
            }
            thread::sleep(Duration::from_millis(50));
        };
        self.child = None;
        Ok((status, self.stderr_text()))
    }

    /// Kills the process at once and reaps it.
    fn stop_now(&mut self) -> Result<ExitStatus> {
        let mut child = self.child.take().context("already stopped")?;
        let _ = child.kill();
        Ok(child.wait()?)
    }

    fn stderr_text(&self) -> String {
        self.stderr
            .recv_timeout(Duration::from_secs(10))
            .unwrap_or_default()
    }
}

impl Drop for DevCluster {
    fn drop(&mut self) {
        if self.child.is_some()
            && let Err(error) = self.stop_with(Signal::SIGTERM)
        {
            eprintln!("floe dev-cluster: {error:#}");
        }
    }
}

/// Whether process `pid` runs: it exists and is not a zombie waiting for a parent that
/// does not reap it (a container's first process often does not).
pub fn process_exists(pid: i32) -> bool {
    if kill(Pid::from_raw(pid), None).is_err() {
        return false;
    }
    // The state is the field after the parenthesised command name.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            stat.rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().next().map(str::to_string))
        })
        .is_none_or(|state| state != "Z" && state != "X")
}

/// A base port P such that P..P+agents and P+100..P+100+agents were all free a moment
/// ago (in the ephemeral range's lower neighbour, 20000–29899).
fn free_range(agents: usize) -> Result<u16> {
    // Different processes and calls start their search at different places.
    let seed = std::process::id() as usize
        ^ std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos() as usize)
            .unwrap_or_default();
    for attempt in 0..200 {
        let base = 20_000 + (seed.wrapping_add(attempt * 7_919)) % 9_800;
        let all_free = (0..agents)
            .flat_map(|i| [base + i, base + 100 + i])
            .all(|port| {
                u16::try_from(port).is_ok_and(|p| TcpListener::bind(("127.0.0.1", p)).is_ok())
            });
        if all_free {
            return Ok(u16::try_from(base)?);
        }
    }
    bail!("no free range of ports for {agents} agents")
}
