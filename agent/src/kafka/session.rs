//! What one connection knows about its client, handed to every request
//! handler: the peer address, the listener it came in on, and the
//! authenticated principal. Requests are admitted in connection order, so
//! admission reads and (for SASL) changes the session without locks; a
//! completion that needs the principal later clones it at admission.

use std::net::SocketAddr;

use super::principal::Principal;
use super::sasl::SaslState;
use crate::config::listeners::SecurityProtocol;

/// Per-connection request context.
#[derive(Debug)]
pub struct Session {
    /// The client's address, if the socket still knew it.
    pub peer: Option<SocketAddr>,
    /// The name of the listener the client connected to (`PLAINTEXT`,
    /// `SASL_SSL`, …); Metadata answers that listener's advertised addresses.
    pub listener: &'static str,
    /// The listener's security protocol.
    pub protocol: SecurityProtocol,
    principal: Principal,
    /// Where SASL authentication stands (SASL listeners only).
    pub sasl: SaslState,
    /// Set by a handler when the connection must close once the answer to
    /// this request is written (a failed authentication), with the reason.
    pub close_after_answer: Option<&'static str>,
}

impl Session {
    /// A fresh connection on `listener`: anonymous until it authenticates
    /// (or `principal` when the TLS handshake already named the client).
    pub fn new(peer: Option<SocketAddr>, protocol: SecurityProtocol, principal: Principal) -> Self {
        Self {
            peer,
            listener: protocol.name(),
            protocol,
            principal,
            sasl: SaslState::default(),
            close_after_answer: None,
        }
    }

    /// Who this connection speaks for.
    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    /// Records a successful authentication.
    pub fn set_principal(&mut self, principal: Principal) {
        self.principal = principal;
    }

    /// Largest request frame read now: Kafka's pre-authentication bound
    /// until a SASL connection authenticated.
    pub fn max_frame_bytes(&self, configured: usize) -> usize {
        if self.protocol.sasl() && !self.sasl.authenticated() {
            configured.min(super::sasl::MAX_PRE_AUTH_FRAME)
        } else {
            configured
        }
    }

    /// The peer as Kafka shows client hosts (`/127.0.0.1`).
    pub fn host(&self) -> String {
        self.peer
            .map(|p| format!("/{}", p.ip()))
            .unwrap_or_default()
    }
}
