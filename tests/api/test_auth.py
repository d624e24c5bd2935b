"""Token and endpoint discovery as ``huggingface_hub`` does it (wire §1, §2.1), from a temporary environment.

Precedence: ``HF_TOKEN`` > ``HUGGING_FACE_HUB_TOKEN`` > the file ``HF_TOKEN_PATH`` > ``$HF_HOME/token`` >
``$XDG_CACHE_HOME/huggingface/token`` > ``~/.cache/huggingface/token``. Never the real user's token: every test
builds its own environment and home.
"""

from __future__ import annotations

from pathlib import Path

import httpx2
import pytest

from hfjobs_mcp.api import JobsClient, find_endpoint, find_token
from hfjobs_mcp.api.auth import DEFAULT_ENDPOINT, token_file
from hfjobs_mcp.errors import TokenNotFoundError

ENV_TOKEN = "hf_fake_env_token_aaaaaaaaaaaaaaaa"
LEGACY_TOKEN = "hf_fake_legacy_token_bbbbbbbbbbbbbb"
FILE_TOKEN = "hf_fake_file_token_cccccccccccccccc"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fake home with nothing in it, and no HF variable from the real environment."""
    for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_TOKEN_PATH", "HF_HOME", "XDG_CACHE_HOME", "HF_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    return tmp_path / "home"


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _value(env: dict[str, str]) -> str | None:
    token = find_token(env)
    return None if token is None else token.get_secret_value()


def test_env_precedence(home: Path, tmp_path: Path) -> None:
    _write(tmp_path / "hf" / "token", FILE_TOKEN)
    env = {"HF_HOME": str(tmp_path / "hf")}
    assert _value(env) == FILE_TOKEN
    env["HUGGING_FACE_HUB_TOKEN"] = LEGACY_TOKEN
    assert _value(env) == LEGACY_TOKEN
    env["HF_TOKEN"] = ENV_TOKEN
    assert _value(env) == ENV_TOKEN
    env["HF_TOKEN"] = ""  # empty means unset
    assert _value(env) == LEGACY_TOKEN


def test_token_is_stripped_and_secret(home: Path) -> None:
    token = find_token({"HF_TOKEN": f"  {ENV_TOKEN}\n"})
    assert token is not None
    assert token.get_secret_value() == ENV_TOKEN
    assert ENV_TOKEN not in repr(token)
    assert ENV_TOKEN not in str(token)


def test_token_path_beats_hf_home(home: Path, tmp_path: Path) -> None:
    _write(tmp_path / "hf" / "token", "hf_from_home_xxxxxxxxxxxxxxxxxx")
    custom = _write(tmp_path / "elsewhere" / "my-token", f"{FILE_TOKEN}\n")
    env = {"HF_HOME": str(tmp_path / "hf"), "HF_TOKEN_PATH": str(custom)}
    assert token_file(env) == custom
    assert _value(env) == FILE_TOKEN


def test_hf_home_beats_xdg(home: Path, tmp_path: Path) -> None:
    _write(tmp_path / "xdg" / "huggingface" / "token", "hf_from_xdg_yyyyyyyyyyyyyyyyyy")
    env = {"XDG_CACHE_HOME": str(tmp_path / "xdg")}
    assert _value(env) == "hf_from_xdg_yyyyyyyyyyyyyyyyyy"
    _write(tmp_path / "hf" / "token", FILE_TOKEN)
    env["HF_HOME"] = str(tmp_path / "hf")
    assert _value(env) == FILE_TOKEN


def test_default_file_is_under_the_home_cache(home: Path) -> None:
    assert token_file({}) == home / ".cache" / "huggingface" / "token"
    assert _value({}) is None
    _write(home / ".cache" / "huggingface" / "token", FILE_TOKEN)
    assert _value({}) == FILE_TOKEN


def test_process_environment_is_the_default(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert find_token() is None
    monkeypatch.setenv("HUGGING_FACE_HUB_TOKEN", LEGACY_TOKEN)
    token = find_token()
    assert token is not None
    assert token.get_secret_value() == LEGACY_TOKEN


@pytest.mark.parametrize("content", ["", "  \n", b"\xff\xfe".decode("latin-1")])
def test_empty_or_unreadable_file_is_no_token(home: Path, tmp_path: Path, content: str) -> None:
    path = tmp_path / "token"
    path.write_bytes(content.encode("latin-1"))
    result = _value({"HF_TOKEN_PATH": str(path)})
    assert result is None or result == content.strip()


def test_directory_instead_of_file_is_no_token(home: Path, tmp_path: Path) -> None:
    (tmp_path / "dir").mkdir()
    assert _value({"HF_TOKEN_PATH": str(tmp_path / "dir")}) is None


@pytest.mark.parametrize(
    ("value", "endpoint"),
    [
        (None, DEFAULT_ENDPOINT),
        ("", DEFAULT_ENDPOINT),
        ("http://127.0.0.1:8000/", "http://127.0.0.1:8000"),
        ("http://127.0.0.1:8000///", "http://127.0.0.1:8000"),
        ("https://hub-ci.huggingface.co", "https://hub-ci.huggingface.co"),
    ],
)
def test_endpoint(value: str | None, endpoint: str) -> None:
    env = {} if value is None else {"HF_ENDPOINT": value}
    assert find_endpoint(env) == endpoint
    assert DEFAULT_ENDPOINT == "https://huggingface.co"


@pytest.mark.anyio
async def test_from_env_uses_both(home: Path, tmp_path: Path) -> None:
    seen: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        return httpx2.Response(200, json={"name": "alice"})

    env = {"HF_ENDPOINT": "http://127.0.0.1:9/", "HF_TOKEN": ENV_TOKEN}
    async with JobsClient.from_env(env, transport=httpx2.MockTransport(handler)) as client:
        assert client.endpoint == "http://127.0.0.1:9"
        assert await client.namespace() == "alice"
        assert ENV_TOKEN not in repr(client)
    assert str(seen[0].url) == "http://127.0.0.1:9/api/whoami-v2"
    assert seen[0].headers["authorization"] == f"Bearer {ENV_TOKEN}"


@pytest.mark.anyio
async def test_from_env_without_token_fails_before_any_request(home: Path) -> None:
    seen: list[httpx2.Request] = []

    def hardware(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        return httpx2.Response(200, json=[])

    async with JobsClient.from_env({}, transport=httpx2.MockTransport(hardware)) as client:
        assert not client.has_token
        assert client.endpoint == DEFAULT_ENDPOINT
        with pytest.raises(TokenNotFoundError):
            await client.list_jobs()
        assert await client.list_hardware() == []  # the one call that needs no token
    assert [r.url.path for r in seen] == ["/api/jobs/hardware"]
