//! InitProducerId: producer ids and epochs, allocated by the metadata store
//! so they are unique across agents and restarts. With a transactional id
//! the transaction coordinator answers (`txn/`): it ends the id's open
//! transaction and fences the previous incarnation.

use kafka_protocol::messages::{InitProducerIdRequest, InitProducerIdResponse, ProducerId};

use super::authorize::{Access, CLUSTER_DENIED, Op, TXN_DENIED};
use super::error_codes;
use crate::authz::ResourceType;
use crate::context::AgentContext;

/// First version that knows PRODUCER_FENCED (KIP-588).
const FENCED_KNOWN: i16 = 4;
/// First version carrying the producer's current id and epoch (KIP-360).
const KNOWS_PRODUCER: i16 = 3;

/// Answers InitProducerId. As Kafka: with a transactional id, WRITE on it
/// (else TRANSACTIONAL_ID_AUTHORIZATION_FAILED); without one (an
/// idempotent producer), IDEMPOTENT_WRITE on the cluster or WRITE on at
/// least one topic (else CLUSTER_AUTHORIZATION_FAILED).
pub async fn handle(
    ctx: &AgentContext,
    req: InitProducerIdRequest,
    version: i16,
    access: &Access,
) -> InitProducerIdResponse {
    let failed = |code: i16| {
        InitProducerIdResponse::default()
            .with_error_code(code)
            .with_producer_id(ProducerId(-1))
            .with_producer_epoch(-1)
    };
    let Some(txn) = req.transactional_id.as_ref().map(|t| t.as_str()) else {
        if !access.cluster(Op::IdempotentWrite) && !access.any(Op::Write, ResourceType::Topic) {
            return failed(CLUSTER_DENIED);
        }
        return match ctx.store.init_producer_id(None).await {
            Ok(p) => InitProducerIdResponse::default()
                .with_producer_id(ProducerId(p.producer_id))
                .with_producer_epoch(p.epoch),
            Err(e) => failed(error_codes::for_metadata(&e)),
        };
    };
    if !access.transactional_id(Op::Write, txn) {
        return failed(TXN_DENIED);
    }
    let expected = (version >= KNOWS_PRODUCER && req.producer_id.0 >= 0)
        .then_some((req.producer_id.0, req.producer_epoch));
    match ctx
        .txn
        .init(txn, req.transaction_timeout_ms, expected)
        .await
    {
        Ok(p) => InitProducerIdResponse::default()
            .with_producer_id(ProducerId(p.producer_id))
            .with_producer_epoch(p.epoch),
        Err(e) => {
            tracing::debug!(transactional_id = txn, error = %e, "InitProducerId refused");
            failed(error_codes::for_txn(&e, version >= FENCED_KNOWN))
        }
    }
}
