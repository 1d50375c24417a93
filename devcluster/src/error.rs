//! The one error type of `floe dev-cluster`.

use std::path::PathBuf;

/// Why the dev cluster could not start or stop cleanly.
#[derive(Debug, thiserror::Error)]
pub enum DevClusterError {
    /// The command line asks for something impossible (too many agents, ports past 65535).
    #[error("invalid arguments: {0}")]
    Args(String),
    /// SIGINT or SIGTERM arrived before the cluster was up; what had started was stopped.
    #[error("stopped by a signal while starting")]
    Interrupted,
    /// A Postgres program (`initdb`, `pg_ctl`) is not installed.
    #[error(
        "{0} not found on PATH nor in /usr/lib/postgresql/*/bin: install Postgres (Debian: apt-get install postgresql)"
    )]
    MissingProgram(&'static str),
    /// A program ran but failed; its output says why.
    #[error("{program} failed ({status}): {output}")]
    CommandFailed {
        /// What ran.
        program: String,
        /// Its exit status.
        status: String,
        /// The end of its standard output and error.
        output: String,
    },
    /// An I/O error, with what was being done.
    #[error("{what}: {source}")]
    Io {
        /// What failed, e.g. "cannot start agent 2".
        what: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The in-process S3 server could not be set up over `root`.
    #[error("cannot serve {root} as S3: {message}")]
    S3 {
        /// The folder the buckets live in.
        root: PathBuf,
        /// What s3s-fs said.
        message: String,
    },
    /// An agent did not answer `/readyz` with 200 in time, or exited first.
    #[error("agent {index} did not become ready: {reason}\n--- its log ---\n{log}")]
    AgentNotReady {
        /// The agent's number.
        index: usize,
        /// What was seen.
        reason: String,
        /// The end of its log.
        log: String,
    },
}

impl DevClusterError {
    /// An [`DevClusterError::Io`] saying what was being done.
    pub(crate) fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> Self {
        let what = what.into();
        move |source| DevClusterError::Io { what, source }
    }
}
