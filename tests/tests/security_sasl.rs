//! SASL end to end: SCRAM-SHA-512 over SASL_SSL and PLAIN over
//! SASL_PLAINTEXT with confluent-kafka and kafka-python, users made with
//! `floe users`, wrong passwords, and the raw protocol around
//! authentication (what is refused before it, bounds, re-authentication).

#[path = "security_sasl/jwks_server.rs"]
mod jwks_server;

use std::process::Command;
use std::time::Duration;

use bytes::Bytes;
use floe_tests::certs::TestCa;
use floe_tests::{Agent, AgentBuilder, RawClient, binary, process, python, unique_topic};
use kafka_protocol::messages::{
    MetadataRequest, SaslAuthenticateRequest, SaslAuthenticateResponse, SaslHandshakeRequest,
};
use kafka_protocol::protocol::StrBytes;

/// Kafka's SASL_AUTHENTICATION_FAILED.
const SASL_AUTHENTICATION_FAILED: i16 = 58;
/// Kafka's UNSUPPORTED_SASL_MECHANISM.
const UNSUPPORTED_SASL_MECHANISM: i16 = 33;

/// Runs `floe users set NAME` against the agent's store.
fn set_user(agent: &Agent, name: &str, mechanism: &str, password: &str) {
    let mut cmd = Command::new(binary::floe_bin().expect("floe binary"));
    cmd.args([
        "users",
        "set",
        name,
        "--mechanism",
        mechanism,
        "--password-stdin",
    ])
    .arg("--data-dir")
    .arg(agent.data_dir());
    process::run(
        cmd,
        format!("{password}\n").as_bytes(),
        Duration::from_secs(60),
    )
    .expect("floe users set")
    .ensure_success()
    .expect("floe users set succeeds");
}

fn sasl_agent(ca: &mut TestCa, extra: impl FnOnce(AgentBuilder) -> AgentBuilder) -> Agent {
    let server = ca.issue("server", "/CN=floe-agent").expect("server cert");
    let builder = Agent::builder()
        .listener("SASL_PLAINTEXT")
        .listener("SASL_SSL")
        .arg("--tls-cert")
        .arg(server.cert.display().to_string())
        .arg("--tls-key")
        .arg(server.key.display().to_string());
    extra(builder).start().expect("start agent")
}

fn sasl_config(ca: &TestCa, protocol: &str, mechanism: &str, user: &str, password: &str) -> String {
    let mut config = serde_json::json!({
        "security.protocol": protocol,
        "sasl.mechanism": mechanism,
        "sasl.username": user,
        "sasl.password": password,
    });
    if protocol == "SASL_SSL" {
        config["ssl.ca.location"] = ca.ca_pem().display().to_string().into();
    }
    config.to_string()
}

/// Whether `topic` exists, asked over the PLAINTEXT listener without
/// creating it.
fn topic_exists(agent: &Agent, topic: &str) -> bool {
    let mut raw = RawClient::connect(agent.kafka_addr()).expect("connect");
    let resp = raw.metadata(Some(&[topic]), false).expect("metadata");
    resp.topics.first().is_some_and(|t| t.error_code == 0)
}

#[test]
fn scram_over_sasl_ssl_and_plain_over_sasl_plaintext_serve_both_python_clients() {
    let mut ca = TestCa::new().expect("ca");
    let agent = sasl_agent(&mut ca, |b| b);
    set_user(&agent, "alice", "SCRAM-SHA-512", "alice-secret");
    set_user(&agent, "bob", "SCRAM-SHA-256", "bob-secret");
    let sasl_ssl = agent.listener_addr("SASL_SSL").to_string();
    let sasl_plain = agent.listener_addr("SASL_PLAINTEXT").to_string();
    for client in ["confluent", "kafka-python"] {
        for (addr, protocol, mechanism, user, password) in [
            (
                &sasl_ssl,
                "SASL_SSL",
                "SCRAM-SHA-512",
                "alice",
                "alice-secret",
            ),
            (
                &sasl_plain,
                "SASL_PLAINTEXT",
                "PLAIN",
                "alice",
                "alice-secret",
            ),
            // PLAIN checks the SCRAM-SHA-256 credential of a user without a 512 one.
            (&sasl_plain, "SASL_PLAINTEXT", "PLAIN", "bob", "bob-secret"),
            (&sasl_ssl, "SASL_SSL", "SCRAM-SHA-256", "bob", "bob-secret"),
        ] {
            let topic = unique_topic(&format!("sasl-{client}"));
            let config = sasl_config(&ca, protocol, mechanism, user, password);
            python::run_script("security_clients.py", addr, &[client, &topic, &config])
                .unwrap_or_else(|e| panic!("{client} {protocol} {mechanism} as {user}: {e:#}"));
        }
    }
    agent
        .wait_for_metric(
            "floe_sasl_authentications_total",
            8.0,
            Duration::from_secs(10),
        )
        .expect("authentications counted");
}

