//! Hand-made requests over a raw connection: well-formed ones to pin down exact
//! answers, and broken ones (truncated, oversized, unknown, unsupported, corrupt) that
//! must be refused without hurting the agent. After each broken input the agent must
//! still serve a normal request on a new connection.

use bytes::Bytes;
use floe_tests::raw::{self, RawClient, check_serving, versions};
use floe_tests::records::{self, TestRecord};
use floe_tests::{Agent, unique_topic};
use kafka_protocol::messages::{
    ApiKey, ApiVersionsRequest, ApiVersionsResponse, ProduceRequest, ResponseHeader,
};
use kafka_protocol::protocol::{Decodable, StrBytes};
use kafka_protocol::records::Compression;

const NONE: i16 = 0;
const OFFSET_OUT_OF_RANGE: i16 = 1;
const CORRUPT_MESSAGE: i16 = 2;
const UNKNOWN_TOPIC_OR_PARTITION: i16 = 3;
const UNSUPPORTED_VERSION: i16 = 35;

/// The API version ranges the agent promises; ApiVersions must cover each.
const CONTRACT: &[(ApiKey, i16, i16)] = &[
    (ApiKey::Produce, 3, 12),
    (ApiKey::Fetch, 4, 12),
    (ApiKey::ListOffsets, 1, 7),
    (ApiKey::Metadata, 0, 12),
    (ApiKey::ApiVersions, 0, 4),
    (ApiKey::CreateTopics, 2, 7),
    (ApiKey::DeleteTopics, 1, 6),
    (ApiKey::InitProducerId, 0, 4),
];

fn connect(agent: &Agent) -> RawClient {
    RawClient::connect(agent.kafka_addr()).expect("connect")
}

fn assert_serving(agent: &Agent) {
    check_serving(agent.kafka_addr()).expect("the agent must keep serving after bad input");
}

/// Creates `topic` through an auto-creating Metadata request and checks its size.
fn create_by_metadata(client: &mut RawClient, topic: &str, partitions: usize) {
    let metadata = client.metadata(Some(&[topic]), true).expect("metadata");
    let entry = metadata
        .topics
        .iter()
        .find(|t| t.name.as_ref().map(|n| n.0.as_str()) == Some(topic))
        .expect("topic in metadata");
    assert_eq!(entry.error_code, NONE, "metadata error for {topic}");
    assert_eq!(entry.partitions.len(), partitions, "partitions of {topic}");
}

fn batch(values: &[&str]) -> Bytes {
    records::simple_batch(values, 1_700_000_000_000).expect("batch")
}

#[test]
fn api_versions_answers_every_supported_version() {
    let agent = Agent::start().expect("start agent");
    let mut client = connect(&agent);
    for version in 0..=4 {
        let response = client.api_versions(version).expect("ApiVersions");
        assert_eq!(response.error_code, NONE, "ApiVersions v{version} error");
        for &(key, min, max) in CONTRACT {
            let entry = response
                .api_keys
                .iter()
                .find(|k| k.api_key == key as i16)
                .unwrap_or_else(|| panic!("v{version}: {key:?} not advertised"));
            assert!(
                entry.min_version <= min && entry.max_version >= max,
                "v{version}: {key:?} advertised as {}..={}, promised {min}..={max}",
                entry.min_version,
                entry.max_version
            );
        }
        for entry in &response.api_keys {
            assert!(
                entry.min_version <= entry.max_version,
                "v{version}: empty range advertised for key {}",
                entry.api_key
            );
        }
    }
}

