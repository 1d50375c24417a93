#!/usr/bin/env python3
"""Measures the lifecycle of one log (docs/benchmarks.md, "Compaction" and
"Archive tier"), from one run: objects and index rows per GiB before and
after compaction and compaction throughput in MiB per agent CPU-second;
then archive throughput per agent CPU-second, Parquet bytes as a fraction of
the segment bytes they replace, and fetch throughput from the archive tier.

1. An agent on a durable Postgres and moto's S3 server, flushing every
   10 ms with compaction off (an interval of a day), takes `floe bench
   produce` at a fixed rate: many small segments, one index row per
   partition per flush.
2. The index is counted in Postgres: live segments (those an index row
   points at), index rows and their bytes.
3. The agent is stopped and started again on the same store and bucket with
   compaction every 200 ms. Once `floe_compaction_input_bytes_total` stops
   moving, the index is counted again, and the agent's CPU seconds over the
   compaction (`floe_process_cpu_seconds_total`, read from /metrics before
   and at its last progress) give the throughput: live bytes read by compaction (every level)
   per CPU-second. The idle agent's own CPU is included, so it is a floor.
4. The agent starts again with every range archived at once
   (`--archive-after-ms 0`) and the segments dropped: once
   `floe_archived_bytes_total` stops moving, the agent's CPU over the
   archival gives the stored batch bytes archived per CPU-second, and the
   Parquet files' sizes (`archive_files`) over the batch bytes they replace
   give the fraction.
5. The agent starts once more (a cold cache) and `floe bench consume` reads
   the topic from the beginning, every byte from Parquet row groups: MB/s
   and MiB served per agent CPU-second.

    cargo build --release -p floe-agent
    scripts/bench_compaction.py                     # 30 s at 10 MB/s, 4 partitions
    scripts/bench_compaction.py --seconds 60 --rate 20000 --partitions 16

The last line of stdout is one JSON object with the numbers.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_targets import ROOT, Moto, Postgres, free_port, peak_rss_mib, wait_http  # noqa: E402

GIB = 2**30
CPU = "floe_process_cpu_seconds_total"
# Seconds without compaction progress that mean it is done.
QUIET = 10


def metrics(http):
    with urllib.request.urlopen(f"http://127.0.0.1:{http}/metrics", timeout=5) as r:
        text = r.read().decode()
    values = {}
    for line in text.splitlines():
        m = re.match(r"^(floe_[a-z_]+)(\{[^}]*\})? ([0-9.e+-]+)$", line)
        if m and not m.group(2):
            values[m.group(1)] = float(m.group(3))
    return values


def count_index(pg):
    """Live segments, their bytes, index rows and the bytes rows point at."""
    query = (
        "SELECT (SELECT count(*) FROM segments s WHERE EXISTS "
        "(SELECT 1 FROM index_rows r WHERE r.segment_id = s.id)), "
        "(SELECT coalesce(sum(size), 0) FROM segments s WHERE EXISTS "
        "(SELECT 1 FROM index_rows r WHERE r.segment_id = s.id)), "
        "(SELECT count(*) FROM index_rows), "
        "(SELECT coalesce(sum(byte_len), 0) FROM index_rows)"
    )
    out = subprocess.run(["psql", pg.url, "-Atc", query], check=True, capture_output=True,
                         text=True).stdout.strip()
    segments, segment_bytes, rows, row_bytes = (int(v) for v in out.split("|"))
    gib = row_bytes / GIB
    return {
        "segments": segments,
        "segment_bytes": segment_bytes,
        "index_rows": rows,
        "record_bytes": row_bytes,
        "objects_per_gib": segments / gib if gib else None,
        "index_rows_per_gib": rows / gib if gib else None,
    }


def psql(pg, query):
    """One number from Postgres."""
    out = subprocess.run(["psql", pg.url, "-Atc", query], check=True, capture_output=True,
                         text=True).stdout.strip()
    return int(out)


def settle(http, counter):
    """Waits until `counter` has moved and then stood still for QUIET seconds:
    the metrics at the start and at its last progress, and the seconds between."""
    start = metrics(http)
    began = time.time()
    last, last_change, at_last = 0, time.time(), start
    while True:
        time.sleep(0.2)
        now = metrics(http)
        moved = now.get(counter, 0)
        if moved != last:
            last, last_change, at_last = moved, time.time(), now
        elif moved > 0 and time.time() - last_change > QUIET:
            return start, at_last, last_change - began
        if time.time() - began > 600:
            raise RuntimeError(f"{counter} did not settle within 10 minutes")


def start_agent(floe, pg, moto, prefix, data, kafka, http, extra):
    env = dict(os.environ)
    env.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_REGION="us-east-1",
               AWS_ENDPOINT_URL=moto.endpoint, AWS_ALLOW_HTTP="true")
    args = [floe, "serve", "--data-dir", data, "--kafka-listen", f"127.0.0.1:{kafka}",
            "--http-listen", f"127.0.0.1:{http}", "--metadata", pg.url,
            "--object-store", f"s3://floe-bench/{prefix}", "--flush-interval-ms", "10"] + extra
    agent = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_http(f"http://127.0.0.1:{http}/readyz")
    return agent


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--floe", default=None, help="the floe binary [release build]")
    parser.add_argument("--seconds", type=int, default=30, help="seconds of produce")
    parser.add_argument("--rate", type=int, default=10000, help="records/s of 1 KiB")
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--target-bytes", type=int, default=64 * 2**20)
    opts = parser.parse_args()
    target_dir = os.environ.get("CARGO_TARGET_DIR", str(ROOT / "target"))
    floe = opts.floe or f"{target_dir}/release/floe"
    pg = Postgres()
    try:
        moto = Moto()
    except BaseException:
        pg.stop()
        raise
    data = tempfile.mkdtemp(prefix="floe-bench-compaction-")
    prefix = f"compaction-{time.time_ns()}"
    kafka, http = free_port(), free_port()
    result = {"config": vars(opts)}
    try:
        agent = start_agent(floe, pg, moto, prefix, data, kafka, http,
                            ["--compaction-interval-ms", str(86_400_000)])
        try:
            bench = [floe, "bench", "produce", "--bootstrap", f"127.0.0.1:{kafka}", "--topic",
                     "lifecycle", "--duration", str(opts.seconds), "--warmup", "0", "--rate",
                     str(opts.rate), "--record-size", "1024", "--acks", "all", "--partitions",
                     str(opts.partitions), "--json"]
            out = subprocess.run(bench, check=True, capture_output=True, text=True).stdout
            produced = json.loads(out.strip().splitlines()[-1])
            result["produce_mb_per_sec"] = produced["mb_per_sec"]
        finally:
            agent.terminate()
            agent.wait()
        result["before"] = count_index(pg)
        print(f"before: {result['before']}", file=sys.stderr)

        agent = start_agent(floe, pg, moto, prefix, data, kafka, http,
                            ["--compaction-interval-ms", "200",
                             "--compaction-target-bytes", str(opts.target_bytes)])
        try:
            # Done once compaction has moved bytes and then nothing more for
            # QUIET seconds; CPU and time are taken at its last progress.
            start, now, seconds = settle(http, "floe_compaction_input_bytes_total")
            cpu = now[CPU] - start[CPU]
            mib = (now.get("floe_compaction_input_bytes_total", 0)
                   - start.get("floe_compaction_input_bytes_total", 0)) / 2**20
            result["compaction"] = {
                "input_mib": mib,
                "output_mib": (now.get("floe_compaction_output_bytes_total", 0)
                               - start.get("floe_compaction_output_bytes_total", 0)) / 2**20,
                "input_segments": now.get("floe_compaction_input_segments_total", 0),
                "output_segments": now.get("floe_compaction_output_segments_total", 0),
                "rows_removed": now.get("floe_compaction_rows_removed_total", 0),
                "rows_added": now.get("floe_compaction_rows_added_total", 0),
                "agent_cpu_seconds": cpu,
                "wall_seconds": seconds,
                "mib_per_cpu_second": mib / cpu if cpu > 0 else None,
                "agent_peak_rss_mib": peak_rss_mib(agent.pid),
            }
        finally:
            agent.terminate()
            agent.wait()
        result["after"] = count_index(pg)
        print(f"after: {result['after']}", file=sys.stderr)

        agent = start_agent(floe, pg, moto, prefix, data, kafka, http,
                            ["--compaction-interval-ms", str(86_400_000),
                             "--archive-interval-ms", "200", "--archive-enabled", "true",
                             "--archive-after-ms", "0", "--archive-drop-segments", "true"])
        try:
            start, now, seconds = settle(http, "floe_archived_bytes_total")
            cpu = now[CPU] - start[CPU]
            batch_mib = result["after"]["record_bytes"] / 2**20
            parquet = psql(pg, "SELECT coalesce(sum(size), 0) FROM archive_files")
            result["archive"] = {
                "batch_mib": batch_mib,
                "record_mib": (now.get("floe_archived_bytes_total", 0)
                               - start.get("floe_archived_bytes_total", 0)) / 2**20,
                "files": now.get("floe_archived_files_total", 0),
                "parquet_mib": parquet / 2**20,
                "parquet_fraction": parquet / result["after"]["record_bytes"],
                "agent_cpu_seconds": cpu,
                "wall_seconds": seconds,
                "mib_per_cpu_second": batch_mib / cpu if cpu > 0 else None,
            }
        finally:
            agent.terminate()
            agent.wait()
        result["archived"] = count_index(pg)
        print(f"archived: {result['archived']}", file=sys.stderr)

        agent = start_agent(floe, pg, moto, prefix, data, kafka, http,
                            ["--compaction-interval-ms", str(86_400_000)])
        try:
            start = metrics(http)
            bench = [floe, "bench", "consume", "--bootstrap", f"127.0.0.1:{kafka}", "--topic",
                     "lifecycle", "--partitions", str(opts.partitions), "--json"]
            out = subprocess.run(bench, check=True, capture_output=True, text=True).stdout
            consumed = json.loads(out.strip().splitlines()[-1])
            now = metrics(http)
            cpu = now[CPU] - start[CPU]
            served = (now.get("floe_fetch_bytes_total", 0)
                      - start.get("floe_fetch_bytes_total", 0)) / 2**20
            result["archive_fetch"] = {
                "mb_per_sec": consumed["mb_per_sec"],
                "served_mib": served,
                "parquet_read_mib": (now.get("floe_archive_read_bytes_total", 0)
                                     - start.get("floe_archive_read_bytes_total", 0)) / 2**20,
                "agent_cpu_seconds": cpu,
                "mib_per_cpu_second": served / cpu if cpu > 0 else None,
            }
        finally:
            agent.terminate()
            agent.wait()
    finally:
        pg.stop()
        moto.stop()
        subprocess.run(["rm", "-rf", data])

    b, a, c = result["before"], result["after"], result["compaction"]
    fmt = lambda v, d=0: "–" if v is None else f"{v:,.{d}f}"
    print("| | live objects | index rows | record GiB | objects/GiB | index rows/GiB |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for label, r in (("before compaction", b), ("after compaction", a)):
        print(f"| {label} | {r['segments']:,} | {r['index_rows']:,} | "
              f"{fmt(r['record_bytes'] / GIB, 3)} | {fmt(r['objects_per_gib'])} | "
              f"{fmt(r['index_rows_per_gib'])} |")
    print()
    print(f"compaction: {fmt(c['input_mib'], 1)} MiB read (all levels) into "
          f"{fmt(c['output_mib'], 1)} MiB, {fmt(c['agent_cpu_seconds'], 2)} agent CPU-s, "
          f"{fmt(c['mib_per_cpu_second'])} MiB per agent CPU-s, agent peak RSS "
          f"{fmt(c['agent_peak_rss_mib'])} MiB; goal <= 256 index rows/GiB: "
          f"{'met' if (a['index_rows_per_gib'] or 0) <= 256 else 'NOT met'}")
    ar, af = result["archive"], result["archive_fetch"]
    print(f"archive: {fmt(ar['batch_mib'], 1)} MiB of stored batches into "
          f"{fmt(ar['files'])} Parquet files of {fmt(ar['parquet_mib'], 1)} MiB "
          f"({fmt(ar['parquet_fraction'], 2)} of the segment bytes), "
          f"{fmt(ar['agent_cpu_seconds'], 2)} agent CPU-s, "
          f"{fmt(ar['mib_per_cpu_second'], 1)} MiB per agent CPU-s")
    print(f"fetch from the archive tier: {fmt(af['mb_per_sec'], 1)} MB/s, "
          f"{fmt(af['served_mib'], 1)} MiB served from {fmt(af['parquet_read_mib'], 1)} MiB "
          f"of Parquet, {fmt(af['mib_per_cpu_second'])} MiB per agent CPU-s")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
