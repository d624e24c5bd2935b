"""Volumes mounted where a job asks: bucket folders (read-write or read-only), repos from the local HF cache."""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

from hfjobs_mcp.local import LocalBackend, LocalConfig
from hfjobs_mcp.local.volumes import host_argv
from tests.backends import serve_backend

from .conftest import client
from .util import log_text, py, run, spec, wait_stage

pytestmark = pytest.mark.timeout(60)

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def fake_cache(root: Path, kind: str, repo: str, files: dict[str, str], *, ref: str = "main") -> Path:
    """A Hugging Face cache entry as huggingface_hub lays it out: refs, snapshots of links into blobs."""
    folder = root / f"{kind}s--{repo.replace('/', '--')}"
    (folder / "refs").mkdir(parents=True, exist_ok=True)
    (folder / "refs" / ref).write_text(COMMIT, encoding="utf-8")
    for name, content in files.items():
        blob = hashlib.sha256(content.encode()).hexdigest()
        (folder / "blobs").mkdir(exist_ok=True)
        (folder / "blobs" / blob).write_text(content, encoding="utf-8")
        link = folder / "snapshots" / COMMIT / name
        link.parent.mkdir(parents=True, exist_ok=True)
        depth = name.count("/") + 2
        link.symlink_to("/".join([".."] * depth + ["blobs", blob]))
    return folder


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    root = tmp_path / "hf-cache"
    fake_cache(root, "model", "org/tiny", {"config.json": '{"layers": 2}', "sub/weights.txt": "w"})
    fake_cache(root, "dataset", "org/data", {"train/part-0.csv": "a,b\n1,2\n"})
    return root


@pytest.fixture
def vbackend(fast_config: LocalConfig, cache: Path) -> Iterator[LocalBackend]:
    with serve_backend(dataclasses.replace(fast_config, hf_cache_dir=cache)) as b:
        yield b


@pytest.fixture
def vapi(vbackend: LocalBackend) -> Iterator[httpx2.Client]:
    with client(vbackend) as c:
        yield c


def bucket(source: str, mount: str = "/data", **extra: object) -> dict[str, object]:
    return {"type": "bucket", "source": source, "mountPath": mount, **extra}


@pytest.mark.slow
def test_a_bucket_volume_is_a_folder_of_the_backend_read_and_written_by_jobs(
    vapi: httpx2.Client, vbackend: LocalBackend
) -> None:
    write = "import os; os.makedirs('/data/out', exist_ok=True); open('/data/out/result.txt', 'w').write('42')"
    job = run(vapi, py(write, volumes=[bucket("alice/results")]))
    assert wait_stage(vapi, job["id"])["status"]["stage"] == "COMPLETED", log_text(vapi, job["id"])
    folder = Path(vbackend.state_dir) / "buckets" / "alice" / "results"
    assert (folder / "out" / "result.txt").read_text() == "42"  # created on first use, written by the job
    read = run(vapi, py("print(open('/in/out/result.txt').read())", volumes=[bucket("alice/results", "/in")]))
    assert wait_stage(vapi, read["id"])["status"]["stage"] == "COMPLETED"
    assert log_text(vapi, read["id"]) == ["42"]


@pytest.mark.slow
def test_a_read_only_bucket_volume_and_a_subfolder(vapi: httpx2.Client, vbackend: LocalBackend) -> None:
    folder = Path(vbackend.state_dir) / "buckets" / "alice" / "inputs"
    run_ok = run(vapi, py("pass", volumes=[bucket("alice/inputs")]))  # creates the bucket
    wait_stage(vapi, run_ok["id"])
    (folder / "set1").mkdir()
    (folder / "set1" / "x.txt").write_text("x1")
    code = (
        "import os\nprint(sorted(os.listdir('/data')), open('/data/x.txt').read())\n"
        "try:\n    open('/data/new.txt', 'w')\nexcept OSError as e:\n    print('refused', type(e).__name__)\n"
    )
    job = run(vapi, py(code, volumes=[bucket("alice/inputs", path="set1", readOnly=True)]))
    assert wait_stage(vapi, job["id"])["status"]["stage"] == "COMPLETED", log_text(vapi, job["id"])
    assert log_text(vapi, job["id"]) == ["['x.txt'] x1", "refused OSError"]
    assert not (folder / "set1" / "new.txt").exists()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("volume", "says"),
    [
        (bucket("alice/inputs", path="missing/dir"), "folder 'missing/dir' does not exist in the bucket"),
        (bucket("alice/inputs", path="../../../etc"), "'..' components are not allowed"),
        (bucket("stranger/b"), "you don't have access to namespace 'stranger'"),
        (bucket("alice/Bad--Name"), "Invalid bucket name 'Bad--Name'"),
        (
            {"type": "model", "source": "org/absent", "mountPath": "/m"},
            "model volume org/absent at revision main is not in the local Hugging Face cache",
        ),
        (
            {"type": "dataset", "source": "org/data", "mountPath": "/d", "revision": "v2"},
            "`hf download org/data --repo-type dataset --revision v2`",
        ),
        ({"type": "model", "source": "org/tiny", "mountPath": "/proc/x"}, "mountPath '/proc/x' is not allowed"),
    ],
)
def test_a_volume_that_cannot_be_mounted_fails_the_job_naming_it(
    vapi: httpx2.Client, volume: dict[str, object], says: str
) -> None:
    job = run(vapi, py("print('must not run')", volumes=[volume]))
    done = wait_stage(vapi, job["id"])
    assert done["status"]["stage"] == "ERROR"
    assert says in done["status"]["message"]
    assert done["status"]["message"].startswith("Job failed to start: ")
    assert "must not run" not in log_text(vapi, job["id"])


