//! CreateTopics and DeleteTopics.

use std::collections::BTreeMap;

use floe_metadata::{MetadataError, NewTopic};
use kafka_protocol::ResponseError;
use kafka_protocol::messages::create_topics_request::CreatableTopic;
use kafka_protocol::messages::create_topics_response::{
    CreatableTopicConfigs, CreatableTopicResult,
};
use kafka_protocol::messages::delete_topics_response::DeletableTopicResult;
use kafka_protocol::messages::{
    CreateTopicsRequest, CreateTopicsResponse, DeleteTopicsRequest, DeleteTopicsResponse, TopicName,
};
use kafka_protocol::protocol::StrBytes;

use super::authorize::{Access, Op, TOPIC_DENIED};
use super::error_codes;
use crate::configs::{ConfigError, describe_topic, validate_topic_config};
use crate::context::AgentContext;
use crate::error::AgentError;
use crate::quotas::MutationQuota;

/// Answers CreateTopics. Configs are checked as Kafka checks them (an
/// unknown name or a bad value is INVALID_CONFIG) and `cleanup.policy`
/// with `compact` is refused until Floe compacts. Replication factors are
/// accepted and reported as given: durability comes from the object store,
/// not from replicas.
///
/// A topic needs CREATE on the cluster or on itself (else
/// TOPIC_AUTHORIZATION_FAILED), and its configs are answered only to a
/// requester that may DESCRIBE_CONFIGS it (else the config error code is
/// TOPIC_AUTHORIZATION_FAILED), as Kafka does. Each topic that passes every
/// check is charged its partitions against the client's
/// `controller_mutation_rate`, as Kafka's controller charges it (also when
/// only validating).
pub async fn create(
    ctx: &AgentContext,
    req: CreateTopicsRequest,
    access: &Access,
    quota: &mut MutationQuota<'_>,
) -> CreateTopicsResponse {
    let mut results = Vec::with_capacity(req.topics.len());
    for t in req.topics {
        if !access.may_create_topic(&t.name) {
            results.push(
                CreatableTopicResult::default()
                    .with_name(t.name)
                    .with_error_code(TOPIC_DENIED)
                    .with_error_message(Some(StrBytes::from_static_str("Authorization failed."))),
            );
            continue;
        }
        let name = t.name.clone();
        let result = create_one(ctx, t, req.validate_only, quota).await;
        results.push(if access.topic(Op::DescribeConfigs, &name) {
            result
        } else {
            result
                .with_configs(None)
                .with_topic_config_error_code(TOPIC_DENIED)
        });
    }
    CreateTopicsResponse::default().with_topics(results)
}

async fn create_one(
    ctx: &AgentContext,
    t: CreatableTopic,
    validate_only: bool,
    quota: &mut MutationQuota<'_>,
) -> CreatableTopicResult {
    // Kafka answers no message (null) for a topic created.
    let result = CreatableTopicResult::default()
        .with_name(t.name.clone())
        .with_error_message(None);
    let fail = |code: ResponseError, msg: String| {
        result
            .clone()
            .with_error_code(code.code())
            .with_error_message(Some(StrBytes::from_string(msg)))
    };
    let partitions = match (t.num_partitions, t.assignments.len()) {
        (-1, 0) => ctx.topics.default_partitions(),
        (-1, n) => n as i32,
        (n, 0) if n > 0 => n,
        // As Kafka answers a count that is neither positive nor -1 (the default).
        (n, 0) => {
            return fail(
                ResponseError::InvalidPartitions,
                format!("number of partitions must be larger than 0, or -1 for the default: {n}"),
            );
        }
        // A count and an explicit assignment together.
        (n, _) => {
            return fail(
                ResponseError::InvalidRequest,
                format!("bad partition count {n}"),
            );
        }
    };
    if t.replication_factor == 0 || t.replication_factor < -1 {
        return fail(
            ResponseError::InvalidReplicationFactor,
            "replication factor must be positive".into(),
        );
    }
    // Every name known and every value valid, as Kafka checks them
    // (INVALID_CONFIG, with Kafka's message).
    let given: Result<BTreeMap<String, String>, ConfigError> = t
        .configs
        .iter()
        .map(|c| match &c.value {
            Some(v) => Ok((c.name.to_string(), v.to_string())),
            None => Err(ConfigError::Null(c.name.to_string())),
        })
        .collect();
    let config = match given.and_then(|c| validate_topic_config(&c)) {
        Ok(config) => config,
        Err(e) => return fail(ResponseError::InvalidConfig, e.to_string()),
    };
    let spec = NewTopic {
        name: t.name.to_string(),
        partitions,
        config,
    };
    // Kafka refuses an existing topic before charging the quota.
    if validate_only || quota.is_bounded() {
        match ctx.topics.get(&spec.name).await {
            Ok(Some(_)) => {
                return fail(
                    ResponseError::TopicAlreadyExists,
                    format!("topic {} already exists", spec.name),
                );
            }
            Ok(None) => {}
            Err(e) => return result.with_error_code(error_codes::for_agent(&e)),
        }
    }
    // Refused for the mutation quota: the code, no message (Kafka 4.4).
    if quota
        .record(u64::try_from(partitions).unwrap_or(0))
        .is_err()
    {
        return result.with_error_code(ResponseError::ThrottlingQuotaExceeded.code());
    }
    if validate_only {
        return describe(ctx, result, partitions, t.replication_factor, &spec.config);
    }
    match ctx.topics.create(spec).await {
        Ok(topic) => {
            tracing::info!(topic = %topic.name, partitions = topic.partitions, "created topic");
            describe(
                ctx,
                result.with_topic_id(topic.id),
                topic.partitions,
                t.replication_factor,
                &topic.config,
            )
        }
        Err(AgentError::Metadata(MetadataError::Invalid(m))) => {
            fail(ResponseError::InvalidTopicException, m)
        }
        Err(AgentError::Metadata(MetadataError::TopicExists(n))) => fail(
            ResponseError::TopicAlreadyExists,
            format!("topic {n} already exists"),
        ),
        Err(e) => result
            .with_error_code(error_codes::for_agent(&e))
            .with_error_message(Some(StrBytes::from_string(e.to_string()))),
    }
}

