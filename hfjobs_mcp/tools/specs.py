"""From validated tool arguments to the job spec that is sent, its price, and the request the policy reviews.

Run and schedule tools share this path (their plan phase), so a dry run shows exactly what a real call would send
(secret values masked) and a real call sends exactly what the dry run showed. Secret names are checked and their
values resolved here, on the server's side, while planning: a missing secret is reported before the user is
asked anything, and every resolved value joins the redactor at once, so nothing the server returns can show it.
"""

from __future__ import annotations

import difflib
import shlex
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import pairwise
from typing import Any, Protocol

from pydantic import Field

from hfjobs_mcp.api import HUB_FLAVORS, SUBMISSION_LABEL, SUBMISSION_MARK_SHOWN, JobSpec, Volume
from hfjobs_mcp.api.artifacts import ARTIFACTS_MOUNT, PENDING_FOLDER
from hfjobs_mcp.api.models import VolumeInfo
from hfjobs_mcp.errors import InvalidRequestError, MissingSecretsError
from hfjobs_mcp.policy.pricing import PRICES, RunPrice, price_run
from hfjobs_mcp.policy.request import Request, ScriptFacts, VolumeFacts
from hfjobs_mcp.policy.review import Review, review
from hfjobs_mcp.policy.shapes import MASK, MIN_SECRET_LENGTH, value_looks_secret
from hfjobs_mcp.policy.sources import check_names, check_policy
from hfjobs_mcp.tools.args import CommonSpecArgs, VolumeArg
from hfjobs_mcp.tools.base import PlanContext, ToolContext, View
from hfjobs_mcp.tools.uploads import Uploads, UploadSet, artifacts_bucket, send_uploads, with_folder

_SECRET_WORDS = {"TOKEN", "SECRET", "PASSWORD", "PASSWD", "APIKEY", "CREDENTIALS", "CREDENTIAL"}
_SECRET_PAIRS = {("API", "KEY"), ("ACCESS", "KEY"), ("SECRET", "KEY"), ("PRIVATE", "KEY"), ("AUTH", "KEY")}


def named_like_a_secret(key: str) -> bool:
    """``HF_TOKEN``, ``WANDB_API_KEY``, ``DB_PASSWORD``...: the name says the value is a credential.

    Whole words only (split on ``_``), so ``TOKENIZER_NAME`` or ``MAX_TOKENS`` are not.
    """
    words = [w for w in key.upper().replace("-", "_").split("_") if w]
    return any(w in _SECRET_WORDS for w in words) or any(pair in _SECRET_PAIRS for pair in pairwise(words))


def check_env_values(env: dict[str, str]) -> None:
    """Refuse ``env`` entries that carry a credential: they belong in ``secrets``, by name. Nothing is echoed.

    A value is refused when it looks like a credential (:func:`value_looks_secret`), or when its name says it is
    one and it is long enough to be (a 40-digit W&B key looks like a commit id; ``WANDB_API_KEY`` says what it is).
    A key that itself looks like a credential is refused without being named.
    """
    for i, (key, value) in enumerate(env.items()):
        if value_looks_secret(key) is not None:
            raise InvalidRequestError(
                f"the key of env entry #{i + 1} looks like a credential, not a variable name; nothing was sent",
                hint="env keys are variable names; pass credentials by NAME in `secrets`",
            )
        shape = value_looks_secret(value)
        if shape is None and named_like_a_secret(key) and len(value) >= MIN_SECRET_LENGTH:
            shape = f"a credential (its name, {key}, says so)"
        if shape is not None:
            raise InvalidRequestError(
                f"env[{key!r}] looks like {shape}; plain env values are stored and shown in clear; nothing was sent",
                hint=f"set it as an environment variable of the server and pass its NAME in `secrets` (e.g. {key})",
            )


