#!/usr/bin/env bash
# The test command for Floe on a fresh Debian machine (run as root).
#
# Installs what the end-to-end tests need (idempotently, and quickly when it is
# already there): Debian's kcat (librdkafka 2.0.2), a Python venv at .venv with
# confluent-kafka, kafka-python and aiokafka, KafkaJS under tests/js (Node.js from
# Debian if missing), and Apache Kafka 4.x: a JRE and Maven from Debian if
# missing, then Kafka's jars resolved by Maven from tests/kafka/pom.xml (cached
# in ~/.m2, the classpath in ~/.cache/floe-kafka, exported as
# FLOE_KAFKA_CLASSPATH for the tests that run Kafka's tools and Kafka itself),
# Kafka Streams' jars likewise from tests/streams/pom.xml (FLOE_STREAMS_CLASSPATH),
# javac for the Java programs of the client matrix and of tests/streams, and Go
# with the franz-go and Sarama modules; builds the `floe` binary; then runs
# `cargo test --workspace`, passing any extra arguments through, e.g.
#   scripts/test.sh -p floe-tests --test kcat -- --nocapture
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# Versions that install on this machine's CPython 3.11 (wheels on PyPI).
CONFLUENT_KAFKA_VERSION="2.16.1"
KAFKA_PYTHON_VERSION="2.3.3"
# aiokafka (asyncio, its own codec) for the client matrix, and the compression
# libraries kafka-python and aiokafka load for snappy, lz4 and zstd.
AIOKAFKA_VERSION="0.14.0"
CRAMJAM_VERSION="2.14.0"
LZ4_VERSION="4.4.5"
ZSTANDARD_VERSION="0.25.0"
PYTHON_SNAPPY_VERSION="0.7.3"
# The archive tier's readers (tests/python/archive.py).
DUCKDB_VERSION="2.0.0"
PYICEBERG_VERSION="0.12.0"
PYARROW_VERSION="26.0.1"
# moto's S3 server stands in for S3 in the multi-agent tests.
MOTO_VERSION="5.2.5"
# The infra checks (setup_infra): versions with wheels for CPython 3.11, and the
# helm release the Go module proxy serves.
PYTHON_HCL2_VERSION="8.1.4"
PYYAML_VERSION="6.0.3"
KUBERNETES_VALIDATE_VERSION="1.37.0"
CHECKOV_VERSION="3.3.30"
HELM_VERSION="v3.21.4"
# postgresql: the throwaway Postgres clusters of the metadata and multi-agent tests
# (initdb, pg_ctl, psql).
APT_PACKAGES=(kcat postgresql)

log() { printf '==> %s\n' "$*" >&2; }

install_apt_packages() {
    local missing=()
    local pkg
    for pkg in "$@"; do
        if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
            missing+=("$pkg")
        fi
    done
    if [ "${#missing[@]}" -eq 0 ]; then
        return 0
    fi
    log "installing Debian packages: ${missing[*]}"
    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        sudo=(sudo)
    fi
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null
}

setup_venv() {
    local venv="$ROOT/.venv"
    local stamp="$venv/.floe-requirements"
    local want="confluent-kafka==$CONFLUENT_KAFKA_VERSION kafka-python==$KAFKA_PYTHON_VERSION moto[server]==$MOTO_VERSION"
    want="$want aiokafka==$AIOKAFKA_VERSION cramjam==$CRAMJAM_VERSION lz4==$LZ4_VERSION zstandard==$ZSTANDARD_VERSION python-snappy==$PYTHON_SNAPPY_VERSION"
    want="$want duckdb==$DUCKDB_VERSION pyiceberg==$PYICEBERG_VERSION pyarrow==$PYARROW_VERSION"
    if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        return 0
    fi
    log "setting up the Python venv at .venv ($want)"
    if [ ! -x "$venv/bin/python" ]; then
        if ! python3 -m venv "$venv" 2>/dev/null; then
            # Debian's own python3 keeps venv in a separate package.
            rm -rf "$venv"
            install_apt_packages python3-venv
            python3 -m venv "$venv"
        fi
    fi
    # shellcheck disable=SC2086
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check $want
    echo "$want" >"$stamp"
}

