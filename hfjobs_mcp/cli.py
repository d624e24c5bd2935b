"""Command line: argument parsing, logging to stderr, wiring; nothing else."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from hfjobs_mcp import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hfjobs-mcp", description="MCP server for Hugging Face Jobs.")
    parser.add_argument("--version", action="version", version=f"hfjobs-mcp {__version__}")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    parser.parse_args(argv)
    parser.print_help(sys.stderr)
    return 2
