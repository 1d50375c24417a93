//! The deployment files of `infra/`, checked offline by the scripts of `infra/checks/`
//! (Python, with python-hcl2, PyYAML, kubernetes-validate and checkov from the venv
//! `scripts/test.sh` sets up at `~/.cache/floe-infra/venv`, and the helm CLI it builds
//! from its Go module into `~/.cache/floe-tools`):
//!
//! - Terraform: every module parses, its variables are typed, described, validated
//!   where it matters and used, examples supply every required input and read only
//!   declared outputs, READMEs match the code, `terraform fmt` is clean;
//! - checkov: no failed check outside the reasoned skip list;
//! - the Helm chart: lint, rendered manifests assert what the chart promises and pass
//!   the Kubernetes schemas;
//! - the Dockerfile, compose file, Prometheus config and Grafana dashboard agree with
//!   the agent's settings (`agent/src/main.rs`) and metrics (`agent/src/metrics.rs`).
//!
//! And each check fails on a copy of `infra/` with one mistake in it, so none of them
//! passes by checking nothing.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use floe_tests::binary::repo_root;
use floe_tests::process::{self, Output};

/// checkov alone takes about 20 s on an idle machine.
const CHECK_TIMEOUT: Duration = Duration::from_secs(600);

/// The infra venv's Python: `FLOE_INFRA_PYTHON`, else `~/.cache/floe-infra/venv`.
fn infra_python() -> PathBuf {
    if let Some(path) = std::env::var_os("FLOE_INFRA_PYTHON") {
        return PathBuf::from(path);
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    let path = home.join(".cache/floe-infra/venv/bin/python");
    assert!(
        path.is_file(),
        "{} is missing: run scripts/test.sh (it creates the infra venv and builds helm)",
        path.display()
    );
    path
}

/// Runs `infra/checks/SCRIPT` of the repository rooted at `root`.
fn run_check(root: &Path, script: &str) -> Output {
    let mut command = Command::new(infra_python());
    command.arg(root.join("infra/checks").join(script));
    process::run(command, b"", CHECK_TIMEOUT).expect("run the check")
}

fn assert_passes(script: &str) {
    let output = run_check(&repo_root(), script);
    eprintln!("{}", output.stdout);
    assert!(output.status.success(), "{}", output.describe());
}

#[test]
fn terraform_modules_parse_are_wired_typed_and_documented() {
    assert_passes("check_terraform.py");
}

#[test]
fn terraform_passes_checkov_except_the_reasoned_skips() {
    assert_passes("check_checkov.py");
}

#[test]
fn helm_chart_lints_and_renders_what_it_promises_within_the_kubernetes_schemas() {
    assert_passes("check_helm.py");
}

#[test]
fn image_compose_and_dashboard_agree_with_the_agents_settings_and_metrics() {
    assert_passes("check_container.py");
}

/// A copy of the repository's `infra/` and the agent sources the checks read.
fn copy_of_repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = repo_root();
    let mut copy = Command::new("cp");
    copy.arg("-r").arg(root.join("infra")).arg(dir.path());
    process::run(copy, b"", CHECK_TIMEOUT)
        .and_then(Output::ensure_success)
        .expect("copy infra/");
    for path in ["agent", "Cargo.toml", ".dockerignore"] {
        std::os::unix::fs::symlink(root.join(path), dir.path().join(path)).expect("symlink");
    }
    dir
}

/// Replaces `from` by `to` in `file` of the copy, which must contain it.
fn break_file(root: &Path, file: &str, from: &str, to: &str) {
    let path = root.join(file);
    let text = std::fs::read_to_string(&path).expect("read");
    assert!(text.contains(from), "{file} no longer contains {from:?}");
    std::fs::write(&path, text.replacen(from, to, 1)).expect("write");
}

fn assert_fails_saying(root: &Path, script: &str, needle: &str) {
    let output = run_check(root, script);
    assert!(
        !output.status.success(),
        "{script} passed a broken copy\n{}",
        output.describe()
    );
    let said = format!("{}{}", output.stdout, output.stderr);
    assert!(
        said.contains(needle),
        "{script} did not say {needle:?}:\n{said}"
    );
}