#[test]
fn api_versions_with_unsupported_version_gets_v0_fallback() {
    let agent = Agent::start().expect("start agent");
    let mut client = connect(&agent);
    let request = ApiVersionsRequest::default()
        .with_client_software_name(StrBytes::from_static_str("floe-tests"))
        .with_client_software_version(StrBytes::from_static_str("0.1.0"));
    // A future client: header says v99, body in the newest format we know (v3).
    let header = raw::header(ApiKey::ApiVersions as i16, 99, 7);
    let frame = raw::encode_request(&header, 2, &request, 3).expect("encode");
    client.send_frame(&frame).expect("send");
    let mut response = client
        .read_frame()
        .expect("read")
        .expect("an answer, not a closed connection");
    let header = ResponseHeader::decode(&mut response, 0).expect("response header v0");
    assert_eq!(header.correlation_id, 7);
    let body = ApiVersionsResponse::decode(&mut response, 0).expect("ApiVersions v0 body");
    assert!(
        response.is_empty(),
        "bytes left after the v0 body: {response:?}"
    );
    assert_eq!(body.error_code, UNSUPPORTED_VERSION, "error code");
    assert!(
        body.api_keys
            .iter()
            .any(|k| k.api_key == ApiKey::ApiVersions as i16 && k.max_version >= 3),
        "the fallback must list the supported APIs: {:?}",
        body.api_keys
    );
    // The client then retries with a version it now knows, on the same connection.
    let retry = client
        .api_versions(3)
        .expect("ApiVersions v3 after the fallback");
    assert_eq!(retry.error_code, NONE);
    assert_serving(&agent);
}

#[test]
fn produce_with_unsupported_version_closes_the_connection() {
    let agent = Agent::start().expect("start agent");
    let mut client = connect(&agent);
    let request = raw::produce_request("unsupported-version", vec![(0, batch(&["x"]))], -1);
    let header = raw::header(ApiKey::Produce as i16, 99, 1);
    let frame = raw::encode_request(&header, 2, &request, 9).expect("encode");
    client.send_frame(&frame).expect("send");
    client
        .expect_closed()
        .expect("Produce v99 must close the connection");
    assert_serving(&agent);

    // Below the supported range too (the body in the v3 format, which v2 resembles).
    let mut client = connect(&agent);
    let request: ProduceRequest = raw::produce_request("old-version", vec![], -1);
    let header = raw::header(ApiKey::Produce as i16, 2, 1);
    let frame = raw::encode_request(&header, 1, &request, 3).expect("encode");
    client.send_frame(&frame).expect("send");
    client
        .expect_closed()
        .expect("Produce v2 must close the connection");
    assert_serving(&agent);
}

#[test]
fn unknown_api_key_closes_the_connection() {
    let agent = Agent::start().expect("start agent");
    for api_key in [9999i16, -1, 57] {
        let mut client = connect(&agent);
        let header = raw::header(api_key, 0, 1);
        let frame =
            raw::encode_request(&header, 1, &ApiVersionsRequest::default(), 0).expect("encode");
        client.send_frame(&frame).expect("send");
        client
            .expect_closed()
            .unwrap_or_else(|e| panic!("API key {api_key}: {e:#}"));
        assert_serving(&agent);
    }
}

#[test]
fn frame_larger_than_the_limit_closes_the_connection() {
    let agent = Agent::start().expect("start agent");
    for size in [100 * 1024 * 1024 + 1, i32::MAX] {
        let mut client = connect(&agent);
        let mut frame = size.to_be_bytes().to_vec();
        frame.extend_from_slice(&[0u8; 64]);
        client.send_raw(&frame).expect("send");
        client
            .expect_closed()
            .unwrap_or_else(|e| panic!("size {size}: {e:#}"));
        assert_serving(&agent);
    }
}

#[test]
fn truncated_frames_do_not_hurt_the_agent() {
    let agent = Agent::start().expect("start agent");
    let request = raw::produce_request("truncated", vec![(0, batch(&["a", "b"]))], -1);
    let header = raw::header(ApiKey::Produce as i16, versions::PRODUCE, 1);
    let frame = raw::encode_request(&header, 2, &request, versions::PRODUCE).expect("encode");
    let mut full = (frame.len() as i32).to_be_bytes().to_vec();
    full.extend_from_slice(&frame);

    // Half a frame, then the client half-closes: the agent must close, not answer.
    let mut client = connect(&agent);
    client.send_raw(&full[..full.len() / 2]).expect("send");
    client.shutdown_write().expect("half-close");
    client
        .expect_closed()
        .expect("half a frame then end of input");
    assert_serving(&agent);

    // Half a frame, then the client vanishes.
    let mut client = connect(&agent);
    client.send_raw(&full[..full.len() / 2]).expect("send");
    drop(client);
    assert_serving(&agent);

    // Half a size field.
    let mut client = connect(&agent);
    client.send_raw(&full[..2]).expect("send");
    client.shutdown_write().expect("half-close");
    client.expect_closed().expect("half a size field");
    assert_serving(&agent);

    // Nothing of the truncated produce was stored.
    let mut client = connect(&agent);
    let metadata = client
        .metadata(Some(&["truncated"]), false)
        .expect("metadata");
    if let Some(topic) = metadata.topics.first()
        && topic.error_code == NONE
    {
        let data = client.fetch("truncated", 0, 0, 0).expect("fetch");
        assert!(
            records::decode(data.records.as_ref())
                .expect("decode")
                .is_empty(),
            "a truncated produce stored records"
        );
    }
}

