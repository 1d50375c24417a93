//! Background work, each job a pass every interval until the agent stops
//! (`periodic.rs`), bounded and visible in `/metrics`: the segment
//! collector, time-based retention, and the pruning of metadata that is
//! kept only for a while. Any number of agents may run each job at once:
//! collection and pruning are idempotent, and retention handles only the
//! partitions rendezvous hashing gives this agent.

pub mod collector;
pub mod periodic;
pub mod prune;
pub mod retention;
