//! Security end to end: SSL listeners with real clients (confluent-kafka,
//! kafka-python), mTLS principals, certificate reload, and what a client
//! that speaks plaintext to a TLS port gets. Certificates are made by the
//! test (`floe_tests::certs`, the openssl command).

use std::process::Command;
use std::time::{Duration, Instant};

use floe_tests::certs::{Issued, TestCa};
use floe_tests::{Agent, AgentBuilder, RawClient, process, python, unique_topic};

/// An agent with a PLAINTEXT listener and an SSL one, serving `server`.
fn tls_agent(server: &Issued, extra: impl FnOnce(AgentBuilder) -> AgentBuilder) -> Agent {
    let builder = Agent::builder()
        .listener("SSL")
        .arg("--tls-cert")
        .arg(server.cert.display().to_string())
        .arg("--tls-key")
        .arg(server.key.display().to_string());
    extra(builder).start().expect("start agent")
}

fn ssl_config(ca: &TestCa) -> String {
    serde_json::json!({
        "security.protocol": "SSL",
        "ssl.ca.location": ca.ca_pem().display().to_string(),
    })
    .to_string()
}

/// The subject line `openssl s_client` prints for the certificate a new
/// TLS connection to `addr` gets.
fn served_subject(addr: std::net::SocketAddr) -> String {
    let mut cmd = Command::new("openssl");
    cmd.args([
        "s_client",
        "-connect",
        &addr.to_string(),
        "-servername",
        "localhost",
    ]);
    let out = process::run(cmd, b"", Duration::from_secs(30)).expect("openssl s_client");
    out.stdout
        .lines()
        .find(|l| l.starts_with("subject="))
        .unwrap_or_else(|| panic!("no subject in s_client output:\n{}", out.stdout))
        .to_string()
}

/// A TLS connection held open by `openssl s_client`, for raw Kafka frames.
struct OpenConnection {
    child: std::process::Child,
}

impl OpenConnection {
    fn open(addr: std::net::SocketAddr) -> Self {
        let child = Command::new("openssl")
            .args([
                "s_client",
                "-quiet",
                "-ign_eof",
                "-connect",
                &addr.to_string(),
            ])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("openssl s_client");
        Self { child }
    }

