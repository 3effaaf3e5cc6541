"""The Dockerfile and the systemd unit in docs/deploy.md parse and say what they must (no Docker engine
here: the Dockerfile's instructions are parsed and checked; the unit is verified by systemd-analyze when
it is installed, and always parsed with configparser)."""

from __future__ import annotations

import configparser
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
INSTRUCTIONS = {
    "FROM",
    "RUN",
    "CMD",
    "LABEL",
    "EXPOSE",
    "ENV",
    "ADD",
    "COPY",
    "ENTRYPOINT",
    "VOLUME",
    "USER",
    "WORKDIR",
    "ARG",
    "ONBUILD",
    "STOPSIGNAL",
    "HEALTHCHECK",
    "SHELL",
    "MAINTAINER",
}


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    joined = re.sub(r"\\\n", " ", text)
    result = []
    for line in joined.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        word, _, rest = line.partition(" ")
        result.append((word.upper(), rest.strip()))
    return result


def test_dockerfile_builds_a_non_root_image_that_checks_healthz_and_runs_threadline() -> None:
    steps = dockerfile_instructions((ROOT / "Dockerfile").read_text())
    assert all(word in INSTRUCTIONS for word, _ in steps), [w for w, _ in steps if w not in INSTRUCTIONS]
    assert steps[0][0] == "FROM"
    final = max(i for i, (word, _) in enumerate(steps) if word == "FROM")
    stage = steps[final:]
    users = [args for word, args in stage if word == "USER"]
    assert users and users[-1] not in ("root", "0"), "the final stage must run as a non-root user"
    health = [args for word, args in stage if word == "HEALTHCHECK"]
    assert len(health) == 1 and "/healthz" in health[0]
    check = json.loads(health[0][health[0].index("CMD") + 3 :].strip())
    assert isinstance(check, list)
    cmd = [args for word, args in stage if word == "CMD"]
    assert json.loads(cmd[-1]) == ["threadline", "run"]
    copied = " ".join(args for word, args in steps if word == "COPY")
    for package in ("bot", "adapters", "storage", "pyproject.toml"):
        assert package in copied, f"the image needs {package}"


def test_the_healthcheck_command_works_against_a_real_healthz() -> None:
    """Run the HEALTHCHECK's own command against a live /healthz (the exec form, unchanged but the port)."""
    import asyncio

    from adapters.web import WebServer

    steps = dockerfile_instructions((ROOT / "Dockerfile").read_text())
    health = next(args for word, args in steps if word == "HEALTHCHECK")
    command = json.loads(health[health.index("CMD") + 3 :].strip())

    async def probe() -> int:
        server = WebServer("127.0.0.1", 0)
        await server.start()
        try:
            argv = [
                sys.executable if part == "python" else part.replace("8080", str(server.port))
                for part in command
            ]
            process = await asyncio.create_subprocess_exec(*argv)
            return await process.wait()
        finally:
            await server.stop()

    assert asyncio.run(probe()) == 0


def _unit(tmp_path: Path) -> Path:
    text = (ROOT / "docs" / "deploy.md").read_text()
    match = re.search(r"`/etc/systemd/system/threadline.service`:\s*```ini\n(.*?)```", text, re.S)
    assert match, "docs/deploy.md must show the unit in an ```ini block"
    path = tmp_path / "threadline.service"
    path.write_text(match.group(1))
    return path


class _CaseSensitiveParser(configparser.ConfigParser):
    """An INI parser that keeps option names as written (systemd's keys are case-sensitive)."""

    def optionxform(self, optionstr: str) -> str:
        """The option name unchanged."""
        return optionstr


def test_the_systemd_unit_has_what_a_service_needs(tmp_path: Path) -> None:
    parser = _CaseSensitiveParser(strict=False, interpolation=None)
    parser.read(_unit(tmp_path))
    service = parser["Service"]
    assert service["ExecStart"].endswith("threadline run")
    assert service["User"] and service["User"] != "root"
    assert service["KillSignal"] == "SIGTERM" and int(service["TimeoutStopSec"]) >= 20
    assert service["Restart"] in ("on-failure", "always")
    assert parser["Install"]["WantedBy"] == "multi-user.target"
    assert "network-online.target" in parser["Unit"]["After"]


def test_systemd_analyze_verifies_the_unit(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (the unit is still parsed by the test above)")
    unit = _unit(tmp_path)
    threadline = shutil.which("threadline") or str(Path(sys.executable).parent / "threadline")
    unit.write_text(unit.read_text().replace("/opt/threadline/bin/threadline", threadline))
    done = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True, timeout=60)
    problems = [
        line
        for line in (done.stdout + done.stderr).splitlines()
        if "threadline.service" in line and "postgresql.service" not in line
    ]
    assert not problems, done.stdout + done.stderr
