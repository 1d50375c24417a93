"""Reads the Terraform roots under infra/terraform with python-hcl2: their
variables, outputs and module calls, for the checks and the README generator."""

from __future__ import annotations

import dataclasses
import pathlib
import re

import hcl2

INFRA = pathlib.Path(__file__).resolve().parent.parent
TERRAFORM = INFRA / "terraform"


def one(value):
    """hcl2 wraps every attribute in a list; attributes appear once."""
    if isinstance(value, list) and len(value) == 1:
        return value[0]
    return value


def unwrap(expression) -> str:
    """`${string}` -> `string`, as written in the source."""
    text = str(one(expression))
    if text.startswith("${") and text.endswith("}"):
        return text[2:-1]
    return text


@dataclasses.dataclass
class Variable:
    name: str
    type: str | None
    description: str | None
    default: object
    has_default: bool
    validations: int


@dataclasses.dataclass
class Output:
    name: str
    description: str | None


@dataclasses.dataclass
class ModuleCall:
    name: str
    source: str
    inputs: dict[str, object]


@dataclasses.dataclass
class Root:
    """One folder of .tf files: a module or an example."""

    path: pathlib.Path
    variables: dict[str, Variable]
    outputs: dict[str, Output]
    modules: dict[str, ModuleCall]
    text: dict[str, str]

    @property
    def label(self) -> str:
        return str(self.path.relative_to(TERRAFORM))


def load(path: pathlib.Path) -> Root:
    variables: dict[str, Variable] = {}
    outputs: dict[str, Output] = {}
    modules: dict[str, ModuleCall] = {}
    text: dict[str, str] = {}
    for file in sorted(path.glob("*.tf")):
        source = file.read_text()
        text[file.name] = source
        parsed = hcl2.loads(source)
        for block in parsed.get("variable", []):
            for name, body in block.items():
                variables[name] = Variable(
                    name=name,
                    type=unwrap(body["type"]) if "type" in body else None,
                    description=one(body.get("description")),
                    default=one(body.get("default")),
                    has_default="default" in body,
                    validations=len(body.get("validation", [])),
                )
        for block in parsed.get("output", []):
            for name, body in block.items():
                outputs[name] = Output(name=name, description=one(body.get("description")))
        for block in parsed.get("module", []):
            for name, body in block.items():
                inputs = {
                    key: value
                    for key, value in body.items()
                    if key not in ("source", "version", "providers", "depends_on", "count", "for_each")
                    and not key.startswith("__")
                }
                modules[name] = ModuleCall(name=name, source=one(body["source"]), inputs=inputs)
    return Root(path=path, variables=variables, outputs=outputs, modules=modules, text=text)


def roots() -> list[Root]:
    """Every module and example, in a stable order."""
    folders = sorted((TERRAFORM / "modules").iterdir()) + sorted((TERRAFORM / "examples").iterdir())
    return [load(folder) for folder in folders if folder.is_dir()]


def uses(root: Root, kind: str, name: str) -> bool:
    """Whether `kind.name` (var.x, module.x) appears outside the variables file."""
    pattern = re.compile(rf"\b{kind}\.{re.escape(name)}\b")
    return any(pattern.search(source) for file, source in root.text.items() if file != "variables.tf")
