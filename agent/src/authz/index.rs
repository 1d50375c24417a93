//! The ACLs in force, indexed for the hot path: Produce and Fetch ask once
//! per partition, so a check looks up the resource's literal name, the
//! literal wildcard and the prefixes of the name that some prefixed ACL
//! has (one hash lookup each), never a scan of every ACL. The matching
//! rules are Kafka's `StandardAuthorizerData`.

use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;

use floe_metadata::AclBinding;
use floe_metadata::acls::{AclOperation, AclPermission, PatternType, ResourceType, WILDCARD};

use crate::kafka::principal::{Principal, USER_TYPE};

/// The number of resource types, for the per-type tables (codes 0–7).
const TYPES: usize = 8;

/// Who asks: the principal and the client's address (`None` when the
/// socket no longer knew it; only `*` hosts match then).
#[derive(Debug, Clone, Copy)]
pub struct Requester<'a> {
    /// The authenticated principal.
    pub principal: &'a Principal,
    /// The client's IP address.
    pub host: Option<IpAddr>,
}

/// One access control entry, in the form a check compares cheaply.
#[derive(Debug, Clone)]
struct Entry {
    principal_type: String,
    principal_name: String,
    /// `None`: every host (`*`). A host that is not an IP address matches
    /// no client (Kafka compares it with the client's address string).
    host: HostMatch,
    operation: AclOperation,
    permission: AclPermission,
}

#[derive(Debug, Clone, PartialEq)]
enum HostMatch {
    Any,
    Ip(IpAddr),
    Never,
}

impl Entry {
    fn of(acl: &AclBinding) -> Self {
        let (principal_type, principal_name) = acl
            .principal
            .split_once(':')
            .unwrap_or(("", acl.principal.as_str()));
        let host = if acl.host == WILDCARD {
            HostMatch::Any
        } else {
            acl.host
                .parse::<IpAddr>()
                .map_or(HostMatch::Never, HostMatch::Ip)
        };
        Self {
            principal_type: principal_type.to_string(),
            principal_name: principal_name.to_string(),
            host,
            operation: acl.operation,
            permission: acl.permission,
        }
    }

    /// Kafka's `StandardAuthorizerData.findResult`: `Some(permission)` if
    /// this entry decides `op` for `who`. An ALLOW of READ, WRITE, DELETE
    /// or ALTER also allows DESCRIBE, one of ALTER_CONFIGS also
    /// DESCRIBE_CONFIGS; a DENY denies only its own operation (or ALL).
    fn decides(&self, who: &Requester<'_>, op: AclOperation) -> Option<AclPermission> {
        let principal_matches = self.principal_type == who.principal.kind
            && self.principal_name == who.principal.name
            || self.principal_type == USER_TYPE && self.principal_name == WILDCARD;
        if !principal_matches {
            return None;
        }
        match (&self.host, who.host) {
            (HostMatch::Any, _) => {}
            (HostMatch::Ip(ip), Some(host)) if *ip == canonical(host) => {}
            _ => return None,
        }
        if self.operation != AclOperation::All {
            let applies = if self.permission == AclPermission::Allow {
                match op {
                    AclOperation::Describe => matches!(
                        self.operation,
                        AclOperation::Describe
                            | AclOperation::Read
                            | AclOperation::Write
                            | AclOperation::Delete
                            | AclOperation::Alter
                    ),
                    AclOperation::DescribeConfigs => matches!(
                        self.operation,
                        AclOperation::DescribeConfigs | AclOperation::AlterConfigs
                    ),
                    _ => self.operation == op,
                }
            } else {
                self.operation == op
            };
            if !applies {
                return None;
            }
        }
        Some(self.permission)
    }
}

/// An IPv4 client reached over an IPv6 socket is its IPv4 address (as
/// Java reports it).
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Tables keyed by resource name, hashed with foldhash: a check is a few
/// lookups, and SipHash made each cost several times more. Seeded per
/// process; the keys are names admins gave ACLs, a client's name is only
/// looked up.
type ByName = HashMap<String, Vec<Entry>, foldhash::fast::RandomState>;

/// The ACLs of one resource type.
#[derive(Debug, Default)]
struct TypeIndex {
    /// Literal patterns by name (`*` included).
    literal: ByName,
    /// Prefixed patterns by prefix.
    prefixed: ByName,
    /// The byte lengths of the prefixes in `prefixed`: a check looks up
    /// only these prefixes of the name.
    prefix_lengths: BTreeSet<usize>,
}

/// What the ACLs say about one action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// An ACL allows it and none denies it.
    Allowed,
    /// An ACL denies it, or ACLs exist for the resource and none allows it.
    Denied,
    /// No ACL names the resource at all (`allow.everyone.if.no.acl.found`
    /// decides).
    NoAcls,
}

/// Every ACL in force, by resource type and name.
#[derive(Debug, Default)]
pub struct AclIndex {
    types: [TypeIndex; TYPES],
    bindings: Vec<AclBinding>,
}

