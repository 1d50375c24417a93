//! A throwaway S3-compatible server for tests: moto's server (`moto_server` from the
//! `moto[server]` Python package), in memory, on a free port of 127.0.0.1.
//!
//! `moto_server` is taken from the same venv as the Python drivers: the folder of
//! `FLOE_TEST_PYTHON` if that is set, else `<repo>/.venv/bin` (both set up by
//! `scripts/test.sh`). moto accepts unsigned requests, so the harness creates buckets
//! and lists keys with plain HTTP; agents talk to it with any credentials.
//!
//! The server runs under a small `sh` watchdog that holds the read end of a pipe: when
//! the [`TestS3`] is dropped, or the test process dies without dropping it, the pipe
//! closes and the watchdog kills the server and removes its directory.

use std::fs::File;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use tempfile::TempDir;

use crate::{binary, ports, process};

/// The access key agents are given (moto accepts any).
pub const ACCESS_KEY: &str = "floe-test-access-key";
/// The secret key agents are given (moto accepts any).
pub const SECRET_KEY: &str = "floe-test-secret-key";
/// The region agents are given.
pub const REGION: &str = "us-east-1";
/// The bucket [`TestS3::start`] creates.
pub const DEFAULT_BUCKET: &str = "floe-test";

/// How long moto may take to answer after its start (Python imports are slow under a
/// parallel build).
const READY_TIMEOUT: Duration = Duration::from_secs(60);
/// Tries at starting the server, each on a new port.
const START_ATTEMPTS: usize = 3;
/// How long one harness request to the server may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// The server's log file inside its directory.
const LOG_FILE: &str = "moto.log";

/// Finds `moto_server` next to the test venv's Python, or fails saying how to install
/// it.
pub fn moto_server() -> Result<PathBuf> {
    let bin_dir = match std::env::var_os("FLOE_TEST_PYTHON") {
        Some(python) => Path::new(&python)
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default(),
        None => binary::repo_root().join(".venv/bin"),
    };
    let path = bin_dir.join("moto_server");
    if !path.is_file() {
        bail!(
            "no S3 test server: {} is missing. Run scripts/test.sh (it installs \
             `moto[server]` into the test venv), or `{}/pip install \"moto[server]\"`",
            path.display(),
            bin_dir.display()
        );
    }
    Ok(path)
}

/// A moto S3 server owned by a test; stopped on drop.
#[derive(Debug)]
pub struct TestS3 {
    port: u16,
    bucket: String,
    /// The watchdog `sh` running the server; closing its stdin stops both.
    watchdog: Option<(Child, ChildStdin)>,
    /// Holds the server's log.
    dir: TempDir,
}

impl TestS3 {
    /// Starts a server on a free port and creates [`DEFAULT_BUCKET`] in it.
    pub fn start() -> Result<TestS3> {
        Self::start_with_bucket(DEFAULT_BUCKET)
    }

    /// Starts a server on a free port and creates `bucket` in it.
    pub fn start_with_bucket(bucket: &str) -> Result<TestS3> {
        let program = moto_server()?;
        let mut last_error = None;
        for _ in 0..START_ATTEMPTS {
            let dir = tempfile::Builder::new()
                .prefix("floe-s3-")
                .tempdir()
                .context("cannot create a temporary directory for the S3 server")?;
            let mut server = TestS3 {
                port: ports::free_port()?,
                bucket: bucket.to_string(),
                watchdog: None,
                dir,
            };
            match server.spawn(&program).and_then(|()| server.wait_ready()) {
                Ok(()) => {
                    server.create_bucket(bucket)?;
                    return Ok(server);
                }
                Err(error) => {
                    server.shut_down();
                    last_error = Some(error);
                }
            }
        }
        Err(last_error.unwrap_or_else(|| anyhow::anyhow!("the S3 server did not start")))
    }

