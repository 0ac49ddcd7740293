r"""Hypothesis strategies that *build* valid deqtheory inputs (``pip install deqtheory[test]``).

Use them to test your own claims about certifiably robust DEQs against inputs that satisfy a
family's defining condition **by construction** — no ``assume``, no filtering waste, never NaN/Inf::

    from hypothesis import given
    from deqtheory.testing import strategies as dst

    @given(dst.mondeq_weights(n=4, m=0.5))
    def test_my_claim(w):
        ...  # w.W satisfies sym(I − W) ⪰ 0.5·I; w.contains() proves it

Design (the lineax/cvxpy "zero filter waste" pattern, ``docs/testing.md``): Hypothesis draws only
an integer **seed**, small integer sizes and bounded hyper-parameters (``st.floats`` with finite
bounds, ``allow_nan=False``); the arrays are then built with ``numpy.random.default_rng(seed)``
through the families' ``sample`` functions (:mod:`deqtheory.parametrizations`) or the random
constructors of :mod:`deqtheory.explicit`. Consequences:

* every example is valid (it is the image of an unconstrained parametrization);
* examples shrink well (smaller ``n``, seeds towards 0, hyper-parameters towards a bound);
* a failing example is reproducible outside Hypothesis: ``repr`` of a drawn object is a call of
  :func:`weights_from_seed` / :func:`deq_from_seed` that rebuilds it exactly;
* determinism follows Hypothesis' own (the ``ci`` profile is derandomized): the module never
  touches a global RNG.

Argument conventions (every strategy):

* sizes (``n``, ``d``, ``p``, ``depth``, ``width``, ...): an ``int`` (fixed), a pair
  ``(lo, hi)`` (``st.integers(lo, hi)``) or any Hypothesis strategy of ints;
* real hyper-parameters (``m``, ``cond``, ``scale``, ``L``, ...): a float (fixed), a pair
  ``(lo, hi)`` (bounded ``st.floats``, no NaN/Inf) or a strategy of floats;
* invalid fixed values / ranges raise :class:`deqtheory.errors.DomainError` when the strategy is
  *created* (not when it is drawn).

Conventions are the project's (``docs/conventions.md``): W is (n, n) and acts on column vectors,
U (n, d), G (p, n), float64; skew terms as havens2023 eq. (7).
"""
from __future__ import annotations

import dataclasses
import math
from numbers import Integral, Real
from typing import Any, Callable, Dict, Mapping, Optional, Tuple

import numpy as np
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from .. import explicit as _explicit
from .. import parametrizations as _par
from ..certificates import Certificate
from ..errors import DomainError
from ..intervals import Box
from ..model import DEQ

__all__ = [
    # seeds / RNGs
    "SEED_MAX", "seeds", "rng_from_seed", "rngs",
    # weights
    "FAMILIES", "DrawnWeights", "weights_from_seed", "weights",
    "mondeq_weights", "gmondeq_weights", "lben_weights", "ibp_weights", "ibp_gamma_weights",
    "noneuclidean_weights", "cerdeq_weights",
    # models and inputs
    "DEQ_KINDS", "DrawnDEQ", "deq_from_seed", "deq_instances", "deqs",
    "boxes", "points", "point_pairs", "points_in", "boxes_with_points",
    # explicit networks
    "sll_stacks", "cpl_stacks", "aol_nets", "sandwich_nets", "relu_nets",
]

#: seeds are drawn from ``st.integers(0, SEED_MAX)``
SEED_MAX = 2 ** 32 - 1


# ----------------------------------------------------------------------------------------------
# seeds and argument normalisation
# ----------------------------------------------------------------------------------------------

def rng_from_seed(seed: int) -> np.random.Generator:
    """``numpy.random.default_rng(seed)`` for a non-negative integer seed (``DomainError`` otherwise).

    Every array of this module is built from such a generator, so ``rng_from_seed(s)`` plus the
    recorded sizes reproduce a drawn example exactly."""
    if isinstance(seed, bool) or not isinstance(seed, Integral) or int(seed) < 0:
        raise DomainError(f"seed: expected a non-negative integer, got {seed!r}")
    return np.random.default_rng(int(seed))


def seeds() -> SearchStrategy:
    """Seeds for :func:`rng_from_seed`: ``st.integers(0, SEED_MAX)`` (shrinks towards 0)."""
    return st.integers(min_value=0, max_value=SEED_MAX)


def rngs() -> SearchStrategy:
    """Fresh ``numpy.random.Generator`` objects, one per example, built from :func:`seeds`.

    Prefer drawing a seed and calling :func:`rng_from_seed` in the test (the seed then appears in
    Hypothesis' falsifying-example report); this strategy is a convenience."""
    return seeds().map(rng_from_seed)


def _scalar_or_range(name: str, value: Any, convert: Callable[[Any], Any],
                     make_range: Callable[[Any, Any], SearchStrategy]) -> SearchStrategy:
    """The shared argument convention: a strategy is used as given; a pair ``(lo, hi)`` becomes
    ``make_range(lo, hi)`` after both ends pass ``convert`` (which validates, raising ``DomainError``);
    any other value is ``st.just(convert(value))``."""
    if isinstance(value, SearchStrategy):
        return value
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise DomainError(f"{name}: a range must be a pair (lo, hi), got {value!r}")
        lo, hi = convert(value[0]), convert(value[1])
        if lo > hi:
            raise DomainError(f"{name}: empty range ({lo}, {hi})")
        return st.just(lo) if lo == hi else make_range(lo, hi)
    return st.just(convert(value))


