"""Job files through real MCP sessions on the local backend (issue 18): scripts and inputs travel in the
``jobs-artifacts`` bucket as huggingface_hub 2.4 ships them, and what a job writes comes back with
``list_job_files`` and ``read_job_file``, masked like its logs.

Every job here really runs (``uv run /data/<script>`` in the sandbox, ``/data`` the bucket folder); uploads go
through huggingface_hub's bucket API and hf_xet to the backend's Xet endpoint. What each test attacks is in
its name: paths leaving the upload folder or the job's volumes, links a job plants, a file over the limit, a
binary, a job of another namespace, secrets written into a file, local paths over HTTP, and uploads that must
not happen (dry run, a refused or changed request).
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from hfjobs_mcp.api import JobsClient, JobSpec, Volume
from tests.backends import serve_backend
from tests.e2e.conftest import Asked, Backend, forbid, open_session, text
from tests.e2e.http_util import LOCAL_AUTH, http_client, local_server, mcp_client

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(180), pytest.mark.slow]  # jobs really run

SECRET = "hfjobs-files-secret-Zq8Wm3Kp7Tn2Vx5Yb9"
ENV = {"MY_KEY": SECRET}
forbid(SECRET)

TRAIN = """\
# /// script
# dependencies = []
# ///
import json, os, sys
config = dict(line.split(": ", 1) for line in open(sys.argv[1]).read().splitlines() if line)
os.makedirs("/data/outputs", exist_ok=True)
metrics = {"lr": float(config["lr"]), "accuracy": 0.93, "in_data": sorted(os.listdir("/data"))}
json.dump(metrics, open("/data/outputs/metrics.json", "w"))
print("trained with lr", config["lr"])
"""


def artifacts(backend: Backend, namespace: str = "alice") -> Path:
    return backend.state_dir / "buckets" / namespace / "jobs-artifacts"


def folders(backend: Backend) -> set[str]:
    root = artifacts(backend)
    return {p.name for p in root.iterdir()} if root.is_dir() else set()


def ref(result: dict[str, Any]) -> str:
    return f"{result['job']['namespace']}/{result['job']['id']}"


async def finished(s: Any, job_id: str) -> dict[str, Any]:
    waited = await s.ok("wait_for_job", {"job_id": job_id, "timeout_seconds": 120})
    assert waited["finished"], waited
    return waited["job"]


async def completed(s: Any, job_id: str) -> dict[str, Any]:
    job = await finished(s, job_id)
    if job["stage"] != "COMPLETED":
        logs = await s.call("fetch_logs", {"job_id": job_id})
        raise AssertionError(f"{job['stage']}: {job.get('message')}\n{text(logs)}")
    return job


# --- scripts and inputs in, outputs back -------------------------------------------------------------------------


async def test_a_script_reads_its_uploaded_config_and_its_metrics_come_back(
    session_factory: Any, backend: Backend, tmp_path: Path
) -> None:
    config = tmp_path / "config.yml"
    config.write_text("lr: 0.01\n", encoding="utf-8")
    asked = Asked()
    async with session_factory(elicitation=asked) as s:
        started = await s.ok("run_uv_job", {"script": TRAIN, "files": [str(config)], "script_args": [str(config)]})
        (prompt,) = asked.prompts  # a file of the disk leaves the machine: the user says yes first
        assert "needs your yes: uploads 1 file(s) read from the server's disk (9 bytes)" in prompt
        uploads = started["uploads"]
        assert uploads["bucket"] == "alice/jobs-artifacts"
        assert [(f["path"], f["size"], f["sha256"]) for f in uploads["files"]] == [
            ("/data/script.py", len(TRAIN), hashlib.sha256(TRAIN.encode()).hexdigest()),
            ("/data/config.yml", 9, hashlib.sha256(b"lr: 0.01\n").hexdigest()),
        ]
        assert "write outputs under /data/outputs to read them back with read_job_file" in started["next_step"]
        job = await completed(s, ref(started))
        assert job["command"] == ["uv", "run", "/data/script.py", "/data/config.yml"]
        inspected = await s.ok("inspect_job", {"job_id": ref(started)})
        assert "what it wrote with list_job_files" in inspected["next_step"]

        listed = await s.ok("list_job_files", {"job_id": ref(started)})
        assert [v["mount_path"] for v in listed["volumes"]] == ["/data"]
        assert listed["volumes"][0]["folder"] == uploads["folder"]
        assert [f["path"] for f in listed["files"]] == [
            "/data/config.yml",
            "/data/outputs/metrics.json",
            "/data/script.py",
        ]
        only = await s.ok("list_job_files", {"job_id": ref(started), "path": "/data/outputs/"})
        assert [f["path"] for f in only["files"]] == ["/data/outputs/metrics.json"]

        read = await s.ok("read_job_file", {"job_id": ref(started), "path": "/data/outputs/metrics.json"})
        assert read["kind"] == "json"
        assert read["parsed"] == {"lr": 0.01, "accuracy": 0.93, "in_data": ["config.yml", "outputs", "script.py"]}
        config_back = await s.ok("read_job_file", {"job_id": ref(started), "path": "/data/config.yml"})
        assert (config_back["kind"], config_back["text"], config_back["cursor"]) == ("text", "lr: 0.01\n", None)


async def test_a_200_kib_script_runs(session_factory: Any) -> None:
    script = "PAD = '" + "x" * (200 * 1024) + "'\nprint('padded script ran', len(PAD))\n"
    async with session_factory() as s:
        started = await s.ok("run_uv_job", {"script": script})
        assert started["uploads"]["files"][0]["size"] == len(script)
        await completed(s, ref(started))
        logs = await s.ok("fetch_logs", {"job_id": ref(started)})
    assert any("padded script ran 204800" in line["text"] for line in logs["lines"])


async def test_a_dry_run_shows_names_sizes_and_hashes_and_uploads_nothing(
    session_factory: Any, backend: Backend, tmp_path: Path
) -> None:
    (tmp_path / "inputs").mkdir()
    (tmp_path / "inputs" / "rows.csv").write_bytes(b"a,b\n1,2\n")
    before = folders(backend)
    async with session_factory() as s:
        jobs_before = len((await s.ok("list_jobs", {"limit": 200}))["jobs"])
        dry = await s.call(
            "run_uv_job",
            {
                "script": TRAIN,
                "files": [str(tmp_path / "inputs")],
                "file_texts": {"config.yml": "lr: 0.5\n"},
                "script_args": ["config.yml"],
                "dry_run": True,
            },
        )
        assert not dry.is_error, text(dry)
        out = dry.structured_content
        assert out is not None
        files = {f["path"]: f for f in out["uploads"]["files"]}
        assert files["/data/config.yml"]["sha256"] == hashlib.sha256(b"lr: 0.5\n").hexdigest()
        assert files["/data/inputs/rows.csv"]["size"] == 8
        assert (
            files["/data/inputs/rows.csv"]["origin"] == f"file {tmp_path / 'inputs' / 'rows.csv'} of the server's disk"
        )
        assert files["/data/script.py"]["size"] == len(TRAIN)
        assert out["uploads"]["script"]["first_lines"][:3] == ["# /// script", "# dependencies = []", "# ///"]
        body = out["request"]
        assert body["command"] == ["uv", "run", "/data/script.py", "/data/config.yml"]
        assert body["environment"] == {}  # no script in the environment any more
        (volume,) = body["volumes"]
        assert volume == {
            "type": "bucket",
            "source": "alice/jobs-artifacts",
            "mountPath": "/data",
            "readOnly": False,
            "path": "<YYYYMMDDTHHMMSS-6 hex, made at upload>",
        }
        assert any("read from the server's disk" in r for r in out["cost"]["needs_approval"])
        rendered = text(dry)
        assert f"/data/config.yml: 8 bytes, sha256 {files['/data/config.yml']['sha256']}" in rendered
        assert base64.b64encode(TRAIN.encode()).decode()[:40] not in rendered
        assert len((await s.ok("list_jobs", {"limit": 200}))["jobs"]) == jobs_before
    assert folders(backend) == before


async def test_nothing_is_uploaded_when_the_user_declines(session_factory: Any, backend: Backend) -> None:
    before = folders(backend)
    asked = Asked(action="decline")
    async with session_factory(environ=ENV, elicitation=asked) as s:
        refused = await s.call(
            "run_uv_job", {"script": TRAIN, "file_texts": {"config.yml": "lr: 1\n"}, "secrets": ["MY_KEY"]}
        )
    assert refused.is_error
    assert "declined" in text(refused)
    (prompt,) = asked.prompts
    digest = hashlib.sha256(b"lr: 1\n").hexdigest()
    assert "uploads 2 file(s)" in prompt
    assert f"/data/config.yml: 6 bytes, sha256 {digest}, inline text" in prompt
    assert folders(backend) == before


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_a_file_changed_while_the_user_is_asked_is_never_sent_unseen(
    session_factory: Any, backend: Backend, tmp_path: Path, mode: str
) -> None:
    """The user approves what they saw. Over the handshake era the plan that was shown is executed: a file that
    changed meanwhile is refused. Over 2026-07-28 the call is planned again with the answer, the question changes
    with the file's sha256, so the SDK asks again, showing the new content."""
    config = tmp_path / "config.yml"
    config.write_text("lr: 0.1\n", encoding="utf-8")
    old, new = hashlib.sha256(b"lr: 0.1\n").hexdigest(), hashlib.sha256(b"lr: 999\n").hexdigest()

    class Swaps(Asked):
        async def __call__(self, context: Any, params: Any) -> Any:
            config.write_text("lr: 999\n", encoding="utf-8")  # after the user saw the first content
            return await super().__call__(context, params)

    asked = Swaps()
    before = folders(backend)
    async with session_factory(mode=mode, environ=ENV, elicitation=asked) as s:
        result = await s.call("run_uv_job", {"script": TRAIN, "files": [str(config)], "secrets": ["MY_KEY"]})
    assert old in asked.prompts[0]
    if mode == "legacy":
        assert result.is_error
        assert "changed since the request was planned" in text(result)
        assert folders(backend) == before
        return
    assert not result.is_error, text(result)
    assert [new in p for p in asked.prompts] == [False, True]
    assert result.structured_content is not None
    sent = {f["path"]: f["sha256"] for f in result.structured_content["uploads"]["files"]}
    assert sent["/data/config.yml"] == new
    folder = result.structured_content["uploads"]["folder"]
    assert (artifacts(backend) / folder / "config.yml").read_text() == "lr: 999\n"


