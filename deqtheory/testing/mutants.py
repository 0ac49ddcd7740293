"""Test-only mutants: executable evidence that a property test can fail.

A check that can never fail proves nothing. Each rewritten catalogue test is written as a plain
function ``check(...)`` of the formula it tests (the bound, the LMI, the weights), and a second test
runs the same check against a *mutant* of that formula — the constant scaled by ½, a sign flipped, a
transpose dropped — and asserts, with :func:`assert_caught`, that the check rejects it. Nothing here
touches the library: mutants are new functions wrapping the real ones.
"""
from __future__ import annotations

from typing import Any, Callable

__all__ = ["assert_caught", "count_caught", "scaled_output"]


def assert_caught(check: Callable[..., Any], *args: Any, **kwargs: Any) -> str:
    """Run ``check(*args, **kwargs)`` (wired to a mutant); it must raise ``AssertionError``.

    Returns the assertion's message (the evidence); raises ``AssertionError("mutant survived")``
    when the check passes, i.e. when the test could not tell the mutant from the real formula."""
    try:
        check(*args, **kwargs)
    except AssertionError as exc:  # the check rejected the mutant: what we want
        return str(exc)
    raise AssertionError(f"mutant survived: {getattr(check, '__name__', check)!s} passed against a mutated formula")


def count_caught(check: Callable[..., Any], seeds: Any, **kwargs: Any) -> int:
    """How many of ``check(seed, **kwargs)`` (wired to a mutant) raise ``AssertionError``: for mutants
    that only some instances expose (e.g. √m in place of √n is harmless when m = n)."""
    caught = 0
    for seed in seeds:
        try:
            check(seed, **kwargs)
        except AssertionError:
            caught += 1
    return caught


def scaled_output(fn: Callable[..., float], factor: float) -> Callable[..., float]:
    """The mutant ``x ↦ factor · fn(x)`` of a scalar bound (e.g. ``factor = 0.5``: the constant halved)."""

    def mutant(*args: Any, **kwargs: Any) -> float:
        return factor * float(fn(*args, **kwargs))

    mutant.__name__ = f"{getattr(fn, '__name__', 'bound')}_x{factor:g}"
    return mutant
