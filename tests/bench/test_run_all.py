"""``bench/run_all.py``: a ``--quick`` smoke pass never writes over the committed ``bench/results.md`` (the table the
README quotes), and a misspelt ``--only`` is refused instead of silently running nothing."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUN_ALL = ROOT / "bench" / "run_all.py"


@pytest.fixture(scope="module")
def run_all() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_run_all", RUN_ALL)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_quick_writes_elsewhere_than_the_committed_table(run_all: ModuleType) -> None:
    committed = ROOT / "bench" / "results.md"
    assert run_all.output_path(False, None) == committed
    quick = run_all.output_path(True, None)
    assert quick != committed
    assert quick == ROOT / ".bench-out" / "results-quick.md"
    assert ".bench-out/" in (ROOT / ".gitignore").read_text(encoding="utf-8").split()
    assert run_all.output_path(True, Path("/tmp/x.md")) == Path("/tmp/x.md")


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--quick", "--output", "bench/results.md"], "a --quick table never replaces bench/results.md"),
        (["--quick", "--output", str(ROOT / "bench" / ".." / "bench" / "results.md")], "never replaces"),
        (["--only", "cold_strat"], "no benchmark named cold_strat; choose among cold_start,"),
    ],
)
def test_refused_before_anything_runs(args: list[str], said: str) -> None:
    before = (ROOT / "bench" / "results.md").read_bytes()
    done = subprocess.run(
        [sys.executable, str(RUN_ALL), *args], capture_output=True, text=True, timeout=60, check=False, cwd=ROOT
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert said in done.stderr
    assert "==" not in done.stdout  # no benchmark started
    assert (ROOT / "bench" / "results.md").read_bytes() == before
