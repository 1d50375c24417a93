//! The authorized operations Floe reports (Metadata, DescribeGroups,
//! DescribeCluster, DescribeTopicPartitions), as Kafka's 32-bit fields: bit
//! `n` set for the ACL operation of code `n`. Without an authorizer every
//! operation a resource type supports is allowed, which is what a Kafka 4.x
//! broker without an authorizer reports: the supported operations of each
//! resource type (`AclEntry.supportedOperations`). With `--authorizer acl`
//! the requester's own bits are reported instead (`authorize.rs`).

/// ACL operation codes (Kafka's `AclOperation`).
const READ: u8 = 3;
const WRITE: u8 = 4;
const CREATE: u8 = 5;
const DELETE: u8 = 6;
const ALTER: u8 = 7;
const DESCRIBE: u8 = 8;
const CLUSTER_ACTION: u8 = 9;
const DESCRIBE_CONFIGS: u8 = 10;
const ALTER_CONFIGS: u8 = 11;
const IDEMPOTENT_WRITE: u8 = 12;

const fn bits(ops: &[u8]) -> i32 {
    let mut field = 0;
    let mut i = 0;
    while i < ops.len() {
        field |= 1 << ops[i];
        i += 1;
    }
    field
}

/// A topic: read, write, create, delete, alter, describe, describe and
/// alter configs.
pub const TOPIC: i32 = bits(&[
    READ,
    WRITE,
    CREATE,
    DELETE,
    ALTER,
    DESCRIBE,
    DESCRIBE_CONFIGS,
    ALTER_CONFIGS,
]);

/// The cluster: create, alter, describe, cluster action, describe and
/// alter configs, idempotent write.
pub const CLUSTER: i32 = bits(&[
    CREATE,
    ALTER,
    DESCRIBE,
    CLUSTER_ACTION,
    DESCRIBE_CONFIGS,
    ALTER_CONFIGS,
    IDEMPOTENT_WRITE,
]);

/// A consumer group: read, delete, describe, describe and alter configs
/// (the group configs of KIP-848 brokers).
pub const GROUP: i32 = bits(&[READ, DELETE, DESCRIBE, DESCRIBE_CONFIGS, ALTER_CONFIGS]);

/// What Kafka answers when the client did not ask: `i32::MIN`.
pub const NOT_ASKED: i32 = i32::MIN;

#[cfg(test)]
mod tests {
    use super::*;

    /// The values a Kafka 4.x broker without an authorizer answers.
    #[test]
    fn fields_are_kafkas() {
        assert_eq!(TOPIC, 3576);
        assert_eq!(CLUSTER, 8096);
        assert_eq!(GROUP, 3400);
    }
}
