//! The agent's cost per byte, from its Prometheus `/metrics` scraped before
//! and after a run: object-store PUTs per GiB ingested, GETs per GiB
//! served, and MiB ingested per CPU-second.
//!
//! A plain HTTP/1.1 GET over a `TcpStream`: the bench must not depend on
//! the agent's own HTTP stack, and needs nothing more.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use serde::Serialize;

use crate::BenchError;
use crate::report::round3;

const TIMEOUT: Duration = Duration::from_secs(5);
/// Largest `/metrics` answer read.
const MAX_BODY: u64 = 16 << 20;
const GIB: f64 = (1u64 << 30) as f64;
const MIB: f64 = (1u64 << 20) as f64;
/// Below this many CPU-seconds a counter in whole seconds (as the
/// `prometheus` crate's process collector exports) is too coarse.
const COARSE_CPU_SECONDS: f64 = 20.0;

/// One sample of the text exposition format.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Metric name.
    pub name: String,
    /// Label pairs, in order.
    pub labels: Vec<(String, String)>,
    /// Value.
    pub value: f64,
}

/// Parses Prometheus text format; lines it cannot read are skipped.
pub fn parse(text: &str) -> Vec<Sample> {
    text.lines().filter_map(parse_line).collect()
}

fn parse_line(line: &str) -> Option<Sample> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let name_end = line
        .find(|c: char| c == '{' || c.is_whitespace())
        .unwrap_or(line.len());
    let name = &line[..name_end];
    let mut rest = &line[name_end..];
    let mut labels = Vec::new();
    if let Some(after) = rest.strip_prefix('{') {
        let (parsed, tail) = parse_labels(after)?;
        labels = parsed;
        rest = tail;
    }
    // The value, then an optional timestamp.
    let value = rest.split_whitespace().next()?;
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        v => v.parse().ok()?,
    };
    (!name.is_empty()).then(|| Sample {
        name: name.to_string(),
        labels,
        value,
    })
}

/// Parses `k="v",…}` and returns the pairs and what follows the brace.
fn parse_labels(mut s: &str) -> Option<(Vec<(String, String)>, &str)> {
    let mut labels = Vec::new();
    loop {
        s = s.trim_start_matches([',', ' ']);
        if let Some(tail) = s.strip_prefix('}') {
            return Some((labels, tail));
        }
        let eq = s.find('=')?;
        let key = s[..eq].trim().to_string();
        s = s[eq + 1..].trim_start().strip_prefix('"')?;
        let mut value = String::new();
        let mut chars = s.char_indices();
        let end = loop {
            let (i, c) = chars.next()?;
            match c {
                '"' => break i,
                '\\' => match chars.next()?.1 {
                    'n' => value.push('\n'),
                    other => value.push(other),
                },
                c => value.push(c),
            }
        };
        labels.push((key, value));
        s = &s[end + 1..];
    }
}

/// Sum of the samples named `name` whose labels include every pair of
/// `want`; `None` if there is no such sample.
pub fn sum(samples: &[Sample], name: &str, want: &[(&str, &str)]) -> Option<f64> {
    let mut found = None;
    for s in samples.iter().filter(|s| s.name == name) {
        let matches = want
            .iter()
            .all(|(k, v)| s.labels.iter().any(|(lk, lv)| lk == k && lv == v));
        if matches {
            *found.get_or_insert(0.0) += s.value;
        }
    }
    found
}

/// The counters the cost ratios need, at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct AgentSnapshot {
    /// Object-store PUTs.
    pub puts: f64,
    /// Object-store GETs, whole and ranged.
    pub gets: f64,
    /// Record batch bytes accepted by Produce.
    pub produce_bytes: f64,
    /// Record batch bytes returned by Fetch.
    pub fetch_bytes: f64,
    /// CPU seconds of the agent process, if it exports them.
    pub cpu_seconds: Option<f64>,
}

impl AgentSnapshot {
    /// Reads the counters from scraped samples (missing counters are 0).
    pub fn from_samples(samples: &[Sample]) -> Self {
        let requests = |op| sum(samples, "floe_object_store_requests_total", &[("op", op)]);
        let cpu = samples
            .iter()
            .filter(|s| {
                s.name == "process_cpu_seconds_total"
                    || s.name.ends_with("_process_cpu_seconds_total")
            })
            .map(|s| s.value)
            .reduce(|a, b| a + b);
        Self {
            puts: requests("put").unwrap_or(0.0),
            gets: requests("get").unwrap_or(0.0) + requests("get_range").unwrap_or(0.0),
            produce_bytes: sum(samples, "floe_produce_bytes_total", &[]).unwrap_or(0.0),
            fetch_bytes: sum(samples, "floe_fetch_bytes_total", &[]).unwrap_or(0.0),
            cpu_seconds: cpu,
        }
    }

