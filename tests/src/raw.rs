//! A tiny blocking Kafka client over `TcpStream`, built on the kafka-protocol crate.
//!
//! It sends exactly the bytes a test asks for — well-formed requests at a chosen
//! version, or hand-made broken frames — and decodes responses strictly (a response
//! with bytes left over after decoding is an error), so the tests see precisely what
//! the agent put on the wire.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use bytes::{Buf, Bytes, BytesMut};
use kafka_protocol::messages::api_versions_response::ApiVersionsResponse;
use kafka_protocol::messages::create_topics_request::{CreatableTopic, CreatableTopicConfig};
use kafka_protocol::messages::delete_topics_request::DeleteTopicState;
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::fetch_response::PartitionData;
use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use kafka_protocol::messages::list_offsets_response::ListOffsetsPartitionResponse;
use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::produce_response::PartitionProduceResponse;
use kafka_protocol::messages::{
    ApiKey, ApiVersionsRequest, CreateTopicsRequest, CreateTopicsResponse, DeleteTopicsRequest,
    FetchRequest, InitProducerIdRequest, ListOffsetsRequest, MetadataRequest, MetadataResponse,
    ProduceRequest, RequestHeader, ResponseHeader, TopicName,
};
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, Request, StrBytes};
use kafka_protocol::records::BatchDecodeInfo;

use crate::records;

/// How long a read waits for the agent before the test fails.
const READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Versions the helpers use (inside the ranges the agent supports).
pub mod versions {
    /// Produce v9: the first flexible version.
    pub const PRODUCE: i16 = 9;
    /// Fetch v12: the last version that names topics.
    pub const FETCH: i16 = 12;
    /// Metadata v12.
    pub const METADATA: i16 = 12;
    /// ListOffsets v7 (max-timestamp lookups).
    pub const LIST_OFFSETS: i16 = 7;
    /// CreateTopics v7.
    pub const CREATE_TOPICS: i16 = 7;
    /// InitProducerId v4.
    pub const INIT_PRODUCER_ID: i16 = 4;
    /// ApiVersions v3: flexible, what current clients send.
    pub const API_VERSIONS: i16 = 3;
}

/// One connection to an agent.
#[derive(Debug)]
pub struct RawClient {
    stream: TcpStream,
    next_correlation_id: i32,
}

/// Builds a topic name.
pub fn topic_name(name: &str) -> TopicName {
    TopicName(StrBytes::from_string(name.to_string()))
}

/// Encodes a request frame body (header + body, without the size prefix). The header
/// may claim a different version than the body is encoded at, for tests of
/// unsupported versions.
pub fn encode_request(
    header: &RequestHeader,
    header_version: i16,
    body: &impl Encodable,
    body_version: i16,
) -> Result<BytesMut> {
    let mut buf = BytesMut::new();
    header
        .encode(&mut buf, header_version)
        .context("cannot encode request header")?;
    body.encode(&mut buf, body_version)
        .context("cannot encode request body")?;
    Ok(buf)
}

/// A request header for `api_key`/`api_version` with a fixed client id.
pub fn header(api_key: i16, api_version: i16, correlation_id: i32) -> RequestHeader {
    RequestHeader::default()
        .with_request_api_key(api_key)
        .with_request_api_version(api_version)
        .with_correlation_id(correlation_id)
        .with_client_id(Some(StrBytes::from_static_str("floe-tests-raw")))
}

