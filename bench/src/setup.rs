//! Start-up shared by `floe bench` and `floe verify`: reach the cluster,
//! and find or create the topic; and the client errors both report.

use std::thread;
use std::time::{Duration, Instant};

use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::error::KafkaError;
use rdkafka::metadata::Metadata;
use rdkafka::types::RDKafkaErrorCode;

/// How long start-up waits for the cluster.
pub const SETUP_TIMEOUT: Duration = Duration::from_secs(10);

/// A client call that failed, or a topic that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// No broker answered at the bootstrap address.
    #[error("cannot reach the bootstrap server {bootstrap}: {error}")]
    Unreachable {
        /// The `--bootstrap` address.
        bootstrap: String,
        /// What librdkafka reported (in the message, not as a source, so
        /// it is printed once).
        error: KafkaError,
    },
    /// A client call failed.
    #[error("{context}: {error}")]
    Kafka {
        /// What the tool was doing.
        context: String,
        /// What librdkafka reported (in the message, not as a source, so
        /// it is printed once).
        error: KafkaError,
    },
    /// The topic to read does not exist.
    #[error("topic {0} does not exist")]
    NoSuchTopic(String),
    /// The broker refused to create the topic, or it never appeared.
    #[error("cannot create topic {topic}: {reason}")]
    CreateTopic {
        /// The topic.
        topic: String,
        /// The error code the broker returned, or why it is not usable.
        reason: String,
    },
}

impl ClientError {
    /// A `map_err` adapter that names what the tool was doing.
    pub fn kafka(context: impl Into<String>) -> impl FnOnce(KafkaError) -> Self {
        let context = context.into();
        move |error| ClientError::Kafka { context, error }
    }
}

/// The topic a run uses.
#[derive(Debug, Clone, Copy)]
pub struct TopicPlan<'a> {
    /// The `--bootstrap` address, for the error message.
    pub bootstrap: &'a str,
    /// The topic.
    pub topic: &'a str,
    /// Partitions to create it with.
    pub partitions: i32,
    /// Create it if it is missing (else a missing topic is an error).
    pub create: bool,
}

/// Checks that the bootstrap server answers, creates the topic if it is
/// missing and `plan.create`, and returns the topic's partition ids in
/// order.
pub fn prepare_topic(config: &ClientConfig, plan: TopicPlan<'_>) -> Result<Vec<i32>, ClientError> {
    let admin: AdminClient<DefaultClientContext> = config
        .create()
        .map_err(ClientError::kafka("cannot create the admin client"))?;
    // All topics: asking for one by name could auto-create it with the
    // broker's default partition count.
    let metadata = admin
        .inner()
        .fetch_metadata(None, SETUP_TIMEOUT)
        .map_err(|error| ClientError::Unreachable {
            bootstrap: plan.bootstrap.to_string(),
            error,
        })?;
    if let Some(partitions) = partitions_of(&metadata, plan.topic) {
        if plan.create && i32::try_from(partitions.len()).ok() != Some(plan.partitions) {
            eprintln!(
                "note: topic {} exists with {} partitions; --partitions {} is ignored",
                plan.topic,
                partitions.len(),
                plan.partitions
            );
        }
        return Ok(partitions);
    }
    if !plan.create {
        return Err(ClientError::NoSuchTopic(plan.topic.to_string()));
    }
    create(&admin, plan)?;
    wait_for_topic(&admin, plan.topic)
}

fn create(
    admin: &AdminClient<DefaultClientContext>,
    plan: TopicPlan<'_>,
) -> Result<(), ClientError> {
    let topic = NewTopic::new(plan.topic, plan.partitions, TopicReplication::Fixed(1));
    let options = AdminOptions::new()
        .request_timeout(Some(SETUP_TIMEOUT))
        .operation_timeout(Some(SETUP_TIMEOUT));
    let results = futures::executor::block_on(admin.create_topics([&topic], &options)).map_err(
        ClientError::kafka(format!("cannot create topic {}", plan.topic)),
    )?;
    for result in results {
        match result {
            Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((name, code)) => {
                return Err(ClientError::CreateTopic {
                    topic: name,
                    reason: code.to_string(),
                });
            }
        }
    }
    eprintln!(
        "created topic {} with {} partitions",
        plan.topic, plan.partitions
    );
    Ok(())
}

/// Polls metadata until a just-created topic shows its partitions.
fn wait_for_topic(
    admin: &AdminClient<DefaultClientContext>,
    topic: &str,
) -> Result<Vec<i32>, ClientError> {
    let deadline = Instant::now() + SETUP_TIMEOUT;
    loop {
        let metadata = admin
            .inner()
            .fetch_metadata(None, SETUP_TIMEOUT)
            .map_err(ClientError::kafka("cannot read the cluster metadata"))?;
        if let Some(partitions) = partitions_of(&metadata, topic) {
            return Ok(partitions);
        }
        if Instant::now() >= deadline {
            return Err(ClientError::CreateTopic {
                topic: topic.to_string(),
                reason: "it does not show in the metadata after creation".to_string(),
            });
        }
        thread::sleep(Duration::from_millis(200));
    }
}

/// The partition ids of `topic`, if the metadata lists it without error.
fn partitions_of(metadata: &Metadata, topic: &str) -> Option<Vec<i32>> {
    let t = metadata.topics().iter().find(|t| t.name() == topic)?;
    if t.error().is_some() || t.partitions().is_empty() {
        return None;
    }
    let mut ids: Vec<i32> = t.partitions().iter().map(|p| p.id()).collect();
    ids.sort_unstable();
    Some(ids)
}
