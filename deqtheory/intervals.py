r"""Interval (box) bounds for ReLU DEQs: IBP fixed point and the embedded (Metzler) network.

Model: :math:`z^\star = \sigma(Wz^\star + Ux + b)`, :math:`y = Gz^\star + b_y`, σ = ReLU.

Both box methods solve a *lifted* DEQ on the stacked vector :math:`[\bar z; \underline z]` (upper
first, wei2022 eq. 3.3):

.. math:: \begin{bmatrix}\bar z\\ \underline z\end{bmatrix} = \sigma\Big(\begin{bmatrix}A & B\\ B & A\end{bmatrix}
          \begin{bmatrix}\bar z\\ \underline z\end{bmatrix} + \begin{bmatrix}\bar v\\ \underline v\end{bmatrix}\Big),
          \qquad \bar v = U_+\bar x + U_-\underline x + b,\quad \underline v = U_+\underline x + U_-\bar x + b,

* **IBP** (wei2022 eqs. 3.3/3.6; li2022 eq. 5 "adjoint DEQ"): :math:`A = W_+ = \max(W,0)`,
  :math:`B = W_- = \min(W,0)`;
* **Metzler / embedded network** (jafarpour2022 eq. 6, Thm 6.3): :math:`A = \lceil W\rceil^{\rm Mzl}`
  (nonnegative off-diagonal entries **and the whole diagonal**), :math:`B = \lfloor W\rfloor^{\rm Mzl}`
  (negative off-diagonal entries). The two splits differ only where :math:`W_{ii} < 0`.

**Soundness.** A box is valid only for the *exact* lifted fixed point. Every returned box is the
computed approximate fixed point widened by a rigorous bound on its distance to the exact one
(:func:`deqtheory.bounds.fixed_point_error_bound`, from the residual with its rounding error and a
proved monotonicity margin of :math:`I - \widehat M` or a proved :math:`\mu_{\infty,[\eta]^{-1}}(\widehat M) < 1`);
the input box :math:`[\underline v, \bar v]` is rounded outward. When no well-posedness condition
is proved the returned box is :math:`(-\infty, \infty)` (trivially sound) and the certificate says so.

Conditions under which the exact lifted fixed point is unique and bounds every
:math:`z^\star(v)`, :math:`\underline v \le v \le \bar v`:

* IBP: :math:`\mathrm{sym}(I_{2n} - \widehat W) \succ 0` (wei2022 Prop 3.2; implied by li2022 Prop 3.1's
  :math:`\|\widehat W\|_2 < 1`), or :math:`\mu_{\infty,[\hat\eta]^{-1}}(\widehat W) < 1` (the undamped IBP
  iteration is then a contraction and the induction of wei2022's proof of Prop 3.2 applies).
* Metzler: :math:`\mu_{\infty,[\hat\eta]^{-1}}(\widehat M) < 1` (⇔ ∃η: :math:`\mu_{\infty,[\eta]^{-1}}(W) < 1`,
  jafarpour2022 Thm 6.3: the lift has the same Metzler majorant spectrum), or
  :math:`\mathrm{sym}(I_{2n} - \widehat M) \succ 0` (derived here: the damped iteration
  :math:`z \mapsto \sigma((1-\alpha)z + \alpha(\widehat Mz + \hat v))` converges for small α and is
  order preserving once :math:`(1-\alpha) + \alpha W_{ii} \ge 0`; the proof of wei2022 Prop 3.2 applies).
"""
from __future__ import annotations

import dataclasses
import math
from typing import Any, Tuple

import numpy as np

from ._validate import as_matrix, as_scalar, as_square, as_vector
from .bounds import (fixed_point_error_bound, monotone_margin, mu_inf_bound,
                     residual_bound, solve_relu_fixed_point)
from .certificates import Certificate, Status, register_verifier
from .errors import DomainError, NonFiniteError, ShapeError
from .verified import INFLATE, UNIT_ROUNDOFF, gamma

__all__ = ["Box", "affine_box", "ibp_lift", "metzler_lift", "IntervalBound", "lifted_box",
           "ibp_box", "metzler_box", "interval_bounds", "output_box", "margin_lower_bounds",
           "certify_linf_box"]

_U = UNIT_ROUNDOFF


