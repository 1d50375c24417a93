//! The cluster's agents: `floe serve` child processes of the dev cluster, each in its own
//! process group (a Ctrl-C in the terminal reaches the dev cluster only, which then stops
//! the agents in order), each logging to a file in the cluster's folder.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

use crate::error::DevClusterError;
use crate::postgres::tail;

/// How long an agent may take to answer `/readyz` with 200 after its start.
const READY_TIMEOUT: Duration = Duration::from_secs(60);
/// Bytes of an HTTP answer read when probing `/readyz`.
const PROBE_LIMIT: u64 = 1024;

/// Where and how one agent runs.
#[derive(Debug, Clone)]
pub struct AgentSpec {
    /// Its number, from 0.
    pub index: usize,
    /// Its Kafka listener (also the address advertised to clients).
    pub kafka: SocketAddr,
    /// Its HTTP listener (`/metrics`, `/healthz`, `/readyz`).
    pub http: SocketAddr,
    /// Its availability zone (`--zone`).
    pub zone: String,
    /// Its own folder (`--data-dir`, its log).
    pub dir: PathBuf,
}

/// A running agent.
#[derive(Debug)]
pub struct AgentProcess {
    /// Where it runs.
    pub spec: AgentSpec,
    child: Child,
    /// Its exit status, once seen.
    exited: Option<ExitStatus>,
}

/// What every agent shares: the binary, the stores and extra `floe serve` arguments.
#[derive(Debug, Clone)]
pub struct Shared {
    /// The `floe` binary.
    pub floe: PathBuf,
    /// `--metadata`.
    pub metadata_url: String,
    /// `--object-store`.
    pub object_store_url: String,
    /// `AWS_ENDPOINT_URL` of the S3 server.
    pub s3_endpoint: String,
    /// Appended to every agent's command line.
    pub serve_args: Vec<String>,
}

impl AgentProcess {
    /// Starts `floe serve` for `spec`.
    pub fn spawn(spec: AgentSpec, shared: &Shared) -> Result<AgentProcess, DevClusterError> {
        std::fs::create_dir_all(&spec.dir)
            .map_err(DevClusterError::io("cannot create an agent folder"))?;
        let log = std::fs::File::create(log_path(&spec.dir))
            .map_err(DevClusterError::io("cannot create an agent log"))?;
        let log_err = log
            .try_clone()
            .map_err(DevClusterError::io("cannot share an agent log"))?;
        let mut command = Command::new(&shared.floe);
        command
            .arg("serve")
            .arg("--kafka-listen")
            .arg(spec.kafka.to_string())
            .arg("--advertised-addr")
            .arg(spec.kafka.to_string())
            .arg("--http-listen")
            .arg(spec.http.to_string())
            .arg("--zone")
            .arg(&spec.zone)
            .arg("--data-dir")
            .arg(spec.dir.join("data"))
            .arg("--metadata")
            .arg(&shared.metadata_url)
            .arg("--object-store")
            .arg(&shared.object_store_url)
            .arg("--cluster-id")
            .arg("floe-dev")
            .args(&shared.serve_args)
            .env("AWS_ACCESS_KEY_ID", crate::s3::ACCESS_KEY)
            .env("AWS_SECRET_ACCESS_KEY", crate::s3::SECRET_KEY)
            .env("AWS_REGION", crate::s3::REGION)
            .env("AWS_ENDPOINT_URL", &shared.s3_endpoint)
            .env("AWS_ALLOW_HTTP", "true")
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .process_group(0)
            // A safety net only: stop() ends agents with SIGTERM first.
            .kill_on_drop(true);
        let child = command.spawn().map_err(DevClusterError::io(format!(
            "cannot start agent {}",
            spec.index
        )))?;
        Ok(AgentProcess {
            spec,
            child,
            exited: None,
        })
    }

    /// The agent's process id while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Waits until `/readyz` answers 200, failing if the agent exits first.
    pub async fn wait_ready(&mut self) -> Result<(), DevClusterError> {
        let deadline = Instant::now() + READY_TIMEOUT;
        let mut last = String::from("no answer yet");
        while Instant::now() < deadline {
            if let Some(status) = self.exited()? {
                return Err(self.not_ready(format!("exited with {status}")));
            }
            match probe_ready(self.spec.http).await {
                Ok(true) => return Ok(()),
                Ok(false) => last = "/readyz answered, not 200".into(),
                Err(error) => last = error.to_string(),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(self.not_ready(format!("timed out after {READY_TIMEOUT:?}: {last}")))
    }

    /// The exit status if the agent has exited (seen once, then remembered).
    pub fn exited(&mut self) -> Result<Option<ExitStatus>, DevClusterError> {
        if self.exited.is_none() {
            self.exited = self
                .child
                .try_wait()
                .map_err(DevClusterError::io("cannot poll an agent"))?;
        }
        Ok(self.exited)
    }

    /// Sends SIGTERM (the agent leaves the registry, drains and exits).
    pub fn terminate(&mut self) {
        if self.exited.is_some() {
            return;
        }
        if let Some(pid) = self.child.id().and_then(|pid| i32::try_from(pid).ok()) {
            let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
        }
    }

    /// Waits up to `grace` for the agent to exit after [`AgentProcess::terminate`], then
    /// kills it.
    pub async fn wait_or_kill(&mut self, grace: Duration) -> Result<ExitStatus, DevClusterError> {
        if let Some(status) = self.exited {
            return Ok(status);
        }
        let status = match tokio::time::timeout(grace, self.child.wait()).await {
            Ok(status) => status,
            Err(_) => {
                tracing::warn!(
                    agent = self.spec.index,
                    "agent did not stop in time: killed"
                );
                let _ = self.child.start_kill();
                self.child.wait().await
            }
        }
        .map_err(DevClusterError::io("cannot wait for an agent"))?;
        self.exited = Some(status);
        Ok(status)
    }

    /// The end of the agent's log.
    pub fn log_tail(&self) -> String {
        std::fs::read_to_string(log_path(&self.spec.dir))
            .map(|log| tail(&log, 4000))
            .unwrap_or_default()
    }

    fn not_ready(&self, reason: String) -> DevClusterError {
        DevClusterError::AgentNotReady {
            index: self.spec.index,
            reason,
            log: self.log_tail(),
        }
    }
}

/// The log file in an agent's folder.
fn log_path(dir: &Path) -> PathBuf {
    dir.join("agent.log")
}

/// Whether `GET /readyz` on `http` answers 200.
async fn probe_ready(http: SocketAddr) -> std::io::Result<bool> {
    let probe = async {
        let mut stream = TcpStream::connect(http).await?;
        stream
            .write_all(b"GET /readyz HTTP/1.0\r\nHost: localhost\r\n\r\n")
            .await?;
        let mut answer = Vec::new();
        stream.take(PROBE_LIMIT).read_to_end(&mut answer).await?;
        let status_line = answer.split(|&b| b == b'\r').next().unwrap_or_default();
        Ok(status_line.ends_with(b" 200 OK") || status_line.windows(5).any(|w| w == b" 200 "))
    };
    tokio::time::timeout(Duration::from_secs(2), probe)
        .await
        .unwrap_or_else(|_| Err(std::io::Error::other("/readyz timed out")))
}
