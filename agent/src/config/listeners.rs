//! Kafka's `listeners` and `advertised.listeners`: `PROTOCOL://host:port`
//! entries separated by commas. The name of a listener is its security
//! protocol (Kafka's `listener.security.protocol.map` is not needed), so an
//! agent has at most one listener of each protocol.

use std::fmt;
use std::net::{SocketAddr, ToSocketAddrs};

/// How a listener secures its connections (Kafka's `security.protocol`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SecurityProtocol {
    /// Neither encryption nor authentication.
    Plaintext,
    /// TLS; the principal is the client certificate's subject under mTLS.
    Ssl,
    /// SASL authentication without encryption.
    SaslPlaintext,
    /// SASL authentication over TLS.
    SaslSsl,
}

impl SecurityProtocol {
    /// Every protocol, in Kafka's spelling.
    pub const ALL: [Self; 4] = [
        Self::Plaintext,
        Self::Ssl,
        Self::SaslPlaintext,
        Self::SaslSsl,
    ];

    /// Kafka's name, which is also the listener's name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Plaintext => "PLAINTEXT",
            Self::Ssl => "SSL",
            Self::SaslPlaintext => "SASL_PLAINTEXT",
            Self::SaslSsl => "SASL_SSL",
        }
    }

    /// Reads Kafka's name (case-insensitive, as Kafka is).
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(name))
    }

    /// Whether connections start with a TLS handshake.
    pub fn tls(self) -> bool {
        matches!(self, Self::Ssl | Self::SaslSsl)
    }

    /// Whether clients must authenticate with SASL before other requests.
    pub fn sasl(self) -> bool {
        matches!(self, Self::SaslPlaintext | Self::SaslSsl)
    }
}

impl fmt::Display for SecurityProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One address the agent binds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Listener {
    /// Its security protocol (and name).
    pub protocol: SecurityProtocol,
    /// Where it binds.
    pub addr: SocketAddr,
}

/// The address clients are told for one listener.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Advertised {
    /// The listener it belongs to.
    pub protocol: SecurityProtocol,
    /// Host clients connect to.
    pub host: String,
    /// Port clients connect to.
    pub port: i32,
}

/// Splits `PROTOCOL://host:port,…` into its entries; each protocol at most
/// once. An empty host (`PLAINTEXT://:9092`) is kept empty.
fn entries(list: &str) -> Result<Vec<(SecurityProtocol, String, u16)>, String> {
    let mut out: Vec<(SecurityProtocol, String, u16)> = Vec::new();
    for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let (name, address) = entry
            .split_once("://")
            .ok_or_else(|| format!("listener {entry:?} is not PROTOCOL://host:port"))?;
        let protocol = SecurityProtocol::parse(name).ok_or_else(|| {
            format!(
                "listener {entry:?}: unknown security protocol {name:?} \
                 (PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL)"
            )
        })?;
        let (host, port) = address
            .rsplit_once(':')
            .ok_or_else(|| format!("listener {entry:?} lacks a port"))?;
        let port = port
            .parse::<u16>()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| format!("listener {entry:?}: bad port {port:?}"))?;
        if out.iter().any(|(p, _, _)| *p == protocol) {
            return Err(format!("listener {protocol} is named twice"));
        }
        out.push((protocol, host.trim_matches(['[', ']']).to_string(), port));
    }
    if out.is_empty() {
        return Err("no listener given".into());
    }
    Ok(out)
}

/// Parses `listeners`. A host name is resolved now; an empty host binds
/// every interface, as in Kafka.
pub fn parse_listeners(list: &str) -> Result<Vec<Listener>, String> {
    entries(list)?
        .into_iter()
        .map(|(protocol, host, port)| {
            let host = if host.is_empty() { "0.0.0.0" } else { &host };
            let addr = (host, port)
                .to_socket_addrs()
                .map_err(|e| format!("listener {protocol}: cannot resolve {host}: {e}"))?
                .next()
                .ok_or_else(|| format!("listener {protocol}: {host} has no address"))?;
            Ok(Listener { protocol, addr })
        })
        .collect()
}

/// Parses `advertised_listeners`; every host must be given.
pub fn parse_advertised(list: &str) -> Result<Vec<Advertised>, String> {
    entries(list)?
        .into_iter()
        .map(|(protocol, host, port)| {
            if host.is_empty() {
                return Err(format!("advertised listener {protocol} lacks a host"));
            }
            Ok(Advertised {
                protocol,
                host,
                port: i32::from(port),
            })
        })
        .collect()
}

/// The advertised listeners as the registry stores them (the form
/// [`parse_advertised`] reads).
pub fn format_advertised(advertised: &[Advertised]) -> String {
    advertised
        .iter()
        .map(|a| {
            if a.host.contains(':') {
                format!("{}://[{}]:{}", a.protocol, a.host, a.port)
            } else {
                format!("{}://{}:{}", a.protocol, a.host, a.port)
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kafkas_listener_form_parses() {
        let l = parse_listeners("PLAINTEXT://127.0.0.1:9092, sasl_ssl://:9093").unwrap();
        assert_eq!(l[0].protocol, SecurityProtocol::Plaintext);
        assert_eq!(l[0].addr, "127.0.0.1:9092".parse().unwrap());
        assert_eq!(l[1].protocol, SecurityProtocol::SaslSsl);
        assert_eq!(l[1].addr, "0.0.0.0:9093".parse().unwrap());
        assert!(l[1].protocol.tls() && l[1].protocol.sasl());
    }

    #[test]
    fn bad_listeners_are_refused_with_the_reason() {
        for (bad, why) in [
            ("", "no listener"),
            ("127.0.0.1:9092", "PROTOCOL://"),
            ("TLS://127.0.0.1:9092", "unknown security protocol"),
            ("SSL://127.0.0.1", "lacks a port"),
            ("SSL://127.0.0.1:0", "bad port"),
            ("SSL://127.0.0.1:1,SSL://127.0.0.1:2", "named twice"),
        ] {
            let err = parse_listeners(bad).unwrap_err();
            assert!(err.contains(why), "{bad:?}: {err}");
        }
        assert!(
            parse_advertised("SSL://:9093")
                .unwrap_err()
                .contains("lacks a host")
        );
    }

    #[test]
    fn advertised_listeners_round_trip() {
        let text = "PLAINTEXT://10.0.0.1:9092,SASL_SSL://[::1]:9093";
        let parsed = parse_advertised(text).unwrap();
        assert_eq!(parsed[1].host, "::1");
        assert_eq!(format_advertised(&parsed), text);
    }
}
