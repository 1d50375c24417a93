//! Certificates made by a test with the `openssl` command: a throwaway CA,
//! server certificates for 127.0.0.1, and client certificates for mTLS.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result};
use tempfile::TempDir;

use crate::process;

/// A CA in its own temporary folder; what it issues lands there too.
#[derive(Debug)]
pub struct TestCa {
    dir: TempDir,
    serial: u32,
}

/// A certificate and its key, as PEM files.
#[derive(Debug, Clone)]
pub struct Issued {
    /// The certificate.
    pub cert: PathBuf,
    /// Its private key (PKCS#8).
    pub key: PathBuf,
}

fn openssl(args: &[&str], cwd: &Path) -> Result<()> {
    let mut cmd = Command::new("openssl");
    cmd.args(args).current_dir(cwd);
    process::run(cmd, b"", Duration::from_secs(60))
        .with_context(|| format!("openssl {}", args.join(" ")))?
        .ensure_success()?;
    Ok(())
}

impl TestCa {
    /// A new self-signed CA named `CN=floe-test-ca`.
    pub fn new() -> Result<Self> {
        let dir = tempfile::Builder::new().prefix("floe-ca-").tempdir()?;
        openssl(
            &[
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-days",
                "3",
                "-subj",
                "/CN=floe-test-ca",
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
            ],
            dir.path(),
        )?;
        Ok(Self { dir, serial: 1 })
    }

    /// The CA certificate (what clients trust, and `--tls-client-ca`).
    pub fn ca_pem(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// Issues a certificate with `subject` (`/CN=…/OU=…`), for 127.0.0.1
    /// and localhost, usable by servers and clients, under `name`.pem.
    pub fn issue(&mut self, name: &str, subject: &str) -> Result<Issued> {
        let dir = self.dir.path();
        let key = format!("{name}.key");
        let csr = format!("{name}.csr");
        let cert = format!("{name}.pem");
        let ext = format!("{name}.ext");
        std::fs::write(
            dir.join(&ext),
            "subjectAltName=IP:127.0.0.1,DNS:localhost\n\
             extendedKeyUsage=serverAuth,clientAuth\n\
             basicConstraints=CA:FALSE\n",
        )?;
        openssl(
            &[
                "req",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-subj",
                subject,
                "-keyout",
                &key,
                "-out",
                &csr,
            ],
            dir,
        )?;
        self.serial += 1;
        let serial = format!("{}", self.serial);
        openssl(
            &[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-set_serial",
                &serial,
                "-days",
                "2",
                "-extfile",
                &ext,
                "-out",
                &cert,
            ],
            dir,
        )?;
        Ok(Issued {
            cert: dir.join(cert),
            key: dir.join(key),
        })
    }

    /// The folder holding the CA's files.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}
