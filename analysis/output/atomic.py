"""Atomic, owned outputs: a file or a whole folder appears complete or not at all, and an output
folder is replaced only when the toolkit made it.

Files are written to a temporary name in the same folder and renamed over the target.
Folders are built beside the target (``.NAME.staging-PID-*``) and swapped in:

* with ``renameat2(RENAME_EXCHANGE)`` (Linux) the target is never absent: the old and new
  folders trade places in one step, and the old one is then removed;
* elsewhere with two renames (target to ``.NAME.old-PID``, staged to target). A run killed
  between them leaves no target; the next run puts ``.NAME.old-PID`` back (a roll-back: the
  previous output as it was).

Each finished folder holds :data:`MARKER`, naming the command that made it. Before writing,
:func:`claim_output` refuses a target that is, contains or is inside an input folder, and a
non-empty target that is not a previous output of the same command (unless ``force``; inputs
are never overwritten, even then). It also cleans what killed runs left beside the target.
"""

from __future__ import annotations

import contextlib
import ctypes
import datetime as dt
import errno
import json
import os
import re
import secrets
import shutil
import signal
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from analysis.errors import UsageError

__all__ = [
    "MARKER",
    "atomic_write_bytes",
    "atomic_write_text",
    "claim_output",
    "clean_leftovers",
    "owner_of",
    "refuse_overlap",
    "replace_dir",
    "staging_dir",
]

MARKER = ".survey-output.json"
# The manifest every ingest writes: a processed folder made before MARKER existed is still owned.
_LEGACY_MARKERS = {"ingest": "ingest.json"}
_AT_FDCWD, _RENAME_EXCHANGE = -100, 2
# Test hooks: SURVEY_KILL_AT=<step> kills the process with SIGKILL at that step of a folder swap;
# SURVEY_SWAP=two-step uses the fallback swap even where renameat2 works.
_KILL_ENV, _SWAP_ENV = "SURVEY_KILL_AT", "SURVEY_SWAP"


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and an atomic rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    """Write UTF-8 ``text`` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))


# -- ownership -----------------------------------------------------------------------------------


def refuse_overlap(target: Path, inputs: Iterable[Path | None], what: str = "--out") -> None:
    """Raise :class:`UsageError` when ``target`` is, contains or is inside one of ``inputs``.

    Paths are compared after resolving symbolic links, so a link to the raw folder is the raw
    folder.
    """
    out = Path(target).resolve()
    for source in inputs:
        if source is None:
            continue
        given = Path(source).resolve()
        if out == given or given in out.parents or out in given.parents:
            ja, en = (
                ("と同じです", "is")
                if out == given
                else ("の中にあります", "is inside")
                if given in out.parents
                else ("を含んでいます", "contains")
            )
            raise UsageError(
                f"出力先 {what} {target} は入力フォルダ {source} {ja}。"
                "入力は書き換えません。別の出力先を指定してください",
                f"{what} {target} {en} the input folder {source}; inputs are never written, "
                "choose another output folder",
            )


def owner_of(folder: Path) -> str | None:
    """The command that made ``folder`` (from :data:`MARKER`), or ``None`` when not the toolkit's."""
    folder = Path(folder)
    try:
        marker = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        marker = None
    if isinstance(marker, dict) and isinstance(marker.get("command"), str):
        return marker["command"]
    for command, name in _LEGACY_MARKERS.items():
        if (folder / name).is_file():
            return command
    return None


def claim_output(target: Path, command: str, inputs: Iterable[Path | None] = (), force: bool = False) -> None:
    """Check that ``command`` may replace ``target``; clean leftovers of killed runs beside it.

    Raises :class:`UsageError` (nothing written or removed) when ``target`` overlaps an input
    folder (even with ``force``), is a file, or is a non-empty folder that is not a previous
    output of ``command`` (unless ``force``).
    """
    target = Path(target)
    refuse_overlap(target, inputs)
    clean_leftovers(target)
    if not target.exists() and not target.is_symlink():
        return
    if target.is_symlink():  # a swap would replace the link itself, not the folder it points to
        raise UsageError(
            f"出力先 {target} はシンボリックリンクです。リンク先のフォルダを指定してください",
            f"--out {target} is a symbolic link; give the folder it points to",
        )
    if not target.is_dir():
        raise UsageError(f"出力先 {target} はフォルダではありません", f"--out {target} is not a folder")
    if force or not any(target.iterdir()):
        return
    owner = owner_of(target)
    if owner != command:
        made = (
            (f"survey {owner} の出力です", f"is an output of survey {owner}")
            if owner
            else ("このツールの出力ではありません", "is not an output of this toolkit")
        )
        raise UsageError(
            f"出力先 {target} は空でなく、{made[0]}。置き換えるなら --force を付けてください(中身は消えます)",
            f"--out {target} is not empty and {made[1]}; add --force to replace it (its contents are deleted)",
        )


