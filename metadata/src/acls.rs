//! ACL bindings as Kafka defines them (`AclBinding`, `AclBindingFilter`):
//! a resource pattern (type, name, literal or prefixed) and an access
//! control entry (principal, host, operation, allow or deny). The codes are
//! Kafka's wire codes, so the store, the authorizer and the ACL APIs share
//! one vocabulary; the filter rules are Kafka's `ResourcePatternFilter` and
//! `AccessControlEntryFilter` (`matches`), applied by the store to describe
//! and delete.

use crate::{MetadataError, Result};

/// Kafka's `ResourceType` codes.
#[repr(i8)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ResourceType {
    /// Not a type Kafka knows (any code without a name).
    Unknown = 0,
    /// Every type (filters only).
    Any = 1,
    /// A topic.
    Topic = 2,
    /// A consumer group.
    Group = 3,
    /// The cluster (`kafka-cluster`).
    Cluster = 4,
    /// A transactional id.
    TransactionalId = 5,
    /// A delegation token.
    DelegationToken = 6,
    /// A user (delegation tokens on behalf of).
    User = 7,
}

impl ResourceType {
    /// The type of a wire code; codes without a name are `Unknown`, as in
    /// Kafka's `ResourceType.fromCode`.
    pub fn from_code(code: i8) -> Self {
        match code {
            1 => Self::Any,
            2 => Self::Topic,
            3 => Self::Group,
            4 => Self::Cluster,
            5 => Self::TransactionalId,
            6 => Self::DelegationToken,
            7 => Self::User,
            _ => Self::Unknown,
        }
    }

    /// The wire code.
    pub fn code(self) -> i8 {
        self as i8
    }

    /// Kafka's name (`TOPIC`, `TRANSACTIONAL_ID`, …).
    pub fn name(self) -> &'static str {
        match self {
            Self::Unknown => "UNKNOWN",
            Self::Any => "ANY",
            Self::Topic => "TOPIC",
            Self::Group => "GROUP",
            Self::Cluster => "CLUSTER",
            Self::TransactionalId => "TRANSACTIONAL_ID",
            Self::DelegationToken => "DELEGATION_TOKEN",
            Self::User => "USER",
        }
    }
}

/// Kafka's `AclOperation` codes.
#[repr(i8)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AclOperation {
    /// Not an operation Kafka knows.
    Unknown = 0,
    /// Every operation (filters only).
    Any = 1,
    /// Every operation (in an ACL: allows or denies them all).
    All = 2,
    /// READ.
    Read = 3,
    /// WRITE.
    Write = 4,
    /// CREATE.
    Create = 5,
    /// DELETE.
    Delete = 6,
    /// ALTER.
    Alter = 7,
    /// DESCRIBE.
    Describe = 8,
    /// CLUSTER_ACTION.
    ClusterAction = 9,
    /// DESCRIBE_CONFIGS.
    DescribeConfigs = 10,
    /// ALTER_CONFIGS.
    AlterConfigs = 11,
    /// IDEMPOTENT_WRITE.
    IdempotentWrite = 12,
    /// CREATE_TOKENS.
    CreateTokens = 13,
    /// DESCRIBE_TOKENS.
    DescribeTokens = 14,
    /// TWO_PHASE_COMMIT (KIP-939).
    TwoPhaseCommit = 15,
}

impl AclOperation {
    /// The operation of a wire code; unnamed codes are `Unknown`.
    pub fn from_code(code: i8) -> Self {
        match code {
            1 => Self::Any,
            2 => Self::All,
            3 => Self::Read,
            4 => Self::Write,
            5 => Self::Create,
            6 => Self::Delete,
            7 => Self::Alter,
            8 => Self::Describe,
            9 => Self::ClusterAction,
            10 => Self::DescribeConfigs,
            11 => Self::AlterConfigs,
            12 => Self::IdempotentWrite,
            13 => Self::CreateTokens,
            14 => Self::DescribeTokens,
            15 => Self::TwoPhaseCommit,
            _ => Self::Unknown,
        }
    }

    /// The wire code.
    pub fn code(self) -> i8 {
        self as i8
    }

    /// Kafka's name (`READ`, `IDEMPOTENT_WRITE`, …).
    pub fn name(self) -> &'static str {
        match self {
            Self::Unknown => "UNKNOWN",
            Self::Any => "ANY",
            Self::All => "ALL",
            Self::Read => "READ",
            Self::Write => "WRITE",
            Self::Create => "CREATE",
            Self::Delete => "DELETE",
            Self::Alter => "ALTER",
            Self::Describe => "DESCRIBE",
            Self::ClusterAction => "CLUSTER_ACTION",
            Self::DescribeConfigs => "DESCRIBE_CONFIGS",
            Self::AlterConfigs => "ALTER_CONFIGS",
            Self::IdempotentWrite => "IDEMPOTENT_WRITE",
            Self::CreateTokens => "CREATE_TOKENS",
            Self::DescribeTokens => "DESCRIBE_TOKENS",
            Self::TwoPhaseCommit => "TWO_PHASE_COMMIT",
        }
    }
}