#[test]
fn garbage_bytes_close_the_connection() {
    let agent = Agent::start().expect("start agent");
    let mut size_and_junk = 10i32.to_be_bytes().to_vec();
    size_and_junk.extend_from_slice(&[0xff; 10]);
    let inputs: [(&str, Vec<u8>); 4] = [
        (
            "an HTTP request",
            b"GET / HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
        ),
        ("a negative size", vec![0xff; 64]),
        ("a frame of junk", size_and_junk),
        ("a frame shorter than a header", vec![0, 0, 0, 2, 0, 18]),
    ];
    for (what, bytes) in inputs {
        let mut client = connect(&agent);
        client.send_raw(&bytes).expect("send");
        client
            .expect_closed()
            .unwrap_or_else(|e| panic!("{what}: {e:#}"));
        assert_serving(&agent);
    }
}

#[test]
fn produce_and_fetch_round_trip_with_exact_offsets() {
    let agent = Agent::start().expect("start agent");
    let mut client = connect(&agent);
    let topic = unique_topic("raw-roundtrip");
    create_by_metadata(&mut client, &topic, 1);

    let first = client
        .produce_one(&topic, 0, batch(&["a", "b", "c"]))
        .expect("produce");
    assert_eq!((first.error_code, first.base_offset), (NONE, 0));
    let second = client
        .produce_one(&topic, 0, batch(&["d", "e"]))
        .expect("produce");
    assert_eq!((second.error_code, second.base_offset), (NONE, 3));

    let data = client.fetch(&topic, 0, 0, 1000).expect("fetch");
    assert_eq!(data.error_code, NONE);
    assert_eq!(data.high_watermark, 5, "high watermark");
    let fetched = records::decode(data.records.as_ref()).expect("decode");
    assert_eq!(
        fetched
            .iter()
            .map(|r| (r.offset, r.value.clone()))
            .collect::<Vec<_>>(),
        ["a", "b", "c", "d", "e"]
            .iter()
            .enumerate()
            .map(|(i, v)| (i as i64, Some(Bytes::from_static(v.as_bytes()))))
            .collect::<Vec<_>>(),
        "fetched records"
    );
    let expected_keys = ["k0", "k1", "k2", "k0", "k1"];
    for (r, key) in fetched.iter().zip(expected_keys) {
        assert_eq!(
            r.key.as_deref(),
            Some(key.as_bytes()),
            "key at {}",
            r.offset
        );
    }

    // From the middle of the second batch: that whole batch, base offset patched.
    let data = client.fetch(&topic, 0, 4, 1000).expect("fetch from 4");
    let infos = records::batch_infos(data.records.as_ref()).expect("batch headers");
    assert_eq!(infos.first().map(|i| i.min_offset), Some(3), "{infos:?}");
    // At the high watermark: nothing, and no error.
    let data = client.fetch(&topic, 0, 5, 0).expect("fetch at the end");
    assert_eq!(data.error_code, NONE);
    assert!(
        records::decode(data.records.as_ref())
            .expect("decode")
            .is_empty()
    );
}

