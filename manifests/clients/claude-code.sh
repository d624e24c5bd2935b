# Claude Code: add hfjobs-mcp with `claude mcp add` (user scope: every project on this machine).
# `hfjobs-mcp` must be on PATH: `uv tool install .` in a clone of the repository puts it there.
# The token is read from your shell's HF_TOKEN and stored in the server's env block, never in its arguments.
# Logged in with `hf auth login`? Leave out `--env ...`: the server finds the saved token itself.

# Real Hugging Face Jobs, billed to your account.
claude mcp add hf-jobs --scope user --env HF_TOKEN="$HF_TOKEN" -- hfjobs-mcp

# Rehearsal on the local backend: same tools, jobs run on this machine, free, no token.
claude mcp add hf-jobs-local --scope user -- hfjobs-mcp --local

# A team deployment of `hfjobs-mcp --transport http`, your token as the bearer token.
claude mcp add --transport http hf-jobs-remote https://jobs-mcp.example.com/mcp --scope user --header "Authorization: Bearer $HF_TOKEN"
