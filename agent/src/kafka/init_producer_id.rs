//! InitProducerId: producer ids and epochs, allocated by the metadata store
//! so they are unique across agents and restarts.

use kafka_protocol::messages::{InitProducerIdRequest, InitProducerIdResponse, ProducerId};

use super::error_codes;
use crate::context::AgentContext;

/// Answers InitProducerId.
pub async fn handle(ctx: &AgentContext, req: InitProducerIdRequest) -> InitProducerIdResponse {
    let txn = req.transactional_id.as_ref().map(|t| t.as_str());
    match ctx.store.init_producer_id(txn).await {
        Ok(p) => InitProducerIdResponse::default()
            .with_producer_id(ProducerId(p.producer_id))
            .with_producer_epoch(p.epoch),
        Err(e) => InitProducerIdResponse::default()
            .with_error_code(error_codes::for_metadata(&e))
            .with_producer_id(ProducerId(-1))
            .with_producer_epoch(-1),
    }
}