async def test_a_card_approved_for_one_content_does_not_send_another(
    session_factory: Any, backend: Backend, tmp_path: Path
) -> None:
    """MCP Apps hosts answer on a card, then the agent calls again: the file is read again then, so the approval is
    bound to the sha256 of what is uploaded, not only to the arguments that name it."""
    from hfjobs_mcp.serve.server import ANSWER_TOOL, APPROVAL_META

    config = tmp_path / "config.yml"
    config.write_text("lr: 0.1\n", encoding="utf-8")
    args = {"script": TRAIN, "files": [str(config)], "script_args": [str(config)], "secrets": ["MY_KEY"]}
    before = folders(backend)
    async with session_factory(environ=ENV, apps=True) as s:
        pending = await s.call("run_uv_job", args)
        assert pending.is_error
        card = (pending.meta or {})[APPROVAL_META]
        assert hashlib.sha256(b"lr: 0.1\n").hexdigest() in text(pending)
        assert not (await s.call(ANSWER_TOOL, {"approval_id": card["id"], "approve": True})).is_error
        config.write_text("lr: 999\n", encoding="utf-8")  # after the user approved what they saw
        again = await s.call("run_uv_job", args)
        assert again.is_error, text(again)
        assert (again.meta or {})[APPROVAL_META]["id"] != card["id"]  # a new card, showing the new content
        assert hashlib.sha256(b"lr: 999\n").hexdigest() in text(again)
        assert folders(backend) == before
        config.write_text("lr: 0.1\n", encoding="utf-8")  # back to what was approved: that approval holds
        started = await s.ok("run_uv_job", args)
    assert started["uploads"]["files"][1]["sha256"] == hashlib.sha256(b"lr: 0.1\n").hexdigest()


