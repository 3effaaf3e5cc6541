"""What a new user meets before any code runs: the image recipe, the compose file, the demo script."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_the_image_copies_every_package_and_the_license() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = [p.rstrip("*") for p in project["tool"]["setuptools"]["packages"]["find"]["include"]]
    copied = re.findall(r"^COPY (\S+)", (ROOT / "Dockerfile").read_text(), re.M)
    copied += [
        name
        for line in re.findall(r"^COPY (.+) \./$", (ROOT / "Dockerfile").read_text(), re.M)
        for name in line.split()
    ]
    for needed in [*packages, *project["project"].get("license-files", []), project["project"]["readme"]]:
        assert needed in copied, f"the Dockerfile does not COPY {needed}"


def _compose() -> str:
    found = shutil.which("docker-compose")
    if found is None:
        if os.environ.get("THREADLINE_REQUIRE_SERVERS"):
            pytest.fail("docker-compose is missing (scripts/test installs Debian's docker-compose)")
        pytest.skip("docker-compose is not installed")
    return found


def test_compose_file_is_valid_and_demands_the_database_password(tmp_path: Path) -> None:
    compose = _compose()
    for name in ("compose.yaml", "Dockerfile"):
        shutil.copy(ROOT / name, tmp_path / name)
    (tmp_path / ".env").write_text("PGPASSWORD=example\n")
    (tmp_path / "threadline.toml").write_text("")
    env = {k: v for k, v in os.environ.items() if k != "PGPASSWORD"}
    run = [compose, "-f", "compose.yaml", "config"]
    valid = subprocess.run(run, cwd=tmp_path, capture_output=True, text=True, env=env, timeout=120)
    assert valid.returncode == 0, valid.stderr
    assert "service_completed_successfully" in valid.stdout  # the app waits for the migration
    (tmp_path / ".env").write_text("")
    missing = subprocess.run(run, cwd=tmp_path, capture_output=True, text=True, env=env, timeout=120)
    assert missing.returncode != 0 and "set PGPASSWORD in .env" in missing.stderr


def test_demo_starts_without_reinstalling_when_nothing_changed(tmp_path: Path) -> None:
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "demo", tmp_path / "scripts" / "demo")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    venv = tmp_path / ".venv" / "bin"
    venv.mkdir(parents=True)
    (venv / "threadline").write_text('#!/bin/sh\necho "threadline started with: $*"\n')
    (venv / "threadline").chmod(0o755)
    (venv / "python").write_text("#!/bin/sh\necho 'pip ran' >&2\nexit 1\n")  # any install attempt fails
    (venv / "python").chmod(0o755)
    digest = hashlib.sha256((tmp_path / "pyproject.toml").read_bytes()).hexdigest()
    (tmp_path / ".venv" / ".threadline-installed").write_text(digest + "\n")
    started = subprocess.run(
        ["bash", "scripts/demo", "--for", "1"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert started.returncode == 0, started.stderr
    assert "threadline started with: --config config.example.toml run --for 1" in started.stdout
    assert "pip ran" not in started.stderr

    with (tmp_path / "pyproject.toml").open("a") as changed:
        changed.write("\n# a new dependency\n")
    again = subprocess.run(["bash", "scripts/demo"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert "pip ran" in again.stderr  # a changed project is installed again
