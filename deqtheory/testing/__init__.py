"""Testing helpers shared by the test suites and by users: Hypothesis profiles, strategies
(:mod:`deqtheory.testing.strategies`), brute-force oracles (:mod:`deqtheory.testing.oracles`).

``scaled(n)`` gives a per-test example count that follows the active profile:
``n`` under ``ci`` and ``10 n`` under ``thorough`` (environment variable
``DEQTHEORY_HYPOTHESIS_PROFILE``).
"""
from __future__ import annotations

import os
from typing import Any, List, Tuple

__all__ = ["profile_name", "scaled", "flags_without_help"]


def profile_name() -> str:
    return os.environ.get("DEQTHEORY_HYPOTHESIS_PROFILE", "ci")


def scaled(n: int) -> int:
    """Number of Hypothesis examples for a test whose CI budget is ``n``."""
    return int(n) * (10 if profile_name() == "thorough" else 1)


def flags_without_help(parser: Any) -> List[Tuple[List[str], Any]]:
    """``(subcommand path, option strings or dest)`` of every argument of an ``argparse`` parser, sub-commands
    included, that has no help text (the CLI convention tests of both packages want none)."""
    import argparse

    missing: List[Tuple[List[str], Any]] = []

    def walk(p: Any, path: List[str]) -> None:
        for a in p._actions:
            if isinstance(a, argparse._SubParsersAction):
                for n, sp in a.choices.items():
                    walk(sp, path + [n])
            elif not a.help:
                missing.append((path, a.option_strings or a.dest))

    walk(parser, [])
    return missing
