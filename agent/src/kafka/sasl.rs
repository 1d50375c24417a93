//! SaslHandshake and SaslAuthenticate on SASL_PLAINTEXT and SASL_SSL
//! listeners, as Kafka's `SaslServerAuthenticator` serves them: before
//! authentication only ApiVersions, SaslHandshake and SaslAuthenticate are
//! accepted (anything else closes the connection), a failure answers
//! SASL_AUTHENTICATION_FAILED with the mechanism's message and closes, and
//! with `connections_max_reauth_ms` (KIP-368) each authentication lasts a
//! session the client must renew on the same connection, as the same
//! principal, before it ends.
//!
//! SaslHandshake v0 (Kafka's original framing, which Kafka 4.x still
//! serves and old clients still use): after it, the client's SASL tokens
//! come as bare size-prefixed frames, not SaslAuthenticate requests, and
//! each reply goes back the same way ([`raw_token`]); a failure closes the
//! connection without an answer, as Kafka closes it. Once the exchange is
//! done the connection speaks Kafka requests again.

use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::ResponseError;
use kafka_protocol::messages::{
    ApiKey, SaslAuthenticateRequest, SaslAuthenticateResponse, SaslHandshakeRequest,
    SaslHandshakeResponse,
};
use kafka_protocol::protocol::StrBytes;
use tokio::time::Instant;
use tracing::{debug, info, warn};

use super::session::Session;
use crate::context::AgentContext;
use crate::sasl::{Exchange, Mechanism, SaslError, Step};

/// Largest frame read before a connection authenticated (Kafka's
/// `sasl.server.max.receive.size`): a client that has not proven who it is
/// cannot make the agent buffer a large frame.
pub const MAX_PRE_AUTH_FRAME: usize = 512 * 1024;

/// The SASL state of one connection.
#[derive(Debug, Default)]
pub struct SaslState {
    /// The exchange in progress, from SaslHandshake to the last
    /// SaslAuthenticate.
    exchange: Option<(Mechanism, Exchange)>,
    /// Whether the connection authenticated (at least once).
    authenticated: bool,
    /// When the session ends unless the client re-authenticates.
    expires_at: Option<Instant>,
    /// The exchange was opened by SaslHandshake v0: its tokens come as
    /// bare frames.
    raw_tokens: bool,
}

impl SaslState {
    /// Whether the connection authenticated.
    pub fn authenticated(&self) -> bool {
        self.authenticated
    }

    /// Whether the next frame is a bare SASL token (SaslHandshake v0),
    /// not a Kafka request.
    pub fn expects_raw_token(&self) -> bool {
        self.raw_tokens && self.exchange.is_some()
    }
}

/// Why a request may not be served on this connection now, if it may not:
/// the connection then closes, as Kafka closes it.
pub fn refuse(session: &Session, api: ApiKey) -> Option<String> {
    if !session.protocol.sasl()
        || matches!(
            api,
            ApiKey::ApiVersions | ApiKey::SaslHandshake | ApiKey::SaslAuthenticate
        )
    {
        return None;
    }
    if !session.sasl.authenticated {
        return Some(format!(
            "unexpected {api:?} request before SASL authentication"
        ));
    }
    if session
        .sasl
        .expires_at
        .is_some_and(|at| at <= Instant::now())
    {
        return Some("SASL session expired without re-authentication".into());
    }
    None
}

/// Answers SaslHandshake: picks the mechanism of the exchange. At `version`
/// 0 the exchange's tokens then come as bare frames ([`raw_token`]).
pub fn handshake(
    ctx: &AgentContext,
    session: &mut Session,
    req: SaslHandshakeRequest,
    version: i16,
) -> SaslHandshakeResponse {
    let enabled: Vec<Mechanism> = ctx
        .sasl
        .as_ref()
        .map(|a| a.mechanisms().to_vec())
        .unwrap_or_default();
    let resp = SaslHandshakeResponse::default().with_mechanisms(
        enabled
            .iter()
            .map(|m| StrBytes::from_static_str(m.name()))
            .collect(),
    );
    // On a listener without SASL, Kafka answers and keeps the connection.
    if !session.protocol.sasl() {
        return resp.with_error_code(ResponseError::IllegalSaslState.code());
    }
    if session.sasl.exchange.is_some() {
        session.close_after_answer = Some("SaslHandshake in the wrong state");
        return resp.with_error_code(ResponseError::IllegalSaslState.code());
    }
    match Mechanism::parse(req.mechanism.as_str()).filter(|m| enabled.contains(m)) {
        Some(m) => {
            session.sasl.exchange = Some((m, Exchange::Start(m)));
            session.sasl.raw_tokens = version == 0;
            resp
        }
        None => {
            debug!(mechanism = %req.mechanism.as_str(), "unsupported SASL mechanism");
            session.close_after_answer = Some("unsupported SASL mechanism");
            resp.with_error_code(ResponseError::UnsupportedSaslMechanism.code())
        }
    }
}

