//! FindCoordinator: which agent coordinates a consumer group or a
//! transactional id.
//!
//! Both are spread over the live agents by rendezvous hashing of the key,
//! so every agent answers the same and a key only moves when its agent
//! leaves. (A transaction's state lives in the store, so any agent could
//! serve it; the hashing only spreads the load.)

use kafka_protocol::ResponseError;
use kafka_protocol::messages::find_coordinator_response::Coordinator;
use kafka_protocol::messages::{BrokerId, FindCoordinatorRequest, FindCoordinatorResponse};
use kafka_protocol::protocol::StrBytes;

use super::authorize::{Access, GROUP_DENIED, Op, TXN_DENIED, denied_message};
use crate::cluster::routing::{AgentAddress, pick};
use crate::context::AgentContext;

const GROUP: i8 = 0;
const TRANSACTION: i8 = 1;

/// Answers FindCoordinator, in the single-key form (v0–v3) or the batched
/// form (v4+). A key needs DESCRIBE on its group or transactional id
/// (else GROUP_ / TRANSACTIONAL_ID_AUTHORIZATION_FAILED), as in Kafka.
pub fn handle(
    ctx: &AgentContext,
    req: FindCoordinatorRequest,
    version: i16,
    listener: &str,
    access: &Access,
) -> FindCoordinatorResponse {
    let agents = ctx.registry.live();
    let all: Vec<&AgentAddress> = agents.iter().collect();
    let find = |key: &StrBytes| -> Result<AgentAddress, (i16, String)> {
        if req.key_type != GROUP && req.key_type != TRANSACTION {
            return Err((
                ResponseError::InvalidRequest.code(),
                format!("coordinator key type {} is not supported", req.key_type),
            ));
        }
        let refusal = if req.key_type == GROUP {
            (!access.group(Op::Describe, key)).then_some(GROUP_DENIED)
        } else {
            (!access.transactional_id(Op::Describe, key)).then_some(TXN_DENIED)
        };
        if let Some(code) = refusal {
            return Err((code, denied_message(code).to_string()));
        }
        pick(&all, key.as_bytes()).cloned().ok_or((
            ResponseError::CoordinatorNotAvailable.code(),
            "no live agent".to_string(),
        ))
    };
    if version >= 4 {
        let coordinators = req
            .coordinator_keys
            .iter()
            .map(|key| {
                let c = Coordinator::default().with_key(key.clone());
                match find(key) {
                    Ok(a) => {
                        let (host, port) = a.endpoint(listener);
                        c.with_node_id(BrokerId(a.node_id))
                            .with_host(StrBytes::from_string(host))
                            .with_port(port)
                    }
                    Err((code, msg)) => c
                        .with_node_id(BrokerId(-1))
                        .with_error_code(code)
                        .with_error_message(Some(StrBytes::from_string(msg))),
                }
            })
            .collect();
        return FindCoordinatorResponse::default().with_coordinators(coordinators);
    }
    match find(&req.key) {
        Ok(a) => {
            let (host, port) = a.endpoint(listener);
            FindCoordinatorResponse::default()
                .with_node_id(BrokerId(a.node_id))
                .with_host(StrBytes::from_string(host))
                .with_port(port)
        }
        Err((code, msg)) => {
            let resp = FindCoordinatorResponse::default()
                .with_error_code(code)
                .with_node_id(BrokerId(-1));
            if version >= 1 {
                resp.with_error_message(Some(StrBytes::from_string(msg)))
            } else {
                resp
            }
        }
    }
}