#[test]
fn each_check_fails_on_a_copy_with_one_mistake() {
    // An example that forgets a required input of a module.
    let copy = copy_of_repo();
    break_file(
        copy.path(),
        "infra/terraform/examples/complete/main.tf",
        "  object_store_url    = module.bucket.object_store_url\n",
        "",
    );
    assert_fails_saying(
        copy.path(),
        "check_terraform.py",
        "required input object_store_url is not supplied",
    );

    // A variable without a description, and a README left stale.
    let copy = copy_of_repo();
    break_file(
        copy.path(),
        "infra/terraform/modules/iam/variables.tf",
        "  description = \"Tags for every resource.\"\n",
        "",
    );
    assert_fails_saying(
        copy.path(),
        "check_terraform.py",
        "variable tags has no description",
    );

    // A role that may do more than its bucket prefix and its secret.
    let copy = copy_of_repo();
    break_file(
        copy.path(),
        "infra/terraform/modules/iam/main.tf",
        "\"s3:DeleteObject\"]",
        "\"s3:DeleteObject\", \"s3:PutBucketPolicy\"]",
    );
    assert_fails_saying(copy.path(), "check_terraform.py", "check_iam");

    // A preStop that no longer matches the grace period.
    let copy = copy_of_repo();
    break_file(
        copy.path(),
        "infra/helm/floe/templates/deployment.yaml",
        "seconds: {{ .Values.shutdown.preStopSleepSeconds }}",
        "seconds: 1",
    );
    assert_fails_saying(copy.path(), "check_helm.py", "preStop");

    // A compose agent with a setting floe does not have, and a dashboard query of a
    // metric it does not export.
    let copy = copy_of_repo();
    break_file(
        copy.path(),
        "infra/compose/docker-compose.yml",
        "FLOE_ZONE: zone-b",
        "FLOE_AVAILABILITY_ZONE: zone-b",
    );
    assert_fails_saying(copy.path(), "check_container.py", "FLOE_AVAILABILITY_ZONE");
    let copy = copy_of_repo();
    break_file(
        copy.path(),
        "infra/compose/grafana/dashboards/floe.json",
        "floe_pending_bytes",
        "floe_pending_produce_bytes",
    );
    assert_fails_saying(
        copy.path(),
        "check_container.py",
        "floe_pending_produce_bytes",
    );
}

/// The helm CLI: `FLOE_HELM`, else `~/.cache/floe-tools/helm`.
fn helm() -> PathBuf {
    if let Some(path) = std::env::var_os("FLOE_HELM") {
        return PathBuf::from(path);
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    home.join(".cache/floe-tools/helm")
}

/// The chart renders the agent's settings from `config:` values into a TOML file the
/// agent reads (`FLOE_CONFIG`); a real agent starts on that file (the config struct
/// refuses unknown keys and wrongly typed values), with whole numbers, booleans and
/// strings from values.
#[test]
fn the_charts_config_file_is_accepted_by_a_real_agent() {
    let mut command = Command::new(helm());
    command
        .args(["template", "r"])
        .arg(repo_root().join("infra/helm/floe"))
        .args([
            "--kube-version",
            "1.33.0",
            "--show-only",
            "templates/configmap.yaml",
            "--set",
            "objectStore.url=s3://b/p",
            "--set",
            "metadata.existingSecret=pg",
            "--set",
            "config.max_connections=500",
            "--set",
            "config.auto_create_topics=false",
            "--set",
            "config.cluster_id=from-helm",
        ]);
    let rendered = process::run(command, b"", CHECK_TIMEOUT)
        .and_then(Output::ensure_success)
        .expect("helm template");
    let mut lines = rendered.stdout.lines();
    lines
        .by_ref()
        .find(|line| line.trim_start().starts_with("floe.toml: |"))
        .expect("floe.toml in the ConfigMap");
    let toml: String = lines
        .take_while(|line| line.starts_with("    "))
        .map(|line| format!("{}\n", &line[4..]))
        .collect();
    for wanted in [
        "max_connections = 500",
        "auto_create_topics = false",
        "cluster_id = \"from-helm\"",
        "default_partitions = 4",
    ] {
        assert!(toml.contains(wanted), "{wanted} not in\n{toml}");
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("floe.toml");
    std::fs::write(&path, &toml).expect("write floe.toml");
    let agent = floe_tests::Agent::builder()
        .arg("--config")
        .arg(path.to_string_lossy().into_owned())
        .start()
        .expect("an agent starts on the chart's config file");
    // The file's settings are in force (the harness passes its own flags for a few
    // others, such as auto_create_topics, which override the file).
    let mut client = floe_tests::RawClient::connect(agent.kafka_addr()).expect("connect");
    let metadata = client.metadata(None, false).expect("metadata");
    assert_eq!(
        metadata.cluster_id.as_ref().map(|id| id.as_str()),
        Some("from-helm"),
        "the cluster id of the chart's config file"
    );
}
