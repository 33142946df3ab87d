"""The pack pipeline: YAML with positions, schema validation, building, the immutable model,
the task graph, and the facts schema as a source of static types."""
