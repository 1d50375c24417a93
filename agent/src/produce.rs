//! The write path: produced batches wait in the pending segment, shared by
//! every connection and partition; the flusher seals it, uploads it as one
//! segment file, commits it to the metadata store (which assigns offsets),
//! and answers the waiting producers.

mod commit;
mod flusher;
mod ordering;
mod pending;

pub use commit::{COMMIT_ATTEMPT_TIMEOUT, CommitRetry};
pub use flusher::{FlushSettings, Flusher};
pub use pending::{AppendOutcome, AppendTime, Appended, FlushError, Producer, retention_timestamp};
