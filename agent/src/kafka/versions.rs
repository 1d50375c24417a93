//! The APIs and versions this agent implements: the single source for
//! ApiVersions and for refusing anything else.

use kafka_protocol::messages::ApiKey;
use kafka_protocol::protocol::VersionRange;

/// `(api, lowest, highest)` versions implemented. Each range is also cut to
/// what the kafka-protocol crate can encode (see [`supported`]).
///
/// Produce and Fetch stop below the versions that address topics by id only
/// (Produce 13, Fetch 13); ListOffsets stops at 7 (max-timestamp lookups).
/// FindCoordinator is also what tells librdkafka that the broker takes LZ4.
/// The classic group protocol is served; KIP-848's ConsumerGroupHeartbeat
/// is not. The admin APIs of a leaderless log (elections, reassignments,
/// log dirs, the metadata quorum) are served with the ranges a Kafka 4.x
/// broker advertises (`docs/compatibility.md` says what each answers).
const IMPLEMENTED: &[(ApiKey, i16, i16)] = &[
    (ApiKey::Produce, 3, 12),
    (ApiKey::Fetch, 4, 12),
    (ApiKey::ListOffsets, 1, 7),
    (ApiKey::Metadata, 0, 12),
    (ApiKey::ApiVersions, 0, 4),
    (ApiKey::CreateTopics, 2, 7),
    (ApiKey::DeleteTopics, 1, 6),
    (ApiKey::InitProducerId, 0, 5),
    (ApiKey::FindCoordinator, 0, 6),
    (ApiKey::AddPartitionsToTxn, 0, 5),
    (ApiKey::AddOffsetsToTxn, 0, 4),
    (ApiKey::TxnOffsetCommit, 0, 4),
    (ApiKey::EndTxn, 0, 4),
    (ApiKey::WriteTxnMarkers, 1, 1),
    (ApiKey::DescribeTransactions, 0, 0),
    (ApiKey::ListTransactions, 0, 2),
    (ApiKey::JoinGroup, 0, 9),
    (ApiKey::SyncGroup, 0, 5),
    (ApiKey::Heartbeat, 0, 4),
    (ApiKey::LeaveGroup, 0, 5),
    (ApiKey::OffsetCommit, 2, 9),
    (ApiKey::OffsetFetch, 1, 9),
    (ApiKey::OffsetDelete, 0, 0),
    (ApiKey::ListGroups, 0, 5),
    (ApiKey::DescribeGroups, 0, 6),
    (ApiKey::DeleteGroups, 0, 2),
    (ApiKey::CreatePartitions, 0, 3),
    (ApiKey::DeleteRecords, 0, 2),
    (ApiKey::DescribeCluster, 0, 2),
    (ApiKey::DescribeQuorum, 0, 2),
    (ApiKey::OffsetForLeaderEpoch, 2, 4),
    (ApiKey::ElectLeaders, 0, 2),
    (ApiKey::DescribeProducers, 0, 0),
    (ApiKey::DescribeLogDirs, 1, 4),
    (ApiKey::AlterReplicaLogDirs, 1, 2),
    (ApiKey::DescribeTopicPartitions, 0, 0),
    (ApiKey::ListPartitionReassignments, 0, 0),
    (ApiKey::AlterPartitionReassignments, 0, 1),
    (ApiKey::DescribeConfigs, 1, 4),
    (ApiKey::AlterConfigs, 0, 2),
    (ApiKey::IncrementalAlterConfigs, 0, 1),
    (ApiKey::ListConfigResources, 0, 1),
    // v0 of SaslHandshake is followed by bare SASL tokens outside Kafka
    // frames (`kafka/sasl.rs`); v1 by SaslAuthenticate requests.
    (ApiKey::SaslHandshake, 0, 1),
    (ApiKey::SaslAuthenticate, 0, 2),
    (ApiKey::DescribeUserScramCredentials, 0, 0),
    (ApiKey::AlterUserScramCredentials, 0, 0),
    (ApiKey::DescribeClientQuotas, 0, 1),
    (ApiKey::AlterClientQuotas, 0, 1),
    (ApiKey::CreateAcls, 1, 3),
    (ApiKey::DescribeAcls, 1, 3),
    (ApiKey::DeleteAcls, 1, 3),
];

/// The versions of `api` this agent serves, or `None` if it serves none.
pub fn supported(api: ApiKey) -> Option<VersionRange> {
    let &(_, min, max) = IMPLEMENTED.iter().find(|(k, _, _)| *k == api)?;
    let range = VersionRange { min, max }.intersect(&api.valid_versions());
    (!range.is_empty()).then_some(range)
}

/// Whether `version` of `api` is served.
pub fn is_supported(api: ApiKey, version: i16) -> bool {
    supported(api).is_some_and(|r| r.min <= version && version <= r.max)
}

/// Every served API with its version range.
pub fn all() -> impl Iterator<Item = (ApiKey, VersionRange)> {
    IMPLEMENTED
        .iter()
        .filter_map(|&(k, _, _)| supported(k).map(|r| (k, r)))
}

/// The lowest Produce version advertised: 0, below the lowest served (3), as
/// a Kafka 4.x broker does (KAFKA-18659). librdkafka before 2.8 compresses
/// with gzip or snappy only if the broker lists Produce v0 (lz4 and zstd it
/// checks otherwise): told "3", it sends those batches uncompressed, without
/// a word to the application. Clients pick the highest version both sides
/// have, so none sends v0–2; a request that does is refused like any
/// version not served (the connection closes), as Kafka refuses it.
const PRODUCE_ADVERTISED_MIN: i16 = 0;

/// Every served API with the version range ApiVersions advertises: the
/// served range, except Produce ([`PRODUCE_ADVERTISED_MIN`]).
pub fn advertised() -> impl Iterator<Item = (ApiKey, VersionRange)> {
    all().map(|(api, range)| match api {
        ApiKey::Produce => (
            api,
            VersionRange {
                min: PRODUCE_ADVERTISED_MIN,
                max: range.max,
            },
        ),
        _ => (api, range),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_fit_the_codec() {
        for (api, range) in all() {
            let known = api.valid_versions();
            assert!(range.min >= known.min && range.max <= known.max, "{api:?}");
        }
        assert!(is_supported(ApiKey::Produce, 9));
        assert!(!is_supported(ApiKey::Produce, 13));
        assert!(is_supported(ApiKey::JoinGroup, 0));
        assert!(!is_supported(ApiKey::ConsumerGroupHeartbeat, 0));
    }

    #[test]
    fn produce_is_advertised_from_v0_but_served_from_v3() {
        let produce = advertised().find(|(api, _)| *api == ApiKey::Produce);
        assert_eq!(produce.map(|(_, r)| (r.min, r.max)), Some((0, 12)));
        assert!(!is_supported(ApiKey::Produce, 2));
        assert!(is_supported(ApiKey::Produce, 3));
        // Every other API is advertised exactly as served.
        assert!(
            advertised()
                .zip(all())
                .all(|((api, shown), (_, served))| api == ApiKey::Produce || shown == served)
        );
    }
}
