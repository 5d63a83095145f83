"""The owner directories a plan can use without calling a system: rebuilt from the store.

Owners reach the engine from the connectors (``PipelineRunner._owner_directories`` reads
each system's user list at the start of a cycle); the store keeps no copy of them. What
it does keep says who is who for the people the pipeline's deals name: each linked
pair's base snapshot holds the canonical values the last cycle mapped (``ae_email``,
``cs_owner_email``, ...) beside the mirror's raw owner ids, and the task ledger and gate
verdicts name every assignee and stage owner. That is enough to map the mirror again
and give each role's work to the same person a cycle would; what it cannot recover are
managers (a user's manager id is only in the live list) and names (emails stand in).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from connectors.base import Owner
from connectors.reading import is_blank
from handoff_sync.engine.types import EngineState, deal_key
from handoff_sync.mapping.mapping_set import MappingSet
from handoff_sync.model import OwnerDirectory, Role
from handoff_sync.store.types import MirrorRecord

STAND_IN_PREFIX = "stored:"
"""The id of an owner known only by email (no raw id seen): never written anywhere."""


def stored_owners(mappings: MappingSet, state: EngineState,
                  mirror: Mapping[Role, Mapping[str, MirrorRecord]]) -> dict[Role, OwnerDirectory]:
    """Each side's owners as far as the store shows them (all active, no managers)."""
    found: dict[Role, dict[str, str]] = {role: {} for role in Role}  # id -> email
    prm_of = {link.crm_id: prm_id for prm_id, link in state.links.items()}
    for role in Role:
        rules = [rule for rule in mappings.side(role).fields.values()
                 if rule.transform.name == "owner_email"
                 and rule.system_field is not None]
        for record_id, record in mirror.get(role, {}).items():
            base = state.bases.get(_key(role, record_id, prm_of))
            if base is None:
                continue
            values = base.prm if role is Role.PRM else base.crm
            for rule in rules:
                owner_id, email = record.fields.get(rule.system_field or ""), values.get(rule.name)
                if not is_blank(owner_id) and isinstance(email, str) and email.strip():
                    found[role].setdefault(str(owner_id).strip(), email.strip().lower())
    emails: dict[Role, set[str]] = {role: set() for role in Role}
    for task in state.tasks.values():
        emails[task.spec.side].add(task.spec.assignee_email.strip().lower())
    for verdict in state.verdicts.values():
        if verdict.stage_owner_email:
            emails[Role.CRM].add(verdict.stage_owner_email.strip().lower())
    fallback = mappings.policy.ownership.fallback_owner_email.strip().lower()
    emails[Role.CRM].add(fallback)
    return {role: OwnerDirectory(_owners(found[role], emails[role])) for role in Role}


def _key(role: Role, record_id: str, prm_of: Mapping[str, str]) -> str:
    if role is Role.PRM:
        return deal_key(record_id, None)
    return deal_key(prm_of.get(record_id), record_id)


def _owners(by_id: Mapping[str, str], emails: Iterable[str]) -> list[Owner]:
    owners = [Owner(owner_id, email) for owner_id, email in sorted(by_id.items())]
    known = set(by_id.values())
    owners += [Owner(STAND_IN_PREFIX + email, email) for email in sorted(set(emails) - known)
               if email]
    return owners
