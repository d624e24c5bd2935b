"""The unmodified ``hf`` CLI (huggingface_hub 2.4) against ``hfjobs-mcp local``: scripts and folders travel in
buckets, the job reads and writes ``/data``, and what it wrote comes back with huggingface_hub.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from huggingface_hub import HfApi

from .util import TOKEN, local_command

pytestmark = [pytest.mark.timeout(240), pytest.mark.slow]

HF = str(Path(sys.executable).parent / "hf")

SCRIPT = """\
# /// script
# dependencies = []
# ///
import os, sys
config = open(sys.argv[1]).read().strip()
print("config:", config)
print("in /data:", sorted(os.listdir("/data")))
os.makedirs("/data/outputs", exist_ok=True)
with open("/data/outputs/result.txt", "w") as f:
    f.write(f"trained with {config}\\n")
print("done")
"""


@dataclass
class Cli:
    url: str
    env: dict[str, str]
    cwd: Path

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [HF, *args], env=self.env, cwd=self.cwd, capture_output=True, text=True, timeout=180, check=False
        )

    def api(self) -> HfApi:
        return HfApi(endpoint=self.url, token=TOKEN)


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cli]:
    tmp = tmp_path_factory.mktemp("hf-cli")
    with local_command(tmp / "state", "--token", TOKEN) as (_, url, _):
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(tmp / "home"),
            "HF_ENDPOINT": url,
            "HF_TOKEN": TOKEN,
            "HF_HOME": str(tmp / "hf-home"),
            "HF_XET_CACHE": str(tmp / "xet-cache"),
            "HF_HUB_DISABLE_PROGRESS_BARS": "1",
            "HF_HUB_DISABLE_EXPERIMENTAL_WARNING": "1",
            "NO_COLOR": "1",
        }
        work = tmp / "work"
        work.mkdir()
        yield Cli(url=url, env=env, cwd=work)


def job_id(output: str) -> str:
    m = re.search(r"id: ([0-9a-f]{24})", output)
    assert m, output
    return m.group(1)


def test_hf_jobs_uv_run_uploads_the_script_and_its_file_and_the_job_writes_data(cli: Cli, tmp_path: Path) -> None:
    (cli.cwd / "train.py").write_text(SCRIPT, encoding="utf-8")
    (cli.cwd / "config.yml").write_text("lr: 0.01", encoding="utf-8")
    done = cli("jobs", "uv", "run", "train.py", "config.yml")
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    assert "config: lr: 0.01" in out
    assert "in /data: ['config.yml', 'train.py']" in out
    assert "completed" in out
    # The job was started as the Hub starts it: `uv run /data/train.py`, the artifacts bucket read-write at /data.
    inspected = cli("jobs", "inspect", "--json", job_id(out))
    assert inspected.returncode == 0, inspected.stderr
    (job,) = json.loads(inspected.stdout)
    assert job["command"] == ["uv", "run", "/data/train.py", "/data/config.yml"]
    (volume,) = job["volumes"]
    assert volume["type"] == "bucket"
    assert volume["source"] == "alice/jobs-artifacts"
    assert volume["mount_path"] == "/data"
    assert volume["read_only"] is False
    sub = volume["path"]
    # What the job wrote is a file of the bucket: listed and downloaded back with huggingface_hub.
    api = cli.api()
    listed = {f.path for f in api.list_bucket_tree("alice/jobs-artifacts", prefix=sub, recursive=True)}
    assert listed == {f"{sub}/train.py", f"{sub}/config.yml", f"{sub}/outputs/result.txt"}
    api.download_bucket_files("alice/jobs-artifacts", [(f"{sub}/outputs/result.txt", tmp_path / "result.txt")])
    assert (tmp_path / "result.txt").read_text() == "trained with lr: 0.01\n"


def test_hf_jobs_uv_run_with_a_local_folder_volume(cli: Cli, tmp_path: Path) -> None:
    data = cli.cwd / "dataset"
    data.mkdir()
    (data / "input.txt").write_text("rows: 3", encoding="utf-8")
    code = (
        "import os; print('read', open('/data/input.txt').read());"
        " open('/data/summary.txt', 'w').write('summary of ' + open('/data/input.txt').read())"
    )
    done = cli("jobs", "uv", "run", "-v", "./dataset:/data:rw", "python", "--", "-c", code)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    assert "read rows: 3" in out
    m = re.search(r"hf buckets sync hf://buckets/alice/jobs-artifacts/(\S+) ", out)
    assert m, out  # the CLI tells how to pull the read-write folder back
    back = tmp_path / "back"
    cli.api().sync_bucket(f"hf://buckets/alice/jobs-artifacts/{m.group(1)}", str(back))
    assert (back / "summary.txt").read_text() == "summary of rows: 3"
    assert (back / "input.txt").read_text() == "rows: 3"
    # Mounted read-only (the CLI's default for a folder), the job cannot write to it.
    code = "open('/data/x.txt', 'w')"
    refused = cli("jobs", "uv", "run", "-v", "./dataset:/data", "python", "--", "-c", code)
    assert refused.returncode != 0
    assert "Read-only file system" in refused.stdout + refused.stderr


def test_hf_jobs_run_with_a_bucket_volume(cli: Cli, tmp_path: Path) -> None:
    code = "import os; os.makedirs('/data/ckpt', exist_ok=True); open('/data/ckpt/step-1.txt', 'w').write('w1')"
    done = cli("jobs", "run", "-v", "hf://buckets/alice/checkpoints:/data", "python:3.12", "python", "-c", code)
    assert done.returncode == 0, done.stdout + done.stderr
    api = cli.api()
    assert api.bucket_info("alice/checkpoints").private is True  # created on first use
    (entry,) = api.list_bucket_tree("alice/checkpoints", recursive=True)
    assert entry.path == "ckpt/step-1.txt"
    api.download_bucket_files("alice/checkpoints", [(entry, tmp_path / "step-1.txt")])
    assert (tmp_path / "step-1.txt").read_text() == "w1"
    listing = cli("buckets", "ls", "alice/checkpoints", "-R")
    assert "ckpt/step-1.txt" in listing.stdout, listing.stderr