# KafkaJS (tests/js): Node.js from Debian if the machine has none, then the
# packages pinned in tests/js/package-lock.json.
# Apache Kafka for the reference tests (tests/tests/kafka_tools.rs,
# tests/tests/differential.rs) and the benchmarks: Java and Maven from Debian if
# missing, then the jars of tests/kafka/pom.xml. The classpath is cached beside a
# copy of the pom it came from, so a second run costs no Maven start at all.
setup_kafka() {
    if ! command -v java >/dev/null 2>&1; then
        install_apt_packages default-jre-headless
    fi
    if ! command -v mvn >/dev/null 2>&1; then
        install_apt_packages maven
    fi
    local pom="$ROOT/tests/kafka/pom.xml"
    local cache="$HOME/.cache/floe-kafka"
    local classpath="$cache/classpath.txt"
    if [ -s "$classpath" ] && cmp -s "$pom" "$cache/pom.xml" \
        && tr ':' '\n' <"$classpath" | while read -r jar; do [ -f "$jar" ] || exit 1; done; then
        FLOE_KAFKA_CLASSPATH="$(cat "$classpath")"
        export FLOE_KAFKA_CLASSPATH
        return 0
    fi
    log "resolving Apache Kafka's jars with Maven (tests/kafka/pom.xml)"
    mkdir -p "$cache"
    mvn --batch-mode --quiet -Dstyle.color=never -f "$pom" dependency:build-classpath \
        -Dmdep.outputFile="$classpath.new" >&2
    mv "$classpath.new" "$classpath"
    cp "$pom" "$cache/pom.xml"
    FLOE_KAFKA_CLASSPATH="$(cat "$classpath")"
    export FLOE_KAFKA_CLASSPATH
}

# Kafka Streams for the exactly-once test (tests/tests/streams_eos.rs) and the Java
# transaction test: the jars of tests/streams/pom.xml (kafka-streams and its
# kafka-clients), resolved and cached like Kafka's, exported as
# FLOE_STREAMS_CLASSPATH. The harness compiles tests/streams/*.java against it.
setup_streams() {
    local pom="$ROOT/tests/streams/pom.xml"
    local cache="$HOME/.cache/floe-streams"
    local classpath="$cache/classpath.txt"
    if [ -s "$classpath" ] && cmp -s "$pom" "$cache/pom.xml" \
        && tr ':' '\n' <"$classpath" | while read -r jar; do [ -f "$jar" ] || exit 1; done; then
        FLOE_STREAMS_CLASSPATH="$(cat "$classpath")"
        export FLOE_STREAMS_CLASSPATH
        return 0
    fi
    log "resolving Kafka Streams' jars with Maven (tests/streams/pom.xml)"
    mkdir -p "$cache"
    mvn --batch-mode --quiet -Dstyle.color=never -f "$pom" dependency:build-classpath \
        -Dmdep.outputFile="$classpath.new" >&2
    mv "$classpath.new" "$classpath"
    cp "$pom" "$cache/pom.xml"
    FLOE_STREAMS_CLASSPATH="$(cat "$classpath")"
    export FLOE_STREAMS_CLASSPATH
}

setup_node() {
    if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
        install_apt_packages nodejs npm
    fi
    local dir="$ROOT/tests/js"
    local stamp="$dir/node_modules/.floe-lock"
    if [ -f "$stamp" ] && cmp -s "$dir/package-lock.json" "$stamp"; then
        return 0
    fi
    log "installing the KafkaJS test packages (npm ci in tests/js)"
    (cd "$dir" && npm ci --silent --no-audit --no-fund)
    cp "$dir/package-lock.json" "$stamp"
}

