"""Mutation testing of the theorem catalogue: does some catalogue test fail when a bound is wrong?

Each :class:`Mutant` replaces one public library function by a wrapper that corrupts its result the
way a plausible bug would — the constant scaled by ½ (a bound or certified radius too optimistic), a
box shrunk about its centre, a margin raised, a transpose dropped — and nothing else. The library
source is never edited: the wrapper is installed for one pytest session by this module acting as a
pytest plugin (``-p deqtheory.testing.mutation --mutant NAME``), before the test modules import it;
every module that re-exports the function gets the wrapper too.

:func:`run_table` runs, for each mutant, the tests tied to the catalogue (``--theorem-id`` for every
entry that has tests, stopping after ``maxfail`` failures) and records which tests failed. A mutant
is *caught* when at least one test fails. ``python -m deqtheory.testing.mutation --out
docs/theorems_mutations.json`` writes the table that ``docs/theorems.md`` shows (via
:func:`deqtheory.theorems.to_markdown`).
"""
from __future__ import annotations

import dataclasses
import importlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

__all__ = ["Mutant", "MUTANTS", "get_mutant", "install", "run_table"]


@dataclasses.dataclass(frozen=True)
class Mutant:
    """``target`` = ``"module:function"``; ``corrupt(result)`` returns the mutated result."""

    name: str
    target: str
    description: str
    corrupt: Callable[[Any], Any]


def _scale_field(field: str, factor: float) -> Callable[[Any], Any]:
    def corrupt(r: Any) -> Any:
        return dataclasses.replace(r, **{field: getattr(r, field) * factor})

    return corrupt


def _scale_error_bound(factor: float) -> Callable[[Any], Any]:
    def corrupt(r: Any) -> Any:
        return dataclasses.replace(r, value=r.value * factor, componentwise=np.asarray(r.componentwise) * factor)

    return corrupt


def _shrink(box: Any, factor: float) -> Any:
    c = 0.5 * (np.asarray(box.lower) + np.asarray(box.upper))
    h = 0.5 * (np.asarray(box.upper) - np.asarray(box.lower))
    return type(box)(c - factor * h, c + factor * h)


def _shrink_box(factor: float) -> Callable[[Any], Any]:
    return lambda box: _shrink(box, factor)


def _shrink_interval_bound(factor: float) -> Callable[[Any], Any]:
    def corrupt(r: Any) -> Any:
        if not r.certified:
            return r
        return dataclasses.replace(r, box=_shrink(r.box, factor))

    return corrupt


def _raise_margins(r: Any) -> Any:
    m = np.array(r, dtype=float)
    fin = np.isfinite(m)
    m[fin] = m[fin] + 0.5 * np.abs(m[fin]) + 1e-3
    return m


def _scale_witness_L(factor: float) -> Callable[[Any], Any]:
    def corrupt(c: Any) -> Any:
        if "L" not in c.witness:
            return c
        return c.replace(witness={**dict(c.witness), "L": c.witness["L"] * factor})

    return corrupt


def _transpose_W(r: Any) -> Any:
    return dataclasses.replace(r, W=np.ascontiguousarray(np.asarray(r.W).T))


def _times(factor: float) -> Callable[[Any], Any]:
    return lambda x: x * factor


MUTANTS: Tuple[Mutant, ...] = (
    Mutant("pabbaraju_lipschitz*0.5", "deqtheory.bounds:pabbaraju_lipschitz", "‖G‖‖U‖/m halved", _scale_field("value", 0.5)),
    Mutant("havens_gmondeq_lipschitz*0.5", "deqtheory.bounds:havens_gmondeq_lipschitz", "G-MonDEQ bound halved",
           _scale_field("value", 0.5)),
    Mutant("pabbaraju_perturbation*0.5", "deqtheory.bounds:pabbaraju_perturbation", "Thm 2 bound halved",
           _scale_field("value", 0.5)),
    Mutant("jafarpour_linf_lipschitz*0.5", "deqtheory.bounds:jafarpour_linf_lipschitz", "Thm 6.1 bound halved",
           _scale_field("value", 0.5)),
    Mutant("el_ghaoui_linf_lipschitz*0.5", "deqtheory.bounds:el_ghaoui_linf_lipschitz", "El Ghaoui bound halved",
           _scale_field("value", 0.5)),
    Mutant("adjoint_contraction*0.5", "deqtheory.bounds:adjoint_contraction", "proved ‖Ŵ‖₂ halved",
           _scale_field("value", 0.5)),
    Mutant("fixed_point_error_bound*0.5", "deqtheory.bounds:fixed_point_error_bound", "error bound halved",
           _scale_error_bound(0.5)),
    Mutant("l2_certified_radius*2", "deqtheory.bounds:l2_certified_radius", "certified radius doubled", _times(2.0)),
    Mutant("affine_box.shrink0.5", "deqtheory.intervals:affine_box", "affine box shrunk by ½", _shrink_box(0.5)),
    Mutant("output_box.shrink0.5", "deqtheory.intervals:output_box", "output box shrunk by ½", _shrink_box(0.5)),
    Mutant("margin_lower_bounds.raised", "deqtheory.intervals:margin_lower_bounds", "margins raised by ½|m| + 1e-3",
           _raise_margins),
    Mutant("interval_bounds.shrink0.5", "deqtheory.intervals:interval_bounds", "fixed-point box shrunk by ½",
           _shrink_interval_bound(0.5)),
    Mutant("min_lipschitz*0.5", "deqtheory.sdp:min_lipschitz", "SDP-certified L halved", _scale_witness_L(0.5)),
    Mutant("mondeq_to_lben.W_transposed", "deqtheory.convert:mondeq_to_lben", "converted W transposed", _transpose_W),
    Mutant("sandwich_to_lben.L*0.5", "deqtheory.convert:sandwich_to_lben", "certified L' halved",
           _scale_field("L_certified", 0.5)),
    Mutant("trivial_mondeq_lben_L*0.5", "deqtheory.convert:trivial_mondeq_lben_L", "Thm 3.2 L halved", _times(0.5)),
)


