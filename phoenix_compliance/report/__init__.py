"""The readiness report: ``model`` (plain data: hosts, results, verdicts, gates),
``render`` (the readiness section from ``resources/readiness.html.j2`` and its CSS),
``outputs`` (JSON and Prometheus documents, the canonical digest, --compare) and
``signing`` (the HTML seal, SSH signatures, ``verify``)."""
