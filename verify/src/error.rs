//! Errors of `floe verify`.

use floe_bench::setup::ClientError;
use rdkafka::error::KafkaError;

/// Why a verification could not run, or ran and found violations.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// A flag value that cannot run.
    #[error("invalid arguments: {0}")]
    InvalidArgs(String),
    /// The cluster, a client call or the topic failed.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// A worker thread could not be started.
    #[error("cannot start a thread: {0}")]
    Spawn(#[source] std::io::Error),
    /// A worker thread panicked.
    #[error("the {0} thread panicked")]
    Panicked(&'static str),
    /// The summary could not be written.
    #[error("cannot write the summary: {0}")]
    Output(#[source] std::io::Error),
    /// The checks found violations (the summary lists them).
    #[error("{count} violations found ({lost} lost, {duplicates} duplicates)")]
    Violations {
        /// Violations of every kind.
        count: u64,
        /// Acknowledged records never read.
        lost: u64,
        /// Records stored twice.
        duplicates: u64,
    },
}

impl VerifyError {
    /// A `map_err` adapter that names what the checker was doing.
    pub(crate) fn kafka(context: impl Into<String>) -> impl FnOnce(KafkaError) -> VerifyError {
        let context = context.into();
        move |error| VerifyError::Client(ClientError::Kafka { context, error })
    }
}
