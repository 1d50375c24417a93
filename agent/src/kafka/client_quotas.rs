//! DescribeClientQuotas and AlterClientQuotas (KIP-546): client quotas of
//! users and client ids, kept cluster-wide in the metadata store, with
//! Kafka's filter rules, validation and error messages
//! (`ClientQuotaControlManager`, `ClientQuotasImage`). IP entities
//! (connection-rate quotas) are not served: describing them finds none,
//! altering them is refused.

use std::collections::HashSet;

use floe_metadata::{ClientQuotaAlteration, ClientQuotaEntity, QuotaEntityPart};
use kafka_protocol::ResponseError;
use kafka_protocol::messages::describe_client_quotas_response::{EntityData, EntryData, ValueData};
use kafka_protocol::messages::{
    AlterClientQuotasRequest, AlterClientQuotasResponse, DescribeClientQuotasRequest,
    DescribeClientQuotasResponse, alter_client_quotas_request, alter_client_quotas_response,
};
use kafka_protocol::protocol::StrBytes;
use tracing::warn;

use super::error_codes;
use crate::context::AgentContext;
use crate::jobs::client_quotas::refresh;
use crate::quotas::validate_value;

const USER: &str = "user";
const CLIENT_ID: &str = "client-id";
const IP: &str = "ip";

const MATCH_EXACT: i8 = 0;
const MATCH_DEFAULT: i8 = 1;
const MATCH_SPECIFIED: i8 = 2;

/// A refusal: Kafka's code and message.
type Refusal = (i16, String);

fn invalid(message: impl Into<String>) -> Refusal {
    (ResponseError::InvalidRequest.code(), message.into())
}

/// A describe filter, checked as Kafka checks it: entity types that must
/// match a name exactly (`None` for the default) and types that must only
/// be present.
#[derive(Debug, Default)]
struct Filter {
    exact: Vec<(String, Option<String>)>,
    present: Vec<String>,
    strict: bool,
}

impl Filter {
    fn parse(req: &DescribeClientQuotasRequest) -> Result<Filter, Refusal> {
        let mut filter = Filter {
            strict: req.strict,
            ..Filter::default()
        };
        for component in &req.components {
            let entity_type = component.entity_type.as_str();
            if entity_type.is_empty() {
                return Err(invalid("Invalid empty entity type."));
            }
            let seen = filter.exact.iter().any(|(t, _)| t == entity_type)
                || filter.present.iter().any(|t| t == entity_type);
            if seen {
                return Err(invalid(format!(
                    "Entity type {entity_type} cannot appear more than once in the filter."
                )));
            }
            if ![IP, USER, CLIENT_ID].contains(&entity_type) {
                return Err((
                    ResponseError::UnsupportedVersion.code(),
                    format!("Unsupported entity type {entity_type}"),
                ));
            }
            let name = component._match.as_ref().map(|m| m.to_string());
            match component.match_type {
                MATCH_EXACT => match name {
                    Some(name) => filter.exact.push((entity_type.to_string(), Some(name))),
                    None => {
                        return Err(invalid(
                            "Request specified MATCH_TYPE_EXACT, but set match string to null.",
                        ));
                    }
                },
                MATCH_DEFAULT => {
                    if name.is_some() {
                        return Err(invalid(
                            "Request specified MATCH_TYPE_DEFAULT, but also specified a match string.",
                        ));
                    }
                    filter.exact.push((entity_type.to_string(), None));
                }
                MATCH_SPECIFIED => {
                    if name.is_some() {
                        return Err(invalid(
                            "Request specified MATCH_TYPE_SPECIFIED, but also specified a match string.",
                        ));
                    }
                    filter.present.push(entity_type.to_string());
                }
                other => return Err(invalid(format!("Unknown match type {other}"))),
            }
        }
        let has = |t: &str| {
            filter.exact.iter().any(|(e, _)| e == t) || filter.present.iter().any(|e| e == t)
        };
        if has(IP) && (has(USER) || has(CLIENT_ID)) {
            return Err(invalid(
                "Invalid entity filter component combination. IP filter component should not \
                 be used with user or clientId filter component.",
            ));
        }
        Ok(filter)
    }