    /// The endpoint URL, `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr())
    }

    /// The server's address.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// The bucket created at start.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The object store URL of `prefix` in the bucket, as `--object-store` wants it:
    /// `s3://BUCKET/PREFIX`.
    pub fn url(&self, prefix: &str) -> String {
        format!("s3://{}/{}", self.bucket, prefix.trim_matches('/'))
    }

    /// The environment an agent needs to reach the server.
    pub fn env(&self) -> Vec<(String, String)> {
        [
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY.to_string()),
            ("AWS_SECRET_ACCESS_KEY", SECRET_KEY.to_string()),
            ("AWS_REGION", REGION.to_string()),
            ("AWS_ENDPOINT_URL", self.endpoint()),
            ("AWS_ALLOW_HTTP", "true".to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    /// Creates a bucket (an unsigned `PUT /BUCKET`, which moto accepts).
    pub fn create_bucket(&self, bucket: &str) -> Result<()> {
        let (status, body) = self.request("PUT", &format!("/{bucket}"))?;
        if status != 200 {
            bail!("PUT /{bucket} answered {status}: {body}");
        }
        Ok(())
    }

    /// Every key in the bucket that starts with `prefix`, in the order S3 lists them
    /// (an unsigned ListObjectsV2, following continuation tokens).
    pub fn list_keys(&self, prefix: &str) -> Result<Vec<String>> {
        let mut keys = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut path = format!(
                "/{}?list-type=2&max-keys=1000&prefix={}",
                self.bucket,
                url_encode(prefix)
            );
            if let Some(token) = &token {
                path.push_str(&format!("&continuation-token={}", url_encode(token)));
            }
            let (status, body) = self.request("GET", &path)?;
            if status != 200 {
                bail!("GET {path} answered {status}: {body}");
            }
            keys.extend(xml_values(&body, "Key"));
            let truncated =
                xml_values(&body, "IsTruncated").first().map(String::as_str) == Some("true");
            token = xml_values(&body, "NextContinuationToken")
                .into_iter()
                .next();
            if !truncated || token.is_none() {
                return Ok(keys);
            }
        }
    }

    /// The server's log so far, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read(self.log_path())
            .map(|data| String::from_utf8_lossy(&data).into_owned())
            .unwrap_or_else(|e| format!("<cannot read the S3 server log: {e}>"))
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join(LOG_FILE)
    }

    /// Starts the watchdog, which starts the server with its output in the log.
    fn spawn(&mut self, program: &Path) -> Result<()> {
        // The server gets /dev/null as stdin; the watchdog waits on the pipe, then
        // kills the server, waits for it and removes the directory.
        let script = r#""$0" -H 127.0.0.1 -p "$1" >"$2/$3" 2>&1 </dev/null &
pid=$!
read -r _
kill "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
rm -rf "$2"
exit 0"#;
        File::create(self.log_path()).context("cannot create the S3 server log")?;
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(script)
            .arg(program)
            .arg(self.port.to_string())
            .arg(self.dir.path())
            .arg(LOG_FILE)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("cannot start {}", program.display()))?;
        let stdin = child.stdin.take().context("no watchdog stdin")?;
        self.watchdog = Some((child, stdin));
        Ok(())
    }

    /// Waits until the server answers `GET /` (ListBuckets) with 200.
    fn wait_ready(&mut self) -> Result<()> {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            let last = match self.request("GET", "/") {
                Ok((200, _)) => return Ok(()),
                Ok((status, body)) => format!("GET / answered {status}: {body}"),
                Err(error) => format!("{error:#}"),
            };
            let log = self.log();
            let exited = match self.watchdog.as_mut() {
                Some((child, _)) => child.try_wait().ok().flatten().is_some(),
                None => true,
            };
            if exited || log.contains("Address already in use") || log.contains("Traceback") {
                bail!(
                    "the S3 server on port {} did not start ({last})\n--- moto log ---\n{}",
                    self.port,
                    process::tail(&log, 4000)
                );
            }
            if Instant::now() >= deadline {
                bail!(
                    "the S3 server on port {} did not answer within {READY_TIMEOUT:?} \
                     ({last})\n--- moto log ---\n{}",
                    self.port,
                    process::tail(&log, 4000)
                );
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// One unsigned HTTP/1.1 request without a body; returns the status and body.
    fn request(&self, method: &str, path: &str) -> Result<(u16, String)> {
        let addr = self.addr();
        let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))
            .with_context(|| format!("cannot connect to {addr}"))?;
        stream.set_read_timeout(Some(REQUEST_TIMEOUT))?;
        stream.set_write_timeout(Some(REQUEST_TIMEOUT))?;
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
             Content-Length: 0\r\n\r\n"
        )
        .with_context(|| format!("cannot send {method} {path}"))?;
        let mut raw = Vec::new();
        stream
            .read_to_end(&mut raw)
            .with_context(|| format!("cannot read the answer to {method} {path}"))?;
        parse_response(&raw).with_context(|| format!("bad answer to {method} {path}"))
    }

    /// Stops the server and the watchdog.
    fn shut_down(&mut self) {
        if let Some((mut child, stdin)) = self.watchdog.take() {
            drop(stdin);
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                match child.try_wait() {
                    Ok(Some(_)) | Err(_) => break,
                    Ok(None) if Instant::now() >= deadline => {
                        let _ = child.kill();
                        let _ = child.wait();
                        break;
                    }
                    Ok(None) => thread::sleep(Duration::from_millis(20)),
                }
            }
        }
    }
}