def _int_arg(name: str, value: Any, *, min_value: int = 1, max_value: Optional[int] = None) -> SearchStrategy:
    """int → ``st.just``; (lo, hi) → ``st.integers``; a strategy is used as given."""

    def _check(v: Any) -> int:
        if isinstance(v, bool) or not isinstance(v, Integral):
            raise DomainError(f"{name}: expected an integer, a (lo, hi) pair or a strategy, got {v!r}")
        v = int(v)
        if v < min_value or (max_value is not None and v > max_value):
            hi = "" if max_value is None else f", <= {max_value}"
            raise DomainError(f"{name}: must be >= {min_value}{hi}, got {v}")
        return v

    return _scalar_or_range(name, value, _check, lambda lo, hi: st.integers(min_value=lo, max_value=hi))


def _float_arg(name: str, value: Any, check: Callable[[float], bool], domain: str) -> SearchStrategy:
    """float → ``st.just``; (lo, hi) → bounded ``st.floats`` (no NaN/Inf); a strategy as given.

    ``check`` is the family's domain test (applied to fixed values and to both range ends; the
    domains used here are intervals, so the whole range is then valid)."""

    def _val(v: Any) -> float:
        if isinstance(v, bool) or not isinstance(v, Real):
            raise DomainError(f"{name}: expected a real number, a (lo, hi) pair or a strategy, got {v!r}")
        x = float(v)
        if not (math.isfinite(x) and check(x)):
            raise DomainError(f"{name}: must be {domain}, got {x}")
        return x

    return _scalar_or_range(name, value, _val, lambda lo, hi: st.floats(min_value=lo, max_value=hi,
                                                                         allow_nan=False, allow_infinity=False))


def _opt_float_arg(name: str, value: Any, check: Callable[[float], bool], domain: str) -> SearchStrategy:
    return st.just(None) if value is None else _float_arg(name, value, check, domain)


_POS = (lambda x: x > 0, "> 0")
_NONNEG = (lambda x: x >= 0, ">= 0")
_GE1 = (lambda x: x >= 1, ">= 1")
_GT1 = (lambda x: x > 1, "> 1")
_UNIT = (lambda x: 0 <= x < 1, "in [0, 1)")
_LT1 = (lambda x: x < 1, "< 1")


def _pair_arg(name: str, value: Any) -> SearchStrategy:
    """A fixed positive range ``(lo, hi)``, lo ≤ hi (e.g. ``slack_range``)."""
    if isinstance(value, SearchStrategy):
        return value
    if not (isinstance(value, (tuple, list)) and len(value) == 2):
        raise DomainError(f"{name}: expected a pair (lo, hi), got {value!r}")
    lo, hi = (float(v) for v in value)
    if not (math.isfinite(lo) and math.isfinite(hi) and 0 < lo <= hi):
        raise DomainError(f"{name}: need 0 < lo <= hi (finite), got {value!r}")
    return st.just((lo, hi))


# ----------------------------------------------------------------------------------------------
# weights of the parametrization families
# ----------------------------------------------------------------------------------------------

# family -> (constructor, hyper-parameter names, sample-option names, witness builder)
def _wit_none(p: Any, prm: Any) -> Dict[str, np.ndarray]:
    return {}


_SPECS: Dict[str, Tuple[Callable[..., Any], Tuple[str, ...], Tuple[str, ...],
                        Callable[[Any, Any], Dict[str, np.ndarray]]]] = {
    "mondeq": (_par.MonDEQ, ("m",), ("cond", "scale", "rank"), _wit_none),
    "gmondeq": (_par.GMonDEQ, ("m",), ("cond", "scale", "phi_range"),
                lambda p, prm: {"Gamma": 1.0 / prm.phi}),
    "lben": (_par.LBEN, ("L", "eps"), ("d", "p", "cond", "scale", "psi_range"),
             lambda p, prm: {"Lambda": 1.0 / prm.psi}),
    "ibp": (_par.IBPMonDEQ, ("m",), ("scale", "slack_range"), _wit_none),
    "ibp_gamma": (_par.IBPMonDEQGamma, ("m", "gamma"), ("scale", "slack_range", "beta_scale"),
                  lambda p, prm: {"Lambda": p.Gamma(prm.beta) ** -2.0}),
    "noneuclidean": (_par.NonEuclidean, ("gamma",), ("scale", "eta_range"),
                     lambda p, prm: {"eta": prm.eta}),
    "cerdeq": (_par.CerDEQ, ("n_iter",), ("cond", "scale"), _wit_none),
}

#: the weight families, in the order of ``docs/parametrizations.md``
FAMILIES: Tuple[str, ...] = tuple(_SPECS)


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.array(a, dtype=np.float64)
    a.setflags(write=False)
    return a