    /// Whether `entity` passes: every component matches, and with
    /// `strict` the entity has no other part.
    fn matches(&self, entity: &ClientQuotaEntity) -> bool {
        let part = |t: &str| match t {
            USER => entity.user.as_ref(),
            CLIENT_ID => entity.client_id.as_ref(),
            _ => None,
        };
        let parts = usize::from(entity.user.is_some()) + usize::from(entity.client_id.is_some());
        if self.strict && parts != self.exact.len() + self.present.len() {
            return false;
        }
        let exact = self.exact.iter().all(|(t, name)| match (part(t), name) {
            (Some(QuotaEntityPart::Default), None) => true,
            (Some(QuotaEntityPart::Named(n)), Some(want)) => n == want,
            _ => false,
        });
        exact && self.present.iter().all(|t| part(t).is_some())
    }
}

/// The entity as the response names it: its user, then its client id;
/// a default has a null name.
fn entity_data(entity: &ClientQuotaEntity) -> Vec<EntityData> {
    let mut data = Vec::with_capacity(2);
    for (entity_type, part) in [(USER, &entity.user), (CLIENT_ID, &entity.client_id)] {
        if let Some(part) = part {
            let name = match part {
                QuotaEntityPart::Default => None,
                QuotaEntityPart::Named(n) => Some(StrBytes::from_string(n.clone())),
            };
            data.push(
                EntityData::default()
                    .with_entity_type(StrBytes::from_static_str(entity_type))
                    .with_entity_name(name),
            );
        }
    }
    data
}

/// Answers DescribeClientQuotas: the entities the filter matches, with
/// every value set on each.
pub async fn describe(
    ctx: &AgentContext,
    req: DescribeClientQuotasRequest,
) -> DescribeClientQuotasResponse {
    let refused = |(code, message): Refusal| {
        DescribeClientQuotasResponse::default()
            .with_error_code(code)
            .with_error_message(Some(StrBytes::from_string(message)))
            .with_entries(None)
    };
    let filter = match Filter::parse(&req) {
        Ok(filter) => filter,
        Err(refusal) => return refused(refusal),
    };
    let quotas = match ctx.store.client_quotas().await {
        Ok(quotas) => quotas,
        Err(e) => {
            warn!(error = %e, "cannot read client quotas");
            return refused((error_codes::for_metadata(&e), e.to_string()));
        }
    };
    let entries = quotas
        .iter()
        .filter(|q| filter.matches(&q.entity))
        .map(|q| {
            EntryData::default()
                .with_entity(entity_data(&q.entity))
                .with_values(
                    q.values
                        .iter()
                        .map(|(key, value)| {
                            ValueData::default()
                                .with_key(StrBytes::from_string(key.clone()))
                                .with_value(*value)
                        })
                        .collect(),
                )
        })
        .collect();
    DescribeClientQuotasResponse::default().with_entries(Some(entries))
}

/// Kafka's form of an entity in messages: `ClientQuotaEntity(entries={…})`.
fn entity_text(entity: &[alter_client_quotas_request::EntityData]) -> String {
    let parts: Vec<String> = entity
        .iter()
        .map(|e| {
            let name = e.entity_name.as_deref().unwrap_or("null");
            format!("{}={name}", e.entity_type.as_str())
        })
        .collect();
    format!("ClientQuotaEntity(entries={{{}}})", parts.join(", "))
}

