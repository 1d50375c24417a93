//! Errors of `floe bench`.

use rdkafka::error::KafkaError;

use crate::setup::ClientError;

/// Why a bench could not run, or ran and found a failure.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// A flag value that cannot run.
    #[error("invalid arguments: {0}")]
    InvalidArgs(String),
    /// The cluster, a client call or the topic failed.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// Records were not acknowledged (after librdkafka's own retries).
    #[error("{failed} records failed delivery (first error: {first_error})")]
    DeliveryFailed {
        /// Records whose delivery report was an error.
        failed: u64,
        /// The first delivery error seen.
        first_error: String,
    },
    /// Producers were still holding records when the flush timed out.
    #[error("{0} records were still undelivered when the final flush timed out")]
    FlushTimedOut(u64),
    /// e2e: acknowledged records never reached the consumer.
    #[error(
        "e2e consumer received {received} of the {acknowledged} acknowledged records \
         before the drain timeout"
    )]
    MissingRecords {
        /// Records the producers had acknowledged.
        acknowledged: u64,
        /// Records the consumer received.
        received: u64,
    },
    /// A bench thread panicked.
    #[error("bench thread {0} panicked")]
    ThreadPanicked(String),
    /// A bench thread could not be started.
    #[error("cannot start a bench thread: {0}")]
    Spawn(std::io::Error),
    /// The agent's `/metrics` could not be read.
    #[error("cannot scrape http://{addr}/metrics: {reason}")]
    Scrape {
        /// The `--agent-http` address.
        addr: String,
        /// What went wrong.
        reason: String,
    },
    /// The summary could not be written.
    #[error("cannot write the summary")]
    Output(#[from] std::io::Error),
    /// The summary could not be encoded.
    #[error("cannot encode the summary as JSON")]
    Json(#[from] serde_json::Error),
}

impl BenchError {
    /// Wraps a librdkafka error with what the bench was doing.
    pub(crate) fn kafka(context: impl Into<String>) -> impl FnOnce(KafkaError) -> Self {
        let context = context.into();
        move |error| BenchError::Client(ClientError::Kafka { context, error })
    }
}