def build_spec(
    args: CommonSpecArgs,
    *,
    image: str,
    command: list[str],
    secret_values: dict[str, str] | None = None,
    default_name: str | None = None,
    extra_volumes: list[Volume] | None = None,
) -> JobSpec:
    """The client's :class:`JobSpec` for these arguments; the client validates what the server would reject.

    ``extra_volumes`` (the folders uploaded for the job) come after the ones asked for, as huggingface_hub adds them.
    """
    check_env_values(args.env)
    return JobSpec(
        image=image,
        command=command,
        env=dict(args.env),
        secrets=secret_values or {},
        flavor=args.flavor,
        timeout=args.timeout,
        labels=dict(args.labels),
        volumes=[
            Volume(
                type=v.type,
                source=v.source,
                mount_path=v.mount_path,
                revision=v.revision,
                read_only=v.read_only,
                path=v.path,
            )
            for v in args.volumes
        ]
        + list(extra_volumes or []),
        expose=list(args.expose),
        name=args.name or (None if "name" in args.labels else default_name),
        attempts=args.attempts,
    )


def masked_payload(spec: JobSpec) -> dict[str, Any]:
    """The wire body as it will be sent, with every secret value replaced by the mask.

    The submission label (it lets a retry find the job instead of starting another) is shown too; its value is made
    when the request is really sent, as is the name of the folder the job's files are uploaded to.
    """
    body = spec.to_wire()
    body["labels"] = {**body.get("labels", {}), SUBMISSION_LABEL: SUBMISSION_MARK_SHOWN}
    if body.get("secrets"):
        body["secrets"] = dict.fromkeys(body["secrets"], MASK)
    return body


class _StoredSpec(Protocol):
    """What a stored job, or a scheduled job's spec, says it runs (JobInfo and ScheduledJobSpec both do)."""

    docker_image: str | None
    space_id: str | None
    command: list[str]
    arguments: list[str]


def what_runs(spec: _StoredSpec) -> str:
    """A stored job's image (or Space) and command line, as the question shows it."""
    return f"{spec.docker_image or spec.space_id}: {shlex.join([*spec.command, *spec.arguments])}"


def volume_facts(volumes: Iterable[VolumeArg] | Iterable[VolumeInfo] | Iterable[Volume]) -> tuple[VolumeFacts, ...]:
    """Volumes as the question shows them, from a request's arguments or a stored job's volumes: a bucket is
    read-write unless it says otherwise, repos are read-only."""
    return tuple(
        VolumeFacts(
            type=v.type,
            source=v.source,
            mount_path=v.mount_path,
            read_only=bool(v.read_only) if v.type == "bucket" else True,
            revision=v.revision,
        )
        for v in volumes
    )


class Cost(View):
    """What a run can cost at most."""

    flavor: str
    price_per_hour_usd: float | None = Field(description="None when the flavor's price is unknown.")
    timeout_seconds: int = Field(description="The run's timeout; 1800 (server default) when none was given.")
    attempts: int = Field(default=1, description="Attempts the run may take; each can last the whole timeout.")
    ceiling_usd: float | None = Field(description="price per hour x timeout x attempts: the most one run can cost.")
    needs_approval: list[str] = Field(
        default_factory=list,
        description="Dry run: why a real call would need the user's yes (secrets, price, budget, namespace).",
    )

    @classmethod
    def of(cls, price: RunPrice, *, needs_approval: list[str] | None = None) -> Cost:
        return cls(
            flavor=price.flavor,
            price_per_hour_usd=price.price_per_hour,
            timeout_seconds=price.timeout_seconds,
            attempts=price.attempts,
            ceiling_usd=price.ceiling_usd,
            needs_approval=needs_approval or [],
        )


