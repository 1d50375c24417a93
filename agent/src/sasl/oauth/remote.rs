//! A JWKS fetched from an endpoint (Kafka's
//! `sasl.oauthbearer.jwks.endpoint.url`, KIP-768): fetched at start (an
//! agent whose endpoint does not answer a JWKS does not start), again every
//! `refresh` (Kafka's `sasl.oauthbearer.jwks.endpoint.refresh.ms`, one hour
//! by default), and at once when a token names a `kid` no key has, so a key
//! the identity provider rotated in is accepted without waiting.
//!
//! As Kafka's `RefreshingHttpsJwks`: a failed fetch keeps the keys in
//! force; an unknown `kid` makes a fetch at most once a minute for that
//! `kid`, for at most 16 such `kid`s at a time, none longer than 1000
//! characters, so clients sending made-up `kid`s cannot make the agent
//! hammer the endpoint. The body read is bounded ([`MAX_JWKS_BYTES`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, RwLock, Weak};
use std::time::{Duration, Instant};

use super::{Key, MAX_JWKS_BYTES, parse_jwks};

/// How long an unknown `kid` waits before it may cause another fetch
/// (Kafka's `MISSING_KEY_ID_CACHE_IN_FLIGHT_MS`).
const UNKNOWN_KID_INTERVAL: Duration = Duration::from_secs(60);
/// Unknown `kid`s remembered at most (Kafka's
/// `MISSING_KEY_ID_CACHE_MAX_ENTRIES`).
const UNKNOWN_KIDS: usize = 16;
/// Longest `kid` that may cause a fetch (Kafka's
/// `MISSING_KEY_ID_MAX_KEY_LENGTH`).
const MAX_KID_LEN: usize = 1000;
/// How long one fetch may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

/// The keys of a JWKS endpoint.
#[derive(Debug)]
pub struct RemoteJwks {
    url: String,
    client: reqwest::Client,
    keys: RwLock<Arc<Vec<Key>>>,
    /// Unknown `kid`s and when each last caused a fetch.
    unknown: Mutex<HashMap<String, Instant>>,
    /// One fetch at a time: a burst of clients with a new `kid` causes
    /// one fetch, the others wait for it.
    fetching: tokio::sync::Mutex<()>,
}

impl RemoteJwks {
    /// Fetches `url` and starts fetching it again every `refresh` (the
    /// task ends when the keys are dropped).
    pub async fn start(url: String, refresh: Duration) -> Result<Arc<Self>, String> {
        let client = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .build()
            .map_err(|e| format!("JWKS client: {e}"))?;
        let keys = fetch(&client, &url).await?;
        tracing::info!(url = %url, keys = keys.len(), "fetched JWKS");
        let remote = Arc::new(RemoteJwks {
            url,
            client,
            keys: RwLock::new(Arc::new(keys)),
            unknown: Mutex::new(HashMap::new()),
            fetching: tokio::sync::Mutex::new(()),
        });
        tokio::spawn(refresh_every(Arc::downgrade(&remote), refresh));
        Ok(remote)
    }

    /// The keys in force.
    pub fn keys(&self) -> Arc<Vec<Key>> {
        self.keys
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Fetches the JWKS again; a failure keeps the keys in force.
    async fn refresh(&self) {
        let _one = self.fetching.lock().await;
        match fetch(&self.client, &self.url).await {
            Ok(keys) => {
                tracing::info!(url = %self.url, keys = keys.len(), "fetched JWKS");
                *self.keys.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(keys);
            }
            Err(e) => {
                tracing::error!(url = %self.url, error = %e, "cannot fetch the JWKS; keeping the keys in force");
            }
        }
    }

    /// Fetches the JWKS again for a token whose `kid` no key has, unless
    /// that `kid` caused a fetch less than a minute ago (or is too long,
    /// or too many unknown `kid`s are being tracked).
    pub async fn fetch_for_unknown_kid(&self, kid: &str) {
        if kid.len() > MAX_KID_LEN {
            return;
        }
        let now = Instant::now();
        {
            let mut unknown = self.unknown.lock().unwrap_or_else(PoisonError::into_inner);
            unknown.retain(|_, at| now.duration_since(*at) < UNKNOWN_KID_INTERVAL);
            if unknown.contains_key(kid) || unknown.len() >= UNKNOWN_KIDS {
                return;
            }
            unknown.insert(kid.to_string(), now);
        }
        tracing::info!(url = %self.url, kid, "token names an unknown kid; fetching the JWKS");
        self.refresh().await;
    }
}

/// Fetches the JWKS every `refresh` while the keys are in use.
async fn refresh_every(remote: Weak<RemoteJwks>, refresh: Duration) {
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + refresh, refresh);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let Some(remote) = remote.upgrade() else {
            return;
        };
        remote.refresh().await;
    }
}

/// GETs `url` and reads its JWKS, reading at most [`MAX_JWKS_BYTES`].
async fn fetch(client: &reqwest::Client, url: &str) -> Result<Vec<Key>, String> {
    let mut response = client
        .get(url)
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    if !response.status().is_success() {
        return Err(format!("{url}: HTTP {}", response.status()));
    }
    let limit = usize::try_from(MAX_JWKS_BYTES).unwrap_or(usize::MAX);
    if response
        .content_length()
        .is_some_and(|n| n > MAX_JWKS_BYTES)
    {
        return Err(format!("{url}: larger than 1 MiB"));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| format!("{url}: {e}"))? {
        if body.len() + chunk.len() > limit {
            return Err(format!("{url}: larger than 1 MiB"));
        }
        body.extend_from_slice(&chunk);
    }
    parse_jwks(&body).map_err(|e| format!("{url}: {e}"))
}
