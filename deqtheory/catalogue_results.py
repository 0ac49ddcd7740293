"""Verdicts of the theorem catalogue: status, corrected statement and evidence per entry id.

Entries absent here are ``pending``. Every ``holds-as-corrected`` / ``refuted`` verdict must carry
the corrected form and the evidence (a counterexample or the failing formula) in ``notes``.
"""
from __future__ import annotations

from typing import Dict

RESULTS: Dict[str, Dict[str, str]] = {}