#[test]
fn a_wrong_password_gets_sasl_authentication_failed_and_stores_nothing() {
    let mut ca = TestCa::new().expect("ca");
    let agent = sasl_agent(&mut ca, |b| b);
    set_user(&agent, "alice", "SCRAM-SHA-512", "alice-secret");
    let cases = [
        ("SASL_SSL", "SCRAM-SHA-512", "alice", "wrong"),
        ("SASL_PLAINTEXT", "PLAIN", "alice", "wrong"),
        ("SASL_PLAINTEXT", "SCRAM-SHA-512", "mallory", "alice-secret"),
    ];
    for client in ["confluent", "kafka-python"] {
        for (protocol, mechanism, user, password) in cases {
            let topic = unique_topic("denied");
            let addr = agent.listener_addr(protocol).to_string();
            let config = sasl_config(&ca, protocol, mechanism, user, password);
            python::run_script("security_denied.py", &addr, &[client, &topic, &config])
                .unwrap_or_else(|e| panic!("{client} {protocol} {mechanism} as {user}: {e:#}"));
            assert!(!topic_exists(&agent, &topic), "{topic} was created");
        }
    }
}

fn handshake(raw: &mut RawClient, mechanism: &str) -> i16 {
    let req =
        SaslHandshakeRequest::default().with_mechanism(StrBytes::from_string(mechanism.into()));
    raw.request(1, &req).expect("SaslHandshake").error_code
}

fn authenticate(raw: &mut RawClient, token: &[u8]) -> SaslAuthenticateResponse {
    let req = SaslAuthenticateRequest::default().with_auth_bytes(Bytes::copy_from_slice(token));
    raw.request(2, &req).expect("SaslAuthenticate")
}

fn plain(user: &str, password: &str) -> Vec<u8> {
    format!("\0{user}\0{password}").into_bytes()
}

#[test]
fn the_raw_protocol_is_refused_until_authentication_and_bounded_before_it() {
    let mut ca = TestCa::new().expect("ca");
    let mut agent = sasl_agent(&mut ca, |b| b);
    set_user(&agent, "alice", "SCRAM-SHA-512", "alice-secret");
    let addr = agent.listener_addr("SASL_PLAINTEXT");

    // ApiVersions is answered; Metadata before authenticating closes.
    let mut raw = RawClient::connect(addr).expect("connect");
    raw.api_versions(3)
        .expect("ApiVersions before authentication");
    let refused = raw.request(12, &MetadataRequest::default().with_topics(None));
    assert!(refused.is_err(), "Metadata answered before authentication");

    // An unknown mechanism is refused with the enabled ones, then closed.
    let mut raw = RawClient::connect(addr).expect("connect");
    assert_eq!(handshake(&mut raw, "GSSAPI"), UNSUPPORTED_SASL_MECHANISM);
    raw.expect_closed()
        .expect("closed after an unsupported mechanism");

    // A wrong password: Kafka's code and message, then the connection closes.
    let mut raw = RawClient::connect(addr).expect("connect");
    assert_eq!(handshake(&mut raw, "PLAIN"), 0);
    let resp = authenticate(&mut raw, &plain("alice", "wrong"));
    assert_eq!(resp.error_code, SASL_AUTHENTICATION_FAILED);
    assert_eq!(
        resp.error_message.as_deref(),
        Some("Authentication failed: Invalid username or password")
    );
    raw.expect_closed()
        .expect("closed after a failed authentication");

    // A frame above Kafka's pre-authentication bound (512 KiB) costs the
    // client its connection, not the agent's memory.
    let mut raw = RawClient::connect(addr).expect("connect");
    let mut huge = (64u32 << 20).to_be_bytes().to_vec();
    huge.extend_from_slice(&[0u8; 1024]);
    raw.send_raw(&huge).expect("send");
    raw.expect_closed()
        .expect("closed on an oversized pre-auth frame");
    assert_eq!(
        agent.metric("floe_request_pool_bytes").expect("metric"),
        Some(0.0)
    );

    // The right password: then every API is served on the connection.
    let mut raw = RawClient::connect(addr).expect("connect");
    assert_eq!(handshake(&mut raw, "PLAIN"), 0);
    let resp = authenticate(&mut raw, &plain("alice", "alice-secret"));
    assert_eq!(resp.error_code, 0, "{:?}", resp.error_message);
    assert_eq!(resp.session_lifetime_ms, 0, "re-authentication is off");
    raw.metadata(None, false)
        .expect("Metadata after authentication");
    assert!(agent.is_running());
    agent.stop().expect("clean stop");
}

