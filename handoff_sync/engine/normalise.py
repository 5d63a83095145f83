"""Text clean-ups applied before a registration and an opportunity are compared.

Partners type "ACME Corp.", reps type "Acme Corporation - data platform": the matching
rules (handoff.yaml ``matching.normalise``) say which clean-ups make such texts equal.
The steps run in one fixed order whatever order the policy lists them in, because some
need others first: legal suffixes are found while the punctuation that ends an account
name inside a deal name ("Acme Corp - Data Platform") is still there.

Legal suffixes are whole words (dots allowed: "Inc.", "S.A.") ending the text or a
segment of it - segments end at commas, brackets, colons, pipes, en/em dashes and spaced
hyphens or slashes - so "Acme Corp - Data Platform" loses "Corp" while "Co-Operative
Bank" keeps its "Co". A suffix must follow another word or a separator: "Company" alone
stays "company".

Domains are canonical lower-case hosts already (FieldType.DOMAIN); they only lose a
leading "www." when strip_www is asked for, never their dots.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Iterable

LEGAL_SUFFIXES = frozenset({
    "inc", "llc", "ltd", "limited", "gmbh", "ag", "sa", "sas", "bv", "nv", "plc", "pty",
    "corp", "corporation", "co", "company", "srl", "spa", "oy", "ab", "as",
})

STEPS = ("lowercase", "strip_www", "strip_legal_suffixes", "strip_punctuation",
         "collapse_spaces", "trim")

_SEPARATOR = r"[\u2013\u2014,;:|()\[\]{}]"
_LEGAL_WORD = "|".join(r"\.?".join(word) + r"\.?"  # "s.a." and "sa" alike
                       for word in sorted(LEGAL_SUFFIXES, key=len, reverse=True))
_LEGAL_RUN = re.compile(
    rf"(?i)(?:(?<=\S)\s+|(?<={_SEPARATOR}))(?:{_LEGAL_WORD})(?:\s+(?:{_LEGAL_WORD}))*"
    rf"(?=\s*(?:$|{_SEPARATOR}|[-/]+\s))")
_WWW = re.compile(r"(?i)\b(?:https?://)?www\.")
# Apostrophes and dots are dropped inside words rather than turned into spaces:
# "O'Brien" -> "obrien", "S.A." -> "sa", so initials and elisions stay one token.
# The punctuation people actually type (ASCII, dashes, curly quotes, ellipsis) goes by
# table; a text with anything else outside ASCII takes the regex path.
_COMMON_PUNCTUATION = {ord(char): " " for char in string.punctuation} | {
    code: " " for code in (*range(0x2010, 0x2016), 0x201C, 0x201D, 0x2026, 0xA0)} | {
    ord("'"): None, ord("."): None, 0x2018: None, 0x2019: None}
_JOINERS = re.compile(r"['\u2018\u2019.]")
_PUNCTUATION = re.compile(r"[^\w\s]|_")


class Normaliser:
    """The clean-ups of one policy, with a cache: the same names recur across records."""

    __slots__ = ("_cache", "_hosts", "_steps", "_strip_www")

    def __init__(self, steps: Iterable[str]) -> None:
        wanted = set(steps)
        unknown = wanted - set(STEPS)
        if unknown:
            raise ValueError(f"unknown normalisation steps: {sorted(unknown)}")
        self._steps: tuple[Callable[[str], str], ...] = tuple(
            _STEP_FUNCTIONS[step] for step in STEPS if step in wanted)
        self._strip_www = "strip_www" in wanted
        self._cache: dict[str, str] = {}
        self._hosts: dict[str, str] = {}

    def text(self, value: str) -> str:
        """``value`` after the policy's clean-ups."""
        cached = self._cache.get(value)
        if cached is None:
            cached = value
            for step in self._steps:
                cached = step(cached)
            self._cache[value] = cached
        return cached

    def domain(self, value: str) -> str:
        """A host name, lower-cased, without "www." if the policy says so."""
        host = self._hosts.get(value)
        if host is None:
            host = value.strip().lower()
            if self._strip_www and host.startswith("www."):
                host = host[4:]
            self._hosts[value] = host
        return host


def _strip_punctuation(text: str) -> str:
    text = text.translate(_COMMON_PUNCTUATION)
    return text if text.isascii() else _PUNCTUATION.sub(" ", _JOINERS.sub("", text))


def _collapse(text: str) -> str:
    """Runs of whitespace -> one space; an edge keeps its space (trimming is its own step)."""
    inner = " ".join(text.split())
    if not inner:
        return " " if text else ""
    return (" " if text[0].isspace() else "") + inner + (" " if text[-1].isspace() else "")


def _strip_www(text: str) -> str:
    return _WWW.sub("", text)


def _strip_legal_suffixes(text: str) -> str:
    return _LEGAL_RUN.sub("", text)


_STEP_FUNCTIONS: dict[str, Callable[[str], str]] = {
    "lowercase": str.lower,
    "strip_www": _strip_www,
    "strip_legal_suffixes": _strip_legal_suffixes,
    "strip_punctuation": _strip_punctuation,
    "collapse_spaces": _collapse,
    "trim": str.strip,
}
