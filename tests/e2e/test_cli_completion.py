"""Issue 21 (4): `handoff-sync completion bash|zsh|fish`, tried in the shells themselves.

The scripts come from the parser the command line parses with (shtab), so each must name
every command; bash is always here, so its script is sourced and asked what `handoff-sync
sy<TAB>` and a path option complete to. zsh and fish are checked when installed.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from handoff_sync.cli.completion import SHELLS
from handoff_sync.cli.main import build_parser, main

BASH_FUNCTION = "_shtab_handoff_sync"


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """Every (sub)command's parser by its name, `mappings validate` as `validate`."""
    found: dict[str, argparse.ArgumentParser] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found[name] = sub
                found.update(subcommands(sub))
    return found


COMMANDS = subcommands(build_parser())


@pytest.fixture(scope="module")
def scripts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("completion")
    written = {}
    for shell in SHELLS:
        result = subprocess.run([sys.executable, "-m", "handoff_sync.cli", "completion", shell],
                                capture_output=True, text=True, timeout=60, check=False)
        assert result.returncode == 0, result.stderr
        written[shell] = folder / f"handoff-sync.{shell}"
        written[shell].write_text(result.stdout)
    return written


def test_the_command_list_is_the_one_users_know() -> None:
    assert {"demo", "init", "migrate", "run", "sync", "status", "review", "plan", "report",
            "mappings", "validate", "explain", "sandbox", "completion", "health",
            "console"} == set(COMMANDS)


@pytest.mark.parametrize("shell", SHELLS)
def test_each_script_names_every_command(shell: str, scripts: dict[str, Path]) -> None:
    text = scripts[shell].read_text()
    assert len(text.splitlines()) > 50
    for name in COMMANDS:
        assert name in text, f"{shell}: {name}"


def test_every_path_option_completes_as_a_path() -> None:
    """An option that takes a Path without a completion would complete as nothing: each
    one says whether it is a file or a folder."""
    for name, parser in COMMANDS.items():
        for action in parser._actions:
            if action.type is Path:
                assert getattr(action, "complete", None) is not None, \
                    f"{name} {'/'.join(action.option_strings) or action.dest}"


def test_an_unknown_shell_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["completion", "tcsh-ish"])
    assert stopped.value.code == 2
    assert "invalid choice: 'tcsh-ish' (choose from 'bash', 'zsh', 'fish')" in \
        capsys.readouterr().err


def bash_complete(script: Path, words: list[str], cwd: Path) -> list[str]:
    """What TAB offers after ``words`` (the last one being typed), asking the script's
    function as bash's programmable completion would."""
    quoted = " ".join(f"'{w}'" for w in words)
    program = (f"source '{script}' && complete -p handoff-sync >&2 && "
               f"COMP_WORDS=({quoted}) && COMP_CWORD={len(words) - 1} && "
               f"COMP_LINE=\"${{COMP_WORDS[*]}}\" && COMP_POINT=${{#COMP_LINE}} && "
               f"{BASH_FUNCTION} && printf '%s\\n' \"${{COMPREPLY[@]}}\"")
    result = subprocess.run(["bash", "--norc", "--noprofile", "-c", program], cwd=cwd,
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert f"-F {BASH_FUNCTION} handoff-sync" in result.stderr  # registered for the command
    return [line for line in result.stdout.splitlines() if line]


def test_bash_completes_commands_options_and_paths(scripts: dict[str, Path],
                                                   tmp_path: Path) -> None:
    (tmp_path / "handoff-sync.yaml").write_text("version: 1\n")
    (tmp_path / "mappings").mkdir()
    (tmp_path / "mappings.txt").write_text("")
    bash = scripts["bash"]
    assert bash_complete(bash, ["handoff-sync", "sy"], tmp_path) == ["sync"]
    assert bash_complete(bash, ["handoff-sync", "mappings", "ex"], tmp_path) == ["explain"]
    assert bash_complete(bash, ["handoff-sync", "sync", "--on"], tmp_path) == ["--once"]
    assert bash_complete(bash, ["handoff-sync", "sync", "--config", "hand"], tmp_path) == [
        "handoff-sync.yaml"]
    # A folder option offers folders only: not mappings.txt.
    assert bash_complete(bash, ["handoff-sync", "init", "--mappings", "map"], tmp_path) == [
        "mappings"]
    assert bash_complete(bash, ["handoff-sync", "init", "--pack", ""], tmp_path) == [
        "default", "salesforce-prm-hubspot-crm"]


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed")
def test_zsh_reads_the_script_and_registers_it(scripts: dict[str, Path]) -> None:
    script = scripts["zsh"]
    assert script.read_text().startswith("#compdef handoff-sync\n")
    checked = subprocess.run(["zsh", "-n", str(script)], capture_output=True, text=True,
                             timeout=60, check=False)
    assert checked.returncode == 0, checked.stderr
    # eval'd after compinit, as `eval "$(handoff-sync completion zsh)"` in ~/.zshrc does.
    program = (f"autoload -Uz compinit && compinit -u -D && eval \"$(cat '{script}')\" && "
               "print -r -- ${_comps[handoff-sync]}")
    result = subprocess.run(["zsh", "-f", "-c", program], capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == BASH_FUNCTION  # shtab names it the same for zsh


@pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed")
def test_fish_completes_the_commands(scripts: dict[str, Path], tmp_path: Path) -> None:
    script = scripts["fish"]
    checked = subprocess.run(["fish", "-n", str(script)], capture_output=True, text=True,
                             timeout=60, check=False)
    assert checked.returncode == 0, checked.stderr
    (tmp_path / "mappings").mkdir()
    program = (f"source '{script}'; complete -C 'handoff-sync sy'; "
               "complete -C 'handoff-sync init --mappings map'")
    result = subprocess.run(["fish", "--no-config", "-c", program], cwd=tmp_path,
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    offered = [line.split("\t")[0] for line in result.stdout.splitlines()]
    assert offered == ["sync", "mappings/"]
