"""A UV script's ``[tool.hf-jobs]`` table, merged as ``hf jobs uv run`` (huggingface_hub 2.4) merges it: what the
agent passes wins, maps merge per key, volumes per mount path, and the table's values are checked like arguments."""

from __future__ import annotations

from pathlib import Path

import pytest

from hfjobs_mcp.errors import InvalidRequestError
from hfjobs_mcp.tools.jobs import RunUvJobArgs
from hfjobs_mcp.tools.uploads import UploadSet
from hfjobs_mcp.tools.uvheader import apply_header, read_header

pytestmark = pytest.mark.slow  # huggingface_hub's parser: about half a second to import


def script(table: str) -> bytes:
    body = "\n".join(f"# {line}" if line else "#" for line in table.strip().splitlines())
    return f'# /// script\n# dependencies = []\n#\n{body}\n# ///\nprint("hi")\n'.encode()


FULL = """
[tool.hf-jobs]
image = "python:3.12"
flavor = "a10g-small"
python = "3.11"
timeout = "2h"
name = "from-script"
namespace = "myorg"
env = { WANDB_PROJECT = "demo", MODE = "script" }
secrets = ["HF_TOKEN", "WANDB_API_KEY"]
labels = { team = "ml", stage = "script" }
volumes = ["hf://buckets/myorg/ckpt:/ckpt", "hf://datasets/org/ds@v1/train:/mnt/ds:ro"]
"""


def merged(table: str, **given: object) -> tuple[RunUvJobArgs, tuple[str, ...], UploadSet]:
    header = read_header(script(table))
    assert header is not None
    uploads = UploadSet()
    args, came = apply_header(
        RunUvJobArgs.model_validate({"script": "x", **given}), header, local_files=True, uploads=uploads
    )
    return args, came, uploads


def test_a_script_without_the_table_has_no_header() -> None:
    assert read_header(b"print(1)\n") is None
    assert read_header(script('[tool.other]\nx = "hf-jobs"')) is None


def test_the_table_fills_what_the_agent_did_not_give() -> None:
    args, came, _ = merged(FULL)
    assert (args.image, args.flavor, args.python, args.timeout, args.namespace) == (
        "python:3.12",
        "a10g-small",
        "3.11",
        "2h",
        "myorg",
    )
    assert args.env == {"WANDB_PROJECT": "demo", "MODE": "script"}
    assert args.secrets == ["HF_TOKEN", "WANDB_API_KEY"]
    assert args.labels == {"team": "ml", "stage": "script", "name": "from-script"}
    assert [(v.type, v.source, v.mount_path, v.read_only, v.revision, v.path) for v in args.volumes] == [
        ("bucket", "myorg/ckpt", "/ckpt", None, None, None),
        ("dataset", "org/ds", "/mnt/ds", True, "v1", "train"),
    ]
    assert "flavor" in came
    assert "env.WANDB_PROJECT" in came
    assert "secrets.HF_TOKEN" in came


def test_what_the_agent_gives_wins_entry_by_entry() -> None:
    args, came, _ = merged(
        FULL,
        flavor="cpu-basic",  # the default value, but given: it wins
        env={"MODE": "agent"},
        secrets=["WANDB_API_KEY"],
        labels={"stage": "agent"},
        name="mine",
        volumes=[{"type": "bucket", "source": "alice/other", "mount_path": "/ckpt"}],
    )
    assert args.flavor == "cpu-basic"
    assert args.env == {"WANDB_PROJECT": "demo", "MODE": "agent"}
    assert args.secrets == ["HF_TOKEN", "WANDB_API_KEY"]
    assert args.labels == {"team": "ml", "stage": "agent"}  # `name` given: the table's name is not used
    assert args.name == "mine"
    assert [(v.source, v.mount_path) for v in args.volumes] == [("org/ds", "/mnt/ds"), ("alice/other", "/ckpt")]
    assert "flavor" not in came
    assert "env.MODE" not in came


@pytest.mark.parametrize(
    ("table", "said"),
    [
        ('[tool.hf-jobs]\nflavour = "a10g-small"', "Unknown key"),
        ("[tool.hf-jobs]\nenv = { A = 1 }", "must be a string"),
        ('[tool.hf-jobs]\nsecrets = { HF_TOKEN = "hf_x" }', "list of names"),
        ('[tool.hf-jobs]\nnetwork_group = "g"', "network_group"),
        ('[tool.hf-jobs]\nflavor = "A10G Small"', "flavor"),
        ('[tool.hf-jobs]\nvolumes = ["hf://buckets/a/b"]', "mount path"),
        ('[tool.hf-jobs]\nnamespace = "../etc"', "namespace"),
    ],
)
def test_a_bad_table_is_refused_and_says_why(table: str, said: str) -> None:
    with pytest.raises(InvalidRequestError, match=said):
        merged(table)


def test_a_local_folder_volume_is_uploaded_over_stdio_and_refused_over_http(tmp_path: Path) -> None:
    (tmp_path / "inputs").mkdir()
    (tmp_path / "inputs" / "rows.csv").write_text("a\n")
    table = f'[tool.hf-jobs]\nvolumes = ["{tmp_path / "inputs"}:/inputs"]'
    _, came, uploads = merged(table)
    (group,) = uploads.build("alice/jobs-artifacts").groups
    assert (group.mount_path, group.read_only, [u.name for u in group.files]) == ("/inputs", True, ["rows.csv"])
    assert came == (f"volumes.{tmp_path / 'inputs'}:/inputs",)
    header = read_header(script(table))
    assert header is not None
    with pytest.raises(InvalidRequestError, match="stdio"):
        apply_header(RunUvJobArgs(script="x"), header, local_files=False, uploads=UploadSet())
