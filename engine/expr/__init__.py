"""Internals of the expression and script sandbox; the public entry is `engine.expressions`.

- `errors`  : internal exceptions (refusal at compile time, guard trips, budget exhaustion)
- `guards`  : runtime helpers the rewritten code calls, and the safe builtins
- `work`    : charging the budget for work inside one operation (scans, comparisons, hashes)
- `fuel`    : the run's budget and the price of that work, shared by guards and work
- `checker` : the allow-list walk over a Python AST and the name analysis
- `rewrite` : guard insertion, loop metering and the wrapper function compiled once
- `lexer`, `juel`, `feel` : translators from Camunda 7 JUEL and Camunda 8 FEEL to Python AST
- `execution` : Camunda 7's `execution.*` calls translated statically (never a real object)
"""
