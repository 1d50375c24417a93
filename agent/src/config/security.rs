//! The listeners and TLS settings of [`Config`], read and checked at start
//! so a misconfigured agent refuses to start with a clear message rather
//! than failing its clients.

use std::net::SocketAddr;

use super::Config;
use super::listeners::{self, Advertised, Listener, SecurityProtocol};
use crate::error::{AgentError, Result};
use crate::sasl::Mechanism;
use crate::sasl::oauth::{JwksSource, OAuthSettings};
use crate::tls::TlsFiles;

impl Config {
    /// The Kafka listeners to bind: `listeners`, or one PLAINTEXT listener
    /// on `kafka_listen`.
    pub fn kafka_listeners(&self) -> Result<Vec<Listener>> {
        match &self.listeners {
            Some(list) => listeners::parse_listeners(list).map_err(AgentError::Config),
            None => Ok(vec![Listener {
                protocol: SecurityProtocol::Plaintext,
                addr: self.kafka_listen,
            }]),
        }
    }

    /// What clients are told for each listener, in the order of
    /// [`Config::kafka_listeners`]: `advertised_listeners` where it names
    /// the listener, else the bound address (`advertised_addr` in the short
    /// form).
    pub fn advertised_listeners(&self) -> Result<Vec<Advertised>> {
        let bound = self.kafka_listeners()?;
        let given = match &self.advertised_listeners {
            Some(list) => listeners::parse_advertised(list).map_err(AgentError::Config)?,
            None => Vec::new(),
        };
        if let Some(extra) = given
            .iter()
            .find(|a| !bound.iter().any(|l| l.protocol == a.protocol))
        {
            return Err(AgentError::Config(format!(
                "advertised listener {} has no listener of that name in listeners",
                extra.protocol
            )));
        }
        let short = self
            .listeners
            .is_none()
            .then(|| self.advertised())
            .transpose()?;
        Ok(bound
            .iter()
            .map(|l| {
                if let Some(a) = given.iter().find(|a| a.protocol == l.protocol) {
                    return a.clone();
                }
                if let Some((host, port)) = &short {
                    return Advertised {
                        protocol: l.protocol,
                        host: host.clone(),
                        port: *port,
                    };
                }
                Advertised {
                    protocol: l.protocol,
                    host: l.addr.ip().to_string(),
                    port: i32::from(l.addr.port()),
                }
            })
            .collect())
    }

    /// Checks the listeners against the TLS settings.
    pub(super) fn validate_security(&self) -> Result<()> {
        let fail = |m: String| Err(AgentError::Config(m));
        if self.listeners.is_some()
            && (self.kafka_listen != Config::default().kafka_listen
                || self.advertised_addr.is_some())
        {
            return fail(
                "listeners replaces kafka_listen and advertised_addr: set one form, not both"
                    .into(),
            );
        }
        if self.advertised_listeners.is_some() && self.listeners.is_none() {
            return fail("advertised_listeners needs listeners".into());
        }
        let bound = self.kafka_listeners()?;
        self.advertised_listeners()?;
        for (i, a) in bound.iter().enumerate() {
            if bound[..i].iter().any(|b| b.addr == a.addr) {
                return fail(format!("two listeners bind {}", a.addr));
            }
            if a.addr == self.http_listen {
                return fail(format!(
                    "listener {} binds the HTTP address {}",
                    a.protocol, a.addr
                ));
            }
        }
        let has_pair = self.tls_cert.is_some() && self.tls_key.is_some();
        if self.tls_cert.is_some() != self.tls_key.is_some() {
            return fail("tls_cert and tls_key go together".into());
        }
        if let Some(l) = bound.iter().find(|l| l.protocol.tls())
            && !has_pair
        {
            return fail(format!(
                "listener {} ({}) needs tls_cert and tls_key",
                l.protocol, l.addr
            ));
        }
        if self.http_tls && !has_pair {
            return fail("http_tls needs tls_cert and tls_key".into());
        }
        if self.tls_client_ca.is_some() && !has_pair {
            return fail("tls_client_ca needs tls_cert and tls_key".into());
        }
        let mechanisms = self.sasl_mechanisms()?;
        if self.oauth_jwks_file.is_some() && self.oauth_jwks_url.is_some() {
            return fail("set oauth_jwks_file or oauth_jwks_url, not both".into());
        }
        if let Some(url) = &self.oauth_jwks_url {
            JwksSource::parse_url(url)
                .map_err(|e| AgentError::Config(format!("oauth_jwks_url: {e}")))?;
        }
        if self.oauth_jwks_refresh_ms == 0 {
            return fail("oauth_jwks_refresh_ms must be above 0".into());
        }
        if bound.iter().any(|l| l.protocol.sasl())
            && mechanisms.contains(&Mechanism::OAuthBearer)
            && self.oauth_jwks_file.is_none()
            && self.oauth_jwks_url.is_none()
        {
            return fail(
                "sasl_mechanisms has OAUTHBEARER: set oauth_jwks_file or oauth_jwks_url".into(),
            );
        }
        if i64::try_from(self.connections_max_reauth_ms).is_err() {
            return fail("connections_max_reauth_ms is too large".into());
        }
        Ok(())
    }

