"""Mutation testing of the theorem catalogue: does some catalogue test fail when a bound is wrong?

Each :class:`Mutant` replaces one public library function by a wrapper that corrupts its result the
way a plausible bug would — the constant scaled by ½ (a bound or certified radius too optimistic), a
box shrunk about its centre, a margin raised, a transpose dropped — and nothing else. The library
source is never edited: the wrapper is installed for one pytest session by this module acting as a
pytest plugin (``-p deqtheory.testing.mutation --mutant NAME``), before the test modules import it;
every module that re-exports the function gets the wrapper too.

:func:`run_table` runs, for each mutant, the tests tied to the catalogue — first those of the entries the
mutant names (``Mutant.ids``), then, if none fails, those of every entry that has tests — stopping after
``maxfail`` failures, and records which tests failed. A mutant
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
    """``target`` = ``"module:function"``; ``corrupt(result)`` returns the mutated result; ``ids`` (optional)
    the catalogue entries whose tests are run first (all entries' tests when they catch nothing)."""

    name: str
    target: str
    description: str
    corrupt: Callable[[Any], Any]
    ids: Tuple[str, ...] = ()


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


def _accept_all(c: Any) -> Any:
    """A check that cannot refuse: every answer becomes CERTIFIED (margin kept, or 1e-3 if not positive)."""
    from deqtheory.certificates import Status

    if c.certified:
        return c
    m = c.margin if (c.margin == c.margin and c.margin > 0) else 1e-3
    return c.replace(status=Status.CERTIFIED, margin=m)


def _accept_all_pair(r: Any) -> Any:
    return (_accept_all(r[0]),) + tuple(r[1:])


def _raise_cert_margin(c: Any) -> Any:
    """A certified margin raised by ½|margin| + 1e-3 (the proved distance to failure overstated)."""
    if not c.certified:
        return c
    return c.replace(margin=c.margin + 0.5 * abs(c.margin) + 1e-3)


def _scale_witness(key: str, factor: float) -> Callable[[Any], Any]:
    def corrupt(c: Any) -> Any:
        if key not in c.witness:
            return c
        return c.replace(witness={**dict(c.witness), key: np.asarray(c.witness[key]) * factor})

    return corrupt


def _scale_second(factor: float) -> Callable[[Any], Any]:
    return lambda r: (r[0], r[1] * factor) + tuple(r[2:])


def _negate_field(field: str) -> Callable[[Any], Any]:
    return lambda r: dataclasses.replace(r, **{field: -np.asarray(getattr(r, field))})


MUTANTS: Tuple[Mutant, ...] = (
    Mutant("pabbaraju_lipschitz*0.5", "deqtheory.bounds:pabbaraju_lipschitz", "‖G‖‖U‖/m halved", _scale_field("value", 0.5),
           ids=("pabbaraju2021:thm1",)),
    Mutant("havens_gmondeq_lipschitz*0.5", "deqtheory.bounds:havens_gmondeq_lipschitz", "G-MonDEQ bound halved",
           _scale_field("value", 0.5),
           ids=("havens2023:thm3.3",)),
    Mutant("pabbaraju_perturbation*0.5", "deqtheory.bounds:pabbaraju_perturbation", "Thm 2 bound halved",
           _scale_field("value", 0.5),
           ids=("pabbaraju2021:thm2",)),
    Mutant("jafarpour_linf_lipschitz*0.5", "deqtheory.bounds:jafarpour_linf_lipschitz", "Thm 6.1 bound halved",
           _scale_field("value", 0.5),
           ids=("jafarpour2022:thm6.1",)),
    Mutant("el_ghaoui_linf_lipschitz*0.5", "deqtheory.bounds:el_ghaoui_linf_lipschitz", "El Ghaoui bound halved",
           _scale_field("value", 0.5),
           ids=("jafarpour2022:remark6.2",)),
    Mutant("adjoint_contraction*0.5", "deqtheory.bounds:adjoint_contraction", "proved ‖Ŵ‖₂ halved",
           _scale_field("value", 0.5),
           ids=("li2022:prop3.1",)),
    Mutant("fixed_point_error_bound*0.5", "deqtheory.bounds:fixed_point_error_bound", "error bound halved",
           _scale_error_bound(0.5),
           ids=("jafarpour2022:thm5.1",)),
    Mutant("l2_certified_radius*2", "deqtheory.bounds:l2_certified_radius", "certified radius doubled", _times(2.0),
           ids=("pabbaraju2021:sec5.3",)),
    Mutant("affine_box.shrink0.5", "deqtheory.intervals:affine_box", "affine box shrunk by ½", _shrink_box(0.5),
           ids=("wei2022:prop3.2",)),
    Mutant("output_box.shrink0.5", "deqtheory.intervals:output_box", "output box shrunk by ½", _shrink_box(0.5),
           ids=("jafarpour2022:thm6.3",)),
    Mutant("margin_lower_bounds.raised", "deqtheory.intervals:margin_lower_bounds", "margins raised by ½|m| + 1e-3",
           _raise_margins,
           ids=("jafarpour2022:eq10",)),
    Mutant("interval_bounds.shrink0.5", "deqtheory.intervals:interval_bounds", "fixed-point box shrunk by ½",
           _shrink_interval_bound(0.5),
           ids=("wei2022:prop3.2",)),
    Mutant("min_lipschitz*0.5", "deqtheory.sdp:min_lipschitz", "SDP-certified L halved", _scale_witness_L(0.5),
           ids=("havens2023:appE.symmetry",)),
    Mutant("mondeq_to_lben.W_transposed", "deqtheory.convert:mondeq_to_lben", "converted W transposed", _transpose_W,
           ids=("havens2023:thm3.2",)),
    Mutant("sandwich_to_lben.L*0.5", "deqtheory.convert:sandwich_to_lben", "certified L' halved",
           _scale_field("L_certified", 0.5),
           ids=("havens2023:appD2",)),
    Mutant("trivial_mondeq_lben_L*0.5", "deqtheory.convert:trivial_mondeq_lben_L", "Thm 3.2 L halved", _times(0.5),
           ids=("havens2023:sec3.1",)),
    # -- the SDP certificates
    Mutant("lipschitz_certificate.L*0.5", "deqtheory.sdp:lipschitz_certificate", "certified L of (4)/(10) halved",
           _scale_witness_L(0.5),
           ids=("havens2023:prop2.2",)),
    Mutant("sdp_wellposed.accept_all", "deqtheory.sdp:sdp_wellposed", "(3) certified for every W",
           _accept_all,
           ids=("havens2023:thm3.1",)),
    # -- the conditions of deqtheory.conditions (the `deqtheory check` table)
    Mutant("check_monotone.margin_raised", "deqtheory.linalg:check_monotone", "proved m raised by ½|m| + 1e-3",
           _raise_cert_margin,
           ids=("wei2022:prop2.1",)),
    Mutant("check_ibp_wellposed.margin_raised", "deqtheory.linalg:check_ibp_wellposed",
           "proved λ_min(I − sym|W|) raised by ½|m| + 1e-3", _raise_cert_margin,
           ids=("wei2022:thm3.1",)),
    Mutant("check_adjoint_contractive.margin_raised", "deqtheory.spectrum:check_adjoint_contractive",
           "proved 1 − ‖Ŵ‖₂ raised by ½|m| + 1e-3", _raise_cert_margin,
           ids=("li2022:prop3.1",)),
    Mutant("check_mu_inf.accept_all", "deqtheory.linalg:check_mu_inf", "μ∞ < 1 certified for every W", _accept_all,
           ids=("jafarpour2022:remark5.2",)),
    Mutant("check_pf_abs.accept_all", "deqtheory.linalg:check_pf_abs", "λ_pf(|W|) < 1 certified for every W",
           _accept_all,
           ids=("jafarpour2022:remark5.2",)),
    # -- the robustness certificates (certify_*)
    Mutant("certify_l2_lipschitz.accept_all", "deqtheory.bounds:certify_l2_lipschitz", "every ℓ2 query certified",
           _accept_all,
           ids=("pabbaraju2021:sec5.3",)),
    Mutant("certify_linf_lipschitz.accept_all", "deqtheory.bounds:certify_linf_lipschitz",
           "every ℓ∞ (eq. 13) query certified", _accept_all,
           ids=("jafarpour2022:eq13",)),
    Mutant("certify_linf_box.accept_all", "deqtheory.intervals:certify_linf_box", "every ℓ∞ (eq. 14) query certified",
           _accept_all,
           ids=("jafarpour2022:eq14",)),
    Mutant("certify_lben_lipschitz.L*0.5", "deqtheory.convert:certify_lben_lipschitz", "proved L′ of a conversion halved",
           _scale_second(0.5),
           ids=("havens2023:appD2", "havens2023:appD1", "havens2023:thm3.5")),
    # -- the convolutional conversions
    Mutant("conv_sll_T*0.5", "deqtheory.explicit_conv:conv_sll_T", "conv SLL T (eq. 9) halved", _times(0.5),
           ids=("havens2023:eq9", "havens2023:sec4.1")),
    Mutant("conv_aol_scaling*2", "deqtheory.explicit_conv:conv_aol_scaling", "conv AOL rescaling (eq. 8) doubled",
           _times(2.0),
           ids=("havens2023:eq8",)),
    Mutant("conv_sll_to_lben.S_sign_flipped", "deqtheory.convert:conv_sll_to_lben",
           "skew part S of the conv LBEN sign-flipped (S ↔ Sᵀ)", _negate_field("S_hat"),
           ids=("havens2023:sec4.1",)),
    # -- the convolutional IBP / NEMON certificates
    Mutant("abs_mass_upper*0.5", "deqtheory.conv_ibp:abs_mass_upper", "upper bound of Σ_taps |K| halved", _times(0.5),
           ids=("wei2022:sec3.conv.lift",)),
    Mutant("conv_abs_contraction.mu*0.5", "deqtheory.conv_ibp:conv_abs_contraction", "certified contraction μ halved",
           _scale_witness("mu", 0.5),
           ids=("wei2022:sec3.conv.contraction",)),
    Mutant("conv_ibp_margin.margin_raised", "deqtheory.conv_ibp:conv_ibp_margin", "proved margin raised by ½|m| + 1e-3",
           _raise_cert_margin,
           ids=("wei2022:sec3.conv.lift",)),
    Mutant("conv_mu_inf.mu*0.5", "deqtheory.conv_nemon:conv_mu_inf", "certified μ∞ halved", _scale_witness("mu", 0.5),
           ids=("jafarpour2022:thm6.3.conv",)),
    Mutant("metzler_lift_kernel.sign_flipped", "deqtheory.conv_nemon:metzler_lift_kernel", "lift kernel negated",
           _times(-1.0),
           ids=("jafarpour2022:thm6.3.conv",)),
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
        import deqtheory.conv_ibp  # noqa: F401
        import deqtheory.conv_nemon  # noqa: F401
        import deqtheory.convert  # noqa: F401
        import deqtheory.explicit_conv  # noqa: F401
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

    def run(m: Mutant, run_ids: Sequence[str]) -> Tuple[List[str], int]:
        with tempfile.TemporaryDirectory() as tmp:
            report = os.path.join(tmp, "r.jsonl")
            cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "deqtheory.testing.mutation",
                   "--mutant", m.name, f"--maxfail={maxfail}", "--theorem-report", report, "tests", "property_tests"]
            for i in run_ids:
                cmd += ["--theorem-id", i]
            env = dict(os.environ, DEQTHEORY_HYPOTHESIS_PROFILE="ci")
            proc = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True)
            lines = Path(report).read_text(encoding="utf-8").splitlines() if os.path.exists(report) else []
        return [json.loads(s)["nodeid"] for s in lines if json.loads(s)["outcome"] != "passed"], proc.returncode

    for m in (get_mutant(n) for n in names) if names else MUTANTS:
        t0 = time.time()
        failing, rc = run(m, m.ids) if m.ids else ([], 0)
        ran = "named entries" if failing else "all entries"
        if not failing:
            failing, rc = run(m, ids)
        rows[m.name] = {"target": m.target, "description": m.description, "caught": bool(failing),
                        "failing": failing, "ran": ran, "returncode": rc, "time_s": round(time.time() - t0, 1)}
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
