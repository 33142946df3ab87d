"""The expression language: grammar, syntax tree, parser, static types, built-in functions,
checker, code generator and runtime values. Knows nothing of YAML or packs."""
