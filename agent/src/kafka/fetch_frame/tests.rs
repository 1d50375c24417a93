use bytes::Buf;
use kafka_protocol::messages::fetch_response::{
    AbortedTransaction, EpochEndOffset, FetchableTopicResponse, LeaderIdAndEpoch, SnapshotId,
};
use kafka_protocol::messages::{BrokerId, ProducerId, TopicName};
use kafka_protocol::protocol::StrBytes;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::*;
use crate::kafka::codec;

fn bytes(rng: &mut StdRng, len: usize) -> Bytes {
    (0..len)
        .map(|_| rng.random::<u8>())
        .collect::<Vec<_>>()
        .into()
}

fn unknown_tags(rng: &mut StdRng, from: i32) -> BTreeMap<i32, Bytes> {
    (0..rng.random_range(0..3))
        .map(|i| {
            let len = rng.random_range(0..5);
            (from + i * 2, bytes(rng, len))
        })
        .collect()
}

/// Record data as a fetch reads it: nothing, or one or more pieces of
/// sizes around the copy threshold.
fn pieces(rng: &mut StdRng) -> Option<Vec<Bytes>> {
    match rng.random_range(0..4) {
        0 => None,
        1 => Some(Vec::new()),
        _ => Some(
            (0..rng.random_range(1..4))
                .map(|_| {
                    let len = [0, 10, SHARE_MIN - 1, SHARE_MIN, 5000][rng.random_range(0..5)];
                    bytes(rng, len)
                })
                .collect(),
        ),
    }
}

fn partition(rng: &mut StdRng, index: i32, version: i16) -> PartitionData {
    let mut p = PartitionData::default()
        .with_partition_index(index)
        .with_error_code(rng.random_range(0..3))
        .with_high_watermark(rng.random())
        .with_last_stable_offset(rng.random())
        .with_log_start_offset(if version >= 5 { rng.random() } else { -1 });
    if rng.random_bool(0.5) {
        let aborted = (0..rng.random_range(0..3))
            .map(|_| {
                AbortedTransaction::default()
                    .with_producer_id(ProducerId(rng.random()))
                    .with_first_offset(rng.random())
                    .with_unknown_tagged_fields(if version >= FLEXIBLE {
                        unknown_tags(rng, 0)
                    } else {
                        BTreeMap::new()
                    })
            })
            .collect();
        p = p.with_aborted_transactions(Some(aborted));
    }
    if version >= 11 {
        p = p.with_preferred_read_replica(BrokerId(rng.random_range(-1..5)));
    }
    if version >= FLEXIBLE {
        if rng.random_bool(0.3) {
            p = p.with_diverging_epoch(
                EpochEndOffset::default()
                    .with_epoch(rng.random())
                    .with_end_offset(rng.random()),
            );
        }
        if rng.random_bool(0.3) {
            p = p.with_current_leader(
                LeaderIdAndEpoch::default()
                    .with_leader_id(BrokerId(rng.random()))
                    .with_leader_epoch(rng.random()),
            );
        }
        if rng.random_bool(0.3) {
            p = p.with_snapshot_id(
                SnapshotId::default()
                    .with_end_offset(rng.random())
                    .with_epoch(rng.random()),
            );
        }
        p = p.with_unknown_tagged_fields(unknown_tags(rng, 3));
    }
    p
}

/// A random answer, and the same response with every partition's pieces
/// joined into its `records`, for kafka-protocol's encoder.
fn answer(rng: &mut StdRng, version: i16) -> (FetchAnswer, FetchResponse) {
    let mut answer = FetchAnswer::default();
    let mut joined = FetchResponse::default().with_throttle_time_ms(rng.random_range(0..100));
    if version >= 7 {
        joined = joined
            .with_error_code(rng.random_range(0..2))
            .with_session_id(rng.random());
    }
    if version >= FLEXIBLE {
        joined = joined.with_unknown_tagged_fields(unknown_tags(rng, 1));
    }
    let mut topics = Vec::new();
    for ti in 0..rng.random_range(0..4) {
        let name = TopicName(StrBytes::from_string(format!("topic-{ti}")));
        let mut topic = FetchableTopicResponse::default().with_topic(name);
        let mut joined_topic = topic.clone();
        if version >= FLEXIBLE {
            let tags = unknown_tags(rng, 0);
            topic = topic.with_unknown_tagged_fields(tags.clone());
            joined_topic = joined_topic.with_unknown_tagged_fields(tags);
        }
        for pi in 0..rng.random_range(0..4) {
            let p = partition(rng, pi as i32, version);
            match pieces(rng) {
                Some(pieces) => {
                    joined_topic
                        .partitions
                        .push(p.clone().with_records(Some(pieces.concat().into())));
                    topic.partitions.push(p);
                    answer.records.insert((ti, pi), pieces);
                }
                None => {
                    let records = rng.random_bool(0.5).then(|| bytes(rng, 40));
                    joined_topic
                        .partitions
                        .push(p.clone().with_records(records.clone()));
                    topic.partitions.push(p.with_records(records));
                }
            }
        }
        topics.push(topic);
        joined.responses.push(joined_topic);
    }
    answer.response = joined.clone().with_responses(topics);
    (answer, joined)
}

fn concat(frame: &ResponseFrame) -> Vec<u8> {
    frame.chunks().flat_map(|c| c.iter().copied()).collect()
}

#[test]
fn writes_the_same_bytes_as_kafka_protocol() {
    let mut rng = StdRng::seed_from_u64(0xf10e);
    for version in VERSIONS {
        for case in 0..200 {
            let (answer, joined) = answer(&mut rng, version);
            let ours = encode(&answer, version, case).unwrap();
            let theirs = codec::encode_response(ApiKey::Fetch, version, case, &joined).unwrap();
            assert_eq!(
                concat(&ours),
                theirs.to_vec(),
                "Fetch v{version}, case {case}"
            );
            assert_eq!(ours.remaining(), theirs.len());
        }
    }
}

#[test]
fn large_record_data_is_shared_not_copied() {
    let data = Bytes::from(vec![7u8; 64 * 1024]);
    let pieces = vec![data.slice(..40_000), data.slice(40_000..)];
    let topic = FetchableTopicResponse::default()
        .with_topic(TopicName(StrBytes::from_static_str("t")))
        .with_partitions(vec![PartitionData::default()]);
    let mut answer = FetchAnswer::default();
    answer.response.responses.push(topic);
    answer.records.insert((0, 0), pieces.clone());
    for version in [4, 11, 12] {
        let frame = encode(&answer, version, 1).unwrap();
        let shared: Vec<&Bytes> = frame
            .chunks()
            .filter(|c| pieces.iter().any(|p| p.as_ptr() == c.as_ptr()))
            .collect();
        assert_eq!(
            shared.len(),
            2,
            "v{version}: both pieces go out as they are"
        );
    }
}

#[test]
fn refuses_versions_it_does_not_write() {
    let answer = FetchAnswer::default();
    assert!(encode(&answer, 3, 1).is_err());
    assert!(encode(&answer, 13, 1).is_err());
}
