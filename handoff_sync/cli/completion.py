"""`handoff-sync completion bash|zsh|fish`: the shell's completion script, printed.

shtab writes it from the very argparse parser the command line parses with, so a new
command or option completes as soon as it exists, and the script is static: the shell
does not start Python at each TAB. Arguments that take a path say so with ``complete``
(a file or a folder), and complete as paths; arguments with ``choices`` complete as
those words.
"""

from __future__ import annotations

import argparse
from typing import Any

import shtab

FILE = shtab.FILE
DIRECTORY = shtab.DIRECTORY
SHELLS = ("bash", "zsh", "fish")

INSTALL = {
    "bash": "handoff-sync completion bash > ~/.local/share/bash-completion/completions/"
            "handoff-sync",
    "zsh": "handoff-sync completion zsh > ~/.zfunc/_handoff-sync (with fpath+=(~/.zfunc) "
           "before compinit in ~/.zshrc)",
    "fish": "handoff-sync completion fish > ~/.config/fish/completions/handoff-sync.fish",
}


def complete(action: argparse.Action, what: dict[str, Any]) -> argparse.Action:
    """Mark ``action``'s value as a path (``FILE`` or ``DIRECTORY``) for the scripts."""
    action.complete = what  # type: ignore[attr-defined]  # shtab reads this attribute
    return action


def add_completion_command(commands: Any, root: argparse.ArgumentParser) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "completion", help="print the shell completion script for bash, zsh or fish",
        description="Print the completion script of handoff-sync for SHELL: commands, "
                    "options and their values complete with TAB; files and folders "
                    "complete as paths. Install it once, e.g. "
                    + "; ".join(INSTALL.values()) + ".")
    parser.add_argument("shell", choices=SHELLS, metavar="SHELL",
                        help="bash, zsh or fish")
    parser.set_defaults(func=run_completion, completion_root=root)


def run_completion(args: argparse.Namespace) -> int:
    print(script(args.completion_root, args.shell), end="")
    return 0


def script(parser: argparse.ArgumentParser, shell: str) -> str:
    """The completion script of ``parser`` for ``shell``, ending in a newline."""
    text: str = shtab.complete(parser, shell=shell)
    return text if text.endswith("\n") else text + "\n"