# ----------------------------------------------------------------------------------------------
# Boxes
# ----------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Box:
    r"""A box :math:`\{x : \text{lower} \le x \le \text{upper}\}` in :math:`\mathbb R^k` (coordinatewise).

    Validated: 1-d float64 arrays of equal length, no NaN (±inf allowed: an unbounded side),
    ``lower <= upper``. Arrays are copied and made read-only."""

    lower: np.ndarray
    upper: np.ndarray

    def __post_init__(self) -> None:
        lo = as_vector("lower", self.lower, check_finite=False)
        hi = as_vector("upper", self.upper, check_finite=False)
        if lo.shape != hi.shape:
            raise ShapeError(f"lower/upper: shapes differ, {lo.shape} vs {hi.shape}")
        if np.any(np.isnan(lo)) or np.any(np.isnan(hi)):
            raise NonFiniteError(f"lower/upper: NaN entries in box of shape {lo.shape}")
        bad = lo > hi
        if np.any(bad):
            i = int(np.argmax(bad))
            raise DomainError(f"lower/upper: lower[{i}] = {lo[i]} > upper[{i}] = {hi[i]} (shape {lo.shape})")
        lo.setflags(write=False)
        hi.setflags(write=False)
        object.__setattr__(self, "lower", lo)
        object.__setattr__(self, "upper", hi)

    @classmethod
    def ball(cls, center: Any, eps: Any) -> "Box":
        r"""The ℓ∞ ball :math:`[c - \varepsilon\mathbb 1, c + \varepsilon\mathbb 1]` (rounded outward)."""
        c = as_vector("center", center)
        e = as_scalar("eps", eps, nonnegative=True)
        return cls(np.nextafter(c - e, -np.inf) if e > 0 else c, np.nextafter(c + e, np.inf) if e > 0 else c)

    @property
    def dim(self) -> int:
        return int(self.lower.shape[0])

    @property
    def width(self) -> np.ndarray:
        return self.upper - self.lower

    @property
    def center(self) -> np.ndarray:
        return 0.5 * (self.lower + self.upper)

    def contains(self, x: Any, *, atol: float = 0.0) -> np.ndarray:
        """Membership of a point (k,) → bool, or of a batch (m, k) → (m,) bool array."""
        X = np.asarray(x, dtype=np.float64)
        if X.shape[-1:] != (self.dim,):
            raise ShapeError(f"x: expected trailing dimension {self.dim}, got shape {X.shape}")
        ok = np.all((X >= self.lower - atol) & (X <= self.upper + atol), axis=-1)
        return ok

    def contains_box(self, other: "Box", *, atol: float = 0.0) -> bool:
        """Whether ``other`` ⊆ ``self`` (up to ``atol``)."""
        return bool(np.all(other.lower >= self.lower - atol) and np.all(other.upper <= self.upper + atol))

    def sample(self, rng: np.random.Generator, k: int) -> np.ndarray:
        """``k`` uniform samples (k, dim) from a bounded box."""
        if not (np.all(np.isfinite(self.lower)) and np.all(np.isfinite(self.upper))):
            raise DomainError("sample: box is unbounded")
        return self.lower + rng.random((int(k), self.dim)) * self.width

    def widen(self, delta: Any) -> "Box":
        """``[lower - delta, upper + delta]`` (delta ≥ 0, scalar or vector), rounded outward."""
        d = np.broadcast_to(np.asarray(delta, dtype=np.float64), self.lower.shape)
        if np.any(np.isnan(d)) or np.any(d < 0):
            raise DomainError("delta: must be >= 0 and not NaN")
        with np.errstate(invalid="ignore"):
            lo = np.nextafter(self.lower - d, -np.inf)
            hi = np.nextafter(self.upper + d, np.inf)
        return Box(lo, hi)


def affine_box(U: Any, b: Any, box: Box) -> Box:
    r"""Exact interval image of :math:`x \mapsto Ux + b` over ``box`` (wei2022 eq. 2.3):

    .. math:: \bar v = U_+\bar x + U_-\underline x + b,\qquad \underline v = U_+\underline x + U_-\bar x + b,

    which is the tightest box containing :math:`\{Ux + b : x \in \text{box}\}` (each row is a linear
    function maximised at a vertex). Rounded outward by
    :math:`(1+10^{-6})\gamma_{2d+2}(|U|\max(|\underline x|, |\bar x|) + |b|)` so the float box contains
    the exact one. ``b=None`` means 0."""
    if not isinstance(box, Box):
        raise DomainError(f"box: expected a Box, got {type(box).__name__}")
    U = as_matrix("U", U, shape=(None, box.dim))
    n, d = U.shape
    b = np.zeros(n) if b is None else as_vector("b", b, n=n)
    Up, Um = np.maximum(U, 0.0), np.minimum(U, 0.0)
    lo, hi = box.lower, box.upper
    if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))):
        raise DomainError("box: the input box must be bounded")
    upper = Up @ hi + Um @ lo + b
    lower = Up @ lo + Um @ hi + b
    ax = np.maximum(np.abs(lo), np.abs(hi))
    err = INFLATE * gamma(2 * d + 2) * (np.abs(U) @ ax + np.abs(b))
    return Box(np.nextafter(lower - err, -np.inf), np.nextafter(upper + err, np.inf))