def get_mutant(name: str) -> Mutant:
    for m in MUTANTS:
        if m.name == name:
            return m
    raise KeyError(f"no mutant {name!r}; known: {[m.name for m in MUTANTS]}")


def install(mutant: Mutant) -> Callable[[], None]:
    """Replace ``mutant.target`` by its corrupted wrapper in every loaded module that holds it (the
    defining module and re-exports); return a function that restores the originals."""
    mod_name, fn_name = mutant.target.split(":")
    mod = importlib.import_module(mod_name)
    original = getattr(mod, fn_name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return mutant.corrupt(original(*args, **kwargs))

    wrapper.__name__ = fn_name
    wrapper.__doc__ = original.__doc__
    patched: List[Tuple[Any, str]] = []
    for m in list(sys.modules.values()):
        d = getattr(m, "__dict__", None)
        if not d:
            continue
        for k, v in list(d.items()):
            if v is original:
                setattr(m, k, wrapper)
                patched.append((m, k))

    def restore() -> None:
        for m, k in patched:
            setattr(m, k, original)

    return restore


# ------------------------------------------------------------------------------------- pytest plugin
def pytest_addoption(parser: Any) -> None:
    parser.getgroup("deqtheory").addoption("--mutant", default=None, help="install this test-only mutant")


def pytest_configure(config: Any) -> None:
    name = config.getoption("--mutant")
    if name:
        import deqtheory  # noqa: F401  (load the package and its re-exports before patching)
        import deqtheory.convert  # noqa: F401
        import deqtheory.sdp  # noqa: F401

        config._deqtheory_restore_mutant = install(get_mutant(name))


def pytest_unconfigure(config: Any) -> None:
    restore = getattr(config, "_deqtheory_restore_mutant", None)
    if restore is not None:
        restore()


# ------------------------------------------------------------------------------------- the table
def run_table(names: Optional[Sequence[str]] = None, *, maxfail: int = 3,
              root: Optional[Path] = None) -> Dict[str, Any]:
    """Run every mutant (or ``names``) against the catalogue's tests; return the table
    ``{"mutants": {name: {target, description, caught, failing: [...], time_s}}, ...}``."""
    from deqtheory import theorems

    root = root or theorems.repo_root()
    if root is None:
        raise FileNotFoundError("the mutation table needs the source checkout (tests/ and property_tests/)")
    ids = [t.id for t in theorems.catalogue() if t.tests]
    rows: Dict[str, Any] = {}
    t_all = time.time()
    for m in (get_mutant(n) for n in names) if names else MUTANTS:
        with tempfile.TemporaryDirectory() as tmp:
            report = os.path.join(tmp, "r.jsonl")
            cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "deqtheory.testing.mutation",
                   "--mutant", m.name, f"--maxfail={maxfail}", "--theorem-report", report, "tests", "property_tests"]
            for i in ids:
                cmd += ["--theorem-id", i]
            env = dict(os.environ, DEQTHEORY_HYPOTHESIS_PROFILE="ci")
            t0 = time.time()
            proc = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True)
            lines = Path(report).read_text(encoding="utf-8").splitlines() if os.path.exists(report) else []
        failing = [json.loads(s)["nodeid"] for s in lines if json.loads(s)["outcome"] != "passed"]
        rows[m.name] = {"target": m.target, "description": m.description, "caught": bool(failing),
                        "failing": failing, "returncode": proc.returncode, "time_s": round(time.time() - t0, 1)}
    return {"command": "python -m deqtheory.testing.mutation --out docs/theorems_mutations.json",
            "finished": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "total_time_s": round(time.time() - t_all, 1), "maxfail": maxfail, "mutants": rows}


def main(argv: Optional[Sequence[str]] = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(prog="python -m deqtheory.testing.mutation", description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=None, help="write the table as JSON (docs/theorems_mutations.json)")
    ap.add_argument("--mutant", action="append", default=None, help="only these mutants (repeatable)")
    ap.add_argument("--maxfail", type=int, default=3)
    a = ap.parse_args(argv)
    table = run_table(a.mutant, maxfail=a.maxfail)
    for name, r in table["mutants"].items():
        print(f"{name:<34} {'caught' if r['caught'] else 'SURVIVED':<8} {r['time_s']:>6.1f}s  "
              + (r["failing"][0] if r["failing"] else ""))
    if a.out:
        Path(a.out).write_text(json.dumps(table, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0 if all(r["caught"] for r in table["mutants"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
