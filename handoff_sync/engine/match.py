"""The matching rules' scoring: candidates and confidences for one registration.

engine.link decides what to do with the candidates (link, review, conflict); this module
only says how alike a registration and an opportunity are, by the formula in link's
docstring. The name comparison is here too because channel conflicts use the same one.

Names are compared without the customer's own words. Partners write the customer's full
name into a deal name ("Hazelmont Robotics loyalty program"), sales ops its first word
("Hazelmont - Loyalty Program"): the customer is what every deal of an account shares, so
its words say nothing about *which* deal this is, and a dropped one must not cost the
match. The words removed are those of the registration's (and, when the opportunity has
one, the opportunity's) account name; when that leaves nothing on either side, the whole
names are compared, so a bare "Acme" does not score 100 against every Acme deal.

Fiscal-period tags (FY27, FY2027, "FY 27", Q3, H1) are dropped from names: ops append
them to some opportunity names and partners never type them, and a period is not a deal's
identity. Names are compared by token-sort similarity (tokens sorted, then plain ratio):
unlike token-set or partial ratios it still charges for a word one side lacks, which is
what tells "Acme quote-to-cash" from "Acme quote-to-cash expansion".
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Hashable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import NamedTuple

from rapidfuzz import fuzz

from connectors.reading import is_blank
from handoff_sync.engine.normalise import Normaliser
from handoff_sync.mapping.policy.file_model import Matching
from handoff_sync.mapping.system.convert import MappedRecord
from handoff_sync.model import CANONICAL_FIELDS, FieldType, Value

NAME_WEIGHT = 2.0
COMMON_KEY_MIN = 50
COMMON_KEY_SHARE = 0.01
_DIGITS = re.compile(r"\d+")
_PERIOD_TAG = re.compile(r"(?:fy|q[1-4]|h[12])(?:\d{2}|\d{4})?")
_PERIOD_WORD = "fy"  # "FY 27" / "FY-2027" split into two tokens by the clean-ups


class Candidate(NamedTuple):
    crm_id: str
    confidence: float
    scores: tuple[tuple[str, float], ...]  # (component, score) as compared

    @property
    def reason(self) -> str:
        """One line for the audit log and the review queue."""
        return f"matched {self.confidence:.2f}: " + ", ".join(
            f"{name} {score:.2f}" for name, score in self.scores)


def name_tokens(norm: Normaliser, value: Value) -> tuple[str, ...]:
    """A name's normalised words, sorted, without fiscal-period tags."""
    if value is None:
        return ()
    text = value if isinstance(value, str) else (
        " ".join(value) if isinstance(value, tuple) else str(value))
    words = norm.text(text).split()
    kept: list[str] = []
    skip_number = False
    for word in words:
        if skip_number and word.isdigit() and len(word) in (2, 4):
            skip_number = False
            continue
        skip_number = word == _PERIOD_WORD
        if _PERIOD_TAG.fullmatch(word):
            continue
        kept.append(word)
    kept.sort()
    return tuple(kept)


def customer_words(norm: Normaliser, value: Value) -> frozenset[str]:
    """The words of an account name: what every deal name of that customer may carry."""
    return frozenset(norm.text(value).split()) if isinstance(value, str) else frozenset()


def deal_words(tokens: tuple[str, ...], customer: frozenset[str]) -> tuple[str, ...]:
    """A name's words that say which deal it is: the customer's words dropped."""
    if not customer:
        return tokens
    return tuple(token for token in tokens if token not in customer)


def name_similarity(mine: tuple[str, ...], theirs: tuple[str, ...],
                    customer: frozenset[str], score_cutoff: float = 0) -> float:
    """0..100: token-sort similarity of two names without the customer's words.

    When either name is nothing but the customer, the whole names are compared.
    """
    left, right = deal_words(mine, customer), deal_words(theirs, customer)
    if not left or not right:
        left, right = mine, theirs
    return fuzz.ratio(" ".join(left), " ".join(right), score_cutoff=score_cutoff)