def _fmt_kw(kw: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in kw.items())


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class DrawnWeights:
    r"""One drawn weight matrix with everything needed to certify it.

    Attributes
    ----------
    family : str — one of :data:`FAMILIES`.
    seed, n : the seed and order used; ``options`` the hyper-parameters and sample options
        (``weights_from_seed(family, seed, n, **options)`` rebuilds the object exactly).
    parametrization : the :class:`deqtheory.parametrizations.Parametrization` instance.
    params : its parameters (``params.perturbed(rng)`` is again valid).
    W : (n, n) read-only float64 array ``parametrization.forward(params)``.
    context : extra arrays the set depends on — ``{"G", "U"}`` for LBEN, empty otherwise.
    witness : the analytic multiplier of the defining theorem (``Gamma`` = Φ⁻¹ for G-MonDEQ,
        ``Lambda`` = Ψ⁻¹ for LBEN, ``Lambda`` = Γ⁻² for the IBP Γ variant, ``eta`` for the
        non-Euclidean family; empty where the condition needs none).
    """

    family: str
    seed: int
    n: int
    options: Mapping[str, Any]
    parametrization: Any
    params: Any
    W: np.ndarray
    context: Mapping[str, np.ndarray]
    witness: Mapping[str, np.ndarray]

    @property
    def G(self) -> Optional[np.ndarray]:
        """LBEN's output matrix G (p, n) — part of the parameters; ``None`` for other families."""
        return self.context.get("G")

    @property
    def U(self) -> Optional[np.ndarray]:
        """LBEN's input matrix U (n, d) — part of the parameters; ``None`` for other families."""
        return self.context.get("U")

    def contains(self, tol: Optional[float] = None) -> Certificate:
        """``parametrization.contains(W, tol, **context, **witness)`` — the set-membership certificate."""
        return self.parametrization.contains(self.W, tol, **dict(self.context), **dict(self.witness))

    def defining_condition(self) -> Certificate:
        """``parametrization.defining_condition(params)`` — the theorem's analytic witness."""
        return self.parametrization.defining_condition(self.params)

    def rebuild(self) -> "DrawnWeights":
        """A fresh, identical copy built from the recorded seed and options."""
        return weights_from_seed(self.family, self.seed, self.n, **dict(self.options))

    def __repr__(self) -> str:
        kw = _fmt_kw(self.options)
        return f"weights_from_seed({self.family!r}, {self.seed!r}, {self.n!r}{', ' + kw if kw else ''})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:   # Hypothesis' falsifying-example printer
        printer.text(repr(self))


def weights_from_seed(family: str, seed: int, n: int, **options: Any) -> DrawnWeights:
    """Build a :class:`DrawnWeights` deterministically (the strategies below call this).

    ``options`` are the family's hyper-parameters (passed to its constructor: ``m``; ``L``,
    ``eps``; ``gamma``; ``n_iter``) and sample options (passed to ``sample(rng, n, ...)``:
    ``cond``, ``scale``, ``rank``, ``phi_range``, ``psi_range``, ``d``, ``p``, ``slack_range``,
    ``beta_scale``, ``eta_range``). Unknown names raise ``DomainError``."""
    if family not in _SPECS:
        raise DomainError(f"family: expected one of {FAMILIES}, got {family!r}")
    ctor, hyper_names, sample_names, wit = _SPECS[family]
    unknown = set(options) - set(hyper_names) - set(sample_names)
    if unknown:
        raise DomainError(f"{family}: unknown option(s) {sorted(unknown)}; "
                          f"allowed {list(hyper_names) + list(sample_names)}")
    hyper = {k: options[k] for k in hyper_names if k in options}
    sample_kw = {k: options[k] for k in sample_names if k in options and options[k] is not None}
    par = ctor(**hyper)
    rng = rng_from_seed(seed)
    prm = par.sample(rng, n, **sample_kw)
    W = _readonly(par.forward(prm))
    ctx = {k: _readonly(v) for k, v in par.context(prm).items()}
    witness = {k: _readonly(v) for k, v in wit(par, prm).items()}
    return DrawnWeights(family=family, seed=int(seed), n=int(n), options=dict(options), parametrization=par,
                        params=prm, W=W, context=ctx, witness=witness)


def _weights_strategy(family: str, n: Any, args: Mapping[str, SearchStrategy]) -> SearchStrategy:
    n_s = _int_arg("n", n)

    @st.composite
    def _draw(draw: Callable[[SearchStrategy], Any]) -> DrawnWeights:
        nn = draw(n_s)
        opts = {k: draw(s) for k, s in args.items()}
        seed = draw(seeds())
        return weights_from_seed(family, seed, nn, **opts)

    return _draw()


_DEFAULT_N = st.integers(1, 8)
_DEFAULT_COND = (1.0, 100.0)
_DEFAULT_SCALE = (0.1, 2.0)


def mondeq_weights(n: Any = _DEFAULT_N, *, m: Any = (0.05, 1.0), cond: Any = _DEFAULT_COND,
                   scale: Any = _DEFAULT_SCALE, rank: Any = None) -> SearchStrategy:
    r"""MonDEQ weights ``W = (1−m)I − AᵀA + B − Bᵀ`` (havens2023 eq. (5)).

    **Guarantee:** every W drawn satisfies ``sym(I − W) = mI + AᵀA ⪰ mI`` exactly for the float
    parameters; for the stored (rounded) W, ``w.contains()`` is CERTIFIED (proved λ_min ≥ m − tol)
    and ``w.defining_condition()`` proves ``λ_min(sym(I − W)) ≥ m − δ > 0``.

    A (``rank``×n, default n×n) has singular values log-uniform in ``[scale/cond, scale]``,
    B is Gaussian·scale/√n. ``m > 0``, ``cond ≥ 1``, ``scale > 0``, ``rank`` None or an int ≥ 1
    (rank < n makes AᵀA singular: λ_min(sym(I − W)) = m exactly)."""
    return _weights_strategy("mondeq", n, {
        "m": _float_arg("m", m, *_POS), "cond": _float_arg("cond", cond, *_GE1),
        "scale": _float_arg("scale", scale, *_POS),
        "rank": st.just(None) if rank is None else _int_arg("rank", rank)})