/// The created topic as Kafka answers it (v5+): its partitions, its
/// replication factor, and every topic config with its value and source.
fn describe(
    ctx: &AgentContext,
    result: CreatableTopicResult,
    partitions: i32,
    replication_factor: i16,
    config: &BTreeMap<String, String>,
) -> CreatableTopicResult {
    let configs = describe_topic(config, &ctx.broker_configs)
        .into_iter()
        .map(|c| {
            CreatableTopicConfigs::default()
                .with_name(StrBytes::from_string(c.name))
                .with_value(c.value.map(StrBytes::from_string))
                .with_read_only(c.read_only)
                .with_config_source(c.source.id())
                .with_is_sensitive(c.sensitive)
        })
        .collect();
    result
        .with_num_partitions(partitions)
        .with_replication_factor(if replication_factor == -1 {
            1
        } else {
            replication_factor
        })
        .with_configs(Some(configs))
}

/// Answers DeleteTopics, by name (all versions) or by id (v6). A topic
/// needs DELETE (else TOPIC_AUTHORIZATION_FAILED); one named by id that the
/// requester may not DESCRIBE is answered the same, so ids reveal nothing.
/// Each topic found and allowed is charged its partitions against the
/// client's `controller_mutation_rate` before it is deleted.
pub async fn delete(
    ctx: &AgentContext,
    req: DeleteTopicsRequest,
    access: &Access,
    quota: &mut MutationQuota<'_>,
) -> DeleteTopicsResponse {
    let mut targets: Vec<(Option<TopicName>, uuid::Uuid)> = req
        .topic_names
        .into_iter()
        .map(|n| (Some(n), uuid::Uuid::nil()))
        .collect();
    targets.extend(req.topics.into_iter().map(|t| (t.name, t.topic_id)));
    let mut responses = Vec::with_capacity(targets.len());
    for (name, id) in targets {
        let found = match &name {
            Some(n) => ctx.topics.get(n.as_str()).await,
            None => ctx.topics.get_by_id(id).await,
        };
        let result = DeletableTopicResult::default()
            .with_name(name.clone())
            .with_topic_id(id);
        let allowed = match (&name, &found) {
            (Some(n), _) => access.topic(Op::Delete, n),
            (None, Ok(Some(topic))) => access.topic(Op::Delete, &topic.name),
            (None, _) => true,
        };
        if !allowed {
            responses.push(result.with_error_code(TOPIC_DENIED));
            continue;
        }
        responses.push(match found {
            // Refused for the mutation quota: the code, no message (Kafka 4.4).
            Ok(Some(topic))
                if quota
                    .record(u64::try_from(topic.partitions).unwrap_or(0))
                    .is_err() =>
            {
                result.with_error_code(ResponseError::ThrottlingQuotaExceeded.code())
            }
            Ok(Some(topic)) => match ctx.topics.delete(&topic).await {
                Ok(()) => {
                    tracing::info!(topic = %topic.name, "deleted topic");
                    result
                        .with_name(Some(TopicName(StrBytes::from_string(topic.name.clone()))))
                        .with_topic_id(topic.id)
                }
                Err(e) => result.with_error_code(error_codes::for_agent(&e)),
            },
            Ok(None) if name.is_some() => {
                result.with_error_code(ResponseError::UnknownTopicOrPartition.code())
            }
            Ok(None) => result.with_error_code(ResponseError::UnknownTopicId.code()),
            Err(e) => result.with_error_code(error_codes::for_agent(&e)),
        });
    }
    DeleteTopicsResponse::default().with_responses(responses)
}
