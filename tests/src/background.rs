//! A client program running in the background that a test watches line by line and
//! kills (SIGKILL) at a moment of its choosing: the crash tests of transactional
//! clients (`tests/tests/transactions_clients.rs`, `tests/tests/streams_eos.rs`).
//!
//! Its stdout and stderr go to files in a temporary directory, so nothing blocks on a
//! full pipe and the output stays readable after a kill. Dropping it kills it.

use std::fs::File;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::process;

/// A program started with [`Background::spawn`].
#[derive(Debug)]
pub struct Background {
    name: String,
    child: Option<Child>,
    dir: tempfile::TempDir,
}

impl Background {
    /// Starts `command` (named `name` in messages) with its output going to files.
    pub fn spawn(name: &str, mut command: Command) -> Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("floe-background-")
            .tempdir()
            .context("cannot create a directory for the program's output")?;
        let stdout = File::create(dir.path().join("stdout")).context("cannot create stdout")?;
        let stderr = File::create(dir.path().join("stderr")).context("cannot create stderr")?;
        let child = command
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .with_context(|| format!("cannot start {name}: {command:?}"))?;
        Ok(Self {
            name: name.to_string(),
            child: Some(child),
            dir,
        })
    }

    fn read(&self, which: &str) -> String {
        let path: PathBuf = self.dir.path().join(which);
        std::fs::read(&path)
            .map(|data| String::from_utf8_lossy(&data).into_owned())
            .unwrap_or_default()
    }

    /// Everything it printed to stdout so far.
    pub fn stdout(&self) -> String {
        self.read("stdout")
    }

    /// Both outputs, labelled and cut to their tails, for failure messages.
    pub fn describe(&self) -> String {
        format!(
            "--- {} stdout ---\n{}\n--- {} stderr ---\n{}",
            self.name,
            process::tail(&self.stdout(), 6000),
            self.name,
            process::tail(&self.read("stderr"), 6000)
        )
    }

    /// How many stdout lines start with `prefix`.
    pub fn count_lines(&self, prefix: &str) -> usize {
        self.stdout()
            .lines()
            .filter(|line| line.starts_with(prefix))
            .count()
    }

    /// The last stdout line that starts with `prefix`, if any.
    pub fn last_line(&self, prefix: &str) -> Option<String> {
        self.stdout()
            .lines()
            .rev()
            .find(|line| line.starts_with(prefix))
            .map(str::to_string)
    }

    /// Waits until at least `count` stdout lines start with `prefix`; fails if the
    /// program exits first or `timeout` passes.
    pub fn wait_for_lines(&mut self, prefix: &str, count: usize, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            if self.count_lines(prefix) >= count {
                return Ok(());
            }
            if let Some(status) = self.try_wait()? {
                // It may have printed the line just before exiting.
                if self.count_lines(prefix) >= count {
                    return Ok(());
                }
                bail!(
                    "{} exited ({status}) before printing {count} line(s) `{prefix}`\n{}",
                    self.name,
                    self.describe()
                );
            }
            if Instant::now() >= deadline {
                bail!(
                    "{} printed no {count} line(s) `{prefix}` within {timeout:?}\n{}",
                    self.name,
                    self.describe()
                );
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Its exit status if it has exited.
    pub fn try_wait(&mut self) -> Result<Option<ExitStatus>> {
        match self.child.as_mut() {
            Some(child) => child.try_wait().context("cannot wait for the program"),
            None => bail!("{} was already reaped", self.name),
        }
    }

    /// SIGKILL, then reaps it: a crash, nothing flushed or closed.
    pub fn kill(&mut self) -> Result<()> {
        if let Some(mut child) = self.child.take() {
            // It may have exited already; kill then fails with nothing to do.
            let _ = child.kill();
            child.wait().context("cannot reap the killed program")?;
        }
        Ok(())
    }

    /// Waits at most `timeout` for it to exit by itself and fails unless it exits 0.
    pub fn wait_success(&mut self, timeout: Duration) -> Result<()> {
        let status = self.wait(timeout)?;
        if !status.success() {
            bail!("{} failed: {status}\n{}", self.name, self.describe());
        }
        Ok(())
    }

    /// SIGTERM (a clean stop), then waits at most `timeout` for it to exit 0.
    pub fn terminate(&mut self, timeout: Duration) -> Result<()> {
        if let Some(child) = self.child.as_ref() {
            let pid = Pid::from_raw(i32::try_from(child.id()).context("pid out of range")?);
            // It may have exited already; then there is nothing to signal.
            let _ = kill(pid, Signal::SIGTERM);
        }
        self.wait_success(timeout)
    }

    fn wait(&mut self, timeout: Duration) -> Result<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.try_wait()? {
                self.child = None;
                return Ok(status);
            }
            if Instant::now() >= deadline {
                self.kill()?;
                bail!(
                    "{} did not exit within {timeout:?}; killed\n{}",
                    self.name,
                    self.describe()
                );
            }
            thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        let _ = self.kill();
    }
}
