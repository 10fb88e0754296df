"""Renders the readiness section from the data model with its template and CSS."""

from __future__ import annotations

from importlib import resources

import jinja2

from phoenix_compliance.report.model import PHASE_TITLES, RunReport
from phoenix_compliance.report.signing import signature_block


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("phoenix_compliance.report", "resources"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )


def readiness_section(run: RunReport) -> str:
    """An HTML fragment (with its CSS inlined) for the top of the report."""
    css = resources.files("phoenix_compliance.report").joinpath("resources/readiness.css")
    template = _environment().get_template("readiness.html.j2")
    return template.render(
        run=run,
        css=css.read_text("utf-8"),
        phase_titles=PHASE_TITLES,
        phases=run.shown_phases,
        signature_block=signature_block(),
    )