impl RawClient {
    /// Connects to `addr`.
    pub fn connect(addr: SocketAddr) -> Result<Self> {
        let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(10))
            .with_context(|| format!("cannot connect to {addr}"))?;
        stream.set_read_timeout(Some(READ_TIMEOUT))?;
        stream.set_write_timeout(Some(READ_TIMEOUT))?;
        stream.set_nodelay(true)?;
        Ok(Self {
            stream,
            next_correlation_id: 1,
        })
    }

    /// A fresh correlation id.
    pub fn next_correlation_id(&mut self) -> i32 {
        let id = self.next_correlation_id;
        self.next_correlation_id += 1;
        id
    }

    /// Sends `request` at `version` and decodes the response at the same version.
    pub fn request<R: Request>(&mut self, version: i16, request: &R) -> Result<R::Response> {
        let correlation_id = self.send_request(version, request)?;
        self.receive_response::<R>(correlation_id, version)
    }

    /// Sends `request` at `version` without waiting; returns its correlation id for
    /// [`RawClient::receive_response`].
    pub fn send_request<R: Request>(&mut self, version: i16, request: &R) -> Result<i32> {
        let correlation_id = self.next_correlation_id();
        let header = header(R::KEY, version, correlation_id);
        let frame = encode_request(&header, R::header_version(version), request, version)?;
        self.send_frame(&frame)?;
        Ok(correlation_id)
    }

    /// Reads and decodes the response to a request sent with [`RawClient::send_request`].
    pub fn receive_response<R: Request>(
        &mut self,
        correlation_id: i32,
        version: i16,
    ) -> Result<R::Response> {
        let api_key = ApiKey::try_from(R::KEY).map_err(|_| anyhow::anyhow!("bad api key"))?;
        let response = self.read_frame()?.with_context(|| {
            format!("connection closed instead of a {api_key:?} v{version} response")
        })?;
        decode_response::<R::Response>(response, correlation_id, version)
            .with_context(|| format!("bad {api_key:?} v{version} response"))
    }

    /// Sends `payload` with its 4-byte size prefix.
    pub fn send_frame(&mut self, payload: &[u8]) -> Result<()> {
        let size = i32::try_from(payload.len()).context("frame too large")?;
        let mut frame = Vec::with_capacity(payload.len() + 4);
        frame.extend_from_slice(&size.to_be_bytes());
        frame.extend_from_slice(payload);
        self.send_raw(&frame)
    }

    /// Sends bytes as they are.
    pub fn send_raw(&mut self, bytes: &[u8]) -> Result<()> {
        self.stream.write_all(bytes).context("cannot send")?;
        self.stream.flush().context("cannot flush")
    }

    /// Closes the sending half: the agent sees end of input.
    pub fn shutdown_write(&mut self) -> Result<()> {
        self.stream
            .shutdown(Shutdown::Write)
            .context("cannot shut down the sending half")
    }

    /// Reads one response frame. `None` when the agent closed the connection cleanly
    /// before the frame began.
    pub fn read_frame(&mut self) -> Result<Option<Bytes>> {
        let mut size = [0u8; 4];
        match self.stream.read_exact(&mut size) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::UnexpectedEof => return Ok(None),
            Err(e) => return Err(e).context("cannot read a response size"),
        }
        let size = i32::from_be_bytes(size);
        if !(0..=256 * 1024 * 1024).contains(&size) {
            bail!("response frame size {size} is out of range");
        }
        let mut body = vec![0u8; size as usize];
        self.stream
            .read_exact(&mut body)
            .context("connection ended inside a response frame")?;
        Ok(Some(Bytes::from(body)))
    }

    /// Asserts that the agent closes this connection without sending anything more
    /// (a reset counts as closed).
    pub fn expect_closed(&mut self) -> Result<()> {
        let mut buf = [0u8; 64];
        match self.stream.read(&mut buf) {
            Ok(0) => Ok(()),
            Ok(n) => bail!(
                "expected the connection to be closed, but the agent sent {n} bytes: {:02x?}",
                &buf[..n]
            ),
            Err(e) if matches!(e.kind(), ErrorKind::ConnectionReset | ErrorKind::BrokenPipe) => {
                Ok(())
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                bail!("the agent kept the connection open for {READ_TIMEOUT:?}")
            }
            Err(e) => Err(e).context("unexpected error while waiting for the close"),
        }
    }

    /// ApiVersions at `version`.
    pub fn api_versions(&mut self, version: i16) -> Result<ApiVersionsResponse> {
        let request = ApiVersionsRequest::default()
            .with_client_software_name(StrBytes::from_static_str("floe-tests"))
            .with_client_software_version(StrBytes::from_static_str("0.1.0"));
        self.request(version, &request)
    }

    /// Metadata for `topics` (all topics when `None`).
    pub fn metadata(
        &mut self,
        topics: Option<&[&str]>,
        auto_create: bool,
    ) -> Result<MetadataResponse> {
        self.metadata_at(versions::METADATA, topics, auto_create)
    }

    /// Metadata at `version` (auto-creation can only be refused from v4 on).
    pub fn metadata_at(
        &mut self,
        version: i16,
        topics: Option<&[&str]>,
        auto_create: bool,
    ) -> Result<MetadataResponse> {
        let topics = topics.map(|names| {
            names
                .iter()
                .map(|name| MetadataRequestTopic::default().with_name(Some(topic_name(name))))
                .collect()
        });
        let request = MetadataRequest::default()
            .with_topics(topics)
            .with_allow_auto_topic_creation(auto_create || version < 4);
        self.request(version, &request)
    }

    /// Creates one topic; returns the per-topic error code.
    pub fn create_topic(&mut self, name: &str, partitions: i32) -> Result<i16> {
        self.create_topic_at(versions::CREATE_TOPICS, name, partitions)
    }

    /// [`RawClient::create_topic`] at `version`.
    pub fn create_topic_at(&mut self, version: i16, name: &str, partitions: i32) -> Result<i16> {
        self.create_topic_request(version, name, partitions, &[])
    }

    /// CreateTopics of one topic with config overrides (`retention.ms`, ...);
    /// returns the per-topic error code.
    pub fn create_topic_with_config(
        &mut self,
        name: &str,
        partitions: i32,
        configs: &[(&str, &str)],
    ) -> Result<i16> {
        self.create_topic_request(versions::CREATE_TOPICS, name, partitions, configs)
    }

    /// IncrementalAlterConfigs (v1) of one config of one resource
    /// (`resource_type` 2 is a topic, 4 a broker): SET to `value`, or
    /// DELETE with `None`. Returns the resource's error code.
    pub fn alter_config(
        &mut self,
        resource_type: i8,
        resource: &str,
        name: &str,
        value: Option<&str>,
    ) -> Result<i16> {
        use kafka_protocol::messages::IncrementalAlterConfigsRequest;
        use kafka_protocol::messages::incremental_alter_configs_request::{
            AlterConfigsResource, AlterableConfig,
        };
        let request = IncrementalAlterConfigsRequest::default().with_resources(vec![
            AlterConfigsResource::default()
                .with_resource_type(resource_type)
                .with_resource_name(StrBytes::from_string(resource.to_string()))
                .with_configs(vec![
                    AlterableConfig::default()
                        .with_name(StrBytes::from_string(name.to_string()))
                        .with_config_operation(if value.is_some() { 0 } else { 1 })
                        .with_value(value.map(|v| StrBytes::from_string(v.to_string()))),
                ]),
        ]);
        let response = self.request(1, &request)?;
        response
            .responses
            .first()
            .map(|r| r.error_code)
            .context("no resource in the IncrementalAlterConfigs response")
    }

    fn create_topic_request(
        &mut self,
        version: i16,
        name: &str,
        partitions: i32,
        configs: &[(&str, &str)],
    ) -> Result<i16> {
        let configs = configs
            .iter()
            .map(|(key, value)| {
                CreatableTopicConfig::default()
                    .with_name(StrBytes::from_string((*key).to_string()))
                    .with_value(Some(StrBytes::from_string((*value).to_string())))
            })
            .collect();
        let request = CreateTopicsRequest::default()
            .with_topics(vec![
                CreatableTopic::default()
                    .with_name(topic_name(name))
                    .with_num_partitions(partitions)
                    .with_replication_factor(1)
                    .with_configs(configs),
            ])
            .with_timeout_ms(10_000);
        let response: CreateTopicsResponse = self.request(version, &request)?;
        let result = response
            .topics
            .first()
            .context("no topic in CreateTopics response")?;
        Ok(result.error_code)
    }

    /// Deletes one topic by name at `version` (names move into `topics` from v6 on);
    /// returns the per-topic error code.
    pub fn delete_topic_at(&mut self, version: i16, name: &str) -> Result<i16> {
        let mut request = DeleteTopicsRequest::default().with_timeout_ms(10_000);
        if version >= 6 {
            request.topics = vec![DeleteTopicState::default().with_name(Some(topic_name(name)))];
        } else {
            request.topic_names = vec![topic_name(name)];
        }
        let response = self.request(version, &request)?;
        let result = response
            .responses
            .first()
            .context("no topic in DeleteTopics response")?;
        Ok(result.error_code)
    }

    /// InitProducerId for an idempotent (not transactional) producer; returns the
    /// producer id and epoch.
    pub fn init_producer_id(&mut self) -> Result<(i64, i16)> {
        self.init_producer_id_at(versions::INIT_PRODUCER_ID)
    }

    /// [`RawClient::init_producer_id`] at `version`.
    pub fn init_producer_id_at(&mut self, version: i16) -> Result<(i64, i16)> {
        let request = InitProducerIdRequest::default()
            .with_transactional_id(None)
            .with_transaction_timeout_ms(60_000)
            .with_producer_id((-1).into())
            .with_producer_epoch(-1);
        let response = self.request(version, &request)?;
        if response.error_code != 0 {
            bail!("InitProducerId failed with error {}", response.error_code);
        }
        Ok((response.producer_id.0, response.producer_epoch))
    }

    /// Produces `batches` (one entry per partition) to `topic` with `acks`, returning
    /// the partition responses in the order the agent sent them.
    pub fn produce(
        &mut self,
        topic: &str,
        batches: Vec<(i32, Bytes)>,
        acks: i16,
    ) -> Result<Vec<PartitionProduceResponse>> {
        self.produce_at(versions::PRODUCE, topic, batches, acks)
    }

    /// [`RawClient::produce`] at `version`.
    pub fn produce_at(
        &mut self,
        version: i16,
        topic: &str,
        batches: Vec<(i32, Bytes)>,
        acks: i16,
    ) -> Result<Vec<PartitionProduceResponse>> {
        let request = produce_request(topic, batches, acks);
        let response = self.request(version, &request)?;
        let mut partitions = Vec::new();
        for topic_response in response.responses {
            if topic_response.name.0.as_str() != topic {
                bail!(
                    "produce response names topic {:?}",
                    topic_response.name.0.as_str()
                );
            }
            partitions.extend(topic_response.partition_responses);
        }
        Ok(partitions)
    }

    /// Produces one batch to one partition with acks=-1.
    pub fn produce_one(
        &mut self,
        topic: &str,
        partition: i32,
        batch: Bytes,
    ) -> Result<PartitionProduceResponse> {
        let mut responses = self.produce(topic, vec![(partition, batch)], -1)?;
        if responses.len() != 1 {
            bail!("expected one partition response, got {}", responses.len());
        }
        let response = responses.remove(0);
        if response.index != partition {
            bail!(
                "response for partition {} instead of {partition}",
                response.index
            );
        }
        Ok(response)
    }

    /// Fetches one partition from `offset` (waiting at most `max_wait_ms` for data).
    pub fn fetch(
        &mut self,
        topic: &str,
        partition: i32,
        offset: i64,
        max_wait_ms: i32,
    ) -> Result<PartitionData> {
        self.fetch_at(versions::FETCH, topic, partition, offset, max_wait_ms)
    }

    /// [`RawClient::fetch`] at `version`.
    pub fn fetch_at(
        &mut self,
        version: i16,
        topic: &str,
        partition: i32,
        offset: i64,
        max_wait_ms: i32,
    ) -> Result<PartitionData> {
        let request = FetchRequest::default()
            .with_replica_id((-1).into())
            .with_max_wait_ms(max_wait_ms)
            .with_min_bytes(1)
            .with_max_bytes(64 * 1024 * 1024)
            .with_isolation_level(0)
            .with_session_id(0)
            .with_session_epoch(-1)
            .with_topics(vec![
                FetchTopic::default()
                    .with_topic(topic_name(topic))
                    .with_partitions(vec![
                        FetchPartition::default()
                            .with_partition(partition)
                            .with_current_leader_epoch(-1)
                            .with_fetch_offset(offset)
                            .with_last_fetched_epoch(-1)
                            .with_log_start_offset(-1)
                            .with_partition_max_bytes(16 * 1024 * 1024),
                    ]),
            ]);
        let response = self.request(version, &request)?;
        if response.error_code != 0 {
            bail!("fetch failed as a whole with error {}", response.error_code);
        }
        let topic_response = response
            .responses
            .into_iter()
            .find(|t| t.topic.0.as_str() == topic)
            .with_context(|| format!("no topic {topic} in the fetch response"))?;
        topic_response
            .partitions
            .into_iter()
            .find(|p| p.partition_index == partition)
            .with_context(|| format!("no partition {partition} in the fetch response"))
    }

    /// Fetches `partition` of `topic` from offset 0 until `count` records came back (or
    /// a fetch brings nothing new); returns the records and the headers of the batches
    /// they came in.
    pub fn fetch_all(
        &mut self,
        topic: &str,
        partition: i32,
        count: usize,
    ) -> Result<(Vec<records::TestRecord>, Vec<BatchDecodeInfo>)> {
        let mut all = Vec::new();
        let mut infos = Vec::new();
        let mut offset = 0;
        while all.len() < count {
            let data = self.fetch(topic, partition, offset, 1000)?;
            if data.error_code != 0 {
                bail!(
                    "fetch of {topic}/{partition} at {offset}: error {}",
                    data.error_code
                );
            }
            let fetched = records::decode(data.records.as_ref())?;
            infos.extend(records::batch_infos(data.records.as_ref())?);
            let before = all.len();
            all.extend(fetched.into_iter().filter(|r| r.offset >= offset));
            if all.len() == before {
                break;
            }
            offset = all.last().map_or(offset, |r| r.offset + 1);
        }
        Ok((all, infos))
    }

    /// ListOffsets for one partition at `timestamp` (-2 earliest, -1 latest, -3 max
    /// timestamp, else a time in ms).
    pub fn list_offsets(
        &mut self,
        topic: &str,
        partition: i32,
        timestamp: i64,
    ) -> Result<ListOffsetsPartitionResponse> {
        self.list_offsets_at(versions::LIST_OFFSETS, topic, partition, timestamp)
    }

    /// [`RawClient::list_offsets`] at `version`.
    pub fn list_offsets_at(
        &mut self,
        version: i16,
        topic: &str,
        partition: i32,
        timestamp: i64,
    ) -> Result<ListOffsetsPartitionResponse> {
        let request = ListOffsetsRequest::default()
            .with_replica_id((-1).into())
            .with_isolation_level(0)
            .with_topics(vec![
                ListOffsetsTopic::default()
                    .with_name(topic_name(topic))
                    .with_partitions(vec![
                        ListOffsetsPartition::default()
                            .with_partition_index(partition)
                            .with_current_leader_epoch(-1)
                            .with_timestamp(timestamp),
                    ]),
            ]);
        let response = self.request(version, &request)?;
        response
            .topics
            .into_iter()
            .flat_map(|t| t.partitions)
            .find(|p| p.partition_index == partition)
            .with_context(|| format!("no partition {partition} in the ListOffsets response"))
    }
}

