# Claude Code, once hfjobs-mcp is published on PyPI: `uvx hfjobs-mcp` fetches and runs it, no install step.
# The token is read from your shell's HF_TOKEN and stored in the server's env block, never in its arguments.
# Logged in with `hf auth login`? Leave out `--env ...`: the server finds the saved token itself.

# Real Hugging Face Jobs, billed to your account.
claude mcp add hf-jobs --scope user --env HF_TOKEN="$HF_TOKEN" -- uvx hfjobs-mcp

# Rehearsal on the local backend: same tools, jobs run on this machine, free, no token.
claude mcp add hf-jobs-local --scope user -- uvx hfjobs-mcp --local

# A team deployment of `hfjobs-mcp --transport http`, your token as the bearer token.
claude mcp add --transport http hf-jobs-remote https://jobs-mcp.example.com/mcp --scope user --header "Authorization: Bearer $HF_TOKEN"
