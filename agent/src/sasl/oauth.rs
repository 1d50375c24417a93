//! OAUTHBEARER (RFC 7628) with JWT bearer tokens: the signature is checked
//! against a JWKS file (RS256/384/512, ES256/384), then `exp`, `nbf` and,
//! when configured, `aud` and `iss`; the principal is `sub`, as Kafka's
//! `OAuthBearerValidatorCallbackHandler` does. The JWKS file is re-read
//! when it changes, so keys rotate without a restart; a JWKS endpoint is
//! fetched again periodically and when a token names an unknown `kid`
//! (`oauth/remote.rs`).

mod remote;

use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use aws_lc_rs::signature::{self, RsaPublicKeyComponents, UnparsedPublicKey};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use serde::Deserialize;
use serde_json::Value;

use super::{SaslError, Step};
use crate::kafka::principal::Principal;

/// Largest JWKS file read.
const MAX_JWKS_BYTES: u64 = 1 << 20;
/// Largest token accepted.
const MAX_TOKEN_BYTES: usize = 64 * 1024;

/// Where the JWKS (`{"keys": [...]}`) comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwksSource {
    /// A file, re-read when it changes.
    File(PathBuf),
    /// An `http://` or `https://` endpoint, fetched again periodically.
    Url(String),
}

impl JwksSource {
    /// Reads `oauth_jwks_url`: `https://` and `http://` are endpoints,
    /// `file://PATH` is a file (Kafka accepts the three).
    pub fn parse_url(url: &str) -> Result<Self, String> {
        if let Some(path) = url.strip_prefix("file://") {
            if path.is_empty() {
                return Err(format!("{url} names no file"));
            }
            return Ok(JwksSource::File(PathBuf::from(path)));
        }
        let parsed = reqwest::Url::parse(url).map_err(|e| format!("{url}: {e}"))?;
        match parsed.scheme() {
            "https" | "http" if parsed.host_str().is_some() => Ok(JwksSource::Url(url.to_string())),
            _ => Err(format!("{url}: expected https://, http:// or file://")),
        }
    }
}

/// What OAUTHBEARER checks tokens against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthSettings {
    /// The JWKS.
    pub jwks: JwksSource,
    /// How often an endpoint is fetched again (Kafka's
    /// `sasl.oauthbearer.jwks.endpoint.refresh.ms`).
    pub jwks_refresh: Duration,
    /// A token's `aud` must contain this, when set.
    pub expected_audience: Option<String>,
    /// A token's `iss` must be this, when set.
    pub expected_issuer: Option<String>,
}

/// One verification key of the JWKS.
#[derive(Debug)]
struct Key {
    kid: Option<String>,
    kind: KeyKind,
}

#[derive(Debug)]
enum KeyKind {
    Rsa { n: Vec<u8>, e: Vec<u8> },
    Ec { curve: String, point: Vec<u8> },
}

#[derive(Debug, Deserialize)]
struct Jwks {
    keys: Vec<Jwk>,
}

#[derive(Debug, Deserialize)]
struct Jwk {
    kty: String,
    kid: Option<String>,
    #[serde(rename = "use")]
    usage: Option<String>,
    n: Option<String>,
    e: Option<String>,
    crv: Option<String>,
    x: Option<String>,
    y: Option<String>,
}

/// Reads a JWKS document; keys of other types (or for encryption) are
/// skipped.
fn parse_jwks(text: &[u8]) -> Result<Vec<Key>, String> {
    let jwks: Jwks = serde_json::from_slice(text).map_err(|e| format!("not a JWKS: {e}"))?;
    let b64 = |v: &Option<String>, what: &str| -> Result<Vec<u8>, String> {
        let v = v.as_deref().ok_or_else(|| format!("key lacks {what}"))?;
        B64URL
            .decode(v.trim_end_matches('='))
            .map_err(|e| format!("key {what}: {e}"))
    };
    let mut keys = Vec::new();
    for jwk in jwks.keys {
        if jwk.usage.as_deref().is_some_and(|u| u != "sig") {
            continue;
        }
        let kind = match jwk.kty.as_str() {
            "RSA" => KeyKind::Rsa {
                n: b64(&jwk.n, "n")?,
                e: b64(&jwk.e, "e")?,
            },
            "EC" => {
                let mut point = vec![4u8];
                point.extend(b64(&jwk.x, "x")?);
                point.extend(b64(&jwk.y, "y")?);
                KeyKind::Ec {
                    curve: jwk.crv.clone().unwrap_or_default(),
                    point,
                }
            }
            _ => continue,
        };
        keys.push(Key { kid: jwk.kid, kind });
    }
    if keys.is_empty() {
        return Err("no RSA or EC signing key in the JWKS".into());
    }
    Ok(keys)
}