def _marker(command: str) -> str:
    from analysis import __version__

    return (
        json.dumps(
            {
                "command": command,
                "toolkit": "cybersurvey-analysis",
                "version": __version__,
                "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            },
            ensure_ascii=False,
            indent=2,
        )
        + "\n"
    )


# -- leftovers of killed runs --------------------------------------------------------------------


def _leftover_pattern(target: Path) -> re.Pattern[str]:
    return re.compile(rf"^\.{re.escape(target.name)}\.(?P<kind>staging|old)-(?P<pid>\d+)(?:-[A-Za-z0-9_]+)?$")


def _process_start(pid: int) -> float | None:
    """Start time (epoch seconds) of process ``pid``; ``None`` when it does not run (or is a zombie).

    Without ``/proc`` the start is unknown (``0.0``: the process counts as older than any
    leftover); on Windows, where no signal can probe a process, every process counts as running.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        boot = next(
            float(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines() if line.startswith("btime ")
        )
    except (OSError, StopIteration, ValueError, IndexError):
        if os.name != "posix":
            return 0.0
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    if fields[0] in ("Z", "X"):
        return None
    return boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")


def _stale(path: Path, pid: int) -> bool:
    """A leftover is stale when its process is gone, or the process with that id started after the
    leftover was last written (the id was reused); where processes cannot be probed, after a day."""
    start = _process_start(pid)
    if start is None:
        return True
    try:
        written = path.lstat().st_mtime
    except FileNotFoundError:
        return False
    if os.name != "posix":
        return written < dt.datetime.now().timestamp() - 86400
    return start > written + 1.0  # boot time has whole-second precision


def clean_leftovers(target: Path) -> list[Path]:
    """Finish what killed runs left beside ``target``; return the leftovers handled.

    Only names of this module's scheme (``.NAME.staging-PID-*``, ``.NAME.old-PID``) whose
    process is gone are touched. When ``target`` is missing, the newest ``.NAME.old-PID`` (the
    previous output, moved aside by an interrupted swap) is put back; every other stale leftover
    is removed.
    """
    target = Path(target)
    parent = target.parent
    if not parent.is_dir():
        return []
    pattern = _leftover_pattern(target)
    stale: list[tuple[str, Path]] = []
    for entry in parent.iterdir():
        match = pattern.match(entry.name)
        if match and entry.is_dir() and not entry.is_symlink() and _stale(entry, int(match["pid"])):
            stale.append((match["kind"], entry))
    olds = sorted((p for kind, p in stale if kind == "old"), key=lambda p: p.lstat().st_mtime)
    if olds and not target.exists() and not target.is_symlink():
        os.rename(olds[-1], target)
    for _kind, path in stale:
        if path.exists():
            _remove(path, target)
    return [p for _k, p in stale]


def _remove(folder: Path, target: Path) -> None:
    """Delete a finished-with folder: renamed to a staging name first, so that a kill during the
    deletion never leaves a half-deleted ``.old-`` that could be mistaken for a whole output."""
    trash = target.with_name(f".{target.name}.staging-{os.getpid()}-{secrets.token_hex(8)}")
    os.rename(folder, trash)
    shutil.rmtree(trash, ignore_errors=True)


# -- the swap --------------------------------------------------------------------------------------


def _checkpoint(step: str) -> None:
    """Test hook: die here, as a kill -9 would, when ``SURVEY_KILL_AT`` names this step."""
    if os.environ.get(_KILL_ENV) == step:
        os.kill(os.getpid(), signal.SIGKILL)


def _exchange(a: Path, b: Path) -> bool:
    """Swap ``a`` and ``b`` in one step (Linux renameat2); ``False`` when that is not available."""
    if os.environ.get(_SWAP_ENV) == "two-step":
        return False
    try:
        function = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError, TypeError):  # TypeError: no C library handle (Windows)
        return False
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    function.restype = ctypes.c_int
    if function(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False  # kernel or file system without RENAME_EXCHANGE
    raise OSError(code, os.strerror(code), str(b))


def replace_dir(staged: Path, target: Path) -> None:
    """Put the finished folder ``staged`` in place of ``target`` (which may not exist)."""
    staged, target = Path(staged), Path(target)
    if not target.exists() and not target.is_symlink():
        os.rename(staged, target)
        return
    if _exchange(staged, target):
        _checkpoint("exchanged")
        shutil.rmtree(staged, ignore_errors=True)  # now the previous output, under the staging name
        return
    old = target.with_name(f".{target.name}.old-{os.getpid()}")
    if old.exists():
        _remove(old, target)
    os.rename(target, old)
    _checkpoint("between-renames")
    try:
        os.rename(staged, target)
    except BaseException:
        os.rename(old, target)
        raise
    _remove(old, target)


@contextlib.contextmanager
def staging_dir(
    target: Path, command: str | None = None, inputs: Iterable[Path | None] = (), force: bool = False
) -> Iterator[Path]:
    """Yield a fresh folder beside ``target``; on success it replaces ``target``.

    With ``command``, the target is first claimed (:func:`claim_output`: overlap with
    ``inputs``, ownership, leftovers) and the finished folder gets :data:`MARKER`. On any
    exception (or interruption) the staged folder is removed and ``target`` is left untouched.
    """
    target = Path(target)
    if command is not None:
        claim_output(target, command, inputs, force)
    target.parent.mkdir(parents=True, exist_ok=True)
    staged = Path(tempfile.mkdtemp(prefix=f".{target.name}.staging-{os.getpid()}-", dir=target.parent))
    try:
        yield staged
        if command is not None:
            (staged / MARKER).write_text(_marker(command), encoding="utf-8")
        _checkpoint("staged")
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    replace_dir(staged, target)
