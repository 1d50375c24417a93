//! What the cluster looks like to clients: topics, the live agents, and
//! which agent a client should use for each partition.

pub mod registry;
pub mod routing;
pub mod store_events;
pub mod topics;
