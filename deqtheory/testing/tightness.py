"""Tightness of the catalogue's bounds: the rule, and the helper its tests call.

A test of an inequality ``a ≤ b`` that only ever sees ``a ≪ b`` cannot tell the bound from the
bound halved. The catalogue's rule (issue 16): every entry records, in
:data:`deqtheory.catalogue_results.TIGHTNESS`, how its bound is shown to bite —

``witness``         an instance where the bound is attained or nearly so; the test reports the ratio
                    ``a/b`` it reached through :func:`reached` (≥ :data:`RATIO_FLOOR` = 0.9, or a
                    documented ``reason`` why the bound is provably looser);
``search``          an adversarial search (gradient ascent, pattern enumeration, perturbations) that
                    reports the best ratio it reached through :func:`reached`, same floor;
``equality``        the entry states an identity (two sides equal up to rounding), so every test of it
                    is two-sided and a scaled constant already fails;
``counterexample``  the printed claim is refuted; its tests exhibit the violation;
``not-a-bound``     a definition, an existence / uniqueness / convergence claim or a characterisation
                    (iff) with no constant to attain; ``why`` says which;
``statistical``     a probabilistic / asymptotic statement that cannot be checked numerically; ``why``
                    names the deterministic steps checked instead (and where their witnesses live).

Records of kind ``witness`` / ``search`` carry ``tests`` (node ids, each marked with the entry) and
``ratio``: the floor that :func:`reached` asserts in every call, i.e. the ratio every run reaches.
``tests/test_catalogue_rule.py`` checks the records against the catalogue and the test sources; the
pytest plugin (:mod:`deqtheory.testing.pytest_plugin`) writes the ratios reached into the
``--theorem-report`` rows, from which ``deqtheory theorems --check`` reports the best ratio per entry.
"""
from __future__ import annotations

import math
from typing import Any, Dict, Mapping

__all__ = ["KINDS", "RATIO_FLOOR", "RATIO_KINDS", "reached", "record_for", "take_reached"]

KINDS = ("witness", "search", "equality", "counterexample", "not-a-bound", "statistical")
RATIO_KINDS = ("witness", "search")
RATIO_FLOOR = 0.9

# ratios reached in this process since the last take_reached(): {entry id: [min, max]}
_REACHED: Dict[str, list] = {}


def record_for(tid: str) -> Mapping[str, Any]:
    """The tightness record of catalogue entry ``tid`` (KeyError when there is none)."""
    from deqtheory.catalogue_results import TIGHTNESS

    return TIGHTNESS[tid]


def reached(tid: str, ratio: Any, *, slack: float = 1e-9) -> float:
    """Record that a test of entry ``tid`` reached ``ratio`` = (smaller side)/(larger side) of the
    entry's inequality on a witness or by a search, and assert ``floor ≤ ratio ≤ 1 + slack``, the
    floor being the entry's recorded ``ratio``. Returns ``ratio``.

    ``ratio > 1 + slack`` means the bound was exceeded (a counterexample); ``ratio < floor`` means
    the witness / search no longer makes the bound bite (a halved constant would now pass)."""
    rec = record_for(tid)
    if rec.get("kind") not in RATIO_KINDS:
        raise AssertionError(f"{tid}: tightness kind {rec.get('kind')!r} records no ratio")
    r = float(ratio)
    assert math.isfinite(r), f"{tid}: ratio {r!r} is not finite"
    assert r <= 1.0 + slack, f"{tid}: the bound is exceeded (ratio {r!r} > 1)"
    floor = float(rec["ratio"])
    assert r >= floor, (f"{tid}: the {rec['kind']} reached ratio {r:.6g} < {floor:g}, the floor recorded in "
                        "catalogue_results.TIGHTNESS: the bound no longer bites")
    lo_hi = _REACHED.setdefault(tid, [r, r])
    lo_hi[0], lo_hi[1] = min(lo_hi[0], r), max(lo_hi[1], r)
    return r


def take_reached() -> Dict[str, Dict[str, float]]:
    """The ratios recorded since the last call, ``{id: {"min": .., "max": ..}}``, and forget them."""
    out = {k: {"min": v[0], "max": v[1]} for k, v in _REACHED.items()}
    _REACHED.clear()
    return out
