"""Every refusal the services can build names the article it encodes (issue 13).

Two halves. tests/conftest.py checks every refusal a test provokes, whatever its path; this
test reads the source, so a refusal no test reaches is held to the same rule: each
``RuleViolation`` and ``IllegalTransition`` built under services/ and shared/ gets a rule that
cites an article (or says it is Netra's own), either as written or through a module constant.
A rule taken from rule data (``basis.cite()``, an entry's article) is passed along by name and
checked where the data is loaded and by the runtime half.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from shared.refusals import NETRA_RULE, STATE_MACHINE
from tests.support.refusals import cites_the_law

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted(
    p for d in ("services", "shared") for p in (ROOT / d).rglob("*.py") if "migrations" not in p.parts
)
REFUSALS = {"RuleViolation": 2, "IllegalTransition": 4}  # the rule's position among the arguments
KNOWN = {"NETRA_RULE": NETRA_RULE, "STATE_MACHINE": STATE_MACHINE}
# Rules handed on from where they were built, or from rule data with its article.
PASSED_ON = {"rule", "last.rule", "error.rule"}


def _constants(tree: ast.Module) -> dict[str, str]:
    found = dict(KNOWN)
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            text = _text(node.value, found)
            if text is not None:
                found[node.targets[0].id] = text
    return found


def _text(node: ast.expr, constants: dict[str, str]) -> str | None:
    """The rule as written: literals, known constants, and ``{…}`` for what is computed."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        return constants.get(node.id)
    if isinstance(node, ast.JoinedStr):
        parts = []
        for value in node.values:
            if isinstance(value, ast.FormattedValue):
                inner = _text(value.value, constants)
                parts.append(inner if inner is not None else "{" + ast.unparse(value.value) + "}")
            else:
                parts.append(_text(value, constants) or "")
        return "".join(parts)
    return None


def _cited_by_data(text: str) -> bool:
    # An f-string whose citation is the rule data's own (an article, a basis, a cite()).
    return any(word in text for word in ("cite()", "article", "basis"))


def refusals() -> list[tuple[str, int, str, str]]:
    """(file, line, class, rule as written) for every refusal built in the source."""
    found = []
    for path in SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        constants = _constants(tree)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name not in REFUSALS:
                continue
            keywords = {k.arg: k.value for k in node.keywords}
            position = REFUSALS[name]
            rule = keywords.get("rule") or (node.args[position] if len(node.args) > position else None)
            text = "<default>" if rule is None else _text(rule, constants) or ast.unparse(rule)
            found.append((str(path.relative_to(ROOT)), node.lineno, name, text))
    return found


def test_the_scan_finds_the_refusals() -> None:
    assert len(refusals()) > 40


@pytest.mark.parametrize(("path", "line", "kind", "rule"), refusals(), ids=lambda v: str(v)[:60])
def test_each_refusal_cites_its_article(path: str, line: int, kind: str, rule: str) -> None:
    if rule == "<default>":
        assert kind == "IllegalTransition"  # its default is the state machine, which cites
        assert cites_the_law(STATE_MACHINE)
        return
    assert rule in PASSED_ON or cites_the_law(rule) or _cited_by_data(rule), (
        f"{path}:{line}: {kind} with rule {rule!r} names no article; cite the one it encodes, "
        f"or say it is {NETRA_RULE!r}"
    )