/// Kafka's `PatternType` codes.
#[repr(i8)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PatternType {
    /// Not a pattern type Kafka knows.
    Unknown = 0,
    /// Filters: any pattern type, the name matched exactly.
    Any = 1,
    /// Filters: every pattern that would apply to the named resource
    /// (the literal name, the literal wildcard, prefixes of the name).
    Match = 2,
    /// The name is the resource's name (or `*`, every resource).
    Literal = 3,
    /// The name is a prefix of the resources' names (KIP-290).
    Prefixed = 4,
}

impl PatternType {
    /// The pattern type of a wire code; unnamed codes are `Unknown`.
    pub fn from_code(code: i8) -> Self {
        match code {
            1 => Self::Any,
            2 => Self::Match,
            3 => Self::Literal,
            4 => Self::Prefixed,
            _ => Self::Unknown,
        }
    }

    /// The wire code.
    pub fn code(self) -> i8 {
        self as i8
    }
}

/// Kafka's `AclPermissionType` codes.
#[repr(i8)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AclPermission {
    /// Not a permission Kafka knows.
    Unknown = 0,
    /// Filters: allow or deny.
    Any = 1,
    /// Denies the operation, whatever else allows it.
    Deny = 2,
    /// Allows the operation unless something denies it.
    Allow = 3,
}

impl AclPermission {
    /// The permission of a wire code; unnamed codes are `Unknown`.
    pub fn from_code(code: i8) -> Self {
        match code {
            1 => Self::Any,
            2 => Self::Deny,
            3 => Self::Allow,
            _ => Self::Unknown,
        }
    }

    /// The wire code.
    pub fn code(self) -> i8 {
        self as i8
    }
}

/// The resource name that, in a literal pattern, means every resource of
/// its type (and, as a host, every host; as `User:*`, every principal).
pub const WILDCARD: &str = "*";

/// One ACL: who (principal, host) may or may not do what (operation) to
/// which resources (type, name, pattern type).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AclBinding {
    /// The resource type (never `Any` or `Unknown` in a stored binding).
    pub resource_type: ResourceType,
    /// The resource name, `*` or a prefix.
    pub resource_name: String,
    /// `Literal` or `Prefixed`.
    pub pattern_type: PatternType,
    /// `Type:name`, `User:*` for everyone.
    pub principal: String,
    /// An IP address, or `*` for every host.
    pub host: String,
    /// The operation (never `Any` or `Unknown`).
    pub operation: AclOperation,
    /// `Allow` or `Deny`.
    pub permission: AclPermission,
}

impl AclBinding {
    /// Refuses what a stored binding may not be: a filter-only or unknown
    /// code, an empty resource name, a principal without `Type:`.
    pub fn validate(&self) -> Result<()> {
        let bad = |what: String| Err(MetadataError::Invalid(what));
        if matches!(
            self.resource_type,
            ResourceType::Any | ResourceType::Unknown
        ) {
            return bad(format!("ACL resource type {}", self.resource_type.name()));
        }
        if !matches!(
            self.pattern_type,
            PatternType::Literal | PatternType::Prefixed
        ) {
            return bad(format!("ACL pattern type {:?}", self.pattern_type));
        }
        if matches!(self.operation, AclOperation::Any | AclOperation::Unknown) {
            return bad(format!("ACL operation {}", self.operation.name()));
        }
        if !matches!(self.permission, AclPermission::Allow | AclPermission::Deny) {
            return bad(format!("ACL permission {:?}", self.permission));
        }
        if self.resource_name.is_empty() {
            return bad("empty ACL resource name".into());
        }
        if !self.principal.contains(':') {
            return bad(format!("ACL principal {:?} lacks a type", self.principal));
        }
        if self.host.is_empty() {
            return bad("empty ACL host".into());
        }
        Ok(())
    }
}

/// Which bindings describe and delete pick (Kafka's `AclBindingFilter`):
/// `None` strings and `Any` codes match everything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AclBindingFilter {
    /// `Any` or one type.
    pub resource_type: ResourceType,
    /// The name, or `None` for every name.
    pub resource_name: Option<String>,
    /// `Any`, `Match`, `Literal` or `Prefixed`.
    pub pattern_type: PatternType,
    /// The principal, or `None` for every principal.
    pub principal: Option<String>,
    /// The host, or `None` for every host.
    pub host: Option<String>,
    /// `Any` or one operation.
    pub operation: AclOperation,
    /// `Any`, `Allow` or `Deny`.
    pub permission: AclPermission,
}

