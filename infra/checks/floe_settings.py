"""The agent's real settings, read from its source: every `FLOE_*` variable
`floe` reads (agent/src/main.rs) and the metric names it exports
(agent/src/metrics.rs), so the deployment files are checked against the code
rather than against a list kept by hand."""

from __future__ import annotations

import pathlib
import re

REPO = pathlib.Path(__file__).resolve().parents[2]

# Variables `floe` reads that are not settings of the config file.
NOT_CONFIG_KEYS = {"FLOE_CONFIG", "FLOE_LOG"}


def env_variables() -> set[str]:
    """Every FLOE_* name in main.rs: the `env = "FLOE_…"` of each flag, and FLOE_LOG."""
    source = (REPO / "agent/src/main.rs").read_text()
    names = set(re.findall(r'"(FLOE_[A-Z0-9_]+)"', source))
    if len(names) < 30:
        raise RuntimeError(f"found only {len(names)} FLOE_* variables in agent/src/main.rs")
    return names


def config_keys() -> set[str]:
    """Keys of the TOML config file: each FLOE_<KEY> flag is the setting <key>."""
    return {name.removeprefix("FLOE_").lower() for name in env_variables() - NOT_CONFIG_KEYS}


def metric_names() -> set[str]:
    """Every series name the agent exports: `floe_` and each name registered in
    metrics.rs, with the `_bucket`, `_sum` and `_count` series of histograms."""
    source = (REPO / "agent/src/metrics.rs").read_text()
    literals = set(re.findall(r'"([a-z][a-z0-9_]*)"', source))
    names = set()
    for literal in literals:
        names.add(f"floe_{literal}")
        for suffix in ("_bucket", "_sum", "_count"):
            names.add(f"floe_{literal}{suffix}")
    if "floe_produce_bytes_total" not in names:
        raise RuntimeError("floe_produce_bytes_total not found in agent/src/metrics.rs")
    return names
