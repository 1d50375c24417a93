//! A `floe serve` process started for one test, in its own temporary directory.
//!
//! Layout of the temporary directory (nothing else may appear in it):
//!
//! ```text
//! <tmp>/data/      --data-dir: everything the agent stores
//! <tmp>/cwd/       the agent's working directory; must stay empty
//! <tmp>/tmp/       the agent's TMPDIR; must stay empty
//! <tmp>/agent.log  the agent's stdout and stderr, across restarts
//! ```

use std::fs::{File, OpenOptions};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tempfile::TempDir;

use crate::{binary, http, metrics, ports, process};

/// Name of the log file inside the agent's temporary directory.
pub const LOG_FILE: &str = "agent.log";
/// How long to wait for `/readyz` after a start.
const READY_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a graceful stop may take.
const STOP_TIMEOUT: Duration = Duration::from_secs(30);

/// Options for starting an [`Agent`].
#[derive(Debug, Clone)]
pub struct AgentBuilder {
    partitions: u32,
    auto_create: bool,
    flush_interval_ms: u64,
    flush_bytes: Option<u64>,
    extra_args: Vec<String>,
    env: Vec<(String, String)>,
    advertised: Option<String>,
    listeners: Vec<String>,
    /// The CA the HTTP listener's certificate is checked against, when it
    /// serves HTTPS (`--http-tls`).
    http_tls_ca: Option<PathBuf>,
}

impl Default for AgentBuilder {
    fn default() -> Self {
        Self {
            partitions: 1,
            auto_create: true,
            flush_interval_ms: 5,
            flush_bytes: None,
            extra_args: Vec::new(),
            env: Vec::new(),
            advertised: None,
            listeners: Vec::new(),
            http_tls_ca: None,
        }
    }
}

impl AgentBuilder {
    /// Partitions of auto-created topics (`--default-partitions`, default 1).
    pub fn partitions(mut self, partitions: u32) -> Self {
        self.partitions = partitions;
        self
    }

    /// Whether Metadata and Produce create unknown topics (`--auto-create-topics`,
    /// default true).
    pub fn auto_create(mut self, enabled: bool) -> Self {
        self.auto_create = enabled;
        self
    }

    /// How old the pending segment may get before it is flushed (`--flush-interval-ms`,
    /// default 5 ms here so tests do not wait).
    pub fn flush_interval_ms(mut self, ms: u64) -> Self {
        self.flush_interval_ms = ms;
        self
    }

    /// How large the pending segment may get before it is flushed (`--flush-bytes`;
    /// the agent's default when not set).
    pub fn flush_bytes(mut self, bytes: u64) -> Self {
        self.flush_bytes = Some(bytes);
        self
    }

    /// The `host:port` the agent advertises to clients (default: its own Kafka
    /// port), e.g. a fault-injecting proxy in front of it.
    pub fn advertised_addr(mut self, addr: impl Into<String>) -> Self {
        self.advertised = Some(addr.into());
        self
    }

    /// Adds a listener of `protocol` (`SSL`, `SASL_PLAINTEXT`, `SASL_SSL`) on a
    /// free port of 127.0.0.1, beside the PLAINTEXT one: the agent is then
    /// started with `--listeners` instead of `--kafka-listen`. TLS listeners
    /// need `--tls-cert`/`--tls-key` given with [`AgentBuilder::arg`].
    pub fn listener(mut self, protocol: impl Into<String>) -> Self {
        self.listeners.push(protocol.into());
        self
    }

    /// Serves the HTTP listener over TLS (`--http-tls`; the test gives
    /// `--tls-cert` and `--tls-key`), its certificate signed by `ca`: the
    /// start waits for `/readyz` over HTTPS, and [`Agent::http_get`] and
    /// [`Agent::metrics`] speak HTTPS.
    pub fn http_tls(mut self, ca: impl Into<PathBuf>) -> Self {
        self.http_tls_ca = Some(ca.into());
        self.extra_args.push("--http-tls".into());
        self.extra_args.push("true".into());
        self
    }

