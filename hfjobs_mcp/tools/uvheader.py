"""A UV script's ``[tool.hf-jobs]`` table: the launch settings it carries, merged as ``hf jobs uv run`` merges them.

huggingface_hub 2.4's CLI reads the PEP 723 ``# /// script`` block of the script it runs; its ``[tool.hf-jobs]``
table may set ``image, flavor, python, timeout, name, namespace, env, secrets (names), labels, volumes`` (and
network settings). The table is parsed by huggingface_hub's own parser (same keys, same type checks, same
errors), imported only when a script mentions ``hf-jobs``. The merge rules are the CLI's (wire-protocol.md §8.2):
an argument the agent gave wins; ``env``, ``labels`` and ``secrets`` merge entry by entry, ``volumes`` by mount
path; the table's ``name`` is the ``name`` label. The merged arguments are validated by the tool's own model, so a
value from the script is checked exactly like one from the agent, and secrets it names go through the same
consent. A local folder among its volumes is uploaded (stdio only), as the CLI syncs it.

This server has no network groups: a table that sets ``network_group`` or ``network_aliases`` is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from hfjobs_mcp.errors import InvalidRequestError
from hfjobs_mcp.tools.arguments import shown
from hfjobs_mcp.tools.uploads import UploadSet

TABLE = "[tool.hf-jobs]"
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Header:
    """The table's values (huggingface_hub's ``UvScriptHeader``, as plain data)."""

    image: str | None = None
    flavor: str | None = None
    python: str | None = None
    timeout: str | None = None
    name: str | None = None
    namespace: str | None = None
    network_group: str | None = None
    env: dict[str, str] | None = None
    secrets: list[str] | None = None
    labels: dict[str, str] | None = None
    volumes: list[str] | None = None
    network_aliases: list[str] | None = None


def read_header(source: bytes) -> Header | None:
    """The script's ``[tool.hf-jobs]`` table, or None; :class:`InvalidRequestError` for a malformed one."""
    text = source.decode("utf-8", errors="replace")
    if "hf-jobs" not in text:  # huggingface_hub's own pre-check: most scripts never need the parser
        return None
    # huggingface_hub only for a script that has the table (start-up time: about half a second)
    from huggingface_hub.cli._uv_script_header import parse_uv_script_header
    from huggingface_hub.errors import CLIError

    try:
        parsed = parse_uv_script_header(text)
    except CLIError as exc:
        raise InvalidRequestError(
            f"the script's {TABLE} table: {exc}; nothing was sent", hint="fix the table in the script's header"
        ) from None
    if parsed is None:
        return None
    return Header(**{k: getattr(parsed, k) for k in Header.__dataclass_fields__})


def _split_mount(spec: str) -> tuple[str, str | None, bool | None]:
    """``SOURCE:/MOUNT[:ro|:rw]`` as ``(source, mount, read_only)``, split as huggingface_hub splits it."""
    read_only: bool | None = None
    if spec.endswith(":ro"):
        read_only, spec = True, spec[:-3]
    elif spec.endswith(":rw"):
        read_only, spec = False, spec[:-3]
    at = spec.rfind(":/")
    if at <= 0:
        return spec, None, read_only
    return spec[:at], spec[at + 1 :], read_only


def _hub_volume(spec: str) -> dict[str, Any]:
    # huggingface_hub only for a table with volumes (start-up time)
    from huggingface_hub.errors import HfUriError
    from huggingface_hub.utils import parse_hf_mount

    try:
        mount = parse_hf_mount(spec)
    except HfUriError as exc:
        raise InvalidRequestError(
            f"the script's {TABLE} volume {shown(spec)}: {exc.msg}; nothing was sent",
            hint="use hf://[TYPE/]SOURCE[/PATH]:/MOUNT_PATH[:ro], e.g. hf://buckets/alice/data:/mnt",
        ) from None
    volume: dict[str, Any] = {"type": mount.source.type, "source": mount.source.id, "mount_path": mount.mount_path}
    if mount.source.revision:
        volume["revision"] = mount.source.revision
    if mount.read_only is not None:
        volume["read_only"] = mount.read_only
    if mount.source.path_in_repo:
        volume["path"] = mount.source.path_in_repo
    return volume