impl AclBindingFilter {
    /// The filter that matches every binding.
    pub fn any() -> Self {
        Self {
            resource_type: ResourceType::Any,
            resource_name: None,
            pattern_type: PatternType::Any,
            principal: None,
            host: None,
            operation: AclOperation::Any,
            permission: AclPermission::Any,
        }
    }

    /// Kafka's `AclBindingFilter.matches`: the resource pattern filter
    /// (`MATCH` picks every pattern that applies to the named resource)
    /// and the entry filter both match.
    pub fn matches(&self, acl: &AclBinding) -> bool {
        self.matches_pattern(acl) && self.matches_entry(acl)
    }

    /// Kafka's `ResourcePatternFilter.matches`.
    fn matches_pattern(&self, acl: &AclBinding) -> bool {
        if self.resource_type != ResourceType::Any && self.resource_type != acl.resource_type {
            return false;
        }
        if !matches!(self.pattern_type, PatternType::Any | PatternType::Match)
            && self.pattern_type != acl.pattern_type
        {
            return false;
        }
        let Some(name) = &self.resource_name else {
            return true;
        };
        if self.pattern_type == PatternType::Any || self.pattern_type == acl.pattern_type {
            return *name == acl.resource_name;
        }
        match acl.pattern_type {
            PatternType::Literal => *name == acl.resource_name || acl.resource_name == WILDCARD,
            PatternType::Prefixed => name.starts_with(&acl.resource_name),
            _ => false,
        }
    }

    /// Kafka's `AccessControlEntryFilter.matches`.
    fn matches_entry(&self, acl: &AclBinding) -> bool {
        self.principal.as_ref().is_none_or(|p| *p == acl.principal)
            && self.host.as_ref().is_none_or(|h| *h == acl.host)
            && (self.operation == AclOperation::Any || self.operation == acl.operation)
            && (self.permission == AclPermission::Any || self.permission == acl.permission)
    }
}

/// A stored row: resource type, name, pattern type, principal, host,
/// operation, permission.
pub(crate) type AclRow = (i64, String, i64, String, String, i64, i64);

/// The row of a binding.
pub(crate) fn to_row(acl: &AclBinding) -> (i16, &str, i16, &str, &str, i16, i16) {
    (
        i16::from(acl.resource_type.code()),
        &acl.resource_name,
        i16::from(acl.pattern_type.code()),
        &acl.principal,
        &acl.host,
        i16::from(acl.operation.code()),
        i16::from(acl.permission.code()),
    )
}

/// The binding of a stored row; a code out of range is corruption.
pub(crate) fn from_row(row: AclRow) -> Result<AclBinding> {
    let (rt, name, pt, principal, host, op, perm) = row;
    let code = |c: i64| {
        i8::try_from(c).map_err(|_| MetadataError::Corrupt(format!("ACL code {c} out of range")))
    };
    let acl = AclBinding {
        resource_type: ResourceType::from_code(code(rt)?),
        resource_name: name,
        pattern_type: PatternType::from_code(code(pt)?),
        principal,
        host,
        operation: AclOperation::from_code(code(op)?),
        permission: AclPermission::from_code(code(perm)?),
    };
    acl.validate()
        .map_err(|e| MetadataError::Corrupt(format!("stored ACL: {e}")))?;
    Ok(acl)
}

/// Refuses a batch with a binding the store may not keep (see
/// [`AclBinding::validate`]).
pub(crate) fn validate_all(acls: &[AclBinding]) -> Result<()> {
    acls.iter().try_for_each(AclBinding::validate)
}

/// The resource type to read for `filters`: one type if every filter names
/// the same one, else every row.
pub(crate) fn type_to_read(filters: &[AclBindingFilter]) -> Option<ResourceType> {
    let first = filters.first()?.resource_type;
    (first != ResourceType::Any && filters.iter().all(|f| f.resource_type == first))
        .then_some(first)
}