impl AclIndex {
    /// Indexes `acls` (bindings that are not concrete are skipped: the
    /// store refuses them).
    pub fn new(acls: Vec<AclBinding>) -> Self {
        let mut index = Self::default();
        for acl in &acls {
            let Some(table) = index.types.get_mut(acl.resource_type.code() as usize) else {
                continue;
            };
            let entry = Entry::of(acl);
            match acl.pattern_type {
                PatternType::Literal => table
                    .literal
                    .entry(acl.resource_name.clone())
                    .or_default()
                    .push(entry),
                PatternType::Prefixed => {
                    table.prefix_lengths.insert(acl.resource_name.len());
                    table
                        .prefixed
                        .entry(acl.resource_name.clone())
                        .or_default()
                        .push(entry);
                }
                _ => {}
            }
        }
        index.bindings = acls;
        index
    }

    /// How many bindings are in force.
    pub fn len(&self) -> usize {
        self.bindings.len()
    }

    /// Whether no binding is in force.
    pub fn is_empty(&self) -> bool {
        self.bindings.is_empty()
    }

    /// Every binding in force.
    pub fn bindings(&self) -> &[AclBinding] {
        &self.bindings
    }

    /// Kafka's rule over every ACL whose pattern applies to the resource:
    /// a DENY that decides wins, then an ALLOW that decides; if ACLs apply
    /// to the resource but none decides, denied; if none applies, the
    /// caller's default.
    pub fn decide(
        &self,
        who: &Requester<'_>,
        op: AclOperation,
        resource: ResourceType,
        name: &str,
    ) -> Decision {
        let Some(table) = self.types.get(resource.code() as usize) else {
            return Decision::NoAcls;
        };
        let mut found = false;
        let mut allowed = false;
        let mut visit = |entries: Option<&Vec<Entry>>| -> bool {
            for entry in entries.into_iter().flatten() {
                found = true;
                match entry.decides(who, op) {
                    Some(AclPermission::Deny) => return true,
                    Some(AclPermission::Allow) => allowed = true,
                    _ => {}
                }
            }
            false
        };
        if visit(table.literal.get(name)) {
            return Decision::Denied;
        }
        if name != WILDCARD && visit(table.literal.get(WILDCARD)) {
            return Decision::Denied;
        }
        for &len in &table.prefix_lengths {
            if len > name.len() {
                break;
            }
            if let Some(prefix) = name.get(..len)
                && visit(table.prefixed.get(prefix))
            {
                return Decision::Denied;
            }
        }
        match (found, allowed) {
            (_, true) => Decision::Allowed,
            (true, false) => Decision::Denied,
            (false, false) => Decision::NoAcls,
        }
    }

    /// Kafka's `Authorizer.authorizeByResourceType` (after its check of
    /// one hard-coded name): whether some ALLOW of `op` (or ALL) for the
    /// requester on a resource of this type is not dominated by a DENY —
    /// a literal wildcard allow wins, a literal wildcard deny loses, a
    /// literal allow loses to a deny of the same name or of a prefix of it,
    /// a prefixed allow loses to a deny of a prefix of it. Scans the
    /// type's ACLs: for InitProducerId, not the hot path.
    pub fn any_allowed(
        &self,
        who: &Requester<'_>,
        op: AclOperation,
        resource: ResourceType,
    ) -> bool {
        let Some(table) = self.types.get(resource.code() as usize) else {
            return false;
        };
        let applies = |e: &Entry| {
            (e.operation == op || e.operation == AclOperation::All)
                && e.decides(who, e.operation).is_some()
        };
        let mut deny_literal = BTreeSet::new();
        let mut deny_prefixed = BTreeSet::new();
        let mut allow = Vec::new();
        for (patterns, pattern) in [
            (&table.literal, PatternType::Literal),
            (&table.prefixed, PatternType::Prefixed),
        ] {
            for (name, entries) in patterns {
                for entry in entries.iter().filter(|e| applies(e)) {
                    match (entry.permission, pattern) {
                        (AclPermission::Deny, PatternType::Literal) if name == WILDCARD => {
                            return false;
                        }
                        (AclPermission::Deny, PatternType::Literal) => {
                            deny_literal.insert(name.as_str());
                        }
                        (AclPermission::Deny, _) => {
                            deny_prefixed.insert(name.as_str());
                        }
                        (AclPermission::Allow, _) => allow.push((pattern, name.as_str())),
                        _ => {}
                    }
                }
            }
        }
        if allow
            .iter()
            .any(|&(p, name)| p == PatternType::Literal && name == WILDCARD)
        {
            return true;
        }
        allow.iter().any(|&(pattern, name)| {
            if pattern == PatternType::Literal && deny_literal.contains(name) {
                return false;
            }
            !name
                .char_indices()
                .map(|(i, c)| &name[..i + c.len_utf8()])
                .any(|prefix| deny_prefixed.contains(prefix))
        })
    }
}
