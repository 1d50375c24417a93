//! A throwaway Postgres server for tests: `initdb` in a temporary directory,
//! started on a free port of 127.0.0.1 with trust authentication, stopped and
//! removed on drop.
//!
//! Several tests can share one server: [`TestPostgres::create_database`]
//! makes a fresh, empty database for each. Durability is switched off
//! (`fsync=off`): the data only has to outlive a restart of the server, not
//! of the machine. Benchmarks that time commits start a server with
//! Postgres' durable defaults instead ([`TestPostgres::start_durable`]).
//!
//! Postgres refuses to run as root, so when the tests run as root the
//! server runs as the `postgres` user (through `runuser`), which owns the
//! directory. A watchdog process removes the server and its directory if
//! the test process dies without dropping it (a killed test, or a server
//! kept in a `static` for the whole test binary).

use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::ports::free_port;
use crate::process::run;

/// How long `initdb`, `pg_ctl` and `psql` may take.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(120);

/// Tries at starting the server, each on a new port, in case another
/// process took the free port first.
const START_ATTEMPTS: usize = 3;

/// Connections the server accepts: every test of a binary may share it,
/// each with a pool of connections.
const MAX_CONNECTIONS: u32 = 400;

/// The Postgres programs used, found once.
#[derive(Debug, Clone)]
struct Programs {
    initdb: PathBuf,
    pg_ctl: PathBuf,
    psql: PathBuf,
}

impl Programs {
    /// Finds the programs on `PATH` or in Debian's `/usr/lib/postgresql/*/bin`
    /// (the newest version there).
    fn find() -> Result<Programs> {
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
        let find = |name: &str| {
            folders
                .iter()
                .map(|folder| folder.join(name))
                .find(|path| path.is_file())
                .with_context(|| {
                    format!(
                        "{name} not found on PATH nor in /usr/lib/postgresql/*/bin: \
                         install Postgres (Debian: apt-get install postgresql)"
                    )
                })
        };
        Ok(Programs {
            initdb: find("initdb")?,
            pg_ctl: find("pg_ctl")?,
            psql: find("psql")?,
        })
    }
}

/// A Postgres server running for tests.
#[derive(Debug)]
pub struct TestPostgres {
    programs: Programs,
    /// Holds the data directory, the socket and the log; removed on drop.
    dir: Option<tempfile::TempDir>,
    /// Whether the server runs as the `postgres` user (we are root).
    as_postgres_user: bool,
    port: u16,
    running: bool,
    /// Whether commits are durable (fsync, synchronous_commit and
    /// full_page_writes at their defaults) rather than switched off.
    durable: bool,
    /// Cleans up if this process dies; told to stand down on drop by
    /// closing its standard input.
    watchdog: Option<(Child, ChildStdin)>,
    /// Numbers the databases made by [`TestPostgres::create_database`].
    next_database: AtomicU32,
}

impl TestPostgres {
    /// Creates a cluster in a new temporary directory and starts it on a free
    /// port, without durability. Takes about a second.
    pub fn start() -> Result<TestPostgres> {
        Self::start_with(false)
    }

    /// Like [`TestPostgres::start`], but with durable commits, as in
    /// production: for benchmarks whose numbers must include the flush of
    /// the write-ahead log. (The cluster is still created with
    /// `initdb --no-sync`.)
    pub fn start_durable() -> Result<TestPostgres> {
        Self::start_with(true)
    }

    fn start_with(durable: bool) -> Result<TestPostgres> {
        let programs = Programs::find()?;
        let dir = tempfile::Builder::new()
            .prefix("floe-postgres-")
            .tempdir()
            .context("cannot create a temporary directory for postgres")?;
        let as_postgres_user = dir.path().metadata()?.uid() == 0;
        let mut server = TestPostgres {
            programs,
            dir: Some(dir),
            as_postgres_user,
            port: 0,
            running: false,
            durable,
            watchdog: None,
            next_database: AtomicU32::new(0),
        };
        if as_postgres_user {
            let mut chown = Command::new("chown");
            chown.arg("postgres:postgres").arg(server.dir()?);
            run(chown, b"", COMMAND_TIMEOUT)?.ensure_success()?;
        }
        let mut initdb = server.command(&server.programs.initdb)?;
        initdb
            .arg("-D")
            .arg(server.data_dir()?)
            .args(["-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8"])
            .arg("--locale=C");
        run(initdb, b"", COMMAND_TIMEOUT)?
            .ensure_success()
            .context("initdb failed")?;
        server.watchdog = Some(server.spawn_watchdog()?);

        let mut last_error = None;
        for _ in 0..START_ATTEMPTS {
            server.port = free_port()?;
            match server.pg_ctl_start() {
                Ok(()) => {
                    server.running = true;
                    return Ok(server);
                }
                Err(error) => last_error = Some(error),
            }
        }
        Err(last_error.unwrap_or_else(|| anyhow::anyhow!("postgres did not start")))
    }

