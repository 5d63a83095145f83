"""The handoff policy (mappings/handoff.yaml): its schema, checks and pure evaluators.

- file_model.HandoffPolicy: the validated policy (handoff types, stages, gates, tasks,
  SLA clocks, calendars, briefs, matching and ownership rules);
- conditions.evaluate(condition, lookup): declarative conditions, never eval;
- gates.evaluate_gate(policy, deal) -> model.GateResult;
- templates.render / render_brief: {placeholder} filling for tasks and briefs.
"""