@pytest.mark.slow
def test_repo_volumes_come_read_only_from_the_local_cache(vapi: httpx2.Client) -> None:
    code = (
        "import os\nprint(open('/model/config.json').read(), open('/model/sub/weights.txt').read())\n"
        "print(sorted(os.listdir('/ds')), open('/ds/part-0.csv').read().splitlines()[1])\n"
        "try:\n    open('/model/x', 'w')\nexcept OSError as e:\n    print('refused', type(e).__name__)\n"
    )
    volumes = [
        {"type": "model", "source": "org/tiny", "mountPath": "/model"},
        {"type": "dataset", "source": "org/data", "mountPath": "/ds", "revision": COMMIT, "path": "train"},
    ]
    job = run(vapi, py(code, volumes=volumes))
    assert wait_stage(vapi, job["id"])["status"]["stage"] == "COMPLETED", log_text(vapi, job["id"])
    assert log_text(vapi, job["id"]) == ['{"layers": 2} w', "['part-0.csv'] 1,2", "refused OSError"]


@pytest.mark.slow
def test_inspect_shows_volumes_as_sent(vapi: httpx2.Client) -> None:
    volumes = [
        {"type": "bucket", "source": "alice/jobs-artifacts", "mountPath": "/data", "path": "x", "readOnly": False},
        {"type": "model", "source": "org/tiny", "mountPath": "/model"},
        {"type": "dataset", "source": "org/data", "mountPath": "/ds", "revision": COMMIT, "readOnly": True},
    ]
    job = run(vapi, py("print(1)", volumes=volumes))
    assert job["volumes"] == volumes
    assert vapi.get(f"/api/jobs/alice/{job['id']}").json()["volumes"] == volumes


@pytest.mark.slow
def test_without_a_sandbox_volumes_stay_in_their_folders_and_arguments_point_there(
    fast_config: LocalConfig, cache: Path
) -> None:
    """No bubblewrap (macOS, a fresh Debian): an uploaded script still runs, and the log says what differs."""
    off = dataclasses.replace(fast_config, sandbox="off", hf_cache_dir=cache)
    with serve_backend(off) as b, client(b) as api:
        state = Path(b.state_dir)
        write = "import sys; open(sys.argv[1], 'w').write(\"import os; print('ran', open(os.environ['CFG']).read())\")"
        vols = [bucket("alice/x"), {"type": "model", "source": "org/tiny", "mountPath": "/model"}]
        env = {"CFG": "/model/config.json"}
        job = run(api, spec("python", "-c", write, "/data/hello.py", volumes=vols, environment=env))
        assert wait_stage(api, job["id"])["status"]["stage"] == "COMPLETED", log_text(api, job["id"])
        folder = state / "buckets" / "alice" / "x"
        assert (folder / "hello.py").is_file()  # written through the rewritten argument, in the bucket folder
        note = [line for line in log_text(api, job["id"]) if line.startswith("===== No sandbox")]
        assert len(note) == 1
        assert f"/data is {folder}" in note[0]
        assert "/model is " in note[0]
        assert "bubblewrap" in note[0]
        again = run(api, spec("python", "/data/hello.py", volumes=vols, environment=env))
        assert wait_stage(api, again["id"])["status"]["stage"] == "COMPLETED", log_text(api, again["id"])
        assert log_text(api, again["id"])[-1] == 'ran {"layers": 2}'
        # A path the program names itself is not there: the job fails as it would anywhere /data is missing.
        direct = run(api, py("open('/data/hello.py')", volumes=vols))
        assert wait_stage(api, direct["id"])["status"]["stage"] == "ERROR"
        assert any("FileNotFoundError" in line for line in log_text(api, direct["id"]))


def test_host_argv_moves_only_whole_paths_under_a_mount() -> None:
    hosts = {"/data": "/h/b", "/data/in": "/h/in", "/model": "/h/m"}
    argv = [
        "uv",
        "run",
        "/data/s.py",
        "/data",
        "/database/x",
        "--out=/data/o",
        "-o",
        "/data/in/f",
        "x=/data/y",
        "/modelx",
    ]
    assert host_argv(argv, hosts) == [
        "uv",
        "run",
        "/h/b/s.py",
        "/h/b",
        "/database/x",
        "--out=/h/b/o",
        "-o",
        "/h/in/f",
        "x=/data/y",
        "/modelx",
    ]


@pytest.mark.slow
def test_a_link_planted_in_a_bucket_by_a_job_is_never_followed_by_the_backend(
    vapi: httpx2.Client, vbackend: LocalBackend
) -> None:
    state = Path(vbackend.state_dir)
    plant = "import os; os.symlink('" + str(state) + "', '/data/state'); os.symlink('/etc', '/data/etc')"
    job = run(vapi, py(plant, volumes=[bucket("alice/trap")]))
    assert wait_stage(vapi, job["id"])["status"]["stage"] == "COMPLETED", log_text(vapi, job["id"])
    folder = state / "buckets" / "alice" / "trap"
    assert os.path.islink(folder / "state")
    # Mounting a subfolder through the planted link is refused: it is not a folder of the bucket.
    through = run(vapi, py("print(1)", volumes=[bucket("alice/trap", path="state")]))
    done = wait_stage(vapi, through["id"])
    assert done["status"]["stage"] == "ERROR"
    assert "does not exist in the bucket" in done["status"]["message"]
