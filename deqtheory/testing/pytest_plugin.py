"""pytest plugin tying tests to theorem-catalogue entries.

* ``@pytest.mark.theorem("<paper>:<label>")`` (several ids allowed) marks the claim(s) a test checks.
* ``--theorem-id ID`` (repeatable) keeps only tests marked with one of these ids.
* ``--theorem-report PATH`` writes one JSON object per test (JSON lines): ids, outcome,
  duration, Hypothesis examples run, the tightness ratios the test reached
  (:func:`deqtheory.testing.tightness.reached`: ``{id: {"min", "max"}}``) and, on failure, the
  counterexample / error text.
"""
from __future__ import annotations

import json
import re
from typing import List

import pytest

from deqtheory.testing import tightness

_PASSING = re.compile(r"-\s*(\d+) passing")


def theorem_ids(item) -> List[str]:
    ids: List[str] = []
    for mark in item.iter_markers(name="theorem"):
        ids.extend(str(a) for a in mark.args)
    return ids


def pytest_addoption(parser):
    group = parser.getgroup("deqtheory")
    group.addoption("--theorem-id", action="append", default=None, help="only tests marked with this catalogue id")
    group.addoption("--theorem-report", default=None, help="write per-test JSON lines for catalogue checks")


def pytest_configure(config):
    config.addinivalue_line("markers", "theorem(id, ...): the theorem-catalogue entries this test checks")
    config._theorem_rows = []


def pytest_collection_modifyitems(config, items):
    wanted = config.getoption("--theorem-id")
    if not wanted:
        return
    keep, drop = [], []
    for it in items:
        (keep if set(theorem_ids(it)) & set(wanted) else drop).append(it)
    if drop:
        config.hook.pytest_deselected(items=drop)
    items[:] = keep


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    tightness.take_reached()  # forget ratios of earlier tests / collection
    yield
    item._theorem_tightness = tightness.take_reached()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    path = item.config.getoption("--theorem-report")
    if not path:
        return
    if rep.when == "call" or (rep.when == "setup" and rep.outcome != "passed"):
        stats = getattr(item, "hypothesis_statistics", "") or ""
        examples = sum(int(m) for m in _PASSING.findall(stats)) if stats else None
        row = {"nodeid": item.nodeid, "ids": theorem_ids(item), "outcome": rep.outcome,
               "duration_s": round(rep.duration, 4), "examples": examples,
               "tightness": getattr(item, "_theorem_tightness", {}),
               "failure": (str(rep.longrepr)[-3000:] if rep.failed else None)}
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(row) + "\n")