#[test]
fn sessions_expire_without_reauthentication_and_keep_their_principal() {
    let mut ca = TestCa::new().expect("ca");
    let agent = sasl_agent(&mut ca, |b| {
        b.arg("--connections-max-reauth-ms").arg("1500")
    });
    set_user(&agent, "alice", "SCRAM-SHA-512", "alice-secret");
    set_user(&agent, "bob", "SCRAM-SHA-512", "bob-secret");
    let addr = agent.listener_addr("SASL_PLAINTEXT");

    let mut raw = RawClient::connect(addr).expect("connect");
    assert_eq!(handshake(&mut raw, "PLAIN"), 0);
    let resp = authenticate(&mut raw, &plain("alice", "alice-secret"));
    assert_eq!(resp.session_lifetime_ms, 1500);
    raw.metadata(None, false)
        .expect("served within the session");
    // Re-authenticating as the same user renews the session.
    assert_eq!(handshake(&mut raw, "PLAIN"), 0);
    let resp = authenticate(&mut raw, &plain("alice", "alice-secret"));
    assert_eq!((resp.error_code, resp.session_lifetime_ms), (0, 1500));
    raw.metadata(None, false)
        .expect("served after re-authentication");
    // Past the session without re-authenticating: the next request closes.
    std::thread::sleep(Duration::from_millis(2000));
    let expired = raw.metadata(None, false);
    assert!(expired.is_err(), "served after the session ended");

    // Re-authenticating as someone else is refused.
    let mut raw = RawClient::connect(addr).expect("connect");
    assert_eq!(handshake(&mut raw, "PLAIN"), 0);
    assert_eq!(
        authenticate(&mut raw, &plain("alice", "alice-secret")).error_code,
        0
    );
    assert_eq!(handshake(&mut raw, "PLAIN"), 0);
    let resp = authenticate(&mut raw, &plain("bob", "bob-secret"));
    assert_eq!(resp.error_code, SASL_AUTHENTICATION_FAILED);
    assert!(
        resp.error_message
            .as_deref()
            .is_some_and(|m| m.contains("Cannot change principals during re-authentication")),
        "{:?}",
        resp.error_message
    );
    raw.expect_closed().expect("closed");
}

