"""The SSE streams (wire §6): log replay, tail, live lines, keep-alive, closing at the end; metrics and 406."""

from __future__ import annotations

import json
import time
from email.utils import parsedate_to_datetime
from pathlib import Path

import httpx2
import pytest

from hfjobs_mcp.local import logs

from .util import first_events, log_events, log_text, py, run, wait_stage

pytestmark = pytest.mark.timeout(60)


@pytest.mark.slow
def test_the_stream_has_a_date_header_the_banner_first_and_closes_after_the_last_line(api: httpx2.Client) -> None:
    job = run(api, py("print('a'); print('b')", dockerImage="python:3.12"))
    wait_stage(api, job["id"])
    with api.stream("GET", f"/api/jobs/alice/{job['id']}/logs") as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        parsedate_to_datetime(r.headers["date"])  # a valid HTTP date
        raw = list(r.iter_lines())  # ends: the server closes a finished job's stream
    events = [json.loads(line[6:]) for line in raw if line.startswith("data: {")]
    assert events[0]["data"].startswith("===== Job started at ")
    assert "running locally in a sandbox: image python:3.12 is recorded, not pulled" in events[0]["data"]
    assert [e["data"] for e in events[1:]] == ["a", "b"]
    for e in events:
        assert set(e) == {"data", "timestamp"}
        assert e["timestamp"].endswith("Z")
        assert len(e["timestamp"]) == len("2025-07-22T16:06:25.079Z")
    assert all(line.startswith("data: {") or line == "" for line in raw)


@pytest.mark.slow
def test_every_connection_replays_the_whole_log(api: httpx2.Client) -> None:
    job = run(api, py("for i in range(20): print(i)"))
    wait_stage(api, job["id"])
    assert log_events(api, job["id"]) == log_events(api, job["id"])
    assert log_text(api, job["id"]) == [str(i) for i in range(20)]


@pytest.mark.slow
def test_tail_returns_the_last_lines(api: httpx2.Client) -> None:
    job = run(api, py("for i in range(1000): print(i)"))
    wait_stage(api, job["id"])
    assert [e["data"] for e in log_events(api, job["id"], tail=3)] == ["997", "998", "999"]
    assert log_events(api, job["id"], tail=0) == []
    assert len(log_events(api, job["id"], tail=5000)) == 1001  # the banner included


@pytest.mark.slow
def test_live_lines_arrive_while_the_job_runs_and_the_stream_ends_with_it(api: httpx2.Client) -> None:
    job = run(api, py("import time\nprint('first', flush=True)\ntime.sleep(1.5)\nprint('second')"))
    arrivals: list[tuple[str, float]] = []
    stages: list[str] = []
    with api.stream("GET", f"/api/jobs/alice/{job['id']}/logs") as r:
        for line in r.iter_lines():
            if line.startswith("data: {"):
                text = json.loads(line[6:])["data"]
                arrivals.append((text, time.monotonic()))
                if text == "first":
                    stages.append(api.get(f"/api/jobs/alice/{job['id']}").json()["status"]["stage"])
    texts = [t for t, _ in arrivals]
    assert texts[1:] == ["first", "second"]
    assert stages == ["RUNNING"]  # "first" came while the job was still running
    assert arrivals[2][1] - arrivals[1][1] > 1.0
    assert wait_stage(api, job["id"])["status"]["stage"] == "COMPLETED"


@pytest.mark.slow
def test_keep_alive_comments_are_sent_when_the_job_is_silent(api: httpx2.Client) -> None:
    # keepalive_interval is 0.5 s in these tests (30 s by default).
    job = run(api, py("import time; print('start', flush=True); time.sleep(1.6); print('end')"))
    with api.stream("GET", f"/api/jobs/alice/{job['id']}/logs") as r:
        raw = list(r.iter_lines())
    assert raw.count(": keep-alive") >= 2
    assert [json.loads(x[6:])["data"] for x in raw if x.startswith("data: ")][1:] == ["start", "end"]