    /// Scrapes `http://addr/metrics`.
    pub fn scrape(addr: &str) -> Result<Self, BenchError> {
        let text = http_get(addr, "/metrics")?;
        Ok(Self::from_samples(&parse(&text)))
    }

    /// The cost of what happened between `self` and `after`.
    pub fn cost_until(&self, after: &AgentSnapshot) -> AgentCost {
        let delta = |a: f64, b: f64| (b - a).max(0.0);
        let puts = delta(self.puts, after.puts);
        let gets = delta(self.gets, after.gets);
        let produce_bytes = delta(self.produce_bytes, after.produce_bytes);
        let fetch_bytes = delta(self.fetch_bytes, after.fetch_bytes);
        let cpu = match (self.cpu_seconds, after.cpu_seconds) {
            (Some(a), Some(b)) => Some(delta(a, b)),
            _ => None,
        };
        let ratio = |num: f64, den: f64| (den > 0.0).then(|| round3(num / den));
        AgentCost {
            // Counters hold whole numbers; the conversion is exact.
            produce_bytes: produce_bytes as u64,
            fetch_bytes: fetch_bytes as u64,
            puts: puts as u64,
            gets: gets as u64,
            cpu_seconds: cpu.map(round3),
            puts_per_gib: ratio(puts, produce_bytes / GIB),
            gets_per_gib: ratio(gets, fetch_bytes / GIB),
            mib_per_cpu_second: cpu
                .filter(|_| produce_bytes > 0.0)
                .and_then(|c| ratio(produce_bytes / MIB, c)),
            served_mib_per_cpu_second: cpu
                .filter(|_| fetch_bytes > 0.0)
                .and_then(|c| ratio(fetch_bytes / MIB, c)),
        }
    }
}

/// What the agent spent during a run; a ratio is `None` when its
/// denominator is zero or unknown.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgentCost {
    /// Bytes the agent accepted from producers.
    pub produce_bytes: u64,
    /// Bytes the agent served to consumers.
    pub fetch_bytes: u64,
    /// Object-store PUTs.
    pub puts: u64,
    /// Object-store GETs (whole and ranged).
    pub gets: u64,
    /// Agent CPU seconds (`process_cpu_seconds_total`), if exported.
    pub cpu_seconds: Option<f64>,
    /// PUTs per GiB ingested.
    pub puts_per_gib: Option<f64>,
    /// GETs per GiB served.
    pub gets_per_gib: Option<f64>,
    /// MiB ingested per agent CPU-second (all of the agent's CPU time,
    /// serving consumers included).
    pub mib_per_cpu_second: Option<f64>,
    /// MiB served per agent CPU-second (all of the agent's CPU time,
    /// ingesting included).
    pub served_mib_per_cpu_second: Option<f64>,
}

impl AgentCost {
    /// The cost lines of the text summary.
    pub fn to_text(&self) -> String {
        let show = |v: Option<f64>, none: &str| v.map_or(none.to_string(), |v| format!("{v:.3}"));
        let per_cpu = |v: Option<f64>, bytes: u64| match self.cpu_seconds {
            None => "unavailable (the agent exports no process_cpu_seconds_total)".to_string(),
            Some(_) if bytes == 0 => "n/a (no bytes)".to_string(),
            Some(_) => show(v, "n/a (no CPU time counted)"),
        };
        let mut text = format!(
            "  agent: {:.2} MB ingested with {} PUTs, {:.2} MB served with {} GETs, {} CPU-seconds\n\
             \x20   PUTs per GiB ingested: {}\n\
             \x20   GETs per GiB served: {}\n\
             \x20   MiB ingested per agent CPU-second: {}\n\
             \x20   MiB served per agent CPU-second: {}\n",
            self.produce_bytes as f64 / 1e6,
            self.puts,
            self.fetch_bytes as f64 / 1e6,
            self.gets,
            self.cpu_seconds
                .map_or("unknown".to_string(), |c| format!("{c:.2}")),
            show(self.puts_per_gib, "n/a (nothing ingested)"),
            show(self.gets_per_gib, "n/a (nothing served)"),
            per_cpu(self.mib_per_cpu_second, self.produce_bytes),
            per_cpu(self.served_mib_per_cpu_second, self.fetch_bytes),
        );
        if self.cpu_seconds.is_some_and(|c| c < COARSE_CPU_SECONDS) {
            text.push_str(
                "    (the CPU counter may count whole seconds: run longer for a precise ratio)\n",
            );
        }
        text
    }
}