#[test]
fn oauthbearer_accepts_tokens_signed_by_the_jwks_and_refuses_others() {
    let keys = tempfile::tempdir().expect("tempdir");
    let folder = keys.path().display().to_string();
    python::run_script("security_oauth.py", "-", &["keygen", &folder]).expect("keygen");
    let agent = Agent::builder()
        .listener("SASL_PLAINTEXT")
        .arg("--sasl-mechanisms")
        .arg("OAUTHBEARER,SCRAM-SHA-512")
        .arg("--oauth-jwks-file")
        .arg(keys.path().join("jwks.json").display().to_string())
        .arg("--oauth-expected-audience")
        .arg("floe")
        .arg("--oauth-expected-issuer")
        .arg("https://idp.test")
        .env("FLOE_LOG", "info")
        .start()
        .expect("start agent");
    let topic = unique_topic("oauth");
    let addr = agent.listener_addr("SASL_PLAINTEXT").to_string();
    python::run_script("security_oauth.py", &addr, &["run", &folder, &topic])
        .expect("security_oauth.py");
    assert!(
        agent.log().contains("principal=User:svc-orders"),
        "the principal is the token's sub:\n{}",
        agent.log()
    );
    assert!(!topic_exists(&agent, &format!("{topic}-denied")));
}

/// A token signed with the key of `dir`, naming `kid`, for `sub`.
fn oauth_token(dir: &std::path::Path, kid: &str, sub: &str) -> String {
    let out = python::run_script(
        "security_oauth.py",
        "-",
        &["token", &dir.display().to_string(), kid, sub],
    )
    .expect("token");
    out.stdout.trim().to_string()
}

/// A key pair in a folder of its own, its JWKS naming `kid`.
fn oauth_key(kid: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let folder = dir.path().display().to_string();
    python::run_script("security_oauth.py", "-", &["keygen", &folder, kid]).expect("keygen");
    let jwks = std::fs::read_to_string(dir.path().join("jwks.json")).expect("jwks");
    (dir, jwks)
}

/// Authenticates a fresh raw connection with OAUTHBEARER `token`: the
/// SaslAuthenticate error code.
fn oauth_code(addr: std::net::SocketAddr, token: &str) -> i16 {
    let mut raw = RawClient::connect(addr).expect("connect");
    assert_eq!(handshake(&mut raw, "OAUTHBEARER"), 0);
    let message = format!("n,,\u{1}auth=Bearer {token}\u{1}\u{1}");
    authenticate(&mut raw, message.as_bytes()).error_code
}

/// OAUTHBEARER keys from a JWKS endpoint (KIP-768): fetched at start, fetched
/// again at once for a token naming an unknown kid (once per kid: the same
/// unknown kid again causes no fetch), so a key rotated in is accepted at once
/// and a key rotated out is refused; a failing endpoint keeps the keys in force;
/// an agent whose endpoint fails at start does not start.
#[test]
fn oauthbearer_keys_come_from_a_jwks_endpoint_and_rotate() {
    let (first, first_jwks) = oauth_key("k1");
    let (second, _) = oauth_key("k2");
    let (third, third_jwks) = oauth_key("k3");
    let endpoint = jwks_server::JwksServer::start(first_jwks);
    let agent = Agent::builder()
        .listener("SASL_PLAINTEXT")
        .arg("--sasl-mechanisms")
        .arg("OAUTHBEARER")
        .arg("--oauth-jwks-url")
        .arg(endpoint.url())
        .arg("--oauth-expected-audience")
        .arg("floe")
        .env("FLOE_LOG", "info")
        .start()
        .expect("start agent");
    let addr = agent.listener_addr("SASL_PLAINTEXT");
    assert_eq!(endpoint.requests(), 1, "fetched once at start");
    assert_eq!(
        oauth_code(addr, &oauth_token(first.path(), "k1", "svc-one")),
        0
    );
    assert_eq!(endpoint.requests(), 1, "a known kid causes no fetch");

    // A kid the endpoint does not have: fetched again, still refused; the
    // same kid again is not fetched for.
    let unknown = oauth_token(second.path(), "k2", "svc-two");
    assert_eq!(oauth_code(addr, &unknown), SASL_AUTHENTICATION_FAILED);
    assert_eq!(endpoint.requests(), 2, "an unknown kid causes a fetch");
    assert_eq!(oauth_code(addr, &unknown), SASL_AUTHENTICATION_FAILED);
    assert_eq!(endpoint.requests(), 2, "once per kid");

    // Rotation: the endpoint now has k3 only.
    endpoint.set(jwks_server::Answer::Jwks(third_jwks));
    let rotated_in = oauth_token(third.path(), "k3", "svc-three");
    assert_eq!(oauth_code(addr, &rotated_in), 0, "the new key at once");
    assert_eq!(endpoint.requests(), 3);
    assert_eq!(
        oauth_code(addr, &oauth_token(first.path(), "k1", "svc-one")),
        SASL_AUTHENTICATION_FAILED,
        "the key rotated out is refused"
    );
    assert!(
        agent.log().contains("principal=User:svc-three"),
        "the principal is the token's sub:\n{}",
        agent.log()
    );

    // The endpoint fails: the keys in force stay.
    endpoint.set(jwks_server::Answer::Failure);
    let (fourth, _) = oauth_key("k4");
    assert_eq!(
        oauth_code(addr, &oauth_token(fourth.path(), "k4", "svc-four")),
        SASL_AUTHENTICATION_FAILED
    );
    let fetched = endpoint.requests();
    assert!(fetched >= 5, "{fetched} fetches");
    assert_eq!(
        oauth_code(addr, &rotated_in),
        0,
        "kept through a failed fetch"
    );
    assert!(
        agent.log().contains("cannot fetch the JWKS"),
        "{}",
        agent.log()
    );

    let refused = Agent::builder()
        .listener("SASL_PLAINTEXT")
        .arg("--sasl-mechanisms")
        .arg("OAUTHBEARER")
        .arg("--oauth-jwks-url")
        .arg(endpoint.url())
        .start();
    let err = format!("{:#}", refused.expect_err("started without its JWKS"));
    assert!(err.contains("HTTP 500"), "{err}");
}