@pytest.mark.parametrize("name", ["../escape.yml", "/etc/cron.d/evil", "inputs/../../x", "a//b"])
async def test_upload_names_cannot_leave_the_upload_folder(session_factory: Any, backend: Backend, name: str) -> None:
    before = folders(backend)
    async with session_factory() as s:
        result = await s.call("run_uv_job", {"script": "print(1)", "file_texts": {name: "x"}})
    assert result.is_error
    assert "nothing was sent" in text(result)
    assert folders(backend) == before


async def test_files_of_the_disk_never_leave_unasked(session_factory: Any, backend: Backend, tmp_path: Path) -> None:
    """A client that cannot ask the user gets a refusal naming the way that needs no yes (the text itself); the
    agent's own text travels without a question (cpu-basic costs under the threshold)."""
    secret_file = tmp_path / "credentials"
    secret_file.write_text("aws_secret_access_key = not-a-real-key\n", encoding="utf-8")
    before = folders(backend)
    async with session_factory() as s:
        for args in (
            {"script": "print(1)", "files": [str(secret_file)]},
            {"script": str(secret_file)},  # any existing file may be the script, as with hf jobs uv run
            {"script": "print(1)", "script_args": [str(secret_file)]},
        ):
            refused = await s.call("run_uv_job", args)
            assert refused.is_error, args
            assert "read from the server's disk" in text(refused)
            assert "file_texts" in text(refused)
            assert "not-a-real-key" not in text(refused)
        # Nor does a dry run (it needs no yes) show what such a file holds: its size and sha256 only.
        dry = await s.call("run_uv_job", {"script": str(secret_file), "dry_run": True})
        assert not dry.is_error, text(dry)
        assert "not-a-real-key" not in text(dry) + repr(dry.structured_content)
        assert dry.structured_content is not None
        assert dry.structured_content["uploads"]["script"]["first_lines"] == []
        assert folders(backend) == before
        await s.ok("run_uv_job", {"script": "print(1)", "file_texts": {"credentials": "fake"}})