async def check_flavor(ctx: PlanContext, flavor: str) -> None:
    """Refuse a flavor neither the hardware list nor the Hub's request schema has, naming the closest valid one.

    A flavor the Hub accepts but does not list (``sprx8``, ``zero-a10g``, ``inf2x6``) goes through with an unknown
    price, which the price gate treats as above any threshold.
    """
    flavors = await PRICES.flavors(ctx.reader)
    names = list(dict.fromkeys([*(f.name for f in flavors), *HUB_FLAVORS]))
    if flavor not in names:
        close = difflib.get_close_matches(flavor.lower(), names, n=1, cutoff=0.6)
        guess = f"did you mean {close[0]!r}? " if close else ""
        raise InvalidRequestError(
            f"unknown hardware flavor {flavor!r}",
            hint=f"{guess}use one of: {', '.join(f.name for f in flavors)} (see list_hardware for prices)",
        )


async def secret_values_for(ctx: PlanContext, entries: list[str], *, dry_run: bool) -> dict[str, str]:
    """``name -> value`` for the secrets named (masked on a dry run, which never looks values up)."""
    names = check_names(entries)
    if not names:
        return {}
    check_policy(names, policy=ctx.settings.secrets_policy, allowed=ctx.settings.allow_secrets)
    if dry_run:
        return dict.fromkeys(names, MASK)
    try:
        values = ctx.sources.resolve(names)
    except MissingSecretsError as exc:  # say which entries, by position: an entry with no value is never repeated
        raise MissingSecretsError(exc.names, [i for i, e in enumerate(entries) if e in exc.names]) from None
    ctx.redactor.add(values.values())
    return values


async def review_request(ctx: PlanContext, request: Request) -> Review:
    """The policy's review of ``request`` on this server (hard caps raise)."""
    default = await ctx.default_namespace(request.namespace)
    return await review(request, settings=ctx.settings, source=ctx.reader, default_namespace=default)


@dataclass
class SpecPlan:
    """A run or schedule request checked, priced and reviewed: the payload its execute phase sends."""

    namespace: str
    secret_values: dict[str, str]
    spec: JobSpec
    cost: Cost
    request: Request
    review: Review
    uploads: Uploads | None = None
    """The files to upload before the job is created (only once the request is approved)."""


def check_artifacts_mount(args: CommonSpecArgs, uploads: UploadSet) -> None:
    """Uploaded files are mounted at /data; a volume of the request there is refused, as huggingface_hub does."""
    mounts = uploads.mount_paths()
    clash = sorted({v.mount_path for v in args.volumes} & set(mounts)) or sorted(
        {m for m in mounts if mounts.count(m) > 1}
    )
    if clash:
        raise InvalidRequestError(
            f"mount path {clash[0]!r} is where this job's uploaded files are mounted; nothing was sent",
            hint="mount your volume at another path (e.g. /mnt), or read its data from there",
        )


async def plan_spec(
    ctx: PlanContext,
    args: CommonSpecArgs,
    *,
    tool: str,
    action: str,
    runs: str,
    image: str,
    command: list[str],
    schedule: str | None = None,
    script: ScriptFacts | None = None,
    uploads: UploadSet | None = None,
    **spec_kw: Any,
) -> SpecPlan:
    """Everything run and schedule tools do before sending: secrets, spec, price, review.

    On a dry run the cost also says what a real call would need approved.
    """
    # A dry run needs no token: it sends nothing, and prices come from the hardware list, which needs none.
    tokenless_dry_run = args.dry_run and not ctx.reader.has_token
    namespace = args.namespace or (NO_TOKEN_NAMESPACE if tokenless_dry_run else await ctx.reader.namespace())
    planned = None
    if uploads:
        check_artifacts_mount(args, uploads)
        planned = uploads.build(artifacts_bucket(namespace))
    secret_values = await secret_values_for(ctx, list(args.secrets), dry_run=args.dry_run)
    extra = planned.volumes() if planned else []
    spec = build_spec(args, image=image, command=command, secret_values=secret_values, extra_volumes=extra, **spec_kw)
    await check_flavor(ctx, spec.flavor)
    price = await price_run(
        ctx.reader, flavor=spec.flavor, timeout_seconds=spec.timeout_seconds, attempts=args.attempts, ports=args.expose
    )
    request = Request(
        tool=tool,
        action=action,
        namespace=namespace,
        runs=runs,
        price=price,
        schedule=schedule,
        secrets=tuple(secret_values),
        ports=tuple(args.expose),
        volumes=volume_facts(spec.volumes),
        uploads=planned.facts() if planned else (),
        upload_bucket=planned.bucket_id if planned else None,
        script=script,
    )
    if tokenless_dry_run:  # the namespace's spend cannot be read without a token: the budget is left out
        no_budget = ctx.settings.model_copy(update={"budget": None, "max_spend_per_day": None})
        reviewed = await review(request, settings=no_budget, source=ctx.reader, default_namespace=namespace)
    else:
        reviewed = await review_request(ctx, request)
    cost = Cost.of(price, needs_approval=list(reviewed.reasons) if args.dry_run else None)
    return SpecPlan(namespace, secret_values, spec, cost, request, reviewed, planned)