#[test]
fn list_offsets_earliest_latest_max_timestamp_and_by_time() {
    let agent = Agent::start().expect("start agent");
    let mut client = connect(&agent);
    let topic = unique_topic("raw-list-offsets");
    create_by_metadata(&mut client, &topic, 1);
    let t0 = 1_700_000_000_000;
    let stamped = |ts: &[i64]| {
        let list: Vec<TestRecord> = ts
            .iter()
            .enumerate()
            .map(|(i, t)| TestRecord::new(&format!("k{i}"), &format!("v{t}"), t0 + t))
            .collect();
        records::batch(&list, Compression::None).expect("batch")
    };
    // Offsets 0..=2 at +0, +10, +20; offsets 3..=5 at +30, +90 (the max), +50.
    client
        .produce_one(&topic, 0, stamped(&[0, 10, 20]))
        .expect("produce");
    client
        .produce_one(&topic, 0, stamped(&[30, 90, 50]))
        .expect("produce");

    for (timestamp, offset) in [
        (-2, 0),
        (-1, 6),
        (-3, 4),
        (t0 - 5, 0),
        (t0, 0),
        (t0 + 15, 2),
        (t0 + 30, 3),
        (t0 + 40, 4),
        (t0 + 90, 4),
        (t0 + 91, -1),
    ] {
        let answer = client
            .list_offsets(&topic, 0, timestamp)
            .expect("ListOffsets");
        assert_eq!(
            (answer.error_code, answer.offset),
            (NONE, offset),
            "ListOffsets at timestamp {timestamp}"
        );
        if timestamp == -3 {
            assert_eq!(answer.timestamp, t0 + 90, "max timestamp");
        }
    }
}

#[test]
fn corrupt_batch_is_rejected_and_nothing_is_stored() {
    let agent = Agent::builder().partitions(2).start().expect("start agent");
    let mut client = connect(&agent);
    let topic = unique_topic("raw-crc");
    create_by_metadata(&mut client, &topic, 2);

    let good = batch(&["good"]);
    let bad = records::with_bad_crc(&batch(&["bad-1", "bad-2"])).expect("corrupt");
    let mut answers = client
        .produce(&topic, vec![(0, bad), (1, good)], -1)
        .expect("produce");
    answers.sort_by_key(|a| a.index);
    assert_eq!(
        answers
            .iter()
            .map(|a| (a.index, a.error_code))
            .collect::<Vec<_>>(),
        vec![(0, CORRUPT_MESSAGE), (1, NONE)],
        "per-partition errors"
    );
    assert_eq!(answers[1].base_offset, 0);

    let data = client.fetch(&topic, 0, 0, 0).expect("fetch partition 0");
    assert_eq!((data.error_code, data.high_watermark), (NONE, 0));
    assert!(
        records::decode(data.records.as_ref())
            .expect("decode")
            .is_empty(),
        "the corrupt batch was stored"
    );
    let data = client.fetch(&topic, 1, 0, 0).expect("fetch partition 1");
    assert_eq!(
        records::values(&records::decode(data.records.as_ref()).expect("decode")),
        ["good"]
    );

    // The rejected batch used up no offset.
    let next = client
        .produce_one(&topic, 0, batch(&["after"]))
        .expect("produce");
    assert_eq!((next.error_code, next.base_offset), (NONE, 0));
    assert_serving(&agent);
}

#[test]
fn unknown_partition_is_unknown_topic_or_partition() {
    let agent = Agent::start().expect("start agent");
    let mut client = connect(&agent);
    let topic = unique_topic("raw-partition");
    create_by_metadata(&mut client, &topic, 1);
    for partition in [1, 99, -1] {
        let answer = client
            .produce_one(&topic, partition, batch(&["x"]))
            .expect("produce");
        assert_eq!(
            answer.error_code, UNKNOWN_TOPIC_OR_PARTITION,
            "produce to {partition}"
        );
        let data = client.fetch(&topic, partition, 0, 0).expect("fetch");
        assert_eq!(
            data.error_code, UNKNOWN_TOPIC_OR_PARTITION,
            "fetch from {partition}"
        );
    }
    let data = client.fetch(&topic, 0, 0, 0).expect("fetch");
    assert_eq!(
        (data.error_code, data.high_watermark),
        (NONE, 0),
        "partition 0 untouched"
    );
    assert_serving(&agent);
}

