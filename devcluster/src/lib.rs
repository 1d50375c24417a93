//! `floe dev-cluster`: a throwaway cluster on this machine in one command.
//!
//! Starts a Postgres (the metadata store, from the machine's `initdb` and `pg_ctl`), an
//! S3-compatible server inside this process (s3s-fs over a temporary folder) and N
//! `floe serve` agents in two zones (`zone-a`, `zone-b`, alternating), agent `i` on Kafka
//! port `P+i` and HTTP port `P+100+i`. Once every agent answers `/readyz`, the first line
//! on standard output is `bootstrap: HOST:PORT,…`, followed by one line per agent and the
//! store addresses. SIGINT or SIGTERM stops the agents (SIGTERM: they leave the registry
//! and drain), then Postgres and the S3 server, and removes the temporary folder.
//!
//! An agent that exits on its own (a test killed it) is reported on standard error; the
//! others carry on. Everything lives in the temporary folder: nothing outlives the command
//! unless it is itself killed with SIGKILL.

mod agents;
mod error;
mod postgres;
mod s3;

use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use tokio::signal::unix::{SignalKind, signal};
use tokio_util::sync::CancellationToken;

pub use error::DevClusterError;

use agents::{AgentProcess, AgentSpec, Shared};
use postgres::Postgres;
use s3::S3Server;

/// Agents at most: HTTP ports start 100 above the Kafka ports.
const MAX_AGENTS: usize = 100;
/// The bucket agents write to, and their key prefix.
const BUCKET: &str = "floe";
const PREFIX: &str = "dev";
/// The zones agents are spread over, alternating.
const ZONES: [&str; 2] = ["zone-a", "zone-b"];
/// How long agents may take to stop after SIGTERM, beyond their drain period.
const STOP_GRACE: Duration = Duration::from_secs(30);

/// `floe dev-cluster` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct DevClusterArgs {
    /// Number of agents.
    #[arg(long, default_value_t = 3)]
    pub agents: usize,
    /// Agent i listens for Kafka on BASE_PORT+i and for HTTP on BASE_PORT+100+i.
    #[arg(long, default_value_t = 19092)]
    pub base_port: u16,
    /// Address the agents listen on and advertise.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: IpAddr,
    /// Extra `floe serve` arguments for every agent, after `--`, e.g.
    /// `-- --default-partitions 4`.
    #[arg(last = true)]
    pub serve_args: Vec<String>,
}

impl DevClusterArgs {
    /// The agents' listeners: `(kafka, http)` for each.
    fn ports(&self) -> Result<Vec<(SocketAddr, SocketAddr)>, DevClusterError> {
        if self.agents == 0 || self.agents > MAX_AGENTS {
            return Err(DevClusterError::Args(format!(
                "--agents must be between 1 and {MAX_AGENTS}, not {}",
                self.agents
            )));
        }
        (0..self.agents)
            .map(|i| {
                let kafka = usize::from(self.base_port) + i;
                let http = kafka + 100;
                let (Ok(kafka), Ok(http)) = (u16::try_from(kafka), u16::try_from(http)) else {
                    return Err(DevClusterError::Args(format!(
                        "--base-port {} leaves no room for {} agents (HTTP ports reach {http})",
                        self.base_port, self.agents
                    )));
                };
                Ok((
                    SocketAddr::new(self.host, kafka),
                    SocketAddr::new(self.host, http),
                ))
            })
            .collect()
    }
}

