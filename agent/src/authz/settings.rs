//! The authorizer's settings: Kafka's `authorizer.class.name` (here
//! `--authorizer acl`), `super.users` and `allow.everyone.if.no.acl.found`.

use crate::kafka::principal::Principal;

/// The one authorizer Floe has: ACLs in the metadata store.
pub const ACL: &str = "acl";

/// How the authorizer decides beyond the ACLs.
#[derive(Debug, Clone, Default)]
pub struct AuthorizerSettings {
    /// Principals allowed everything, whatever the ACLs say.
    pub super_users: Vec<Principal>,
    /// Allow an action on a resource no ACL names (Kafka's
    /// `allow.everyone.if.no.acl.found`).
    pub allow_everyone_if_no_acl_found: bool,
}

impl AuthorizerSettings {
    /// Whether `principal` is a super user (compared as `Type:name`, as
    /// Kafka compares `super.users`).
    pub fn is_super_user(&self, principal: &Principal) -> bool {
        self.super_users.iter().any(|s| s == principal)
    }
}

/// Parses Kafka's `super.users`: principals `Type:name` separated by `;`
/// (names may hold `,` and `=`, as certificate subjects do), blanks
/// around each ignored.
pub fn parse_super_users(list: &str) -> Result<Vec<Principal>, String> {
    list.split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(parse_principal)
        .collect()
}

/// Parses one `Type:name` principal, as Kafka's
/// `SecurityUtils.parseKafkaPrincipal`: split at the first `:`; both
/// parts non-empty.
pub fn parse_principal(text: &str) -> Result<Principal, String> {
    match text.split_once(':') {
        Some((kind, name)) if !kind.is_empty() && !name.is_empty() => Ok(Principal {
            kind: kind.to_string(),
            name: name.to_string(),
        }),
        _ => Err(format!(
            "Could not parse principal from `{text}` (no colon is present separating the \
             principal type from the principal name)"
        )),
    }
}
