"""Outputs never eat inputs: owned output folders, crash-safe swaps, one-line errors (issue 10).

Driven through the ``survey`` command on copies of the bundled data; after every test the copied
raw tree must hash as before.
"""

from __future__ import annotations

import errno
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from conftest import REPO, all_answers, examples, tree_hash, write_self_assessment
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.cli import main
from analysis.codebook import load_codebook
from analysis.output.atomic import MARKER, clean_leftovers, replace_dir, staging_dir
from analysis.report.build import ingest_summary

QUICK = ["--quiet", "--workers", "0"]


def survey(capsys, *args: str) -> tuple[int, str, str]:
    """Run ``survey ARGS`` in this process; return the exit code, stdout and stderr."""
    capsys.readouterr()
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def subprocess_survey(*args: str, env: dict | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "analysis.cli", *map(str, args)],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=cwd,
        timeout=300,
    )


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.parent.iterdir() if p.name.startswith(f".{folder.name}."))


@pytest.fixture(scope="module")
def raw(tmp_path_factory) -> Path:
    """A copy of the bundled raw study (both years)."""
    root = tmp_path_factory.mktemp("study") / "data" / "raw"
    shutil.copytree(REPO / "data" / "raw", root)
    return root


@pytest.fixture(scope="module")
def raw_hash(raw) -> str:
    return tree_hash(raw)


@pytest.fixture(autouse=True)
def raw_untouched(raw, raw_hash):
    """Whatever a test runs, the raw files stay as they were."""
    yield
    assert tree_hash(raw) == raw_hash


@pytest.fixture(scope="module")
def small_raw(tmp_path_factory, raw) -> Path:
    """A small year: meetings, and three self-assessments (complete, one blank, one invalid answer)."""
    folder = tmp_path_factory.mktemp("small") / "2021"
    folder.mkdir()
    codebook = load_codebook("fy2021")
    shutil.copy(raw / "2021" / "meetings.xlsx", folder / "meetings.xlsx")
    first, second = list(codebook.questions["question_id"])[:2]
    write_self_assessment(folder / "sa_U01.xlsx", codebook, "U01")
    write_self_assessment(folder / "sa_U02.xlsx", codebook, "U02", answers={**all_answers(codebook), first: None})
    write_self_assessment(folder / "sa_U03.xlsx", codebook, "U03", answers={**all_answers(codebook), second: 7})
    return folder