def ibp_lift(W: Any) -> np.ndarray:
    r"""IBP lift :math:`\widehat W = \begin{psmallmatrix}W_+ & W_-\\ W_- & W_+\end{psmallmatrix}` acting on
    :math:`[\bar z; \underline z]` (wei2022 §3; exact: no rounding)."""
    W = as_square("W", W)
    P, N = np.maximum(W, 0.0), np.minimum(W, 0.0)
    return np.block([[P, N], [N, P]])


def metzler_lift(W: Any) -> np.ndarray:
    r"""Embedded-network lift :math:`\begin{psmallmatrix}\lceil W\rceil^{\rm Mzl} & \lfloor W\rfloor^{\rm Mzl}\\
    \lfloor W\rfloor^{\rm Mzl} & \lceil W\rceil^{\rm Mzl}\end{psmallmatrix}` acting on
    :math:`[\bar z; \underline z]` (jafarpour2022 eq. 6; exact)."""
    W = as_square("W", W)
    off_neg = (W < 0) & ~np.eye(W.shape[0], dtype=bool)
    A = np.where(off_neg, 0.0, W)
    B = np.where(off_neg, W, 0.0)
    return np.block([[A, B], [B, A]])


# ----------------------------------------------------------------------------------------------
# Lifted fixed points with rigorous widening
# ----------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class IntervalBound:
    r"""Result of :func:`ibp_box` / :func:`metzler_box` / :func:`interval_bounds`.

    * ``box`` — a :class:`Box` that contains :math:`z^\star(v)` for every v in the input box
      (guaranteed iff ``certificate.certified``; otherwise the trivial box (-inf, inf));
    * ``upper_approx``, ``lower_approx`` — the computed approximate lifted fixed point
      :math:`(\tilde{\bar z}, \tilde{\underline z})` (no guarantee);
    * ``error`` — (2n,) componentwise bound on :math:`|[\tilde{\bar z};\tilde{\underline z}] - [\bar z^\star;\underline z^\star]|`;
    * ``method`` — ``"ibp"`` or ``"metzler"``; ``certificate`` — condition
      ``"intervals.ibp_box"`` / ``"intervals.metzler_box"``, margin = the largest proved
      well-posedness margin (m of :math:`I - \widehat M`, or :math:`1 - \mu`)."""

    box: Box
    upper_approx: np.ndarray
    lower_approx: np.ndarray
    error: np.ndarray
    method: str
    certificate: Certificate

    @property
    def certified(self) -> bool:
        return self.certificate.certified


def _split(W: np.ndarray, method: str) -> np.ndarray:
    if method == "ibp":
        return ibp_lift(W)
    if method == "metzler":
        return metzler_lift(W)
    raise DomainError(f"method: must be 'ibp' or 'metzler', got {method!r}")


