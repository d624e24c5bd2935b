"""``hfjobs-mcp serve``'s options are generated from :class:`~hfjobs_mcp.config.Settings` (defaults in one place).

Every flag the README, the manifests and the client snippets use stays, each value is read by its field's type,
and a bad value is refused naming its option, before anything starts.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import pytest
from pydantic import BaseModel, Field

from hfjobs_mcp.cli import add_options, build_parser, flagged, settings_from_args
from hfjobs_mcp.config import TOOLSETS, Flag, Settings

# The options of `serve` as published (README, manifests/, client snippets): none may disappear.
PUBLISHED = {
    "--transport", "--host", "--port", "--endpoint", "--local", "--state-dir", "--namespace", "--read-only",
    "--toolsets", "--secrets-policy", "--confirm-via", "--allow-secret", "--secrets-file", "--confirm-above",
    "--budget", "--max-spend-per-day", "--max-price-per-job", "--max-timeout", "--allowed-namespaces",
    "--only-namespaces", "--auth", "--allowed-hosts", "--allowed-origins", "--max-body-bytes", "--workers",
    "--shutdown-grace", "--public-url", "--authorization-server", "--log-level",
}  # fmt: skip


def _serve_parser() -> argparse.ArgumentParser:
    parser = build_parser("serve")
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices["serve"]


def _parse(*argv: str) -> argparse.Namespace:
    return build_parser("serve").parse_args(["serve", *argv])


def test_every_published_option_is_there_and_nothing_else() -> None:
    options = {o for a in _serve_parser()._actions for o in a.option_strings if o.startswith("--")}
    assert options - {"--help"} == PUBLISHED


def test_no_option_given_means_the_settings_defaults() -> None:
    assert settings_from_args(_parse(), Settings) == Settings()


def test_each_value_is_read_by_its_fields_type() -> None:
    args = _parse(
        "--transport", "http", "--port", "9001", "--local", "--state-dir", "/tmp/x", "--toolsets", "jobs,webhooks",
        "--allow-secret", "A", "--allow-secret", "B", "--confirm-above", "none", "--budget", "0",
        "--max-spend-per-day", "2.5", "--max-timeout", "2h", "--allowed-namespaces", "a, b,,", "--auth", "token",
        "--shutdown-grace", "5", "--max-body-bytes", "2048", "--workers", "3",
    )  # fmt: skip
    settings = settings_from_args(args, Settings)
    assert settings.transport == "http"
    assert settings.port == 9001
    assert settings.local is True
    assert settings.state_dir == Path("/tmp/x")
    assert settings.toolsets == ("jobs", "webhooks")
    assert settings.allow_secrets == ("A", "B")
    assert settings.confirm_above is None
    assert settings.budget == 0
    assert settings.max_spend_per_day == 2.5
    assert settings.max_timeout == 7200
    assert settings.allowed_namespaces == ("a", "b")
    assert settings.auth == "token"
    assert settings.shutdown_grace_seconds == 5
    assert settings.max_body_bytes == 2048
    assert settings.workers == 3
    assert settings_from_args(_parse("--toolsets", "all"), Settings).toolsets == TOOLSETS


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--toolsets", "jobs,nope"], "choose among jobs, hardware, scheduled, webhooks"),
        (["--budget", "lots"], "give a number (e.g. 1.50) or 'none'"),
        (["--max-timeout", "soon"], "--max-timeout"),
        (["--transport", "carrier-pigeon"], "invalid choice"),
        (["--port", "eighty"], "invalid int value"),
    ],
)
def test_a_value_of_the_wrong_kind_is_refused_by_the_parser(
    argv: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        _parse(*argv)
    assert exit_.value.code == 2
    assert says in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "option"),
    [
        (["--budget", "-1"], "--budget"),
        (["--port", "70000"], "--port"),
        (["--workers", "0"], "--workers"),
        (["--shutdown-grace", "0"], "--shutdown-grace"),
        (["--allow-secret", "A", "--max-price-per-job", "-3"], "--max-price-per-job"),
    ],
)
def test_a_value_out_of_its_fields_bounds_names_the_option(argv: list[str], option: str) -> None:
    with pytest.raises(ValueError, match=f"argument {option}: "):
        settings_from_args(_parse(*argv), Settings)


@pytest.mark.slow
def test_the_command_refuses_out_of_bounds_values_before_starting(tmp_path: Path) -> None:
    """Through the real console entry: exit 2, one line naming the option, no traceback, nothing served."""
    done = subprocess.run(
        [sys.executable, "-m", "hfjobs_mcp", "--local", "--state-dir", str(tmp_path / "s"), "--budget", "-5"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 2
    assert "argument --budget: Input should be greater than or equal to 0" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "s").exists()


def test_help_shows_each_description_and_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "10000")  # one line per option: descriptions are not wrapped
    text = _serve_parser().format_help()
    for name in flagged(Settings):
        description = Settings.model_fields[name].description
        assert description is not None, f"{name}: a Flag needs a description (it is the option's help)"
        assert description in text
    assert "(default jobs,hardware,scheduled)" in text
    assert "(default 127.0.0.1)" in text


def test_a_new_setting_with_a_flag_becomes_an_option() -> None:
    """The generator is generic: a model's flagged fields become options, unflagged ones do not."""

    class Probe(BaseModel):
        level: Annotated[int, Flag(metavar="N", http=True)] = Field(default=3, ge=1, description="how high")
        names: Annotated[tuple[str, ...], Flag(name="--name", repeat=True)] = Field(default=(), description="x")
        secret: str = "not an option"

    parser = argparse.ArgumentParser()
    add_options(parser, Probe)
    assert settings_from_args(parser.parse_args([]), Probe) == Probe()
    got = settings_from_args(parser.parse_args(["--level", "7", "--name", "a", "--name", "b"]), Probe)
    assert got == Probe(level=7, names=("a", "b"))
    assert "--secret" not in parser.format_help()
    assert "how high (default 3)" in parser.format_help()
    with pytest.raises(ValueError, match="argument --level: "):
        settings_from_args(parser.parse_args(["--level", "0"]), Probe)


PLUGINS = (
    "import os, hfjobs_mcp.cli\n"
    "from pydantic.plugin._loader import get_plugins\n"
    "print(repr(os.environ.get('PYDANTIC_DISABLE_PLUGINS')), len(list(get_plugins())))"
)


@pytest.mark.parametrize(("given", "seen"), [(None, "'__all__' 0"), ("", "'' "), ("logfire", "'logfire' ")])
def test_pydantic_plugins_are_off_unless_the_user_says_otherwise(given: str | None, seen: str) -> None:
    """A plugin would see every value the server validates, its token included: off by default, the user's
    own setting (even empty: every plugin on) kept."""
    env = {"PATH": "/usr/bin:/bin"} | ({} if given is None else {"PYDANTIC_DISABLE_PLUGINS": given})
    done = subprocess.run([sys.executable, "-c", PLUGINS], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(seen)
