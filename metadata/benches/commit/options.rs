//! The command line: `cargo bench` passes everything after `--`.

use anyhow::{Context as _, Result, bail, ensure};

/// What the flags ask for.
#[derive(Debug, Clone)]
pub struct Options {
    /// Runs of every case, each on a fresh database (`--runs N`).
    pub runs: usize,
    /// Measured time of each throughput case (`--seconds S`).
    pub seconds: f64,
    /// A tenth of the latency commits, a smoke test (`--quick`).
    pub quick: bool,
    /// Whether SQLite is measured too (off with `--postgres-only`).
    pub sqlite: bool,
    /// Whether to print where the time goes inside `floe_commit_segment`
    /// (`--profile`).
    pub profile: bool,
}

impl Options {
    /// Reads the process's arguments.
    pub fn parse() -> Result<Options> {
        let mut options = Options {
            runs: 3,
            seconds: 3.0,
            quick: false,
            sqlite: true,
            profile: false,
        };
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            match arg.as_str() {
                // Added by `cargo bench`.
                "--bench" => {}
                "--runs" => options.runs = args.next().context("--runs N")?.parse()?,
                "--seconds" => options.seconds = args.next().context("--seconds S")?.parse()?,
                "--quick" => options.quick = true,
                "--postgres-only" => options.sqlite = false,
                "--profile" => options.profile = true,
                other => bail!(
                    "unknown option {other:?}; options: --runs N, --seconds S, --quick, \
                     --postgres-only, --profile"
                ),
            }
        }
        ensure!(options.runs >= 1, "--runs must be at least 1");
        ensure!(options.seconds > 0.0, "--seconds must be positive");
        Ok(options)
    }
}
