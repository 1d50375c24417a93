//! DescribeCluster: the cluster id, the controller and the live agents, as
//! Metadata reports them.
//!
//! Floe has no controller quorum: every agent answers as the controller
//! itself (the id Metadata reports too), since any agent can serve any
//! admin request. Only broker endpoints exist; a request for the
//! controllers' endpoints (v1+, KIP-919) is refused as a Kafka broker
//! refuses it. No agent is ever fenced: a fenced one is simply not live.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::describe_cluster_response::DescribeClusterBroker;
use kafka_protocol::messages::{BrokerId, DescribeClusterRequest, DescribeClusterResponse};
use kafka_protocol::protocol::StrBytes;

use super::authorize::{Access, Op};
use super::authorized_operations;
use crate::context::AgentContext;

/// `endpoint_type` of broker endpoints (Kafka's `EndpointType.BROKER`).
const BROKER_ENDPOINTS: i8 = 1;

/// Answers DescribeCluster. As in Kafka it needs no ACL (clients bootstrap
/// with it); the cluster's authorized operations are answered only to a
/// requester that may DESCRIBE the cluster (0 otherwise).
pub fn handle(
    ctx: &AgentContext,
    req: DescribeClusterRequest,
    listener: &str,
    access: &Access,
) -> DescribeClusterResponse {
    let resp = DescribeClusterResponse::default()
        .with_endpoint_type(BROKER_ENDPOINTS)
        .with_cluster_id(StrBytes::from_string(ctx.cluster_id.clone()))
        .with_controller_id(BrokerId(ctx.registry.me().node_id));
    if req.endpoint_type != BROKER_ENDPOINTS {
        return resp
            .with_controller_id(BrokerId(-1))
            .with_error_code(ResponseError::UnsupportedEndpointType.code())
            .with_error_message(Some(StrBytes::from_string(format!(
                "endpoint type {} is not served: Floe agents only have broker endpoints",
                req.endpoint_type
            ))));
    }
    let brokers = ctx
        .registry
        .live()
        .into_iter()
        .map(|a| {
            let (host, port) = a.endpoint(listener);
            DescribeClusterBroker::default()
                .with_broker_id(BrokerId(a.node_id))
                .with_host(StrBytes::from_string(host))
                .with_port(port)
                .with_rack(a.zone.map(StrBytes::from_string))
        })
        .collect();
    let operations = if req.include_cluster_authorized_operations {
        if access.cluster(Op::Describe) {
            access.cluster_operations()
        } else {
            0
        }
    } else {
        authorized_operations::NOT_ASKED
    };
    resp.with_brokers(brokers)
        .with_cluster_authorized_operations(operations)
}