@pytest.fixture(scope="module")
def small_processed(small_raw, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("small_out") / "processed"
    assert main(["ingest", str(small_raw), "--out", str(out), *QUICK]) in (0, 1)
    return out


# -- the issue's cases -------------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["same", "inside", "parent", "link"])
@pytest.mark.parametrize("force", [False, True])
def test_ingest_never_writes_into_its_raw_folder(capsys, raw, where, force):
    year = raw / "2021"
    link = raw.parent / "raw_link"
    if where == "link" and not link.exists():
        link.symlink_to(year, target_is_directory=True)
    out = {"same": year, "inside": year / "out", "parent": raw, "link": link}[where]
    code, _, err = survey(capsys, "ingest", year, "--out", out, *QUICK, *(["--force"] if force else []))
    assert code == 2
    line = one_line(err)
    assert "入力フォルダ" in line and "input folder" in line
    assert leftovers(year) == [] and not (year / "out").exists()


def test_swapped_arguments_are_refused(capsys, raw, small_processed):
    code, _, err = survey(capsys, "ingest", small_processed, "--out", raw / "2021", *QUICK)
    assert code == 2 and "--force" in one_line(err)


def test_a_folder_of_someone_elses_files_needs_force(capsys, small_raw, tmp_path):
    important = tmp_path / "important"
    important.mkdir()
    (important / "notes.txt").write_text("大事なメモ", encoding="utf-8")
    code, _, err = survey(capsys, "ingest", small_raw, "--out", important, *QUICK)
    assert code == 2 and "--force" in one_line(err)
    assert (important / "notes.txt").read_text(encoding="utf-8") == "大事なメモ"
    code, _, _ = survey(capsys, "ingest", small_raw, "--out", important, *QUICK, "--force")
    assert code in (0, 1) and (important / "ingest.json").is_file() and not (important / "notes.txt").exists()
    assert leftovers(important) == []


def test_an_output_that_is_a_link_or_a_file_is_refused(capsys, small_raw, tmp_path):
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    (tmp_path / "file").write_text("x")
    for out, words in ((tmp_path / "link", "symbolic link"), (tmp_path / "file", "not a folder")):
        code, _, err = survey(capsys, "ingest", small_raw, "--out", out, *QUICK, "--force")
        assert code == 2 and words in one_line(err)
    assert (tmp_path / "link").is_symlink() and (tmp_path / "file").read_text() == "x"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["elsewhere", "file", "link"]


def test_outputs_are_replaced_only_by_their_own_command(capsys, small_raw, small_processed, tmp_path):
    out = tmp_path / "processed"
    assert survey(capsys, "ingest", small_raw, "--out", out, *QUICK)[0] in (0, 1)
    assert survey(capsys, "ingest", small_raw, "--out", out, *QUICK)[0] in (0, 1)  # its own output: replaced
    before = tree_hash(out)
    code, _, err = survey(capsys, "report", small_processed, "--out", out)  # an ingest's output: not a report's
    assert code == 2 and "survey ingest" in one_line(err)
    assert tree_hash(out) == before


@pytest.mark.parametrize("where", ["same", "inside", "parent"])
def test_report_never_writes_into_a_processed_folder(capsys, small_processed, where):
    before = tree_hash(small_processed.parent)
    out = {"same": small_processed, "inside": small_processed / "report", "parent": small_processed.parent}[where]
    code, _, err = survey(capsys, "report", small_processed, "--out", out, "--force")
    assert code == 2 and "入力フォルダ" in one_line(err)
    assert tree_hash(small_processed.parent) == before


def test_report_never_writes_into_the_previous_year(capsys, small_processed, tmp_path):
    previous = tmp_path / "previous"
    shutil.copytree(small_processed, previous)
    before = tree_hash(previous)
    code, _, err = survey(capsys, "report", small_processed, "--previous", previous, "--out", previous / "r")
    assert code == 2 and "入力フォルダ" in one_line(err)
    assert tree_hash(previous) == before


@pytest.mark.parametrize("kind", ["empty", "raw", "previous"])
def test_report_needs_an_ingest(capsys, raw, small_processed, tmp_path, kind):
    source = tmp_path / "empty" if kind != "raw" else raw / "2021"
    source.mkdir(exist_ok=True)
    args = [small_processed, "--previous", source] if kind == "previous" else [source]
    code, out, err = survey(capsys, "report", *args, "--out", tmp_path / "report")
    assert code == 2 and "ingest.json" in one_line(err) and str(source) in err
    assert not (tmp_path / "report").exists() and out == ""


@pytest.mark.parametrize("content", [{}, {"notes.txt": b"memo"}, {"data.csv": b"a,b\n1,2\n"}])
def test_ingest_of_a_folder_without_workbooks_is_a_data_error(capsys, small_raw, tmp_path, content):
    out = tmp_path / "processed"
    assert survey(capsys, "ingest", small_raw, "--out", out, *QUICK)[0] in (0, 1)
    before = tree_hash(out)
    empty = tmp_path / "2021"
    empty.mkdir()
    for name, data in content.items():
        (empty / name).write_bytes(data)
    code, _, err = survey(capsys, "ingest", empty, "--out", out, *QUICK)
    assert code == 1 and "workbook" in one_line(err)
    assert tree_hash(out) == before and leftovers(out) == []


def test_unreadable_workbooks_are_reported_file_by_file(capsys, tmp_path):
    raw = tmp_path / "2021"
    raw.mkdir()
    (raw / "renamed.xlsx").write_bytes("回答者ID,年度\nU09,2021\n".encode())
    code, _, _ = survey(capsys, "ingest", raw, "--out", tmp_path / "processed", *QUICK)
    issues = pd.read_csv(tmp_path / "processed" / "issues.csv")
    assert code == 1 and list(issues["file"]) == ["renamed.xlsx"] and list(issues["severity"]) == ["error"]


def test_usage_mistakes_are_one_line_with_exit_2(capsys, tmp_path):
    code, _, err = survey(capsys, "template", "--edition", "fy2099", "--out", tmp_path / "t")
    assert code == 2 and "fy2099" in one_line(err) and not (tmp_path / "t").exists()
    code, _, err = survey(
        capsys, "run", "--raw", tmp_path / "nonexistent", "--processed", tmp_path / "p", "--reports", tmp_path / "r"
    )
    assert code == 2 and "nonexistent" in one_line(err)
    code, _, err = survey(capsys, "ingest", tmp_path / "nonexistent", "--out", tmp_path / "p", *QUICK)
    assert code == 2 and "nonexistent" in one_line(err)
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.slow
def test_the_installed_command_prints_one_line_too(raw, tmp_path):
    for args, code in (
        (["template", "--edition", "fy2099", "--out", tmp_path / "t"], 2),
        (["ingest", raw / "2021", "--out", raw / "2021"], 2),
        (["ingest", tmp_path, "--out", tmp_path / "p"], 2),
    ):  # --out inside the input
        proc = subprocess_survey(*args)
        assert proc.returncode == code and proc.stdout == ""
        assert one_line(proc.stderr).startswith(f"survey {args[0]}: ")
    assert list(tmp_path.iterdir()) == []


def test_run_refuses_overlapping_roots_before_writing(capsys, raw, tmp_path):
    code, _, err = survey(capsys, "run", "--raw", raw, "--processed", raw / "processed", "--reports", tmp_path / "r")
    assert code == 2 and "--processed" in one_line(err)
    code, _, err = survey(capsys, "run", "--raw", raw, "--processed", tmp_path / "p", "--reports", tmp_path / "p")
    assert code == 2 and "--reports" in one_line(err)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("code_", [errno.ENOSPC, errno.EACCES])
def test_environment_errors_are_one_line_with_exit_2(capsys, monkeypatch, small_raw, tmp_path, code_):
    import analysis.ingest.folder

    def fail(*args, **kwargs):
        raise OSError(code_, os.strerror(code_), str(tmp_path / "processed" / "x.parquet"))

    monkeypatch.setattr(analysis.ingest.folder, "write_processed", fail)
    code, _, err = survey(capsys, "ingest", small_raw, "--out", tmp_path / "processed", *QUICK)
    line = one_line(err)
    assert code == 2 and os.strerror(code_) in line and "x.parquet" in line
    assert ("ディスクの空き" if code_ == errno.ENOSPC else "アクセス") in line


def test_control_characters_never_reach_the_terminal(capsys, tmp_path):
    code, _, err = survey(capsys, "ingest", tmp_path / "bad\x1b[31mname\nx", "--out", tmp_path / "p", *QUICK)
    assert code == 2 and "\x1b" not in err and "\\x1b" in one_line(err)


@given(st.lists(st.sampled_from("abc"), max_size=4), st.lists(st.sampled_from("abc"), max_size=4))
def test_an_output_may_not_overlap_an_input(tmp_path_factory, out_parts, in_parts):
    """Property: refused exactly when one path is the other or one of its parents."""
    from analysis.errors import UsageError
    from analysis.output.atomic import refuse_overlap

    root = tmp_path_factory.getbasetemp() / "overlap"
    out, source = root.joinpath(*out_parts), root.joinpath(*in_parts)
    shorter = min(len(out_parts), len(in_parts))
    overlaps = out_parts[:shorter] == in_parts[:shorter]
    if overlaps:
        with pytest.raises(UsageError):
            refuse_overlap(out, [source])
    else:
        refuse_overlap(out, [source])


# -- the report's first screen -----------------------------------------------------------------------


@pytest.mark.slow
def test_first_screen_says_errors_warnings_and_incomplete_companies(capsys, small_processed, tmp_path):
    issues = pd.read_csv(small_processed / "issues.csv")
    errors, warnings_ = int((issues["severity"] == "error").sum()), int((issues["severity"] == "warning").sum())
    assert errors >= 1  # the invalid answer of U03
    code, out, _ = survey(capsys, "report", small_processed, "--out", tmp_path / "report")
    assert code == 0
    # U02 left a question blank and U03's answer was rejected: both incomplete, U01 complete.
    expected = f"エラー {errors} 件、警告 {warnings_} 件"
    assert expected in out and "3 社中 2 社" in out
    page = (tmp_path / "report" / "index.html").read_text(encoding="utf-8")
    header = page.split("</header>")[0]
    assert expected in header and "3 社中 2 社" in header
    contents = openpyxl.load_workbook(tmp_path / "report" / "tables.xlsx").worksheets[0]
    assert expected in contents["A3"].value and "3 社中 2 社" in contents["A3"].value


@settings(max_examples=examples(30))  # each example builds a study (~0.1 s)
@given(
    st.lists(st.lists(st.booleans(), min_size=3, max_size=3), min_size=1, max_size=6),
    st.integers(0, 3),
    st.sampled_from(["unanswered", "not_applicable", "dont_know", None]),
)
def test_incomplete_companies_are_those_with_a_question_without_a_score(blanks, profiles_only, reason):
    """Property: a company is incomplete when any codebook question has no score, or it has no answers."""
    from analysis.study.load import study_from_tables

    codebook = load_codebook("fy2021")
    questions = list(codebook.questions.itertuples(index=False))
    rows, users = [], []
    for i, blank in enumerate(blanks):
        rid = f"U{i:02d}"
        users.append({"respondent_id": rid, "group": "user", "fiscal_year": 2021})
        for j, question in enumerate(questions):
            missing = j < len(blank) and blank[j]
            rows.append(
                {
                    "respondent_id": rid,
                    "fiscal_year": 2021,
                    "directive": int(question.directive),
                    "question_id": question.question_id,
                    "score": None if missing else 3,
                    "missing_reason": reason if missing else None,
                }
            )
    users += [{"respondent_id": f"P{i}", "group": "user", "fiscal_year": 2021} for i in range(profiles_only)]
    users.append({"respondent_id": "V01", "group": "vendor", "fiscal_year": 2021})
    tables = {"respondents": pd.DataFrame(users), "self_assessment": pd.DataFrame(rows)}
    study = study_from_tables(tables, codebook, 2021, None, None)
    summary = ingest_summary(study, {"errors": 4, "warnings": 5})
    assert summary == {
        "errors": 4,
        "warnings": 5,
        "companies": len(blanks) + profiles_only,
        "incomplete": sum(any(b) for b in blanks) + profiles_only,
    }


# -- the swap, the leftovers, kills ---------------------------------------------------------------------


def _dead_pid() -> int:
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(proc.stdout)


@pytest.mark.parametrize("swap", ["exchange", "two-step"])
def test_replace_dir_swaps_whole_folders(tmp_path, monkeypatch, swap):
    if swap == "two-step":
        monkeypatch.setenv("SURVEY_SWAP", "two-step")
    target = tmp_path / "out"
    moved_away = []
    real = os.rename
    monkeypatch.setattr(os, "rename", lambda a, b: (moved_away.append(a) if Path(a) == target else None, real(a, b))[1])
    for version in ("v1", "v2"):
        with staging_dir(target, command="test") as staged:
            (staged / "t.csv").write_text(version)
            (staged / version).write_text("")
        assert sorted(p.name for p in target.iterdir()) == sorted([MARKER, "t.csv", version])
        assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    # With renameat2 the old output is never moved away from its name (no moment without it).
    assert len(moved_away) == (1 if swap == "two-step" else 0)


def test_interrupted_two_step_swap_is_rolled_back_by_the_next_run(tmp_path):
    target = tmp_path / "out"
    target.mkdir()
    (target / "t.csv").write_text("previous")
    pid = _dead_pid()
    os.rename(target, tmp_path / f".out.old-{pid}")  # killed between the two renames
    (tmp_path / f".out.staging-{pid}-abc123").mkdir()
    assert not target.exists()
    clean_leftovers(target)
    assert (target / "t.csv").read_text() == "previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_cleanup_touches_only_dead_runs_of_its_own_naming_scheme(tmp_path):
    target = tmp_path / "out"
    target.mkdir()
    dead, alive = _dead_pid(), os.getpid()
    keep = [
        f".out.staging-{alive}-live1",
        f".out.old-{alive}",
        ".out.staging-abc",
        f".other.old-{dead}",
        f".out.old-{dead}.bak",
        f"out.staging-{dead}-x",
        f".out.staging-{dead}-a.b",
    ]
    gone = [f".out.staging-{dead}-x1y2", f".out.old-{dead}"]
    for name in keep + gone:
        (tmp_path / name).mkdir()
        (tmp_path / name / "f").write_text("x")
    clean_leftovers(target)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["out", *keep])
    # A live process id that started after the leftover was written is a reused id: stale.
    old = tmp_path / f".out.staging-{alive}-live1"
    os.utime(old, (time.time() - 10 * 365 * 86400,) * 2)
    clean_leftovers(target)
    assert not old.exists()


