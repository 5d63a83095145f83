"""Check handoff.yaml's ``routing:`` section: teams, rules and the fallback queue owner.

``check_routing`` is part of every `mappings validate` (through ``check_policy``): rules
naming a team that is not defined or a field no mapping provides, a cap below 1, an empty
team, a person listed twice, a rule that names nobody. ``routing_user_problems`` is the
live half (`mappings validate --live`): every email routing names must be one active CRM
user, else deals meant for that person would go to the next rule or the fallback.
"""

from __future__ import annotations

from typing import Protocol

from connectors.reading import did_you_mean
from handoff_sync.mapping.policy.defined import keys_of
from handoff_sync.mapping.policy.file_model import Condition, Routing
from handoff_sync.mapping.system.transforms import ValueProblem, read_email
from handoff_sync.model import FieldType, OwnerDirectory
from handoff_sync.problems.partial import Gaps
from handoff_sync.problems.report import KeyPath, Problem, one_of
from handoff_sync.problems.yaml_source import YamlDocument

ROUTE_KINDS = ("owner", "team", "partner_ae")
"""The keys of which a routing rule gives exactly one."""
_EMAIL_TYPES = (FieldType.EMAIL, FieldType.TEXT)
_PATH: KeyPath = ("routing",)


class Checker(Protocol):
    """What policy/checks.py's checker offers (problems at paths, field and condition
    checks against the system mappings)."""

    document: YamlDocument
    gaps: Gaps

    def add(self, path: KeyPath, message: str, hint: str = "", *,
            at_key: bool = False) -> None: ...

    def field(self, path: KeyPath, name: str, *,
              both_sides: bool = False) -> FieldType | None: ...

    def condition(self, path: KeyPath, condition: Condition) -> None: ...


def check_routing(check: Checker, routing: Routing) -> None:
    """Every problem with ``routing:`` that the files alone show."""
    if routing.fallback_owner is not None:
        _email(check, (*_PATH, "fallback_owner"), routing.fallback_owner)
    for team_id, team in routing.teams.items():
        team_path: KeyPath = (*_PATH, "teams", team_id)
        if not team.members and not check.gaps.lost((*team_path, "members")):
            check.add((*team_path, "members"), f"team '{team_id}' has no members",
                      "list the CRM users' emails, e.g. members: [ann@example.com]")
        seen: set[str] = set()
        for index, member in enumerate(team.members):
            email = _email(check, (*team_path, "members", index), member)
            if email is not None and email in seen:
                check.add((*team_path, "members", index), f"{email} is listed twice in "
                          f"team '{team_id}'", "list each person once")
            seen.add(email or member)
        if team.cap is not None and team.cap < 1:
            check.add((*team_path, "cap"), f"cap {team.cap}: every member of team "
                      f"'{team_id}' would be at the cap, so nobody gets a deal",
                      "give at least 1 (open handoffs per person), or remove 'cap' for "
                      "no limit")
    # What a rule may name: also the teams that did not load (their typo is reported).
    teams = keys_of(check.document.data, (*_PATH, "teams"))
    for index, rule in enumerate(routing.rules):
        rule_path: KeyPath = (*_PATH, "rules", index)
        given = [kind for kind in ROUTE_KINDS if getattr(rule, kind) is not None]
        if not given:
            check.add(rule_path, f"routing rule {index + 1} names nobody",
                      f"give one of {one_of(ROUTE_KINDS)}")
        elif len(given) > 1:
            check.add((*rule_path, given[1]), f"routing rule {index + 1} gives "
                      f"{one_of(given)}; a rule "
                      "routes one way", "split it into one rule per kind (first match wins)")
        if rule.when is not None:
            check.condition((*rule_path, "when"), rule.when)
        if rule.owner is not None:
            _email(check, (*rule_path, "owner"), rule.owner)
        if rule.team is not None and teams.lacks(rule.team):
            check.add((*rule_path, "team"), f"no team '{rule.team}' under routing.teams",
                      did_you_mean(rule.team, teams.ids) or
                      (f"teams: {one_of(teams.ids)}" if teams.ids
                       else "define it under 'routing: teams:'"))
        if rule.partner_ae is not None:
            field_type = check.field((*rule_path, "partner_ae"), rule.partner_ae)
            if field_type is not None and field_type not in _EMAIL_TYPES:
                check.add((*rule_path, "partner_ae"), f"'{rule.partner_ae}' is "
                          f"{field_type.value}; partner_ae names a field holding the AE's "
                          "email", "e.g. a custom field mapped from the partner account")


def _email(check: Checker, path: KeyPath, raw: str) -> str | None:
    try:
        return read_email(raw)
    except ValueProblem as exc:
        check.add(path, str(exc), "write the CRM user's email")
        return None


def named_emails(routing: Routing) -> list[tuple[KeyPath, str]]:
    """Every email routing names, with where: the fallback, rule owners, team members."""
    found: list[tuple[KeyPath, str]] = []
    if routing.fallback_owner is not None:
        found.append(((*_PATH, "fallback_owner"), routing.fallback_owner))
    for index, rule in enumerate(routing.rules):
        if rule.owner is not None:
            found.append(((*_PATH, "rules", index, "owner"), rule.owner))
    for team_id, team in routing.teams.items():
        found.extend(((*_PATH, "teams", team_id, "members", index), member)
                     for index, member in enumerate(team.members))
    return found


def routing_user_problems(document: YamlDocument, routing: Routing, owners: OwnerDirectory,
                          system: str) -> list[Problem]:
    """`validate --live`: each email routing names that is not exactly one active user
    of the CRM (``system``), at its line in handoff.yaml."""
    problems = []
    for path, raw in named_emails(routing):
        email = raw.strip().lower()
        if owners.id_for(email) is not None:
            continue
        holders = owners.active_holders(email)
        if len(holders) > 1:
            message = (f"{len(holders)} active {system} users share the email {email}; "
                       "routing would guess")
            hint = "deactivate the extra user or give it its own email"
        else:
            message = f"no active {system} user has the email {email}"
            hint = (did_you_mean(email, owners.active_emails()) or
                    f"add or reactivate the user in {system}, or correct the email")
        problems.append(document.problem(path, message, hint))
    return problems