class Features(NamedTuple):
    """What one record brings to matching, normalised once."""

    fuzzy: tuple[tuple[str, ...], ...]  # per fuzzy field: name_tokens (empty: no value)
    customer: frozenset[str]  # the account name's words
    exact: tuple[Hashable | None, ...]  # per exact field: normalised value
    amount: Decimal | None
    currency: str | None
    close: date | None
    keys: tuple[str, ...]  # blocking keys


class Matcher:
    """Candidates and confidences for registrations against a pool of opportunities."""

    def __init__(self, matching: Matching, norm: Normaliser,
                 pool: Sequence[MappedRecord],
                 features: Sequence[Features] | None = None) -> None:
        """``features``: the pool's, in its order, when already known (engine.memo)."""
        self.norm = norm
        self.fuzzy_fields = tuple(matching.fuzzy)
        self.exact_fields = tuple(matching.exact)
        self.domain_fields = frozenset(
            name for name in matching.exact
            if (spec := CANONICAL_FIELDS.get(name)) is not None and spec.type is FieldType.DOMAIN)
        self.min_score = matching.fuzzy_min_score
        self.tolerance = Decimal(str(matching.amount_tolerance_pct))
        self.window = matching.close_date_window_days
        self.ids = [record.record_id or "" for record in pool]
        self.features = (list(features) if features is not None
                         else [self.features_of(record) for record in pool])
        self.postings: dict[str, list[int]] = defaultdict(list)
        for position, held in enumerate(self.features):
            for key in held.keys:
                self.postings[key].append(position)
        self.common = max(COMMON_KEY_MIN, int(len(pool) * COMMON_KEY_SHARE))

    def features_of(self, record: MappedRecord) -> Features:
        get = record.values.get
        fuzzy = tuple([name_tokens(self.norm, get(name)) for name in self.fuzzy_fields])
        keys = {f"{index}:{token}" for index, tokens in enumerate(fuzzy) for token in tokens}
        exact: tuple[Hashable | None, ...] = ()
        if self.exact_fields:
            exact = tuple([self._exact_value(name, get(name)) for name in self.exact_fields])
            keys.update(f"={index}:{value!r}" for index, value in enumerate(exact)
                        if value is not None)
        currency = get("currency")
        return Features(fuzzy, customer_words(self.norm, get("account_name")), exact,
                        _amount(get("amount")),
                        currency.strip().upper() if isinstance(currency, str) else None,
                        _day(get("close_date")), tuple(keys))

    def _exact_value(self, name: str, value: Value) -> Hashable | None:
        if is_blank(value):
            return None
        if isinstance(value, str):
            text = self.norm.domain(value) if name in self.domain_fields else self.norm.text(value)
            return text or None
        if isinstance(value, tuple):
            return tuple(sorted(self.norm.text(item) for item in value))
        return value

    def candidates(self, record: MappedRecord) -> list[Candidate]:
        """Every candidate for this registration, best first (ties by opportunity id)."""
        return self.candidates_of(self.features_of(record))

    def candidates_of(self, query: Features) -> list[Candidate]:
        """``candidates`` of a registration whose features are known."""
        alive = self._block(query.keys)
        features, cutoff = self.features, self.min_score
        fuzzy_scores: list[dict[int, float]] = []
        for index, mine in enumerate(query.fuzzy):
            found: dict[int, float] = {}
            fuzzy_scores.append(found)
            if not mine:
                continue
            kept: list[int] = []
            for position in alive:
                other = features[position]
                theirs = other.fuzzy[index]
                if not theirs:
                    kept.append(position)  # no name to compare: neutral
                    continue
                customer = query.customer | other.customer if other.customer else query.customer
                score = name_similarity(mine, theirs, customer, cutoff)
                if score:
                    found[position] = score
                    kept.append(position)
            alive = kept
        out = [candidate for position in alive
               if (candidate := self._score(query, position, fuzzy_scores)) is not None]
        out.sort(key=lambda candidate: (-candidate.confidence, candidate.crm_id))
        return out

    def key_sizes(self) -> dict[str, int]:
        """Blocking key -> how many opportunities of the pool hold it."""
        return {key: len(postings) for key, postings in self.postings.items()}

    def _block(self, keys: tuple[str, ...]) -> list[int]:
        sizes = [(len(postings), key) for key in keys
                 if (postings := self.postings.get(key)) is not None]
        if not sizes:
            return []
        chosen = [key for size, key in sizes if size <= self.common] or [min(sizes)[1]]
        if len(chosen) == 1:
            return self.postings[chosen[0]]
        found: set[int] = set()
        for key in chosen:
            found.update(self.postings[key])
        return sorted(found)

    def _score(self, query: Features, position: int,
               fuzzy_scores: list[dict[int, float]]) -> Candidate | None:
        other = self.features[position]
        customer = query.customer | other.customer
        total = weight = 0.0
        parts: list[tuple[str, float]] = []
        for index, name in enumerate(self.fuzzy_fields):
            if query.fuzzy[index] and other.fuzzy[index]:
                score = fuzzy_scores[index][position] / 100
                total += NAME_WEIGHT * score
                weight += NAME_WEIGHT
                parts.append((name, score))
                # Numbers only where both names carry some: one side's alone is neutral.
                mine = _numbers(query.fuzzy[index], customer)
                theirs = _numbers(other.fuzzy[index], customer)
                if mine and theirs:
                    score = 1.0 if mine == theirs else 0.0
                    total += score
                    weight += 1
                    parts.append((f"{name} numbers", score))
        for index, name in enumerate(self.exact_fields):
            exact, other_exact = query.exact[index], other.exact[index]
            if exact is not None and other_exact is not None:
                if exact != other_exact:
                    return None
                total += 1
                weight += 1
                parts.append((name, 1.0))
        for name, compared in (("amount", self._amount_score(query, other)),
                               ("close_date", self._date_score(query, other))):
            if compared is None:
                continue
            if compared < 0:
                return None
            total += compared
            weight += 1
            parts.append((name, compared))
        return Candidate(self.ids[position], round(total / weight, 4), tuple(parts))

    def _amount_score(self, mine: Features, theirs: Features) -> float | None:
        """None: not compared; negative: outside the tolerance; else the 0.5..1 score."""
        if mine.amount is None or theirs.amount is None:
            return None
        if mine.currency and theirs.currency and mine.currency != theirs.currency:
            return None
        larger = max(abs(mine.amount), abs(theirs.amount))
        if not larger:
            return 1.0
        difference = abs(mine.amount - theirs.amount) * 100 / larger
        if difference > self.tolerance:
            return -1.0
        return 1.0 if not self.tolerance else _closeness(float(difference / self.tolerance))

    def _date_score(self, mine: Features, theirs: Features) -> float | None:
        if mine.close is None or theirs.close is None:
            return None
        days = abs((mine.close - theirs.close).days)
        window = self.window
        if days > window:
            return -1.0
        return 1.0 if not window else _closeness(days / window)


def _numbers(tokens: tuple[str, ...], customer: frozenset[str]) -> frozenset[str]:
    """The numbers of a deal name, outside the customer's own name ("3M", "Studio 54")."""
    return frozenset(number for token in deal_words(tokens, customer)
                     for number in _DIGITS.findall(token))


def _closeness(share: float) -> float:
    """0.5..1 for a difference that uses ``share`` (0..1) of its allowed window."""
    return 1 - 0.5 * share * share


def _amount(value: Value) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, (Decimal, int, float)):
        return None
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _day(value: Value) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else None


def auto_choice(candidates: list[Candidate], matching: Matching,
                margin: float) -> Candidate | None:
    """The candidate to link without asking, if one is clearly best; else None."""
    best = candidates[0]
    if best.confidence < matching.auto_link_min_confidence:
        return None
    if len(candidates) > 1:
        runner_up = candidates[1].confidence
        if (runner_up >= matching.auto_link_min_confidence
                or round(best.confidence - runner_up, 4) < margin):
            return None
    return best