def test_failed_swap_keeps_the_previous_output(tmp_path, monkeypatch):
    target = tmp_path / "out"
    with staging_dir(target, command="test") as staged:
        (staged / "t.csv").write_text("v1")
    monkeypatch.setenv("SURVEY_SWAP", "two-step")
    real = os.rename
    calls = []

    def second_rename_fails(a, b):
        calls.append((a, b))
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(a, b)

    staged = tmp_path / "new"
    staged.mkdir()
    (staged / "t.csv").write_text("v2")
    monkeypatch.setattr(os, "rename", second_rename_fails)
    with pytest.raises(OSError):
        replace_dir(staged, target)
    assert (target / "t.csv").read_text() == "v1" and (staged / "t.csv").read_text() == "v2"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new", "out"]


def _ingest_args(raw_dir: Path, out: Path) -> list[str]:
    return ["ingest", str(raw_dir), "--out", str(out), *QUICK]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("swap", "step"),
    [("exchange", "staged"), ("exchange", "exchanged"), ("two-step", "staged"), ("two-step", "between-renames")],
)
def test_ingest_killed_at_each_step_keeps_or_restores_the_output(small_raw, tmp_path, swap, step):
    out = tmp_path / "processed"
    env = {"SURVEY_SWAP": swap}
    assert subprocess_survey(*_ingest_args(small_raw, out), env=env).returncode in (0, 1)
    before = tree_hash(out, skip=(MARKER,))
    killed = subprocess_survey(*_ingest_args(small_raw, out), env={**env, "SURVEY_KILL_AT": step})
    assert killed.returncode == -signal.SIGKILL
    if step == "between-renames":
        assert not out.exists() and leftovers(out)  # the one moment without --out …
    else:
        assert tree_hash(out, skip=(MARKER,)) == before
    # … which the next run undoes first, even a run that then fails (a folder without workbooks).
    empty = tmp_path / "empty"
    empty.mkdir()
    assert subprocess_survey(*_ingest_args(empty, out), env=env).returncode == 1
    assert tree_hash(out, skip=(MARKER,)) == before and leftovers(out) == []
    assert subprocess_survey(*_ingest_args(small_raw, out), env=env).returncode in (0, 1)
    assert tree_hash(out, skip=(MARKER,)) == before and leftovers(out) == []


