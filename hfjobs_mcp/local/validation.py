"""Request validation: the Hub's OpenAPI request schemas (wire §4.3) as pydantic models.

``parse(model, raw_body)`` returns the validated model or raises :class:`RequestError` whose message
names the offending field (``environment.A: String should match pattern ...``); the app answers it
with ``400 {"error": message}``. Unknown keys are ignored, as the Hub's schemas allow them.

Before the schema, the JSON itself is bounded: at most :data:`MAX_DEPTH` levels of nesting (the schemas need
five; a deeper body used to exhaust the parser's recursion), integers too long to be exact become floats (as
in JavaScript, so the schema's integer check names the field instead of the parser failing), no ``NaN`` or
``Infinity`` (not JSON), and no lone surrogate in a string (it could not be written back as UTF-8).
:func:`whole_number` parses query integers the same way: ASCII digits within the range the API allows.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, Literal, TypeVar, get_args

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

from .hardware import ALL_FLAVOR_NAMES
from .records import JobSpec

MAX_SAFE_INT = 9007199254740991
MAX_SQLITE_INT = 2**63 - 1
MAX_DEPTH = 32
"""Deepest nesting of a JSON body (a webhook's ``job.volumes[0].source`` is five levels)."""
_EXACT_INT_DIGITS = 20  # longer integer literals cannot be in any range the API accepts

ENV_KEY = r"^[a-zA-Z][_a-zA-Z0-9]+$"
SECRET_KEY = r"^[a-zA-Z][_a-zA-Z0-9]*$"  # noqa: S105 (a name pattern, not a secret)
LABEL_KEY = r"^[a-zA-Z0-9._-]+$"
LABEL_VALUE = r"^[a-zA-Z0-9._-]*$"
SCHEDULE = r"^(?:(@(annually|yearly|monthly|weekly|daily|hourly))|((((\d+,)+\d+|((\*|\d+)(\/|-)\d+)|\d+|\*) ?){5,7}))$"
LABEL_FILTER = r"^[a-zA-Z0-9._-]+(=[a-zA-Z0-9._-]*)?$"

EnvKey = Annotated[str, StringConstraints(pattern=ENV_KEY)]
SecretKey = Annotated[str, StringConstraints(pattern=SECRET_KEY)]
LabelKey = Annotated[str, StringConstraints(pattern=LABEL_KEY, max_length=100)]
LabelValue = Annotated[str, StringConstraints(pattern=LABEL_VALUE, max_length=100)]
Port = Annotated[int, Field(ge=1, le=65535)]
Labels = dict[LabelKey, LabelValue]
FlavorName = Literal[
    "cpu-basic",
    "cpu-upgrade",
    "cpu-performance",
    "cpu-xl",
    "sprx8",
    "zero-a10g",
    "t4-small",
    "t4-medium",
    "l4x1",
    "l4x4",
    "l40sx1",
    "l40sx4",
    "l40sx8",
    "a10g-small",
    "a10g-large",
    "a10g-largex2",
    "a10g-largex4",
    "a100-large",
    "a100x4",
    "a100x8",
    "h200",
    "h200x2",
    "h200x4",
    "h200x8",
    "rtx-pro-6000",
    "rtx-pro-6000x2",
    "rtx-pro-6000x4",
    "rtx-pro-6000x8",
    "inf2x6",
]


class RequestError(ValueError):
    """A request the Hub would refuse; ``str(err)`` is the ``error`` of the 400 body."""


class _Model(BaseModel):
    # strict: no "5" for 5 nor 1 for "1"; the JSON types must be the schema's.
    model_config = ConfigDict(strict=True, extra="ignore")


class VolumeIn(_Model):
    type: Literal["bucket", "model", "dataset", "space"]
    source: str
    mountPath: Annotated[str, StringConstraints(pattern=r"^/.*")]
    revision: str | None = None
    readOnly: bool | None = None
    path: str | None = None


class ExposeIn(_Model):
    ports: Annotated[list[Port], Field(max_length=20)]
    portsPublic: Annotated[list[Port], Field(max_length=20)] = []

    @model_validator(mode="after")
    def _public_within_ports(self) -> ExposeIn:
        extra = [p for p in self.portsPublic if p not in self.ports]
        if extra:
            raise ValueError(f"portsPublic must be a subset of ports; not in ports: {extra}")
        return self


class SshIn(_Model):
    enabled: bool = False


class JobSpecIn(_Model):
    """``POST /api/jobs/{ns}`` and the ``jobSpec`` of a scheduled job."""

    spaceId: str | None = None
    dockerImage: str | None = None
    arguments: list[str] = []
    command: Annotated[list[Annotated[str, StringConstraints(min_length=1)]], Field(min_length=1)] | None = None
    environment: dict[EnvKey, str] = {}
    secrets: dict[SecretKey, str] = {}
    flavor: FlavorName
    arch: Literal["amd64", "arm64"] | None = None
    timeoutSeconds: Annotated[int, Field(gt=0, le=MAX_SAFE_INT)] | None = None
    attempts: Annotated[int, Field(ge=1, le=MAX_SAFE_INT)] = 1
    labels: Labels = {}
    volumes: Annotated[list[VolumeIn], Field(min_length=1)] | None = None
    expose: ExposeIn | None = None
    ssh: SshIn | None = None
    resourceGroupId: Annotated[str, StringConstraints(pattern=r"^[0-9a-fA-F]{24}$")] | None = None

    def to_spec(self) -> JobSpec:
        return JobSpec(
            flavor=self.flavor,
            command=list(self.command or []),
            arguments=list(self.arguments),
            environment=dict(self.environment),
            secrets=dict(self.secrets),
            docker_image=self.dockerImage,
            space_id=self.spaceId,
            timeout_seconds=self.timeoutSeconds,
            attempts=self.attempts,
            labels=dict(self.labels),
            volumes=[v.model_dump(exclude_none=True) for v in self.volumes or []],
            expose=None
            if self.expose is None
            else {"ports": self.expose.ports, "portsPublic": self.expose.portsPublic},
            ssh_enabled=bool(self.ssh and self.ssh.enabled),
            arch=self.arch,
            resource_group_id=self.resourceGroupId,
        )


class ScheduledJobIn(_Model):
    jobSpec: JobSpecIn
    schedule: Annotated[str, StringConstraints(pattern=SCHEDULE)]
    suspend: bool = False
    concurrency: bool = False


class ScheduleIn(_Model):
    schedule: Annotated[str, StringConstraints(pattern=SCHEDULE)]


class LabelsIn(_Model):
    labels: Labels


class WatchedIn(_Model):
    type: Literal["dataset", "model", "space", "bucket", "kernel", "user", "org"]
    name: str


class WebhookIn(_Model):
    watched: Annotated[list[WatchedIn], Field(min_length=1)]
    url: str | None = None
    job: JobSpecIn | None = None
    jobSourceId: str | None = None
    domains: Annotated[list[Literal["repo", "discussion"]], Field(min_length=1)]
    secret: Annotated[str, StringConstraints(pattern=r"^[\x20-\x7F]*$")] | None = None
    # Not in the Hub's schema, but huggingface_hub 2.4 sends it with jobSourceId (wire §13).
    secrets: dict[SecretKey, str] | None = None

    @model_validator(mode="after")
    def _one_target(self) -> WebhookIn:
        targets = [name for name in ("url", "job", "jobSourceId") if getattr(self, name) is not None]
        if len(targets) > 1:  # none is fine for an update (keeps the target); create checks it needs one
            raise ValueError("url, job and jobSourceId are mutually exclusive")
        if self.url is not None and not re.match(r"^https?://\S+$", self.url):
            raise ValueError("url must be an http(s) URL")
        return self


M = TypeVar("M", bound=BaseModel)


def _describe(err: ValidationError) -> str:
    parts = []
    for item in err.errors(include_url=False)[:5]:
        loc = ".".join(str(p) for p in item["loc"] if p != "[key]")
        msg = str(item["msg"]).removeprefix("Value error, ")
        parts.append(f"{loc}: {msg}" if loc else msg)
    return "; ".join(parts)


def _json_int(literal: str) -> int | float:
    # Python parses a 5,000-digit literal only to refuse it (a ValueError naming no field); JavaScript, the
    # Hub's runtime, reads it as a float. So does this, and the schema then names the field.
    return int(literal) if len(literal.lstrip("-")) <= _EXACT_INT_DIGITS else float(literal)


def _not_json(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _check_tree(data: Any) -> None:
    """RequestError if ``data`` nests deeper than MAX_DEPTH or holds a string that is not valid Unicode."""
    stack: list[tuple[Any, int, str]] = [(data, 0, "")]
    while stack:
        node, depth, where = stack.pop()
        if isinstance(node, str):
            try:
                node.encode("utf-8")
            except UnicodeEncodeError:
                raise RequestError(
                    f"{where or 'body'}: a string holds a lone surrogate escape (like \\ud800): not valid Unicode"
                ) from None
            continue
        if not isinstance(node, dict | list):
            continue
        if depth >= MAX_DEPTH:
            raise RequestError(f"Invalid JSON body: nested more than {MAX_DEPTH} levels deep")
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, value in items:
            path = f"{where}.{key}" if where else str(key)
            if isinstance(key, str):
                stack.append((key, depth + 1, path))
            stack.append((value, depth + 1, path))


def load_json(raw: bytes) -> Any:
    """The JSON value of a request body, within the limits above; :class:`RequestError` otherwise."""
    try:
        data: Any = json.loads(raw or b"null", parse_int=_json_int, parse_constant=_not_json)
    except RecursionError:
        raise RequestError(f"Invalid JSON body: nested more than {MAX_DEPTH} levels deep") from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, NaN and Infinity
        raise RequestError(f"Invalid JSON body: {exc}") from None
    _check_tree(data)
    return data


def parse(model: type[M], raw: bytes) -> M:
    """Validate a JSON request body against ``model``; :class:`RequestError` names what is wrong."""
    data = load_json(raw)
    if not isinstance(data, dict):
        raise RequestError("The request body must be a JSON object")
    try:
        return model.model_validate(data, strict=True)
    except ValidationError as exc:
        raise RequestError(_describe(exc)) from None


def whole_number(name: str, raw: str, *, maximum: int, hint: str | None = None) -> int:
    """A query parameter holding an integer from 0 to ``maximum``, in ASCII digits; :class:`RequestError` otherwise.

    ``str.isdigit`` alone accepts ``"²"``, which ``int`` then refuses, and ``int`` takes thousands of digits
    that no store column holds: both used to be 500s.
    """
    digits = raw.lstrip("0") or "0"
    if raw.isascii() and raw.isdigit() and len(digits) <= len(str(maximum)) and int(digits) <= maximum:
        return int(digits)
    shown = raw if len(raw) <= 40 else raw[:40] + "..."
    raise RequestError(hint or f"{name}: must be a whole number from 0 to {maximum}, got {shown!r}")


def check_label_filter(value: str) -> tuple[str, str | None]:
    """A ``label`` query value, ``key=value`` (or ``key``: the key is present) -> (key, value or None)."""
    if not re.match(LABEL_FILTER, value):
        raise RequestError(f"label: {value!r} must look like key=value (letters, digits, '.', '_', '-')")
    key, sep, val = value.partition("=")
    return key, (val if sep else None)


assert set(ALL_FLAVOR_NAMES) == set(get_args(FlavorName))  # the two lists must not drift
