"""Retention: the state folder does not grow without bound (issue 22, item 6).

Finished jobs older than ``keep_days`` or beyond the ``keep_jobs`` most recent are removed with their folders,
on start and periodically; running jobs, scheduled jobs and webhooks stay; the jobs' uv cache is pruned on the
same schedule. Time is moved with the backend's own clock (``LocalConfig.clock``, which the scheduler reads
too), never by editing the database, so the sweep that removes a job is the one a user's backend runs.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx2
import pytest

from hfjobs_mcp.local import LocalBackend, LocalConfig
from tests.backends import backend_config, serve_backend

from .conftest import client
from .util import TOKEN, FakeClock, py, run, spec, wait_stage

DAY = 86400.0


def _config(tmp_path: Path, clock: FakeClock, **extra: object) -> LocalConfig:
    settings: dict[str, object] = {"housekeeping_interval": 0.1, "kill_grace_seconds": 1.0, **extra}
    return backend_config(state_dir=tmp_path / "state", token=TOKEN, user="alice", clock=clock, **settings)  # type: ignore[arg-type]


@pytest.fixture
def aging(tmp_path: Path, clock: FakeClock) -> Iterator[tuple[LocalBackend, httpx2.Client]]:
    with serve_backend(_config(tmp_path, clock)) as b, client(b) as c:
        yield b, c


def _folder(backend: LocalBackend, job_id: str) -> Path:
    return Path(backend.state_dir) / "jobs" / job_id


def _wait(predicate: object, timeout: float = 15) -> None:
    end = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < end, "retention did not act in time"
        time.sleep(0.05)


@pytest.mark.slow
def test_finished_jobs_older_than_keep_days_are_removed_with_their_folders(
    aging: tuple[LocalBackend, httpx2.Client], clock: FakeClock
) -> None:
    backend, api = aging
    done = [wait_stage(api, run(api, py(f"print({i})"))["id"]) for i in range(3)]
    failed = wait_stage(api, run(api, py("raise SystemExit(3)"))["id"])
    running = run(api, spec("sleep", "60"))
    wait_stage(api, running["id"], {"RUNNING"})
    sched = api.post("/api/scheduled-jobs/alice", json={"jobSpec": spec("true"), "schedule": "0 3 1 1 *"}).json()
    finished = [*done, failed]
    for job in finished:
        assert (_folder(backend, job["id"]) / "logs.jsonl").is_file()

    clock.offset = 29 * DAY  # not yet
    time.sleep(0.5)  # several sweeps
    assert api.get("/api/jobs/alice/count").json()["count"] == 5

    clock.offset = 31 * DAY
    _wait(lambda: api.get("/api/jobs/alice/count").json()["count"] == 1)
    for job in finished:
        assert api.get(f"/api/jobs/alice/{job['id']}").status_code == 404
        assert not _folder(backend, job["id"]).exists()
    assert api.get(f"/api/jobs/alice/{running['id']}").json()["status"]["stage"] == "RUNNING"
    assert _folder(backend, running["id"]).is_dir()
    assert api.get(f"/api/scheduled-jobs/alice/{sched['id']}").status_code == 200
    api.post(f"/api/jobs/alice/{running['id']}/cancel")


@pytest.mark.slow
def test_only_the_newest_finished_jobs_beyond_the_count_are_kept(tmp_path: Path, clock: FakeClock) -> None:
    with serve_backend(_config(tmp_path, clock, keep_jobs=3)) as backend, client(backend) as api:
        running = run(api, spec("sleep", "60"))
        ids = [wait_stage(api, run(api, spec("true"))["id"])["id"] for _ in range(6)]
        _wait(lambda: api.get("/api/jobs/alice/count").json()["count"] == 4)
        listed = {j["id"] for j in api.get("/api/jobs/alice").json()}
        assert listed == {running["id"], *ids[3:]}
        assert sorted(os.listdir(Path(backend.state_dir) / "jobs")) == sorted([running["id"], *ids[3:]])
        api.post(f"/api/jobs/alice/{running['id']}/cancel")


@pytest.mark.slow
def test_a_sweep_runs_on_start_and_removes_folders_without_a_row(tmp_path: Path, clock: FakeClock) -> None:
    cfg = _config(tmp_path, clock, housekeeping_interval=3600.0)
    with serve_backend(cfg) as backend, client(backend) as api:
        ids = [wait_stage(api, run(api, spec("true"))["id"])["id"] for _ in range(4)]
    jobs = cfg.state_dir / "jobs"
    orphan = jobs / "0123456789abcdef01234567"  # a folder a sweep did not finish removing, two hours ago
    (orphan / "work").mkdir(parents=True)
    os.utime(orphan, (time.time() - 7200, time.time() - 7200))
    fresh = jobs / "89abcdef0123456789abcdef"  # a folder without a row put there a moment ago: left alone
    fresh.mkdir()
    other = jobs / "not-a-job-folder"  # not ours to remove
    other.mkdir()
    # Restart with a smaller count: the first sweep (on start, the next would be an hour later) applies it.
    with serve_backend(replace(cfg, keep_jobs=2)) as backend, client(backend) as api:
        _wait(lambda: not orphan.exists())
        _wait(lambda: api.get("/api/jobs/alice/count").json()["count"] == 2)
        assert {j["id"] for j in api.get("/api/jobs/alice").json()} == set(ids[2:])
        assert other.is_dir()
        assert fresh.is_dir()


@pytest.mark.slow
def test_the_uv_cache_is_pruned_on_the_same_schedule(tmp_path: Path, clock: FakeClock) -> None:
    cfg = _config(tmp_path, clock, housekeeping_interval=3600.0)
    uv_job = spec("uv", "run", "--no-project", "python", "-c", "print('uv ok')")
    with serve_backend(cfg) as backend, client(backend) as api:
        job = wait_stage(api, run(api, uv_job)["id"])
        assert job["status"]["stage"] == "COMPLETED", job["status"]
    cache = cfg.state_dir / "uv-cache" / "alice"  # the namespace's cache
    assert (cache / "CACHEDIR.TAG").is_file()  # the job really used it
    dangling_bucket = cache / "wheels-v0" / "x"  # an outdated cache bucket
    dangling_bucket.mkdir(parents=True)
    unreferenced = cache / "archive-v0" / "0123456789abcdef"  # an archive no entry points to
    unreferenced.mkdir(parents=True)
    (unreferenced / "payload").write_bytes(b"x" * 4096)
    with serve_backend(cfg) as backend, client(backend) as api:
        _wait(lambda: not unreferenced.exists() and not dangling_bucket.exists(), timeout=60)
        assert (cache / "CACHEDIR.TAG").is_file()  # pruned, not wiped
        # The pruned cache still serves the namespace's jobs (in the sandbox, as the user jobs run as).
        again = wait_stage(api, run(api, uv_job)["id"])
        assert again["status"]["stage"] == "COMPLETED", again["status"]


@pytest.mark.slow
def test_job_folders_keep_only_what_the_job_left(sapi: httpx2.Client, shared_backend: LocalBackend) -> None:
    quiet = wait_stage(sapi, run(sapi, spec("true"))["id"])
    writer = wait_stage(sapi, run(sapi, py("open('out.txt', 'w').write('kept')"))["id"])
    # The empty folders go right after the job's stage is written: a reader may see COMPLETED a moment before.
    _wait(lambda: sorted(p.name for p in _folder(shared_backend, quiet["id"]).iterdir()) == ["logs.jsonl"], timeout=10)
    assert (_folder(shared_backend, writer["id"]) / "work" / "out.txt").read_text() == "kept"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--keep-days", "0", "must be more than 0"),
        ("--keep-days", "nan", "must be more than 0"),
        ("--keep-days", "soon", "is not a number"),
        ("--keep-jobs", "0", "is not a whole number of at least 1"),
        ("--keep-jobs", "1.5", "is not a whole number of at least 1"),
    ],
)
def test_bad_retention_flags_are_refused(tmp_path: Path, flag: str, value: str, message: str) -> None:
    argv = [sys.executable, "-m", "hfjobs_mcp", "local", "--port", "0", "--state-dir", str(tmp_path), flag, value]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert message in done.stderr
