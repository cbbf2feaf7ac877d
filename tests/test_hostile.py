"""The hostile corpus: every kind of bad file gets one clear error and does no harm.

The corpus is built here from scratch. The ingest runs in a child process whose address
space is capped (so a file that slipped past the limits would fail the test instead of
eating the machine's memory) and under a generous hang guard; the good workbook next to
the hostile ones must land untouched.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pandas as pd
import pytest
from conftest import write_self_assessment
from hostile_corpus import (
    SECRET_PATH,
    SHEET_VARIANTS,
    billion_laughs_in_shared_strings,
    billion_laughs_in_sheet,
    encrypted_workbook,
    external_entity,
    far_cell,
    gigabyte_sheet,
    quadratic_blowup,
    sheet_variant,
    with_macros,
)

JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")  # kana and kanji
HANG_GUARD_S = 120  # a hang guard, not a timing assertion: the ingest takes seconds
HEADROOM_MB = 1536  # address space the ingest may add to its start-up footprint

# file -> what its one error must say
EXPECTED = {
    "laughs_in_sheet.xlsx": "document type declaration",
    "laughs_in_shared_strings.xlsx": "document type declaration",
    "quadratic_blowup.xlsx": "document type declaration",
    "external_entity.xlsx": "document type declaration",
    "gigabyte_sheet.xlsx": "unpacks to 1,024.0 MB, more than the limit of 128 MB (--max-member-mb)",
    "xfd1048576.xlsx": "declares 17,179,869,184 cells",
    "xfd1048576_lying_dimension.xlsx": "has cells spanning 17,179,869,184 cells",
    "password.xlsx": "password-protected",
    "truncated.xlsx": "damaged or incomplete",
    "csv_renamed.xlsx": "a CSV or text file renamed",
    "empty.xlsx": "empty (0 bytes)",
    "link_outside.xlsx": "symbolic link pointing outside the raw folder",
    "fifo.xlsx": "not a regular file",
}

_RUN = """
import json, resource, sys
from pathlib import Path
with open("/proc/self/statm") as handle:
    base = int(handle.read().split()[0]) * resource.getpagesize()