    /// The enabled SASL mechanisms.
    pub fn sasl_mechanisms(&self) -> Result<Vec<Mechanism>> {
        Mechanism::parse_list(&self.sasl_mechanisms)
            .map_err(|e| AgentError::Config(format!("sasl_mechanisms: {e}")))
    }

    /// What OAUTHBEARER tokens are checked against, when configured.
    pub fn oauth_settings(&self) -> Option<OAuthSettings> {
        let jwks = match (&self.oauth_jwks_file, &self.oauth_jwks_url) {
            (Some(file), _) => JwksSource::File(file.clone()),
            (None, Some(url)) => JwksSource::parse_url(url).ok()?,
            (None, None) => return None,
        };
        Some(OAuthSettings {
            jwks,
            jwks_refresh: std::time::Duration::from_millis(self.oauth_jwks_refresh_ms),
            expected_audience: self.oauth_expected_audience.clone(),
            expected_issuer: self.oauth_expected_issuer.clone(),
        })
    }

    /// The TLS files, when a certificate and key are configured.
    pub fn tls_files(&self) -> Option<TlsFiles> {
        Some(TlsFiles {
            cert: self.tls_cert.clone()?,
            key: self.tls_key.clone()?,
            client_ca: self.tls_client_ca.clone(),
        })
    }

    /// Listeners any host can reach that neither encrypt nor
    /// authenticate: the agent warns about each at start.
    pub fn exposed_plaintext_listeners(&self) -> Vec<SocketAddr> {
        self.kafka_listeners()
            .unwrap_or_default()
            .into_iter()
            .filter(|l| l.protocol == SecurityProtocol::Plaintext && !l.addr.ip().is_loopback())
            .map(|l| l.addr)
            .collect()
    }

