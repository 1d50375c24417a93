//! What one connection knows about its client, handed to every request
//! handler: the peer address, the listener it came in on, and the
//! authenticated principal. Requests are admitted in connection order, so
//! admission reads and (for SASL) changes the session without locks; a
//! completion that needs the principal later clones it at admission.

use std::net::SocketAddr;

use super::principal::Principal;

/// Per-connection request context.
#[derive(Debug, Clone)]
pub struct Session {
    /// The client's address, if the socket still knew it.
    pub peer: Option<SocketAddr>,
    /// The name of the listener the client connected to (`PLAINTEXT`,
    /// `SASL_SSL`, …); Metadata answers that listener's advertised addresses.
    pub listener: String,
    principal: Principal,
}

impl Session {
    /// A fresh connection on `listener`: anonymous until it authenticates
    /// (or `principal` when the TLS handshake already named the client).
    pub fn new(
        peer: Option<SocketAddr>,
        listener: impl Into<String>,
        principal: Principal,
    ) -> Self {
        Self {
            peer,
            listener: listener.into(),
            principal,
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

    /// The peer as Kafka shows client hosts (`/127.0.0.1`).
    pub fn host(&self) -> String {
        self.peer
            .map(|p| format!("/{}", p.ip()))
            .unwrap_or_default()
    }
}
