"""Load and validate a mappings folder: two system files and handoff.yaml, as one set.

``load_mappings`` returns a ``MappingSet`` or raises ``MappingError`` listing every
problem of every file (YAML syntax, structure, meaning, and references between files).
A folder holds exactly ``handoff.yaml`` plus one file per system, named after it
(``salesforce.yaml``, ``hubspot.yaml``, or ``files.yaml`` for a PRM file drop); one must be
the PRM side and one the CRM side.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

from connectors.reading import did_you_mean
from handoff_sync.errors import MappingError
from handoff_sync.mapping.mapping_set import MappingSet
from handoff_sync.mapping.policy.checks import FieldCatalog, check_policy
from handoff_sync.mapping.policy.file_model import HandoffPolicy
from handoff_sync.mapping.system.compile import compile_system
from handoff_sync.mapping.system.conflicts import ConflictPolicy, FieldSync
from handoff_sync.mapping.system.convert import SystemMapping
from handoff_sync.mapping.system.file_model import SystemFile
from handoff_sync.model import FieldType, Role, SystemName
from handoff_sync.problems.pydantic_errors import validate_document
from handoff_sync.problems.report import Problem
from handoff_sync.problems.yaml_source import YamlDocument, read_yaml_file

POLICY_HINT = (f"add 'policy: {ConflictPolicy.PRM_WINS}' (or "
               + ", ".join(p for p in ConflictPolicy
                           if p not in (ConflictPolicy.PRM_WINS, ConflictPolicy.READ_ONLY))
               + ")")
"""What to add when a field both systems read and one writes names no policy."""

POLICY_FILE = "handoff.yaml"
MAX_FILES = 20


def load_mappings(folder: Path) -> MappingSet:
    """The folder's mappings, fully validated; raises MappingError with every problem."""
    mapping_set, problems = validate_mappings(folder)
    if problems or mapping_set is None:
        raise MappingError(problems)
    return mapping_set


def validate_mappings(folder: Path) -> tuple[MappingSet | None, list[Problem]]:
    """Like load_mappings, but returns the problems instead of raising."""
    folder = Path(folder)
    if not folder.is_dir():
        return None, [Problem(folder, 1, 1, (), "not a folder",
                              "pass the folder holding handoff.yaml (--mappings DIR)")]
    problems: list[Problem] = []
    files = sorted(p for p in folder.iterdir()
                   if p.suffix in (".yaml", ".yml") and p.is_file())[:MAX_FILES]
    known = [f"{s.value}.yaml" for s in SystemName] + [POLICY_FILE]
    systems: dict[SystemName, tuple[YamlDocument, SystemFile | None]] = {}
    policy_doc: YamlDocument | None = None
    policy_model: HandoffPolicy | None = None
    policy_seen = False
    for file in files:
        if file.name not in known:
            problems.append(Problem(file, 1, 1, (), f"unexpected file '{file.name}' in a "
                                    "mappings folder", did_you_mean(file.name, known) or
                                    f"expected {', '.join(known)}"))
            continue
        document, read_problems = read_yaml_file(file)
        problems.extend(read_problems)
        if file.name == POLICY_FILE:
            policy_seen = True
            if document is not None:
                policy_doc = document
                policy_model, structural = validate_document(HandoffPolicy, document)
                problems.extend(structural)
            continue
        if document is not None:
            model, structural = validate_document(SystemFile, document)
            problems.extend(structural)
            systems[SystemName(file.stem)] = (document, model)
    if not policy_seen:
        problems.append(Problem(folder / POLICY_FILE, 1, 1, (), "handoff.yaml is missing",
                                "copy it from a default pack (see docs/admin-guide.md)"))
    compiled: dict[SystemName, SystemMapping] = {}
    for system, (document, model) in systems.items():
        if model is not None:
            mapping, meaning = compile_system(document, model, system)
            problems.extend(meaning)
            compiled[system] = mapping
    prm, crm = _sides(folder, systems, problems)
    if prm is None or crm is None or prm not in compiled or crm not in compiled:
        return None, problems
    prm_map, crm_map = compiled[prm], compiled[crm]
    raw_fields = {role: _raw_field_keys(systems[system][0]) for role, system
                  in ((Role.PRM, prm), (Role.CRM, crm))}
    sync = _field_sync(prm_map, crm_map, systems, problems)
    catalog = _catalog(prm_map, crm_map, raw_fields)
    if policy_doc is not None and policy_model is not None:
        problems.extend(check_policy(policy_doc, policy_model, catalog))
        for mapping in (prm_map, crm_map):
            problems.extend(_check_policy_ids(systems[mapping.system][0], mapping,
                                              policy_model))
    if problems or policy_model is None:
        return None, problems
    return MappingSet(folder, prm_map, crm_map, policy_model, MappingProxyType(sync)), []


def _raw_field_keys(document: YamlDocument) -> set[str]:
    fields = document.data.get("fields") if isinstance(document.data, dict) else None
    return {str(k) for k in fields} if isinstance(fields, dict) else set()