def lifted_box(W: Any, v_box: Box, method: str = "metzler", *, conditions: Tuple[str, ...] = ("monotone", "mu_inf"),
               eta: Any = None) -> IntervalBound:
    r"""Solve the lifted fixed point (IBP or Metzler split, see module doc) for the pre-activation box
    ``v_box`` = :math:`[\underline v, \bar v]` and return a rigorously widened box.

    ``conditions`` lists which well-posedness proofs to attempt on the lift :math:`\widehat M`
    (``"monotone"``: :func:`~deqtheory.bounds.monotone_margin`, ℓ2 error bound; ``"mu_inf"``:
    :func:`~deqtheory.bounds.mu_inf_bound`, ℓ∞ error bound; ``eta`` (n,) optionally fixes the
    weights, lifted as :math:`[\eta;\eta]`). Every proved condition gives an error bound; the
    componentwise minimum is used."""
    W = as_square("W", W)
    n = W.shape[0]
    if not isinstance(v_box, Box) or v_box.dim != n:
        raise ShapeError(f"v_box: expected a Box of dimension {n}")
    if not (np.all(np.isfinite(v_box.lower)) and np.all(np.isfinite(v_box.upper))):
        raise DomainError("v_box: must be bounded")
    for c in conditions:
        if c not in ("monotone", "mu_inf"):
            raise DomainError(f"conditions: unknown condition {c!r} (use 'monotone', 'mu_inf')")
    M = _split(W, method)
    vhat = np.concatenate([v_box.upper, v_box.lower])
    sol = solve_relu_fixed_point(M, vhat)
    zt = sol.z
    if np.all(np.isfinite(zt)):
        r, delta = residual_bound(M, vhat, zt)
    err = np.full(2 * n, math.inf)
    proofs = {}
    best_margin = -math.inf
    eta_hat = None if eta is None else np.concatenate([as_vector("eta", eta, n=n)] * 2)
    if np.all(np.isfinite(zt)):
        if "monotone" in conditions:
            cm = monotone_margin(M)
            proofs["monotone"] = cm
            if cm.certified:
                eb = fixed_point_error_bound(M, r, "2", residual_err=delta, certificate=cm)
                err = np.minimum(err, eb.componentwise)
                best_margin = max(best_margin, float(cm.margin))
        if "mu_inf" in conditions:
            cu = mu_inf_bound(M, eta_hat)
            proofs["mu_inf"] = cu
            if cu.certified:
                eb = fixed_point_error_bound(M, r, "inf", residual_err=delta, certificate=cu)
                err = np.minimum(err, eb.componentwise)
                best_margin = max(best_margin, float(cu.margin))
    ok = bool(np.all(np.isfinite(err)))
    cond = f"intervals.{method}_box"
    witness = {"z_approx": zt, "v_upper": v_box.upper.copy(), "v_lower": v_box.lower.copy(),
               "conditions": tuple(k for k, c in proofs.items() if c.certified)}
    if "mu_inf" in proofs and "eta" in proofs["mu_inf"].witness:
        witness["eta"] = proofs["mu_inf"].witness["eta"]
    if ok:
        e_up, e_lo = err[:n], err[n:]
        lo = np.nextafter(zt[n:] - e_lo, -np.inf)
        hi = np.nextafter(zt[:n] + e_up, np.inf)
        lo = np.maximum(lo, 0.0)  # z* = relu(.) >= 0 exactly
        if np.any(lo > hi):  # cannot happen when the proofs hold; refuse to claim anything
            ok = False
    if ok:
        box = Box(lo, hi)
        status, msg = Status.CERTIFIED, (f"{method} box proved via {', '.join(witness['conditions'])}; "
                                          f"max widening {float(np.max(err)):.3g}")
    else:
        box = Box(np.full(n, -math.inf), np.full(n, math.inf))
        refuted = any(c.status is Status.REFUTED for c in proofs.values()) and len(proofs) == len(conditions) \
            and all(not c.certified for c in proofs.values())
        status = Status.INCONCLUSIVE
        msg = (f"{method} box: no well-posedness condition of the lift was proved "
               f"({', '.join(f'{k}: {c.status.value}' for k, c in proofs.items())}); returning the trivial box"
               + (" (the lift is provably not monotone)" if refuted else ""))
    cert = Certificate(cond, status, margin=best_margin if ok else -math.inf, witness=witness,
                       tolerance={"residual_sup": sol.residual_norm},
                       residuals={"residual_sup": sol.residual_norm, "max_error": float(np.max(err))},
                       stats={"solver": sol.method, "iterations": sol.iterations, "n_lift": 2 * n,
                              **{f"{k}_status": c.status.value for k, c in proofs.items()},
                              **{f"{k}_margin": float(c.margin) for k, c in proofs.items()}},
                       message=msg)
    return IntervalBound(box=box, upper_approx=zt[:n].copy(), lower_approx=zt[n:].copy(), error=err,
                         method=method, certificate=cert)


def ibp_box(W: Any, v_box: Box, **kw: Any) -> IntervalBound:
    r"""IBP fixed point (wei2022 eq. 3.3 / 3.6, li2022 eq. 5) for the pre-activation box ``v_box``,
    rigorously widened. Valid under wei2022 Prop 3.2 (:math:`I - \widehat W \succ 0`), li2022
    Prop 3.1 (:math:`\|\widehat W\|_2<1`, which implies the former) or a proved
    :math:`\mu_\infty(\widehat W) < 1`. See :func:`lifted_box`."""
    return lifted_box(W, v_box, "ibp", **kw)


