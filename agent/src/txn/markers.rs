//! Writing the markers that end a transaction: one control batch per
//! partition of the transaction, appended together so they go into one
//! segment and one commit, whose outcome is awaited.

use std::time::Instant;

use floe_metadata::{BatchTxn, TxnRecord};

use super::TxnError;
use crate::metrics::Metrics;
use crate::produce::{FlushError, Producer};
use crate::segment::control::{Marker, marker_batch};

/// Appends a commit or abort marker of `record`'s producer at its epoch to
/// every partition of its transaction and waits for their commit. A
/// partition whose topic was deleted meanwhile needs no marker.
pub(super) async fn write(
    producer: &Producer,
    metrics: &Metrics,
    record: &TxnRecord,
    commit: bool,
    now_ms: i64,
) -> Result<(), TxnError> {
    if record.partitions.is_empty() {
        return Ok(());
    }
    let started = Instant::now();
    let marker = Marker {
        producer_id: record.producer_id,
        producer_epoch: record.epoch,
        commit,
        coordinator_epoch: 0,
    };
    let batch = marker_batch(&marker, now_ms);
    let txn = BatchTxn::Marker {
        producer_id: record.producer_id,
        producer_epoch: record.epoch,
        commit,
    };
    let markers = record
        .partitions
        .iter()
        .map(|(topic, partition)| (*topic, *partition, batch.clone(), txn))
        .collect();
    let replies = producer
        .append_markers(markers, now_ms)
        .await
        .map_err(TxnError::Markers)?;
    for reply in replies {
        match reply.await {
            Ok(Ok(_)) | Ok(Err(FlushError::UnknownPartition)) => {}
            Ok(Err(e)) => return Err(TxnError::Markers(e)),
            Err(_) => return Err(TxnError::Markers(FlushError::ShuttingDown)),
        }
    }
    metrics
        .txn
        .marker_seconds
        .observe(started.elapsed().as_secs_f64());
    tracing::debug!(
        transactional_id = record.transactional_id,
        partitions = record.partitions.len(),
        commit,
        "transaction markers committed"
    );
    Ok(())
}