/// GETs `path` from `addr` (`host:port`, optionally prefixed `http://`)
/// and returns the body of a 200 answer.
fn http_get(addr: &str, path: &str) -> Result<String, BenchError> {
    let addr = addr.trim_start_matches("http://").trim_end_matches('/');
    let fail = |reason: String| BenchError::Scrape {
        addr: addr.to_string(),
        reason,
    };
    let target = addr
        .to_socket_addrs()
        .map_err(|e| fail(format!("bad address: {e}")))?
        .next()
        .ok_or_else(|| fail("address resolves to nothing".to_string()))?;
    let mut stream =
        TcpStream::connect_timeout(&target, TIMEOUT).map_err(|e| fail(e.to_string()))?;
    stream
        .set_read_timeout(Some(TIMEOUT))
        .and_then(|()| stream.set_write_timeout(Some(TIMEOUT)))
        .map_err(|e| fail(e.to_string()))?;
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: text/plain\r\nConnection: close\r\n\r\n"
    );
    stream
        .write_all(request.as_bytes())
        .map_err(|e| fail(e.to_string()))?;
    let mut raw = Vec::new();
    stream
        .take(MAX_BODY)
        .read_to_end(&mut raw)
        .map_err(|e| fail(e.to_string()))?;
    parse_response(&raw).map_err(fail)
}

/// The body of a raw HTTP/1.x response, if its status is 200.
fn parse_response(raw: &[u8]) -> Result<String, String> {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("truncated HTTP response")?;
    let head = String::from_utf8_lossy(&raw[..split]);
    let body = &raw[split + 4..];
    let mut lines = head.lines();
    let status = lines.next().unwrap_or_default();
    if status.split_whitespace().nth(1) != Some("200") {
        return Err(format!("answered {status:?}"));
    }
    let chunked = lines.any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("transfer-encoding:") && l.contains("chunked")
    });
    let body = if chunked {
        dechunk(body)?
    } else {
        body.to_vec()
    };
    String::from_utf8(body).map_err(|_| "body is not UTF-8".to_string())
}

