//! The cluster's throwaway Postgres: `initdb` in a folder of the dev cluster's temporary
//! directory, `pg_ctl start` on a free port of 127.0.0.1 with trust authentication,
//! `pg_ctl stop -m fast` at the end.
//!
//! Postgres refuses to run as root, so as root the server runs as the `postgres` user
//! (through `runuser`), which then owns its folder. Commits are not flushed to disk
//! (`fsync=off`): the data only lives as long as the dev cluster.

use std::net::TcpListener;
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::error::DevClusterError;

/// Connections each agent may open: its query pool (8), its commit pool (2) and its
/// notification listener (1), with room to spare.
const CONNECTIONS_PER_AGENT: usize = 12;
/// Connections for `psql` and other tools beside the agents.
const SPARE_CONNECTIONS: usize = 20;

/// A running Postgres server, stopped by [`Postgres::stop`].
#[derive(Debug)]
pub struct Postgres {
    pg_ctl: PathBuf,
    dir: PathBuf,
    as_postgres_user: bool,
    port: u16,
    running: bool,
}

impl Postgres {
    /// Creates a cluster in `dir` (which must not exist) and starts it for `agents`
    /// agents.
    pub fn start(dir: &Path, agents: usize) -> Result<Postgres, DevClusterError> {
        let initdb = find_program("initdb")?;
        let pg_ctl = find_program("pg_ctl")?;
        std::fs::create_dir(dir)
            .map_err(DevClusterError::io("cannot create the postgres folder"))?;
        let as_postgres_user = dir
            .metadata()
            .map_err(DevClusterError::io("cannot stat the postgres folder"))?
            .uid()
            == 0;
        if as_postgres_user {
            let mut chown = Command::new("chown");
            chown.arg("postgres:postgres").arg(dir);
            run(chown)?;
        }
        let mut server = Postgres {
            pg_ctl,
            dir: dir.to_path_buf(),
            as_postgres_user,
            port: 0,
            running: false,
        };
        let mut init = server.command(&initdb);
        init.arg("-D").arg(dir.join("data")).args([
            "-U",
            "postgres",
            "-A",
            "trust",
            "--no-sync",
            "-E",
            "UTF8",
            "--locale=C",
        ]);
        run(init)?;
        server.port = free_port()?;
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {} -k {} -c max_connections={} \
             -c fsync=off -c synchronous_commit=off -c full_page_writes=off",
            server.port,
            dir.display(),
            SPARE_CONNECTIONS + CONNECTIONS_PER_AGENT * agents
        );
        let mut start = server.command(&server.pg_ctl);
        start
            .arg("-D")
            .arg(dir.join("data"))
            .arg("-l")
            .arg(dir.join("server.log"))
            .args(["-w", "-t", "60", "-o", &options, "start"]);
        run(start)?;
        server.running = true;
        Ok(server)
    }

    /// The URL of the `postgres` database, as the `postgres` superuser.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Stops the server (fast shutdown: open connections are cut).
    pub fn stop(&mut self) -> Result<(), DevClusterError> {
        if !self.running {
            return Ok(());
        }
        self.running = false;
        let mut stop = self.command(&self.pg_ctl);
        stop.arg("-D")
            .arg(self.dir.join("data"))
            .args(["-m", "fast", "-w", "-t", "60", "stop"]);
        run(stop)
    }

    /// A command running `program` as the server's user, in its folder.
    fn command(&self, program: &Path) -> Command {
        let mut command = if self.as_postgres_user {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(program);
            command
        } else {
            Command::new(program)
        };
        // Its own process group: a Ctrl-C in the terminal reaches the dev cluster
        // only, which then stops the server itself.
        command.current_dir(&self.dir).process_group(0);
        command
    }
}

impl Drop for Postgres {
    /// A server still running (the dev cluster failed half-way) is stopped.
    fn drop(&mut self) {
        if let Err(error) = self.stop() {
            tracing::warn!(%error, "cannot stop postgres");
        }
    }
}

/// Finds `name` on `PATH` or in Debian's `/usr/lib/postgresql/*/bin` (newest first).
fn find_program(name: &'static str) -> Result<PathBuf, DevClusterError> {
    let mut folders: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect())
        .unwrap_or_default();
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            Some((version, entry.path().join("bin")))
        })
        .collect();
    versions.sort();
    folders.extend(versions.into_iter().rev().map(|(_, bin)| bin));
    folders
        .iter()
        .map(|folder| folder.join(name))
        .find(|path| path.is_file())
        .ok_or(DevClusterError::MissingProgram(name))
}

/// A port of 127.0.0.1 that was free a moment ago.
fn free_port() -> Result<u16, DevClusterError> {
    let listener =
        TcpListener::bind("127.0.0.1:0").map_err(DevClusterError::io("cannot bind 127.0.0.1:0"))?;
    Ok(listener
        .local_addr()
        .map_err(DevClusterError::io("no local address"))?
        .port())
}

/// Runs `command` to its end, failing with its output unless it succeeds.
fn run(mut command: Command) -> Result<(), DevClusterError> {
    let program = format!("{:?}", command.get_program());
    let output = command
        .stdin(Stdio::null())
        .output()
        .map_err(DevClusterError::io(format!("cannot run {program}")))?;
    if output.status.success() {
        return Ok(());
    }
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    Err(DevClusterError::CommandFailed {
        program,
        status: output.status.to_string(),
        output: tail(&text, 2000),
    })
}

/// The last `limit` bytes of `text` (at a character boundary).
pub(crate) fn tail(text: &str, limit: usize) -> String {
    let mut start = text.len().saturating_sub(limit);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    text[start..].to_string()
}