/// Per filter, the bindings of `rows` it matches (a binding two filters
/// match is listed under both, as Kafka answers DeleteAcls), and the
/// distinct bindings matched by any.
pub(crate) fn matches_per_filter(
    rows: &[AclBinding],
    filters: &[AclBindingFilter],
) -> (Vec<Vec<AclBinding>>, Vec<AclBinding>) {
    let per_filter: Vec<Vec<AclBinding>> = filters
        .iter()
        .map(|f| rows.iter().filter(|acl| f.matches(acl)).cloned().collect())
        .collect();
    let any = rows
        .iter()
        .filter(|acl| filters.iter().any(|f| f.matches(acl)))
        .cloned()
        .collect();
    (per_filter, any)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acl(rt: ResourceType, name: &str, pt: PatternType) -> AclBinding {
        AclBinding {
            resource_type: rt,
            resource_name: name.into(),
            pattern_type: pt,
            principal: "User:alice".into(),
            host: "*".into(),
            operation: AclOperation::Read,
            permission: AclPermission::Allow,
        }
    }

    fn filter(name: Option<&str>, pt: PatternType) -> AclBindingFilter {
        AclBindingFilter {
            resource_type: ResourceType::Topic,
            resource_name: name.map(str::to_string),
            pattern_type: pt,
            ..AclBindingFilter::any()
        }
    }

    /// Kafka's `ResourcePatternFilterTest`: MATCH picks the literal name,
    /// the literal wildcard and every prefix of the name; ANY and a
    /// concrete type match the name exactly.
    #[test]
    fn pattern_filters_are_kafkas() {
        let literal = acl(ResourceType::Topic, "orders", PatternType::Literal);
        let wildcard = acl(ResourceType::Topic, "*", PatternType::Literal);
        let prefix = acl(ResourceType::Topic, "ord", PatternType::Prefixed);
        let other_prefix = acl(ResourceType::Topic, "orders-x", PatternType::Prefixed);
        let group = acl(ResourceType::Group, "orders", PatternType::Literal);

        let m = filter(Some("orders"), PatternType::Match);
        assert!(m.matches(&literal) && m.matches(&wildcard) && m.matches(&prefix));
        assert!(!m.matches(&other_prefix) && !m.matches(&group));

        let any = filter(Some("orders"), PatternType::Any);
        assert!(any.matches(&literal) && !any.matches(&wildcard) && !any.matches(&prefix));
        let any_ord = filter(Some("ord"), PatternType::Any);
        assert!(any_ord.matches(&prefix) && !any_ord.matches(&literal));

        let lit = filter(Some("orders"), PatternType::Literal);
        assert!(lit.matches(&literal) && !lit.matches(&wildcard));
        let pre = filter(Some("ord"), PatternType::Prefixed);
        assert!(pre.matches(&prefix) && !pre.matches(&literal));
        // A literal filter for "*" matches the wildcard binding only.
        let star = filter(Some("*"), PatternType::Literal);
        assert!(star.matches(&wildcard) && !star.matches(&literal));
        // No name: every binding of the pattern type.
        let all_prefixed = filter(None, PatternType::Prefixed);
        assert!(all_prefixed.matches(&prefix) && !all_prefixed.matches(&literal));
        assert!(filter(None, PatternType::Match).matches(&literal));
        assert!(AclBindingFilter::any().matches(&group));
    }

    #[test]
    fn entry_filters_are_kafkas() {
        let a = acl(ResourceType::Topic, "t", PatternType::Literal);
        let mut f = AclBindingFilter::any();
        f.principal = Some("User:bob".into());
        assert!(!f.matches(&a));
        f.principal = Some("User:alice".into());
        f.host = Some("*".into());
        f.operation = AclOperation::Read;
        f.permission = AclPermission::Allow;
        assert!(f.matches(&a));
        f.permission = AclPermission::Deny;
        assert!(!f.matches(&a));
        f.permission = AclPermission::Any;
        f.operation = AclOperation::All;
        assert!(
            !f.matches(&a),
            "ALL in a filter is the operation ALL, not any"
        );
    }

    #[test]
    fn codes_round_trip_and_unknowns_are_unknown() {
        for c in 0..=8 {
            let t = ResourceType::from_code(c);
            assert!(t.code() == c || t == ResourceType::Unknown);
        }
        assert_eq!(ResourceType::from_code(99), ResourceType::Unknown);
        assert_eq!(AclOperation::from_code(15), AclOperation::TwoPhaseCommit);
        assert_eq!(AclOperation::from_code(16), AclOperation::Unknown);
        assert_eq!(PatternType::from_code(-1), PatternType::Unknown);
        assert_eq!(AclPermission::from_code(3), AclPermission::Allow);
    }

    #[test]
    fn stored_bindings_are_concrete() {
        let good = acl(ResourceType::Topic, "t", PatternType::Literal);
        assert!(good.validate().is_ok());
        let mut bad = good.clone();
        bad.pattern_type = PatternType::Match;
        assert!(bad.validate().is_err());
        let mut bad = good.clone();
        bad.principal = "alice".into();
        assert!(bad.validate().is_err());
        let mut bad = good;
        bad.operation = AclOperation::Any;
        assert!(bad.validate().is_err());
    }
}