/// The entity of an alteration, checked as Kafka's controller checks it.
fn parse_entity(
    entity: &[alter_client_quotas_request::EntityData],
) -> Result<ClientQuotaEntity, Refusal> {
    if entity.is_empty() {
        return Err(invalid("Invalid empty client quota entity"));
    }
    let mut parsed = ClientQuotaEntity {
        user: None,
        client_id: None,
    };
    let mut seen = Vec::with_capacity(entity.len());
    for data in entity {
        let entity_type = data.entity_type.as_str();
        if seen.contains(&entity_type) {
            return Err(invalid(format!(
                "Invalid client quota entity, duplicate entity entry {entity_type}"
            )));
        }
        seen.push(entity_type);
        let slot = match entity_type {
            USER => &mut parsed.user,
            CLIENT_ID => &mut parsed.client_id,
            IP => &mut None,
            other => {
                return Err(invalid(format!(
                    "Unhandled client quota entity type: {other}"
                )));
            }
        };
        let part = match data.entity_name.as_deref() {
            None => QuotaEntityPart::Default,
            Some("") => return Err(invalid(format!("Empty {entity_type} not supported"))),
            Some(name) => QuotaEntityPart::Named(name.to_string()),
        };
        *slot = Some(part);
    }
    if seen.contains(&IP) {
        return Err(invalid(
            "IP quotas (connection_creation_rate) are not supported by Floe",
        ));
    }
    Ok(parsed)
}

/// Checks one alteration entry; the store's alteration if it is valid.
fn check(
    entry: &alter_client_quotas_request::EntryData,
    seen: &mut HashSet<ClientQuotaEntity>,
) -> Result<ClientQuotaAlteration, Refusal> {
    let mut keys = HashSet::with_capacity(entry.ops.len());
    let duplicate_key = entry.ops.iter().any(|op| !keys.insert(op.key.as_str()));
    let entity = parse_entity(&entry.entity);
    if duplicate_key || entity.as_ref().is_ok_and(|e| seen.contains(e)) {
        return Err(invalid(format!(
            "Ignoring duplicate entity {}",
            entity_text(&entry.entity)
        )));
    }
    let entity = entity?;
    seen.insert(entity.clone());
    let mut ops = Vec::with_capacity(entry.ops.len());
    for op in &entry.ops {
        let key = op.key.to_string();
        if op.remove {
            ops.push((key, None));
        } else {
            validate_value(&key, op.value).map_err(invalid)?;
            ops.push((key, Some(op.value)));
        }
    }
    Ok(ClientQuotaAlteration { entity, ops })
}

/// Answers AlterClientQuotas: each entity's alteration is checked on its
/// own; the valid ones are applied together (unless `validate_only`), and
/// this agent puts them in force at once (the others within their next
/// refresh).
pub async fn alter(ctx: &AgentContext, req: AlterClientQuotasRequest) -> AlterClientQuotasResponse {
    let mut seen = HashSet::new();
    let checked: Vec<Result<ClientQuotaAlteration, Refusal>> =
        req.entries.iter().map(|e| check(e, &mut seen)).collect();
    let valid: Vec<ClientQuotaAlteration> = checked
        .iter()
        .filter_map(|c| c.as_ref().ok().cloned())
        .collect();
    let mut stored: Result<(), Refusal> = Ok(());
    if !req.validate_only && !valid.is_empty() {
        stored = match ctx.store.alter_client_quotas(&valid).await {
            Ok(()) => {
                if let Err(e) = refresh(&*ctx.store, &ctx.quotas).await {
                    warn!(error = %e, "altered client quotas; reading them back failed");
                }
                Ok(())
            }
            Err(e) => {
                warn!(error = %e, "cannot alter client quotas");
                Err((error_codes::for_metadata(&e), e.to_string()))
            }
        };
    }
    let entries = req
        .entries
        .iter()
        .zip(checked)
        .map(|(entry, outcome)| {
            let (code, message) = match outcome.and(stored.clone()) {
                Ok(()) => (0, None),
                Err((code, message)) => (code, Some(StrBytes::from_string(message))),
            };
            alter_client_quotas_response::EntryData::default()
                .with_error_code(code)
                .with_error_message(message)
                .with_entity(
                    entry
                        .entity
                        .iter()
                        .map(|e| {
                            alter_client_quotas_response::EntityData::default()
                                .with_entity_type(e.entity_type.clone())
                                .with_entity_name(e.entity_name.clone())
                        })
                        .collect(),
                )
        })
        .collect();
    AlterClientQuotasResponse::default().with_entries(entries)
}

