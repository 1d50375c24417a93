//! Client quotas over raw frames: AlterClientQuotas and DescribeClientQuotas
//! requests, and any request sent under a chosen client id (quotas key on it).

use anyhow::Result;
use kafka_protocol::messages::alter_client_quotas_request::{EntityData, EntryData, OpData};
use kafka_protocol::messages::describe_client_quotas_request::ComponentData;
use kafka_protocol::messages::{
    AlterClientQuotasRequest, DescribeClientQuotasRequest, DescribeClientQuotasResponse,
};
use kafka_protocol::protocol::{Request, StrBytes};

use crate::raw::{self, RawClient};

/// AlterClientQuotas and DescribeClientQuotas v1 (the flexible versions).
pub const VERSION: i16 = 1;

/// Match types of a describe filter component.
pub const MATCH_EXACT: i8 = 0;
pub const MATCH_DEFAULT: i8 = 1;
pub const MATCH_SPECIFIED: i8 = 2;

fn s(text: &str) -> StrBytes {
    StrBytes::from_string(text.to_string())
}

/// Sends `request` at `version` under `client_id` and reads its answer.
pub fn request_as<R: Request>(
    client: &mut RawClient,
    client_id: &str,
    version: i16,
    request: &R,
) -> Result<R::Response> {
    let correlation_id = client.next_correlation_id();
    let header = raw::header(R::KEY, version, correlation_id).with_client_id(Some(s(client_id)));
    let frame = raw::encode_request(&header, R::header_version(version), request, version)?;
    client.send_frame(&frame)?;
    client.receive_response::<R>(correlation_id, version)
}

/// An entity: (type, name), `None` for the default.
pub type Entity<'a> = &'a [(&'a str, Option<&'a str>)];

/// One alteration: the entity and its ops, `Some(value)` to set, `None` to remove.
pub fn entry(entity: Entity<'_>, ops: &[(&str, Option<f64>)]) -> EntryData {
    EntryData::default()
        .with_entity(
            entity
                .iter()
                .map(|(t, n)| {
                    EntityData::default()
                        .with_entity_type(s(t))
                        .with_entity_name(n.map(s))
                })
                .collect(),
        )
        .with_ops(
            ops.iter()
                .map(|(key, value)| {
                    OpData::default()
                        .with_key(s(key))
                        .with_value(value.unwrap_or(0.0))
                        .with_remove(value.is_none())
                })
                .collect(),
        )
}

/// Sends AlterClientQuotas with `entries`; the (code, message) of each entry, in
/// the order answered (Floe answers in request order; Kafka in its map's order).
pub fn alter(
    client: &mut RawClient,
    entries: Vec<EntryData>,
    validate_only: bool,
) -> Result<Vec<(i16, Option<String>)>> {
    Ok(alter_by_entity(client, entries, validate_only)?
        .into_iter()
        .map(|(_, code, message)| (code, message))
        .collect())
}

/// [`alter`], each outcome with its entity as `type=name,…` (`<default>` for a
/// default), in the order answered.
pub fn alter_by_entity(
    client: &mut RawClient,
    entries: Vec<EntryData>,
    validate_only: bool,
) -> Result<Vec<(String, i16, Option<String>)>> {
    let request = AlterClientQuotasRequest::default()
        .with_entries(entries)
        .with_validate_only(validate_only);
    let response = client.request(VERSION, &request)?;
    Ok(response
        .entries
        .into_iter()
        .map(|e| {
            let entity: Vec<String> = e
                .entity
                .iter()
                .map(|d| {
                    let name = d.entity_name.as_deref().unwrap_or("<default>");
                    format!("{}={name}", d.entity_type.as_str())
                })
                .collect();
            (
                entity.join(","),
                e.error_code,
                e.error_message.map(|m| m.to_string()),
            )
        })
        .collect())
}

/// A describe filter component: (type, match type, match).
pub fn component(entity_type: &str, match_type: i8, name: Option<&str>) -> ComponentData {
    ComponentData::default()
        .with_entity_type(s(entity_type))
        .with_match_type(match_type)
        .with_match(name.map(s))
}

/// An entity and its values as DescribeClientQuotas answers them, sorted.
pub type Described = (Vec<(String, Option<String>)>, Vec<(String, f64)>);

/// Sends DescribeClientQuotas; the whole response.
pub fn describe_raw(
    client: &mut RawClient,
    components: Vec<ComponentData>,
    strict: bool,
) -> Result<DescribeClientQuotasResponse> {
    let request = DescribeClientQuotasRequest::default()
        .with_components(components)
        .with_strict(strict);
    client.request(VERSION, &request)
}

/// Sends DescribeClientQuotas; the entries, sorted, or the error code.
pub fn describe(
    client: &mut RawClient,
    components: Vec<ComponentData>,
    strict: bool,
) -> Result<Result<Vec<Described>, i16>> {
    let response = describe_raw(client, components, strict)?;
    if response.error_code != 0 {
        return Ok(Err(response.error_code));
    }
    let mut entries: Vec<Described> = response
        .entries
        .unwrap_or_default()
        .into_iter()
        .map(|e| {
            let mut entity: Vec<_> = e
                .entity
                .into_iter()
                .map(|d| {
                    (
                        d.entity_type.to_string(),
                        d.entity_name.map(|n| n.to_string()),
                    )
                })
                .collect();
            entity.sort();
            let mut values: Vec<_> = e
                .values
                .into_iter()
                .map(|v| (v.key.to_string(), v.value))
                .collect();
            values.sort_by(|a, b| a.0.cmp(&b.0));
            (entity, values)
        })
        .collect();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(Ok(entries))
}