NO_TOKEN_NAMESPACE = "(your user: no token found yet)"  # noqa: S105 (a placeholder namespace, not a secret)


class ScriptView(View):
    """A UV job's script as a dry run shows it: how it was given, size, sha256, first lines."""

    origin: str
    size: int | None
    sha256: str | None
    first_lines: list[str]

    @classmethod
    def of(cls, facts: ScriptFacts | None) -> ScriptView | None:
        if facts is None:
            return None
        return cls(origin=facts.origin, size=facts.size, sha256=facts.sha256, first_lines=list(facts.head))

    def render(self) -> str:
        size = "" if self.size is None else f", {self.size} bytes, sha256 {self.sha256}"
        return "\n".join([f"script: {self.origin}{size}", *(f"  | {line}" for line in self.first_lines)])


MAX_SHOWN_UPLOADS = 200
OUTPUTS_HINT = f"write outputs under {ARTIFACTS_MOUNT}/outputs to read them back with read_job_file"


class UploadedFile(View):
    path: str = Field(description="Where the job finds it.")
    size: int
    sha256: str
    origin: str


class UploadsView(View):
    """The files uploaded for a job (a dry run: that would be), and where: the bucket and its new folder; on a dry
    run, the script's first lines too."""

    bucket: str
    folder: str = Field(description="The upload folder in the bucket (named at upload).")
    files: list[UploadedFile]
    more: int = Field(default=0, description="Files not listed here.")
    notes: list[str] = Field(default_factory=list)
    script: ScriptView | None = Field(default=None, description="Dry run: the script (first lines).")

    @classmethod
    def of(
        cls, uploads: Uploads | None, folder: str = PENDING_FOLDER, *, script: ScriptFacts | None = None
    ) -> UploadsView | None:
        if uploads is None:
            return None
        facts = uploads.facts()
        return cls(
            script=ScriptView.of(script),
            bucket=uploads.bucket_id,
            folder=folder,
            files=[UploadedFile(path=f.path, size=f.size, sha256=f.sha256, origin=f.origin) for f in facts][
                :MAX_SHOWN_UPLOADS
            ],
            more=max(0, len(facts) - MAX_SHOWN_UPLOADS),
            notes=list(uploads.notes),
        )

    def render(self) -> str:
        total = sum(f.size for f in self.files)
        lines = [self.script.render()] if self.script else []
        lines += [f"uploads to bucket {self.bucket}, folder {self.folder} ({len(self.files) + self.more} file(s)):"]
        lines += [f"  {f.path}: {f.size} bytes, sha256 {f.sha256} ({f.origin})" for f in self.files]
        if self.more:
            lines.append(f"  … and {self.more} more file(s) ({total} bytes listed)")
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)


async def sent_spec(ready: SpecPlan, ctx: ToolContext) -> tuple[JobSpec, UploadsView | None]:
    """The spec to send, once the request's files are uploaded (only now: the request was approved)."""
    if ready.uploads is None:
        return ready.spec, None
    folder = await send_uploads(ready.uploads, ctx.client)
    return with_folder(ready.spec, folder), UploadsView.of(ready.uploads, folder)