def _sides(folder: Path, systems: Mapping[SystemName, tuple[YamlDocument, SystemFile | None]],
           problems: list[Problem]) -> tuple[SystemName | None, SystemName | None]:
    by_role: dict[str, list[SystemName]] = {"prm": [], "crm": []}
    for system, (document, model) in systems.items():
        role = model.role if model else (document.data.get("role")
                                         if isinstance(document.data, dict) else None)
        if role in by_role:
            by_role[role].append(system)
    for role, found in by_role.items():
        if len(found) > 1:
            for system in found:
                document = systems[system][0]
                problems.append(document.problem(("role",), f"both {' and '.join(found)} "
                                                 f"claim role '{role}'", "one system file "
                                                 "must be prm and the other crm"))
        elif not found and len(systems) + (1 if problems else 0) > 0:
            names = ", ".join(f"{s.value}.yaml" for s in SystemName)
            problems.append(Problem(folder, 1, 1, (), f"no system file has role '{role}'",
                                    f"a mappings folder needs one prm and one crm file "
                                    f"({names})"))
    prm = by_role["prm"][0] if len(by_role["prm"]) == 1 else None
    crm = by_role["crm"][0] if len(by_role["crm"]) == 1 else None
    return prm, crm


def _catalog(prm: SystemMapping, crm: SystemMapping,
             raw_fields: Mapping[Role, set[str]]) -> FieldCatalog:
    types: dict[str, FieldType] = {}
    read_by: dict[str, set[Role]] = {}
    for mapping in (prm, crm):
        for name, rule in mapping.fields.items():
            types.setdefault(name, rule.type)
            if rule.reads:
                read_by.setdefault(name, set()).add(mapping.role)
    # Entries dropped for structural errors still count as provided: no follow-on noise.
    for role, names in raw_fields.items():
        for name in names:
            if name not in (prm.fields if role is Role.PRM else crm.fields):
                types.setdefault(name, FieldType.TEXT)
                read_by.setdefault(name, set()).add(role)
    return FieldCatalog(MappingProxyType(types),
                        MappingProxyType({k: frozenset(v) for k, v in read_by.items()}),
                        (prm.file.name, crm.file.name))


def _field_sync(prm: SystemMapping, crm: SystemMapping,
                systems: Mapping[SystemName, tuple[YamlDocument, SystemFile | None]],
                problems: list[Problem]) -> dict[str, FieldSync]:
    docs = {m.role: systems[m.system][0] for m in (prm, crm)}
    sync: dict[str, FieldSync] = {}
    for name in [*prm.fields, *(n for n in crm.fields if n not in prm.fields)]:
        p, c = prm.fields.get(name), crm.fields.get(name)
        if p is not None and c is not None and p.type is not c.type:
            problems.append(docs[Role.CRM].problem(c.path, f"'{name}' is {c.type.value} here "
                                                   f"but {p.type.value} in {prm.file.name}",
                                                   "use transforms that produce the same type"))
            continue
        declared = {r.policy for r in (p, c) if r is not None and r.policy is not None}
        if len(declared) > 1:
            assert c is not None
            problems.append(docs[Role.CRM].problem((*c.path, "policy"), f"'{name}' has policy "
                                                   f"'{c.policy}' here but '{p and p.policy}' "
                                                   f"in {prm.file.name}",
                                                   "declare it once, or make them agree"))
            continue
        prm_reads, crm_reads = bool(p and p.reads), bool(c and c.reads)
        # Report on the CRM entry first: policies conventionally live in the CRM file.
        writes = [r for r in (c, p) if r is not None and r.writes]
        policy = next(iter(declared), None)
        if writes and not (prm_reads or crm_reads):
            rule = writes[0]
            doc = docs[Role.PRM if rule is p else Role.CRM]
            problems.append(doc.problem((*rule.path, "direction"), f"'{name}' is written but "
                                        "no system reads it, so there is no value to write",
                                        "map it with direction read or both on one side"))
            continue
        if policy is None:
            if prm_reads and crm_reads and writes:
                rule = writes[0]
                doc = docs[Role.PRM if rule is p else Role.CRM]
                problems.append(doc.problem(rule.path, f"'{name}' is read from both systems "
                                            "and written back, so it needs a conflict policy",
                                            POLICY_HINT))
                continue
            policy = ConflictPolicy.PRM_WINS if prm_reads and not crm_reads else (
                ConflictPolicy.CRM_WINS if crm_reads and not prm_reads
                else ConflictPolicy.READ_ONLY)
        field_type = (p or c).type  # type: ignore[union-attr]
        sync[name] = FieldSync(name, field_type, policy, prm_reads, bool(p and p.writes),
                               crm_reads, bool(c and c.writes))
    return sync


def _check_policy_ids(document: YamlDocument, mapping: SystemMapping,
                      policy: HandoffPolicy) -> list[Problem]:
    """Value maps into handoff_type/handoff_stage must name ids handoff.yaml defines."""
    problems: list[Problem] = []
    type_ids = list(policy.handoff_types)
    stage_ids = sorted({s.id for t in policy.handoff_types.values() for s in t.stages})
    for name, ids, what in (("handoff_type", type_ids, "handoff type"),
                            ("handoff_stage", stage_ids, "stage")):
        rule = mapping.fields.get(name)
        if rule is None or rule.values is None:
            continue
        for key, target in rule.values.items():
            if target not in ids:
                problems.append(document.problem(
                    (*rule.path, "values", key), f"'{target}' is not a {what} id in "
                    f"{POLICY_FILE}", did_you_mean(str(target), ids) or
                    f"{what} ids: {', '.join(ids)}"))
    return problems