    /// Appends an extra command-line argument to `floe serve`.
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.extra_args.push(arg.into());
        self
    }

    /// Sets an environment variable for the agent process.
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Creates the directories, picks free ports, starts the agent and waits until
    /// `/readyz` answers 200.
    pub fn start(self) -> Result<Agent> {
        let dir = tempfile::Builder::new()
            .prefix("floe-agent-")
            .tempdir()
            .context("cannot create the agent's temporary directory")?;
        for sub in ["data", "cwd", "tmp"] {
            std::fs::create_dir(dir.path().join(sub))
                .with_context(|| format!("cannot create {sub}/ in the agent's directory"))?;
        }
        let mut listener_ports = Vec::new();
        for protocol in &self.listeners {
            listener_ports.push((protocol.clone(), ports::free_port()?));
        }
        let mut agent = Agent {
            bin: binary::floe_bin()?,
            listener_ports,
            kafka_port: ports::free_port()?,
            http_port: ports::free_port()?,
            dir,
            child: None,
            options: self,
            started_once: false,
        };
        agent.spawn_and_wait_ready()?;
        Ok(agent)
    }
}

/// A running (or stopped) `floe serve` process owned by a test. Dropping it kills the
/// process; if the thread is panicking (a failed test) the agent's log is printed.
#[derive(Debug)]
pub struct Agent {
    bin: PathBuf,
    /// Ports of the listeners beside the PLAINTEXT one, by protocol.
    listener_ports: Vec<(String, u16)>,
    kafka_port: u16,
    http_port: u16,
    dir: TempDir,
    child: Option<Child>,
    options: AgentBuilder,
    /// Whether the agent was ever ready; from then on its ports are fixed.
    started_once: bool,
}

impl Agent {
    /// Options for a new agent.
    pub fn builder() -> AgentBuilder {
        AgentBuilder::default()
    }

    /// Starts an agent with the default options.
    pub fn start() -> Result<Agent> {
        AgentBuilder::default().start()
    }

    /// The Kafka address, `127.0.0.1:PORT`, as clients want it for `bootstrap.servers`.
    pub fn bootstrap(&self) -> String {
        self.kafka_addr().to_string()
    }

