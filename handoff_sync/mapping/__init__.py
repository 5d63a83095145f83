"""The mapping layer: mappings/*.yaml loaded, validated, and applied both ways.

Two subpackages, one direction: ``policy`` (handoff.yaml) builds on ``system`` (the
<system>.yaml maps); ``loader`` is the only module that imports both.

Public entry points:
- loader.load_mappings(folder) -> MappingSet (raises MappingError) and
  loader.validate_mappings(folder) -> (MappingSet | None, [Problem]);
- system.convert.to_canonical / to_system / outputs_to_system / task_to_system (pure; owner
  lookups through a model.OwnerDirectory);
- system.conflicts.decide(policy, prm, crm, ...) -> Decision (who wins a two-sided change);
- system.describe.check_against_describe(mapping, ObjectSchema, ...) (the `--live` check).
"""
