"""Drawn hostile files through the command line in-process (issue 24): `lint` on a drawn
folder of units and drop-ins, `convert` on a drawn compose file and `.env`. Whatever is drawn,
the exit code is one the command documents (0, 1, 2), no traceback escapes, and convert
writes nothing outside its --out."""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from phoenix_compliance.cli import main

DOCUMENTED = {0, 1, 2}
HOSTILE = st.sampled_from(
    ["..", "/", "../../x", "%h", "%%", "$X", "${X:?}", "\\", "\n", "\r", "\x00", "\x1b", "é", " "]
)
WORDS = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12)
TEXT = st.lists(st.one_of(HOSTILE, WORDS), max_size=5).map("".join)
NAMES = st.one_of(st.sampled_from(["web", "db", "a.b", "My App", "-x", "web/../../up"]), TEXT)
FIELD_VALUES = {
    "image": TEXT,
    "container_name": TEXT,
    "command": st.one_of(TEXT, st.lists(TEXT, max_size=3)),
    "ports": st.lists(TEXT, max_size=2),
    "volumes": st.lists(TEXT, max_size=2),
    "environment": st.dictionaries(TEXT, TEXT, max_size=2),
    "labels": st.dictionaries(TEXT, TEXT, max_size=2),
    "working_dir": TEXT,
    "user": TEXT,
    "hostname": TEXT,
    "healthcheck": st.fixed_dictionaries({"test": st.lists(TEXT, max_size=3)}),
    "cpus": st.one_of(st.floats(allow_nan=True), st.integers(), TEXT),
    "stop_grace_period": TEXT,
}
SERVICES = st.dictionaries(
    NAMES,
    st.fixed_dictionaries({}, optional=FIELD_VALUES),
    min_size=1,
    max_size=2,
)
DOCUMENTS = st.fixed_dictionaries(
    {"services": SERVICES},
    optional={"name": TEXT, "volumes": st.dictionaries(NAMES, st.just({}), max_size=2)},
)


@st.composite
def compose_bytes(draw: st.DrawFn) -> bytes:
    """A drawn compose document, dumped as YAML (escapes carry control characters into values)
    and then, half of the time, a raw byte put somewhere in it."""
    text = yaml.safe_dump(draw(DOCUMENTS), allow_unicode=True).encode()
    if draw(st.booleans()):
        at = draw(st.integers(0, len(text)))
        text = text[:at] + bytes([draw(st.integers(0, 255))]) + text[at:]
    return text


ENV_FILES = st.lists(
    st.tuples(st.sampled_from(["X", "TAG", "DB_PASSWORD", "COMPOSE_PROJECT_NAME", "A B"]), TEXT), max_size=3
).map(lambda pairs: "".join(f"{name}={value}\n" for name, value in pairs).encode("utf-8", "surrogatepass"))

UNIT_NAMES = st.sampled_from(
    ["web.container", "db.pod", "x.network", "v.volume", "k.kube", "i.image", "b.build", "stack.target"]
)
UNIT_LINES = st.lists(
    st.one_of(
        st.sampled_from(["[Container]", "[Unit]", "[Service]", "[Install]", "[Pod]", "[", "=", "\\"]),
        st.tuples(st.sampled_from(["Image", "PodmanArgs", "Environment", "Exec", "Volume", "X"]), TEXT).map(
            lambda pair: f"{pair[0]}={pair[1]}"
        ),
        TEXT,
    ),
    max_size=8,
)


def files_below(folder: Path) -> set[str]:
    return {str(path.relative_to(folder)) for path in folder.rglob("*")}


def run(argv: list[str]) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue() + err.getvalue()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=compose_bytes(), env=st.one_of(st.none(), ENV_FILES), dry_run=st.booleans())
def test_convert_on_drawn_files(
    tmp_path_factory: pytest.TempPathFactory, text: bytes, env: bytes | None, dry_run: bool
) -> None:
    folder = tmp_path_factory.mktemp("convert")
    project = folder / "project"
    project.mkdir()
    (project / "compose.yaml").write_bytes(text)
    if env is not None:
        (project / ".env").write_bytes(env)
    out = project / "out"
    before = files_below(folder)
    argv = ["convert", "--podman-version", "5.4", "--out", str(out), str(project / "compose.yaml")]
    code, output = run([*argv[:1], "--dry-run", *argv[1:]] if dry_run else argv)
    assert code in DOCUMENTED, output
    assert "Traceback" not in output
    written = files_below(folder) - before
    assert all(name == "project/out" or name.startswith("project/out/") for name in written), written
    if dry_run:
        assert not written


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    units=st.dictionaries(UNIT_NAMES, UNIT_LINES, min_size=1, max_size=3),
    dropins=st.lists(st.tuples(UNIT_NAMES, UNIT_LINES), max_size=2),
    raw=st.one_of(st.none(), st.tuples(UNIT_NAMES, st.binary(max_size=64))),
    special=st.sampled_from([None, "fifo", "zero", "loop", "dangling"]),
    form=st.sampled_from(["text", "json", "sarif"]),
)
def test_lint_on_drawn_folders(
    tmp_path_factory: pytest.TempPathFactory,
    units: dict[str, list[str]],
    dropins: list[tuple[str, list[str]]],
    raw: tuple[str, bytes] | None,
    special: str | None,
    form: str,
) -> None:
    folder = tmp_path_factory.mktemp("lint")
    for name, lines in units.items():
        (folder / name).write_text("\n".join(lines) + "\n", "utf-8", "surrogatepass")
    for name, lines in dropins:
        (folder / f"{name}.d").mkdir(exist_ok=True)
        (folder / f"{name}.d" / "10.conf").write_text("\n".join(lines) + "\n", "utf-8", "surrogatepass")
    if raw is not None:
        (folder / "sub").mkdir()
        (folder / "sub" / raw[0]).write_bytes(raw[1])
    dropin = folder / "web.container.d"
    dropin.mkdir(exist_ok=True)
    if special == "fifo":
        os.mkfifo(dropin / "pipe.conf")
    elif special == "zero":
        (dropin / "zero.conf").symlink_to("/dev/zero")
    elif special == "loop":
        (folder / "loop").symlink_to(".")
    elif special == "dangling":
        (folder / "gone.container").symlink_to(folder / "nowhere")
    code, output = run(["lint", "--podman-version", "5.4", "--format", form, str(folder)])
    assert code in DOCUMENTED, output
    assert "Traceback" not in output
