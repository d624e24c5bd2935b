"""A finished job's folders: ``work``, ``home`` and ``tmp`` go when the job left nothing in them but empty folders.

Empty folders appear without the job: bubblewrap makes the mount points of a Python environment under ``/tmp`` (a
CI checkout) inside the job's own ``/tmp``. What a job wrote stays, links are never followed, and a job that nests
more folders than any skeleton keeps them.
"""

from __future__ import annotations

import os
from pathlib import Path

from hfjobs_mcp.local.jobenv import job_dirs


def _dirs(tmp_path: Path):  # type: ignore[no-untyped-def]
    dirs = job_dirs(tmp_path / "state", "0123456789abcdef01234567")
    dirs.create()
    return dirs


def test_a_skeleton_of_empty_folders_goes(tmp_path: Path) -> None:
    dirs = _dirs(tmp_path)
    (dirs.tmp / "ci-clone" / ".venv" / "lib").mkdir(parents=True)
    (dirs.tmp / "other").mkdir()
    dirs.remove_empty()
    assert not dirs.work.exists()
    assert not dirs.home.exists()
    assert not dirs.tmp.exists()


def test_what_a_job_wrote_stays_even_deep_down(tmp_path: Path) -> None:
    dirs = _dirs(tmp_path)
    (dirs.tmp / "a" / "b").mkdir(parents=True)
    (dirs.tmp / "a" / "b" / "kept.txt").write_text("x", encoding="utf-8")
    (dirs.work / "empty").mkdir()
    dirs.remove_empty()
    assert (dirs.tmp / "a" / "b" / "kept.txt").read_text(encoding="utf-8") == "x"
    assert not dirs.work.exists()


def test_a_link_is_kept_and_never_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    (outside / "empty").mkdir(parents=True)
    dirs = _dirs(tmp_path)
    os.symlink(outside, dirs.home / "link")
    dirs.remove_empty()
    assert (dirs.home / "link").is_symlink()
    assert (outside / "empty").is_dir()  # nothing removed through the link


def test_more_nested_folders_than_any_skeleton_are_kept(tmp_path: Path) -> None:
    dirs = _dirs(tmp_path)
    deep = dirs.work
    for _ in range(300):  # past the walk's bound of 256 folders (shallow enough for pytest's own clean-up)
        deep = deep / "d"
    deep.mkdir(parents=True)
    dirs.remove_empty()
    assert deep.is_dir()  # the job's, kept
