"""Shared fixtures: the codebook, workbook builders and the sample study built once per session.

The sample study (``sample_raw``, ``sample_processed``, ``sample_reports``, ``sample_published``)
is expensive (an ingest and a report per year), so it is built once, lazily, into one session
folder and shared. It is read-only for the tests that use it: a test that writes copies it first
(``shutil.copytree``). At the end of the session, ``sample_study`` checks that nothing in it changed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import settings

from analysis.codebook import Codebook, load_codebook
from analysis.collect.template import build_workbook, workbook_bytes

try:
    import fcntl
except ImportError:  # Windows: no shared session folder (see sample_study)
    fcntl = None

# Hypothesis profiles, chosen with HYPOTHESIS_PROFILE (default: "ci" when CI is set, else "dev").
# Shared 2-core machines are noisy: no per-example deadline in any profile. Tests that set their
# own max_examples keep it in "dev" and "ci"; "thorough" multiplies every test's count by 10.
# - dev: random examples (a developer's runs explore more over time), hypothesis's database;
# - ci: the examples are derived from each test's name (the same run every time), no database;
# - thorough: ten times the examples, random, for a run before a release or after touching
#   the suppression or publication code.
THOROUGH = 10
PROFILE = os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
settings.register_profile("dev", deadline=None)
settings.register_profile("ci", deadline=None, derandomize=True, database=None)
settings.register_profile("thorough", deadline=None, max_examples=100 * THOROUGH)
settings.load_profile(PROFILE)


def examples(n: int) -> int:
    """A test's ``max_examples``: ``n``, or ``THOROUGH`` times ``n`` under the thorough profile."""
    return n * THOROUGH if PROFILE == "thorough" else n


REPO = Path(__file__).resolve().parents[1]
SHARED_REFERENCE = REPO.parent / "shared" / "reference"


@pytest.fixture(scope="session")
def codebook() -> Codebook:
    return load_codebook("fy2021")


# -- the sample study, built once per session (read-only) ----------------------------------------

# Ingesting and reporting the sample costs tens of seconds: a test that needs them is slow.
SLOW_FIXTURES = {"sample_processed", "sample_reports", "sample_published"}


def pytest_collection_modifyitems(items):
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def sample_study(tmp_path_factory):
    """The session folder of the sample study; fails the session if a test changed what is in it.

    The suite runs in parallel (pytest-xdist, one worker per core): the workers of one run share
    one folder, and each part is built by the first worker that needs it, under a file lock, so
    the sample is ingested and reported once per run, not once per worker.
    """
    if os.environ.get("PYTEST_XDIST_WORKER") and fcntl is not None:
        root = tmp_path_factory.getbasetemp().parent / "sample_study"
        root.mkdir(exist_ok=True)
    else:
        root = tmp_path_factory.mktemp("sample_study")
    built: list[tuple[Path, str]] = []
    yield root, built
    for folder, digest in built:
        assert tree_hash(folder) == digest, f"a test wrote into the shared {folder.name}; copy it first"


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (a no-op where there is no ``fcntl``: then every worker
    has its own session folder)."""
    if fcntl is None:
        yield
        return
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _built(sample_study, name: str, build) -> Path:
    root, built = sample_study
    folder, done = root / name, root / f".{name}.done"
    with _locked(root / f".{name}.lock"):
        if not done.exists():
            if folder.exists():  # a worker that failed half-way left it
                shutil.rmtree(folder)
            build(folder)
            done.touch()
    built.append((folder, tree_hash(folder)))
    return folder


@pytest.fixture(scope="session")
def sample_raw(sample_study) -> Path:
    """The bundled sample study's raw folder (``write_sample``): year folders 2020 and 2021."""
    from analysis.collect.sample.generate import write_sample

    return _built(sample_study, "raw", write_sample)


@pytest.fixture(scope="session")
def sample_processed(sample_study, sample_raw) -> Path:
    """``sample_raw`` ingested: ``processed/2020`` and ``processed/2021``."""
    from analysis.ingest.folder import ingest

    def build(folder):
        for year in (2020, 2021):
            result = ingest(sample_raw / str(year), folder / str(year), fiscal_year=year, progress=False)
            assert result.n_errors == 0, result.summary()

    return _built(sample_study, "processed", build)


@pytest.fixture(scope="session")
def sample_reports(sample_study, sample_processed) -> Path:
    """The internal reports of ``sample_processed`` as ``survey run`` builds them: ``reports/2020``,
    and ``reports/2021`` with 2020 as its previous year (beside ``processed``, as in a project)."""
    from analysis.report.build import build_report

    def build(folder):
        build_report(sample_processed / "2020", folder / "2020")
        build_report(sample_processed / "2021", folder / "2021", previous_dir=sample_processed / "2020")

    return _built(sample_study, "reports", build)


@pytest.fixture(scope="session")
def sample_published(sample_study, sample_processed) -> Path:
    """The published reports (``--publish``) of ``sample_processed``: ``published/2020``, and
    ``published/2021`` with 2020 as its previous year."""
    from analysis.report.build import build_report

    def build(folder):
        build_report(sample_processed / "2020", folder / "2020", publish=True)
        build_report(sample_processed / "2021", folder / "2021", publish=True, previous_dir=sample_processed / "2020")

    return _built(sample_study, "published", build)


def all_answers(codebook: Codebook, score: object = 3) -> dict[str, object]:
    return dict.fromkeys(codebook.questions["question_id"], score)


def write_self_assessment(
    path: Path,
    codebook: Codebook,
    respondent_id: object = "U01",
    fiscal_year: object = 2021,
    answers: dict | None = None,
    **profile,
) -> Path:
    """Write a filled self-assessment workbook as a respondent would return it."""
    data = {
        "profile": {"respondent_id": respondent_id, "fiscal_year": fiscal_year, **profile},
        "answers": answers if answers is not None else all_answers(codebook),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(workbook_bytes(build_workbook(codebook, "self_assessment", "ja", data)))
    return path


class HtmlReferences(HTMLParser):
    """Collects the links (``href``, ``src``) and anchors (``id``) of an HTML page."""

    def __init__(self):
        super().__init__()
        self.refs, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        for key, value in attrs:
            if key in ("href", "src"):
                self.refs.append(value)
            elif key == "id":
                self.ids.add(value)


def tree_hash(folder: Path, skip: tuple[str, ...] = ()) -> str:
    """SHA-256 over every file under ``folder``: relative paths and bytes (names in ``skip`` left out).

    Equal hashes mean the same files with the same contents; an absent folder hashes as empty.
    """
    folder = Path(folder)
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")) if folder.exists() else []:
        if path.is_file() and path.name not in skip:
            digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()
