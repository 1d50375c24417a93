//! Running a client program to completion with a time limit, capturing its output.

use std::io::{Read, Write};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};

/// What a finished program printed, and how it ended.
#[derive(Debug)]
pub struct Output {
    /// The command line, for messages.
    pub command: String,
    /// How the program exited.
    pub status: ExitStatus,
    /// Everything it wrote to stdout.
    pub stdout: String,
    /// Everything it wrote to stderr.
    pub stderr: String,
}

impl Output {
    /// Fails (with both outputs in the message) unless the program exited 0.
    pub fn ensure_success(self) -> Result<Self> {
        if !self.status.success() {
            bail!(
                "{} failed: {}\n{}",
                self.command,
                self.status,
                self.describe()
            );
        }
        Ok(self)
    }

    /// Both outputs, labelled, for error messages.
    pub fn describe(&self) -> String {
        format!(
            "--- stdout ---\n{}\n--- stderr ---\n{}",
            tail(&self.stdout, 8000),
            tail(&self.stderr, 8000)
        )
    }
}

/// The last `max` bytes of `text` (cut at a character boundary).
pub fn tail(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut start = text.len() - max;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    &text[start..]
}

/// Runs `command` with `stdin` as its standard input, waits at most `timeout` (then
/// kills it and fails) and returns what it printed. A non-zero exit is not an error
/// here; see [`Output::ensure_success`].
pub fn run(mut command: Command, stdin: &[u8], timeout: Duration) -> Result<Output> {
    let description = format!("{command:?}");
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command
        .spawn()
        .with_context(|| format!("cannot start {description}"))?;

    let mut child_stdin = child.stdin.take().context("no stdin pipe")?;
    let input = stdin.to_vec();
    let writer = thread::spawn(move || -> std::io::Result<()> {
        child_stdin.write_all(&input)?;
        // Dropping the pipe closes it: the program sees end of input.
        Ok(())
    });
    let stdout = reader(child.stdout.take().context("no stdout pipe")?);
    let stderr = reader(child.stderr.take().context("no stderr pipe")?);

    let status = wait(&mut child, timeout);
    let stdout = join(stdout)?;
    let stderr = join(stderr)?;
    // A program may exit without reading all of its input; that is not our failure.
    let _ = writer.join();
    match status {
        Ok(status) => Ok(Output {
            command: description,
            status,
            stdout,
            stderr,
        }),
        Err(error) => Err(error.context(format!(
            "{description}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            tail(&stdout, 8000),
            tail(&stderr, 8000)
        ))),
    }
}

/// Waits for `child` to exit, killing it after `timeout`.
fn wait(child: &mut Child, timeout: Duration) -> Result<ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().context("cannot wait for child")? {
            return Ok(status);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(anyhow!("timed out after {timeout:?}; killed"));
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// Reads a pipe to its end on a thread.
fn reader(mut pipe: impl Read + Send + 'static) -> JoinHandle<std::io::Result<Vec<u8>>> {
    thread::spawn(move || {
        let mut data = Vec::new();
        pipe.read_to_end(&mut data)?;
        Ok(data)
    })
}

/// Collects what a [`reader`] thread read, as text.
fn join(handle: JoinHandle<std::io::Result<Vec<u8>>>) -> Result<String> {
    let data = handle
        .join()
        .map_err(|_| anyhow!("output reader thread panicked"))?
        .context("cannot read child output")?;
    Ok(String::from_utf8_lossy(&data).into_owned())
}