/// Runs the dev cluster until SIGINT or SIGTERM; `floe` is the binary the agents run
/// (`floe serve`).
pub async fn run(args: DevClusterArgs, floe: PathBuf) -> Result<(), DevClusterError> {
    let ports = args.ports()?;
    let stop = stop_on_signal()?;
    let dir = tempfile::Builder::new()
        .prefix("floe-dev-")
        .tempdir()
        .map_err(DevClusterError::io("cannot create a temporary folder"))?;
    // The postgres user (when we are root) must reach its folder inside.
    set_mode(dir.path(), 0o755)?;
    let mut cluster = DevCluster::default();
    // A signal during start-up lets the current step finish (so everything that
    // started is known and stopped below), then ends the start.
    let started = cluster
        .start(&args, &ports, dir.path().to_path_buf(), floe, &stop)
        .await;
    let started = started.and_then(|()| cluster.announce(&args, dir.path()));
    if started.is_ok() {
        cluster.watch(&stop).await;
    }
    eprintln!("floe dev-cluster: stopping");
    let stopped = cluster.stop().await;
    let removed = dir
        .close()
        .map_err(DevClusterError::io("cannot remove the temporary folder"));
    // Ctrl-C during start-up is a normal way to stop.
    match started {
        Ok(()) | Err(DevClusterError::Interrupted) => {}
        Err(error) => return Err(error),
    }
    stopped?;
    removed?;
    eprintln!("floe dev-cluster: stopped, temporary folder removed");
    Ok(())
}

/// A token cancelled at the first SIGINT or SIGTERM.
fn stop_on_signal() -> Result<CancellationToken, DevClusterError> {
    let mut interrupt =
        signal(SignalKind::interrupt()).map_err(DevClusterError::io("cannot catch SIGINT"))?;
    let mut terminate =
        signal(SignalKind::terminate()).map_err(DevClusterError::io("cannot catch SIGTERM"))?;
    let stop = CancellationToken::new();
    let cancel = stop.clone();
    tokio::spawn(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
        cancel.cancel();
    });
    Ok(stop)
}

/// What runs, in start order; stopped in reverse.
#[derive(Debug, Default)]
struct DevCluster {
    postgres: Option<Postgres>,
    s3: Option<S3Server>,
    agents: Vec<AgentProcess>,
    metadata_url: String,
    s3_endpoint: String,
}

impl DevCluster {
    async fn start(
        &mut self,
        args: &DevClusterArgs,
        ports: &[(SocketAddr, SocketAddr)],
        dir: PathBuf,
        floe: PathBuf,
        stop: &CancellationToken,
    ) -> Result<(), DevClusterError> {
        let pg_dir = dir.join("postgres");
        let agents = args.agents;
        let postgres = tokio::task::spawn_blocking(move || Postgres::start(&pg_dir, agents))
            .await
            .map_err(|error| DevClusterError::Io {
                what: "postgres start-up panicked".into(),
                source: std::io::Error::other(error.to_string()),
            })??;
        self.metadata_url = postgres.url();
        self.postgres = Some(postgres);
        if stop.is_cancelled() {
            return Err(DevClusterError::Interrupted);
        }
        let s3 = S3Server::start(&dir.join("s3"), &[BUCKET]).await?;
        self.s3_endpoint = s3.endpoint();
        self.s3 = Some(s3);
        let shared = Shared {
            floe,
            metadata_url: self.metadata_url.clone(),
            object_store_url: format!("s3://{BUCKET}/{PREFIX}"),
            s3_endpoint: self.s3_endpoint.clone(),
            serve_args: args.serve_args.clone(),
        };
        for (index, &(kafka, http)) in ports.iter().enumerate() {
            let spec = AgentSpec {
                index,
                kafka,
                http,
                zone: ZONES[index % ZONES.len()].to_string(),
                dir: dir.join(format!("agent-{index}")),
            };
            self.agents.push(AgentProcess::spawn(spec, &shared)?);
        }
        for agent in &mut self.agents {
            tokio::select! {
                ready = agent.wait_ready() => ready?,
                () = stop.cancelled() => return Err(DevClusterError::Interrupted),
            }
        }
        Ok(())
    }