/// Where the keys in force come from.
#[derive(Debug)]
enum Keys {
    /// A file, with its modification time when read.
    File {
        path: PathBuf,
        keys: RwLock<(Option<SystemTime>, Arc<Vec<Key>>)>,
    },
    /// An endpoint.
    Remote(Arc<remote::RemoteJwks>),
}

/// Checks bearer tokens.
#[derive(Debug)]
pub struct OAuthValidator {
    settings: OAuthSettings,
    keys: Keys,
}

impl OAuthValidator {
    /// Reads the JWKS file, or fetches the endpoint (and starts fetching it
    /// again every `jwks_refresh`); an agent whose JWKS does not load does
    /// not start.
    pub async fn load(settings: OAuthSettings) -> Result<Self, String> {
        let keys = match &settings.jwks {
            JwksSource::File(path) => {
                let (stamp, keys) = read_jwks(path)?;
                Keys::File {
                    path: path.clone(),
                    keys: RwLock::new((stamp, Arc::new(keys))),
                }
            }
            JwksSource::Url(url) => {
                Keys::Remote(remote::RemoteJwks::start(url.clone(), settings.jwks_refresh).await?)
            }
        };
        Ok(Self { settings, keys })
    }

    /// The keys in force.
    fn keys(&self) -> Arc<Vec<Key>> {
        match &self.keys {
            Keys::File { path, keys } => file_keys(path, keys),
            Keys::Remote(remote) => remote.keys(),
        }
    }

    /// Checks the client's OAUTHBEARER message at `now_ms`. A token whose
    /// `kid` no key of an endpoint has makes the endpoint be fetched again
    /// first (at most once a minute per `kid`), so a key rotated in at the
    /// identity provider is accepted at once.
    pub async fn authenticate(&self, message: &[u8], now_ms: i64) -> Result<Step, SaslError> {
        let token = bearer_token(message)?;
        if let Keys::Remote(remote) = &self.keys
            && let Some(kid) = token_kid(token)
            && !self
                .keys()
                .iter()
                .any(|k| k.kid.as_deref() == Some(kid.as_str()))
        {
            remote.fetch_for_unknown_kid(&kid).await;
        }
        let (sub, exp_ms) = self.validate(token, now_ms)?;
        Ok(Step::Done {
            principal: Principal::user(sub),
            reply: Vec::new(),
            expires_at_ms: Some(exp_ms),
        })
    }

    /// Checks a JWT; its subject and expiry (ms) when valid.
    pub fn validate(&self, token: &str, now_ms: i64) -> Result<(String, i64), SaslError> {
        let fail =
            |why: &str| SaslError::Failed(format!("Authentication failed: invalid_token ({why})"));
        if token.len() > MAX_TOKEN_BYTES {
            return Err(fail("token too large"));
        }
        let mut parts = token.split('.');
        let (Some(h), Some(p), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(fail("not a signed JWT"));
        };
        let decode = |part: &str| B64URL.decode(part).map_err(|_| fail("bad base64url"));
        let header: Value = serde_json::from_slice(&decode(h)?).map_err(|_| fail("bad header"))?;
        let claims: Value = serde_json::from_slice(&decode(p)?).map_err(|_| fail("bad claims"))?;
        let sig = decode(s)?;
        let alg = header["alg"].as_str().unwrap_or_default();
        let kid = header["kid"].as_str();
        let keys = self.keys();
        let candidates: Vec<&Key> = keys
            .iter()
            .filter(|k| kid.is_none() || k.kid.as_deref() == kid)
            .collect();
        if candidates.is_empty() {
            return Err(fail("no key in the JWKS matches the token's kid"));
        }
        let signed = format!("{h}.{p}");
        let verified = candidates
            .iter()
            .any(|k| verify(alg, &k.kind, signed.as_bytes(), &sig));
        if !verified {
            return Err(fail("signature does not verify"));
        }
        let seconds = |name: &str| claims[name].as_f64().map(|s| (s * 1000.0) as i64);
        let exp = seconds("exp").ok_or_else(|| fail("no exp claim"))?;
        if exp <= now_ms {
            return Err(fail("token expired"));
        }
        if let Some(nbf) = seconds("nbf")
            && nbf > now_ms
        {
            return Err(fail("token not yet valid (nbf)"));
        }
        if let Some(expected) = &self.settings.expected_issuer
            && claims["iss"].as_str() != Some(expected.as_str())
        {
            return Err(fail("unexpected issuer"));
        }
        if let Some(expected) = &self.settings.expected_audience {
            let found = match &claims["aud"] {
                Value::String(a) => a == expected,
                Value::Array(list) => list.iter().any(|a| a.as_str() == Some(expected)),
                _ => false,
            };
            if !found {
                return Err(fail("unexpected audience"));
            }
        }
        let sub = claims["sub"]
            .as_str()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| fail("no sub claim"))?;
        Ok((sub.to_string(), exp))
    }
}

