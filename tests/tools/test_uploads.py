"""What a UV job uploads: names as huggingface_hub 2.4 gives them, names the agent chooses kept inside the upload
folder, folders walked without following links, files checked again at upload against what the user was shown."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from hfjobs_mcp.errors import InvalidRequestError
from hfjobs_mcp.tools.uploads import UploadSet, check_name, synced_folder_name


@pytest.mark.parametrize(
    "name",
    ["../x", "/etc/passwd", "a/../b", "a//b", "./a", "a/.", "", "a\\b", "a\0b", "x" * 256, "inputs/../../escape"],
)
def test_names_that_could_leave_the_upload_folder_are_refused(name: str) -> None:
    with pytest.raises(InvalidRequestError):
        check_name(name, "file name")
    with pytest.raises(InvalidRequestError):
        UploadSet().add_bytes(name, b"x", "inline")


def test_plain_and_nested_names_are_kept() -> None:
    uploads = UploadSet()
    assert uploads.add_bytes("config.yml", b"lr: 1", "inline") == "config.yml"
    assert uploads.add_bytes("inputs/train.csv", b"a,b", "inline") == "inputs/train.csv"
    with pytest.raises(InvalidRequestError, match=r"both be /data/config\.yml"):
        uploads.add_bytes("config.yml", b"again", "inline")
    with pytest.raises(InvalidRequestError):  # a file where a folder of files is
        uploads.add_bytes("inputs", b"x", "inline")


def test_local_names_are_made_free_as_huggingface_hub_does(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "my config.yml").write_text("1")
    (tmp_path / "b" / "my config.yml").write_text("2")
    uploads = UploadSet()
    assert uploads.add_local(tmp_path / "a" / "my config.yml") == "my_config.yml"
    assert uploads.add_local(tmp_path / "b" / "my config.yml") == "my_config(0).yml"
    assert uploads.add_local(tmp_path / "a" / "my config.yml") == "my_config.yml"  # the same file: once
    assert [u.name for u in uploads.root] == ["my_config.yml", "my_config(0).yml"]


def test_a_folder_is_walked_without_following_links(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "id_rsa").write_text("PRIVATE KEY")
    data = tmp_path / "data"
    (data / "sub").mkdir(parents=True)
    (data / "sub" / "rows.csv").write_text("a,b\n")
    (data / ".env").write_text("A=1\n")
    os.symlink(outside / "id_rsa", data / "key")
    os.symlink(outside, data / "linked")
    os.mkfifo(data / "pipe")
    uploads = UploadSet()
    assert uploads.add_local(data) == "data"
    assert sorted(u.name for u in uploads.root) == ["data/.env", "data/sub/rows.csv"]
    assert len(uploads.notes) == 3
    assert all("not followed" in n for n in uploads.notes)
    built = uploads.build("alice/jobs-artifacts")
    (group,) = built.groups
    assert (group.mount_path, group.folder, group.read_only) == ("/data", None, False)
    assert [f.path for f in built.facts()] == ["/data/data/.env", "/data/data/sub/rows.csv"]


def test_a_file_changed_after_planning_is_not_sent(tmp_path: Path) -> None:
    path = tmp_path / "config.yml"
    path.write_text("lr: 0.1")
    uploads = UploadSet()
    uploads.add_local(path)
    (upload,) = uploads.root
    assert upload.sha256 == hashlib.sha256(b"lr: 0.1").hexdigest()
    assert upload.source(in_memory=True) == b"lr: 0.1"
    assert upload.source(in_memory=False) == path  # a big file: hashed again, then sent from the disk
    path.write_text("lr: 9.9")
    for in_memory in (True, False):
        with pytest.raises(InvalidRequestError, match="changed since the request was planned"):
            upload.source(in_memory=in_memory)
    path.unlink()
    with pytest.raises(InvalidRequestError, match="could not be read any more"):
        upload.source(in_memory=True)


def test_a_header_folder_volume_gets_its_own_reused_folder(tmp_path: Path) -> None:
    empty = tmp_path / "out put"
    empty.mkdir()
    uploads = UploadSet()
    uploads.add_folder_volume(empty, "/outputs", read_only=False)
    (group,) = uploads.build("alice/jobs-artifacts").groups
    assert group.folder == synced_folder_name(empty)
    assert group.folder is not None
    assert group.folder.startswith("out_put-")
    assert [u.name for u in group.files] == [".keep"]  # a bucket cannot hold an empty folder
    assert uploads.mount_paths() == ["/outputs"]


def test_a_folder_over_the_limits_is_refused_before_any_file_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hfjobs_mcp.tools import uploads as module

    for i in range(5):
        (tmp_path / f"f{i}.txt").write_text("x")

    def never(path: Path) -> tuple[int, str]:
        raise AssertionError(f"{path} was read")

    monkeypatch.setattr(module, "MAX_FILES", 3)
    monkeypatch.setattr(module, "_hash_file", never)
    with pytest.raises(InvalidRequestError, match="more than 3 files"):
        UploadSet().add_local(tmp_path)
    monkeypatch.setattr(module, "MAX_FILES", 1000)
    monkeypatch.setattr(module, "MAX_TOTAL_BYTES", 2)
    with pytest.raises(InvalidRequestError, match="nothing was sent"):
        UploadSet().add_local(tmp_path)  # five bytes: over two