def gmondeq_weights(n: Any = _DEFAULT_N, *, m: Any = (0.05, 1.0), cond: Any = _DEFAULT_COND,
                    scale: Any = _DEFAULT_SCALE, phi_range: Any = 4.0) -> SearchStrategy:
    r"""G-MonDEQ weights ``W = I − Φ(AᵀA + Bᵀ − B + mI)`` (havens2023 eq. (6), Prop 2.1).

    **Guarantee:** with Γ = Φ⁻¹ (``w.witness["Gamma"]``), ``2Γ − ΓW − WᵀΓ = 2AᵀA + 2mI ≻ 0``
    (havens2023 (3)); ``w.contains()`` proves it strictly for the stored W. Φ is log-uniform in
    ``[1/phi_range, phi_range]`` (``phi_range ≥ 1``; 1 gives Φ = I, i.e. plain MonDEQ)."""
    return _weights_strategy("gmondeq", n, {
        "m": _float_arg("m", m, *_POS), "cond": _float_arg("cond", cond, *_GE1),
        "scale": _float_arg("scale", scale, *_POS), "phi_range": _float_arg("phi_range", phi_range, *_GE1)})


def lben_weights(n: Any = _DEFAULT_N, *, d: Any = st.integers(1, 4), p: Any = st.integers(1, 4),
                 L: Any = (0.5, 4.0), eps: Any = 0.1, cond: Any = _DEFAULT_COND, scale: Any = _DEFAULT_SCALE,
                 psi_range: Any = 4.0) -> SearchStrategy:
    r"""LBEN weights ``W = I − Ψ(GᵀG/2L + Ψ⁻¹UUᵀΨ⁻¹/2L + VᵀV + Sᵀ − S + εI)`` (havens2023 eq. (7)).

    Returns :class:`DrawnWeights` with ``w.params`` (Ψ, G, U, V, S), ``w.W`` and the context
    ``w.G`` (p×n), ``w.U`` (n×d) — the set depends on them (a DEQ with this W, U and G is
    L-Lipschitz from x to y, havens2023 Prop 2.2 / Thm 3.3).

    **Guarantee:** with Λ = Ψ⁻¹ (``w.witness["Lambda"]``),
    ``2Λ − ΛW − WᵀΛ − GᵀG/L − ΛUUᵀΛ/L = 2VᵀV + 2εI ⪰ 2εI`` (havens2023 (4)); ``w.contains()`` is
    CERTIFIED (``ε ≥ 0``; for ``ε > 0`` ``w.defining_condition()`` proves the strict form)."""
    return _weights_strategy("lben", n, {
        "d": _int_arg("d", d), "p": _int_arg("p", p),
        "L": _float_arg("L", L, *_POS), "eps": _float_arg("eps", eps, *_NONNEG),
        "cond": _float_arg("cond", cond, *_GE1), "scale": _float_arg("scale", scale, *_POS),
        "psi_range": _float_arg("psi_range", psi_range, *_GE1)})


def ibp_weights(n: Any = _DEFAULT_N, *, m: Any = (0.0, 0.5), scale: Any = _DEFAULT_SCALE,
                slack_range: Any = (0.1, 1.0)) -> SearchStrategy:
    r"""IBP-MonDEQ weights in the M-matrix form ``W = D^{-1/2}MD^{-1/2}``,
    ``d = r(M)/(1 − m) + slack`` (wei2022 eq. (3.4), Thm 3.1; r(M) = (|M|𝟙 + |M|ᵀ𝟙)/2).

    **Guarantee:** every W drawn satisfies ``λ_min(sym(I − |W|)) ≥ m + min_i (1−m)slack_i/d_i > m``
    (so ``I − |W| ≻ 0``, hence ``I₂ₙ − Ŵ ≻ 0`` by wei2022 Lemma 3.4, and I − W is monotone).
    ``w.contains()`` is CERTIFIED (strict for m = 0). ``m ∈ [0, 1)``; ``slack_range`` = (lo, hi),
    0 < lo ≤ hi, sets the distance from the boundary (relative to the mean of r(M))."""
    return _weights_strategy("ibp", n, {
        "m": _float_arg("m", m, *_UNIT), "scale": _float_arg("scale", scale, *_POS),
        "slack_range": _pair_arg("slack_range", slack_range)})