/// The keys of a JWKS file, re-read if the file changed (a bad new file
/// keeps the old keys).
fn file_keys(
    path: &std::path::Path,
    cell: &RwLock<(Option<SystemTime>, Arc<Vec<Key>>)>,
) -> Arc<Vec<Key>> {
    let stamp = std::fs::metadata(path).and_then(|m| m.modified()).ok();
    let (known, keys) = match cell.read() {
        Ok(k) => (k.0, k.1.clone()),
        Err(p) => (p.get_ref().0, p.get_ref().1.clone()),
    };
    if stamp == known {
        return keys;
    }
    match read_jwks(path) {
        Ok((stamp, fresh)) => {
            let fresh = Arc::new(fresh);
            if let Ok(mut k) = cell.write() {
                *k = (stamp, fresh.clone());
            }
            tracing::info!(file = %path.display(), "reloaded JWKS");
            fresh
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot reload the JWKS; keeping the keys in force");
            if let Ok(mut k) = cell.write() {
                k.0 = stamp;
            }
            keys
        }
    }
}

/// The `kid` of a JWT's header, if it has one.
fn token_kid(token: &str) -> Option<String> {
    let header = B64URL.decode(token.split('.').next()?).ok()?;
    let header: Value = serde_json::from_slice(&header).ok()?;
    header["kid"].as_str().map(str::to_string)
}

fn read_jwks(path: &std::path::Path) -> Result<(Option<SystemTime>, Vec<Key>), String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if meta.len() > MAX_JWKS_BYTES {
        return Err(format!("{}: larger than 1 MiB", path.display()));
    }
    let text = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let keys = parse_jwks(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok((meta.modified().ok(), keys))
}

/// Whether `sig` signs `data` under `key` with the JWS algorithm `alg`.
fn verify(alg: &str, key: &KeyKind, data: &[u8], sig: &[u8]) -> bool {
    match (alg, key) {
        ("RS256" | "RS384" | "RS512", KeyKind::Rsa { n, e }) => {
            let params = match alg {
                "RS256" => &signature::RSA_PKCS1_2048_8192_SHA256,
                "RS384" => &signature::RSA_PKCS1_2048_8192_SHA384,
                _ => &signature::RSA_PKCS1_2048_8192_SHA512,
            };
            RsaPublicKeyComponents { n, e }
                .verify(params, data, sig)
                .is_ok()
        }
        ("ES256", KeyKind::Ec { curve, point }) if curve == "P-256" => {
            UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
                .verify(data, sig)
                .is_ok()
        }
        ("ES384", KeyKind::Ec { curve, point }) if curve == "P-384" => {
            UnparsedPublicKey::new(&signature::ECDSA_P384_SHA384_FIXED, point)
                .verify(data, sig)
                .is_ok()
        }
        _ => false,
    }
}