#[test]
fn unknown_topic_without_auto_create_is_unknown_topic_or_partition() {
    let agent = Agent::builder()
        .auto_create(false)
        .start()
        .expect("start agent");
    let mut client = connect(&agent);
    let topic = unique_topic("raw-no-such-topic");

    let answer = client
        .produce_one(&topic, 0, batch(&["x"]))
        .expect("produce");
    assert_eq!(answer.error_code, UNKNOWN_TOPIC_OR_PARTITION, "produce");

    // Even a client asking for auto-creation does not get it.
    let metadata = client.metadata(Some(&[&topic]), true).expect("metadata");
    let entry = metadata.topics.first().expect("an entry for the topic");
    assert_eq!(entry.error_code, UNKNOWN_TOPIC_OR_PARTITION, "metadata");
    assert!(entry.partitions.is_empty());

    let data = client.fetch(&topic, 0, 0, 0).expect("fetch");
    assert_eq!(data.error_code, UNKNOWN_TOPIC_OR_PARTITION, "fetch");

    let all = client
        .metadata(None, false)
        .expect("metadata for all topics");
    assert!(
        all.topics
            .iter()
            .all(|t| t.name.as_ref().map(|n| n.0.as_str()) != Some(topic.as_str())),
        "the unknown topic was created"
    );
    assert_serving(&agent);
}

#[test]
fn fetch_out_of_range_is_offset_out_of_range() {
    let agent = Agent::start().expect("start agent");
    let mut client = connect(&agent);
    let topic = unique_topic("raw-range");
    create_by_metadata(&mut client, &topic, 1);
    let produced = client
        .produce_one(&topic, 0, batch(&["a", "b", "c"]))
        .expect("produce");
    assert_eq!(produced.error_code, NONE);

    for offset in [4, 1000, -5] {
        let data = client.fetch(&topic, 0, offset, 0).expect("fetch");
        assert_eq!(data.error_code, OFFSET_OUT_OF_RANGE, "fetch at {offset}");
        assert_eq!(
            (data.log_start_offset, data.high_watermark),
            (0, 3),
            "the real bounds, for the client's reset policy (fetch at {offset})"
        );
        assert!(
            records::decode(data.records.as_ref())
                .expect("decode")
                .is_empty(),
            "records returned with OFFSET_OUT_OF_RANGE at {offset}"
        );
    }
    let data = client.fetch(&topic, 0, 2, 0).expect("fetch at 2");
    assert_eq!(data.error_code, NONE, "fetch inside the range");
    assert_serving(&agent);
}

#[test]
fn idempotent_producer_retry_is_not_stored_twice() {
    const OUT_OF_ORDER_SEQUENCE_NUMBER: i16 = 45;
    let agent = Agent::start().expect("start agent");
    let mut client = connect(&agent);
    let topic = unique_topic("raw-idempotent");
    create_by_metadata(&mut client, &topic, 1);
    let (producer_id, producer_epoch) = client.init_producer_id().expect("InitProducerId");
    assert!(producer_id >= 0, "producer id {producer_id}");
    let batch_at = |values: &[&str], base_sequence: i32| {
        let list: Vec<TestRecord> = values
            .iter()
            .map(|v| TestRecord::new("k", v, 1_700_000_000_000))
            .collect();
        let producer = records::Idempotence {
            producer_id,
            producer_epoch,
            base_sequence,
        };
        records::idempotent_batch(&list, producer).expect("batch")
    };

    let first = batch_at(&["a", "b", "c"], 0);
    let answer = client
        .produce_one(&topic, 0, first.clone())
        .expect("produce");
    assert_eq!(
        (answer.error_code, answer.base_offset),
        (NONE, 0),
        "first batch"
    );
    // The client did not see the answer and sends the same batch again.
    let retry = client.produce_one(&topic, 0, first).expect("produce retry");
    assert_eq!(
        (retry.error_code, retry.base_offset),
        (NONE, 0),
        "a retried batch is answered with its original offset"
    );
    let next = client
        .produce_one(&topic, 0, batch_at(&["d", "e"], 3))
        .expect("produce");
    assert_eq!((next.error_code, next.base_offset), (NONE, 3), "next batch");
    let gap = client
        .produce_one(&topic, 0, batch_at(&["lost"], 10))
        .expect("produce with a gap");
    assert_eq!(gap.error_code, OUT_OF_ORDER_SEQUENCE_NUMBER, "sequence gap");

    let (fetched, _) = client.fetch_all(&topic, 0, 6).expect("fetch");
    assert_eq!(
        records::values(&fetched),
        ["a", "b", "c", "d", "e"],
        "stored records (the retry and the gap must not be stored)"
    );
    assert_serving(&agent);
}

