//! PLAIN (RFC 4616): `authzid NUL user NUL password`, checked against the
//! user's SCRAM credential (SHA-512 if it has one, else SHA-256), so one
//! stored secret serves both mechanisms and no password is ever stored.

use floe_metadata::MetadataStore;

use super::scram::ScramHash;
use super::{SaslError, Step};
use crate::kafka::principal::Principal;

/// Kafka's answer to a wrong user or password.
const INVALID: &str = "Authentication failed: Invalid username or password";

/// Checks one PLAIN message.
pub async fn authenticate(store: &dyn MetadataStore, token: &[u8]) -> Result<Step, SaslError> {
    let mut parts = token.split(|b| *b == 0);
    let (Some(authzid), Some(user), Some(password), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(SaslError::malformed("expected authzid, user and password"));
    };
    let user = std::str::from_utf8(user).map_err(|_| SaslError::malformed("user is not UTF-8"))?;
    if user.is_empty() || password.is_empty() {
        return Err(SaslError::Failed(
            "Authentication failed: username or password not specified".into(),
        ));
    }
    if !authzid.is_empty() && authzid != user.as_bytes() {
        return Err(SaslError::Failed(
            "Authentication failed: Client requested an authorization id that is different from username"
                .into(),
        ));
    }
    let credentials = store
        .scram_credentials(Some(user))
        .await
        .map_err(|e| SaslError::Internal(e.to_string()))?;
    let chosen = [ScramHash::Sha512, ScramHash::Sha256]
        .into_iter()
        .find_map(|h| {
            credentials
                .iter()
                .find(|c| c.mechanism == h.mechanism())
                .map(|c| (h, c.clone()))
        });
    let Some((hash, credential)) = chosen else {
        return Err(SaslError::Failed(INVALID.into()));
    };
    let password = password.to_vec();
    // Thousands of PBKDF2 rounds: off the connection's runtime thread.
    let matches =
        tokio::task::spawn_blocking(move || hash.password_matches(&credential, &password))
            .await
            .map_err(|e| SaslError::Internal(e.to_string()))?;
    if !matches {
        return Err(SaslError::Failed(INVALID.into()));
    }
    Ok(Step::Done {
        principal: Principal::user(user),
        reply: Vec::new(),
        expires_at_ms: None,
    })
}
