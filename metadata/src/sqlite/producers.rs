//! Producer ids for InitProducerId.

use sqlx::SqliteConnection;

use super::SqliteStore;
use crate::convert::stored_epoch;
use crate::{ProducerIdentity, Result};

const PRODUCER_ID_ALLOCATE: &str = include_str!("../../queries/sqlite/producer_id_allocate.sql");
const TRANSACTIONAL_ID_GET: &str = include_str!("../../queries/sqlite/transactional_id_get.sql");
const TRANSACTIONAL_ID_UPSERT: &str =
    include_str!("../../queries/sqlite/transactional_id_upsert.sql");

/// The largest epoch handed out; one more bump allocates a fresh id.
const MAX_EPOCH: i16 = i16::MAX - 1;

/// A fresh producer id with epoch 0, or for a transactional id its producer
/// id with the epoch bumped (fencing the previous incarnation).
pub(super) async fn init_producer_id(
    store: &SqliteStore,
    transactional_id: Option<&str>,
) -> Result<ProducerIdentity> {
    let mut write = store.begin_write().await?;
    let identity = match transactional_id {
        None => ProducerIdentity {
            producer_id: allocate(&mut write.tx).await?,
            epoch: 0,
        },
        Some(transactional_id) => {
            let stored: Option<(i64, i64)> = sqlx::query_as(TRANSACTIONAL_ID_GET)
                .bind(transactional_id)
                .fetch_optional(&mut *write.tx)
                .await?;
            let identity = match stored {
                Some((producer_id, epoch)) => {
                    let epoch = stored_epoch(epoch)?;
                    if epoch < MAX_EPOCH {
                        ProducerIdentity {
                            producer_id,
                            epoch: epoch + 1,
                        }
                    } else {
                        ProducerIdentity {
                            producer_id: allocate(&mut write.tx).await?,
                            epoch: 0,
                        }
                    }
                }
                None => ProducerIdentity {
                    producer_id: allocate(&mut write.tx).await?,
                    epoch: 0,
                },
            };
            sqlx::query(TRANSACTIONAL_ID_UPSERT)
                .bind(transactional_id)
                .bind(identity.producer_id)
                .bind(i64::from(identity.epoch))
                .execute(&mut *write.tx)
                .await?;
            identity
        }
    };
    write.commit().await?;
    tracing::debug!(
        transactional_id,
        producer_id = identity.producer_id,
        epoch = identity.epoch,
        "initialised producer id"
    );
    Ok(identity)
}

/// Takes the next producer id from the persisted counter.
pub(super) async fn allocate(conn: &mut SqliteConnection) -> Result<i64> {
    let id: i64 = sqlx::query_scalar(PRODUCER_ID_ALLOCATE)
        .fetch_one(&mut *conn)
        .await?;
    Ok(id)
}
