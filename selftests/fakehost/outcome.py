"""Running a check as the plugin would judge it: the outcome words, and run_check (run.outcome.classify,
a host out of reach told apart)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from phoenix_compliance.report import model
from phoenix_compliance.run.outcome import classify
from phoenix_compliance.transport.runner import HostUnreachable

# The plugin's outcome words; UNREACHABLE is "could not check" because the host was out of reach.
PASSED, FAILED, NOT_APPLICABLE, SKIPPED = model.PASSED, model.FAILED, model.NOT_APPLICABLE, model.SKIPPED
COULD_NOT_CHECK, ERROR = model.COULD_NOT_CHECK, model.ERROR
UNREACHABLE = "unreachable"


@dataclass(frozen=True)
class Outcome:
    kind: str
    message: str
    observed: tuple[str, ...]

    @property
    def text(self) -> str:
        """The evidence the report would show: what was observed on a pass, the message otherwise."""
        return "\n".join(self.observed) if self.kind == PASSED else self.message


def run_check(check: Callable[..., None], **arguments: Any) -> Outcome:
    """Call a check function with its fixtures and classify the outcome as the plugin does
    (run.outcome.classify); a host out of reach is told apart as UNREACHABLE."""
    notes: list[str] = []
    try:
        check(observed=notes.append, **arguments)
    except HostUnreachable as exc:
        return Outcome(UNREACHABLE, str(exc), tuple(notes))
    except (Exception, pytest.skip.Exception, pytest.fail.Exception) as exc:
        kind, message = classify(exc)
        return Outcome(kind, message, tuple(notes))
    return Outcome(PASSED, "", tuple(notes))
