"""Offline checks of infra/terraform (no provider download needed):

- every .tf file parses (python-hcl2);
- every variable has a type and a description, every `name` and every number
  of a module has a validation, and every variable is used;
- every output has a description;
- every module call names an existing module folder, supplies all its
  required inputs and no unknown one, and reads only outputs it declares;
- every module is called by at least one example;
- each module's README tables match its variables and outputs
  (terraform_docs.py);
- what the modules promise holds (terraform_semantics.py: least privilege,
  the bucket's settings, a durable sequencer, zones, drain and autoscaling on ECS);
- every FLOE_* variable named is a setting of `floe serve`;
- `terraform fmt -check -recursive` passes, when the terraform CLI is on PATH.

Exit status 1 with one line per problem.
"""

from __future__ import annotations

import pathlib
import re
import shutil
import subprocess
import sys

import floe_settings
import terraform_docs
import terraform_semantics
import tf_modules


def check_root(root: tf_modules.Root, by_path: dict[pathlib.Path, tf_modules.Root]) -> list[str]:
    problems = []
    is_module = root.path.parent.name == "modules"
    if "versions.tf" not in root.text or "required_version" not in root.text["versions.tf"]:
        problems.append(f"{root.label}: versions.tf with required_version and required_providers is missing")
    for variable in root.variables.values():
        where = f"{root.label}: variable {variable.name}"
        if not variable.type:
            problems.append(f"{where} has no type")
        if not (variable.description or "").strip():
            problems.append(f"{where} has no description")
        if not tf_modules.uses(root, "var", variable.name):
            problems.append(f"{where} is never used")
        needs_validation = variable.name == "name" or (variable.type == "number" and is_module)
        if is_module and needs_validation and variable.validations == 0:
            problems.append(f"{where} has no validation")
    for output in root.outputs.values():
        if not (output.description or "").strip():
            problems.append(f"{root.label}: output {output.name} has no description")
    for call in root.modules.values():
        where = f"{root.label}: module {call.name}"
        target = (root.path / call.source).resolve()
        module = by_path.get(target)
        if module is None:
            problems.append(f"{where}: source {call.source} is not a module of infra/terraform")
            continue
        for variable in module.variables.values():
            if not variable.has_default and variable.name not in call.inputs:
                problems.append(f"{where}: required input {variable.name} is not supplied")
        for name in call.inputs:
            if name not in module.variables:
                problems.append(f"{where}: input {name} is not a variable of {module.label}")
    for file, source in root.text.items():
        for module_name, output in re.findall(r"\bmodule\.([a-z0-9_]+)\.([a-z0-9_]+)", source):
            call = root.modules.get(module_name)
            if call is None:
                problems.append(f"{root.label}/{file}: module.{module_name} is not called here")
                continue
            module = by_path.get((root.path / call.source).resolve())
            if module is not None and output not in module.outputs:
                problems.append(f"{root.label}/{file}: module.{module_name} has no output {output}")
    real = floe_settings.env_variables()
    for file, source in root.text.items():
        for name in sorted(set(re.findall(r"\bFLOE_[A-Z0-9_]+", source)) - real):
            problems.append(f"{root.label}/{file}: {name} is not a setting of floe serve")
    readme = root.path / "README.md"
    if not readme.exists():
        problems.append(f"{root.label}: README.md is missing")
    elif terraform_docs.render(root, readme.read_text()) != readme.read_text():
        problems.append(f"{root.label}: README tables are stale (run python infra/checks/terraform_docs.py)")
    return problems


def check_fmt() -> list[str]:
    terraform = shutil.which("terraform") or shutil.which("tofu")
    if terraform is None:
        print("terraform fmt: skipped, no terraform or tofu on PATH")
        return []
    result = subprocess.run(
        [terraform, "fmt", "-check", "-recursive", "-diff", str(tf_modules.TERRAFORM)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        return [f"terraform fmt -check failed:\n{result.stdout}{result.stderr}"]
    print(f"terraform fmt -check -recursive: clean ({terraform})")
    return []


def main() -> int:
    roots = tf_modules.roots()
    by_path = {root.path.resolve(): root for root in roots}
    problems = []
    for root in roots:
        problems += check_root(root, by_path)
    called = {
        (root.path / call.source).resolve()
        for root in roots
        if root.path.parent.name == "examples"
        for call in root.modules.values()
    }
    for root in roots:
        if root.path.parent.name == "modules" and root.path.resolve() not in called:
            problems.append(f"{root.label}: no example calls this module")
    problems += terraform_semantics.main()
    problems += check_fmt()
    for problem in problems:
        print(problem, file=sys.stderr)
    counted = sum(len(r.variables) for r in roots), sum(len(r.outputs) for r in roots)
    print(f"{len(roots)} roots, {counted[0]} variables, {counted[1]} outputs: {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