/// Answers SaslAuthenticate: one step of the exchange.
pub async fn authenticate(
    ctx: &AgentContext,
    session: &mut Session,
    req: SaslAuthenticateRequest,
) -> SaslAuthenticateResponse {
    let resp = SaslAuthenticateResponse::default();
    let (Some(authenticator), Some((mechanism, exchange))) =
        (ctx.sasl.as_ref(), session.sasl.exchange.take())
    else {
        if session.protocol.sasl() {
            session.close_after_answer = Some("SaslAuthenticate without SaslHandshake");
        }
        return resp
            .with_error_code(ResponseError::IllegalSaslState.code())
            .with_error_message(Some(StrBytes::from_static_str(
                "SaslAuthenticate request received before SaslHandshake",
            )));
    };
    match step(
        ctx,
        authenticator,
        session,
        mechanism,
        exchange,
        &req.auth_bytes,
    )
    .await
    {
        Ok((reply, Some(lifetime_ms))) => resp
            .with_auth_bytes(reply.into())
            .with_session_lifetime_ms(lifetime_ms),
        Ok((reply, None)) => resp.with_auth_bytes(reply.into()),
        Err(failure) => {
            session.close_after_answer = Some("SASL authentication failed");
            resp.with_error_code(ResponseError::SaslAuthenticationFailed.code())
                .with_error_message(Some(StrBytes::from_string(failure.to_string())))
        }
    }
}

/// Takes one token of the exchange: the reply, and the session's lifetime
/// in ms once the exchange is done (`None` while it goes on).
async fn step(
    ctx: &AgentContext,
    authenticator: &crate::sasl::Authenticator,
    session: &mut Session,
    mechanism: Mechanism,
    exchange: Exchange,
    token: &[u8],
) -> Result<(Vec<u8>, Option<i64>), SaslError> {
    let outcome = authenticator.step(exchange, token).await;
    let count = |result: &str| {
        ctx.metrics
            .sasl_authentications
            .with_label_values(&[mechanism.name(), result])
            .inc();
    };
    let failure = match outcome {
        Ok(Step::Continue(reply, next)) => {
            session.sasl.exchange = Some((mechanism, next));
            return Ok((reply, None));
        }
        Ok(Step::Done {
            principal,
            reply,
            expires_at_ms,
        }) => {
            if session.sasl.authenticated && &principal != session.principal() {
                SaslError::Failed(format!(
                    "Cannot change principals during re-authentication from {}: {}",
                    session.principal(),
                    principal
                ))
            } else {
                let lifetime_ms = authenticator.session_lifetime_ms(expires_at_ms);
                session.sasl.expires_at = (lifetime_ms > 0)
                    .then(|| Instant::now() + std::time::Duration::from_millis(lifetime_ms as u64));
                if !session.sasl.authenticated {
                    info!(peer = ?session.peer, %principal, mechanism = mechanism.name(), "authenticated");
                }
                session.sasl.authenticated = true;
                session.sasl.raw_tokens = false;
                session.set_principal(principal);
                count("success");
                return Ok((reply, Some(lifetime_ms)));
            }
        }
        Err(e) => e,
    };
    count("failure");
    if let SaslError::Internal(reason) = &failure {
        warn!(peer = ?session.peer, reason, "cannot check SASL credentials");
    } else {
        debug!(peer = ?session.peer, error = %failure, "SASL authentication failed");
    }
    Err(failure)
}

/// Takes a bare SASL token of an exchange opened by SaslHandshake v0 and
/// answers the bare reply, size-prefixed (an empty reply is a frame of size
/// 0, as Kafka sends it). A failure closes the connection unanswered, as
/// Kafka closes it: v0 has no way to say why.
pub async fn raw_token(
    ctx: &AgentContext,
    session: &mut Session,
    token: Bytes,
) -> Result<Bytes, String> {
    let (Some(authenticator), Some((mechanism, exchange))) =
        (ctx.sasl.as_ref(), session.sasl.exchange.take())
    else {
        return Err("a SASL token outside an exchange".into());
    };
    let (reply, _) = step(ctx, authenticator, session, mechanism, exchange, &token)
        .await
        .map_err(|e| e.to_string())?;
    let size = u32::try_from(reply.len()).map_err(|_| "SASL reply too large".to_string())?;
    let mut frame = BytesMut::with_capacity(4 + reply.len());
    frame.put_u32(size);
    frame.put_slice(&reply);
    Ok(frame.freeze())
}
