"""Read infra/<cloud>/*.tf with python-hcl2 into plain Python, and resolve simple string expressions.

Why: the Terraform must name the same resources, keys and roles as the code's configuration,
and no `terraform init` (which needs the registry) may run here. python-hcl2 keeps HCL's
quotes and block markers; this module strips them and evaluates only what the cross-checks
need: `${var.x}` (defaults), `${local.x}`, `replace(..., "a", "b")` and given placeholders.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hcl2

from lab.paths import REPO_ROOT

INFRA = REPO_ROOT / "infra"
REF = re.compile(r"\$\{\s*(var|local)\.(\w+)\s*\}")
REPLACE = re.compile(r'\$\{\s*replace\(\s*(var|local)\.(\w+)\s*,\s*"([^"]*)"\s*,\s*"([^"]*)"\s*\)\s*\}')


def clean(value: Any) -> Any:
    """Drop python-hcl2's markers and the quotes it keeps around strings and labels."""
    if isinstance(value, dict):
        return {clean(k): clean(v) for k, v in value.items() if k not in ("__is_block__", "__comments__")}
    if isinstance(value, list):
        return [clean(v) for v in value]
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


@dataclass
class Module:
    """One Terraform folder: variable defaults, locals, resources and data sources, raw text."""

    path: Path
    variables: dict[str, Any] = field(default_factory=dict)
    locals: dict[str, Any] = field(default_factory=dict)
    resources: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    data: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    text: str = ""

    @classmethod
    def load(cls, path: Path) -> Module:
        mod = cls(path)
        for tf in sorted(path.glob("*.tf")):
            raw = tf.read_text(encoding="utf-8")
            mod.text += raw
            parsed = clean(hcl2.loads(raw))
            for block in parsed.get("variable", []):
                for name, body in block.items():
                    mod.variables[name] = body.get("default")
            for block in parsed.get("locals", []):
                mod.locals.update(block)
            for kind, target in (("resource", mod.resources), ("data", mod.data)):
                for block in parsed.get(kind, []):
                    for rtype, named in block.items():
                        target.setdefault(rtype, {}).update(named)
        return mod

    def resource(self, rtype: str, name: str) -> dict[str, Any]:
        try:
            return self.resources[rtype][name]
        except KeyError:
            raise AssertionError(f"{self.path.name}: no resource {rtype}.{name}") from None

    def resolve(self, value: Any, extra: dict[str, str] | None = None, depth: int = 0) -> Any:
        """Substitute var/local references (and given placeholders) until none is left."""
        if depth > 10 or not isinstance(value, str):
            return value
        extra = extra or {}
        out = REPLACE.sub(lambda m: str(self._lookup(m.group(1), m.group(2), extra, depth)).replace(
            m.group(3), m.group(4)), value)
        out = REF.sub(lambda m: str(self._lookup(m.group(1), m.group(2), extra, depth)), out)
        for placeholder, replacement in extra.items():
            out = out.replace(f"${{{placeholder}}}", replacement)
        return out if out == value else self.resolve(out, extra, depth + 1)

    def _lookup(self, kind: str, name: str, extra: dict[str, str], depth: int) -> Any:
        table = self.variables if kind == "var" else self.locals
        if name not in table:
            raise AssertionError(f"{self.path.name}: {kind}.{name} is not defined")
        return self.resolve(table[name], extra, depth + 1)


def module(cloud: str) -> Module:
    return Module.load(INFRA / cloud)


def skips(text: str) -> list[tuple[str, str]]:
    """(check id, justification) of every inline `#checkov:skip=ID:reason` comment."""
    return re.findall(r"#\s*checkov:skip=([A-Z0-9_]+)(?::([^\n]*))?", text)
