//! Which quota applies to a client: Kafka's precedence over the entities
//! configured (KIP-55), for each kind on its own:
//!
//! 1. user and client id, 2. user and default client id, 3. user,
//! 4. default user and client id, 5. default user and default client id,
//! 6. default user, 7. client id, 8. default client id.
//!
//! The first entity with a value for the kind gives the bound, and the
//! entity's shape says which clients share a sensor: a user quota is
//! shared by all that user's client ids, a client-id quota by all users
//! of that client id; a default applies to each name on its own.

use std::collections::HashMap;

use floe_metadata::{ClientQuota, ClientQuotaEntity, QuotaEntityPart};

use super::keys::{KINDS, QuotaKind};

/// The quota a client is held to.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    /// The bound (bytes per second, or percent of a thread).
    pub bound: f64,
    /// The sensor the client records into: clients with the same key
    /// share the quota.
    pub sensor: String,
}

/// The configured quotas, as the store holds them, indexed by entity.
#[derive(Debug, Default)]
pub struct QuotaSet {
    entities: HashMap<ClientQuotaEntity, [Option<f64>; KINDS]>,
    kinds: [bool; KINDS],
    /// For each kind, which of the [`PRECEDENCE`] shapes some entity with
    /// a value of that kind has: resolution looks up only those.
    shapes: [[bool; 8]; KINDS],
}

/// The place of an entity's shape in [`PRECEDENCE`].
fn shape_of(entity: &ClientQuotaEntity) -> Option<usize> {
    let shape = |part: &Option<QuotaEntityPart>| {
        part.as_ref()
            .map(|p| matches!(p, QuotaEntityPart::Named(_)))
    };
    let wanted = (shape(&entity.user), shape(&entity.client_id));
    PRECEDENCE.iter().position(|&s| s == wanted)
}

/// The eight entity shapes in order of precedence: (user part, client-id
/// part), `Some(true)` a name, `Some(false)` the default, `None` absent.
const PRECEDENCE: [(Option<bool>, Option<bool>); 8] = [
    (Some(true), Some(true)),
    (Some(true), Some(false)),
    (Some(true), None),
    (Some(false), Some(true)),
    (Some(false), Some(false)),
    (Some(false), None),
    (None, Some(true)),
    (None, Some(false)),
];

impl QuotaSet {
    /// Indexes the quotas read from the store; keys that limit nothing
    /// Floe enforces are kept out.
    pub fn new(quotas: &[ClientQuota]) -> Self {
        let mut set = QuotaSet::default();
        for quota in quotas {
            let mut values = [None; KINDS];
            let shape = shape_of(&quota.entity);
            for kind in QuotaKind::ALL {
                if let Some(&v) = quota.values.get(kind.key()) {
                    values[kind.index()] = Some(v);
                    set.kinds[kind.index()] = true;
                    if let Some(shape) = shape {
                        set.shapes[kind.index()][shape] = true;
                    }
                }
            }
            if values.iter().any(Option::is_some) {
                set.entities.insert(quota.entity.clone(), values);
            }
        }
        set
    }

    /// Whether any entity has a quota of `kind`.
    pub fn has(&self, kind: QuotaKind) -> bool {
        self.kinds[kind.index()]
    }

    /// The quota of `kind` that applies to `user` connecting as
    /// `client_id`, if any.
    pub fn resolve(&self, kind: QuotaKind, user: &str, client_id: &str) -> Option<Resolved> {
        if !self.has(kind) {
            return None;
        }
        let part = |shape: Option<bool>, name: &str| {
            shape.map(|named| {
                if named {
                    QuotaEntityPart::Named(name.to_string())
                } else {
                    QuotaEntityPart::Default
                }
            })
        };
        let shapes = &self.shapes[kind.index()];
        for (i, &(user_shape, client_shape)) in PRECEDENCE.iter().enumerate() {
            if !shapes[i] {
                continue;
            }
            let entity = ClientQuotaEntity {
                user: part(user_shape, user),
                client_id: part(client_shape, client_id),
            };
            let Some(bound) = self
                .entities
                .get(&entity)
                .and_then(|values| values[kind.index()])
            else {
                continue;
            };
            let user_tag = if user_shape.is_some() { user } else { "" };
            let client_tag = if client_shape.is_some() {
                client_id
            } else {
                ""
            };
            return Some(Resolved {
                bound,
                sensor: format!("{user_tag}\u{0}{client_tag}"),
            });
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn quota(
        user: Option<QuotaEntityPart>,
        client: Option<QuotaEntityPart>,
        v: f64,
    ) -> ClientQuota {
        ClientQuota {
            entity: ClientQuotaEntity {
                user,
                client_id: client,
            },
            values: BTreeMap::from([(QuotaKind::Produce.key().to_string(), v)]),
        }
    }

    fn named(s: &str) -> Option<QuotaEntityPart> {
        Some(QuotaEntityPart::Named(s.into()))
    }

    const D: Option<QuotaEntityPart> = Some(QuotaEntityPart::Default);

    #[test]
    fn precedence_is_kafkas() {
        let all = vec![
            quota(None, D, 8.0),
            quota(None, named("c"), 7.0),
            quota(D, None, 6.0),
            quota(D, D, 5.0),
            quota(D, named("c"), 4.0),
            quota(named("u"), None, 3.0),
            quota(named("u"), D, 2.0),
            quota(named("u"), named("c"), 1.0),
        ];
        let produce = |quotas: &[ClientQuota], user: &str, client: &str| {
            QuotaSet::new(quotas)
                .resolve(QuotaKind::Produce, user, client)
                .map(|r| (r.bound, r.sensor))
        };
        // Taking the best match away each time walks down the list.
        for expected in 1..=8 {
            let left = &all[..=(8 - expected)];
            let (bound, _) = produce(left, "u", "c").expect("a quota applies");
            assert_eq!(bound, expected as f64, "with {} entities", left.len());
        }
        assert_eq!(produce(&[], "u", "c"), None);
        assert_eq!(
            QuotaSet::new(&all).resolve(QuotaKind::Fetch, "u", "c"),
            None,
            "kinds resolve on their own"
        );
    }

    #[test]
    fn the_shape_of_the_entity_says_who_shares_a_sensor() {
        let user_only = vec![quota(named("u"), None, 1.0)];
        let a = QuotaSet::new(&user_only).resolve(QuotaKind::Produce, "u", "a");
        let b = QuotaSet::new(&user_only).resolve(QuotaKind::Produce, "u", "b");
        assert_eq!(a, b, "client ids of one user share the user's quota");
        let default_client = vec![quota(None, D, 1.0)];
        let a = QuotaSet::new(&default_client).resolve(QuotaKind::Produce, "u", "a");
        let b = QuotaSet::new(&default_client).resolve(QuotaKind::Produce, "u", "b");
        assert_ne!(
            a.map(|r| r.sensor),
            b.map(|r| r.sensor),
            "each client id has its own default quota"
        );
    }
}
