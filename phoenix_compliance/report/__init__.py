"""The readiness report: ``model`` (plain data: hosts, results, verdicts, gates),
``render`` (the readiness section from ``resources/readiness.html.j2`` and its CSS),
``outputs`` (JSON, JUnit and Prometheus documents, the canonical digest, --compare),
``files`` (the formats of a run's set and how each is written; merge writes the set from the model),
``signing`` (the HTML seal, SSH signatures, ``verify``), ``results`` (JSON results read back
into the model, verified; merge of shards) and ``trend`` (nightly results as a chart and a
textfile)."""
