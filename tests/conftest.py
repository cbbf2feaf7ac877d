"""Shared fixtures: the codebook, workbook builders and a raw folder of filled workbooks."""

from __future__ import annotations

import hashlib
import os
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import settings

from analysis.codebook import Codebook, load_codebook
from analysis.collect.template import build_workbook, workbook_bytes

# Shared 2-core machines are noisy: no per-example deadline. In CI the examples are derived
# from each test's name (same run every time); locally they are random and explore more.
settings.register_profile("default", deadline=None)
settings.register_profile("ci", deadline=None, derandomize=True, database=None)
settings.load_profile("ci" if os.environ.get("CI") else "default")

REPO = Path(__file__).resolve().parents[1]
SHARED_REFERENCE = REPO.parent / "shared" / "reference"


@pytest.fixture(scope="session")
def codebook() -> Codebook:
    return load_codebook("fy2021")


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