cap = base + int(sys.argv[4]) * 2**20
resource.setrlimit(resource.RLIMIT_AS, (cap, resource.getrlimit(resource.RLIMIT_AS)[1]))
from analysis.ingest.folder import ingest
result = ingest(Path(sys.argv[1]), Path(sys.argv[2]), workers=int(sys.argv[3]))
print(json.dumps({"errors": result.n_errors}))
"""


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, codebook):
    root = tmp_path_factory.mktemp("hostile")
    raw = root / "raw"
    write_self_assessment(raw / "good.xlsx", codebook, "U01")
    billion_laughs_in_sheet(raw / "laughs_in_sheet.xlsx")
    billion_laughs_in_shared_strings(raw / "laughs_in_shared_strings.xlsx")
    quadratic_blowup(raw / "quadratic_blowup.xlsx")
    external_entity(raw / "external_entity.xlsx")
    gigabyte_sheet(raw / "gigabyte_sheet.xlsx")
    far_cell(raw / "xfd1048576.xlsx")
    far_cell(raw / "xfd1048576_lying_dimension.xlsx", honest_dimension=False)
    with_macros(write_self_assessment(root / "macro_source.xlsx", codebook, "U02"), raw / "macros.xlsm")
    encrypted_workbook(raw / "password.xlsx")
    good = (raw / "good.xlsx").read_bytes()
    (raw / "truncated.xlsx").write_bytes(good[: len(good) // 2])
    (raw / "csv_renamed.xlsx").write_bytes("回答者ID,年度\nU09,2021\n".encode())
    (raw / "empty.xlsx").write_bytes(b"")
    (root / "outside.xlsx").write_bytes(good)
    (raw / "link_outside.xlsx").symlink_to(root / "outside.xlsx")
    os.mkfifo(raw / "fifo.xlsx")
    return root


def _ingest(corpus, workers):
    out = corpus / f"out_{workers}"
    proc = subprocess.run(
        [sys.executable, "-c", _RUN, str(corpus / "raw"), str(out), str(workers), str(HEADROOM_MB)],
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_S,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    issues = pd.read_csv(out / "issues.csv", keep_default_na=False)
    return out, issues, json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def isolated(corpus):
    return _ingest(corpus, workers=2)


def test_every_problem_on_the_hostile_corpus_is_said_in_japanese_and_english(isolated):
    _, issues, _ = isolated
    assert len(issues) >= len(EXPECTED)
    assert issues.code.str.fullmatch(r"[a-z_]+").all()
    for row in issues.itertuples():
        assert JAPANESE.search(row.message_ja) and row.message_en and row.message_ja != row.message_en, row
        # No English sentence inside the Japanese one (a parser's own words in brackets aside).
        outside = re.sub(r"[(（][^)）]*[)）]", "", row.message_ja)
        assert not re.search(r"[A-Za-z]+ [A-Za-z]+ [A-Za-z]+ [A-Za-z]+", outside), row.message_ja


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_hostile_file_is_one_clear_error(isolated, name):
    _, issues, _ = isolated
    mine = issues[issues.file == name]
    assert len(mine) == 1, mine
    (row,) = mine.itertuples()
    assert row.severity == "error" and EXPECTED[name] in row.message_en


def test_the_good_workbook_lands_and_nothing_else_does(isolated):
    out, issues, summary = isolated
    sa = pd.read_csv(out / "self_assessment.csv")
    assert sorted(sa.respondent_id.unique()) == ["U01", "U02"]  # the macro workbook's data still lands
    assert len(sa) == 80
    assert summary["errors"] == len(EXPECTED)
    files = pd.read_csv(out / "files.csv").set_index("file")
    assert files.loc["good.xlsx", "status"] == "loaded" and files.loc["macros.xlsm", "status"] == "loaded"
    assert (files.loc[list(EXPECTED), "status"] == "unreadable").all()
    assert not issues[issues.file == "good.xlsx"].shape[0]


def test_files_refused_unopened_are_not_even_hashed(isolated):
    out, _, _ = isolated
    manifest = json.loads((out / "ingest.json").read_text(encoding="utf-8"))
    hashed = {entry["file"] for entry in manifest["inputs"]}
    assert "good.xlsx" in hashed and not {"link_outside.xlsx", "fifo.xlsx"} & hashed


def test_macros_are_a_warning_and_never_reach_the_output(isolated):
    out, issues, _ = isolated
    (row,) = issues[issues.file == "macros.xlsm"].itertuples()
    assert row.severity == "warning" and "macros" in row.message_en and "not run" in row.message_en
    for path in out.iterdir():
        assert "vba" not in path.name.lower()
        if path.suffix in (".csv", ".json"):
            assert "MACRO-PAYLOAD" not in path.read_text(encoding="utf-8")


def test_no_external_entity_was_resolved(isolated):
    out, _, _ = isolated
    if not os.path.exists(SECRET_PATH):
        pytest.skip(f"{SECRET_PATH} does not exist here")
    with open(SECRET_PATH, encoding="utf-8") as handle:
        secret = handle.read().splitlines()[0]
    for path in out.iterdir():
        if path.suffix in (".csv", ".json"):
            assert secret not in path.read_text(encoding="utf-8")


def test_the_checks_run_without_isolation_too(corpus):
    # workers=0 parses in the ingest's own process: only the checks stand between the files
    # and the parser, and they are enough for every kind of the corpus.
    _, issues, summary = _ingest(corpus, workers=0)
    for name, pattern in EXPECTED.items():
        (row,) = issues[issues.file == name].itertuples()
        assert pattern in row.message_en
    assert summary["errors"] == len(EXPECTED)


def test_raised_limits_hand_a_crashing_file_to_an_isolated_worker(tmp_path, codebook):
    # With --max-cells raised past the workbook, the parser itself meets the XFD1048576 file
    # and aborts: only its worker dies, the file gets one error, the rest still lands.
    from analysis.ingest.folder import ingest
    from analysis.ingest.safety import Limits

    raw = tmp_path / "raw"
    write_self_assessment(raw / "good.xlsx", codebook, "U01")
    far_cell(raw / "crash.xlsx")
    result = ingest(raw, tmp_path / "out", limits=Limits(max_cells=20_000_000_000))
    (error,) = [p for p in result.problems if p.severity == "error"]
    assert error.file == "crash.xlsx" and "--worker-memory-mb" in error.message_en
    assert set(result.tables["self_assessment"]["respondent_id"]) == {"U01"}


def test_limits_are_options_of_survey_ingest(tmp_path, codebook):
    raw = tmp_path / "raw"
    write_self_assessment(raw / "good.xlsx", codebook, "U01")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "analysis.cli",
            "ingest",
            str(raw),
            "--out",
            str(tmp_path / "out"),
            "--max-file-mb",
            "0.001",
            "--workers",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_S,
    )
    assert proc.returncode == 1
    issues = pd.read_csv(tmp_path / "out" / "issues.csv")
    (message,) = issues.loc[issues.file == "good.xlsx", "message_en"]
    assert "more than the limit of 0.001 MB (--max-file-mb)" in message


@pytest.mark.parametrize("variant", sorted(SHEET_VARIANTS))
def test_positions_spelled_any_way_are_bounded_before_an_in_process_parse(tmp_path, codebook, variant):
    # In-process parsing (--workers 0) has no worker to lose: the pre-parse check must read the
    # sheet XML as XML (quotes, spaces, prefixes, cells and rows without r) or the process aborts.
    raw = tmp_path / "raw"
    write_self_assessment(raw / "good.xlsx", codebook, "U01")
    sheet_variant(raw / f"{variant}.xlsx", variant)
    out = tmp_path / "out"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "analysis.cli",
            "ingest",
            str(raw),
            "--out",
            str(out),
            "--workers",
            "0",
            "--quiet",
            "--year",
            "2021",
        ],
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_S,
    )
    assert proc.returncode == 1, proc.stderr[-2000:]
    issues = pd.read_csv(out / "issues.csv", keep_default_na=False)
    (row,) = issues[issues.file == f"{variant}.xlsx"].itertuples()
    assert row.severity == "error" and "--max-cells" in row.message_en
    assert set(pd.read_parquet(out / "self_assessment.parquet").respondent_id) == {"U01"}