    /// Sends ApiVersions v0 with `correlation_id`; the correlation id of
    /// the answer.
    fn api_versions(&mut self, correlation_id: i32) -> i32 {
        use std::io::{Read, Write};
        let mut frame = 10i32.to_be_bytes().to_vec();
        frame.extend_from_slice(&18i16.to_be_bytes());
        frame.extend_from_slice(&0i16.to_be_bytes());
        frame.extend_from_slice(&correlation_id.to_be_bytes());
        frame.extend_from_slice(&(-1i16).to_be_bytes());
        let stdin = self.child.stdin.as_mut().expect("stdin");
        stdin.write_all(&frame).expect("send");
        stdin.flush().expect("flush");
        let stdout = self.child.stdout.as_mut().expect("stdout");
        let mut head = [0u8; 8];
        stdout.read_exact(&mut head).expect("answer");
        let size = i32::from_be_bytes([head[0], head[1], head[2], head[3]]);
        let mut rest = vec![0u8; usize::try_from(size - 4).expect("size")];
        stdout.read_exact(&mut rest).expect("answer body");
        i32::from_be_bytes([head[4], head[5], head[6], head[7]])
    }
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn confluent_and_kafka_python_produce_consume_and_admin_over_ssl() {
    let mut ca = TestCa::new().expect("ca");
    let server = ca.issue("server", "/CN=floe-agent").expect("server cert");
    let agent = tls_agent(&server, |b| b);
    let ssl = agent.listener_addr("SSL").to_string();
    for client in ["confluent", "kafka-python"] {
        let topic = unique_topic(&format!("ssl-{client}"));
        python::run_script(
            "security_clients.py",
            &ssl,
            &[client, &topic, &ssl_config(&ca)],
        )
        .unwrap_or_else(|e| panic!("{client} over SSL: {e:#}"));
    }
    // Metadata on the SSL listener names the SSL address; on PLAINTEXT, the
    // plaintext one.
    let mut plain = RawClient::connect(agent.kafka_addr()).expect("connect");
    let brokers = plain.metadata(Some(&[]), false).expect("metadata").brokers;
    assert_eq!(brokers[0].port, i32::from(agent.kafka_addr().port()));
    // The PLAINTEXT listener keeps serving beside it.
    let topic = unique_topic("ssl-beside-plain");
    python::run_script(
        "security_clients.py",
        &agent.bootstrap(),
        &["confluent", &topic, r#"{"security.protocol": "PLAINTEXT"}"#],
    )
    .expect("plaintext beside ssl");
}

#[test]
fn a_plaintext_client_on_a_tls_listener_is_closed_and_the_agent_serves_on() {
    let mut ca = TestCa::new().expect("ca");
    let server = ca.issue("server", "/CN=floe-agent").expect("server cert");
    let mut agent = tls_agent(&server, |b| b);
    let mut raw = RawClient::connect(agent.listener_addr("SSL")).expect("connect");
    // A Kafka ApiVersions request where a TLS ClientHello belongs.
    let sent = raw.api_versions(3);
    assert!(sent.is_err(), "a plaintext request got an answer: {sent:?}");
    agent
        .wait_for_metric(
            "floe_connections_closed_total",
            1.0,
            Duration::from_secs(30),
        )
        .expect("the failed handshake is counted");
    assert!(agent.is_running(), "the agent survived");
    let mut plain = RawClient::connect(agent.kafka_addr()).expect("connect");
    plain
        .api_versions(3)
        .expect("plaintext listener still answers");
    let topic = unique_topic("ssl-after-garbage");
    python::run_script(
        "security_clients.py",
        &agent.listener_addr("SSL").to_string(),
        &["confluent", &topic, &ssl_config(&ca)],
    )
    .expect("TLS clients still served");
}

#[test]
fn mtls_requires_a_client_certificate_and_names_its_subject() {
    let mut ca = TestCa::new().expect("ca");
    let server = ca.issue("server", "/CN=floe-agent").expect("server cert");
    let alice = ca
        .issue("alice", "/O=Acme/OU=eng/CN=alice")
        .expect("client cert");
    let client_ca = ca.ca_pem().display().to_string();
    let agent = tls_agent(&server, |b| {
        b.arg("--tls-client-ca")
            .arg(client_ca)
            .env("FLOE_LOG", "info,floe_agent::kafka::connection=debug")
    });
    let ssl = agent.listener_addr("SSL").to_string();
    let with_cert = serde_json::json!({
        "security.protocol": "SSL",
        "ssl.ca.location": ca.ca_pem().display().to_string(),
        "ssl.certificate.location": alice.cert.display().to_string(),
        "ssl.key.location": alice.key.display().to_string(),
    })
    .to_string();
    let topic = unique_topic("mtls");
    python::run_script(
        "security_clients.py",
        &ssl,
        &["confluent", &topic, &with_cert],
    )
    .expect("client with a certificate");
    assert!(
        agent
            .log()
            .contains("principal=User:CN=alice,OU=eng,O=Acme"),
        "the principal is the subject in Kafka's form:\n{}",
        agent.log()
    );
    // Without a certificate the handshake fails: no data, no topic.
    let refused = python::run_script(
        "security_clients.py",
        &ssl,
        &["kafka-python", &unique_topic("mtls-none"), &ssl_config(&ca)],
    );
    assert!(
        refused.is_err(),
        "a client without a certificate was served"
    );
}

#[test]
fn replaced_certificates_serve_new_connections_without_a_restart() {
    let mut ca = TestCa::new().expect("ca");
    let first = ca.issue("first", "/CN=first-cert").expect("first cert");
    let second = ca.issue("second", "/CN=second-cert").expect("second cert");
    // The agent reads a copy, so the test can replace it.
    let live = Issued {
        cert: ca.dir().join("live.pem"),
        key: ca.dir().join("live.key"),
    };
    std::fs::copy(&first.cert, &live.cert).expect("copy");
    std::fs::copy(&first.key, &live.key).expect("copy");
    let agent = tls_agent(&live, |b| b);
    let ssl = agent.listener_addr("SSL");
    assert!(served_subject(ssl).contains("first-cert"));
    // A connection made before the reload, kept open through it.
    let mut old = OpenConnection::open(ssl);
    assert_eq!(old.api_versions(1), 1, "answered before the reload");

    // A broken file keeps the certificate in force.
    std::fs::write(&live.cert, "not a certificate").expect("write");
    std::thread::sleep(Duration::from_secs(3));
    assert!(served_subject(ssl).contains("first-cert"));
    assert!(agent.log().contains("cannot reload TLS certificates"));

    // Key first, then certificate: until both match, the old pair stays.
    std::fs::copy(&second.key, &live.key).expect("copy");
    std::fs::copy(&second.cert, &live.cert).expect("copy");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let subject = served_subject(ssl);
        if subject.contains("second-cert") {
            break;
        }
        assert!(Instant::now() < deadline, "still serving {subject}");
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(old.api_versions(2), 2, "the old connection still served");
    let topic = unique_topic("reloaded");
    python::run_script(
        "security_clients.py",
        &ssl.to_string(),
        &["confluent", &topic, &ssl_config(&ca)],
    )
    .expect("clients served with the new certificate");
}

#[test]
fn an_ssl_listener_without_a_certificate_is_refused_at_start() {
    let refused = Agent::builder().listener("SSL").start();
    let err = format!("{:#}", refused.expect_err("started without a certificate"));
    assert!(err.contains("needs tls_cert and tls_key"), "{err}");
}

/// `--http-tls`: `/healthz`, `/readyz` and `/metrics` over HTTPS with the
/// configured certificate (checked against the test's CA by curl), a plaintext
/// request to the HTTPS port answered nothing, and a replaced certificate served
/// without a restart.
#[test]
fn the_http_listener_serves_https_and_reloads_its_certificate() {
    let mut ca = TestCa::new().expect("ca");
    let first = ca
        .issue("http-first", "/CN=http-first")
        .expect("first cert");
    let second = ca
        .issue("http-second", "/CN=http-second")
        .expect("second cert");
    let live = Issued {
        cert: ca.dir().join("http-live.pem"),
        key: ca.dir().join("http-live.key"),
    };
    std::fs::copy(&first.cert, &live.cert).expect("copy");
    std::fs::copy(&first.key, &live.key).expect("copy");
    let agent = Agent::builder()
        .arg("--tls-cert")
        .arg(live.cert.display().to_string())
        .arg("--tls-key")
        .arg(live.key.display().to_string())
        .http_tls(ca.ca_pem())
        .start()
        .expect("start agent");
    let http = agent.http_addr();
    for path in ["/healthz", "/readyz"] {
        let response = agent.http_get(path).expect(path);
        assert_eq!(response.status, 200, "{path}: {}", response.body);
    }
    let metrics = agent.metrics().expect("metrics over https");
    assert!(metrics.contains("floe_accept_errors_total"), "{metrics}");
    assert!(served_subject(http).contains("http-first"));

    // Plain HTTP to the HTTPS port gets no HTTP answer.
    let plain = floe_tests::http::get(http, "/metrics", Duration::from_secs(10));
    assert!(plain.is_err(), "plaintext answered: {plain:?}");
    assert!(agent.http_get("/healthz").is_ok(), "served on after it");

    // A client that does not trust the CA is refused by its own check.
    let stranger = TestCa::new().expect("another ca");
    let untrusted = floe_tests::http::get_tls(
        http,
        "/healthz",
        &stranger.ca_pem(),
        Duration::from_secs(10),
    );
    assert!(untrusted.is_err(), "{untrusted:?}");

    std::fs::copy(&second.key, &live.key).expect("copy");
    std::fs::copy(&second.cert, &live.cert).expect("copy");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let subject = served_subject(http);
        if subject.contains("http-second") {
            break;
        }
        assert!(Instant::now() < deadline, "still serving {subject}");
        std::thread::sleep(Duration::from_millis(200));
    }
    let metrics = agent.metrics().expect("metrics with the new certificate");
    assert!(metrics.contains("floe_accept_errors_total"));
}
