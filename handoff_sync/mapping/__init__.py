"""The mapping layer: mappings/*.yaml loaded, validated, and applied both ways.

Public entry points:
- loader.load_mappings(folder) -> MappingSet (raises problems.MappingError) and
  loader.validate_mappings(folder) -> (MappingSet | None, [Problem]);
- convert.to_canonical / to_system / outputs_to_system / task_to_system (pure; owner
  lookups through a model.OwnerDirectory);
- conflicts.decide(policy, prm, crm, ...) -> Decision (who wins a two-sided change);
- describe.check_against_describe(mapping, SystemObject, ...) (the `--live` check);
- command.add_mappings_command(commands) (`handoff-sync mappings validate|explain`).
"""