/// Every version the agent promises, request by request: the answer must decode
/// strictly (no byte missing or left over) and say the same thing at every version.
#[test]
fn every_promised_version_answers_and_decodes_strictly() {
    let agent = Agent::builder().partitions(2).start().expect("start agent");
    let mut client = connect(&agent);
    let topic = unique_topic("raw-versions");

    for version in 0..=12 {
        let metadata = client
            .metadata_at(version, Some(&[&topic]), true)
            .unwrap_or_else(|e| panic!("Metadata v{version}: {e:#}"));
        assert_eq!(metadata.brokers.len(), 1, "Metadata v{version} brokers");
        let entry = metadata.topics.first().expect("topic entry");
        assert_eq!(
            (entry.error_code, entry.partitions.len()),
            (NONE, 2),
            "Metadata v{version} for {topic}"
        );
    }

    let mut produced = 0;
    for version in 3..=12 {
        let value = format!("v{version}");
        let answers = client
            .produce_at(version, &topic, vec![(1, batch(&[&value]))], -1)
            .unwrap_or_else(|e| panic!("Produce v{version}: {e:#}"));
        assert_eq!(answers.len(), 1, "Produce v{version} answers");
        assert_eq!(
            (
                answers[0].index,
                answers[0].error_code,
                answers[0].base_offset
            ),
            (1, NONE, produced),
            "Produce v{version}"
        );
        produced += 1;
    }

    let expected: Vec<String> = (3..=12).map(|v| format!("v{v}")).collect();
    for version in 4..=12 {
        let data = client
            .fetch_at(version, &topic, 1, 0, 0)
            .unwrap_or_else(|e| panic!("Fetch v{version}: {e:#}"));
        assert_eq!(
            (data.error_code, data.high_watermark),
            (NONE, produced),
            "Fetch v{version}"
        );
        let fetched = records::decode(data.records.as_ref()).expect("decode");
        assert_eq!(
            records::values(&fetched),
            expected,
            "Fetch v{version} records"
        );
    }

    for version in 1..=7 {
        for (timestamp, offset) in [(-2, 0), (-1, produced)] {
            let answer = client
                .list_offsets_at(version, &topic, 1, timestamp)
                .unwrap_or_else(|e| panic!("ListOffsets v{version}: {e:#}"));
            assert_eq!(
                (answer.error_code, answer.offset),
                (NONE, offset),
                "ListOffsets v{version} at {timestamp}"
            );
        }
    }

    for version in 0..=4 {
        let (producer_id, _) = client
            .init_producer_id_at(version)
            .unwrap_or_else(|e| panic!("InitProducerId v{version}: {e:#}"));
        assert!(
            producer_id >= 0,
            "InitProducerId v{version}: id {producer_id}"
        );
    }

    for version in 2..=7 {
        let name = format!("{topic}-created-v{version}");
        let code = client
            .create_topic_at(version, &name, 3)
            .unwrap_or_else(|e| panic!("CreateTopics v{version}: {e:#}"));
        assert_eq!(code, NONE, "CreateTopics v{version}");
    }
    for version in 1..=6 {
        let name = format!("{topic}-created-v{}", version + 1);
        let code = client
            .delete_topic_at(version, &name)
            .unwrap_or_else(|e| panic!("DeleteTopics v{version}: {e:#}"));
        assert_eq!(code, NONE, "DeleteTopics v{version}");
    }
    let all = client.metadata(None, false).expect("metadata");
    let left: Vec<&str> = all
        .topics
        .iter()
        .filter_map(|t| t.name.as_ref().map(|n| n.0.as_str()))
        .filter(|n| n.contains("-created-v"))
        .collect();
    assert!(left.is_empty(), "topics left after DeleteTopics: {left:?}");
}