    /// Prints the bootstrap line first, then the rest of what a user needs.
    fn announce(
        &self,
        args: &DevClusterArgs,
        dir: &std::path::Path,
    ) -> Result<(), DevClusterError> {
        let bootstrap: Vec<String> = self
            .agents
            .iter()
            .map(|agent| agent.spec.kafka.to_string())
            .collect();
        let mut out = std::io::stdout().lock();
        let mut lines = vec![format!("bootstrap: {}", bootstrap.join(","))];
        for agent in &self.agents {
            lines.push(format!(
                "agent {}: kafka={} http={} zone={} pid={}",
                agent.spec.index,
                agent.spec.kafka,
                agent.spec.http,
                agent.spec.zone,
                agent.pid().unwrap_or_default()
            ));
        }
        lines.push(format!("metadata: {}", self.metadata_url));
        lines.push(format!(
            "object-store: s3://{BUCKET}/{PREFIX} endpoint={} access-key={} secret-key={}",
            self.s3_endpoint,
            s3::ACCESS_KEY,
            s3::SECRET_KEY
        ));
        lines.push(format!("dir: {}", dir.display()));
        lines.push(format!(
            "ready: {} agents; Ctrl-C stops them and removes {}",
            args.agents,
            dir.display()
        ));
        for line in lines {
            writeln!(out, "{line}").map_err(DevClusterError::io("cannot write to stdout"))?;
        }
        out.flush()
            .map_err(DevClusterError::io("cannot write to stdout"))
    }

    /// Reports agents that exit on their own until a signal arrives.
    async fn watch(&mut self, stop: &CancellationToken) {
        let mut tick = tokio::time::interval(Duration::from_millis(250));
        let mut reported = vec![false; self.agents.len()];
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                _ = tick.tick() => {}
            }
            for (agent, reported) in self.agents.iter_mut().zip(&mut reported) {
                if let Ok(Some(status)) = agent.exited()
                    && !*reported
                {
                    *reported = true;
                    eprintln!(
                        "floe dev-cluster: agent {} exited ({status}); the others carry on\n{}",
                        agent.spec.index,
                        agent.log_tail()
                    );
                }
            }
        }
    }

    /// Stops the agents (SIGTERM to all, then wait), then Postgres and the S3 server.
    async fn stop(&mut self) -> Result<(), DevClusterError> {
        for agent in &mut self.agents {
            agent.terminate();
        }
        let mut first_error = None;
        for agent in &mut self.agents {
            if let Err(error) = agent.wait_or_kill(STOP_GRACE).await {
                first_error.get_or_insert(error);
            }
        }
        if let Some(mut postgres) = self.postgres.take() {
            let stopped = tokio::task::spawn_blocking(move || postgres.stop()).await;
            match stopped {
                Ok(Err(error)) => {
                    first_error.get_or_insert(error);
                }
                Err(error) => {
                    first_error.get_or_insert(DevClusterError::Io {
                        what: "postgres stop panicked".into(),
                        source: std::io::Error::other(error.to_string()),
                    });
                }
                Ok(Ok(())) => {}
            }
        }
        if let Some(s3) = self.s3.take() {
            s3.stop().await;
        }
        first_error.map_or(Ok(()), Err)
    }
}

/// Sets the permission bits of `path`.
fn set_mode(path: &std::path::Path, mode: u32) -> Result<(), DevClusterError> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(
        DevClusterError::io("cannot set the temporary folder's mode"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(agents: usize, base_port: u16) -> DevClusterArgs {
        DevClusterArgs {
            agents,
            base_port,
            host: IpAddr::from([127, 0, 0, 1]),
            serve_args: Vec::new(),
        }
    }

    #[test]
    fn agent_i_listens_on_base_plus_i_and_http_100_above() {
        let ports = args(3, 19092).ports().expect("ports");
        let shown: Vec<(String, String)> = ports
            .iter()
            .map(|(k, h)| (k.to_string(), h.to_string()))
            .collect();
        assert_eq!(
            shown,
            [
                ("127.0.0.1:19092".into(), "127.0.0.1:19192".into()),
                ("127.0.0.1:19093".into(), "127.0.0.1:19193".into()),
                ("127.0.0.1:19094".into(), "127.0.0.1:19194".into()),
            ]
        );
    }

    #[test]
    fn impossible_counts_and_ports_are_refused() {
        assert!(matches!(
            args(0, 19092).ports(),
            Err(DevClusterError::Args(_))
        ));
        assert!(matches!(
            args(101, 19092).ports(),
            Err(DevClusterError::Args(_))
        ));
        assert!(matches!(
            args(3, 65_435).ports(),
            Err(DevClusterError::Args(_))
        ));
        assert!(args(1, 65_435).ports().is_ok());
    }
}