def ibp_gamma_weights(n: Any = _DEFAULT_N, *, m: Any = (0.0, 0.5), gamma: Any = 3.0, scale: Any = _DEFAULT_SCALE,
                      slack_range: Any = (0.1, 1.0), beta_scale: Any = 1.0) -> SearchStrategy:
    r"""IBP-MonDEQ Γ-variant weights ``W = ΓD^{-1/2}MD^{-1/2}Γ⁻¹`` (wei2022 eq. (3.7), Thm 3.3, §4).

    ``Γ = (γ−1)/γ·sigmoid(β) + 1/γ`` (κ(Γ) < γ) for ``gamma > 1``; ``gamma=None`` uses Γ = exp(β).

    **Guarantee:** with Λ = Γ⁻² (``w.witness["Lambda"]``), ``sym(Λ((1 − m)I − |W|)) ≻ 0`` and
    (γ given) κ(Λ) < γ²; ``w.contains()`` is CERTIFIED. W itself need not satisfy I − |W| ≻ 0."""
    return _weights_strategy("ibp_gamma", n, {
        "m": _float_arg("m", m, *_UNIT), "gamma": _opt_float_arg("gamma", gamma, *_GT1),
        "scale": _float_arg("scale", scale, *_POS), "slack_range": _pair_arg("slack_range", slack_range),
        "beta_scale": _float_arg("beta_scale", beta_scale, *_NONNEG)})


def noneuclidean_weights(n: Any = _DEFAULT_N, *, gamma: Any = 0.0, scale: Any = _DEFAULT_SCALE,
                         eta_range: Any = 4.0) -> SearchStrategy:
    r"""Non-Euclidean weights ``W = [η]T[η]⁻¹ − diag(|T|𝟙) + γI`` — jafarpour2022 eq. (12) **as
    corrected** (printed: ``[η]⁻¹T[η]``, which fails; see docs/parametrizations.md).

    **Guarantee:** ``μ∞,[η]⁻¹(W) = γ + max_i(T_ii − |T_ii|) ≤ γ < 1`` with η = ``w.witness["eta"]``
    (log-uniform in ``[1/eta_range, eta_range]``), so the DEQ is well posed (jafarpour2022 Thm 5.1);
    ``w.contains()`` certifies ``μ ≤ γ`` (up to its documented tol 1e-9·max(1, |γ|, ‖W‖∞)) and
    ``w.defining_condition()`` proves ``μ < 1``. ``gamma < 1`` (the paper uses 0)."""
    return _weights_strategy("noneuclidean", n, {
        "gamma": _float_arg("gamma", gamma, *_LT1), "scale": _float_arg("scale", scale, *_POS),
        "eta_range": _float_arg("eta_range", eta_range, *_GE1)})


def cerdeq_weights(n: Any = _DEFAULT_N, *, cond: Any = _DEFAULT_COND, scale: Any = _DEFAULT_SCALE,
                   n_iter: Any = 30) -> SearchStrategy:
    r"""CerDEQ weights ``W = Björck_K(V/(n‖V‖_max))/√n`` (li2022 §3.3, eqs. (6)–(7)).

    V has singular values log-uniform in ``[scale/cond, scale]``. **Guarantee** (for
    ``n_iter ≥ log_{15/8}(n·cond) + 5``, true for the defaults n ≤ 8, cond ≤ 100, K = 30): √n·W is
    near-orthogonal, ``w.contains()`` certifies ``‖I − nWᵀW‖₂ ≤ 1e-6``, hence
    ``‖Ŵ‖₂ ≤ ‖W‖_F ≲ 1`` (li2022 Prop 3.2/3.4). Not strictly contractive: for n = 1, W = ±1."""
    return _weights_strategy("cerdeq", n, {
        "cond": _float_arg("cond", cond, *_GE1), "scale": _float_arg("scale", scale, *_POS),
        "n_iter": _int_arg("n_iter", n_iter)})


_WEIGHT_STRATEGIES: Dict[str, Callable[..., SearchStrategy]] = {
    "mondeq": mondeq_weights, "gmondeq": gmondeq_weights, "lben": lben_weights, "ibp": ibp_weights,
    "ibp_gamma": ibp_gamma_weights, "noneuclidean": noneuclidean_weights, "cerdeq": cerdeq_weights,
}


def weights(family: str = "any", n: Any = _DEFAULT_N, **options: Any) -> SearchStrategy:
    """Weights of one family (``family`` in :data:`FAMILIES`, options as that family's strategy),
    or of any family (``family="any"``, default options; ``options`` must then be empty)."""
    if family == "any":
        if options:
            raise DomainError(f"family='any' takes no family options, got {sorted(options)}")
        return st.one_of(*(f(n) for f in _WEIGHT_STRATEGIES.values()))
    if family not in _WEIGHT_STRATEGIES:
        raise DomainError(f"family: expected 'any' or one of {FAMILIES}, got {family!r}")
    return _WEIGHT_STRATEGIES[family](n, **options)


# ----------------------------------------------------------------------------------------------
# DEQ models
# ----------------------------------------------------------------------------------------------

#: kinds accepted by :func:`deqs` (CerDEQ is left out: n = 1 gives W = ±1, not well posed)
DEQ_KINDS: Tuple[str, ...] = ("mondeq", "gmondeq", "lben", "ibp", "ibp_gamma", "noneuclidean")


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class DrawnDEQ:
    """A drawn :class:`deqtheory.model.DEQ` together with the :class:`DrawnWeights` of its W.

    ``deq.W is weights.W`` numerically; for LBEN ``deq.U``/``deq.G`` are the parameters' U, G."""

    deq: DEQ
    weights: DrawnWeights
    seed: int
    d: int
    p: int
    scales: Mapping[str, float]

    @property
    def kind(self) -> str:
        return self.weights.family

    def __repr__(self) -> str:
        w = self.weights
        opts = {k: v for k, v in w.options.items() if k not in ("d", "p")}   # LBEN: d, p are sizes here
        kw = _fmt_kw({**opts, **dict(self.scales)})
        return (f"deq_from_seed({w.family!r}, {w.seed!r}, {self.seed!r}, n={w.n!r}, d={self.d!r}, "
                f"p={self.p!r}{', ' + kw if kw else ''})")

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))