/// The endpoint is fetched again every `--oauth-jwks-refresh-ms` with no client
/// asking, and keys it adds are then known.
#[test]
fn the_jwks_endpoint_is_fetched_every_refresh_interval() {
    let (first, first_jwks) = oauth_key("k1");
    let endpoint = jwks_server::JwksServer::start(first_jwks);
    let agent = Agent::builder()
        .listener("SASL_PLAINTEXT")
        .arg("--sasl-mechanisms")
        .arg("OAUTHBEARER")
        .arg("--oauth-jwks-url")
        .arg(endpoint.url())
        .arg("--oauth-jwks-refresh-ms")
        .arg("200")
        .start()
        .expect("start agent");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while endpoint.requests() < 3 {
        assert!(
            std::time::Instant::now() < deadline,
            "fetched {} times",
            endpoint.requests()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let addr = agent.listener_addr("SASL_PLAINTEXT");
    assert_eq!(oauth_code(addr, &oauth_token(first.path(), "k1", "svc")), 0);
}

/// SaslHandshake v0 (which Kafka 4.4 still lists, 0–1): the tokens that follow
/// are bare size-prefixed frames, each answered the same way (PLAIN's empty
/// reply is a frame of size 0); once authenticated the connection speaks Kafka
/// again; a wrong password closes the connection unanswered, as Kafka does. Then
/// kafka-python as a 0.11 client (SaslHandshake v0) with PLAIN and
/// SCRAM-SHA-512 produces and reads back, and is refused with a wrong password.
#[test]
fn sasl_handshake_v0_takes_bare_tokens() {
    let mut ca = TestCa::new().expect("ca");
    let agent = sasl_agent(&mut ca, |b| b);
    set_user(&agent, "carol", "SCRAM-SHA-512", "carol-secret");
    let addr = agent.listener_addr("SASL_PLAINTEXT");

    let mut raw = RawClient::connect(addr).expect("connect");
    let versions = raw.api_versions(3).expect("api versions");
    let handshake_range = versions
        .api_keys
        .iter()
        .find(|k| k.api_key == 17)
        .map(|k| (k.min_version, k.max_version));
    assert_eq!(handshake_range, Some((0, 1)), "as Kafka 4.4 lists it");
    let req = SaslHandshakeRequest::default().with_mechanism(StrBytes::from_static_str("PLAIN"));
    assert_eq!(
        raw.request(0, &req).expect("SaslHandshake v0").error_code,
        0
    );
    raw.send_frame(&plain("carol", "carol-secret"))
        .expect("bare token");
    let reply = raw.read_frame().expect("read").expect("a reply frame");
    assert!(reply.is_empty(), "PLAIN answers an empty token: {reply:?}");
    let metadata = raw
        .request(12, &MetadataRequest::default())
        .expect("metadata once authenticated");
    assert!(!metadata.brokers.is_empty());

    let mut wrong = RawClient::connect(addr).expect("connect");
    assert_eq!(
        wrong.request(0, &req).expect("SaslHandshake v0").error_code,
        0
    );
    wrong
        .send_frame(&plain("carol", "not-the-password"))
        .expect("bare token");
    wrong.expect_closed().expect("closed without an answer");

    let topic = unique_topic("sasl-v0");
    let mut admin = RawClient::connect(agent.kafka_addr()).expect("connect");
    assert_eq!(admin.create_topic(&topic, 1).expect("create"), 0);
    let addr = addr.to_string();
    for mechanism in ["PLAIN", "SCRAM-SHA-512"] {
        python::run_script(
            "sasl_handshake_v0.py",
            &addr,
            &[&topic, mechanism, "carol", "carol-secret"],
        )
        .unwrap_or_else(|e| panic!("kafka-python 0.11 with {mechanism}: {e:#}"));
        python::run_script(
            "sasl_handshake_v0.py",
            &addr,
            &[&topic, mechanism, "carol", "wrong:nope"],
        )
        .unwrap_or_else(|e| panic!("kafka-python 0.11 with a wrong password: {e:#}"));
    }
}

/// The SASL exchange is exempt from `request_percentage`, as in Kafka: a client
/// far over its request-time quota still authenticates unthrottled (its
/// SaslHandshake and SaslAuthenticate count nothing), and its requests after
/// that are throttled.
#[test]
fn the_sasl_exchange_is_exempt_from_the_request_quota() {
    use floe_tests::quotas::{alter, entry, request_as};
    let mut ca = TestCa::new().expect("ca");
    let agent = sasl_agent(&mut ca, |b| b);
    set_user(&agent, "dave", "SCRAM-SHA-512", "dave-secret");
    let mut admin = RawClient::connect(agent.kafka_addr()).expect("connect");
    let outcome = alter(
        &mut admin,
        vec![entry(
            &[("client-id", Some("greedy"))],
            &[("request_percentage", Some(0.001))],
        )],
        false,
    )
    .expect("alter");
    assert_eq!(outcome, vec![(0, None)]);
    let mut client = RawClient::connect(agent.listener_addr("SASL_PLAINTEXT")).expect("connect");
    for _ in 0..3 {
        let req =
            SaslHandshakeRequest::default().with_mechanism(StrBytes::from_static_str("PLAIN"));
        let handshake = request_as(&mut client, "greedy", 1, &req).expect("handshake");
        assert_eq!(handshake.error_code, 0);
        let req = SaslAuthenticateRequest::default()
            .with_auth_bytes(Bytes::from(plain("dave", "dave-secret")));
        let done = request_as(&mut client, "greedy", 2, &req).expect("authenticate");
        assert_eq!(done.error_code, 0, "{:?}", done.error_message);
    }
    let throttled = |agent: &Agent| {
        agent
            .metrics()
            .expect("metrics")
            .lines()
            .find(|l| l.starts_with("floe_quota_throttled_requests_total{kind=\"request\"}"))
            .map(str::to_string)
    };
    assert_eq!(throttled(&agent), None, "the SASL exchange counted nothing");
    // Counted requests are: one Metadata takes more than 10 µs of the
    // 10 µs a second allowed (a few at most, however fast the machine).
    let mut throttle = 0;
    for _ in 0..20 {
        let metadata =
            request_as(&mut client, "greedy", 12, &MetadataRequest::default()).expect("metadata");
        throttle = metadata.throttle_time_ms;
        if throttle > 0 {
            break;
        }
    }
    assert!(
        throttle > 0,
        "the requests after the exchange are throttled"
    );
    assert!(throttled(&agent).is_some());
}