def metzler_box(W: Any, v_box: Box, **kw: Any) -> IntervalBound:
    r"""Embedded-network (mixed-monotone, Metzler split) fixed point (jafarpour2022 eq. 6, Thm 6.3)
    for the pre-activation box ``v_box``, rigorously widened. Never looser than :func:`ibp_box`
    (jafarpour2022 Remark 6.4.4) and well-posed whenever :math:`\mu_{\infty,[\eta]^{-1}}(W) < 1`,
    which does *not* make the IBP fixed point well posed. See :func:`lifted_box`."""
    return lifted_box(W, v_box, "metzler", **kw)


def interval_bounds(W: Any, U: Any, b: Any, x_box: Box, method: str = "metzler", **kw: Any) -> IntervalBound:
    r"""Box containing :math:`z^\star(x)` for every x in ``x_box``: :func:`affine_box` for
    :math:`Ux+b` followed by :func:`lifted_box` (jafarpour2022 Thm 6.3(2)/(4); wei2022 eq. 3.6)."""
    W = as_square("W", W)
    U = as_matrix("U", U, shape=(W.shape[0], None))
    return lifted_box(W, affine_box(U, b, x_box), method, **kw)


# ----------------------------------------------------------------------------------------------
# Output boxes and margins (last layer folded)
# ----------------------------------------------------------------------------------------------