def _deq_from_weights(w: DrawnWeights, seed: int, d: int, p: int, u_scale: float, b_scale: float,
                      g_scale: float) -> DrawnDEQ:
    n = w.n
    rng = rng_from_seed(seed)
    if w.family == "lben":           # U and G are parameters of the set (havens2023 eq. 7)
        U, G = w.U, w.G
        d, p = U.shape[1], G.shape[0]
    else:
        U = rng.standard_normal((n, d)) * (u_scale / math.sqrt(d))
        G = rng.standard_normal((p, n)) * (g_scale / math.sqrt(n))
    b = rng.standard_normal(n) * b_scale
    b_y = rng.standard_normal(p) * b_scale
    scales = {"u_scale": u_scale, "b_scale": b_scale, "g_scale": g_scale}
    return DrawnDEQ(deq=DEQ(w.W, U, b, G, b_y), weights=w, seed=int(seed), d=int(d), p=int(p), scales=scales)


def deq_from_seed(kind: str, weight_seed: int, seed: int, *, n: int, d: int, p: int, u_scale: float = 1.0,
                  b_scale: float = 1.0, g_scale: float = 1.0, **options: Any) -> DrawnDEQ:
    """Rebuild a :class:`DrawnDEQ` deterministically: W from ``weights_from_seed(kind, weight_seed,
    n, **options)``, then U (Gaussian·u_scale/√d), G (Gaussian·g_scale/√n), b, b_y
    (Gaussian·b_scale) from ``rng_from_seed(seed)``. For LBEN, U and G are W's parameters (``d``,
    ``p`` are then the sample options)."""
    if kind not in DEQ_KINDS:
        raise DomainError(f"kind: expected one of {DEQ_KINDS}, got {kind!r}")
    if kind == "lben":
        options = {**options, "d": d, "p": p}
    w = weights_from_seed(kind, weight_seed, n, **options)
    return _deq_from_weights(w, seed, d, p, u_scale, b_scale, g_scale)


def deq_instances(kind: str = "any", n: Any = _DEFAULT_N, d: Any = st.integers(1, 4), p: Any = st.integers(1, 4), *,
                  u_scale: Any = 1.0, b_scale: Any = 1.0, g_scale: Any = 1.0, **options: Any) -> SearchStrategy:
    r""":class:`DrawnDEQ` objects: a DEQ ``z = ReLU(Wz + Ux + b)``, ``y = Gz + b_y`` whose W is drawn
    from the family strategy ``kind`` (``options`` forwarded to it; ``kind="any"`` picks a family
    from :data:`DEQ_KINDS` with default options) and the weights record with its certificate.

    **Guarantee:** the DEQ is well posed (unique fixed point for every x) by the family's theorem:
    monotone (mondeq, ibp: I − |W| ≻ 0 ⇒ sym(I − W) ≻ 0), Γ/Λ-weighted monotone (gmondeq, lben,
    ibp_gamma) or μ∞,[η]⁻¹(W) < 1 (noneuclidean); ``x.weights.contains()`` certifies it. U, G, b,
    b_y are finite Gaussian arrays (LBEN: U, G are the parameters, and y is L-Lipschitz in x)."""
    if kind == "any":
        if options:
            raise DomainError(f"kind='any' takes no family options, got {sorted(options)}")
        return st.one_of(*(deq_instances(k, n, d, p, u_scale=u_scale, b_scale=b_scale, g_scale=g_scale)
                           for k in DEQ_KINDS))
    if kind not in DEQ_KINDS:
        raise DomainError(f"kind: expected 'any' or one of {DEQ_KINDS}, got {kind!r}")
    d_s, p_s = _int_arg("d", d), _int_arg("p", p)
    su, sb, sg = (_float_arg(nm, v, *_NONNEG) for nm, v in
                  (("u_scale", u_scale), ("b_scale", b_scale), ("g_scale", g_scale)))
    if kind == "lben":
        w_s = lben_weights(n, d=d_s, p=p_s, **options)
    else:
        w_s = _WEIGHT_STRATEGIES[kind](n, **options)

    @st.composite
    def _draw(draw: Callable[[SearchStrategy], Any]) -> DrawnDEQ:
        w = draw(w_s)
        dd = w.U.shape[1] if kind == "lben" else draw(d_s)
        pp = w.G.shape[0] if kind == "lben" else draw(p_s)
        scales = (draw(su), draw(sb), draw(sg))
        return _deq_from_weights(w, draw(seeds()), dd, pp, *scales)

    return _draw()


def deqs(kind: str = "any", n: Any = _DEFAULT_N, d: Any = st.integers(1, 4), p: Any = st.integers(1, 4),
         **kw: Any) -> SearchStrategy:
    """Well-posed :class:`deqtheory.model.DEQ` objects (``deq_instances(...).map(lambda x: x.deq)``);
    use :func:`deq_instances` when the test also needs the weights' certificate or witness."""
    return deq_instances(kind, n, d, p, **kw).map(lambda x: x.deq)


