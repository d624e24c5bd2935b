"""The job spec: what a run or a schedule sends, built exactly as ``huggingface_hub`` 2.4 builds it.

wire-protocol.md §4 is the reference: ``arguments`` is always ``[]``, ``spaceId`` replaces ``dockerImage`` for
``hf.co/spaces/...`` images, optional keys appear only when set, ``expose`` merges public ports into ``ports``,
and the ``name`` becomes a label. Everything the server would refuse (§4.3) is refused here first, all problems
at once, with an :class:`~hfjobs_mcp.errors.InvalidRequestError` that names the field: nothing is sent.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from hfjobs_mcp.errors import InvalidRequestError

__all__ = [
    "DEFAULT_FLAVOR",
    "SPACE_PREFIXES",
    "JobSpec",
    "Volume",
    "default_job_name",
    "parse_timeout",
]

DEFAULT_FLAVOR = "cpu-basic"
# The `flavor` enum of the Hub's OpenAPI document (snapshot 2026-08-17): flavors a request may name, some of them
# absent from the public hardware list (sprx8, zero-a10g, inf2x6), so with no listed price.
HUB_FLAVORS: tuple[str, ...] = (
    "cpu-basic", "cpu-upgrade", "cpu-performance", "cpu-xl", "sprx8", "zero-a10g", "t4-small", "t4-medium",
    "l4x1", "l4x4", "l40sx1", "l40sx4", "l40sx8", "a10g-small", "a10g-large", "a10g-largex2", "a10g-largex4",
    "a100-large", "a100x4", "a100x8", "h200", "h200x2", "h200x4", "h200x8", "rtx-pro-6000", "rtx-pro-6000x2",
    "rtx-pro-6000x4", "rtx-pro-6000x8", "inf2x6",
)  # fmt: skip
SPACE_PREFIXES = ("https://huggingface.co/spaces/", "https://hf.co/spaces/", "huggingface.co/spaces/", "hf.co/spaces/")
VolumeType = Literal["bucket", "model", "dataset", "space"]

_ENV_KEY = re.compile(r"^[a-zA-Z][_a-zA-Z0-9]+$")  # the Hub wants two characters or more
_SECRET_KEY = re.compile(r"^[a-zA-Z][_a-zA-Z0-9]*$")
_LABEL_KEY = re.compile(r"^[a-zA-Z0-9._-]+$")
_LABEL_VALUE = re.compile(r"^[a-zA-Z0-9._-]*$")
_LABEL_MAX = 100
_MAX_PORTS = 20
_MAX_INT = 2**53 - 1  # the Hub's schema caps timeoutSeconds and attempts at JavaScript's largest safe integer
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_NAME_CHARS = re.compile(r"[^a-zA-Z0-9_-]")


def parse_timeout(value: int | float | str | None) -> int | None:
    """Seconds from ``"90s"``, ``"30m"``, ``"1.5h"``, ``"2d"`` or a number; None (server default) for falsy input.

    Same rule as ``huggingface_hub``: a trailing s/m/h/d multiplies a float prefix and the result is truncated.
    Unlike it, zero or negative results and unparsable text are refused here (the server would refuse them).
    """
    if value is None or value == "" or value == 0:
        return None
    if isinstance(value, bool):
        raise InvalidRequestError("timeout must be a duration, not a boolean", hint='e.g. "30m", "2h" or 1800')
    try:
        if isinstance(value, str):
            text = value.strip()
            if text and text[-1] in _UNITS:
                number = float(text[:-1])
                if not math.isfinite(number):
                    raise ValueError(text)
                seconds = int(number * _UNITS[text[-1]])
            else:
                seconds = int(text)
        else:
            if not math.isfinite(value):
                raise ValueError(value)
            seconds = int(value)
    except (TypeError, ValueError, OverflowError):
        raise InvalidRequestError(
            f"timeout {value!r} is not a duration",
            hint='use a number of seconds or a number followed by s, m, h or d (e.g. "90s", "30m", "1.5h", "2d")',
        ) from None
    if seconds <= 0:
        raise InvalidRequestError(
            f"timeout {value!r} is not positive", hint='e.g. "30m"; omit it for the 30-minute default'
        )
    if seconds > _MAX_INT:
        raise InvalidRequestError(f"timeout {value!r} is too long", hint='e.g. "2d"')
    return seconds


def _image_key(image: str) -> tuple[str, str]:
    for prefix in SPACE_PREFIXES:
        if image.startswith(prefix):
            return "spaceId", image[len(prefix) :]
    return "dockerImage", image


def default_job_name(image: str, command: list[str]) -> str:
    """The name ``huggingface_hub`` 2.x gives a job when none is set (``python:3.12`` -> ``python-3-12-<hash>``)."""
    key, value = _image_key(image)
    base = (value or image) if key == "spaceId" else (image.rstrip("/").split("/")[-1] or image)
    digest = hashlib.sha256("\x00".join([image, *command]).encode()).hexdigest()[:8]
    return f"{_NAME_CHARS.sub('-', base)}-{digest}"


@dataclass(frozen=True)
class Volume:
    """A repo or bucket mounted into the job (``mount_path`` absolute)."""

    type: VolumeType
    source: str
    mount_path: str
    revision: str | None = None
    read_only: bool | None = None
    path: str | None = None

    def to_wire(self) -> dict[str, Any]:
        body: dict[str, Any] = {"type": self.type, "source": self.source, "mountPath": self.mount_path}
        if self.revision is not None:
            body["revision"] = self.revision
        if self.read_only is not None:
            body["readOnly"] = self.read_only
        if self.path is not None:
            body["path"] = self.path
        return body


def _dedup(ports: list[int]) -> list[int]:
    return list(dict.fromkeys(ports))


def _image_problems(image: Any) -> list[str]:
    if not isinstance(image, str) or not image.strip():
        return ["image must be a non-empty string"]
    if any(c.isspace() for c in image):
        return ["image must not contain whitespace"]
    if _image_key(image) == ("spaceId", ""):
        return [f"image {image!r} names no Space (expected e.g. hf.co/spaces/owner/name)"]
    return []


def _command_problems(command: Any) -> list[str]:
    if isinstance(command, str) or not isinstance(command, list | tuple):
        return ["command must be a list of strings (e.g. ['python', '-c', 'print(1)'])"]
    if not command:
        return ["command needs at least one item"]
    if any(not isinstance(c, str) or c == "" for c in command):
        return ["command items must be non-empty strings"]
    return []


def _one_volume_problems(vol: Any) -> list[str]:
    if not isinstance(vol, Volume):
        return [f"volume {vol!r} is not a Volume"]
    out: list[str] = []
    if vol.type not in ("bucket", "model", "dataset", "space"):
        out.append(f"volume type {vol.type!r} must be bucket, model, dataset or space")
    if not isinstance(vol.mount_path, str) or not vol.mount_path.startswith("/"):
        out.append(f"volume mount_path {vol.mount_path!r} must start with '/'")
    if not isinstance(vol.source, str) or not vol.source:
        out.append("volume source must be a non-empty string")
    extra: dict[str, Any] = {"revision": vol.revision, "path": vol.path}
    out += [
        f"volume {what} must be a string"
        for what, value in extra.items()
        if value is not None and not isinstance(value, str)
    ]
    read_only: Any = vol.read_only
    if read_only is not None and not isinstance(read_only, bool):
        out.append("volume read_only must be true or false")
    return out


def _mapping_problems(what: str, mapping: object, key_pattern: re.Pattern[str], rule: str) -> list[str]:
    """Problems with ``env`` or ``secrets``: string keys matching the server's pattern, string values."""
    if not isinstance(mapping, dict):
        return [f"{what} must map names to string values"]
    out: list[str] = []
    for key, value in mapping.items():
        if not isinstance(key, str) or not key_pattern.fullmatch(key):
            out.append(f"{what} key {key!r} must match {key_pattern.pattern} ({rule})")
        if not isinstance(value, str):
            out.append(f"{what} value of {key!r} must be a string")
    return out


