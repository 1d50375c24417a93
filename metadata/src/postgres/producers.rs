//! Producer ids for InitProducerId, from the `producer_ids` sequence.

use sqlx::PgPool;

use crate::convert::stored_epoch;
use crate::{ProducerIdentity, Result};

const PRODUCER_ID_ALLOCATE: &str = include_str!("../../queries/postgres/producer_id_allocate.sql");
const TRANSACTIONAL_ID_INIT: &str =
    include_str!("../../queries/postgres/transactional_id_init.sql");

/// A fresh producer id with epoch 0, or for a transactional id its producer
/// id with the epoch bumped (fencing the previous incarnation). One
/// statement either way.
pub(super) async fn init_producer_id(
    pool: &PgPool,
    transactional_id: Option<&str>,
) -> Result<ProducerIdentity> {
    let identity = match transactional_id {
        None => {
            let producer_id: i64 = sqlx::query_scalar(PRODUCER_ID_ALLOCATE)
                .fetch_one(pool)
                .await?;
            ProducerIdentity {
                producer_id,
                epoch: 0,
            }
        }
        Some(transactional_id) => {
            let (producer_id, epoch): (i64, i64) = sqlx::query_as(TRANSACTIONAL_ID_INIT)
                .bind(transactional_id)
                .fetch_one(pool)
                .await?;
            ProducerIdentity {
                producer_id,
                epoch: stored_epoch(epoch)?,
            }
        }
    };
    tracing::debug!(
        transactional_id,
        producer_id = identity.producer_id,
        epoch = identity.epoch,
        "initialised producer id"
    );
    Ok(identity)
}