# ----------------------------------------------------------------------------------------------
# inputs: boxes, points, pairs
# ----------------------------------------------------------------------------------------------

def _box_from_seed(seed: int, d: int, width: Tuple[float, float], center_scale: float, uniform: bool) -> Box:
    rng = rng_from_seed(seed)
    c = rng.standard_normal(d) * center_scale
    lo_w, hi_w = width
    w = np.full(d, rng.uniform(lo_w, hi_w)) if uniform else rng.uniform(lo_w, hi_w, size=d)
    return Box(c - 0.5 * w, c + 0.5 * w)


def boxes(d: Any = st.integers(1, 6), *, width: Any = (0.0, 1.0), center_scale: Any = 1.0,
          uniform: bool = False) -> SearchStrategy:
    r"""Bounded input boxes :class:`deqtheory.intervals.Box` of dimension ``d``.

    Centre c ~ N(0, center_scale²·I); side lengths uniform in ``width = (lo, hi)`` (a float gives
    that exact side length), one common side if ``uniform`` (an ℓ∞ ball of radius side/2), else
    one per coordinate. **Guarantee:** finite, ``lower ≤ upper``, every side ``upper_i − lower_i``
    within ``[lo, hi]`` up to rounding (≤ 2u(|c_i| + hi)); ``lo = 0`` allows degenerate sides."""
    d_s = _int_arg("d", d)
    if isinstance(width, (tuple, list)):
        if len(width) != 2:
            raise DomainError(f"width: a range must be a pair (lo, hi), got {width!r}")
        w_lo, w_hi = float(width[0]), float(width[1])
    else:
        w_lo = w_hi = float(width)
    if not (math.isfinite(w_lo) and math.isfinite(w_hi) and 0 <= w_lo <= w_hi):
        raise DomainError(f"width: need 0 <= lo <= hi (finite), got {width!r}")
    cs = _float_arg("center_scale", center_scale, *_NONNEG)

    @st.composite
    def _draw(draw: Callable[[SearchStrategy], Any]) -> Box:
        dd = draw(d_s)
        c = draw(cs)
        return _box_from_seed(draw(seeds()), dd, (w_lo, w_hi), c, bool(uniform))

    return _draw()


def points(d: Any = st.integers(1, 6), *, scale: Any = 1.0) -> SearchStrategy:
    """Input points x (d,) ~ N(0, scale²·I), finite float64 (built from a seed)."""
    d_s, s_s = _int_arg("d", d), _float_arg("scale", scale, *_NONNEG)
    return st.builds(lambda dd, s, seed: rng_from_seed(seed).standard_normal(dd) * s, d_s, s_s, seeds())


def point_pairs(d: Any = st.integers(1, 6), *, scale: Any = 1.0, distance: Any = (1e-3, 1.0)) -> SearchStrategy:
    r"""Pairs ``(x, x2)`` of (d,) points with ``x2 = x + r·u``, u a uniformly random unit vector and
    r drawn from ``distance`` (float or (lo, hi), lo > 0) — for Lipschitz-type claims.

    **Guarantee:** ``‖x2 − x‖₂ = r`` up to rounding (relative error ≤ 4u(1 + ‖x‖∞√d/r)), and
    ``x2 ≠ x`` whenever ``r > 4u·√d·‖x‖∞`` (always for the defaults)."""
    d_s, s_s = _int_arg("d", d), _float_arg("scale", scale, *_NONNEG)
    r_s = _float_arg("distance", distance, *_POS)

    def _build(dd: int, s: float, r: float, seed: int) -> Tuple[np.ndarray, np.ndarray]:
        rng = rng_from_seed(seed)
        x = rng.standard_normal(dd) * s
        u = rng.standard_normal(dd)
        nu = float(np.linalg.norm(u))
        u = u / nu if nu > 0 else np.eye(dd)[0]
        return x, x + r * u

    return st.builds(_build, d_s, s_s, r_s, seeds())


def points_in(box: Box, k: Any = 1) -> SearchStrategy:
    """Batches X (k, box.dim) of points uniform in a bounded ``box`` (``box.sample``): every row
    satisfies ``box.contains``. ``k`` an int, a (lo, hi) pair or a strategy."""
    if not isinstance(box, Box):
        raise DomainError(f"box: expected a deqtheory.intervals.Box, got {type(box).__name__}")
    if not (np.all(np.isfinite(box.lower)) and np.all(np.isfinite(box.upper))):
        raise DomainError("box: must be bounded")
    k_s = _int_arg("k", k)

    def _build(kk: int, seed: int) -> np.ndarray:
        X = box.sample(rng_from_seed(seed), kk)
        return np.clip(X, box.lower, box.upper)   # lower + t·width may round just past upper

    return st.builds(_build, k_s, seeds())


def boxes_with_points(d: Any = st.integers(1, 6), k: Any = (1, 4), **box_options: Any) -> SearchStrategy:
    """Pairs ``(box, X)``: a box from :func:`boxes` (``box_options`` forwarded) and X (k, d) inside it."""
    b_s = boxes(d, **box_options)
    return b_s.flatmap(lambda b: st.tuples(st.just(b), points_in(b, k)))


# ----------------------------------------------------------------------------------------------
# explicit Lipschitz networks (deqtheory.explicit)
# ----------------------------------------------------------------------------------------------

