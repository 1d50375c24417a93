//! Client quotas as the store keeps them (Kafka's KIP-546 entities): which
//! users and client ids a quota applies to, and its values by key. The
//! store checks only the shape (an entity names something, values are
//! finite); which keys exist and their ranges are the agent's decision.

use std::collections::BTreeMap;

use crate::{MetadataError, Result};

/// One part of a quota entity: the default for every user (or client id)
/// without a quota of its own, or one name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum QuotaEntityPart {
    /// Kafka's `<default>`.
    Default,
    /// A specific user or client id (the empty string is a name too).
    Named(String),
}

/// Whom a quota applies to: a user, a client id, or a user and a client
/// id together. At least one part is present.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClientQuotaEntity {
    /// The user part, if the entity has one.
    pub user: Option<QuotaEntityPart>,
    /// The client-id part, if the entity has one.
    pub client_id: Option<QuotaEntityPart>,
}

/// An entity and every quota value set on it.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientQuota {
    /// Whom it applies to.
    pub entity: ClientQuotaEntity,
    /// Values by key (`producer_byte_rate`, …).
    pub values: BTreeMap<String, f64>,
}

/// Changes to one entity's quotas: each key set to a value, or removed
/// (`None`).
#[derive(Debug, Clone, PartialEq)]
pub struct ClientQuotaAlteration {
    /// Whom it applies to.
    pub entity: ClientQuotaEntity,
    /// Key and new value, or `None` to remove the key.
    pub ops: Vec<(String, Option<f64>)>,
}

/// The stored form of an entity part: kind (0 absent, 1 default, 2 named)
/// and name (`''` unless named).
pub(crate) fn part_to_row(part: &Option<QuotaEntityPart>) -> (i16, &str) {
    match part {
        None => (0, ""),
        Some(QuotaEntityPart::Default) => (1, ""),
        Some(QuotaEntityPart::Named(name)) => (2, name.as_str()),
    }
}

/// An entity part from its stored form.
pub(crate) fn part_from_row(kind: i64, name: String) -> Result<Option<QuotaEntityPart>> {
    match kind {
        0 => Ok(None),
        1 => Ok(Some(QuotaEntityPart::Default)),
        2 => Ok(Some(QuotaEntityPart::Named(name))),
        other => Err(MetadataError::Corrupt(format!(
            "client quota entity kind {other}"
        ))),
    }
}

/// A stored row: user kind and name, client kind and name, key, value.
pub(crate) type QuotaRow = (i64, String, i64, String, String, f64);

/// Groups rows ordered by entity into one [`ClientQuota`] per entity.
pub(crate) fn from_rows(rows: Vec<QuotaRow>) -> Result<Vec<ClientQuota>> {
    let mut quotas: Vec<ClientQuota> = Vec::new();
    for (user_kind, user_name, client_kind, client_name, key, value) in rows {
        let entity = ClientQuotaEntity {
            user: part_from_row(user_kind, user_name)?,
            client_id: part_from_row(client_kind, client_name)?,
        };
        match quotas.last_mut() {
            Some(last) if last.entity == entity => {
                last.values.insert(key, value);
            }
            _ => quotas.push(ClientQuota {
                entity,
                values: BTreeMap::from([(key, value)]),
            }),
        }
    }
    Ok(quotas)
}

/// Refuses alterations the store cannot keep: an entity with no part, an
/// empty key, a value that is not a finite number.
pub(crate) fn validate(alterations: &[ClientQuotaAlteration]) -> Result<()> {
    for alteration in alterations {
        if alteration.entity.user.is_none() && alteration.entity.client_id.is_none() {
            return Err(MetadataError::Invalid(
                "a client quota entity needs a user or a client id".into(),
            ));
        }
        for (key, value) in &alteration.ops {
            if key.is_empty() {
                return Err(MetadataError::Invalid("empty client quota key".into()));
            }
            if value.is_some_and(|v| !v.is_finite()) {
                return Err(MetadataError::Invalid(format!(
                    "client quota {key} is not a finite number"
                )));
            }
        }
    }
    Ok(())
}
