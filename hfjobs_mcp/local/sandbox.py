"""A bubblewrap sandbox per job: what a job can see of this machine, and as whom it runs.

Inside, a job has its own mount, PID, IPC and UTS namespaces (``bwrap --unshare-pid ...``) built from
an empty root: the system folders (``/usr``, ``/etc`` and the ``/bin``-style links) read-only, the
Python/uv toolchain the backend provides (its environment and base interpreter, read-only, at their
own paths so ``python`` and ``uv`` resolve as they do outside), its own ``/jobs/<id>/{work,home,tmp}``
(``/tmp`` is the same folder), the namespace's uv cache, a fresh ``/proc`` and a minimal ``/dev``, and
its volumes. Nothing of the state folder (``state.db``, ``backend.json``, other jobs), of the user's
home, or of any other process (the backend's ``/proc/<pid>/environ`` included) is there. The network
is shared, so exposed ports are ports of this machine.

As whom: a backend run by a normal user runs jobs as that user in a user namespace. A backend run as
root (CI, containers) drops each job to ``nobody`` (65534) with ``setpriv`` after bubblewrap has made
the mounts, with no capabilities and ``no_new_privs``, so a job cannot read root-only files of the
read-only system either; the folders a job writes are handed to that uid.

Where no sandbox can be made (no ``bwrap``, user namespaces disabled), the backend says why once at
start (``Sandbox.status``) and every job's banner says it too; jobs then run as plain processes.
``mode`` ``"off"`` never sandboxes, ``"require"`` fails jobs rather than running them unsandboxed.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

log = logging.getLogger("hfjobs_mcp.local.sandbox")

SandboxMode = Literal["auto", "off", "require"]
SANDBOX_MODES: tuple[str, ...] = ("auto", "off", "require")

JOB_UID = 65534
"""``nobody``: the uid jobs run as when the backend itself runs as root."""

SYSTEM_DIRS = ("/usr", "/etc")
SYSTEM_LINKS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
UV_CACHE_PATH = "/var/cache/uv"
SANDBOX_TMP = "/tmp"  # noqa: S108 (the job's own /tmp inside the sandbox, bound to its private folder)
SANDBOX_VAR_TMP = "/var/tmp"  # noqa: S108 (likewise, a link to it)
_SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass(frozen=True)
class Bind:
    """A host folder or file made visible at ``target`` inside the sandbox."""

    source: str
    target: str
    writable: bool = False


@dataclass(frozen=True)
class Link:
    """A symbolic link at ``path`` inside the sandbox pointing to ``points_to`` (a sandbox path)."""

    path: str
    points_to: str


@dataclass(frozen=True)
class JobView:
    """The paths a job sees for its own folders (``HOME``, ``TMPDIR``, the working folder, the uv cache)."""

    work: str
    home: str
    tmp: str
    uv_cache: str


@dataclass
class Launch:
    """How to start one run of a job: argv, working folder and inherited descriptors; ``close()`` after spawning."""

    argv: list[str]
    cwd: str
    pass_fds: tuple[int, ...] = ()
    _owned: list[int] = field(default_factory=list)

    def close(self) -> None:
        for fd in self._owned:
            with contextlib.suppress(OSError):
                os.close(fd)
        self._owned.clear()


@dataclass(frozen=True)
class SandboxStatus:
    """Whether jobs are sandboxed; ``detail`` says how, or why not (and what to do about it)."""

    enabled: bool
    detail: str

    def banner_note(self) -> str:
        if self.enabled:
            return "in a sandbox"
        return f"WITHOUT a sandbox ({self.detail})"


def _sandbox_view(job_id: str) -> JobView:
    root = f"/jobs/{job_id}"
    return JobView(work=f"{root}/work", home=f"{root}/home", tmp=f"{root}/tmp", uv_cache=UV_CACHE_PATH)  # noqa: S108


def _which(name: str) -> str | None:
    return shutil.which(name) or shutil.which(name, path=_SYSTEM_PATH)


def product_bin_dir() -> str:
    """The ``bin`` folder of the Python environment running the backend (holds ``python`` and ``uv``), with the
    folders on its way resolved: the sandbox binds real paths, so a venv reached through a linked folder (a
    ``pytest-current`` link, ``~/venvs`` pointing elsewhere) must be named by its real path for ``python`` to be
    found in a job. The interpreter file itself is not resolved: it is the venv's, not its base's."""
    return os.path.realpath(os.path.dirname(sys.executable))


def toolchain_paths() -> list[str]:
    """Folders holding the Python/uv toolchain the backend gives jobs: its environment and base interpreter."""
    candidates = [sys.prefix, sys.base_prefix, os.path.dirname(os.path.dirname(os.path.realpath(sys.executable)))]
    uv = shutil.which("uv", path=product_bin_dir())
    if uv:
        candidates.append(os.path.dirname(os.path.dirname(os.path.realpath(uv))))
    return _outermost(os.path.realpath(c) for c in candidates)


def _outermost(paths: Iterable[str]) -> list[str]:
    """Distinct paths, dropping those inside another one or inside the system folders (already there)."""
    out: list[str] = []
    for path in sorted(set(paths), key=len):
        if path in ("/", "") or any(_inside(path, p) for p in (*SYSTEM_DIRS, *out)):
            continue
        out.append(path)
    return out


def _inside(path: str, parent: str) -> bool:
    return path == parent or path.startswith(parent.rstrip("/") + "/")


class Sandbox:
    """Builds the bubblewrap command line of a job run and knows whether one can be made on this machine."""

    def __init__(self, *, state_dir: Path, mode: SandboxMode = "auto") -> None:
        self.state_dir = Path(state_dir)
        self.mode: SandboxMode = mode
        self.as_root = os.geteuid() == 0
        self.bwrap = _which("bwrap")
        self.setpriv = _which("setpriv") if self.as_root else None
        self.toolchain = toolchain_paths()
        self.status = self._probe()

    @property
    def enabled(self) -> bool:
        return self.status.enabled

    @property
    def job_uid(self) -> int | None:
        """The uid a sandboxed job runs as when it differs from the backend's (root backends), else None."""
        return JOB_UID if self.as_root and self.enabled else None

    # Probing

    def _probe(self) -> SandboxStatus:
        if self.mode == "off":
            return SandboxStatus(False, "the sandbox is turned off (--sandbox off)")
        if self.bwrap is None:
            return SandboxStatus(
                False, "bubblewrap is not installed: `apt-get install bubblewrap` (or your system's bubblewrap package)"
            )
        if self.as_root and self.setpriv is None:
            return SandboxStatus(False, "the backend runs as root and `setpriv` (util-linux) is missing to drop a job")
        state = os.path.realpath(self.state_dir)
        for path in self.toolchain:
            if _inside(state, path):
                return SandboxStatus(
                    False, f"the state folder {state} lies inside the Python environment {path} jobs must see"
                )
        with tempfile.TemporaryDirectory(prefix="hfjobs-sandbox-probe-") as tmp:
            view_root = Path(tmp)
            for sub in ("work", "home", "tmp", "uv"):
                (view_root / sub).mkdir()
            if self.as_root:
                for sub in ("work", "home", "tmp", "uv"):
                    os.chown(view_root / sub, JOB_UID, JOB_UID)
            launch = self._launch(
                ["python", "-c", "pass"],
                job_id="probe",
                host_dirs=(view_root / "work", view_root / "home", view_root / "tmp"),
                uv_cache=view_root / "uv",
                binds=(),
                links=(),
            )
            env = {"PATH": f"{product_bin_dir()}:{_SYSTEM_PATH}", "LANG": "C.UTF-8"}
            try:
                done = subprocess.run(
                    launch.argv,
                    pass_fds=launch.pass_fds,
                    cwd=launch.cwd,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                    timeout=30,
                    check=False,
                )
            except (OSError, subprocess.SubprocessError) as exc:
                return SandboxStatus(False, f"bubblewrap could not be started: {exc}")
            finally:
                launch.close()
        if done.returncode != 0:
            why = done.stderr.decode(errors="replace").strip().splitlines()
            reason = why[-1] if why else f"exit code {done.returncode}"
            return SandboxStatus(
                False,
                f"bubblewrap cannot make a sandbox here ({reason}); unprivileged user namespaces may be disabled "
                "(sysctl kernel.unprivileged_userns_clone=1, or kernel.apparmor_restrict_unprivileged_userns=0)",
            )
        who = f"as uid {JOB_UID} (nobody)" if self.as_root else "as this user, in a user namespace"
        return SandboxStatus(True, f"bubblewrap {self.bwrap}: own mount and PID namespaces, system read-only, {who}")

    # Command lines

    def view(self, job_id: str, host_dirs: tuple[Path, Path, Path], uv_cache: Path) -> JobView:
        """The paths the job sees: sandbox paths when sandboxed, the host folders otherwise."""
        work, home, tmp = host_dirs
        if not self.enabled:
            return JobView(work=str(work), home=str(home), tmp=str(tmp), uv_cache=str(uv_cache))
        return _sandbox_view(job_id)

    def launch(
        self,
        argv: Sequence[str],
        *,
        job_id: str,
        host_dirs: tuple[Path, Path, Path],
        uv_cache: Path,
        binds: Sequence[Bind] = (),
        links: Sequence[Link] = (),
    ) -> Launch:
        """How to start ``argv`` for a job: inside bubblewrap when enabled, else as is in the host work folder."""
        if not self.enabled:
            return Launch(argv=list(argv), cwd=str(host_dirs[0]))
        return self._launch(argv, job_id=job_id, host_dirs=host_dirs, uv_cache=uv_cache, binds=binds, links=links)

    def _launch(
        self,
        argv: Sequence[str],
        *,
        job_id: str,
        host_dirs: tuple[Path, Path, Path],
        uv_cache: Path,
        binds: Sequence[Bind],
        links: Sequence[Link],
    ) -> Launch:
        assert self.bwrap is not None
        view = _sandbox_view(job_id)
        work, home, tmp = host_dirs
        args: list[str] = ["--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"]
        args += ["--die-with-parent", "--hostname", "job"]
        if self.as_root:
            # Mounts are made as root; the job itself is dropped to JOB_UID by setpriv (below).
            args += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
            args += ["--cap-add", "CAP_SETPCAP"]
        else:
            args += ["--unshare-user", "--cap-drop", "ALL"]
        for path in SYSTEM_DIRS:
            if os.path.isdir(path):
                args += ["--ro-bind", path, path]
        for path in SYSTEM_LINKS:
            if os.path.islink(path):
                args += ["--symlink", os.readlink(path), path]
            elif os.path.isdir(path):
                args += ["--ro-bind", path, path]
        resolv = os.path.realpath("/etc/resolv.conf")
        if os.path.exists(resolv) and not any(_inside(resolv, p) for p in SYSTEM_DIRS):
            args += ["--ro-bind", resolv, resolv]  # e.g. systemd-resolved's stub under /run
        made: set[str] = set()

        def parents(path: str) -> list[str]:
            # bubblewrap makes missing parents owner-only (0700); a job dropped to another uid could not pass them.
            out: list[str] = []
            parent = os.path.dirname(path)
            chain: list[str] = []
            while parent not in ("", "/") and parent not in made:
                chain.append(parent)
                parent = os.path.dirname(parent)
            for p in reversed(chain):
                made.add(p)
                out += ["--perms", "0755", "--dir", p]
            return out

        args += ["--proc", "/proc", "--dev", "/dev"]
        for source, target in ((work, view.work), (home, view.home), (tmp, view.tmp)):
            args += [*parents(target), "--bind", str(source), target]
        args += ["--bind", str(tmp), SANDBOX_TMP, *parents(SANDBOX_VAR_TMP), "--symlink", SANDBOX_TMP, SANDBOX_VAR_TMP]
        args += [*parents(view.uv_cache), "--bind", str(uv_cache), view.uv_cache]
        # After /tmp: a Python environment under /tmp (a throwaway `uv tool install`, a CI checkout) would be
        # hidden by the job's own /tmp mounted over it, and `python` would not be found.
        for path in self.toolchain:
            args += [*parents(path), "--ro-bind", path, path]
        for bind in binds:
            args += [*parents(bind.target), "--bind" if bind.writable else "--ro-bind", bind.source, bind.target]
            made.add(bind.target)
        for link in links:
            args += [*parents(link.path), "--symlink", link.points_to, link.path]
        args += ["--chdir", view.work]
        command = list(argv)
        if self.as_root:
            assert self.setpriv is not None
            drop = [self.setpriv, f"--reuid={JOB_UID}", f"--regid={JOB_UID}", "--clear-groups"]
            command = [*drop, "--inh-caps=-all", "--bounding-set=-all", "--nnp", "--", *command]
        # The options travel through a memfd (--args), so the sandbox's /proc/1/cmdline shows no host path.
        fd = os.memfd_create("hfjobs-bwrap-args", 0)
        os.write(fd, b"".join(a.encode() + b"\0" for a in args))
        os.lseek(fd, 0, os.SEEK_SET)
        return Launch(argv=[self.bwrap, "--args", str(fd), "--", *command], cwd=str(work), pass_fds=(fd,), _owned=[fd])

    def hand_over(self, paths: Iterable[Path], *, recursive: bool = False) -> None:
        """Make folders a root backend's job must write to belong to the job's uid (no-op otherwise)."""
        if self.job_uid is None:
            return
        for path in paths:
            _chown(path, self.job_uid)
            if recursive:
                for root, dirs, files in os.walk(path):
                    for name in (*dirs, *files):
                        _chown(Path(root) / name, self.job_uid)


def _chown(path: Path, uid: int) -> None:
    try:
        st = os.lstat(path)
        if st.st_uid != uid or st.st_gid != uid:
            os.chown(path, uid, uid, follow_symlinks=False)
    except OSError as exc:
        log.warning("cannot hand %s to uid %d: %s", path, uid, exc)
