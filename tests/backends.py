"""The one way tests start a local Jobs backend: :func:`serve_backend`, with :func:`backend_config`'s defaults.

Every test that needs a backend gets it from here (the ``local_backend`` fixture of ``tests/conftest.py`` for the
common case), stating only what differs from the defaults: user ``alice`` with the fake token
:data:`TOKEN`, on a free loopback port, served from a thread and stopped (with every job's processes) on leaving.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hfjobs_mcp.local import LocalBackend, LocalConfig

TOKEN = "hf_local_test_token_0123456789"  # a fake token: the local backend's own, never a real one
USER = "alice"


def backend_config(state_dir: Path, **overrides: Any) -> LocalConfig:
    """A backend's configuration: ``state_dir``, the fake token, user alice, a free loopback port; ``overrides``."""
    from hfjobs_mcp.local import LocalConfig  # the backend's modules only for tests that start one

    return LocalConfig(
        **{"token": TOKEN, "user": USER, "host": "127.0.0.1", "port": 0, **overrides, "state_dir": state_dir}
    )


@contextmanager
def serve_backend(config: LocalConfig | Path, **overrides: Any) -> Iterator[LocalBackend]:
    """A backend served from a thread for the ``with`` block (``config``: a configuration, or a state folder).

    ``overrides`` change fields of the configuration (``serve_backend(cfg, sandbox="off")``).
    """
    from hfjobs_mcp.local import serve_in_thread

    cfg = backend_config(config, **overrides) if isinstance(config, Path) else dataclasses.replace(config, **overrides)
    with serve_in_thread(cfg) as backend:
        yield backend
