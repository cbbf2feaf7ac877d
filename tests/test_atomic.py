import pytest

from analysis.output.atomic import atomic_write_text, staging_dir


def test_atomic_write_replaces_whole_file(tmp_path):
    target = tmp_path / "a.txt"
    atomic_write_text(target, "old")
    atomic_write_text(target, "new")
    assert target.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_failed_staging_keeps_previous_folder(tmp_path):
    target = tmp_path / "out"
    with staging_dir(target) as staged:
        (staged / "t.csv").write_text("v1")
    with pytest.raises(RuntimeError), staging_dir(target) as staged:
        (staged / "t.csv").write_text("v2")
        raise RuntimeError("interrupted")
    assert (target / "t.csv").read_text() == "v1"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]