def _widths(draw: Callable[[SearchStrategy], Any], depth_s: SearchStrategy, width_s: SearchStrategy) -> Tuple[int, ...]:
    return tuple(draw(width_s) for _ in range(draw(depth_s)))


def _explicit_nets(build: Callable[..., Any], d: Any, depth: Any, width: Any,
                   **extra: SearchStrategy) -> SearchStrategy:
    """The shared recipe of the explicit-network strategies: draw the input size, ``depth`` hidden
    widths and the ``extra`` hyper-parameters (in this order), then a seed, and return
    ``build(rng, d, widths, **extra)``. Arguments are validated here, when the strategy is created."""
    d_s, dep_s, w_s = _int_arg("d", d), _int_arg("depth", depth), _int_arg("width", width)

    @st.composite
    def _draw(draw: Callable[[SearchStrategy], Any]) -> Any:
        dd = draw(d_s)
        ws = _widths(draw, dep_s, w_s)
        kw = {k: draw(v) for k, v in extra.items()}
        return build(rng_from_seed(draw(seeds())), dd, ws, **kw)

    return _draw()


def _residual_stacks(kind: str, d: Any, depth: Any, width: Any, scale: Any) -> SearchStrategy:
    return _explicit_nets(lambda rng, dd, ws, scale: _explicit.random_sll_stack(rng, dd, ws, kind=kind, scale=scale),
                          d, depth, width, scale=_float_arg("scale", scale, *_POS))


def sll_stacks(d: Any = st.integers(1, 6), *, depth: Any = st.integers(1, 3), width: Any = st.integers(1, 6),
               scale: Any = _DEFAULT_SCALE) -> SearchStrategy:
    r"""SLL residual stacks (havens2023 eq. (9); :func:`deqtheory.explicit.random_sll_stack`):
    ``x ↦ x − 2WT⁻¹σ(Wᵀx + b)`` per layer with T = sll_T(W, q), q > 0 random.

    **Guarantee:** each layer satisfies WᵀW ⪯ T (``layer.tw_certificate()`` margin ≥ −its
    ``nonstrict_tolerance``; T is exactly tight e.g. for one column), so the stack is 1-Lipschitz."""
    return _residual_stacks("sll", d, depth, width, scale)


def cpl_stacks(d: Any = st.integers(1, 6), *, depth: Any = st.integers(1, 3), width: Any = st.integers(1, 6),
               scale: Any = _DEFAULT_SCALE) -> SearchStrategy:
    r"""CPL residual stacks (T = ‖W‖₂²I from a proved norm bound): same guarantee as :func:`sll_stacks`."""
    return _residual_stacks("cpl", d, depth, width, scale)


def aol_nets(d: Any = st.integers(1, 6), *, depth: Any = st.integers(1, 3), width: Any = st.integers(1, 6),
             p: Any = st.integers(1, 4)) -> SearchStrategy:
    r"""AOL networks (havens2023 eq. (8), App. D.1; :func:`deqtheory.explicit.random_aol_net`) with
    ``depth`` hidden layers. **Guarantee:** every effective weight W̃D has ‖W̃D‖₂ ≤ 1, so the net
    is 1-Lipschitz (``net.lipschitz_bound() == 1``)."""
    return _explicit_nets(lambda rng, dd, ws, p: _explicit.random_aol_net(rng, (dd, *ws, p)),
                          d, depth, width, p=_int_arg("p", p))


def sandwich_nets(d: Any = st.integers(1, 6), *, depth: Any = st.integers(1, 3), width: Any = st.integers(1, 6),
                  p: Any = st.integers(1, 4), L: Any = (0.5, 4.0)) -> SearchStrategy:
    r"""Sandwich networks (havens2023 §2.4, App. D.2; :func:`deqtheory.explicit.random_sandwich_net`)
    with Cayley–Stiefel layers. **Guarantee:** ``A_nA_nᵀ + B_nB_nᵀ ⪯ I`` (= I up to rounding),
    ``‖B_out‖₂ ≤ 1``, Φ_n > 0 (validated by the constructor), so the net is L-Lipschitz."""
    return _explicit_nets(lambda rng, dd, ws, p, L: _explicit.random_sandwich_net(rng, dd, ws, p, L=L),
                          d, depth, width, p=_int_arg("p", p), L=_float_arg("L", L, *_POS))


def relu_nets(d: Any = st.integers(1, 6), *, depth: Any = st.integers(1, 3), width: Any = st.integers(1, 6),
              scale: Any = _DEFAULT_SCALE) -> SearchStrategy:
    r"""Plain ReLU nets ``σ(A_L σ(⋯σ(A₁x + b₁)⋯) + b_L)`` (wei2022 eq. (3.10);
    :func:`deqtheory.explicit.random_relu_net`), Gaussian weights·scale. **Guarantee:** finite
    weights; ``net.lipschitz_bound()`` is a proved upper bound ∏‖A_i‖₂ (used for wei2022 Prop 3.7
    embeddings via :func:`deqtheory.explicit.relu_net_to_ibp_deq`)."""
    return _explicit_nets(lambda rng, dd, ws, scale: _explicit.random_relu_net(rng, (dd, *ws), scale=scale),
                          d, depth, width, scale=_float_arg("scale", scale, *_POS))