/// The token of an OAUTHBEARER client message:
/// `n,[a=authzid],\x01auth=Bearer TOKEN\x01[key=value\x01]*\x01`.
fn bearer_token(message: &[u8]) -> Result<&str, SaslError> {
    let text = std::str::from_utf8(message).map_err(|_| SaslError::malformed("not UTF-8"))?;
    let (gs2, rest) = text
        .split_once('\u{1}')
        .ok_or_else(|| SaslError::malformed("no key-value pairs"))?;
    if !gs2.starts_with("n,") {
        return Err(SaslError::malformed("bad GS2 header"));
    }
    rest.split('\u{1}')
        .find_map(|kv| kv.strip_prefix("auth="))
        .and_then(|auth| {
            auth.strip_prefix("Bearer ")
                .or_else(|| auth.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| SaslError::malformed("no bearer token"))
}

#[cfg(test)]
mod tests {
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};

    use super::*;

    /// A validator with one ES256 key, and a signer of tokens for it.
    async fn es256() -> (OAuthValidator, impl Fn(&Value) -> String, tempfile::TempDir) {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let pair =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref()).unwrap();
        let public = pair.public_key().as_ref().to_vec();
        let jwks = serde_json::json!({"keys": [{
            "kty": "EC", "crv": "P-256", "kid": "k1", "use": "sig",
            "x": B64URL.encode(&public[1..33]), "y": B64URL.encode(&public[33..65]),
        }]});
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("jwks.json");
        std::fs::write(&file, jwks.to_string()).unwrap();
        let validator = OAuthValidator::load(OAuthSettings {
            jwks: JwksSource::File(file),
            jwks_refresh: Duration::from_secs(3600),
            expected_audience: Some("floe".into()),
            expected_issuer: None,
        })
        .await
        .unwrap();
        let sign = move |claims: &Value| {
            let header = B64URL.encode(r#"{"alg":"ES256","kid":"k1"}"#);
            let body = B64URL.encode(claims.to_string());
            let signed = format!("{header}.{body}");
            let sig = pair.sign(&SystemRandom::new(), signed.as_bytes()).unwrap();
            format!("{signed}.{}", B64URL.encode(sig.as_ref()))
        };
        (validator, sign, dir)
    }

    #[tokio::test]
    async fn a_signed_token_names_its_subject_and_bad_ones_are_refused() {
        let (v, sign, _dir) = es256().await;
        let now = 1_000_000_000_000;
        let good = sign(&serde_json::json!({"sub": "svc", "exp": 1_000_000_100, "aud": ["floe"]}));
        assert_eq!(
            v.validate(&good, now).unwrap(),
            ("svc".into(), 1_000_000_100_000)
        );
        let message = format!("n,,\u{1}auth=Bearer {good}\u{1}\u{1}");
        assert!(matches!(
            v.authenticate(message.as_bytes(), now).await.unwrap(),
            Step::Done { principal, .. } if principal == Principal::user("svc")
        ));
        for (claims, why) in [
            (
                serde_json::json!({"sub": "s", "exp": 999_999_999, "aud": "floe"}),
                "expired",
            ),
            (
                serde_json::json!({"sub": "s", "exp": 1_000_000_100, "aud": "other"}),
                "audience",
            ),
            (
                serde_json::json!({"sub": "s", "exp": 1_000_000_100, "nbf": 1_000_000_050, "aud": "floe"}),
                "nbf",
            ),
            (
                serde_json::json!({"exp": 1_000_000_100, "aud": "floe"}),
                "sub",
            ),
        ] {
            let err = v.validate(&sign(&claims), now).unwrap_err().to_string();
            assert!(err.contains(why), "{err} should mention {why}");
        }
        // A token whose claims were changed after signing.
        let mut parts: Vec<String> = good.split('.').map(String::from).collect();
        parts[1] = B64URL.encode(r#"{"sub":"admin","exp":1000000100,"aud":"floe"}"#);
        let err = v.validate(&parts.join("."), now).unwrap_err().to_string();
        assert!(err.contains("signature"), "{err}");
        let parse = JwksSource::parse_url;
        assert_eq!(
            parse("file:///etc/jwks.json"),
            Ok(JwksSource::File("/etc/jwks.json".into()))
        );
        assert_eq!(
            parse("https://idp/keys"),
            Ok(JwksSource::Url("https://idp/keys".into()))
        );
        assert!(parse("ftp://idp/keys").is_err());
        assert!(parse("file://").is_err());
        assert!(parse("keys.json").is_err());
        assert!(
            v.authenticate(b"n,,\x01auth=Basic x\x01\x01", now)
                .await
                .is_err()
        );
    }
}