    /// The Kafka listener's address.
    pub fn kafka_addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.kafka_port))
    }

    /// The address of the listener of `protocol` added with
    /// [`AgentBuilder::listener`] (`PLAINTEXT`: [`Agent::kafka_addr`]).
    pub fn listener_addr(&self, protocol: &str) -> SocketAddr {
        let port = self
            .listener_ports
            .iter()
            .find(|(p, _)| p == protocol)
            .map_or(self.kafka_port, |(_, port)| *port);
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    /// The HTTP listener's address.
    pub fn http_addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.http_port))
    }

    /// The temporary directory holding `data/`, `cwd/`, `tmp/` and the log.
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// The agent's `--data-dir`.
    pub fn data_dir(&self) -> PathBuf {
        self.root().join("data")
    }

    /// Segment objects (`*.seg`) in the agent's embedded object store
    /// (`<data dir>/objects/segments`).
    pub fn segment_files(&self) -> usize {
        fn count(dir: &Path) -> usize {
            std::fs::read_dir(dir).map_or(0, |entries| {
                entries
                    .flatten()
                    .map(|e| {
                        let path = e.path();
                        if path.is_dir() {
                            count(&path)
                        } else {
                            usize::from(path.extension().is_some_and(|x| x == "seg"))
                        }
                    })
                    .sum()
            })
        }
        count(&self.data_dir().join("objects/segments"))
    }

    /// The agent's working directory (must stay empty).
    pub fn cwd(&self) -> PathBuf {
        self.root().join("cwd")
    }

    /// The agent's `TMPDIR` (must stay empty).
    pub fn tmp_dir(&self) -> PathBuf {
        self.root().join("tmp")
    }

    /// Everything the agent has logged so far, across restarts.
    pub fn log(&self) -> String {
        std::fs::read(self.root().join(LOG_FILE))
            .map(|data| String::from_utf8_lossy(&data).into_owned())
            .unwrap_or_else(|e| format!("<cannot read the agent log: {e}>"))
    }

    /// The process id of the running agent, if it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// GETs a path on the HTTP listener.
    pub fn http_get(&self, path: &str) -> Result<http::Response> {
        self.get(path, Duration::from_secs(10))
    }

    /// GETs a path over HTTP, or HTTPS when the agent serves it.
    fn get(&self, path: &str, timeout: Duration) -> Result<http::Response> {
        match &self.options.http_tls_ca {
            Some(ca) => http::get_tls(self.http_addr(), path, ca, timeout),
            None => http::get(self.http_addr(), path, timeout),
        }
    }

    /// The `/metrics` text; fails unless the status is 200.
    pub fn metrics(&self) -> Result<String> {
        let response = self.http_get("/metrics")?;
        if response.status != 200 {
            bail!(
                "GET /metrics answered {}: {}",
                response.status,
                response.body
            );
        }
        Ok(response.body)
    }

    /// The sum over all label sets of one metric, `None` if it has no sample.
    pub fn metric(&self, name: &str) -> Result<Option<f64>> {
        Ok(metrics::sum(&self.metrics()?, name))
    }

    /// Polls `/metrics` until the metric `name` reaches `at_least`; fails after
    /// `timeout`. For ordering steps of a test, never for timing assertions.
    pub fn wait_for_metric(&self, name: &str, at_least: f64, timeout: Duration) -> Result<f64> {
        let deadline = Instant::now() + timeout;
        loop {
            let value = self.metric(name)?.unwrap_or(0.0);
            if value >= at_least {
                return Ok(value);
            }
            if Instant::now() >= deadline {
                bail!("metric {name} is {value} after {timeout:?}, expected at least {at_least}");
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends SIGTERM and waits for a clean exit (code 0); fails otherwise.
    pub fn stop(&mut self) -> Result<()> {
        self.stop_with(Signal::SIGTERM)
    }

    /// Sends `signal` (SIGTERM or SIGINT) and waits for a clean exit (code 0).
    pub fn stop_with(&mut self, signal: Signal) -> Result<()> {
        let status = self.signal_and_wait(signal)?;
        self.ensure_clean_exit(status, signal.as_str())
    }

    /// Sends `signal` and returns the exit status, failing only if the agent does not
    /// exit within the stop timeout (it is then killed).
    pub fn signal_and_wait(&mut self, signal: Signal) -> Result<ExitStatus> {
        self.send_signal(signal)?;
        self.wait_exit()
    }

    /// Sends `signal` to the running agent and returns at once.
    pub fn send_signal(&mut self, signal: Signal) -> Result<()> {
        let child = self.child.as_ref().context("agent is not running")?;
        let pid = Pid::from_raw(i32::try_from(child.id()).context("pid out of range")?);
        kill(pid, signal).with_context(|| format!("cannot send {signal} to the agent"))
    }

    /// Waits for the agent to exit (after a signal) and returns how it exited; kills it
    /// and fails if it still runs after the stop timeout.
    pub fn wait_exit(&mut self) -> Result<ExitStatus> {
        let mut child = self.child.take().context("agent is not running")?;
        let deadline = Instant::now() + STOP_TIMEOUT;
        loop {
            if let Some(status) = child.try_wait().context("cannot wait for the agent")? {
                return Ok(status);
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                bail!(
                    "agent still running {STOP_TIMEOUT:?} after being told to stop; killed\n{}",
                    self.log_excerpt()
                );
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Fails unless `status` is a clean exit (code 0).
    pub fn ensure_clean_exit(&self, status: ExitStatus, what: &str) -> Result<()> {
        if status.code() != Some(0) {
            bail!(
                "agent did not exit 0 after {what}: {status}\n{}",
                self.log_excerpt()
            );
        }
        Ok(())
    }

    /// Kills the agent with SIGKILL (no flush, no goodbye) and reaps it.
    pub fn kill(&mut self) -> Result<()> {
        let mut child = self.child.take().context("agent is not running")?;
        child.kill().context("cannot kill the agent")?;
        child.wait().context("cannot reap the agent")?;
        Ok(())
    }

    /// Starts the agent again with the same data directory, ports and options (stopping
    /// it gracefully first if it still runs) and waits until it is ready.
    pub fn restart(&mut self) -> Result<()> {
        if self.child.is_some() {
            self.stop()?;
        }
        self.spawn_and_wait_ready()
    }

    /// Whether the agent process is still alive.
    pub fn is_running(&mut self) -> bool {
        match self.child.as_mut() {
            Some(child) => matches!(child.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// Lists every path below the agent's temporary directory that lies outside
    /// `data/` and is not the log: anything the agent wrote where it should not.
    pub fn stray_files(&self) -> Result<Vec<PathBuf>> {
        let mut stray = Vec::new();
        for entry in std::fs::read_dir(self.root()).context("cannot list the agent's dir")? {
            let entry = entry?;
            let name = entry.file_name();
            match name.to_str() {
                Some("data") | Some(LOG_FILE) => {}
                Some("cwd") | Some("tmp") => {
                    for inner in std::fs::read_dir(entry.path())? {
                        stray.push(inner?.path());
                    }
                }
                _ => stray.push(entry.path()),
            }
        }
        Ok(stray)
    }

    /// The command line used to start the agent.
    fn command(&self) -> Result<Command> {
        let o = &self.options;
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.root().join(LOG_FILE))
            .context("cannot open the agent log")?;
        let log_err: File = log.try_clone().context("cannot clone the log handle")?;
        let mut cmd = Command::new(&self.bin);
        cmd.arg("serve")
            .arg("--data-dir")
            .arg(self.data_dir())
            .arg("--http-listen")
            .arg(self.http_addr().to_string());
        if self.listener_ports.is_empty() {
            cmd.arg("--kafka-listen")
                .arg(self.kafka_addr().to_string())
                .arg("--advertised-addr")
                .arg(
                    o.advertised
                        .clone()
                        .unwrap_or_else(|| self.kafka_addr().to_string()),
                );
        } else {
            let mut listeners = vec![format!("PLAINTEXT://{}", self.kafka_addr())];
            for (protocol, _) in &self.listener_ports {
                listeners.push(format!("{protocol}://{}", self.listener_addr(protocol)));
            }
            cmd.arg("--listeners").arg(listeners.join(","));
        }
        cmd.arg("--default-partitions")
            .arg(o.partitions.to_string())
            .arg("--auto-create-topics")
            .arg(o.auto_create.to_string())
            .arg("--flush-interval-ms")
            .arg(o.flush_interval_ms.to_string());
        if let Some(bytes) = o.flush_bytes {
            cmd.arg("--flush-bytes").arg(bytes.to_string());
        }
        // The agent reads FLOE_* variables as settings: pass none of the test's own
        // (FLOE_BIN, FLOE_TEST_PYTHON) through, only the log filter.
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("FLOE_") {
                cmd.env_remove(key);
            }
        }
        let filter = std::env::var("FLOE_LOG").unwrap_or_else(|_| "info".into());
        cmd.args(&o.extra_args)
            .current_dir(self.cwd())
            .env("TMPDIR", self.tmp_dir())
            .env("NO_COLOR", "1")
            .env_remove("RUST_LOG")
            .env("FLOE_LOG", filter)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err);
        for (key, value) in &o.env {
            cmd.env(key, value);
        }
        Ok(cmd)
    }

    /// Spawns the process and waits for `/readyz`. A start that fails because the port
    /// is still held (right after a stop) is retried for a few seconds.
    fn spawn_and_wait_ready(&mut self) -> Result<()> {
        let first_try = Instant::now();
        loop {
            let child = self
                .command()?
                .spawn()
                .with_context(|| format!("cannot start {}", self.bin.display()))?;
            self.child = Some(child);
            match self.wait_ready() {
                Ok(()) => {
                    self.started_once = true;
                    return Ok(());
                }
                Err(error) => {
                    let exited = !self.is_running();
                    let log = self.log();
                    let port_busy = log.contains("in use") || log.contains("AddrInUse");
                    if exited && port_busy && first_try.elapsed() < Duration::from_secs(10) {
                        self.child = None;
                        if !self.started_once {
                            // Someone took a port between our check and the bind: a
                            // first start may simply move to other ports.
                            self.kafka_port = ports::free_port()?;
                            self.http_port = ports::free_port()?;
                            for (_, port) in &mut self.listener_ports {
                                *port = ports::free_port()?;
                            }
                        }
                        thread::sleep(Duration::from_millis(200));
                        continue;
                    }
                    if let Some(mut child) = self.child.take() {
                        let _ = child.kill();
                        let _ = child.wait();
                    }
                    return Err(error);
                }
            }
        }
    }

    /// Polls `/readyz` until it answers 200, the process exits, or the time runs out.
    fn wait_ready(&mut self) -> Result<()> {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Some(child) = self.child.as_mut()
                && let Some(status) = child.try_wait().context("cannot wait for the agent")?
            {
                bail!(
                    "agent exited during start-up: {status}\n{}",
                    self.log_excerpt()
                );
            }
            let last = match self.get("/readyz", Duration::from_secs(2)) {
                Ok(response) if response.status == 200 => return Ok(()),
                Ok(response) => format!("/readyz answered {}", response.status),
                Err(error) => format!("{error:#}"),
            };
            if Instant::now() >= deadline {
                bail!(
                    "agent not ready after {READY_TIMEOUT:?} ({last})\n{}",
                    self.log_excerpt()
                );
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// The end of the log, labelled, for error messages.
    fn log_excerpt(&self) -> String {
        format!(
            "--- agent log ({}) ---\n{}",
            self.root().join(LOG_FILE).display(),
            process::tail(&self.log(), 16_000)
        )
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if thread::panicking() {
            eprintln!(
                "agent kafka={} http={} bin={}\n{}",
                self.kafka_addr(),
                self.http_addr(),
                self.bin.display(),
                self.log_excerpt()
            );
            if let Some(note) = binary::stale_note(&self.bin) {
                eprintln!("{note}");
            }
        }
    }
}
