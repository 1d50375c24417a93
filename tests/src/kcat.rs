//! Running Debian's `kcat` (librdkafka 2.0.2) against an agent.

use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::process::{self, Output};

/// A kcat invocation builder bound to one bootstrap address.
#[derive(Debug, Clone)]
pub struct Kcat {
    bootstrap: String,
    timeout: Duration,
}

/// One record as printed by [`Kcat::consume_all`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumedRecord {
    /// The partition it came from.
    pub partition: i32,
    /// Its offset.
    pub offset: i64,
    /// The key (empty when none).
    pub key: String,
    /// The value.
    pub value: String,
}

/// The separator between fields in [`Kcat::consume_all`]'s output format; chosen so it
/// never occurs in keys and values the tests write.
const FIELD_SEP: char = '\u{1f}';

impl Kcat {
    /// kcat talking to `bootstrap` (`127.0.0.1:PORT`).
    pub fn new(bootstrap: impl Into<String>) -> Self {
        Self {
            bootstrap: bootstrap.into(),
            timeout: Duration::from_secs(300),
        }
    }

    /// Runs `kcat -b BOOTSTRAP ARGS...` with `stdin`, returning its output whatever its
    /// exit code.
    pub fn run(&self, args: &[&str], stdin: &[u8]) -> Result<Output> {
        let mut cmd = Command::new("kcat");
        cmd.arg("-b").arg(&self.bootstrap).args(args);
        process::run(cmd, stdin, self.timeout)
            .context("running kcat (install Debian's `kcat` package, or run scripts/test.sh)")
    }

    /// Produces `key:value` lines with `kcat -P -K:`; fails if kcat fails or reports a
    /// delivery error.
    pub fn produce_keyed(&self, topic: &str, lines: &str, extra: &[&str]) -> Result<Output> {
        let mut args = vec!["-P", "-t", topic, "-K:"];
        args.extend_from_slice(extra);
        let output = self.run(&args, lines.as_bytes())?.ensure_success()?;
        let stderr = output.stderr.to_lowercase();
        if stderr.contains("delivery failed") || stderr.contains("error") {
            bail!(
                "kcat reported errors while producing\n{}",
                output.describe()
            );
        }
        Ok(output)
    }

    /// Consumes every partition of `topic` from the beginning to the end (`-C -e`) and
    /// parses partition, offset, key and value of each record.
    pub fn consume_all(&self, topic: &str) -> Result<Vec<ConsumedRecord>> {
        let format = format!("%p{FIELD_SEP}%o{FIELD_SEP}%k{FIELD_SEP}%s\\n");
        let output = self
            .run(
                &[
                    "-C",
                    "-t",
                    topic,
                    "-o",
                    "beginning",
                    "-e",
                    "-q",
                    "-f",
                    &format,
                ],
                b"",
            )?
            .ensure_success()?;
        if output.stderr.to_lowercase().contains("error") {
            bail!(
                "kcat reported errors while consuming\n{}",
                output.describe()
            );
        }
        output
            .stdout
            .lines()
            .map(parse_consumed)
            .collect::<Result<Vec<_>>>()
            .with_context(|| format!("bad kcat output\n{}", output.describe()))
    }

    /// `kcat -L -J`: the metadata as JSON.
    pub fn metadata_json(&self, extra: &[&str]) -> Result<serde_json::Value> {
        let mut args = vec!["-L", "-J"];
        args.extend_from_slice(extra);
        let output = self.run(&args, b"")?.ensure_success()?;
        serde_json::from_str(&output.stdout)
            .with_context(|| format!("kcat -L -J printed no JSON\n{}", output.describe()))
    }
}

/// Parses one `partition␟offset␟key␟value` line.
fn parse_consumed(line: &str) -> Result<ConsumedRecord> {
    let mut fields = line.splitn(4, FIELD_SEP);
    let mut next = |what: &str| {
        fields
            .next()
            .with_context(|| format!("no {what} in line {line:?}"))
    };
    Ok(ConsumedRecord {
        partition: next("partition")?.parse().context("bad partition")?,
        offset: next("offset")?.parse().context("bad offset")?,
        key: next("key")?.to_string(),
        value: next("value")?.to_string(),
    })
}
