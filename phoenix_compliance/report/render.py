"""Renders the readiness section from the data model with its template and CSS."""

from __future__ import annotations

from importlib import resources

import jinja2

from phoenix_compliance.catalogue import PHASE_TITLES, standalone_words
from phoenix_compliance.report.first_screen import blockers, gates, waiting, waivers
from phoenix_compliance.report.model import HostReport, RunReport, check_spread, hosts_by_concern
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
    hosts = hosts_by_concern(run)
    return template.render(
        run=run,
        css=_css("readiness.css"),
        filter_js=_css("filter.js").strip(),
        finds={host.host: _find_words(host, run.shown_phases) for host in hosts},
        phase_titles=PHASE_TITLES,
        standalone=standalone_words(),
        phases=run.shown_phases,
        hosts=hosts,
        every_check=len(hosts) <= DETAILED_HOSTS,
        spread=check_spread(run),
        signature_block=signature_block(),
        gates=gates(run),
        blockers=blockers(run),
        waivers=waivers(run),
        waiting=waiting(run),
    )


# Above this many hosts a host's section lists the checks that did not pass and counts the rest:
# a thousand hosts' every check is some 130,000 rows (tens of MB) that no browser opens in
# seconds, while the JSON result keeps each check's evidence.
DETAILED_HOSTS = 32


def _find_words(host: HostReport, phases: tuple[str, ...]) -> str:
    """What the page's filter finds a host by: its id, its verdicts, the checks that did not pass."""
    words = [host.host, *dict.fromkeys(host.verdicts(phases).values())]
    words += dict.fromkeys(r.check_id for r in host.results if r.failed)
    return " ".join(words).lower()


def _css(name: str) -> str:
    return resources.files("phoenix_compliance.report").joinpath(f"resources/{name}").read_text("utf-8")


def standalone_page(run: RunReport, title: str) -> str:
    """A whole page of the readiness section alone, where no pytest-html run writes one (merge)."""
    return _environment().get_template("page.html.j2").render(title=title, section=readiness_section(run))


def render_template(name: str, css: str, **context: object) -> str:
    """One of the resources' templates, with its CSS file inlined as `css`."""
    return _environment().get_template(name).render(css=_css(css), **context)
