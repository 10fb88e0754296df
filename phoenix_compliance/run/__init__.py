"""The pytest side of a compliance run, one role a module; `phoenix_compliance.plugin` wires them to pytest's hooks.

- `options`: the command-line options of the suite.
- `state`: the run's state (RunState under a StashKey), built from the options and the user's files.
- `hosts`: a host's id as the report names it, from testinfra's host or a collected check.
- `selection`: which checks run (--phase, files-only phases), their parameters from the manifest, and
  how many each phase has before -k/-m/--lf narrow the run (a phase that ran fewer is PARTIAL).
- `probing`: the selected hosts probed at once before the checks (--probe-concurrency), each for the
  parts of its facts its selected checks read (READS, by phase).
- `outcome`: a check's pytest report turned into outcome and evidence (`classify`), waivers applied.
- `reporter`: the report model filled on the process that writes it, the files written, the exit code
  (EXIT_CODES, the README's table).
- `writers`: one entry per output file (HTML seal, JUnit, JSON, Prometheus): suffix, path and writer,
  and how a file is staged and published (a run's files, and merge's and trend's through `write_set`).
- `summary`: the readiness section of the terminal summary (its lines are also what merge prints).
- `xdist_hooks`, `html_hooks`: hooks of pytest-xdist and pytest-html, registered only when those are active.
"""