# Go for the client matrix's franz-go and Sarama programs (tests/clients/go):
# Go's own install in /usr/local/go if present, else Debian's golang-go; the
# modules pinned in go.sum are fetched from the Go module proxy once, into
# ~/.cache/floe-go, where the test's `go build` finds them (and its build cache);
# they need Go 1.26, which an older `go` fetches from the proxy there too.
setup_go() {
    if [ -x /usr/local/go/bin/go ]; then
        PATH="$PATH:/usr/local/go/bin"
    elif ! command -v go >/dev/null 2>&1; then
        install_apt_packages golang-go
    fi
    (cd "$ROOT/tests/clients/go" \
        && GOMODCACHE="$HOME/.cache/floe-go/mod" GOCACHE="$HOME/.cache/floe-go/build" \
            GOTOOLCHAIN=auto go mod download)
}

# The offline checks of infra/ (tests/tests/infra.rs): a venv of their own at
# ~/.cache/floe-infra/venv (checkov pins many packages; kept apart from .venv)
# with python-hcl2, PyYAML, kubernetes-validate and checkov, and the helm CLI
# built once from its Go module into ~/.cache/floe-tools (needs setup_go first).
# The terraform CLI is used for `terraform fmt -check` only where it is installed.
setup_infra() {
    local venv="$HOME/.cache/floe-infra/venv"
    local stamp="$venv/.floe-requirements"
    local want="python-hcl2==$PYTHON_HCL2_VERSION pyyaml==$PYYAML_VERSION kubernetes-validate==$KUBERNETES_VALIDATE_VERSION checkov==$CHECKOV_VERSION"
    if ! [ -x "$venv/bin/python" ] || ! [ -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
        log "setting up the infra checks venv at $venv ($want)"
        mkdir -p "$(dirname "$venv")"
        if [ ! -x "$venv/bin/python" ]; then
            python3 -m venv "$venv" 2>/dev/null || { install_apt_packages python3-venv; python3 -m venv "$venv"; }
        fi
        # shellcheck disable=SC2086
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check $want
        echo "$want" >"$stamp"
    fi
    export FLOE_INFRA_PYTHON="$venv/bin/python"
    local tools="$HOME/.cache/floe-tools"
    if ! [ -x "$tools/helm" ] || ! [ -f "$tools/.helm-$HELM_VERSION" ]; then
        log "building helm $HELM_VERSION from its Go module into $tools"
        mkdir -p "$tools"
        GOBIN="$tools" GOMODCACHE="$HOME/.cache/floe-go/mod" GOCACHE="$HOME/.cache/floe-go/build" \
            GOTOOLCHAIN=auto go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
        touch "$tools/.helm-$HELM_VERSION"
    fi
    export FLOE_HELM="$tools/helm"
}

# javac for the client matrix's Java program (compiled against Kafka's jars).
setup_javac() {
    if ! command -v javac >/dev/null 2>&1; then
        install_apt_packages default-jdk-headless
    fi
}

install_apt_packages "${APT_PACKAGES[@]}"
setup_venv
setup_node
setup_kafka
setup_streams
setup_javac
setup_go
setup_infra

log "building the floe binary"
cargo build --quiet -p floe-agent --bin floe

export FLOE_TEST_PYTHON="${FLOE_TEST_PYTHON:-$ROOT/.venv/bin/python}"

# The whole workspace unless the caller picked packages (-p/--package before `--`).
scope=(--workspace)
for arg in "$@"; do
    case "$arg" in
        --) break ;;
        -p | --package | -p* | --package=*) scope=() ;;
    esac
done
log "running cargo test --no-fail-fast ${scope[*]} $*"
# Keep cargo's output as it streams, then close with one line totalling every
# test binary (cargo's own last line is the doc tests', often empty).
results="$(mktemp)"
trap 'rm -f "$results"' EXIT
status=0
cargo test --no-fail-fast "${scope[@]}" "$@" 2>&1 | tee "$results" || status=$?
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed;?$/) p += $i; if ($(i+1) ~ /^failed;?$/) f += $i; if ($(i+1) ~ /^ignored;?$/) s += $i } }
     END { printf "tests: %d passed, %d failed, %d skipped\n", p, f, s }' "$results"
exit "$status"
