"""Chaos faults executed by the agent (SPEC 3.5): validated parameters
(:mod:`.params`), a SQLite ledger written before anything is applied
(:mod:`.ledger`), worker processes that end by themselves (:mod:`.workers`),
and the manager that applies, times and reverts them (:mod:`.manager`)."""
