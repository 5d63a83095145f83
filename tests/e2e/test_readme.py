"""The README, run as a new user types it: its runnable blocks, from a fresh venv, against
the sandbox.

A block marked ``<!-- runnable: install -->`` runs in a copy of the checkout and creates
the venv the rest use; ``<!-- runnable: background -->`` is started and left running (the
sandbox, "in a second terminal") until the others are done; ``<!-- runnable -->`` blocks
run in order in the same folder with the venv active, each under ``set -e``, and must
exit 0. The sandbox's port, 8765 in the README, is swapped for a free one. The
dependencies come from the test run's own environment (PYTHONPATH) so the install is
quick and offline; the package itself, its entry point and the activation are the new
venv's. The top two commands (install + demo, tests) are what `.ci/run` runs.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
README_PORT = "8765"
BLOCK = re.compile(r"<!-- runnable(?:: (?P<kind>[a-z]+))? -->\n```sh\n(?P<body>.*?)```", re.S)

pytestmark = pytest.mark.heavy


@dataclass(frozen=True)
class Block:
    kind: str  # install, background or run
    body: str
    line: int  # in README.md, for the failure message


def runnable_blocks(text: str) -> list[Block]:
    return [Block(match["kind"] or "run", match["body"],
                  text.count("\n", 0, match.start()) + 1)
            for match in BLOCK.finditer(text)]


def test_readme_marks_an_install_a_sandbox_and_commands() -> None:
    kinds = [block.kind for block in runnable_blocks(README.read_text())]
    assert kinds[:2] == ["install", "background"], kinds
    assert kinds.count("run") >= 2


def test_the_top_commands_are_the_ones_ci_runs() -> None:
    first = README.read_text().split("```sh\n", 1)[1].split("```", 1)[0].splitlines()
    setup, tests = (line.split("#", 1)[0].strip() for line in first[:2])
    ci = (ROOT / ".ci" / "run").read_text()
    assert "-e '.[test]'" in setup and "-e '.[test]'" in ci
    assert setup.endswith("&& .venv/bin/handoff-sync demo")
    assert ci.rstrip().splitlines()[-1] == tests == ".venv/bin/python -m pytest"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def copy_checkout(to: Path) -> None:
    """The files a clone would have (tracked, plus new ones not ignored): no .venv."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others",
                             "--exclude-standard"], cwd=ROOT, check=True,
                            capture_output=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (to / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, to / name)


def user_environment(home: Path) -> dict[str, str]:
    keep = {"PATH", "LANG", "LC_ALL", "TMPDIR", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL",
            "PIP_FIND_LINKS", "PIP_CACHE_DIR", "XDG_CACHE_HOME"}
    env = {name: value for name, value in os.environ.items() if name in keep}
    # The test run's interpreter directory leaves PATH: `python3` is the machine's.
    here = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p != here)
    env.setdefault("PIP_CACHE_DIR", str(Path.home() / ".cache" / "pip"))
    env["HOME"] = str(home)
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["PYTHONPATH"] = sysconfig.get_paths()["purelib"]  # dependencies, already installed
    return env


def run_block(block: Block, cwd: Path, env: dict[str, str], *, activate: bool) -> str:
    script = ("set -euo pipefail\n" + ("source .venv/bin/activate\n" if activate else "")
              + "set -x\n" + block.body)
    done = subprocess.run(["bash", "-c", script], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600)
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"README.md:{block.line}: block failed:\n{output[-6000:]}"
    return output


def wait_for_port(port: int, process: subprocess.Popen[str], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the background block exited {process.returncode}: "
                        f"{process.communicate()[1][-3000:]}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.3)
    pytest.fail(f"nothing listened on {port} within {timeout} s")


def test_runnable_blocks_work_from_a_fresh_venv(tmp_path: Path) -> None:
    port = str(free_port())
    blocks = [Block(b.kind, b.body.replace(README_PORT, port), b.line)
              for b in runnable_blocks(README.read_text())]
    checkout, home = tmp_path / "handoff-sync", tmp_path / "home"
    checkout.mkdir()
    home.mkdir()
    copy_checkout(checkout)
    env = user_environment(home)

    install = run_block(blocks[0], checkout, env, activate=False)
    assert re.search(r"^handoff-sync \d+\.\d+", install, re.M), install
    which = run_block(Block("run", "command -v handoff-sync\n", 0), checkout, env,
                      activate=True)
    assert str(checkout / ".venv" / "bin" / "handoff-sync") in which

    background = subprocess.Popen(
        ["bash", "-c", "source .venv/bin/activate && exec " + blocks[1].body.strip()],
        cwd=checkout, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True)
    try:
        wait_for_port(int(port), background)
        outputs = [run_block(block, checkout, env, activate=True) for block in blocks[2:]]
    finally:
        os.killpg(background.pid, signal.SIGTERM)
        try:
            background.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(background.pid, signal.SIGKILL)
            background.communicate()

    # What the README says those commands leave behind.
    assert (checkout / "handoff-sync.yaml").is_file()
    assert (checkout / "ca.pem").is_file() and (checkout / "secrets").is_dir()
    assert (checkout / "handoff-sync.db").is_file()
    assert (checkout / "report.html").read_text().lstrip().lower().startswith("<!doctype html")
    operator = outputs[0]
    assert "migrated" in operator
    assert "Traceback" not in "".join(outputs)