def _lin_lower(C: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    r"""Rows of :math:`C_+\,\text{lo} + C_-\,\text{hi}` (= min of :math:`c^\top z` over the box) with
    0·∞ treated as 0; not rounded."""
    Cp, Cm = np.maximum(C, 0.0), np.minimum(C, 0.0)
    with np.errstate(invalid="ignore"):
        a = np.where(Cp != 0, Cp * lo[None, :], 0.0)
        c = np.where(Cm != 0, Cm * hi[None, :], 0.0)
    return a.sum(axis=1) + c.sum(axis=1)


def _round_err(C: np.ndarray, lo: np.ndarray, hi: np.ndarray, c0: np.ndarray, extra: int = 0) -> np.ndarray:
    r"""Rounding allowance :math:`(1+10^{-6})\gamma_{k+3+\text{extra}}(|C|\max(|lo|,|hi|) + |c_0|)`
    (``extra=2`` also covers forming :math:`C = g_c - g_j` and :math:`c_0` in floating point)."""
    az = np.maximum(np.abs(lo), np.abs(hi))
    with np.errstate(invalid="ignore"):
        t = np.where(C != 0, np.abs(C) * az[None, :], 0.0).sum(axis=1)
    return INFLATE * gamma(C.shape[1] + 3 + extra) * (t + np.abs(c0))


def output_box(G: Any, b_y: Any, z_box: Box) -> Box:
    r"""jafarpour2022 Thm 6.3(3): :math:`[G_+\underline z + G_-\bar z + b_y,\ G_+\bar z + G_-\underline z + b_y]`
    (the tightest box containing :math:`\{Gz + b_y: z\in\text{z\_box}\}`), rounded outward."""
    if not isinstance(z_box, Box):
        raise DomainError(f"z_box: expected a Box, got {type(z_box).__name__}")
    G = as_matrix("G", G, shape=(None, z_box.dim))
    b_y = np.zeros(G.shape[0]) if b_y is None else as_vector("b_y", b_y, n=G.shape[0])
    lo = _lin_lower(G, z_box.lower, z_box.upper) + b_y
    hi = -_lin_lower(-G, z_box.lower, z_box.upper) + b_y
    e = _round_err(G, z_box.lower, z_box.upper, b_y)
    with np.errstate(invalid="ignore"):
        return Box(np.nextafter(lo - e, -np.inf), np.nextafter(hi + e, np.inf))


def margin_lower_bounds(G: Any, b_y: Any, z_box: Box, label: int) -> np.ndarray:
    r"""Lower bounds on the pairwise margins :math:`(g_c - g_j)^\top z + b_{y,c} - b_{y,j}` over
    :math:`z \in` ``z_box`` with the last layer folded into :math:`e_c - e_j` (jafarpour2022 eq. 10
    with :math:`T^x`; the standard IBP "elision"): with :math:`c_j = g_c - g_j`,
    :math:`\underline m_j = (c_j)_+^\top\underline z + (c_j)_-^\top\bar z + b_{y,c} - b_{y,j}`, rounded
    down. Entry ``label`` is ``+inf``. Never smaller than the output-box bound
    :math:`\underline y_c - \bar y_j`."""
    if not isinstance(z_box, Box):
        raise DomainError(f"z_box: expected a Box, got {type(z_box).__name__}")
    G = as_matrix("G", G, shape=(None, z_box.dim))
    p = G.shape[0]
    b_y = np.zeros(p) if b_y is None else as_vector("b_y", b_y, n=p)
    label = int(label)
    if not 0 <= label < p:
        raise DomainError(f"label: must be in [0, {p}), got {label}")
    C = G[label][None, :] - G
    c0 = b_y[label] - b_y
    lo = _lin_lower(C, z_box.lower, z_box.upper) + c0
    e = _round_err(C, z_box.lower, z_box.upper, c0, extra=2)
    with np.errstate(invalid="ignore"):
        out = np.nextafter(lo - e, -np.inf)
    out = np.where(np.isnan(out), -np.inf, out)
    out[label] = math.inf
    return out


def certify_linf_box(W: Any, U: Any, b: Any, G: Any, b_y: Any, x: Any, label: int, eps: Any, *,
                     method: str = "metzler", **kw: Any) -> Certificate:
    r"""jafarpour2022 eq. (14) (inclusion-function certificate; with ``method="ibp"`` the
    IBP-MonDEQ certificate of wei2022 §2): certified for :math:`\|x' - x\|_\infty \le \varepsilon` iff
    :math:`\min_{j\ne c}\underline m_j > 0` with :math:`\underline m` from :func:`margin_lower_bounds`
    on the rigorously widened box of :func:`interval_bounds` for :math:`[x - \varepsilon, x + \varepsilon]`.
    (The paper's "≥ 0" is made strict.) Returns ``Certificate("intervals.linf_box")`` with margin
    :math:`\min_{j\ne c}\underline m_j` and witness (label, eps, method, box, margins)."""
    W = as_square("W", W)
    n = W.shape[0]
    U = as_matrix("U", U, shape=(n, None))
    G = as_matrix("G", G, shape=(None, n))
    x = as_vector("x", x, n=U.shape[1])
    eps = as_scalar("eps", eps, nonnegative=True)
    ib = interval_bounds(W, U, b, Box.ball(x, eps), method, **kw)
    m = margin_lower_bounds(G, b_y, ib.box, label)
    margin = float(np.min(m)) if G.shape[0] > 1 else math.inf
    st = Status.CERTIFIED if (ib.certified and margin > 0) else Status.INCONCLUSIVE
    return Certificate("intervals.linf_box", st, margin=margin,
                       witness={"label": int(label), "eps": eps, "method": method,
                                "z_lower": ib.box.lower, "z_upper": ib.box.upper, "margins": m},
                       stats={"box_status": ib.certificate.status.value, **dict(ib.certificate.stats)},
                       message=f"linf {method}-box certificate eq. (14): margin {margin:.6g}"
                       + ("" if ib.certified else " (box not certified)"))


# ----------------------------------------------------------------------------------------------
# Verifiers
# ----------------------------------------------------------------------------------------------

def _verify_box(cert: Certificate, method: str, W: Any) -> Certificate:
    W = as_square("W", W)
    vb = Box(cert.witness["v_lower"], cert.witness["v_upper"])
    fresh = lifted_box(W, vb, method)
    return fresh.certificate


@register_verifier("intervals.ibp_box")
def _verify_ibp_box(cert: Certificate, *, W: Any) -> Certificate:
    """Recompute the IBP box for the witness input box (fresh solve, fresh proofs)."""
    return _verify_box(cert, "ibp", W)


@register_verifier("intervals.metzler_box")
def _verify_metzler_box(cert: Certificate, *, W: Any) -> Certificate:
    """Recompute the Metzler box for the witness input box (fresh solve, fresh proofs)."""
    return _verify_box(cert, "metzler", W)


@register_verifier("intervals.linf_box")
def _verify_linf_box(cert: Certificate, *, W: Any, U: Any, b: Any = None, G: Any, b_y: Any = None,
                     x: Any) -> Certificate:
    """Recompute the margin lower bounds from the witness box with numpy (box re-derived)."""
    return certify_linf_box(W, U, b, G, b_y, x, int(cert.witness["label"]), float(cert.witness["eps"]),
                            method=cert.witness.get("method", "metzler"))
