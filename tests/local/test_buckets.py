"""Buckets through the official client (huggingface_hub 2.4 + hf_xet, unchanged) against the local backend.

Uploads go through the real Xet client to the backend's storage endpoint and land as plain files in the
bucket's folder; files a job writes there are listed and downloaded like uploaded ones.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from huggingface_hub import HfApi
from huggingface_hub.errors import BucketNotFoundError, HfHubHTTPError

from hfjobs_mcp.local import LocalBackend, LocalConfig
from tests.backends import serve_backend

from .conftest import client
from .util import TOKEN, log_text, py, run, wait_stage

pytestmark = pytest.mark.timeout(120)

BOB_TOKEN = "hf_local_bob_token_0123456789"


@pytest.fixture
def hub_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.setenv("HF_XET_CACHE", str(tmp_path / "xet-cache"))
    monkeypatch.setenv("HF_HUB_DISABLE_PROGRESS_BARS", "1")


@pytest.fixture
def backend(fast_config: LocalConfig, hub_env: None) -> Iterator[LocalBackend]:
    cfg = dataclasses.replace(fast_config, extra_users={BOB_TOKEN: ("bob", ())})
    with serve_backend(cfg) as b:
        yield b


@pytest.fixture
def hub(backend: LocalBackend) -> HfApi:
    return HfApi(endpoint=backend.url, token=TOKEN)


@pytest.fixture
def bob(backend: LocalBackend) -> HfApi:
    return HfApi(endpoint=backend.url, token=BOB_TOKEN)


def folder(backend: LocalBackend, bucket_id: str) -> Path:
    return Path(backend.state_dir) / "buckets" / bucket_id


@pytest.mark.slow
def test_create_info_list_settings_and_delete(hub: HfApi, backend: LocalBackend) -> None:
    url = hub.create_bucket("alice/first", private=True)
    assert url.url == f"{backend.url}/buckets/alice/first"
    assert url.bucket_id == "alice/first"
    with pytest.raises(HfHubHTTPError) as exists:
        hub.create_bucket("alice/first")
    assert exists.value.response.status_code == 409
    assert hub.create_bucket("alice/first", exist_ok=True).bucket_id == "alice/first"
    hub.create_bucket("myorg/shared")  # an org of alice's
    info = hub.bucket_info("alice/first")
    assert (info.id, info.private, info.size, info.total_files) == ("alice/first", True, 0, 0)
    hub.update_bucket_settings("alice/first", private=False)
    assert hub.bucket_info("alice/first").private is False
    assert [b.id for b in hub.list_buckets()] == ["alice/first"]
    assert [b.id for b in hub.list_buckets(namespace="myorg")] == ["myorg/shared"]
    hub.delete_bucket("alice/first")
    with pytest.raises(BucketNotFoundError):
        hub.bucket_info("alice/first")
    assert not folder(backend, "alice/first").exists()
    hub.delete_bucket("alice/first", missing_ok=True)


@pytest.mark.slow
def test_bad_names_and_foreign_namespaces_are_refused(hub: HfApi) -> None:
    with pytest.raises(HfHubHTTPError) as bad:
        hub.create_bucket("alice/bad..name")
    assert bad.value.response.status_code == 400
    assert "Invalid bucket name" in bad.value.response.json()["error"]
    with pytest.raises(HfHubHTTPError) as foreign:
        hub.create_bucket("stranger/mine")
    assert foreign.value.response.status_code == 403


@pytest.mark.slow
def test_upload_list_and_download_back(hub: HfApi, backend: LocalBackend, tmp_path: Path) -> None:
    hub.create_bucket("alice/data")
    big = tmp_path / "weights.bin"
    big.write_bytes(os.urandom(700_000) + b"\0" * 300_000)
    hub.batch_bucket_files(
        "alice/data", add=[(big, "models/weights.bin"), (b"hello", "notes/hello.txt"), (b"", "empty.txt")]
    )
    root = folder(backend, "alice/data")
    assert (root / "models" / "weights.bin").read_bytes() == big.read_bytes()  # a plain file of the folder
    assert (root / "notes" / "hello.txt").read_bytes() == b"hello"
    assert (root / "models" / "weights.bin").stat().st_mtime == pytest.approx(big.stat().st_mtime, abs=0.01)
    files = {f.path: f for f in hub.list_bucket_tree("alice/data", recursive=True)}
    assert sorted(files) == ["empty.txt", "models/weights.bin", "notes/hello.txt"]
    assert files["models/weights.bin"].size == 1_000_000
    assert len(files["models/weights.bin"].xet_hash) == 64
    top = {f.path: f.type for f in hub.list_bucket_tree("alice/data")}
    assert top == {"empty.txt": "file", "models": "directory", "notes": "directory"}
    info = hub.bucket_info("alice/data")
    assert (info.size, info.total_files) == (1_000_005, 3)
    out = tmp_path / "out"
    hub.download_bucket_files(
        "alice/data",
        [("models/weights.bin", out / "w.bin"), ("notes/hello.txt", out / "h.txt"), ("empty.txt", out / "e.txt")],
        raise_on_missing_files=True,
    )
    assert (out / "w.bin").read_bytes() == big.read_bytes()
    assert (out / "h.txt").read_bytes() == b"hello"
    assert (out / "e.txt").read_bytes() == b""
    hub.batch_bucket_files("alice/data", delete=["notes/hello.txt"])
    assert not (root / "notes").exists()  # no file left in it: a bucket has no empty folders
    assert [f.path for f in hub.list_bucket_tree("alice/data", recursive=True)] == ["empty.txt", "models/weights.bin"]


@pytest.mark.slow
def test_sync_a_folder_up_and_back(hub: HfApi, tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "a").mkdir(parents=True)
    (src / "a" / "one.txt").write_text("1")
    (src / "two.txt").write_text("2" * 10_000)
    hub.create_bucket("alice/synced")
    hub.sync_bucket(str(src), "hf://buckets/alice/synced/folder")
    plan = hub.sync_bucket(str(src), "hf://buckets/alice/synced/folder", dry_run=True)
    assert {op.action for op in plan.operations} == {"skip"}  # same sizes and times: nothing to send again
    back = tmp_path / "back"
    hub.sync_bucket("hf://buckets/alice/synced/folder", str(back))
    assert (back / "a" / "one.txt").read_text() == "1"
    assert (back / "two.txt").read_text() == "2" * 10_000


@pytest.mark.slow
def test_files_a_job_writes_are_bucket_files(hub: HfApi, backend: LocalBackend, tmp_path: Path) -> None:
    with client(backend) as api:
        code = "import os; os.makedirs('/out/run1'); open('/out/run1/metrics.json', 'w').write('{\"acc\": 0.9}')"
        job = run(api, py(code, volumes=[{"type": "bucket", "source": "alice/outputs", "mountPath": "/out"}]))
        assert wait_stage(api, job["id"])["status"]["stage"] == "COMPLETED", log_text(api, job["id"])
        (entry,) = hub.list_bucket_tree("alice/outputs", recursive=True)
        assert (entry.path, entry.size) == ("run1/metrics.json", 12)
        hub.download_bucket_files("alice/outputs", [("run1/metrics.json", tmp_path / "m.json")])
        assert (tmp_path / "m.json").read_text() == '{"acc": 0.9}'
        # A later job changes it: the listing and the download follow.
        code = "open('/out/run1/metrics.json', 'w').write('{\"acc\": 0.95, \"epoch\": 2}')"
        job = run(api, py(code, volumes=[{"type": "bucket", "source": "alice/outputs", "mountPath": "/out"}]))
        assert wait_stage(api, job["id"])["status"]["stage"] == "COMPLETED"
    (changed,) = hub.list_bucket_tree("alice/outputs", recursive=True)
    assert changed.xet_hash != entry.xet_hash
    hub.download_bucket_files("alice/outputs", [(changed, tmp_path / "m2.json")])
    assert (tmp_path / "m2.json").read_text() == '{"acc": 0.95, "epoch": 2}'


@pytest.mark.slow
def test_links_planted_by_a_job_are_not_bucket_files(hub: HfApi, backend: LocalBackend, tmp_path: Path) -> None:
    secret_dir = tmp_path / "host-secrets"
    secret_dir.mkdir()
    (secret_dir / "token").write_text("host secret")
    state = Path(backend.state_dir)
    code = (
        f"import os; os.symlink({str(state / 'state.db')!r}, '/out/db'); os.symlink({str(secret_dir)!r}, '/out/d');"
        " open('/out/real.txt', 'w').write('ok')"
    )
    with client(backend) as api:
        job = run(api, py(code, volumes=[{"type": "bucket", "source": "alice/trap", "mountPath": "/out"}]))
        assert wait_stage(api, job["id"])["status"]["stage"] == "COMPLETED", log_text(api, job["id"])
    assert [f.path for f in hub.list_bucket_tree("alice/trap", recursive=True)] == ["real.txt"]
    assert list(hub.get_bucket_paths_info("alice/trap", ["db", "d/token", "real.txt"])) != []
    assert [f.path for f in hub.get_bucket_paths_info("alice/trap", ["db", "d/token"])] == []
    with httpx2.Client(base_url=backend.url, headers={"authorization": f"Bearer {TOKEN}"}) as raw:
        for path in ("db", "d/token"):
            r = raw.get(f"/buckets/alice/trap/resolve/{path}")
            assert r.status_code == 404
            assert r.headers["x-error-code"] == "EntryNotFound"
        assert raw.get("/buckets/alice/trap/resolve/real.txt").content == b"ok"


@pytest.mark.slow
def test_resolve_gives_the_xet_metadata_and_the_bytes(hub: HfApi, backend: LocalBackend) -> None:
    hub.create_bucket("alice/r")
    hub.batch_bucket_files("alice/r", add=[(b"some bytes", "dir/f.txt")])
    meta = hub.get_bucket_file_metadata("alice/r", "dir/f.txt")
    assert meta.size == 10
    assert meta.xet_file_data.refresh_route == f"{backend.url}/api/buckets/alice/r/xet-read-token"
    with httpx2.Client(base_url=backend.url, headers={"authorization": f"Bearer {TOKEN}"}) as raw:
        r = raw.get("/buckets/alice/r/resolve/dir/f.txt")
        assert r.content == b"some bytes"
        assert r.headers["x-xet-hash"] == meta.xet_file_data.file_hash


@pytest.mark.slow
def test_other_users_see_private_buckets_as_missing_and_cannot_write(hub: HfApi, bob: HfApi) -> None:
    hub.create_bucket("alice/private", private=True)
    hub.create_bucket("alice/public", private=False)
    hub.batch_bucket_files("alice/public", add=[(b"shared", "s.txt")])
    with pytest.raises(BucketNotFoundError):
        bob.bucket_info("alice/private")
    with pytest.raises(BucketNotFoundError):
        list(bob.list_bucket_tree("alice/private"))
    assert [f.path for f in bob.list_bucket_tree("alice/public")] == ["s.txt"]
    with pytest.raises(ConnectionError, match="403 Forbidden"):  # hf_xet asks for the write token and is refused
        bob.batch_bucket_files("alice/public", add=[(b"mine", "x.txt")])
    with pytest.raises(HfHubHTTPError) as denied:
        bob.batch_bucket_files("alice/public", delete=["s.txt"])
    assert denied.value.response.status_code == 403
    with pytest.raises(HfHubHTTPError) as denied:
        bob.delete_bucket("alice/public")
    assert denied.value.response.status_code == 403
    assert [b.id for b in bob.list_buckets(namespace="alice")] == ["alice/public"]


@pytest.mark.slow
def test_resolve_serves_one_byte_range(hub: HfApi, backend: LocalBackend) -> None:
    hub.create_bucket("alice/ranges")
    hub.batch_bucket_files("alice/ranges", add=[(b"0123456789", "f.txt"), (b"", "empty.txt")])
    with httpx2.Client(base_url=backend.url, headers={"authorization": f"Bearer {TOKEN}"}) as raw:
        for asked, status, body, span in [
            ("bytes=2-4", 206, b"234", "bytes 2-4/10"),
            ("bytes=7-", 206, b"789", "bytes 7-9/10"),
            ("bytes=-3", 206, b"789", "bytes 7-9/10"),
            ("bytes=8-100", 206, b"89", "bytes 8-9/10"),
        ]:
            r = raw.get("/buckets/alice/ranges/resolve/f.txt", headers={"range": asked})
            assert (r.status_code, r.content, r.headers["content-range"]) == (status, body, span), asked
            assert r.headers["content-length"] == str(len(body))
        for bad in ("bytes=10-", "bytes=5-2", "bytes=0-1,4-5", "items=0-1", "bytes=a-b", "bytes=-"):
            r = raw.get("/buckets/alice/ranges/resolve/f.txt", headers={"range": bad})
            assert (r.status_code, r.headers["content-range"]) == (416, "bytes */10"), bad
        assert raw.get("/buckets/alice/ranges/resolve/f.txt").content == b"0123456789"  # no range: all of it
        assert raw.get("/buckets/alice/ranges/resolve/empty.txt", headers={"range": "bytes=0-"}).status_code == 416
