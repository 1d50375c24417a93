//! Start-up: reach the cluster, and find or create the topic.

use std::thread;
use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::metadata::Metadata;
use rdkafka::types::RDKafkaErrorCode;

use crate::{SETUP_TIMEOUT, VerifyArgs, VerifyError};

/// Checks that the bootstrap server answers, creates the topic with
/// `--partitions` if it is missing, and returns the
/// topic's partition ids in order.
pub fn prepare(args: &VerifyArgs) -> Result<Vec<i32>, VerifyError> {
    let admin: AdminClient<DefaultClientContext> = args
        .base_client_config()
        .create()
        .map_err(VerifyError::kafka("cannot create the admin client"))?;
    // All topics: asking for one by name could auto-create it with the
    // broker's default partition count.
    let metadata = admin
        .inner()
        .fetch_metadata(None, SETUP_TIMEOUT)
        .map_err(|error| VerifyError::Unreachable {
            bootstrap: args.bootstrap.clone(),
            error,
        })?;
    if let Some(partitions) = partitions_of(&metadata, &args.topic) {
        if i32::try_from(partitions.len()).ok() != Some(args.partitions) {
            eprintln!(
                "note: topic {} exists with {} partitions; --partitions {} is ignored",
                args.topic,
                partitions.len(),
                args.partitions
            );
        }
        return Ok(partitions);
    }
    create(&admin, args)?;
    wait_for_topic(&admin, &args.topic)
}

fn create(admin: &AdminClient<DefaultClientContext>, args: &VerifyArgs) -> Result<(), VerifyError> {
    let topic = NewTopic::new(&args.topic, args.partitions, TopicReplication::Fixed(1));
    let options = AdminOptions::new()
        .request_timeout(Some(SETUP_TIMEOUT))
        .operation_timeout(Some(SETUP_TIMEOUT));
    let results = futures::executor::block_on(admin.create_topics([&topic], &options)).map_err(
        VerifyError::kafka(format!("cannot create topic {}", args.topic)),
    )?;
    for result in results {
        match result {
            Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((name, code)) => {
                return Err(VerifyError::CreateTopic {
                    topic: name,
                    reason: code.to_string(),
                });
            }
        }
    }
    eprintln!(
        "created topic {} with {} partitions",
        args.topic, args.partitions
    );
    Ok(())
}

/// Polls metadata until a just-created topic shows its partitions.
fn wait_for_topic(
    admin: &AdminClient<DefaultClientContext>,
    topic: &str,
) -> Result<Vec<i32>, VerifyError> {
    let deadline = Instant::now() + SETUP_TIMEOUT;
    loop {
        let metadata = admin
            .inner()
            .fetch_metadata(None, SETUP_TIMEOUT)
            .map_err(VerifyError::kafka("cannot read the cluster metadata"))?;
        if let Some(partitions) = partitions_of(&metadata, topic) {
            return Ok(partitions);
        }
        if Instant::now() >= deadline {
            return Err(VerifyError::CreateTopic {
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
