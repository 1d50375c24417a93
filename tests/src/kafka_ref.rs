//! Apache Kafka itself, the reference implementation, as a test fixture: one broker in
//! KRaft mode (combined broker and controller) on free ports of 127.0.0.1, its log in
//! a temporary directory.
//!
//! Starting it takes seconds, so a test binary shares one broker between its tests
//! ([`shared`]). A static is never dropped, so the JVM runs under a small shell
//! watchdog that stops it, and removes its directory, as soon as the test process is
//! gone, however it ended.
//!
//! Settings are the quick start's, made fast and matched to Floe's defaults: four
//! partitions per auto-created topic, replication factor 1 for the internal topics, no
//! initial rebalance delay, and auto-creation off (the differential tests compare the
//! errors of unknown topics).

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::{Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::kafka_cli::{self, KafkaTools, tools};
use crate::raw::RawClient;
use crate::{ports, process};

/// How long the broker may take to answer Metadata with itself after the start.
const READY_TIMEOUT: Duration = Duration::from_secs(120);
/// How long a stop may take before the JVM is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(30);
/// The broker's log file inside its directory.
const LOG_FILE: &str = "kafka.log";

/// The watchdog: runs `java "$@"` in the background, stops it on SIGTERM or when the
/// test process (`FLOE_KAFKA_PARENT`) is gone, then removes the broker's directory.
const WATCHDOG: &str = r#"
java "$@" >>"$FLOE_KAFKA_DIR/kafka.log" 2>&1 &
child=$!
trap 'kill "$child" 2>/dev/null' TERM INT
while kill -0 "$FLOE_KAFKA_PARENT" 2>/dev/null && kill -0 "$child" 2>/dev/null; do
    sleep 1 &
    wait $!
done
kill "$child" 2>/dev/null
wait "$child"
rm -rf "$FLOE_KAFKA_DIR"
"#;

/// Options for a [`KafkaBroker`].
#[derive(Debug, Clone, Default)]
pub struct KafkaBrokerBuilder {
    extra: Vec<(String, String)>,
}

impl KafkaBrokerBuilder {
    /// Adds (or overrides) one broker setting of `server.properties`.
    pub fn config(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra.push((key.into(), value.into()));
        self
    }

    /// Formats the log directory and starts the broker on `classpath`; returns once it
    /// answers Metadata with itself.
    pub fn start(self, classpath: &str) -> Result<KafkaBroker> {
        // Kept past this function: from the spawn on, the watchdog removes it.
        let dir = tempfile::Builder::new()
            .prefix("floe-kafka-ref-")
            .tempdir()
            .context("cannot create the broker's temporary directory")?;
        let port = ports::free_port()?;
        let controller_port = ports::free_port()?;
        let properties = dir.path().join("server.properties");
        std::fs::write(
            &properties,
            server_properties(dir.path(), port, controller_port, &self.extra),
        )
        .context("cannot write server.properties")?;

        let tools = KafkaTools::new(classpath);
        let cluster_id = cluster_id();
        let properties_arg = properties.to_string_lossy().into_owned();
        tools
            .run_ok(
                tools::STORAGE,
                &["format", "-t", &cluster_id, "-c", &properties_arg],
                b"",
            )
            .context("cannot format the broker's log directory")?;

        let mut java_args = kafka_cli::java_args(classpath, "512m");
        java_args.extend([
            "-Xms512m".to_string(),
            tools::SERVER.to_string(),
            properties_arg,
        ]);
        let child = std::process::Command::new("sh")
            .arg("-c")
            .arg(WATCHDOG)
            .arg("sh")
            .args(&java_args)
            .env("FLOE_KAFKA_DIR", dir.path())
            .env("FLOE_KAFKA_PARENT", std::process::id().to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("cannot start the Kafka broker")?;
        let dir = dir.keep();
        let broker = KafkaBroker {
            dir,
            port,
            cluster_id,
            child: Mutex::new(Some(child)),
        };
        broker.wait_ready()?;
        Ok(broker)
    }
}

/// A running Apache Kafka broker. Dropping it stops the JVM and removes its directory.
#[derive(Debug)]
pub struct KafkaBroker {
    dir: PathBuf,
    port: u16,
    cluster_id: String,
    child: Mutex<Option<Child>>,
}

impl KafkaBroker {
    /// Options for a new broker.
    pub fn builder() -> KafkaBrokerBuilder {
        KafkaBrokerBuilder::default()
    }

    /// The client address, `127.0.0.1:PORT`.
    pub fn bootstrap(&self) -> String {
        self.addr().to_string()
    }

    /// The client listener's address.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// The cluster id its log directory was formatted with.
    pub fn cluster_id(&self) -> &str {
        &self.cluster_id
    }

    /// The broker's directory (log dirs, config, log file).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Everything the broker logged so far (WARN and above).
    pub fn log(&self) -> String {
        std::fs::read(self.dir.join(LOG_FILE))
            .map(|data| String::from_utf8_lossy(&data).into_owned())
            .unwrap_or_else(|e| format!("<cannot read the Kafka log: {e}>"))
    }

    /// Waits until Metadata lists this broker (it is unfenced and takes requests).
    fn wait_ready(&self) -> Result<()> {
        let deadline = Instant::now() + READY_TIMEOUT;
        let mut last_error = String::from("never tried");
        while Instant::now() < deadline {
            if let Some(status) = self.try_wait()? {
                bail!(
                    "the Kafka broker exited early ({status}):\n{}",
                    process::tail(&self.log(), 8000)
                );
            }
            match RawClient::connect(self.addr()).and_then(|mut c| c.metadata(None, false)) {
                Ok(metadata) if !metadata.brokers.is_empty() => break,
                Ok(_) => last_error = "Metadata lists no broker yet".to_string(),
                Err(error) => last_error = format!("{error:#}"),
            }
            thread::sleep(Duration::from_millis(250));
        }
        // The group coordinator: Kafka creates `__consumer_offsets` on the first
        // FindCoordinator and answers COORDINATOR_NOT_AVAILABLE, then
        // COORDINATOR_LOAD_IN_PROGRESS or NOT_COORDINATOR, until it is loaded. Tests
        // want a broker whose groups work at once, as Floe's do.
        while Instant::now() < deadline {
            match self.probe_group_coordinator() {
                Ok(()) => return Ok(()),
                Err(error) => last_error = format!("{error:#}"),
            }
            thread::sleep(Duration::from_millis(250));
        }
        bail!(
            "the Kafka broker was not ready within {READY_TIMEOUT:?} ({last_error}):\n{}",
            process::tail(&self.log(), 8000)
        )
    }

    /// FindCoordinator and an OffsetFetch of a group answer without error.
    fn probe_group_coordinator(&self) -> Result<()> {
        let group = "floe-tests-warm-up";
        crate::groups::coordinator(self.addr(), group)?;
        let mut client = crate::groups::RawGroupClient::connect(self.addr(), group)?;
        let (code, _, _) = client.fetch_offset(group, 0)?;
        // No such topic is fine: the coordinator answered.
        if code != 0 && code != 3 {
            bail!("OffsetFetch answered error {code}");
        }
        Ok(())
    }

    /// The watchdog's exit status if it has exited.
    fn try_wait(&self) -> Result<Option<std::process::ExitStatus>> {
        let mut guard = self
            .child
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match guard.as_mut() {
            Some(child) => child.try_wait().context("cannot wait for the watchdog"),
            None => bail!("the broker was stopped"),
        }
    }

    /// Stops the broker (SIGTERM to the watchdog, which stops the JVM and removes the
    /// directory) and waits for it; kills it after the stop timeout.
    pub fn stop(&self) -> Result<()> {
        let mut guard = self
            .child
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let Some(mut child) = guard.take() else {
            return Ok(());
        };
        let pid = Pid::from_raw(i32::try_from(child.id()).context("pid out of range")?);
        // The watchdog may have exited already; then there is nothing to signal.
        let _ = kill(pid, Signal::SIGTERM);
        let deadline = Instant::now() + STOP_TIMEOUT;
        loop {
            if child
                .try_wait()
                .context("cannot wait for the watchdog")?
                .is_some()
            {
                return Ok(());
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                let _ = std::fs::remove_dir_all(&self.dir);
                bail!("the Kafka broker did not stop within {STOP_TIMEOUT:?}; killed");
            }
            thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for KafkaBroker {
    fn drop(&mut self) {
        if thread::panicking() {
            eprintln!(
                "--- Apache Kafka log ({}) ---\n{}",
                self.dir.display(),
                process::tail(&self.log(), 8000)
            );
        }
        if let Err(error) = self.stop() {
            eprintln!("{error:#}");
        }
    }
}

/// The broker shared by the tests of this test binary, started by the first caller;
/// `None` (after printing why `test` is skipped) without `FLOE_KAFKA_CLASSPATH`.
///
/// Panics if the broker cannot start: with the classpath set, Kafka must run.
pub fn shared(test: &str) -> Option<&'static KafkaBroker> {
    static SHARED: OnceLock<std::result::Result<KafkaBroker, String>> = OnceLock::new();
    let classpath = kafka_cli::classpath_or_skip(test)?;
    let broker = SHARED.get_or_init(|| {
        KafkaBroker::builder()
            .start(&classpath)
            .map_err(|error| format!("{error:#}"))
    });
    match broker {
        Ok(broker) => Some(broker),
        Err(error) => panic!("cannot start Apache Kafka: {error}"),
    }
}

/// `server.properties` for a single combined node.
fn server_properties(
    dir: &Path,
    port: u16,
    controller_port: u16,
    extra: &[(String, String)],
) -> String {
    let log_dir = dir.join("data");
    let mut settings: Vec<(String, String)> = [
        ("process.roles", "broker,controller".to_string()),
        ("node.id", "1".to_string()),
        (
            "controller.quorum.voters",
            format!("1@127.0.0.1:{controller_port}"),
        ),
        (
            "listeners",
            format!("PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}"),
        ),
        (
            "advertised.listeners",
            format!("PLAINTEXT://127.0.0.1:{port}"),
        ),
        ("controller.listener.names", "CONTROLLER".to_string()),
        ("inter.broker.listener.name", "PLAINTEXT".to_string()),
        (
            "listener.security.protocol.map",
            "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT".to_string(),
        ),
        ("log.dirs", log_dir.to_string_lossy().into_owned()),
        ("num.partitions", "4".to_string()),
        ("auto.create.topics.enable", "false".to_string()),
        ("offsets.topic.replication.factor", "1".to_string()),
        ("offsets.topic.num.partitions", "4".to_string()),
        ("transaction.state.log.replication.factor", "1".to_string()),
        ("transaction.state.log.min.isr", "1".to_string()),
        ("transaction.state.log.num.partitions", "4".to_string()),
        (
            "share.coordinator.state.topic.replication.factor",
            "1".to_string(),
        ),
        ("share.coordinator.state.topic.min.isr", "1".to_string()),
        ("group.initial.rebalance.delay.ms", "0".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    for (key, value) in extra {
        settings.retain(|(k, _)| k != key);
        settings.push((key.clone(), value.clone()));
    }
    let mut text = String::new();
    for (key, value) in settings {
        let _ = writeln!(text, "{key}={value}");
    }
    text
}

/// A random cluster id as Kafka writes them: 16 random bytes in URL-safe base64
/// without padding (22 characters).
fn cluster_id() -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let bytes = uuid::Uuid::new_v4().into_bytes();
    let mut bits: u32 = 0;
    let mut count = 0;
    let mut out = String::with_capacity(22);
    for byte in bytes {
        bits = (bits << 8) | u32::from(byte);
        count += 8;
        while count >= 6 {
            count -= 6;
            out.push(char::from(ALPHABET[((bits >> count) & 63) as usize]));
        }
    }
    if count > 0 {
        out.push(char::from(ALPHABET[((bits << (6 - count)) & 63) as usize]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_ids_are_22_url_safe_characters() {
        let id = cluster_id();
        assert_eq!(id.len(), 22, "{id}");
        assert!(
            id.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "{id}"
        );
        assert_ne!(id, cluster_id());
    }

    #[test]
    fn extra_settings_override_the_defaults() {
        let text = server_properties(
            Path::new("/x"),
            1,
            2,
            &[("num.partitions".into(), "1".into())],
        );
        assert!(text.contains("num.partitions=1\n"), "{text}");
        assert!(!text.contains("\nnum.partitions=4\n"), "{text}");
        assert!(text.contains("log.dirs=/x/data\n"), "{text}");
    }
}