async def test_a_missing_local_file_or_argument_is_refused(session_factory: Any, tmp_path: Path) -> None:
    async with session_factory() as s:
        missing = await s.call("run_uv_job", {"script": "print(1)", "files": [str(tmp_path / "nope.yml")]})
        assert missing.is_error
        assert "does not exist" in text(missing)
        arg = await s.call("run_uv_job", {"script": "print(1)", "script_args": ["config.yml"]})
        assert arg.is_error
        assert "config.yml" in text(arg)
        clash = await s.call(
            "run_uv_job",
            {"script": "print(1)", "volumes": [{"type": "bucket", "source": "alice/x", "mount_path": "/data"}]},
        )
        assert clash.is_error
        assert "/data" in text(clash)


# --- reading back: what may be read, and how ---------------------------------------------------------------------

WRITER = """\
import json, os
os.makedirs("/data/outputs/deep", exist_ok=True)
with open("/data/outputs/log.txt", "w") as f:
    for i in range(3000):
        f.write(f"line {i:05d} é€ {'y' * 7}\\n")
with open("/data/outputs/model.bin", "wb") as f:
    f.write(bytes(range(256)) * 400)
os.symlink("/etc/passwd", "/data/outputs/passwd")
os.symlink("/", "/data/outputs/root")
open("/data/outputs/deep/ok.txt", "w").write("deep")
print("written")
"""


@pytest.fixture(scope="module")
def written(backend: Backend) -> Iterator[str]:
    """One job (run once for the module) that writes a big text file, a binary, and links."""
    import anyio

    async def run() -> str:
        async with open_session(backend) as s:
            started = await s.ok("run_uv_job", {"script": WRITER})
            await completed(s, ref(started))
            return ref(started)

    return anyio.run(run)


