"""Each service's domain imports alone: no web framework, database or Kafka client comes with
it, so its rules can be read, tested and replayed without any of them."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

ADAPTERS = ("flask", "flask_smorest", "sqlalchemy", "psycopg", "kafka", "marshmallow", "alembic", "werkzeug")

# Every module of the domain package, imported in a fresh interpreter.
PROBE = """
import importlib, json, pkgutil, sys
package = importlib.import_module(sys.argv[1])
names = [m.name for m in pkgutil.walk_packages(package.__path__, package.__name__ + ".")]
for name in names:
    importlib.import_module(name)
loaded = sorted({m.split(".")[0] for m in sys.modules} & set(json.loads(sys.argv[2])))
print(json.dumps({"modules": names, "adapters": loaded}))
"""


@pytest.mark.parametrize("service", ["intake", "adjudication", "sanctions"])
def test_the_domain_imports_without_flask_sqlalchemy_or_kafka(service: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, f"services.{service}.domain", json.dumps(ADAPTERS)],
        capture_output=True,
        text=True,
        check=True,
    )
    found = json.loads(result.stdout)
    assert len(found["modules"]) >= 5, f"services.{service}.domain has almost no modules: {found['modules']}"
    assert found["adapters"] == [], f"importing services.{service}.domain loaded {found['adapters']}"
