//! Which agent a client should talk to for a partition: rendezvous hashing
//! over the live agents, preferring the client's zone.
//!
//! Any agent can serve any partition (the log lives in object storage), so
//! routing is about spreading load and keeping traffic inside a zone, not
//! about correctness: when the set of agents changes, partitions move
//! without any data moving.

use uuid::Uuid;

use crate::config::listeners::Advertised;

/// An agent as clients see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentAddress {
    /// Broker id.
    pub node_id: i32,
    /// Advertised host.
    pub host: String,
    /// Advertised port.
    pub port: i32,
    /// Availability zone, if configured.
    pub zone: Option<String>,
    /// The advertised address of each listener; empty when the agent has
    /// only `host:port`.
    pub listeners: Vec<Advertised>,
}

impl AgentAddress {
    /// The `(host, port)` a client on `listener` is told: that listener's
    /// advertised address, or `host:port` for an agent without it.
    pub fn endpoint(&self, listener: &str) -> (String, i32) {
        self.listeners
            .iter()
            .find(|a| a.protocol.name() == listener)
            .map_or_else(
                || (self.host.clone(), self.port),
                |a| (a.host.clone(), a.port),
            )
    }
}

/// The marker a client puts in its `client.id` to name its zone, as in
/// `client.id=orders-service,floe_az=eu-west-1a`.
const ZONE_MARKER: &str = "floe_az=";

/// The zone named in a client id, if any.
pub fn client_zone(client_id: &str) -> Option<&str> {
    let start = client_id.find(ZONE_MARKER)? + ZONE_MARKER.len();
    let rest = &client_id[start..];
    let end = rest.find([',', ';', ' ', '&']).unwrap_or(rest.len());
    let zone = &rest[..end];
    (!zone.is_empty()).then_some(zone)
}

/// The agents eligible for a client: those in its zone, or all of them
/// when the client names no zone or no agent is in it.
pub fn eligible<'a>(agents: &'a [AgentAddress], zone: Option<&str>) -> Vec<&'a AgentAddress> {
    let in_zone: Vec<&AgentAddress> = match zone {
        Some(z) => agents
            .iter()
            .filter(|a| a.zone.as_deref() == Some(z))
            .collect(),
        None => Vec::new(),
    };
    if in_zone.is_empty() {
        agents.iter().collect()
    } else {
        in_zone
    }
}

/// The agent with the highest rendezvous score for `key`: every caller
/// with the same agent list picks the same agent, and removing an agent
/// only moves the keys it owned.
pub fn pick<'a>(agents: &[&'a AgentAddress], key: &[u8]) -> Option<&'a AgentAddress> {
    agents
        .iter()
        .copied()
        .max_by_key(|a| (score(key, a.node_id), a.node_id))
}

/// The routing key of a partition.
pub fn partition_key(topic: Uuid, partition: i32) -> [u8; 20] {
    let mut key = [0u8; 20];
    key[..16].copy_from_slice(topic.as_bytes());
    key[16..].copy_from_slice(&partition.to_be_bytes());
    key
}

/// A 64-bit mix of the key and the node id (two CRC-32C lanes, then a
/// splitmix finalizer so nearby ids score independently).
fn score(key: &[u8], node_id: i32) -> u64 {
    let lo = crc32c::crc32c_append(crc32c::crc32c(&node_id.to_be_bytes()), key);
    let hi = crc32c::crc32c_append(lo ^ 0x9e37_79b9, key);
    let mut x = (u64::from(hi) << 32) | u64::from(lo);
    x ^= x >> 30;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent(node_id: i32, zone: &str) -> AgentAddress {
        AgentAddress {
            node_id,
            host: "127.0.0.1".into(),
            port: 9000 + node_id,
            zone: Some(zone.into()),
            listeners: Vec::new(),
        }
    }

    #[test]
    fn reads_the_zone_from_the_client_id() {
        assert_eq!(client_zone("svc,floe_az=eu-west-1a"), Some("eu-west-1a"));
        assert_eq!(client_zone("floe_az=us-east-1b,other"), Some("us-east-1b"));
        assert_eq!(client_zone("rdkafka"), None);
        assert_eq!(client_zone("floe_az="), None);
    }

    #[test]
    fn prefers_the_clients_zone_and_falls_back_to_all() {
        let agents = vec![agent(1, "a"), agent(2, "b"), agent(3, "b")];
        assert_eq!(eligible(&agents, Some("b")).len(), 2);
        assert_eq!(eligible(&agents, Some("c")).len(), 3);
        assert_eq!(eligible(&agents, None).len(), 3);
    }

    #[test]
    fn spreads_partitions_and_moves_only_the_lost_agents_share() {
        let agents: Vec<AgentAddress> = (1..=3).map(|i| agent(i, "a")).collect();
        let all: Vec<&AgentAddress> = agents.iter().collect();
        let topic = Uuid::from_u128(42);
        let owners: Vec<i32> = (0..300)
            .map(|p| pick(&all, &partition_key(topic, p)).unwrap().node_id)
            .collect();
        for id in 1..=3 {
            let n = owners.iter().filter(|&&o| o == id).count();
            assert!((60..=140).contains(&n), "agent {id} owns {n} of 300");
        }
        let without_3: Vec<&AgentAddress> = agents.iter().filter(|a| a.node_id != 3).collect();
        for (p, &owner) in owners.iter().enumerate() {
            let now = pick(&without_3, &partition_key(topic, p as i32))
                .unwrap()
                .node_id;
            if owner != 3 {
                assert_eq!(now, owner, "partition {p} moved although its agent stayed");
            }
        }
    }
}