async def test_a_big_text_file_comes_in_windows_and_a_binary_as_its_hash(session_factory: Any, written: str) -> None:
    expected = "".join(f"line {i:05d} é€ {'y' * 7}\n" for i in range(3000))
    async with session_factory() as s:
        parts: list[str] = []
        cursor: int | None = 0
        reads = 0
        while cursor is not None:
            window = await s.ok(
                "read_job_file",
                {"job_id": written, "path": "/data/outputs/log.txt", "cursor": cursor, "max_bytes": 10_000},
            )
            assert window["kind"] == "text"
            assert len(window["text"].encode()) <= 10_000
            assert window["text"].endswith("\n")  # windows end at line breaks
            parts.append(window["text"])
            cursor = window["cursor"]
            reads += 1
        assert "".join(parts) == expected
        assert reads >= -(-len(expected.encode()) // 10_000)

        binary = await s.ok("read_job_file", {"job_id": written, "path": "/data/outputs/model.bin"})
        assert binary["kind"] == "binary"
        assert binary["text"] is None
        assert binary["parsed"] is None
        assert binary["size"] == 256 * 400
        assert binary["sha256"] == hashlib.sha256(bytes(range(256)) * 400).hexdigest()
        assert binary["download"].startswith("HF_ENDPOINT=http://127.0.0.1:")
        assert "hf buckets cp hf://buckets/alice/jobs-artifacts/" in binary["download"]
        assert binary["download"].endswith("/outputs/model.bin ./model.bin")


async def test_links_a_job_plants_are_neither_listed_nor_read(session_factory: Any, written: str) -> None:
    async with session_factory() as s:
        listed = await s.ok("list_job_files", {"job_id": written, "path": "/data/outputs"})
        assert [f["path"] for f in listed["files"]] == [
            "/data/outputs/deep/ok.txt",
            "/data/outputs/log.txt",
            "/data/outputs/model.bin",
        ]
        for path in ("/data/outputs/passwd", "/data/outputs/root/etc/passwd", "/data/outputs/root"):
            result = await s.call("read_job_file", {"job_id": written, "path": path})
            assert result.is_error, path
            assert "root:" not in text(result)


@pytest.mark.parametrize(
    ("path", "said"),
    [
        ("/data/../etc/passwd", "'..'"),
        ("/data/outputs/./log.txt", "'.'"),
        ("data/outputs/log.txt", "absolute"),
        ("/etc/passwd", "not in a read-write volume"),
        ("/data", "folder, not a file"),
        ("/data/outputs/none.txt", "no file"),
        ("/data/outputs/deep", "no file"),
    ],
)
async def test_read_job_file_refuses_paths_outside_the_jobs_files(
    session_factory: Any, written: str, path: str, said: str
) -> None:
    async with session_factory() as s:
        result = await s.call("read_job_file", {"job_id": written, "path": path})
    assert result.is_error
    assert said in text(result)


async def test_a_job_without_a_read_write_volume_has_no_files(session_factory: Any) -> None:
    async with session_factory() as s:
        started = await s.ok("run_job", {"image": "python:3.12", "command": ["python", "-c", "print(1)"]})
        listed = await s.ok("list_job_files", {"job_id": ref(started)})
        assert listed["files"] == []
        assert listed["volumes"] == []
        assert "/data/outputs" in listed["next_step"]
        read = await s.call("read_job_file", {"job_id": ref(started), "path": "/data/x"})
        assert read.is_error
        assert "its read-write volumes: none" in text(read)


async def test_secrets_a_job_writes_into_its_files_are_masked(session_factory: Any) -> None:
    script = (
        "import base64, json, os\n"
        "k = os.environ['MY_KEY']\n"
        "os.makedirs('/data/outputs', exist_ok=True)\n"
        "b64 = base64.b64encode(k.encode()).decode()\n"
        "open('/data/outputs/leak.txt', 'w').write('before ' + k + ' after\\n' + b64)\n"
        'raw = \'{"key": "%s", "%s": "as a key", "escaped": "%s"}\' % (k, k, k.replace(\'Z\', \'\\\\u005a\'))\n'
        "open('/data/outputs/leak.json', 'w').write(raw)\n"
        "open('/data/outputs/' + k + '.txt', 'w').write('named after it')\n"
    )
    async with session_factory(environ=ENV, elicitation=Asked()) as s:
        started = await s.ok("run_uv_job", {"script": script, "secrets": ["MY_KEY"]})
        await completed(s, ref(started))
        job_id = ref(started)
    # A new session knows nothing of the value until it reads the job's secrets: as fetch_logs does.
    async with session_factory(environ=ENV) as s:
        listed = await s.ok("list_job_files", {"job_id": job_id})
        assert "/data/outputs/***.txt" in [f["path"] for f in listed["files"]]
        leak = await s.ok("read_job_file", {"job_id": job_id, "path": "/data/outputs/leak.txt"})
        assert leak["text"].startswith("before *** after\n")
        parsed = (await s.ok("read_job_file", {"job_id": job_id, "path": "/data/outputs/leak.json"}))["parsed"]
        assert parsed == {"key": "***", "***": "as a key", "escaped": "***"}
        # A cursor in the middle of the value shows none of its tail.
        offset = len("before ") + 10
        tail = await s.ok("read_job_file", {"job_id": job_id, "path": "/data/outputs/leak.txt", "cursor": offset})
        assert SECRET[10:20] not in tail["text"]
        assert tail["text"].startswith("***")


async def test_a_job_of_another_namespace_is_not_read(tmp_path: Path) -> None:
    bob_token = "hf_local_bob_files_token_0123456789"
    with serve_backend(tmp_path / "state", extra_users={bob_token: ("bob", ())}) as served:
        other = Backend(url=served.url, token=served.token, state_dir=tmp_path / "state", faults=None)
        async with JobsClient(token=bob_token, endpoint=served.url) as bob:
            code = "import os; os.makedirs('/out', exist_ok=True); open('/out/bob.txt', 'w').write('bob only')"
            spec = JobSpec(
                image="python:3.12",
                command=["python", "-c", code],
                volumes=[Volume(type="bucket", source="bob/private", mount_path="/out")],
            )
            job = await bob.run_job(spec)
        async with open_session(other) as s:
            for tool, args in (
                ("list_job_files", {"job_id": f"bob/{job.id}"}),
                ("read_job_file", {"job_id": f"bob/{job.id}", "path": "/out/bob.txt"}),
            ):
                result = await s.call(tool, args)
                assert result.is_error, tool
                assert "bob only" not in text(result)


async def test_without_a_sandbox_an_uploaded_script_still_runs_with_its_files(tmp_path: Path) -> None:
    """macOS or a machine without bubblewrap: nothing can appear at /data, yet `uv run /data/script.py` must run
    (the README's demo does it), reading the files its arguments name, and the log must say what differs."""
    script = "import sys\nprint('config says', open(sys.argv[1]).read().strip())\n"
    with serve_backend(tmp_path / "state", sandbox="off") as served:
        plain = Backend(url=served.url, token=served.token, state_dir=tmp_path / "state", faults=None)
        async with open_session(plain) as s:
            args = {"script": script, "file_texts": {"config.yml": "lr: 0.5"}, "script_args": ["config.yml"]}
            started = await s.ok("run_uv_job", args)
            job = await completed(s, ref(started))
            assert job["command"] == ["uv", "run", "/data/script.py", "/data/config.yml"]  # as sent, unchanged
            logs = text(await s.call("fetch_logs", {"job_id": ref(started)}))
            assert "config says lr: 0.5" in logs
            assert "No sandbox, so volumes are not mounted: /data is " in logs
            assert "Install bubblewrap" in logs


# --- scheduled runs use the uploaded copy --------------------------------------------------------------------------


async def test_scheduled_runs_use_the_uploaded_script_and_files(session_factory: Any) -> None:
    script = (
        "import os\n"
        "os.makedirs('/data/outputs', exist_ok=True)\n"
        "open(f\"/data/outputs/{os.environ['JOB_ID']}.txt\", 'w').write(open('/data/input.txt').read().upper())\n"
    )
    async with session_factory() as s:
        created = await s.ok(
            "schedule_uv_job",
            {"schedule": "@yearly", "script": script, "file_texts": {"input.txt": "from the bucket"}},
        )
        assert "shared by the runs" in created["next_step"]
        sj = f"{created['scheduled_job']['namespace']}/{created['scheduled_job']['id']}"
        runs = []
        for _ in range(2):
            started = await s.ok("trigger_scheduled_job", {"scheduled_job_id": sj})
            runs.append(f"{started['job']['namespace']}/{started['job']['id']}")
            await completed(s, runs[-1])
        listed = await s.ok("list_job_files", {"job_id": runs[0], "path": "/data/outputs"})
        assert sorted(f["path"] for f in listed["files"]) == sorted(
            f"/data/outputs/{r.split('/')[1]}.txt" for r in runs
        )
        for run in runs:
            read = await s.ok("read_job_file", {"job_id": run, "path": f"/data/outputs/{run.split('/')[1]}.txt"})
            assert read["text"] == "FROM THE BUCKET"
        await s.ok("delete_scheduled_job", {"scheduled_job_id": sj})


# --- the script's [tool.hf-jobs] table -----------------------------------------------------------------------------

HEADED = """\
# /// script
# dependencies = []
#
# [tool.hf-jobs]
# timeout = "10m"
# env = { GREETING = "hello from the header" }
# labels = { origin = "header" }
# secrets = ["MY_KEY"]
# ///
import os
print(os.environ["GREETING"], len(os.environ["MY_KEY"]))
"""


async def test_the_scripts_table_is_honoured_and_shown(session_factory: Any) -> None:
    asked = Asked()
    async with session_factory(environ=ENV, elicitation=asked) as s:
        dry = await s.ok("run_uv_job", {"script": HEADED, "dry_run": True})
        assert dry["request"]["environment"] == {"GREETING": "hello from the header"}
        assert dry["request"]["timeoutSeconds"] == 600
        assert dry["request"]["secrets"] == {"MY_KEY": "***"}
        assert dry["uploads"]["script"] is not None
        started = await s.ok("run_uv_job", {"script": HEADED, "env": {"GREETING": "the agent wins"}})
        job = await completed(s, ref(started))
        assert job["labels"]["origin"] == "header"
        logs = await s.ok("fetch_logs", {"job_id": ref(started)})
    assert any(line["text"] == f"the agent wins {len(SECRET)}" for line in logs["lines"])
    (prompt,) = asked.prompts
    assert "set by its [tool.hf-jobs] table: timeout, secrets.MY_KEY, labels.origin" in prompt


async def test_a_bad_table_is_refused_before_anything_is_sent(session_factory: Any, backend: Backend) -> None:
    before = folders(backend)
    async with session_factory() as s:
        result = await s.call("run_uv_job", {"script": HEADED.replace("timeout", "timeuot")})
    assert result.is_error
    assert "Unknown key(s) 'timeuot'" in text(result)
    assert folders(backend) == before


# --- a script URL: fetched once here over stdio ----------------------------------------------------------------------


@contextmanager
def serving(body: bytes) -> Iterator[tuple[str, list[str]]]:
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            if self.path != "/scripts/remote.py":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", hits
    finally:
        server.shutdown()
        server.server_close()


async def test_a_script_url_is_downloaded_once_and_shipped_like_a_file(session_factory: Any) -> None:
    body = b"print('fetched from the url')\n"
    with serving(body) as (url, hits):
        async with session_factory() as s:
            started = await s.ok("run_uv_job", {"script": f"{url}/scripts/remote.py"})
            assert hits == ["/scripts/remote.py"]
            (uploaded,) = started["uploads"]["files"]
            assert uploaded["path"] == "/data/remote.py"
            assert uploaded["sha256"] == hashlib.sha256(body).hexdigest()
            assert uploaded["origin"] == f"downloaded from {url}/scripts/remote.py"
            job = await completed(s, ref(started))
            assert job["command"] == ["uv", "run", "/data/remote.py"]
            assert job["name"].startswith("remote-")
            missing = await s.call("run_uv_job", {"script": f"{url}/scripts/missing.py"})
            assert missing.is_error
            assert "HTTP 404" in text(missing)
        assert hits == ["/scripts/remote.py", "/scripts/missing.py"]


# --- over HTTP: no local path is read ------------------------------------------------------------------------------


async def test_over_http_local_paths_are_refused_and_texts_travel(tmp_path: Path) -> None:
    secret_file = tmp_path / "server_side.yml"
    secret_file.write_text("SERVER-SIDE-CONTENT-4711\n", encoding="utf-8")
    with local_server(tmp_path) as server:
        async with http_client(LOCAL_AUTH) as http, mcp_client(server.mcp_url, client=http) as client:
            for dry in (True, False):
                refused = await client.call_tool(
                    "run_uv_job", {"script": "print(1)", "files": [str(secret_file)], "dry_run": dry}
                )
                assert refused.is_error
                assert "stdio" in text(refused)
                assert "file_texts" in text(refused)
                assert "SERVER-SIDE-CONTENT" not in text(refused) + repr(refused.structured_content)
            url = await client.call_tool("run_uv_job", {"script": "https://example.invalid/s.py", "dry_run": True})
            assert not url.is_error, text(url)
            assert url.structured_content is not None
            assert url.structured_content["request"]["command"] == ["uv", "run", "https://example.invalid/s.py"]
            assert url.structured_content["uploads"] is None  # the job's uv fetches it: nothing is fetched here

            script = (
                "import os\nos.makedirs('/data/outputs')\n"
                "open('/data/outputs/r.json','w').write(open('/data/in.json').read())\n"
            )
            started = await client.call_tool(
                "run_uv_job", {"script": script, "file_texts": {"in.json": '{"over": "http"}'}}
            )
            assert not started.is_error, text(started)
            assert started.structured_content is not None
            job = started.structured_content["job"]
            job_id = f"{job['namespace']}/{job['id']}"
            waited = await client.call_tool("wait_for_job", {"job_id": job_id, "timeout_seconds": 120})
            assert waited.structured_content is not None
            assert waited.structured_content["job"]["stage"] == "COMPLETED", text(waited)
            read = await client.call_tool("read_job_file", {"job_id": job_id, "path": "/data/outputs/r.json"})
            assert read.structured_content is not None, text(read)
            assert read.structured_content["parsed"] == {"over": "http"}


# --- over stdio, as clients start it: the protocol stays clean while files upload ------------------------------------


async def test_over_stdio_a_local_file_travels_and_stdout_stays_the_protocol(tmp_path: Path) -> None:
    import mcp
    from mcp.client.stdio import StdioServerParameters, stdio_client

    from tests.e2e.http_util import BIN, clean_env

    config = tmp_path / "config.yml"
    config.write_text("lr: 0.25\n", encoding="utf-8")
    params = StdioServerParameters(
        command=str(BIN), args=["--local", "--state-dir", str(tmp_path / "state")], env=clean_env(tmp_path)
    )
    errlog = tmp_path / "server.log"
    asked = Asked()
    with errlog.open("w") as sink:
        async with mcp.Client(stdio_client(params, errlog=sink), elicitation_callback=asked) as client:  # type: ignore[arg-type]
            started = await client.call_tool("run_uv_job", {"script": TRAIN, "script_args": [str(config)]})
            assert not started.is_error, text(started)
            assert started.structured_content is not None
            job = started.structured_content["job"]
            job_id = f"{job['namespace']}/{job['id']}"
            waited = await client.call_tool("wait_for_job", {"job_id": job_id, "timeout_seconds": 120})
            assert (waited.structured_content or {})["job"]["stage"] == "COMPLETED", text(waited)
            read = await client.call_tool("read_job_file", {"job_id": job_id, "path": "/data/outputs/metrics.json"})
            assert (read.structured_content or {})["parsed"]["lr"] == 0.25, text(read)
    assert len(asked.prompts) == 1
    log = errlog.read_text(encoding="utf-8")
    assert "Processing Files" not in log  # no progress bar drawn by the uploader
    assert "saved in this bucket" not in log
