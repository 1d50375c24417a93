//! TLS for the SSL and SASL_SSL listeners: the server certificate and key
//! (and, for mTLS, the client CA) read from PEM files, and re-read while the
//! agent runs, so certificates are rotated without a restart.
//!
//! Each new connection takes the configuration current at its accept;
//! connections already open keep the one they were made with. A changed
//! file that does not load (half-written, wrong key) keeps the previous
//! configuration and logs an error; the next change is tried again.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use rustls::ServerConfig;
use rustls::server::WebPkiClientVerifier;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tracing::{error, info};

pub mod subject;

/// How often the files' modification times are checked.
pub const RELOAD_CHECK_INTERVAL: Duration = Duration::from_secs(2);

/// Why the TLS files could not be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file could not be read or holds no usable PEM item.
    #[error("{path}: {reason}")]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// rustls refused the certificate, key or CA.
    #[error("tls configuration: {0}")]
    Config(String),
}

/// The PEM files TLS is built from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// Certificate chain, leaf first.
    pub cert: PathBuf,
    /// The leaf's private key.
    pub key: PathBuf,
    /// CAs of client certificates; `None`: clients present none.
    pub client_ca: Option<PathBuf>,
}

impl TlsFiles {
    fn paths(&self) -> impl Iterator<Item = &Path> {
        [Some(&self.cert), Some(&self.key), self.client_ca.as_ref()]
            .into_iter()
            .flatten()
            .map(PathBuf::as_path)
    }

    /// Builds a server configuration from the files as they are now.
    pub fn load(&self) -> Result<Arc<ServerConfig>, TlsError> {
        let file_err = |path: &Path, reason: String| TlsError::File {
            path: path.to_path_buf(),
            reason,
        };
        let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&self.cert)
            .map_err(|e| file_err(&self.cert, e.to_string()))?
            .collect::<Result<_, _>>()
            .map_err(|e| file_err(&self.cert, e.to_string()))?;
        if chain.is_empty() {
            return Err(file_err(&self.cert, "no CERTIFICATE in the file".into()));
        }
        let key = PrivateKeyDer::from_pem_file(&self.key)
            .map_err(|e| file_err(&self.key, e.to_string()))?;
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let builder = ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Config(e.to_string()))?;
        let builder = match &self.client_ca {
            None => builder.with_no_client_auth(),
            Some(ca) => {
                let mut roots = rustls::RootCertStore::empty();
                for cert in
                    CertificateDer::pem_file_iter(ca).map_err(|e| file_err(ca, e.to_string()))?
                {
                    let cert = cert.map_err(|e| file_err(ca, e.to_string()))?;
                    roots
                        .add(cert)
                        .map_err(|e| file_err(ca, format!("not a CA certificate: {e}")))?;
                }
                if roots.is_empty() {
                    return Err(file_err(ca, "no CERTIFICATE in the file".into()));
                }
                let verifier =
                    WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                        .build()
                        .map_err(|e| TlsError::Config(e.to_string()))?;
                builder.with_client_cert_verifier(verifier)
            }
        };
        let mut config = builder
            .with_single_cert(chain, key)
            .map_err(|e| TlsError::Config(format!("certificate and key: {e}")))?;
        // No TLS 1.3 session tickets: they arrive after the handshake,
        // unasked, and kafka-python closes a connection that becomes
        // readable with no request in flight. Kafka clients hold their
        // connections open, so resumption would save little.
        config.send_tls13_tickets = 0;
        Ok(Arc::new(config))
    }

    /// The files' modification times, to notice a change.
    fn stamps(&self) -> Vec<Option<SystemTime>> {
        self.paths()
            .map(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok())
            .collect()
    }
}

/// The TLS configuration in force, replaced when its files change.
#[derive(Debug)]
pub struct Certificates {
    files: TlsFiles,
    current: RwLock<Arc<ServerConfig>>,
    stamps: RwLock<Vec<Option<SystemTime>>>,
}

impl Certificates {
    /// Loads the files; an agent whose TLS files do not load does not start.
    pub fn load(files: TlsFiles) -> Result<Arc<Self>, TlsError> {
        let stamps = files.stamps();
        let current = files.load()?;
        Ok(Arc::new(Self {
            files,
            current: RwLock::new(current),
            stamps: RwLock::new(stamps),
        }))
    }

    /// An acceptor with the configuration in force now.
    pub fn acceptor(&self) -> TlsAcceptor {
        let config = self
            .current
            .read()
            .map(|c| c.clone())
            .unwrap_or_else(|p| p.into_inner().clone());
        TlsAcceptor::from(config)
    }

    /// The server configuration in force now (for the HTTP listener).
    pub fn server_config(&self) -> Arc<ServerConfig> {
        self.current
            .read()
            .map(|c| c.clone())
            .unwrap_or_else(|p| p.into_inner().clone())
    }

    /// Re-reads the files if any changed since the last look. Returns
    /// whether a new configuration is in force.
    pub fn reload_if_changed(&self) -> bool {
        let stamps = self.files.stamps();
        let changed = self.stamps.read().map(|s| *s != stamps).unwrap_or(true);
        if !changed {
            return false;
        }
        if let Ok(mut s) = self.stamps.write() {
            *s = stamps;
        }
        self.reload()
    }

    /// Re-reads the files now; on failure the configuration in force stays.
    pub fn reload(&self) -> bool {
        match self.files.load() {
            Ok(config) => {
                if let Ok(mut c) = self.current.write() {
                    *c = config;
                }
                info!(cert = %self.files.cert.display(), "reloaded TLS certificates");
                true
            }
            Err(e) => {
                error!(error = %e, "cannot reload TLS certificates; keeping the ones in force");
                false
            }
        }
    }

    /// Watches the files until `stop`: every [`RELOAD_CHECK_INTERVAL`] for
    /// a changed modification time, and at once on SIGHUP.
    pub async fn watch(self: Arc<Self>, stop: CancellationToken) {
        use tokio::signal::unix::{SignalKind, signal};
        let mut hup = signal(SignalKind::hangup()).ok();
        let mut tick = tokio::time::interval(RELOAD_CHECK_INTERVAL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let hangup = async {
                match hup.as_mut() {
                    Some(h) => h.recv().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = tick.tick() => {
                    self.reload_if_changed();
                }
                _ = hangup => {
                    info!("SIGHUP: reloading TLS certificates");
                    self.reload();
                }
                () = stop.cancelled() => return,
            }
        }
    }
}
