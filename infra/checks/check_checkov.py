"""Runs checkov on infra/terraform offline (--skip-download) and fails on a
failed check not listed, with a reason, in checkov-skips.yaml, or on a listed
check that no longer fails."""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys

import yaml

HERE = pathlib.Path(__file__).resolve().parent
TERRAFORM = HERE.parent / "terraform"


def main() -> int:
    skips = yaml.safe_load((HERE / "checkov-skips.yaml").read_text())["skips"]
    problems = [f"skip {s.get('id')} has no reason" for s in skips if not str(s.get("reason", "")).strip()]
    skipped = {s["id"] for s in skips}
    checkov = pathlib.Path(sys.executable).parent / "checkov"
    result = subprocess.run(
        [str(checkov), "-d", str(TERRAFORM), "--framework", "terraform", "--skip-download",
         "--quiet", "--compact", "-o", "json"],
        capture_output=True, text=True, check=False,
    )
    try:
        reports = json.loads(result.stdout)
    except json.JSONDecodeError:
        print(f"checkov printed no JSON (exit {result.returncode}):\n{result.stdout}\n{result.stderr}", file=sys.stderr)
        return 1
    reports = reports if isinstance(reports, list) else [reports]
    failed: dict[str, list[str]] = {}
    passed = 0
    for report in reports:
        if report.get("summary", {}).get("parsing_errors"):
            problems.append(f"checkov could not parse: {report['results'].get('parsing_errors')}")
        passed += report.get("summary", {}).get("passed", 0)
        for check in report.get("results", {}).get("failed_checks", []):
            failed.setdefault(check["check_id"], []).append(
                f"{check['check_id']} {check['resource']} ({check['file_path']}): {check['check_name']}"
            )
    for check_id, lines in sorted(failed.items()):
        if check_id not in skipped:
            problems += lines
    for check_id in sorted(skipped - failed.keys()):
        problems.append(f"{check_id} is in checkov-skips.yaml but no longer fails: remove it")
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"checkov: {passed} passed, {sum(map(len, failed.values()))} failed "
          f"({len(skipped)} checks skipped with a reason), {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