    /// The authorizer's settings, or `None` when no authorizer is
    /// configured; refuses an unknown authorizer, a malformed super user,
    /// and authorizer settings without an authorizer.
    pub fn authorizer_settings(&self) -> Result<Option<crate::authz::AuthorizerSettings>> {
        use crate::authz::settings::{ACL, parse_super_users};
        let super_users = match &self.super_users {
            Some(list) => parse_super_users(list)
                .map_err(|e| AgentError::Config(format!("super_users: {e}")))?,
            None => Vec::new(),
        };
        match self.authorizer.as_deref() {
            None | Some("") => {
                if !super_users.is_empty() || self.allow_everyone_if_no_acl_found {
                    return Err(AgentError::Config(
                        "super_users and allow_everyone_if_no_acl_found need authorizer = \"acl\""
                            .into(),
                    ));
                }
                Ok(None)
            }
            Some(ACL) => Ok(Some(crate::authz::AuthorizerSettings {
                super_users,
                allow_everyone_if_no_acl_found: self.allow_everyone_if_no_acl_found,
            })),
            Some(other) => Err(AgentError::Config(format!(
                "authorizer must be \"acl\" or unset, not {other:?}"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(listeners: &str, advertised: Option<&str>) -> Config {
        Config {
            listeners: Some(listeners.into()),
            advertised_listeners: advertised.map(Into::into),
            tls_cert: Some("c.pem".into()),
            tls_key: Some("k.pem".into()),
            ..Config::default()
        }
    }

    #[test]
    fn the_short_form_is_one_plaintext_listener() {
        let c = Config {
            advertised_addr: Some("10.0.0.1:19092".into()),
            ..Config::default()
        };
        let l = c.kafka_listeners().unwrap();
        assert_eq!(l.len(), 1);
        assert_eq!(l[0].protocol, SecurityProtocol::Plaintext);
        assert_eq!(l[0].addr, c.kafka_listen);
        let a = c.advertised_listeners().unwrap();
        assert_eq!((a[0].host.as_str(), a[0].port), ("10.0.0.1", 19092));
        assert!(c.validate().is_ok());
    }

    #[test]
    fn advertised_listeners_fill_in_from_the_bound_addresses() {
        let c = config(
            "PLAINTEXT://127.0.0.1:9092,SASL_SSL://0.0.0.0:9093",
            Some("SASL_SSL://broker.example.com:443"),
        );
        c.validate().unwrap();
        let a = c.advertised_listeners().unwrap();
        assert_eq!((a[0].host.as_str(), a[0].port), ("127.0.0.1", 9092));
        assert_eq!((a[1].host.as_str(), a[1].port), ("broker.example.com", 443));
        assert_eq!(c.exposed_plaintext_listeners(), Vec::<SocketAddr>::new());
        let open = config("PLAINTEXT://0.0.0.0:9092", None);
        assert_eq!(open.exposed_plaintext_listeners().len(), 1);
    }

    #[test]
    fn inconsistent_security_settings_are_refused() {
        let cases: Vec<(Config, &str)> = vec![
            (
                Config {
                    tls_cert: None,
                    tls_key: None,
                    ..config("SSL://127.0.0.1:9093", None)
                },
                "needs tls_cert and tls_key",
            ),
            (
                Config {
                    tls_key: None,
                    ..config("PLAINTEXT://127.0.0.1:9093", None)
                },
                "go together",
            ),
            (
                Config {
                    kafka_listen: "127.0.0.1:1".parse().unwrap(),
                    ..config("PLAINTEXT://127.0.0.1:9093", None)
                },
                "not both",
            ),
            (
                config("PLAINTEXT://127.0.0.1:9093", Some("SSL://h:1")),
                "no listener of that name",
            ),
            (
                config("PLAINTEXT://127.0.0.1:9093,SSL://127.0.0.1:9093", None),
                "two listeners bind",
            ),
            (
                Config {
                    advertised_listeners: Some("PLAINTEXT://h:1".into()),
                    ..Config::default()
                },
                "needs listeners",
            ),
        ];
        for (c, why) in cases {
            let err = c.validate().unwrap_err().to_string();
            assert!(err.contains(why), "{err} should say {why}");
        }
    }

    #[test]
    fn authorizer_settings_are_checked() {
        let none = Config::default();
        assert!(none.authorizer_settings().expect("valid").is_none());
        let acl = Config {
            authorizer: Some("acl".into()),
            super_users: Some("User:admin; User:CN=ops,O=Acme".into()),
            ..Config::default()
        };
        let settings = acl.authorizer_settings().expect("valid").expect("enabled");
        assert_eq!(settings.super_users.len(), 2);
        assert_eq!(settings.super_users[1].name, "CN=ops,O=Acme");
        assert!(!settings.allow_everyone_if_no_acl_found);
        let refused = [
            Config {
                authorizer: Some("kafka.security.authorizer.AclAuthorizer".into()),
                ..Config::default()
            },
            Config {
                authorizer: Some("acl".into()),
                super_users: Some("admin".into()),
                ..Config::default()
            },
            Config {
                super_users: Some("User:admin".into()),
                ..Config::default()
            },
            Config {
                allow_everyone_if_no_acl_found: true,
                ..Config::default()
            },
        ];
        for config in refused {
            assert!(config.validate().is_err(), "{config:?}");
        }
    }
}