@pytest.mark.slow
def test_report_killed_between_renames_is_restored_by_the_next_report(small_processed, tmp_path):
    out = tmp_path / "report"
    args = ["report", small_processed, "--out", out]
    env = {"SURVEY_SWAP": "two-step"}
    assert subprocess_survey(*args, env=env).returncode == 0
    page = (out / "index.html").read_bytes()
    assert subprocess_survey(*args, env={**env, "SURVEY_KILL_AT": "between-renames"}).returncode == -signal.SIGKILL
    assert not out.exists()
    assert subprocess_survey(*args, env=env).returncode == 0
    assert (out / "index.html").read_bytes() == page and leftovers(out) == []


@pytest.mark.slow
def test_ingest_and_report_killed_at_random_moments(small_raw, small_processed, tmp_path):
    rng = random.Random(10)
    commands = {
        "ingest": (_ingest_args(small_raw, tmp_path / "processed"), tmp_path / "processed"),
        "report": (["report", str(small_processed), "--out", str(tmp_path / "report")], tmp_path / "report"),
    }
    for name, (args, out) in commands.items():
        started = time.monotonic()
        assert subprocess_survey(*args).returncode in (0, 1)
        duration = time.monotonic() - started
        files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*"))
        page = (out / "index.html").read_bytes() if name == "report" else (out / "ingest.json").read_bytes()
        for swap in ("exchange", "two-step"):
            delay = rng.uniform(0.3, 1.0) * duration
            proc = subprocess.Popen(
                [sys.executable, "-m", "analysis.cli", *args],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env={**os.environ, "SURVEY_SWAP": swap},
            )
            time.sleep(delay)
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            clean_leftovers(out)  # what the next run does first
            # Whatever the moment: the previous output, or the new one complete.
            assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == files, (name, swap, delay)
            assert page == ((out / "index.html") if name == "report" else (out / "ingest.json")).read_bytes()
            assert leftovers(out) == []


