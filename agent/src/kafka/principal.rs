//! Who a connection speaks for. Kafka names a principal `Type:name`
//! (`User:alice`, `User:CN=alice,OU=eng`); a connection that has not
//! authenticated (a PLAINTEXT or SSL listener without client certificates)
//! is `User:ANONYMOUS`, as in Kafka. Quotas key on the name; an authorizer
//! (ACLs) will match on both parts.

use std::fmt;

/// The principal type of every authenticated user (Kafka's `User`).
pub const USER_TYPE: &str = "User";

/// The name Kafka gives a connection that did not authenticate.
pub const ANONYMOUS: &str = "ANONYMOUS";

/// An authenticated (or anonymous) identity, as Kafka's `KafkaPrincipal`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Principal {
    /// The principal type: `User` for everything Floe authenticates.
    pub kind: String,
    /// The user name: a SASL user, a JWT `sub`, or a certificate's subject.
    pub name: String,
}

impl Principal {
    /// `User:ANONYMOUS`: a connection that did not authenticate.
    pub fn anonymous() -> Self {
        Self::user(ANONYMOUS)
    }

    /// `User:<name>`.
    pub fn user(name: impl Into<String>) -> Self {
        Self {
            kind: USER_TYPE.to_string(),
            name: name.into(),
        }
    }

    /// Whether this is the anonymous principal.
    pub fn is_anonymous(&self) -> bool {
        self.kind == USER_TYPE && self.name == ANONYMOUS
    }
}

impl fmt::Display for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind, self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anonymous_is_kafkas_user_anonymous() {
        let p = Principal::anonymous();
        assert_eq!(p.to_string(), "User:ANONYMOUS");
        assert!(p.is_anonymous());
        assert!(!Principal::user("alice").is_anonymous());
        assert_eq!(Principal::user("CN=a,OU=b").to_string(), "User:CN=a,OU=b");
    }
}