/// A Produce request for one topic.
pub fn produce_request(topic: &str, batches: Vec<(i32, Bytes)>, acks: i16) -> ProduceRequest {
    ProduceRequest::default()
        .with_acks(acks)
        .with_timeout_ms(30_000)
        .with_topic_data(vec![
            TopicProduceData::default()
                .with_name(topic_name(topic))
                .with_partition_data(
                    batches
                        .into_iter()
                        .map(|(index, records)| {
                            PartitionProduceData::default()
                                .with_index(index)
                                .with_records(Some(records))
                        })
                        .collect(),
                ),
        ])
}

/// Decodes a response frame: checks the correlation id and that nothing is left over.
pub fn decode_response<T: Decodable + HeaderVersion>(
    mut frame: Bytes,
    correlation_id: i32,
    version: i16,
) -> Result<T> {
    let header = ResponseHeader::decode(&mut frame, T::header_version(version))
        .context("cannot decode the response header")?;
    if header.correlation_id != correlation_id {
        bail!(
            "response has correlation id {} instead of {correlation_id}",
            header.correlation_id
        );
    }
    let body = T::decode(&mut frame, version).context("cannot decode the response body")?;
    if frame.has_remaining() {
        bail!(
            "{} bytes left over after the response body: {:02x?}",
            frame.remaining(),
            &frame[..frame.remaining().min(64)]
        );
    }
    Ok(body)
}

/// Checks on a new connection that the agent still answers ApiVersions and Metadata
/// normally (used after every bad-input test).
pub fn check_serving(addr: SocketAddr) -> Result<()> {
    let mut client = RawClient::connect(addr).context("agent no longer accepts connections")?;
    let versions = client
        .api_versions(versions::API_VERSIONS)
        .context("agent no longer answers ApiVersions")?;
    if versions.error_code != 0 || versions.api_keys.is_empty() {
        bail!(
            "ApiVersions answered error {} with {} APIs",
            versions.error_code,
            versions.api_keys.len()
        );
    }
    let metadata = client
        .metadata(None, false)
        .context("agent no longer answers Metadata")?;
    if metadata.brokers.is_empty() {
        bail!("Metadata lists no broker");
    }
    Ok(())
}