@pytest.mark.slow
def test_disk_full_is_one_line_and_keeps_the_previous_output(small_raw, tmp_path):
    disk = tmp_path / "disk"
    disk.mkdir()
    if shutil.which("mount") is None:
        pytest.skip("no mount command")
    first = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(disk)], capture_output=True)
    if first.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {first.stderr.decode(errors='replace').strip()}")
    try:
        out = disk / "processed"
        assert subprocess_survey(*_ingest_args(small_raw, out)).returncode in (0, 1)
        before = tree_hash(out)
        space = os.statvfs(disk)
        used = (space.f_blocks - space.f_bfree) * space.f_frsize
        # Room for the previous output and a fraction of a new one.
        subprocess.run(["mount", "-o", f"remount,size={used + used // 3}", str(disk)], check=True)
        proc = subprocess_survey(*_ingest_args(small_raw, out))
        assert proc.returncode == 2
        line = one_line(proc.stderr)
        assert "ディスクの空きがありません" in line and "No space left on device" in line
        assert tree_hash(out) == before and leftovers(out) == []
    finally:
        subprocess.run(["umount", str(disk)], check=False)


_CSV_TEXT = st.one_of(
    st.none(), st.text(alphabet=st.sampled_from("ab=+-@\t\r\n＝＋－＠\x00\x1b\x7f\x9b\"',é漢 "), max_size=8)
)