impl Drop for TestS3 {
    fn drop(&mut self) {
        if thread::panicking() {
            eprintln!(
                "--- S3 server log ({}) ---\n{}",
                self.log_path().display(),
                process::tail(&self.log(), 4000)
            );
        }
        self.shut_down();
    }
}

/// Parses a complete HTTP/1 response: the status and the body (de-chunked).
fn parse_response(raw: &[u8]) -> Result<(u16, String)> {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .context("no end of headers")?;
    let head = std::str::from_utf8(&raw[..split]).context("headers are not UTF-8")?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().context("no status line")?;
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .with_context(|| format!("bad status line {status_line:?}"))?;
    let chunked = lines.any(|line| {
        let lower = line.to_ascii_lowercase();
        lower.starts_with("transfer-encoding:") && lower.contains("chunked")
    });
    let mut body = &raw[split + 4..];
    let mut out = Vec::new();
    if chunked {
        loop {
            let eol = body
                .windows(2)
                .position(|w| w == b"\r\n")
                .context("truncated chunk size")?;
            let size_text = std::str::from_utf8(&body[..eol])?;
            let size_text = size_text.split(';').next().unwrap_or("").trim();
            let size = usize::from_str_radix(size_text, 16)
                .with_context(|| format!("bad chunk size {size_text:?}"))?;
            body = &body[eol + 2..];
            if size == 0 {
                break;
            }
            if body.len() < size + 2 {
                bail!("truncated chunk");
            }
            out.extend_from_slice(&body[..size]);
            body = &body[size + 2..];
        }
    } else {
        out.extend_from_slice(body);
    }
    Ok((status, String::from_utf8_lossy(&out).into_owned()))
}

/// The text of every `<tag>…</tag>` element in `xml`, unescaped.
fn xml_values(xml: &str, tag: &str) -> Vec<String> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find(&open) {
        rest = &rest[start + open.len()..];
        let Some(end) = rest.find(&close) else {
            break;
        };
        out.push(
            rest[..end]
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&apos;", "'")
                .replace("&amp;", "&"),
        );
        rest = &rest[end + close.len()..];
    }
    out
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn url_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_xml_values_and_encodes_urls() {
        let xml = "<R><Key>a/b&amp;c</Key><Key>d</Key><IsTruncated>false</IsTruncated></R>";
        assert_eq!(xml_values(xml, "Key"), ["a/b&c", "d"]);
        assert_eq!(xml_values(xml, "IsTruncated"), ["false"]);
        assert_eq!(url_encode("p/x y+="), "p%2Fx%20y%2B%3D");
    }

    #[test]
    fn parses_plain_and_chunked_answers() {
        let plain = parse_response(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        assert_eq!(plain.ok(), Some((200, "ok".to_string())));
        let chunked = parse_response(
            b"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
        );
        assert_eq!(chunked.ok(), Some((404, "abc".to_string())));
    }
}
