"""Renders the readiness section from the data model with its template and CSS."""

from __future__ import annotations

from importlib import resources

import jinja2

from phoenix_compliance.catalogue import PHASE_TITLES, standalone_words
from phoenix_compliance.report.model import RunReport, check_spread, hosts_by_concern
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
    template = _environment().get_template("readiness.html.j2")
    return template.render(
        run=run,
        css=_css("readiness.css"),
        phase_titles=PHASE_TITLES,
        standalone=standalone_words(),
        phases=run.shown_phases,
        hosts=hosts_by_concern(run),
        spread=check_spread(run),
        signature_block=signature_block(),
    )


def _css(name: str) -> str:
    return resources.files("phoenix_compliance.report").joinpath(f"resources/{name}").read_text("utf-8")


def standalone_page(run: RunReport, title: str) -> str:
    """A whole page of the readiness section alone, where no pytest-html run writes one (merge)."""
    return _environment().get_template("page.html.j2").render(title=title, section=readiness_section(run))


def render_template(name: str, css: str, **context: object) -> str:
    """One of the resources' templates, with its CSS file inlined as `css`."""
    return _environment().get_template(name).render(css=_css(css), **context)
