"""A machine without Java, Maven or PostgreSQL gets a message naming what is missing."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from shared.pg_embedded import EmbeddedPostgres, EmbeddedPostgresError
from tests.conftest import KAFKA_SH

# What kafka.sh itself needs from the system, without java and mvn.
BASICS = ("bash", "sed", "dirname", "mkdir", "ls", "rm", "touch", "cat", "grep", "tail", "sleep", "seq")


def path_without_java_and_maven(tmp_path: Path) -> str:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in BASICS:
        found = shutil.which(tool)
        assert found, tool
        (bin_dir / tool).symlink_to(found)
    return str(bin_dir)


@pytest.mark.parametrize(("command", "missing"), [("start", "java is missing"), ("fetch", "java is missing")])
def test_kafka_sh_names_a_missing_java(tmp_path: Path, command: str, missing: str) -> None:
    env = {
        **os.environ,
        "PATH": path_without_java_and_maven(tmp_path),
        "NETRA_CACHE": str(tmp_path / "cache"),
    }
    args = [str(KAFKA_SH), command] + ([str(tmp_path / "data"), "1", "2"] if command == "start" else [])
    result = subprocess.run(["bash", *args], env=env, capture_output=True, text=True, check=False)
    assert result.returncode != 0
    assert missing in result.stderr


def test_kafka_sh_names_a_missing_maven(tmp_path: Path) -> None:
    bin_dir = path_without_java_and_maven(tmp_path)
    java = shutil.which("java")
    assert java
    Path(bin_dir, "java").symlink_to(java)
    env = {**os.environ, "PATH": bin_dir, "NETRA_CACHE": str(tmp_path / "cache")}
    result = subprocess.run(
        ["bash", str(KAFKA_SH), "fetch"], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode != 0
    assert "mvn is missing" in result.stderr


def test_a_missing_postgresql_wheel_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    with pytest.raises(EmbeddedPostgresError, match="PostgreSQL is missing"):
        EmbeddedPostgres(tmp_path / "pg").start()
