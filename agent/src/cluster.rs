//! What the cluster looks like to clients: topics and (later) the live
//! agents that serve them.

pub mod topics;
