//! SASL authentication (Kafka's SaslHandshake/SaslAuthenticate exchange):
//! PLAIN and SCRAM-SHA-256/512 against credentials in the metadata store,
//! OAUTHBEARER against a JWKS file. The mechanisms know nothing of frames
//! or sockets; `kafka/sasl.rs` drives them from requests.

use std::sync::Arc;

use floe_metadata::MetadataStore;

use crate::kafka::principal::Principal;

pub mod oauth;
pub mod plain;
pub mod scram;

use oauth::OAuthValidator;
use scram::{ScramHash, ScramServer};

/// The mechanisms enabled when none are configured.
pub const DEFAULT_MECHANISMS: &str = "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512";

/// Why an authentication failed. The message is what the client is told
/// (Kafka's wording where Kafka has one).
#[derive(Debug, thiserror::Error)]
pub enum SaslError {
    /// The client failed to authenticate.
    #[error("{0}")]
    Failed(String),
    /// The agent could not check (the store is unreachable, …); logged, and
    /// the client is told only that authentication failed.
    #[error("Authentication failed: {0}")]
    Internal(String),
}

impl SaslError {
    /// A message that breaks the mechanism's grammar.
    pub fn malformed(what: &str) -> Self {
        Self::Failed(format!(
            "Authentication failed: invalid SASL message: {what}"
        ))
    }

    /// Kafka's answer to wrong SCRAM credentials (and unknown users, which
    /// are not told apart).
    pub fn invalid_credentials(mechanism: &str) -> Self {
        Self::Failed(format!(
            "Authentication failed during authentication due to invalid credentials with SASL mechanism {mechanism}"
        ))
    }
}

/// A SASL mechanism.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mechanism {
    /// User and password in the clear (use it over TLS).
    Plain,
    /// Salted challenge-response.
    Scram(ScramHash),
    /// A JWT bearer token.
    OAuthBearer,
}

impl Mechanism {
    /// Kafka's name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Plain => "PLAIN",
            Self::Scram(h) => h.mechanism(),
            Self::OAuthBearer => "OAUTHBEARER",
        }
    }

    /// Reads a name (as Kafka, case-sensitive).
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "PLAIN" => Some(Self::Plain),
            "OAUTHBEARER" => Some(Self::OAuthBearer),
            other => ScramHash::parse(other).map(Self::Scram),
        }
    }

    /// Reads a comma-separated list.
    pub fn parse_list(list: &str) -> Result<Vec<Self>, String> {
        let mut out = Vec::new();
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let m = Self::parse(name).ok_or_else(|| {
                format!(
                    "unknown SASL mechanism {name:?} (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER)"
                )
            })?;
            if !out.contains(&m) {
                out.push(m);
            }
        }
        if out.is_empty() {
            return Err("no SASL mechanism given".into());
        }
        Ok(out)
    }
}

/// Where an exchange stands between two SaslAuthenticate requests.
#[derive(Debug)]
pub enum Exchange {
    /// The handshake chose a mechanism; its first message is next.
    Start(Mechanism),
    /// SCRAM sent its first message; the client's final one is next.
    ScramFinal(Box<ScramServer>),
}

/// What one step of an exchange gives.
#[derive(Debug)]
pub enum Step {
    /// Send `reply` and wait for the client's next message.
    Continue(Vec<u8>, Exchange),
    /// Authenticated: send `reply`.
    Done {
        /// Who the client is.
        principal: Principal,
        /// The last message of the mechanism (may be empty).
        reply: Vec<u8>,
        /// When the credential itself expires (a token's `exp`), in
        /// milliseconds since the epoch.
        expires_at_ms: Option<i64>,
    },
}

/// Runs the mechanisms' steps with what they check against.
#[derive(Debug)]
pub struct Authenticator {
    store: Arc<dyn MetadataStore>,
    mechanisms: Vec<Mechanism>,
    oauth: Option<OAuthValidator>,
    max_reauth_ms: i64,
}

impl Authenticator {
    /// Mechanisms enabled, checked against `store` (and `oauth` for
    /// OAUTHBEARER); sessions last `max_reauth_ms` (0: for ever).
    pub fn new(
        store: Arc<dyn MetadataStore>,
        mechanisms: Vec<Mechanism>,
        oauth: Option<OAuthValidator>,
        max_reauth_ms: u64,
    ) -> Self {
        Self {
            store,
            mechanisms,
            oauth,
            max_reauth_ms: i64::try_from(max_reauth_ms).unwrap_or(i64::MAX),
        }
    }

    /// The `session_lifetime_ms` of a new authentication (KIP-368): 0 when
    /// re-authentication is off, else `connections_max_reauth_ms`, cut to
    /// what is left of the credential's own life (a token's `exp`).
    pub fn session_lifetime_ms(&self, expires_at_ms: Option<i64>) -> i64 {
        if self.max_reauth_ms <= 0 {
            return 0;
        }
        match expires_at_ms {
            Some(at) => (at - crate::wall_clock::now_ms()).clamp(1, self.max_reauth_ms),
            None => self.max_reauth_ms,
        }
    }

    /// The enabled mechanisms, in the configured order.
    pub fn mechanisms(&self) -> &[Mechanism] {
        &self.mechanisms
    }

    /// Takes one client message.
    pub async fn step(&self, state: Exchange, token: &[u8]) -> Result<Step, SaslError> {
        match state {
            Exchange::Start(Mechanism::Plain) => plain::authenticate(&*self.store, token).await,
            Exchange::Start(Mechanism::Scram(hash)) => {
                let first = scram::parse_client_first(token)?;
                let credential = self
                    .store
                    .scram_credentials(Some(&first.user))
                    .await
                    .map_err(|e| SaslError::Internal(e.to_string()))?
                    .into_iter()
                    .find(|c| c.mechanism == hash.mechanism())
                    .ok_or_else(|| SaslError::invalid_credentials(hash.mechanism()))?;
                let (server, reply) = ScramServer::start(hash, first, credential)?;
                Ok(Step::Continue(
                    reply,
                    Exchange::ScramFinal(Box::new(server)),
                ))
            }
            Exchange::ScramFinal(server) => {
                let user = server.user().to_string();
                let reply = server.finish(token)?;
                Ok(Step::Done {
                    principal: Principal::user(user),
                    reply,
                    expires_at_ms: None,
                })
            }
            Exchange::Start(Mechanism::OAuthBearer) => match &self.oauth {
                Some(validator) => {
                    validator
                        .authenticate(token, crate::wall_clock::now_ms())
                        .await
                }
                None => Err(SaslError::Failed(
                    "Authentication failed: OAUTHBEARER has no JWKS configured".into(),
                )),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mechanism_lists_parse() {
        assert_eq!(
            Mechanism::parse_list(DEFAULT_MECHANISMS).unwrap(),
            vec![
                Mechanism::Plain,
                Mechanism::Scram(ScramHash::Sha256),
                Mechanism::Scram(ScramHash::Sha512)
            ]
        );
        assert!(
            Mechanism::parse_list("PLAIN,GSSAPI")
                .unwrap_err()
                .contains("GSSAPI")
        );
        assert!(Mechanism::parse_list(" ").is_err());
    }
}