@pytest.mark.slow
def test_a_canceled_jobs_stream_ends(api: httpx2.Client) -> None:
    job = run(api, py("import time; print('up', flush=True); time.sleep(60)"))
    assert [e["data"] for e in first_events(api, job["id"], 2)][1] == "up"
    with api.stream("GET", f"/api/jobs/alice/{job['id']}/logs") as r:
        api.post(f"/api/jobs/alice/{job['id']}/cancel")
        lines = [x for x in r.iter_lines() if x.startswith("data: ")]
    assert len(lines) == 2


@pytest.mark.slow
def test_metrics_stream_samples_while_running_and_406_once_finished(api: httpx2.Client) -> None:
    job = run(api, py("import time\nend = time.time() + 2\nwhile time.time() < end: pass"))
    samples = []
    with api.stream("GET", f"/api/jobs/alice/{job['id']}/metrics") as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        assert "date" in r.headers
        previous = ""
        for line in r.iter_lines():
            if line.startswith("data: "):
                assert previous == "event: metric"
                samples.append(json.loads(line[6:]))
                if len(samples) == 3:
                    break
            previous = line
    keys = {"cpu_usage_pct", "cpu_millicores", "memory_used_bytes", "memory_total_bytes", "rx_bps", "tx_bps", "gpus"}
    for sample in samples:
        assert keys <= set(sample)
        assert sample["memory_total_bytes"] == 16 * 1024**3
        assert sample["gpus"] == {}
    assert max(s["memory_used_bytes"] for s in samples) > 1_000_000
    assert max(s["cpu_millicores"] for s in samples) > 200  # a busy loop
    wait_stage(api, job["id"])
    r = api.get(f"/api/jobs/alice/{job['id']}/metrics")
    assert r.status_code == 406
    assert "error" in r.json()


@pytest.mark.slow
def test_metrics_stream_ends_when_the_job_ends(api: httpx2.Client) -> None:
    job = run(api, py("import time; time.sleep(1)"))
    with api.stream("GET", f"/api/jobs/alice/{job['id']}/metrics") as r:
        events = [x for x in r.iter_lines() if x.startswith("data: ")]
    assert 1 <= len(events) <= 10
    assert wait_stage(api, job["id"])["status"]["stage"] == "COMPLETED"


# The log file helpers, directly


def test_writer_splits_long_lines_and_flushes_a_partial_one(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    writer = logs.LogWriter(path, max_line_bytes=4)
    writer.feed(b"abcdefghij\nxy")
    writer.feed(b"z\r\npartial")
    writer.close()
    texts = [json.loads(x)["data"] for x in path.read_text().splitlines()]
    assert texts == ["abcd", "efgh", "ij", "xyz", "part", "ial"]


@pytest.mark.slow
def test_tail_offset_reads_from_the_end_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "log.jsonl"
    with open(path, "wb") as f:
        for i in range(200_000):
            f.write(logs.encode_line(f"line {i}", 0.0))
    size = path.stat().st_size
    read = 0
    real_open = open

    class Counting:
        def __init__(self, *args: object) -> None:
            self.f = real_open(*args)  # type: ignore[call-overload]

        def __enter__(self) -> Counting:
            return self

        def __exit__(self, *exc: object) -> None:
            self.f.close()

        def seek(self, *args: int) -> int:
            return int(self.f.seek(*args))

        def read(self, n: int = -1) -> bytes:
            nonlocal read
            data: bytes = self.f.read(n)
            read += len(data)
            return data

    monkeypatch.setattr(logs, "open", Counting, raising=False)
    offset = logs.tail_offset(path, 100)
    assert read < 200 * 1024 < size  # a block or two, not the whole file
    lines, end = logs.read_from(path, offset, max_bytes=size)
    assert [json.loads(x)["data"] for x in lines] == [f"line {i}" for i in range(199_900, 200_000)]
    assert end == size
    assert logs.tail_offset(path, 0) == size
    assert logs.tail_offset(path, 10**9) == 0


def test_read_from_returns_only_complete_records(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    path.write_bytes(logs.encode_line("one", 0.0) + b'{"data": "half')
    lines, offset = logs.read_from(path, 0)
    assert len(lines) == 1
    assert logs.read_from(path, offset) == ([], offset)
