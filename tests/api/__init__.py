"""Tests of the Jobs REST client (issue 2): offline, at the HTTP boundary, plus a few against the local backend."""
