"""The HTTP deployment (``--transport http``, design §6), split as github-mcp-server's ``pkg/http``.

- :mod:`~hfjobs_mcp.serve.http.auth`: who may call (``--auth``), the deployment's configuration checks;
- :mod:`~hfjobs_mcp.serve.http.app`: the ASGI app of one worker (gateway, ``/mcp``, ``/healthz``);
- :mod:`~hfjobs_mcp.serve.http.run`: uvicorn, one process or a supervisor of workers;
- :mod:`~hfjobs_mcp.serve.http.keys`: the key every worker of a deployment shares.
"""

from __future__ import annotations