@dataclass(frozen=True)
class JobSpec:
    """What to run: validated on construction, serialised by :meth:`to_wire`.

    ``secrets`` maps names to values: values exist only in memory between the user's approval and the request.
    The repr shows secret names, never values.
    """

    image: str
    command: list[str]
    env: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict, repr=False)
    flavor: str = DEFAULT_FLAVOR
    timeout: int | float | str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    volumes: list[Volume] = field(default_factory=list)
    expose: list[int] = field(default_factory=list)
    expose_public: list[int] = field(default_factory=list)
    name: str | None = None
    attempts: int | None = None

    def __post_init__(self) -> None:
        problems = list(self._problems())
        if problems:
            raise InvalidRequestError(
                "invalid job spec: " + "; ".join(problems), hint="fix these fields; nothing was sent"
            )

    def _problems(self) -> list[str]:
        """Every problem of the spec, in field order (checked as Any: the dataclass types are a promise the caller,
        an agent or a fuzzer, may not keep)."""
        me: Any = self
        out = _image_problems(me.image) + _command_problems(me.command)
        if not isinstance(me.flavor, str) or not re.fullmatch(r"[a-z0-9][a-z0-9-]*", me.flavor):
            out.append(f"flavor {me.flavor!r} is not a flavor name (see list_hardware)")
        out += _mapping_problems("env", me.env, _ENV_KEY, "letter first, at least 2 characters")
        out += _mapping_problems("secrets", me.secrets, _SECRET_KEY, "letter first")
        out += self._label_problems()
        if me.name is not None and not isinstance(me.name, str):
            out.append("name must be a string")
        out += self._volume_problems()
        out += self._port_problems()
        if me.attempts is not None and (
            isinstance(me.attempts, bool) or not isinstance(me.attempts, int) or not 1 <= me.attempts <= _MAX_INT
        ):
            out.append("attempts must be an integer, 1 or more (1 = no retry)")
        try:
            parse_timeout(me.timeout)
        except InvalidRequestError as exc:
            out.append(exc.message)
        return out

    def _label_problems(self) -> list[str]:
        me: Any = self
        if not isinstance(me.labels, dict):
            return ["labels must map strings to strings"]
        out: list[str] = []
        for key, value in self.all_labels().items():
            if not isinstance(key, str) or not _LABEL_KEY.fullmatch(key) or len(key) > _LABEL_MAX:
                out.append(f"label key {key!r} must be 1-100 characters of letters, digits, '.', '_', '-'")
            if not isinstance(value, str) or not _LABEL_VALUE.fullmatch(value) or len(value) > _LABEL_MAX:
                out.append(f"label {key!r} value must be at most 100 characters of letters, digits, '.', '_', '-'")
        if me.name is not None and "name" in me.labels:
            out.append("give `name` or a `name` label, not both")
        return out

    def _volume_problems(self) -> list[str]:
        me: Any = self
        if not isinstance(me.volumes, list | tuple):
            return ["volumes must be a list of Volume"]
        out: list[str] = []
        for vol in me.volumes:
            out += _one_volume_problems(vol)
        mounts = [v.mount_path for v in me.volumes if isinstance(v, Volume)]
        if len(set(mounts)) != len(mounts):
            out.append("two volumes use the same mount_path")
        return out

    def _port_problems(self) -> list[str]:
        me: Any = self
        if not isinstance(me.expose, list | tuple) or not isinstance(me.expose_public, list | tuple):
            return ["expose and expose_public must be lists of port numbers"]
        out: list[str] = []
        raw = [*me.expose, *me.expose_public]
        bad = [p for p in raw if isinstance(p, bool) or not isinstance(p, int) or not 1 <= p <= 65535]
        for port in bad:
            out.append(f"port {port!r} must be an integer from 1 to 65535")
        if not bad:
            ports = _dedup(raw)
            if len(ports) > _MAX_PORTS:
                out.append(f"at most {_MAX_PORTS} exposed ports (got {len(ports)})")
        return out

    @property
    def timeout_seconds(self) -> int | None:
        return parse_timeout(self.timeout)

    def all_labels(self) -> dict[str, str]:
        labels = dict(self.labels)
        if self.name is not None:
            labels["name"] = self.name
        return labels

    def with_labels(self, extra: dict[str, str]) -> JobSpec:
        """A copy with more labels (used for the submission label that makes retries safe)."""
        return JobSpec(
            image=self.image,
            command=list(self.command),
            env=dict(self.env),
            secrets=dict(self.secrets),
            flavor=self.flavor,
            timeout=self.timeout,
            labels={**self.labels, **extra},
            volumes=list(self.volumes),
            expose=list(self.expose),
            expose_public=list(self.expose_public),
            name=self.name,
            attempts=self.attempts,
        )

    def to_wire(self) -> dict[str, Any]:
        """The JSON body of ``POST /api/jobs/{ns}`` (and ``jobSpec`` of a scheduled job), key for key."""
        body: dict[str, Any] = {
            "command": list(self.command),
            "arguments": [],
            "environment": dict(self.env),
            "flavor": self.flavor or DEFAULT_FLAVOR,
        }
        if self.secrets:
            body["secrets"] = dict(self.secrets)
        timeout = self.timeout_seconds
        if timeout:
            body["timeoutSeconds"] = timeout
        if self.attempts is not None:
            body["attempts"] = self.attempts
        labels = self.all_labels()
        if "name" not in labels:
            labels["name"] = default_job_name(self.image, self.command)
        body["labels"] = labels
        if self.volumes:
            body["volumes"] = [v.to_wire() for v in self.volumes]
        if self.expose or self.expose_public:
            body["expose"] = {
                "ports": _dedup([*self.expose, *self.expose_public]),
                "portsPublic": _dedup(self.expose_public),
            }
        key, value = _image_key(self.image)
        body[key] = value
        return body