#[cfg(test)]
mod tests {
    use kafka_protocol::messages::describe_client_quotas_request::ComponentData;

    use super::*;

    fn component(t: &str, match_type: i8, name: Option<&str>) -> ComponentData {
        ComponentData::default()
            .with_entity_type(StrBytes::from_string(t.into()))
            .with_match_type(match_type)
            .with_match(name.map(|n| StrBytes::from_string(n.into())))
    }

    fn filter(components: Vec<ComponentData>, strict: bool) -> Result<Filter, Refusal> {
        Filter::parse(
            &DescribeClientQuotasRequest::default()
                .with_components(components)
                .with_strict(strict),
        )
    }

    fn entity(user: Option<QuotaEntityPart>, client: Option<QuotaEntityPart>) -> ClientQuotaEntity {
        ClientQuotaEntity {
            user,
            client_id: client,
        }
    }

    fn named(n: &str) -> Option<QuotaEntityPart> {
        Some(QuotaEntityPart::Named(n.into()))
    }

    #[test]
    fn filters_match_as_kafkas() {
        let c1 = entity(None, named("c1"));
        let c_default = entity(None, Some(QuotaEntityPart::Default));
        let alice_c1 = entity(named("alice"), named("c1"));
        let exact = filter(vec![component(CLIENT_ID, MATCH_EXACT, Some("c1"))], false).unwrap();
        assert!(exact.matches(&c1) && exact.matches(&alice_c1) && !exact.matches(&c_default));
        let strict = filter(vec![component(CLIENT_ID, MATCH_EXACT, Some("c1"))], true).unwrap();
        assert!(strict.matches(&c1) && !strict.matches(&alice_c1));
        let default = filter(vec![component(CLIENT_ID, MATCH_DEFAULT, None)], false).unwrap();
        assert!(default.matches(&c_default) && !default.matches(&c1));
        let any = filter(vec![component(USER, MATCH_SPECIFIED, None)], false).unwrap();
        assert!(any.matches(&alice_c1) && !any.matches(&c1));
        let everything = filter(vec![], false).unwrap();
        assert!(everything.matches(&c1) && everything.matches(&alice_c1));
        let nothing_strict = filter(vec![], true).unwrap();
        assert!(!nothing_strict.matches(&c1));
    }

    #[test]
    fn bad_filters_get_kafkas_codes() {
        let code = |components| filter(components, false).map(|_| ()).map_err(|(c, _)| c);
        let invalid = Err(ResponseError::InvalidRequest.code());
        assert_eq!(code(vec![component("", MATCH_EXACT, Some("x"))]), invalid);
        assert_eq!(code(vec![component(USER, MATCH_EXACT, None)]), invalid);
        assert_eq!(
            code(vec![component(USER, MATCH_DEFAULT, Some("x"))]),
            invalid
        );
        assert_eq!(code(vec![component(USER, 7, None)]), invalid);
        assert_eq!(
            code(vec![
                component(USER, MATCH_SPECIFIED, None),
                component(USER, MATCH_DEFAULT, None)
            ]),
            invalid
        );
        assert_eq!(
            code(vec![
                component(IP, MATCH_DEFAULT, None),
                component(USER, MATCH_DEFAULT, None)
            ]),
            invalid
        );
        assert_eq!(
            code(vec![component("group", MATCH_DEFAULT, None)]),
            Err(ResponseError::UnsupportedVersion.code())
        );
    }
}
