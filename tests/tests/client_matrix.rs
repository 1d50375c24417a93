//! The client matrix: one scenario (`tests/clients/`), written once per client family,
//! run by every family against Apache Kafka 4.x (the reference, proving the program
//! right) and against Floe on the embedded default, in one test so the binary starts
//! one Kafka and one Floe.
//!
//! The scenario: create a topic with configs, produce 25 keyed records with headers
//! and timestamps to partition 0, five under each compression codec, read them back
//! exactly (offsets, keys, values, headers, timestamps), read them in a group and
//! commit, describe and alter configs, add partitions, delete records below offset 10,
//! find offset 15 by its timestamp, delete the topic. Each program checks what it read
//! and prints what it observed; [`clients::compare`] holds every client to the same
//! details.
//!
//! Set `FLOE_MATRIX_CLIENTS=confluent,kcat,...` to run only some clients. Without
//! `FLOE_KAFKA_CLASSPATH` (set by `scripts/test.sh`) the test prints why and returns.

#[path = "client_matrix/kcat_scenario.rs"]
mod kcat_scenario;
#[path = "client_matrix/rdkafka_scenario.rs"]
mod rdkafka_scenario;

use std::process::Command;

use anyhow::Result;

use floe_tests::clients::{self, ALL_CODECS, Step};
use floe_tests::{Agent, kafka_ref, python, unique_topic};

/// Steps that fail on Floe only because an API is missing or incomplete there, per
/// client (`*` for all), with what is missing: empty since the admin and config
/// APIs landed. Every step must pass on Floe as on Kafka.
const NOT_YET: &[(&str, &[&str], &str)] = &[];

/// The steps whose failure is accepted on Floe for `client`.
fn not_yet(client: &str) -> Vec<&'static str> {
    NOT_YET
        .iter()
        .filter(|(who, _, _)| *who == "*" || *who == client)
        .flat_map(|(_, steps, _)| steps.iter().copied())
        .collect()
}

/// KafkaJS compresses only with gzip out of the box: its snappy, lz4 and zstd batches
/// go uncompressed.
const KAFKAJS_CODECS: &[&str] = &["none", "gzip", "none", "none", "none"];

/// One client family's scenario program.
struct Client {
    /// Its name in `FLOE_MATRIX_CLIENTS` and in messages.
    name: &'static str,
    /// The codec of each of the five batches (all five, unless the client lacks some).
    codecs: &'static [&'static str],
    /// Steps it cannot do at all, not applicable rather than failed (see
    /// `docs/compatibility.md`).
    skipped: &'static [&'static str],
    /// How it runs against `bootstrap` on `topic`.
    runner: Runner,
}

/// A scenario program to start, or (rdkafka for Rust) a scenario run in process.
enum Runner {
    Program(fn(&str, &str) -> Result<Command>),
    InProcess(fn(&str, &str) -> Result<Vec<Step>>),
}

/// Runs `client` against `bootstrap` on `topic`: its steps, and the program's output
/// for messages.
fn run_client(client: &Client, bootstrap: &str, topic: &str) -> Result<(Vec<Step>, String)> {
    match client.runner {
        Runner::Program(command) => {
            let output = clients::run(command(bootstrap, topic)?)?;
            let steps = clients::parse_steps(&output.stdout)?;
            clients::ensure_started(&output, &steps)?;
            Ok((steps, output.describe()))
        }
        Runner::InProcess(scenario) => Ok((scenario(bootstrap, topic)?, String::new())),
    }
}

fn python_program(script: &str, bootstrap: &str, topic: &str) -> Result<Command> {
    let mut cmd = Command::new(python::interpreter()?);
    cmd.arg("-u")
        .arg(clients::clients_dir().join("python").join(script))
        .arg(bootstrap)
        .arg(topic);
    Ok(cmd)
}

const CLIENTS: &[Client] = &[
    Client {
        name: "confluent",
        codecs: ALL_CODECS,
        skipped: &[],
        runner: Runner::Program(|b, t| python_program("confluent_scenario.py", b, t)),
    },
    Client {
        name: "kafka-python",
        codecs: ALL_CODECS,
        skipped: &[],
        runner: Runner::Program(|b, t| python_program("kafka_python_scenario.py", b, t)),
    },
    Client {
        name: "aiokafka",
        codecs: ALL_CODECS,
        skipped: &[],
        runner: Runner::Program(|b, t| python_program("aiokafka_scenario.py", b, t)),
    },
    Client {
        name: "kafkajs",
        codecs: KAFKAJS_CODECS,
        skipped: &[],
        runner: Runner::Program(|b, t| clients::node_command("kafkajs_scenario.js", b, t)),
    },
    Client {
        name: "java",
        codecs: ALL_CODECS,
        skipped: &[],
        runner: Runner::Program(clients::java_command),
    },
    Client {
        name: "franz-go",
        codecs: ALL_CODECS,
        skipped: &[],
        runner: Runner::Program(|b, t| clients::go_command("franz", b, t)),
    },
    Client {
        name: "sarama",
        codecs: ALL_CODECS,
        skipped: &[],
        runner: Runner::Program(|b, t| clients::go_command("sarama", b, t)),
    },
    Client {
        name: "kcat",
        codecs: ALL_CODECS,
        skipped: kcat_scenario::NOT_APPLICABLE,
        runner: Runner::InProcess(kcat_scenario::run),
    },
    Client {
        name: "rdkafka",
        codecs: ALL_CODECS,
        skipped: &[],
        runner: Runner::InProcess(rdkafka_scenario::run),
    },
];

#[test]
fn every_client_runs_the_scenario_on_kafka_and_floe() {
    let Some(kafka) = kafka_ref::shared("client_matrix") else {
        return;
    };
    let agent = Agent::builder()
        .auto_create(false)
        .start()
        .expect("start agent");
    let only = std::env::var("FLOE_MATRIX_CLIENTS").ok();
    let selected: Vec<&Client> = CLIENTS
        .iter()
        .filter(|c| {
            only.as_deref()
                .is_none_or(|o| o.split(',').any(|n| n == c.name))
        })
        .collect();
    assert!(
        !selected.is_empty(),
        "FLOE_MATRIX_CLIENTS selects no client"
    );

    let mut failures = Vec::new();
    for client in selected {
        let floe_allowed = not_yet(client.name);
        for (target, bootstrap, allowed) in [
            ("kafka", kafka.bootstrap(), &[][..]),
            ("floe", agent.bootstrap(), &floe_allowed[..]),
        ] {
            let topic = unique_topic(&format!("matrix-{}-{target}", client.name));
            let (steps, output) = run_client(client, &bootstrap, &topic)
                .unwrap_or_else(|e| panic!("{} on {target}: {e:#}", client.name));
            for step in &steps {
                eprintln!(
                    "{} on {target}: {} {} {}",
                    client.name,
                    step.step,
                    if step.ok { "ok" } else { "FAILED" },
                    step.detail
                );
            }
            let problems = clients::compare(&steps, client.codecs, client.skipped, allowed);
            if !problems.is_empty() {
                failures.push(format!(
                    "{} on {target}:\n  {}\n{}",
                    client.name,
                    problems.join("\n  "),
                    output
                ));
            }
        }
    }
    if !failures.is_empty() {
        panic!("{}\n--- floe log ---\n{}", failures.join("\n"), agent.log());
    }
    for (who, steps, missing) in NOT_YET {
        eprintln!("on Floe, accepted failures of {who}: {steps:?}, for want of {missing}");
    }
}
