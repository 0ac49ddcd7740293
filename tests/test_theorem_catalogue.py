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
