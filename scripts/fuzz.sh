#!/usr/bin/env bash
# Runs every cargo-fuzz target in fuzz/ for SECONDS each (default 60) and
# prints the executions per target. Installs cargo-fuzz if missing. Exits
# non-zero when a target finds a crash (libFuzzer prints the input, and
# saves it under the work folder's artifacts/). Usage:
#   scripts/fuzz.sh [SECONDS]
#
# The fuzz crate builds with nightly (sanitizer flags); without a nightly
# toolchain, stable is used with RUSTC_BOOTSTRAP=1. Builds go to a cached
# target dir ($FLOE_FUZZ_TARGET_DIR, default ~/.cache/floe-fuzz-target) and
# new inputs to a work corpus beside it, so the corpus in the repo
# (fuzz/corpus/<target>/) only ever holds the seeds committed on purpose.
set -euo pipefail

SECONDS_PER_TARGET="${1:-60}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET_DIR="${FLOE_FUZZ_TARGET_DIR:-$HOME/.cache/floe-fuzz-target}"
WORK="$TARGET_DIR/work"
# The fuzzed code must stay within these: a single allocation over
# MALLOC_LIMIT_MB (an allocation sized by a number the input announced) is a
# crash, as is a process over RSS_LIMIT_MB or an input taking TIMEOUT_S.
MAX_LEN=65536
MALLOC_LIMIT_MB=64
RSS_LIMIT_MB=2048
TIMEOUT_S=10

log() { printf '==> %s\n' "$*" >&2; }

if ! cargo fuzz --version >/dev/null 2>&1; then
    log "installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi

toolchain=()
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    toolchain=(+nightly)
else
    log "no nightly toolchain: building with stable and RUSTC_BOOTSTRAP=1"
    export RUSTC_BOOTSTRAP=1
fi

export CARGO_TARGET_DIR="$TARGET_DIR"
cd "$ROOT/fuzz"
targets=$(cargo "${toolchain[@]}" fuzz list)

log "building the fuzz targets (release, address sanitizer)"
cargo "${toolchain[@]}" fuzz build -O

status=0
summary=()
for target in $targets; do
    corpus="$WORK/corpus/$target"
    artifacts="$WORK/artifacts/$target"
    mkdir -p "$corpus" "$artifacts"
    out="$WORK/$target.log"
    log "fuzzing $target for ${SECONDS_PER_TARGET}s"
    # New inputs go to the work corpus; the repo's seeds are read only.
    if cargo "${toolchain[@]}" fuzz run -O "$target" "$corpus" "corpus/$target" -- \
        -max_total_time="$SECONDS_PER_TARGET" -max_len="$MAX_LEN" \
        -malloc_limit_mb="$MALLOC_LIMIT_MB" -rss_limit_mb="$RSS_LIMIT_MB" \
        -timeout="$TIMEOUT_S" -artifact_prefix="$artifacts/" \
        -print_final_stats=1 >"$out" 2>&1; then
        result=ok
    else
        result=FAILED
        status=1
        tail -n 60 "$out" >&2
    fi
    execs=$(awk '/^stat::number_of_executed_units:/ { print $2 }' "$out" | tail -n 1)
    summary+=("$(printf '%-18s %12s executions in %ss  %s' "$target" "${execs:-?}" "$SECONDS_PER_TARGET" "$result")")
done

log "fuzzing summary"
printf '%s\n' "${summary[@]}"
exit "$status"
