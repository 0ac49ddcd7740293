"""The catalogue's tightness rule (issue 16), enforced over every entry.

Every entry of the theorem catalogue has a record in ``deqtheory.catalogue_results.TIGHTNESS``
(kinds in :mod:`deqtheory.testing.tightness`). An entry whose tests check a bound must name a tight
witness or an adversarial search: tests marked with the entry that call
``deqtheory.testing.tightness.reached`` — which asserts, on every run, that the ratio reached is at
least the recorded floor (≥ 0.9, or a documented reason) — and the committed thorough-profile summary
(docs/theorems_thorough.json) must show the ratios those tests reached.
"""
from __future__ import annotations

import ast
import functools
import json
from pathlib import Path

import pytest

from deqtheory import theorems
from deqtheory.catalogue_results import TIGHTNESS
from deqtheory.testing import tightness

ROOT = Path(__file__).resolve().parent.parent
IDS = [t.id for t in theorems.catalogue()]


@functools.lru_cache(maxsize=None)
def _function(nodeid: str):
    path, name = nodeid.split("::")
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            return node
    return None


def _reached_calls(fn: ast.FunctionDef):
    """First arguments of the ``reached(...)`` calls in ``fn`` (a str, or None when not a literal)."""
    out = []
    for node in ast.walk(fn):
        if isinstance(node, ast.Call):
            f = node.func
            name = f.id if isinstance(f, ast.Name) else (f.attr if isinstance(f, ast.Attribute) else None)
            if name == "reached" and node.args:
                a = node.args[0]
                out.append(a.value if isinstance(a, ast.Constant) and isinstance(a.value, str) else None)
    return out


def test_every_entry_has_a_tightness_record():
    missing = sorted(set(IDS) - set(TIGHTNESS))
    stray = sorted(set(TIGHTNESS) - set(IDS))
    assert not missing, f"entries without a tightness record (catalogue_results.TIGHTNESS): {missing}"
    assert not stray, f"tightness records of no catalogue entry: {stray}"


@pytest.mark.parametrize("tid", IDS)
def test_tightness_record_is_complete(tid):
    rec = TIGHTNESS.get(tid)
    if rec is None:
        pytest.fail(f"{tid}: no tightness record")
    kind = rec.get("kind")
    assert kind in tightness.KINDS, f"{tid}: kind {kind!r} not in {tightness.KINDS}"
    marked = set(theorems.get(tid).tests)
    if kind in ("not-a-bound", "statistical"):
        assert str(rec.get("why", "")).strip(), f"{tid}: a {kind} record must say why"
        return
    tests = rec.get("tests") or []
    assert tests, f"{tid}: a {kind} record must name its tests"
    for t in tests:
        assert t in marked, f"{tid}: {t} is not a test marked with @pytest.mark.theorem({tid!r})"
    if kind not in tightness.RATIO_KINDS:
        return
    ratio = rec.get("ratio")
    assert isinstance(ratio, float) and 0.0 < ratio <= 1.0, f"{tid}: ratio must be a float in (0, 1], got {ratio!r}"
    if ratio < tightness.RATIO_FLOOR:
        assert str(rec.get("reason", "")).strip(), \
            f"{tid}: ratio {ratio} < {tightness.RATIO_FLOOR} needs a documented reason (why the bound is provably loose)"
    calling = []
    for t in tests:
        fn = _function(t)
        assert fn is not None, f"{tid}: {t} not found"
        args = _reached_calls(fn)
        if tid in args or None in args:
            calling.append(t)
    assert calling == tests, (f"{tid}: {sorted(set(tests) - set(calling))} never call "
                              f"tightness.reached({tid!r}, ratio) — the ratio would not be asserted")


def test_reached_calls_name_witness_entries_their_test_is_marked_with():
    """No stray ``reached`` call: a literal id must be a witness/search entry and the test marked with it."""
    marked = theorems.find_marked_tests()
    by_test = {}
    for tid, tests in marked.items():
        for t in tests:
            by_test.setdefault(t, set()).add(tid)
    for sub in ("tests", "property_tests"):
        for path in sorted((ROOT / sub).glob("test_*.py")):
            if path.name == Path(__file__).name:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for fn in tree.body:
                if not isinstance(fn, ast.FunctionDef):
                    continue
                for tid in _reached_calls(fn):
                    if tid is None:
                        continue
                    node = f"{path.relative_to(ROOT).as_posix()}::{fn.name}"
                    assert TIGHTNESS.get(tid, {}).get("kind") in tightness.RATIO_KINDS, \
                        f"{node}: reached({tid!r}) but {tid} records no ratio"
                    assert tid in by_test.get(node, set()), f"{node}: reached({tid!r}) but not marked with it"
                    assert node in TIGHTNESS[tid]["tests"], f"{node}: reached({tid!r}) but not listed in its record"


def test_thorough_summary_shows_the_ratios_reached():
    """The committed thorough run (docs/theorems_thorough.json) reached every witness/search entry's floor."""
    summary = json.loads((ROOT / "docs" / "theorems_thorough.json").read_text(encoding="utf-8"))
    entries = summary["entries"]
    for tid, rec in TIGHTNESS.items():
        if rec["kind"] not in tightness.RATIO_KINDS or tid not in entries:
            continue
        rr = entries[tid].get("ratio_reached")
        assert rr is not None, f"{tid}: the thorough run recorded no ratio (re-run `make thorough`)"
        assert rr["min"] >= rec["ratio"] * (1 - 1e-12) and rr["max"] <= 1 + 1e-6, (tid, rr, rec["ratio"])


def test_reached_asserts_the_floor_and_the_bound():
    tid = next(t for t, r in TIGHTNESS.items() if r["kind"] == "witness")
    floor = TIGHTNESS[tid]["ratio"]
    tightness.take_reached()
    assert tightness.reached(tid, 1.0) == 1.0
    with pytest.raises(AssertionError, match="no longer bites"):
        tightness.reached(tid, 0.5 * floor)                  # the halved bound's witness would read 2x: caught
    with pytest.raises(AssertionError, match="exceeded"):
        tightness.reached(tid, 1.01)
    with pytest.raises(AssertionError, match="not finite"):
        tightness.reached(tid, float("nan"))
    eq_id = next(t for t, r in TIGHTNESS.items() if r["kind"] == "equality")
    with pytest.raises(AssertionError, match="records no ratio"):
        tightness.reached(eq_id, 1.0)
    with pytest.raises(KeyError):
        tightness.reached("nopaper:none", 1.0)
    assert tightness.take_reached() == {tid: {"min": 1.0, "max": 1.0}}
    assert tightness.take_reached() == {}