def apply_header(args: M, header: Header, *, local_files: bool, uploads: UploadSet) -> tuple[M, tuple[str, ...]]:
    """``args`` with the table's values merged in (the agent's win), validated by ``args``' own model; and what
    came from the table (``flavor``, ``env.WANDB_PROJECT``...), for the user to see."""
    if header.network_group or header.network_aliases:
        raise InvalidRequestError(
            f"the script's {TABLE} table sets network_group/network_aliases, which this server does not support; "
            "nothing was sent",
            hint="remove those keys from the table (or run the script with `hf jobs uv run`)",
        )
    given = args.model_fields_set
    data: dict[str, Any] = args.model_dump(exclude_unset=True)
    came: list[str] = []
    for key in ("image", "flavor", "python", "timeout", "namespace"):
        value = getattr(header, key)
        if key not in given and value is not None:
            data[key] = value
            came.append(key)

    env = dict(getattr(args, "env", {}))
    script_env = {k: v for k, v in (header.env or {}).items() if k not in env}
    if script_env:
        data["env"] = {**script_env, **env}
        came += [f"env.{k}" for k in script_env]

    secrets = list(getattr(args, "secrets", []))
    script_secrets = [s for s in (header.secrets or []) if s not in secrets]
    if script_secrets:
        data["secrets"] = [*script_secrets, *secrets]
        came += [f"secrets.{s}" for s in script_secrets]

    labels = dict(getattr(args, "labels", {}))
    script_labels = {**(header.labels or {}), **({"name": header.name} if header.name is not None else {})}
    named = getattr(args, "name", None) is not None or "name" in labels
    script_labels = {k: v for k, v in script_labels.items() if k not in labels and not (k == "name" and named)}
    if script_labels:
        data["labels"] = {**script_labels, **labels}
        came += [f"labels.{k}" for k in script_labels]

    volumes = [v.model_dump(exclude_none=True) for v in getattr(args, "volumes", [])]
    taken = {v["mount_path"] for v in volumes}
    script_volumes: list[dict[str, Any]] = []
    for spec in header.volumes or []:
        if spec.startswith("hf://"):
            volume = _hub_volume(spec)
            if volume["mount_path"] not in taken:
                script_volumes.append(volume)
                came.append(f"volumes.{spec}")
            continue
        source, mount, read_only = _split_mount(spec)
        if mount is None:
            raise InvalidRequestError(
                f"the script's {TABLE} volume {shown(spec)} has no mount path; nothing was sent",
                hint="use LOCAL_DIR:/MOUNT_PATH[:ro|:rw] or hf://...:/MOUNT_PATH",
            )
        if mount in taken:
            continue
        if not local_files:
            raise InvalidRequestError(
                f"the script's {TABLE} volume {shown(spec)} is a local folder, which can only be uploaded when the "
                "server runs over stdio on your machine; nothing was sent",
                hint="mount an hf:// bucket or repo instead, or pass its files in `files`",
            )
        uploads.add_folder_volume(Path(source), mount, read_only=True if read_only is None else read_only)
        taken.add(mount)
        came.append(f"volumes.{spec}")
    if script_volumes:
        data["volumes"] = [*script_volumes, *volumes]

    try:
        merged = type(args).model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {str(e['msg']).removeprefix('Value error, ')}"
            for e in exc.errors(include_url=False)
        )
        raise InvalidRequestError(
            f"the script's {TABLE} table sets a value this server refuses ({problems}); nothing was sent",
            hint="fix the table in the script's header, or pass that argument yourself (an argument wins)",
        ) from None
    return merged, tuple(came)