/// Decodes a chunked transfer-encoded body.
fn dechunk(mut body: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    loop {
        let line_end = body
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("truncated chunk size")?;
        let size_text = String::from_utf8_lossy(&body[..line_end]);
        let size_text = size_text.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| format!("bad chunk size {size_text:?}"))?;
        body = &body[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        let chunk = body.get(..size).ok_or("truncated chunk")?;
        out.extend_from_slice(chunk);
        body = body.get(size + 2..).ok_or("truncated chunk end")?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"# HELP floe_object_store_requests_total Object store requests by operation
# TYPE floe_object_store_requests_total counter
floe_object_store_requests_total{op="get_range"} 7
floe_object_store_requests_total{op="put"} 12
floe_object_store_requests_total{op="get"} 3
floe_produce_bytes_total 1073741824
floe_fetch_bytes_total 536870912
floe_request_duration_seconds_bucket{api="Produce",le="+Inf"} 4
weird{a="x\"y\\z",b="1"} 2.5 1700000000000
process_cpu_seconds_total 4
not a sample
"#;

    #[test]
    fn parses_names_labels_and_values() {
        let s = parse(TEXT);
        assert_eq!(s.len(), 8, "{s:?}");
        assert_eq!(s[0].name, "floe_object_store_requests_total");
        assert_eq!(
            s[0].labels,
            vec![("op".to_string(), "get_range".to_string())]
        );
        assert_eq!(s[0].value, 7.0);
        let weird = s.iter().find(|s| s.name == "weird").expect("weird sample");
        assert_eq!(weird.labels[0].1, "x\"y\\z");
        assert_eq!(weird.labels[1], ("b".to_string(), "1".to_string()));
        assert_eq!(weird.value, 2.5);
        assert_eq!(
            sum(
                &s,
                "floe_request_duration_seconds_bucket",
                &[("le", "+Inf")]
            ),
            Some(4.0)
        );
        assert_eq!(sum(&s, "absent", &[]), None);
    }

    #[test]
    fn snapshot_reads_the_cost_counters() {
        let snap = AgentSnapshot::from_samples(&parse(TEXT));
        assert_eq!(
            snap,
            AgentSnapshot {
                puts: 12.0,
                gets: 10.0,
                produce_bytes: 1_073_741_824.0,
                fetch_bytes: 536_870_912.0,
                cpu_seconds: Some(4.0),
            }
        );
        let prefixed = parse("floe_process_cpu_seconds_total 1.5\n");
        assert_eq!(
            AgentSnapshot::from_samples(&prefixed).cpu_seconds,
            Some(1.5)
        );
    }

    #[test]
    fn cost_is_the_delta_over_bytes_and_cpu() {
        let before = AgentSnapshot {
            puts: 10.0,
            gets: 0.0,
            produce_bytes: 0.0,
            fetch_bytes: 0.0,
            cpu_seconds: Some(1.0),
        };
        let after = AgentSnapshot {
            puts: 266.0,
            gets: 4.0,
            produce_bytes: 2.0 * GIB,
            fetch_bytes: 0.5 * GIB,
            cpu_seconds: Some(9.0),
        };
        let c = before.cost_until(&after);
        assert_eq!(c.puts, 256);
        assert_eq!(c.puts_per_gib, Some(128.0));
        assert_eq!(c.gets_per_gib, Some(8.0));
        assert_eq!(c.mib_per_cpu_second, Some(256.0));
        assert_eq!(c.served_mib_per_cpu_second, Some(64.0));
        assert!(c.to_text().contains("PUTs per GiB ingested: 128.000"));
    }

    #[test]
    fn ratios_without_denominator_are_unavailable() {
        let c = AgentSnapshot::default().cost_until(&AgentSnapshot::default());
        assert_eq!(
            (c.puts_per_gib, c.gets_per_gib, c.mib_per_cpu_second),
            (None, None, None)
        );
        let text = c.to_text();
        assert!(text.contains("n/a (nothing ingested)"));
        assert!(text.contains("unavailable"));
        // A consume run: CPU counted, nothing ingested.
        let before = AgentSnapshot {
            cpu_seconds: Some(1.0),
            ..AgentSnapshot::default()
        };
        let after = AgentSnapshot {
            fetch_bytes: GIB,
            cpu_seconds: Some(3.0),
            ..AgentSnapshot::default()
        };
        let c = before.cost_until(&after);
        assert_eq!(c.mib_per_cpu_second, None);
        assert_eq!(c.served_mib_per_cpu_second, Some(512.0));
        assert!(
            c.to_text()
                .contains("MiB ingested per agent CPU-second: n/a (no bytes)")
        );
    }

    #[test]
    fn reads_plain_and_chunked_responses() {
        let plain = b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello";
        assert_eq!(parse_response(plain).as_deref(), Ok("hello"));
        let chunked =
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;x=y\r\n world\r\n0\r\n\r\n";
        assert_eq!(parse_response(chunked).as_deref(), Ok("hello world"));
        let missing = b"HTTP/1.1 404 Not Found\r\n\r\n";
        assert!(parse_response(missing).is_err());
        assert!(parse_response(b"HTTP/1.1 200 OK\r\n").is_err());
        let cut = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n50\r\nhi";
        assert!(parse_response(cut).is_err());
    }

    #[test]
    fn scrape_of_a_closed_port_fails_clearly() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr").to_string();
        drop(listener);
        let err = AgentSnapshot::scrape(&addr).expect_err("nothing listens");
        assert!(err.to_string().contains(&addr), "{err}");
    }

    #[test]
    fn scrapes_a_live_endpoint() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr").to_string();
        let server = std::thread::spawn(move || {
            let (mut conn, _) = listener.accept().expect("accept");
            let mut buf = [0u8; 1024];
            let n = conn.read(&mut buf).expect("read request");
            assert!(buf[..n].starts_with(b"GET /metrics HTTP/1.1\r\n"));
            let body = "floe_produce_bytes_total 42\n";
            let reply = format!(
                "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{body}",
                body.len()
            );
            conn.write_all(reply.as_bytes()).expect("write");
        });
        let snap = AgentSnapshot::scrape(&format!("http://{addr}/")).expect("scrape");
        assert_eq!(snap.produce_bytes, 42.0);
        server.join().expect("server thread");
    }
}
