"""The theorem catalogue is consistent with the test suite and with docs/theorems.md."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from deqtheory import theorems

ROOT = Path(__file__).resolve().parent.parent
ID_RE = re.compile(r"^(wei2022|li2022|havens2023|pabbaraju2021|jafarpour2022):[a-z]+[A-Za-z0-9.]*$")


def test_ids_are_unique_and_well_formed():
    rows = theorems.catalogue()
    ids = [t.id for t in rows]
    assert len(ids) == len(set(ids)), "duplicate catalogue ids"
    for t in rows:
        assert ID_RE.match(t.id), t.id
        assert t.id == f"{t.paper}:{t.label}"
        assert t.status in theorems.STATUSES
        assert t.statement.strip(), t.id


def test_every_marker_names_an_entry():
    known = {t.id for t in theorems.catalogue()}
    marked = theorems.find_marked_tests(ROOT)
    unknown = sorted(set(marked) - known)
    assert not unknown, f"tests name catalogue ids that do not exist: {unknown} ({[marked[u] for u in unknown]})"


def test_every_decided_entry_has_a_test():
    missing = [t.id for t in theorems.catalogue() if t.status != "pending" and not t.tests]
    assert not missing, f"entries with a verdict but no test: {missing}"


def test_corrections_carry_evidence():
    for t in theorems.catalogue():
        if t.status in ("holds-as-corrected", "refuted"):
            assert t.corrected.strip() and t.notes.strip(), t.id
        if t.status == "not-checkable":
            assert t.notes.strip(), t.id


def test_docs_theorems_md_is_fresh():
    page = (ROOT / "docs" / "theorems.md").read_text(encoding="utf-8")
    assert page == theorems.to_markdown(), ("docs/theorems.md is stale: regenerate with "
                                            "`.venv/bin/deqtheory theorems --markdown > docs/theorems.md`")


def test_cli_lists_catalogue_as_json():
    r = subprocess.run([sys.executable, "-m", "deqtheory.cli", "theorems", "--json"], capture_output=True, text=True,
                       cwd=ROOT)
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    assert len(rows) == len(theorems.catalogue())
    for key in ("id", "paper", "label", "statement", "status", "corrected", "notes", "tests"):
        assert key in rows[0]


def test_cli_unknown_id_exits_2():
    r = subprocess.run([sys.executable, "-m", "deqtheory.cli", "theorems", "--id", "wei2022:nope"],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 2 and "wei2022:nope" in r.stderr


def test_mutation_table_is_complete_and_every_mutant_caught():
    """docs/theorems_mutations.json (shown in docs/theorems.md) lists every mutant of
    deqtheory.testing.mutation, each caught by at least one catalogue test that exists."""
    from deqtheory.testing.mutation import MUTANTS

    table = json.loads((ROOT / "docs" / "theorems_mutations.json").read_text(encoding="utf-8"))
    rows = table["mutants"]
    assert set(rows) == {m.name for m in MUTANTS}
    for name, r in rows.items():
        assert r["caught"] and r["failing"], f"mutant {name} survived the catalogue's tests"
        for nodeid in r["failing"]:
            assert (ROOT / nodeid.split("::")[0]).exists(), nodeid


def test_mutation_plugin_catches_a_halved_bound_live():
    """The mutation machinery itself: with pabbaraju_perturbation's value halved, the tight Thm 2 test fails;
    without the mutant it passes."""
    base = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "deqtheory.testing.mutation",
            "property_tests/test_pabbaraju2021.py", "-k", "thm2_attained"]
    bad = subprocess.run(base + ["--mutant", "pabbaraju_perturbation*0.5"], capture_output=True, text=True, cwd=ROOT)
    assert bad.returncode == 1 and "1 failed" in bad.stdout, bad.stdout[-2000:]
    good = subprocess.run(base, capture_output=True, text=True, cwd=ROOT)
    assert good.returncode == 0, good.stdout[-2000:]