    /// The URL of the `postgres` database, as the `postgres` superuser.
    pub fn url(&self) -> String {
        self.database_url("postgres")
    }

    /// The port the server listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Creates an empty database named after `name` (letters, digits and
    /// `_` are kept, anything else becomes `_`, and a number makes it
    /// unique) and returns its URL.
    pub fn create_database(&self, name: &str) -> Result<String> {
        let cleaned: String = name
            .chars()
            .take(40)
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .collect();
        let number = self.next_database.fetch_add(1, Ordering::Relaxed);
        let database = format!("{cleaned}_{number}");
        let mut psql = Command::new(&self.programs.psql);
        psql.args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d"])
            .arg(self.url())
            .arg("-c")
            .arg(format!("CREATE DATABASE \"{database}\""));
        run(psql, b"", COMMAND_TIMEOUT)?
            .ensure_success()
            .with_context(|| format!("cannot create database {database}"))?;
        Ok(self.database_url(&database))
    }

    /// Stops the server (`pg_ctl stop -m fast`), keeping its data.
    pub fn stop(&mut self) -> Result<()> {
        if !self.running {
            return Ok(());
        }
        let mut pg_ctl = self.command(&self.programs.pg_ctl)?;
        pg_ctl
            .arg("-D")
            .arg(self.data_dir()?)
            .args(["-m", "fast", "-w", "-t", "60", "stop"]);
        run(pg_ctl, b"", COMMAND_TIMEOUT)?
            .ensure_success()
            .context("pg_ctl stop failed")?;
        self.running = false;
        Ok(())
    }

    /// Stops the server if it runs and starts it again on the same port,
    /// with the same data.
    pub fn restart(&mut self) -> Result<()> {
        self.stop()?;
        self.pg_ctl_start()?;
        self.running = true;
        Ok(())
    }

    /// The server's log so far, for failure messages.
    pub fn log(&self) -> String {
        self.dir()
            .and_then(|dir| Ok(std::fs::read_to_string(dir.join("server.log"))?))
            .unwrap_or_default()
    }

    fn database_url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    fn dir(&self) -> Result<&Path> {
        Ok(self
            .dir
            .as_ref()
            .context("postgres directory is gone")?
            .path())
    }

    fn data_dir(&self) -> Result<PathBuf> {
        Ok(self.dir()?.join("data"))
    }

    /// A command running `program` as the server's user, in its directory.
    fn command(&self, program: &Path) -> Result<Command> {
        let mut command = if self.as_postgres_user {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(program);
            command
        } else {
            Command::new(program)
        };
        command.current_dir(self.dir()?);
        Ok(command)
    }

    /// Starts the server on `self.port` and waits until it accepts
    /// connections.
    fn pg_ctl_start(&self) -> Result<()> {
        let dir = self.dir()?;
        let durability = if self.durable {
            ""
        } else {
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        };
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {} -k {}{durability} -c max_connections={MAX_CONNECTIONS}",
            self.port,
            dir.display()
        );
        let mut pg_ctl = self.command(&self.programs.pg_ctl)?;
        pg_ctl
            .arg("-D")
            .arg(self.data_dir()?)
            .arg("-l")
            .arg(dir.join("server.log"))
            .args(["-w", "-t", "60", "-o", &options, "start"]);
        let output = run(pg_ctl, b"", COMMAND_TIMEOUT)?;
        if !output.status.success() {
            bail!(
                "pg_ctl start on port {} failed: {}\n--- server log ---\n{}",
                self.port,
                output.describe(),
                crate::process::tail(&self.log(), 4000)
            );
        }
        Ok(())
    }

    /// Starts a process, in its own process group (so a Ctrl-C aimed at the
    /// tests does not reach it first), that waits for its standard input to
    /// close — on drop, or when this process dies — and then stops the
    /// server at once and removes the directory.
    fn spawn_watchdog(&self) -> Result<(Child, ChildStdin)> {
        let script = r#"read -r _
pid=$(head -n 1 "$1/data/postmaster.pid" 2>/dev/null) || pid=
if [ -n "$pid" ] && kill -QUIT "$pid" 2>/dev/null; then
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
fi
rm -rf "$1""#;
        let mut child = Command::new("sh")
            .args(["-c", script, "floe-postgres-watchdog"])
            .arg(self.dir()?)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .context("cannot start the postgres watchdog")?;
        let stdin = child.stdin.take().context("no watchdog stdin")?;
        Ok((child, stdin))
    }
}

impl Drop for TestPostgres {
    fn drop(&mut self) {
        if let Some((mut child, stdin)) = self.watchdog.take() {
            // Stand the watchdog down: we clean up ourselves.
            let _ = child.kill();
            let _ = child.wait();
            drop(stdin);
        }
        if let Err(error) = self.stop() {
            eprintln!("test postgres on port {}: {error:#}", self.port);
        }
        if let Some(dir) = self.dir.take() {
            let _ = dir.close();
        }
    }
}