@given(st.lists(_CSV_TEXT, min_size=1, max_size=12))
def test_the_fast_csv_writer_reads_back_as_the_safe_frame_does(texts):
    # The ingest's CSV writer (pyarrow) must neutralise and escape exactly as csv_safe_frame,
    # for text, nullable integers and booleans, and read back cell for cell (pandas' own writer
    # leaves a lone CR unquoted, which splits a row). Categories (codes from the codebook) are
    # made safe too, which csv_safe_frame leaves to their text form.
    import io

    from analysis.ingest.folder import _to_csv_bytes
    from analysis.output.safe import csv_safe_frame

    frame = pd.DataFrame(
        {
            "text": texts,
            "category": pd.Categorical(texts),
            "n": pd.array([None if t is None else len(t) for t in texts], dtype="Int64"),
            "flag": pd.array([None if t is None else len(t) % 2 == 0 for t in texts], dtype="boolean"),
        }
    )
    written = _to_csv_bytes(frame)
    assert written.startswith("\ufeff".encode())
    read = pd.read_csv(io.BytesIO(written), dtype=str, keep_default_na=False, encoding="utf-8-sig")
    safe = csv_safe_frame(frame.astype({"category": object}))
    expected = pd.DataFrame(
        {column: ["" if pd.isna(v) else str(v) for v in safe[column]] for column in frame.columns}, dtype=object
    )
    pd.testing.assert_frame_equal(read.astype(object), expected)
