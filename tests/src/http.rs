//! A minimal HTTP/1 GET over `TcpStream`, enough for `/healthz`, `/readyz` and `/metrics`;
//! over HTTPS with curl.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::process;

/// A response: the status code and the body as text.
#[derive(Debug, Clone)]
pub struct Response {
    /// The HTTP status code.
    pub status: u16,
    /// The body, decoded from chunked transfer encoding when needed.
    pub body: String,
}

/// Sends `GET path` to `addr` and reads the whole response (the connection is closed
/// by the server after it).
pub fn get(addr: SocketAddr, path: &str, timeout: Duration) -> Result<Response> {
    let mut stream = TcpStream::connect_timeout(&addr, timeout)
        .with_context(|| format!("cannot connect to http://{addr}"))?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nAccept: */*\r\n\r\n"
    )
    .with_context(|| format!("cannot send GET {path}"))?;
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .with_context(|| format!("cannot read the answer to GET {path}"))?;
    parse(&raw).with_context(|| format!("bad HTTP answer to GET {path}"))
}

/// Sends `GET path` to `addr` over HTTPS with curl, trusting the CA
/// certificate `ca` and checking the server's name (127.0.0.1) against it.
pub fn get_tls(addr: SocketAddr, path: &str, ca: &Path, timeout: Duration) -> Result<Response> {
    let mut curl = Command::new("curl");
    curl.arg("-sS")
        .arg("--max-time")
        .arg(timeout.as_secs().max(1).to_string())
        .arg("--cacert")
        .arg(ca)
        .arg("-w")
        .arg("\n%{http_code}")
        .arg(format!("https://{addr}{path}"));
    let out = process::run(curl, b"", timeout + Duration::from_secs(5))
        .with_context(|| format!("cannot run curl for https://{addr}{path}"))?;
    if !out.status.success() {
        bail!("curl https://{addr}{path} failed: {}", out.stderr.trim());
    }
    let (body, status) = out
        .stdout
        .rsplit_once('\n')
        .context("no status from curl")?;
    Ok(Response {
        status: status.trim().parse().context("bad status from curl")?,
        body: body.to_string(),
    })
}

/// Parses a complete HTTP/1 response.
fn parse(raw: &[u8]) -> Result<Response> {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .context("no end of headers")?;
    let head = std::str::from_utf8(&raw[..split]).context("headers are not UTF-8")?;
    let mut body = raw[split + 4..].to_vec();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().context("no status line")?;
    let status = status_line
        .split_whitespace()
        .nth(1)
        .context("no status code")?
        .parse::<u16>()
        .with_context(|| format!("bad status line {status_line:?}"))?;
    let chunked = lines.any(|line| {
        let lower = line.to_ascii_lowercase();
        lower.starts_with("transfer-encoding:") && lower.contains("chunked")
    });
    if chunked {
        body = dechunk(&body)?;
    }
    Ok(Response {
        status,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

/// Decodes a body sent with `Transfer-Encoding: chunked`.
fn dechunk(mut data: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let eol = data
            .windows(2)
            .position(|w| w == b"\r\n")
            .context("truncated chunk size")?;
        let size_text = std::str::from_utf8(&data[..eol])?;
        let size_text = size_text.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16)
            .with_context(|| format!("bad chunk size {size_text:?}"))?;
        data = &data[eol + 2..];
        if size == 0 {
            return Ok(out);
        }
        if data.len() < size + 2 {
            bail!("truncated chunk");
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_and_chunked_bodies() {
        let plain = parse(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok").expect("plain");
        assert_eq!((plain.status, plain.body.as_str()), (200, "ok"));
        let chunked = parse(
            b"HTTP/1.1 503 Service Unavailable\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
        )
        .expect("chunked");
        assert_eq!((chunked.status, chunked.body.as_str()), (503, "abcde"));
    }
}
