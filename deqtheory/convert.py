r"""Lipschitz-preserving reparameterizations into LBEN (havens2023 §3, App. C, App. D).

Every function here takes a network of one family and returns a frozen :class:`Conversion`: the
LBEN parameters :math:`(\Psi, G, U, V, S, \varepsilon, L)` of havens2023 eq. (7) (project
convention, skew term :math:`S^\top - S`),

.. math:: W = I - \Psi\Big(\tfrac1{2L}G^\top G + \tfrac1{2L}\Psi^{-1}UU^\top\Psi^{-1} + V^\top V
          + S^\top - S + \varepsilon I\Big),

the DEQ arrays :math:`z = \phi(Wz + Ux + b)`, :math:`y = Gz + b_y` with ``W`` *recomputed from
those parameters* by :meth:`deqtheory.parametrizations.LBEN.forward` (so ``W`` is the LBEN's
``W``, equal to the source's DEQ ``W`` up to rounding — recorded in ``residuals``), the
identity-activation mask (SLL skip block, havens2023 footnote 3), the analytic multiplier
:math:`\Lambda = \Psi^{-1}` of the paper, and a *verified* certificate of the Lipschitz bound.

All conversions share one recipe: with the analytic Λ and the prescribed L,

.. math:: M = \Lambda(I - W) - \tfrac1{2L}(G^\top G + \Lambda UU^\top\Lambda), \quad
          V^\top V = \tfrac12(M + M^\top) \succeq 0, \quad S^\top - S = \tfrac12(M - M^\top),
          \quad \Psi = \Lambda^{-1},\ \varepsilon = 0,

and ``½(M + Mᵀ)`` is exactly the left side of the non-strict LMI (10) divided by 2. It is
factored with an eigendecomposition with clipping (:func:`deqtheory.linalg.psd_factor` /
:func:`deqtheory.explicit.lben_from_deqform`): ``V`` is never indefinite (``VᵀV``, never ``V·V``),
and an *indefinite* ``½(M + Mᵀ)`` (a source that violates its own constraint) raises.

Families (havens2023 numbering):

* :func:`mondeq_to_lben` — Thm 3.2 (G = I, ‖U‖₂ ≤ m, L = 1) and its general-G form
  Λ = (‖G‖₂/‖U‖₂)I, L ≥ ‖G‖₂‖U‖₂/m (default: equality);
* :func:`gmondeq_to_lben` — Thm 3.4 (Λ = Φ⁻¹/‖Φ⁻¹U‖₂) and its general-G form
  Λ = (‖G‖₂/‖Φ⁻¹U‖₂)Φ⁻¹, L ≥ ‖G‖₂‖Φ⁻¹U‖₂/m;
* :func:`sll_to_lben` (SLL and CPL) — Thm 3.5, eqs. (13)–(16), App. C;
* :func:`aol_to_lben` — App. D.1 (Λ = I, L = 1);
* :func:`sandwich_to_lben` — App. D.2 (Λ = diag(Φ_n²)), optionally with the analytic V of
  eq. (23) as corrected (:func:`deqtheory.explicit.sandwich_analytic_V`);
* :func:`deqform_to_lben` — any :class:`deqtheory.explicit.DEQForm` carrying an analytic Λ, L.

**Certificate.** (10) holds with these Λ only *non-strictly* (SLL: a zero block; Thm 3.2 with
‖U‖₂ = m: λ_min = 0), and floating point can only prove strict definiteness. We therefore prove
the strict inequality (4) with the *same* Λ at a backed-off constant ``L' = L(1 + δ)``, δ the
smallest of 0, 1e-15, 1e-14, …, 1e-6 for which :func:`deqtheory.verified.verified_pd` proves
λ_min > 0 (the matrix grows by :math:`(1/L - 1/L')(G^\top G + \Lambda UU^\top\Lambda)`, which is
positive on the kernel of ``VᵀV`` for every family here). Prop. 2.2 / (4) then gives: the
stored DEQ (with its floating-point ``W``) is well-posed and ``L'``-Lipschitz. The certificate's
condition is ``"lben_conversion"``; ``cert.verify(W=, U=, G=)`` recomputes it with numpy alone.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Any, Dict, Optional, Tuple

import numpy as np

from . import explicit as _ex
from ._validate import as_matrix, as_positive_diagonal, as_scalar, as_square, as_vector
from .certificates import Certificate, Status, register_verifier
from .errors import DomainError, DTypeError, ShapeError
from .linalg import psd_factor
from .model import DEQ
from .solvers import SolverStatus
from .parametrizations.lben import LBEN, LBENParams, lben_lhs
from .verified import UNIT_ROUNDOFF, verified_pd

__all__ = ["Conversion", "EXACT_ROUNDING", "conversion_projection", "ExactDEQ", "snapped_dag_solve",
           "certify_lben_lipschitz", "mondeq_to_lben", "gmondeq_to_lben", "sll_to_lben",
           "aol_to_lben", "sandwich_to_lben", "deqform_to_lben", "lben_conversion_from_params",
           "BACKOFFS", "trivial_mondeq_lben_L", "ConvLBEN", "ConvSolveResult", "conv_sll_to_lben",
           "certify_conv_lben"]

_U = UNIT_ROUNDOFF

#: A conversion is exact when the PSD factorization of ½(M + Mᵀ) clipped at most
#: EXACT_ROUNDING · u · (√n ‖E‖₂ + n ‖½(M + Mᵀ)‖₂), E the entrywise magnitude of the terms that formed it
#: (the size of its rounding and of the eigendecomposition's; :func:`conversion_projection`).
EXACT_ROUNDING = 4.0

#: relative back-offs δ tried (in order) for the strict certificate at L' = L(1 + δ)
BACKOFFS: Tuple[float, ...] = (0.0,) + tuple(10.0 ** k for k in range(-15, -5))


@dataclasses.dataclass(frozen=True, eq=False)
class Conversion:
    r"""Result of a reparameterization into LBEN (havens2023 §3).

    Attributes
    ----------
    source : family name (``"mondeq"``, ``"gmondeq"``, ``"sll"``, ``"cpl"``, ``"aol"``, ``"sandwich"``, …).
    params : :class:`deqtheory.parametrizations.lben.LBENParams` (``log_psi``, ``G``, ``U``, ``V``, ``S``).
    L, eps : the LBEN's prescribed constant and ε (= 0 for every theorem here).
    model : the converted :class:`deqtheory.model.DEQ` (validated, read-only): ``W = LBEN(L, eps).forward(params)``,
        U, b, G, b_y and ``identity_mask`` (coordinates with identity activation, the SLL skip block);
        ``W``, ``U``, ``b``, ``G``, ``b_y``, ``identity_mask`` read through to it.
    lam : the analytic multiplier Λ = Ψ⁻¹ (n,).
    W_source : the source network's DEQ ``W`` (exact formula, before the LBEN round trip).
    certificate : ``Certificate("lben_conversion")`` of (4) with Λ at ``L_certified``.
    L_certified : L' = L(1 + δ) proved (see module docstring); ``inf`` if no back-off ≤ 1e-6 worked.
    residuals : ``W_rel`` = ‖W − W_source‖_F/max(1, ‖W_source‖_F); ``VtV_rel`` = ‖VᵀV − ½(M+Mᵀ)‖_F / max(1, ‖½(M+Mᵀ)‖_F);
        extra family-specific entries (``eq23_rel`` for Sandwich).
    blocks : the source's layer blocks ``((start, stop), …)`` for feed-forward sources, else ``None``.
    projection : ‖VᵀV − ½(M+Mᵀ)‖₂ / ‖½(M+Mᵀ)‖₂ — how much the PSD factorization clipped, i.e. by how much
        the source violates the conversion's hypothesis (½(M+Mᵀ) ⪰ 0) and the LBEN differs from it.
    exact : ``True`` when that clipping is rounding only (:func:`conversion_projection`):
        the LBEN is the source (outputs equal up to rounding). ``False`` only with ``allow_projection=True``
        (otherwise a projecting conversion raises :class:`DomainError`): the LBEN is the *projected*
        model, certified for itself, not for the source.
    """

    source: str
    params: LBENParams
    L: float
    eps: float
    model: DEQ
    lam: np.ndarray
    W_source: np.ndarray
    certificate: Certificate
    L_certified: float
    residuals: Dict[str, float]
    blocks: Optional[Tuple[Tuple[int, int], ...]] = None
    projection: float = 0.0
    exact: bool = True

    def __getattr__(self, name: str) -> Any:
        """``W``, ``U``, ``b``, ``G``, ``b_y``, ``identity_mask``: the arrays of :attr:`model`."""
        if name in ("W", "U", "b", "G", "b_y", "identity_mask"):
            return getattr(self.model, name)
        raise AttributeError(name)

    @property
    def psi(self) -> np.ndarray:
        """Ψ = exp(log_psi) (n,)."""
        return self.params.psi

    @property
    def V(self) -> np.ndarray:
        return self.params.V

    @property
    def S(self) -> np.ndarray:
        return self.params.S

    @property
    def n(self) -> int:
        return int(self.W.shape[0])

    def lben(self) -> LBEN:
        """The :class:`~deqtheory.parametrizations.LBEN` parametrization (L, ε) of this result."""
        return LBEN(L=self.L, eps=self.eps)

    def deq(self) -> DEQ:
        """The converted model as a :class:`deqtheory.model.DEQ` (with the identity mask) whose default
        evaluation is as exact as ``deqtheory eval``: :class:`ExactDEQ` (the arrays of :attr:`model`)."""
        m = self.model
        return ExactDEQ(m.W, m.U, m.b, m.G, m.b_y, identity_mask=m.identity_mask)

    def deq_arrays(self) -> Dict[str, np.ndarray]:
        """``{"W", "U", "b", "G", "b_y", "identity_mask"}``."""
        return {"W": self.W, "U": self.U, "b": self.b, "G": self.G, "b_y": self.b_y,
                "identity_mask": self.identity_mask}


def snapped_dag_solve(W: Any, U: Any, b: Any, X: Any, *, tol: Optional[float] = None,
                      identity_mask: Any = None) -> "Optional[Any]":
    r"""The exact fixed point of a DEQ whose W is feed-forward **up to rounding** (a converted explicit
    net: LBEN's W = formula(params) leaves entries ≈ u·max|W| in blocks that are exactly zero in the
    source), or ``None``.

    Entries :math:`|W_{ij}| \le 64\,n\,u\max|W|` are set to 0; when that matrix is a DAG
    (:func:`deqtheory.graph.is_feedforward`) the fixed point is found by the exact DAG solve on it, and
    accepted only when its residual **re-measured with the stored W** is ≤ ``tol`` (the returned
    :class:`~deqtheory.solvers.FixedPointResult` carries that residual; ``method`` is ``exact_dag`` or
    ``exact_dag(snapped)``). The one such solve: ``deqtheory eval`` and :meth:`Conversion.deq` use it."""
    from . import graph, solvers

    W = np.asarray(W)
    n = W.shape[0]
    snap = 64 * n * _U * float(np.max(np.abs(W))) if W.size else 0.0
    Ws = np.where(np.abs(W) <= snap, 0.0, W)
    if not graph.is_feedforward(Ws).certified:
        return None
    r = solvers.solve(Ws, U, b, X, method="exact_dag", tol=tol, identity_mask=identity_mask)
    res = np.atleast_1d(solvers.fixed_point_residual(W, U, b, r.z, X, identity_mask=identity_mask))
    rmax = float(np.max(res))
    if rmax > r.tol:
        return None
    method = "exact_dag" + ("" if snap == 0 or np.array_equal(Ws, W) else "(snapped)")
    return dataclasses.replace(r, residual=rmax, sample_residuals=res, method=method)


class ExactDEQ(DEQ):
    """A :class:`~deqtheory.model.DEQ` (a converted model, :meth:`Conversion.deq`) whose default solve
    (``method="auto"``) is :func:`snapped_dag_solve` when W is feed-forward up to rounding — the
    evaluation of ``deqtheory eval``, exact to ~1e-15 — and the usual ``auto`` solve otherwise."""

    def solve(self, x: Any, method: str = "auto", tol: Optional[float] = None, max_iter: Optional[int] = None,
              **options: Any) -> Any:
        if method == "auto" and not options:
            r = snapped_dag_solve(self.W, self.U, self.b, self._inputs(x), tol=tol, identity_mask=self._mask)
            if r is not None:
                return r
        return super().solve(x, method=method, tol=tol, max_iter=max_iter, **options)


# ----------------------------------------------------------------------------------------------
# certificate
# ----------------------------------------------------------------------------------------------

def certify_lben_lipschitz(W: Any, U: Any, G: Any, lam: Any, L: Any, *,
                           backoffs: Tuple[float, ...] = BACKOFFS, blocks: Any = None) -> Tuple[Certificate, float]:
    r"""Prove havens2023 (4) (strict) for (W, U, G) with the given diagonal Λ at ``L' = L(1 + δ)``.

    For δ in ``backoffs`` (increasing), forms :math:`2\Lambda - \Lambda W - W^\top\Lambda - G^\top G/L'
    - \Lambda UU^\top\Lambda/L'` with a rounding bound (:func:`deqtheory.parametrizations.lben.lben_lhs`)
    and runs :func:`deqtheory.verified.verified_pd`; returns ``(certificate, L')`` for the first δ
    that proves λ_min > 0 (status CERTIFIED, margin = proved λ_min lower bound), else the last
    attempt's certificate (INCONCLUSIVE/REFUTED) and ``L' = inf``. CERTIFIED ⇒ well-posed and
    L'-Lipschitz x → y for any activation slope-restricted on [0, 1] (ReLU, identity; Prop. 2.2).

    ``blocks`` (layer blocks of a feed-forward source): when the analytic Λ itself fails at some
    δ > 0, also try the *tilted* multiplier :math:`\Lambda_k \leftarrow (1 - \delta/4)^k\Lambda_k` on
    block k. Needed when the source is exactly tight (e.g. SLL with ``T_n = W_nᵀW_n``, k_n = 1):
    then (10) is singular on a subspace that ``GᵀG + ΛUUᵀΛ`` does not touch, and the tilt
    (which shifts weight towards earlier layers) makes the inequality strict with λ_min ≈ δ.
    The witness records the Λ actually used (``witness["lam"]``, ``stats["tilt"]``).
    """
    W = as_square("W", W)
    n = W.shape[0]
    U = as_matrix("U", U, shape=(n, None))
    G = as_matrix("G", G, shape=(None, n))
    lam = as_positive_diagonal("lam", lam, n=n)
    L = as_scalar("L", L, positive=True)
    last = None
    for delta in backoffs:
        Lp = L * (1.0 + delta)
        tilts = (0.0, 0.25) if (blocks is not None and delta > 0) else (0.0,)
        for kappa in tilts:
            lam_t = lam
            if kappa:
                lam_t = lam.copy()
                for k, (s0, e0) in enumerate(blocks):
                    lam_t[int(s0):int(e0)] *= (1.0 - kappa * delta) ** k
            lhs, err = lben_lhs(W, lam_t, G, U, Lp)
            c = verified_pd(lhs, abs_err=err, name="LHS(4)")
            cert = Certificate("lben_conversion", c.status, margin=c.margin,
                               witness={"lam": lam_t, "L": Lp, **({"v": c.witness["v"]} if "v" in c.witness else {})},
                               tolerance={"abs_err": err, "backoff": delta},
                               stats={**dict(c.stats), "L_prescribed": L, "backoff": delta, "tilt": kappa * delta},
                               message=f"havens2023 (4) with the analytic Lambda" + (" (tilted)" if kappa else "")
                                       + f" at L' = L(1 + {delta:g}) = {Lp:.17g}: " + c.message)
            last = cert
            if c.certified:
                return cert, Lp
    return last, math.inf


@register_verifier("lben_conversion")
def _verify_conversion(cert: Certificate, *, W: Any, U: Any, G: Any) -> Certificate:
    c, _ = certify_lben_lipschitz(W, U, G, cert.witness["lam"], cert.witness["L"], backoffs=(0.0,))
    return c


# ----------------------------------------------------------------------------------------------
# shared assembly
# ----------------------------------------------------------------------------------------------

def _rel(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b)) / max(1.0, float(np.linalg.norm(b)))


def lben_conversion_from_params(source: str, params: LBENParams, L: float, *, b: Any = None, b_y: Any = None,
                                identity_mask: Any = None, W_source: Any = None, VtV_target: Any = None,
                                blocks: Any = None, extra: Optional[Dict[str, float]] = None,
                                eps: float = 0.0, allow_projection: bool = False, scale: float = 0.0) -> Conversion:
    """Assemble a :class:`Conversion` from LBEN parameters: ``W = LBEN(L, eps).forward(params)``,
    the certificate (:func:`certify_lben_lipschitz` with Λ = Ψ⁻¹) and the residuals against
    ``W_source`` / ``VtV_target`` (when given). With ``VtV_target`` (the unclipped ½(M + Mᵀ); ``scale``
    = ‖E‖₂ for the entrywise magnitude E of the terms that formed it) the projection is measured (:func:`conversion_projection`)
    and a conversion that is not exact raises :class:`DomainError` unless ``allow_projection``."""
    projection, exact = 0.0, True
    if VtV_target is not None:
        projection, exact = conversion_projection(params.V, VtV_target, scale)
        if not exact and not allow_projection:
            raise DomainError(
                f"{source}: the source violates the conversion's hypothesis 1/2 (M + M^T) >= 0 by {projection:.3e} "
                f"relative (more than the rounding of forming it); the LBEN would be a projected model, not the "
                "source. Pass allow_projection=True (deqtheory convert --allow-projection) to convert anyway")
    lb = LBEN(L=L, eps=eps)
    W = lb.forward(params)
    n = W.shape[0]
    G, U = np.asarray(params.G, dtype=float), np.asarray(params.U, dtype=float)
    bv = np.zeros(n) if b is None else as_vector("b", b, n=n)
    by = np.zeros(G.shape[0]) if b_y is None else as_vector("b_y", b_y, n=G.shape[0])
    mask = np.zeros(n, dtype=bool) if identity_mask is None else np.asarray(identity_mask, dtype=bool)
    if mask.shape != (n,):
        raise ShapeError(f"identity_mask: expected shape ({n},), got {mask.shape}")
    lam = 1.0 / params.psi
    cert, Lp = certify_lben_lipschitz(W, U, G, lam, L, blocks=blocks)
    res: Dict[str, float] = {}
    Ws = W if W_source is None else np.asarray(W_source, dtype=float)
    res["W_rel"] = _rel(W, Ws)
    if VtV_target is not None:
        res["VtV_rel"] = _rel(params.V.T @ params.V, np.asarray(VtV_target))
    if extra:
        res.update(extra)
    return Conversion(source=source, params=params, L=float(L), eps=float(eps),
                      model=DEQ(W, U, bv, G, by, identity_mask=mask), lam=lam, W_source=Ws, certificate=cert, L_certified=float(Lp),
                      residuals=res, blocks=None if blocks is None else tuple(tuple(int(v) for v in bk) for bk in blocks),
                      projection=projection, exact=exact)


def conversion_projection(V: np.ndarray, target: Any, terms: float = 0.0) -> Tuple[float, bool]:
    r"""(projection, exact) of a factor ``V`` of the target :math:`T = \tfrac12(M + M^\top)` (PSD for a source
    that satisfies the conversion's hypothesis): projection = :math:`\|V^\top V - T\|_2 / \|T\|_2` (what the
    clipping removed, relative; 0 when nothing was), exact iff
    :math:`\|V^\top V - T\|_2 \le` :data:`EXACT_ROUNDING` · u · (√n ``terms`` + n‖T‖₂), with ``terms`` = ‖E‖₂
    for the entrywise magnitude E of the terms that formed T (the statistical size of their rounding) and
    n‖T‖₂ u the backward error of the eigendecomposition that factors T.
    A source that violates its hypothesis by more than that is reported projected."""
    T = np.asarray(target, dtype=float)
    n = T.shape[0]
    if n == 0:
        return 0.0, True
    clipped = _norm2(V.T @ V - T)
    nT = _norm2(T)
    exact = clipped <= EXACT_ROUNDING * _U * (math.sqrt(n) * max(float(terms), nT) + n * nT)
    return (clipped / nT if nT > 0 else (0.0 if clipped == 0 else math.inf)), bool(exact)


def _factor(VtV: np.ndarray, scale: float, allow_projection: bool = False) -> np.ndarray:
    """:func:`deqtheory.linalg.psd_factor` with the indefiniteness tolerance ``1e3 n u · scale``
    measured against the magnitude ``scale`` of the *terms* that formed ``VtV`` (it can be exactly
    singular, even 0, while its terms are not); a genuinely indefinite VᵀV raises."""
    n = VtV.shape[0]
    nrm = float(np.linalg.norm(VtV, 2)) if VtV.size else 0.0
    t = math.inf if allow_projection else 1e3 * n * _U * max(scale, 1e-300) / max(nrm, 1e-300)
    return psd_factor(VtV, tol=t)


def _terms_norm(lam: np.ndarray, absA: Optional[np.ndarray], absG: np.ndarray, absLU: np.ndarray, L: float,
                m: float, W: Optional[np.ndarray] = None) -> float:
    """‖E‖₂ for the entrywise magnitude E of the terms of ½(M + Mᵀ): λ(I + |W|) symmetrized (or, for the MonDEQ
    forms, λ(mI + |A|ᵀ|A|)) plus (|G|ᵀ|G| + |ΛU||ΛU|ᵀ)/(2L)."""
    n = lam.shape[0]
    if W is not None:
        K = lam[:, None] * (np.eye(n) + np.abs(W))
        E = 0.5 * (K + K.T)
    else:
        E = lam[:, None] * (m * np.eye(n) + absA.T @ absA)
    return _norm2(E + (absG.T @ absG + absLU @ absLU.T) / (2 * L))


def _norm2(A: np.ndarray) -> float:
    return float(np.linalg.norm(A, 2)) if A.size else 0.0


def _check_L(L: Any, L_min: float) -> float:
    if L is None:
        return L_min
    L = as_scalar("L", L, positive=True)
    if L < L_min * (1 - 1e-12):
        raise DomainError(f"L: must be >= the prescribed constant {L_min:.17g} of the source (got {L:.17g}); "
                          f"the analytic multiplier does not certify a smaller L")
    return L


# ----------------------------------------------------------------------------------------------
# MonDEQ / G-MonDEQ (Thm 3.2, Thm 3.4)
# ----------------------------------------------------------------------------------------------

def _mon_common(A, B, m, U, G, phi):
    B = as_square("B", B)
    n = B.shape[0]
    A = as_matrix("A", A, shape=(None, n))
    m = as_scalar("m", m, positive=True)
    U = as_matrix("U", U, shape=(n, None))
    G = np.eye(n) if G is None else as_matrix("G", G, shape=(None, n))
    phi = None if phi is None else as_positive_diagonal("phi", phi, n=n)
    return A, B, m, U, G, phi, n


def mondeq_to_lben(A: Any, B: Any, m: Any, U: Any, G: Any = None, b: Any = None, b_y: Any = None, *,
                   L: Any = None, allow_projection: bool = False) -> Conversion:
    r"""MonDEQ :math:`W = (1-m)I - A^\top A + B - B^\top` (eq. 5) → LBEN (havens2023 Thm 3.2, general G).

    With :math:`g = \|G\|_2` (G = I by default), :math:`u = \|U\|_2`, :math:`c = g/u`:
    :math:`\Lambda = cI`, :math:`\Psi = (u/g)I`, :math:`S = cB`, :math:`\varepsilon = 0`,

    .. math:: V^\top V = c(mI + A^\top A) - \tfrac1{2L}G^\top G - \tfrac{c^2}{2L}UU^\top \succeq 0
              \quad\text{for } L \ge gu/m

    (since :math:`G^\top G \preceq g^2 I` and :math:`c^2UU^\top \preceq g^2 I`). ``L`` defaults to the
    MonDEQ's constant :math:`gu/m` (pabbaraju2021 Thm 1 / havens2023 §3.1). **Thm 3.2 verbatim**:
    G = I, ‖U‖₂ ≤ m, ``L=1`` gives Ψ = ‖U‖₂I, S = B/‖U‖₂ and eq. (11)
    :math:`V^\top V = (m/u - 1/2)I + A^\top A/u - UU^\top/(2u^2)`.
    """
    A, B, m, U, G, _, n = _mon_common(A, B, m, U, G, None)
    u, g = _norm2(U), _norm2(G)
    if u == 0.0 or g == 0.0:
        raise DomainError(f"U, G: need nonzero U and G (||U||_2 = {u}, ||G||_2 = {g}); the multiplier "
                          f"Lambda = (||G||/||U||) I is undefined")
    L = _check_L(L, g * u / m)
    c = g / u
    VtV = c * (m * np.eye(n) + A.T @ A) - (G.T @ G) / (2 * L) - (c * c) * (U @ U.T) / (2 * L)
    scale = c * (m + _norm2(A) ** 2) + g * g / L
    V = _factor(VtV, scale, allow_projection)
    terms = _terms_norm(np.full(n, c), np.abs(A), np.abs(G), np.abs(U) * c, L, m)
    params = LBENParams(log_psi=np.full(n, math.log(u / g)), G=G.copy(), U=U.copy(), V=V, S=c * B)
    W_src = ((1.0 - m) * np.eye(n) - A.T @ A) + (B - B.T)
    return lben_conversion_from_params("mondeq", params, L, b=b, b_y=b_y, W_source=W_src, VtV_target=VtV,
                                       allow_projection=allow_projection, scale=terms)


def gmondeq_to_lben(A: Any, B: Any, phi: Any, m: Any, U: Any, G: Any = None, b: Any = None, b_y: Any = None, *,
                    L: Any = None, allow_projection: bool = False) -> Conversion:
    r"""G-MonDEQ :math:`W = I - \Phi(A^\top A + B^\top - B + mI)` (eq. 6) → LBEN (havens2023 Thm 3.4, general G).

    With :math:`w = \|\Phi^{-1}U\|_2`, :math:`g = \|G\|_2`, :math:`c = g/w`: :math:`\Lambda = c\Phi^{-1}`,
    :math:`\Psi = (w/g)\Phi`, :math:`S = cB`, :math:`\varepsilon = 0`,

    .. math:: V^\top V = c(A^\top A + mI) - \tfrac1{2L}G^\top G - \tfrac{c^2}{2L}\Phi^{-1}UU^\top\Phi^{-1}
              \succeq 0 \quad\text{for } L \ge gw/m.

    ``L`` defaults to :math:`gw/m` (Thm 3.3 for G = I). Thm 3.4 verbatim: G = I, ``L=1`` (needs
    :math:`w \le m`): Ψ = ‖Φ⁻¹U‖₂Φ, S = B/‖Φ⁻¹U‖₂.
    """
    A, B, m, U, G, phi, n = _mon_common(A, B, m, U, G, phi)
    PU = U / phi[:, None]
    w, g = _norm2(PU), _norm2(G)
    if w == 0.0 or g == 0.0:
        raise DomainError(f"U, G: need nonzero U and G (||Phi^-1 U||_2 = {w}, ||G||_2 = {g})")
    L = _check_L(L, g * w / m)
    c = g / w
    VtV = c * (A.T @ A + m * np.eye(n)) - (G.T @ G) / (2 * L) - (c * c) * (PU @ PU.T) / (2 * L)
    scale = c * (m + _norm2(A) ** 2) + g * g / L
    V = _factor(VtV, scale, allow_projection)
    terms = _terms_norm(np.full(n, c), np.abs(A), np.abs(G), np.abs(PU) * c, L, m)
    params = LBENParams(log_psi=np.log(phi) + math.log(w / g), G=G.copy(), U=U.copy(), V=V, S=c * B)
    W_src = np.eye(n) - phi[:, None] * ((A.T @ A + (B.T - B)) + m * np.eye(n))
    return lben_conversion_from_params("gmondeq", params, L, b=b, b_y=b_y, W_source=W_src, VtV_target=VtV,
                                       allow_projection=allow_projection, scale=terms)


def trivial_mondeq_lben_L(A: Any, B: Any, m: Any, U: Any, G: Any = None) -> float:
    r"""The smallest L for which the *trivial* reparameterization (Revay et al. Remark 2, Ψ = I,
    havens2023 §3.1) is an LBEN: :math:`2(mI + A^\top A) - (G^\top G + UU^\top)/L \succeq 0`, i.e.
    :math:`L = \lambda_{\max}\big(R^{-\top}(G^\top G + UU^\top)R^{-1}\big)/2` with
    :math:`R^\top R = mI + A^\top A` (Cholesky). Floating-point value (for the §3.1 comparison)."""
    A, B, m, U, G, _, n = _mon_common(A, B, m, U, G, None)
    R = np.linalg.cholesky(m * np.eye(n) + A.T @ A).T
    Ri = np.linalg.inv(R)
    K = Ri.T @ (G.T @ G + U @ U.T) @ Ri
    return float(np.linalg.eigvalsh(0.5 * (K + K.T))[-1]) / 2.0


# ----------------------------------------------------------------------------------------------
# explicit feed-forward families (Thm 3.5, App. C, App. D)
# ----------------------------------------------------------------------------------------------

def deqform_to_lben(form: "_ex.DEQForm", *, source: Optional[str] = None, V: Any = None,
                    extra: Optional[Dict[str, float]] = None, allow_projection: bool = False) -> Conversion:
    r"""Any :class:`deqtheory.explicit.DEQForm` with an analytic multiplier (``form.lam``, ``form.L``)
    → LBEN via :func:`deqtheory.explicit.lben_from_deqform` (Thm 3.5 / App. D recipe; S = ½Mᵀ in
    the eq. (7) convention). ``½(M + Mᵀ)`` must be PSD up to rounding — its factor is an eigh
    factor with clipping; if the clipping had to remove more than rounding (:data:`EXACT_ROUNDING` · n · u
    relative, :func:`conversion_projection`), the source violates its constraint and :class:`DomainError`
    is raised — unless ``allow_projection=True``: then the result is the projected LBEN, with
    ``exact=False`` and ``projection`` saying by how much it differs. ``V``
    overrides the factor (e.g. the analytic eq. 23 factor); it must satisfy VᵀV = ½(M + Mᵀ) to
    the same tolerance."""
    if not isinstance(form, _ex.DEQForm):
        raise DTypeError(f"form: expected an explicit.DEQForm, got {type(form).__name__}")
    lp = _ex.lben_from_deqform(form)
    n = form.n
    Sym = lp.S + lp.S.T  # S = ½Mᵀ ⇒ S + Sᵀ = ½(M + Mᵀ), the unclipped target of VᵀV
    lam, L = form.lam, form.L
    LU = lam[:, None] * form.U
    # magnitude of the terms forming ½(M + Mᵀ) (it can cancel to ~0 while they are large)
    scale = max(float(np.max(lam)) * (1.0 + float(np.linalg.norm(form.W))),
                (float(np.linalg.norm(form.G)) ** 2 + float(np.linalg.norm(LU)) ** 2) / (2 * L), 1e-300)
    tol = 1e3 * n * _U * scale
    if lp.residual > tol and not allow_projection:
        w0 = float(np.linalg.eigvalsh(Sym)[0])
        raise DomainError(f"form: 1/2 (M + M^T) is indefinite (lambda_min ~ {w0:.3e}, factor residual "
                          f"{lp.residual:.3e} > {tol:.3e}); the source does not satisfy its Lipschitz constraint")
    Vf = lp.V if V is None else as_matrix("V", V, shape=(None, n))
    if V is not None and float(np.linalg.norm(Vf.T @ Vf - Sym)) > 1e3 * tol:
        raise DomainError(f"V: V^T V differs from 1/2 (M + M^T) by {float(np.linalg.norm(Vf.T @ Vf - Sym)):.3e}")
    params = lp.params if V is None else dataclasses.replace(lp.params, V=Vf)
    return lben_conversion_from_params(source or form.source or "deqform", params, lp.L, b=form.b, b_y=form.b_y,
                                       identity_mask=form.identity_mask, W_source=form.W, VtV_target=Sym,
                                       blocks=form.blocks, extra=extra, allow_projection=allow_projection,
                                       scale=_terms_norm(lam, None, np.abs(form.G), np.abs(LU), L, 1.0, W=form.W))


def sll_to_lben(stack: "_ex.ResidualStack", *, allow_projection: bool = False) -> Conversion:
    r"""SLL / CPL residual stack → 1-Lipschitz LBEN (havens2023 Thm 3.5, eqs. 13–16, App. C).

    DEQ form (:func:`deqtheory.explicit.sll_to_deq`, eq. 14): z = [x̃₀ = x; x̃₁; …; x̃_N], φ = [id, σ, …, σ]
    (``identity_mask`` on the first block), U = [I; 0; …], G = [I, −2W₀T₀⁻¹, …, −2W_{N−1}T_{N−1}⁻¹],
    Λ = blkdiag(I, 2T₀⁻¹, …, 2T_{N−1}⁻¹) (eq. 15), L = 1; Ψ = Λ⁻¹, ε = 0,
    VᵀV = ½(M + Mᵀ) = blkdiag(0, 2T_n⁻¹ − 2T_n⁻¹W_nᵀW_nT_n⁻¹) (eq. 16, all n = 0..N−1),
    S = ½Mᵀ (eq. 7 convention; Thm 3.5 prints ½M). Source name ``"sll"`` / ``"cpl"`` from the layers.
    """
    if not isinstance(stack, _ex.ResidualStack):
        raise DTypeError(f"stack: expected an explicit.ResidualStack, got {type(stack).__name__}")
    kinds = {l.kind for l in stack.layers}
    src = "cpl" if kinds == {"cpl"} else "sll"
    return deqform_to_lben(_ex.sll_to_deq(stack), source=src, allow_projection=allow_projection)


def aol_to_lben(net: "_ex.AOLNet", *, allow_projection: bool = False) -> Conversion:
    r"""AOL net → 1-Lipschitz LBEN (havens2023 App. D.1): Λ = Ψ = I, L = 1, VᵀV = ½(M + Mᵀ), S = ½Mᵀ, ε = 0."""
    if not isinstance(net, _ex.AOLNet):
        raise DTypeError(f"net: expected an explicit.AOLNet, got {type(net).__name__}")
    return deqform_to_lben(_ex.aol_to_deq(net), source="aol", allow_projection=allow_projection)


def sandwich_to_lben(net: "_ex.SandwichNet", *, analytic_V: bool = False,
                     allow_projection: bool = False) -> Conversion:
    r"""Sandwich net → L-Lipschitz LBEN (havens2023 App. D.2): Λ = diag(Φ₀², …, Φ_{N−1}²), Ψ = Λ⁻¹,
    VᵀV = ½(M + Mᵀ), S = ½Mᵀ, ε = 0. ``analytic_V=True`` uses the closed-form factor of eq. (23)
    *as corrected* (:func:`deqtheory.explicit.sandwich_analytic_V`) instead of the eigh factor;
    either way ``residuals["eq23_rel"]`` = ‖V₂₃ᵀV₂₃ − ½(M + Mᵀ)‖_F / max(1, ‖½(M + Mᵀ)‖_F)."""
    if not isinstance(net, _ex.SandwichNet):
        raise DTypeError(f"net: expected an explicit.SandwichNet, got {type(net).__name__}")
    form = _ex.sandwich_to_deq(net)
    V23 = _ex.sandwich_analytic_V(net)
    lp = _ex.lben_from_deqform(form)
    Sym = lp.S + lp.S.T
    eq23 = _rel(V23.T @ V23, Sym)
    return deqform_to_lben(form, source="sandwich", V=V23 if analytic_V else None, extra={"eq23_rel": eq23},
                           allow_projection=allow_projection)


# ----------------------------------------------------------------------------------------------
# circular convolutions: conv SLL / CPL → conv LBEN (havens2023 §4.1, App. E)
# ----------------------------------------------------------------------------------------------

def _hermitize(A: np.ndarray) -> np.ndarray:
    """Make a frequency stack exactly Hermitian-symmetric, A(−ω) = conj(A(ω)) (self-conjugate
    frequencies real), by mirroring one representative of every conjugate pair."""
    from .circulant import freq_conjugate_pairs

    N = A.shape[0]
    out = np.array(A, dtype=np.complex128)
    cp = freq_conjugate_pairs(N)
    if len(cp.pairs):
        w, m = cp.pairs[:, 0], cp.pairs[:, 1]
        out[m[:, 0], m[:, 1]] = np.conj(out[w[:, 0], w[:, 1]])
    sc = cp.self_conjugate
    out[sc[:, 0], sc[:, 1]] = out[sc[:, 0], sc[:, 1]].real
    return out


def _H(A: np.ndarray) -> np.ndarray:
    return np.conj(np.swapaxes(A, -1, -2))


@dataclasses.dataclass(frozen=True, eq=False)
class ConvLBEN:
    r"""A convolutional LBEN on an ``N × N`` grid, stored by its per-frequency blocks (havens2023 App. E).

    Channels of the state ``z`` (``C = Σ channels``) are grouped in blocks ``channels`` (for a conv SLL:
    ``(c, k_0, …, k_{N_L−1})``); every operator is a circular convolution, i.e. a stack of
    ``(N, N, ·, ·)`` complex blocks (:mod:`deqtheory.circulant` convention, exactly
    Hermitian-symmetric, so the operators are real). Per frequency ω (eq. 7):

    .. math:: \hat W(\omega) = I - \Psi\Big(\tfrac1{2L}\hat G^H\hat G + \tfrac1{2L}\Psi^{-1}\hat U\hat U^H\Psi^{-1}
              + \hat V^H\hat V + \hat S^H - \hat S + \varepsilon I\Big),

    Ψ = diag(exp(log_psi)) per channel (constant over pixels). Fields: ``N``, ``channels``,
    ``log_psi`` (C,), ``V_hat`` (N,N,C,C), ``S_hat`` (N,N,C,C), ``G_hat`` (N,N,p,C), ``U_hat``
    (N,N,C,c_in), ``b`` (C,) per-channel bias, ``b_y`` (p,), ``identity_mask`` (C,) per channel,
    ``L``, ``eps``, ``support`` (C, C, N, N) bool — the *source* DEQ's kernel support in the
    centered full-kernel layout (True where the source W kernel had a structurally nonzero tap;
    the ℓ1 border penalty of havens2023 §4.1 acts on the complement), ``kernel_sizes`` (per
    source layer ``(s_h, s_w)``).
    """

    N: int
    channels: Tuple[int, ...]
    log_psi: np.ndarray
    V_hat: np.ndarray
    S_hat: np.ndarray
    G_hat: np.ndarray
    U_hat: np.ndarray
    b: np.ndarray
    b_y: np.ndarray
    identity_mask: np.ndarray
    L: float = 1.0
    eps: float = 0.0
    support: Optional[np.ndarray] = None
    kernel_sizes: Tuple[Tuple[int, int], ...] = ()

    @property
    def C(self) -> int:
        return int(sum(self.channels))

    @property
    def c_in(self) -> int:
        return int(self.U_hat.shape[3])

    @property
    def p(self) -> int:
        return int(self.G_hat.shape[2])

    @property
    def psi(self) -> np.ndarray:
        return np.exp(self.log_psi)

    @property
    def lam(self) -> np.ndarray:
        return np.exp(-self.log_psi)

    def W_hat(self) -> np.ndarray:
        """Per-frequency blocks of W (eq. 7 evaluated block by block, same operation order as
        :meth:`deqtheory.parametrizations.LBEN.forward`)."""
        C = self.C
        psi = self.psi
        X = ((_H(self.G_hat) @ self.G_hat) / (2 * self.L) + _H(self.V_hat) @ self.V_hat) \
            + (_H(self.S_hat) - self.S_hat) + self.eps * np.eye(C)
        Y = (self.U_hat @ _H(self.U_hat)) / ((2 * self.L) * psi[None, None, None, :])
        return (np.eye(C) - psi[:, None] * X) - Y

    # -- dense materialization (small grids) -------------------------------------------------
    def dense(self) -> Dict[str, np.ndarray]:
        """Dense DEQ arrays on channel-major vectors ((C N²) state): ``W``, ``U``, ``b``, ``G``,
        ``b_y`` (per-pixel repeated biases), ``identity_mask`` — via
        :func:`deqtheory.circulant.freq_to_kernel` and :func:`~deqtheory.circulant.conv_matrix`.
        Memory ``(C N²)²`` doubles: for small grids only."""
        from .circulant import conv_matrix, freq_to_kernel

        N, n2 = self.N, self.N * self.N
        W = conv_matrix(freq_to_kernel(self.W_hat()), N)
        U = conv_matrix(freq_to_kernel(self.U_hat), N)
        G = conv_matrix(freq_to_kernel(self.G_hat), N)
        return {"W": W, "U": U, "b": np.repeat(self.b, n2), "G": G, "b_y": np.repeat(self.b_y, n2),
                "identity_mask": np.repeat(np.asarray(self.identity_mask, bool), n2)}

    # -- evaluation -----------------------------------------------------------------------------
    def _apply(self, A_hat: np.ndarray, Z: np.ndarray) -> np.ndarray:
        Zh = np.fft.fft2(Z, axes=(-2, -1), norm="ortho")
        Yh = np.einsum("hwoi,bihw->bohw", A_hat, Zh)
        return np.fft.ifft2(Yh, axes=(-2, -1), norm="ortho").real

    def _phi(self, Z: np.ndarray) -> np.ndarray:
        m = np.asarray(self.identity_mask, bool)[None, :, None, None]
        return np.where(m, Z, np.maximum(Z, 0.0))

    def residual(self, Z: np.ndarray, V: np.ndarray, W_hat: Optional[np.ndarray] = None) -> np.ndarray:
        """Per-sample ℓ2 residual ‖z − φ(Wz + v)‖ (``V`` = injection ``Ux + b``)."""
        Wh = self.W_hat() if W_hat is None else W_hat
        R = Z - self._phi(self._apply(Wh, Z) + V)
        return np.sqrt(np.sum(R * R, axis=(1, 2, 3)))

    def injection(self, X: np.ndarray) -> np.ndarray:
        return self._apply(self.U_hat, X) + self.b[None, :, None, None]

    def solve(self, X: Any, *, method: str = "dag", tol: Optional[float] = None, max_iter: int = 10_000,
              alpha: Optional[float] = None) -> "ConvSolveResult":
        r"""Fixed point z = φ(Wz + Ux + b) for images ``X`` (B, c_in, N, N) or (c_in, N, N).

        ``method="dag"``: block forward substitution over ``channels`` — valid when W is block
        strictly lower triangular (converted feed-forward nets; the blocks above the diagonal are
        rounding noise and are *not* used), z_0 = φ(v_0), z_{k} = φ(Σ_{j<k} W_{kj} z_j + v_k),
        each block product by FFT. ``method="pr"``: Peaceman–Rachford with per-frequency resolvents
        (I + α(I − Ŵ(ω)))⁻¹ (valid for Λ-monotone W, see :mod:`deqtheory.solvers`), default α = 1/ℓ,
        ℓ = max_ω ‖Λ^{1/2}(I − Ŵ)Λ^{-1/2}‖₂. In both cases the residual ‖z − φ(Wz + v)‖₂ (max over
        the batch) is recomputed with the *full* W; status ``converged`` iff ≤ ``tol``
        (default ``1e-9 · max(1, max‖v‖)``)."""
        import time

        t0 = time.perf_counter()
        Xa = np.asarray(X, dtype=float)
        one = Xa.ndim == 3
        Xb = Xa[None] if one else Xa
        if Xb.ndim != 4 or Xb.shape[1:] != (self.c_in, self.N, self.N):
            raise ShapeError(f"X: expected shape ({self.c_in}, {self.N}, {self.N}) or (B, {self.c_in}, {self.N}, "
                             f"{self.N}), got {Xa.shape}")
        if not np.all(np.isfinite(Xb)):
            from .errors import NonFiniteError

            raise NonFiniteError(f"X: non-finite entries in shape {Xa.shape}")
        Wh = self.W_hat()
        V = self.injection(Xb)
        vn = float(np.max(np.sqrt(np.sum(V * V, axis=(1, 2, 3))))) if V.size else 0.0
        tol = 1e-9 * max(1.0, vn) if tol is None else as_scalar("tol", tol, positive=True)
        edges = np.concatenate([[0], np.cumsum(self.channels)]).astype(int)
        it = 0
        if method == "dag":
            Z = np.zeros_like(V)
            mask = np.asarray(self.identity_mask, bool)
            for k in range(len(self.channels)):
                s, e = edges[k], edges[k + 1]
                acc = V[:, s:e].copy()
                if s > 0:
                    acc += self._apply(Wh[:, :, s:e, :s], Z[:, :s])
                Z[:, s:e] = np.where(mask[None, s:e, None, None], acc, np.maximum(acc, 0.0))
            it = len(self.channels)
        elif method == "pr":
            C = self.C
            lam = self.lam
            sq = np.sqrt(lam)
            A = np.eye(C) - Wh
            if alpha is None:
                As = (sq[:, None] * A) / sq[None, :]
                ell = float(np.max(np.linalg.svd(As, compute_uv=False)[..., 0]))
                alpha = 1.0 / ell
            R = np.linalg.inv(np.eye(C) + alpha * A)
            aV = alpha * V
            Uk = np.zeros_like(V)
            Z = self._phi(Uk)
            for it in range(1, max_iter + 1):
                u_half = 2 * Z - Uk
                z_half = self._apply(R, u_half + aV)
                Uk = 2 * z_half - u_half
                Z = self._phi(Uk)
                if it % 10 == 0 and float(np.max(self.residual(Z, V, Wh))) <= tol:
                    break
        else:
            raise DomainError(f"method: expected 'dag' or 'pr', got {method!r}")
        res = self.residual(Z, V, Wh)
        r = float(np.max(res)) if res.size else 0.0
        status = SolverStatus.CONVERGED if r <= tol else SolverStatus.MAX_ITERATIONS
        return ConvSolveResult(z=Z[0] if one else Z, residual=r, tol=float(tol), status=status, iterations=it,
                               method=method, time=time.perf_counter() - t0)

    def output(self, Z: np.ndarray) -> np.ndarray:
        Zb = Z[None] if Z.ndim == 3 else Z
        Y = self._apply(self.G_hat, Zb) + self.b_y[None, :, None, None]
        return Y[0] if Z.ndim == 3 else Y

    def __call__(self, X: Any, **kw: Any) -> np.ndarray:
        return self.output(self.solve(X, **kw).z)

    def certificate(self, *, backoffs: Tuple[float, ...] = BACKOFFS) -> Tuple[Certificate, float]:
        r"""Prove (4) with Λ = Ψ⁻¹ at L' = L(1 + δ) frequency by frequency (see :func:`certify_conv_lben`)."""
        return certify_conv_lben(self, backoffs=backoffs)


@dataclasses.dataclass(frozen=True)
class ConvSolveResult:
    """Result of :meth:`ConvLBEN.solve`: ``z``, ``residual`` (ℓ2, max over batch, full W), ``tol``,
    ``status`` (:class:`~deqtheory.solvers.SolverStatus` ``CONVERGED`` / ``MAX_ITERATIONS``), ``iterations``,
    ``method``, ``time``."""

    z: np.ndarray
    residual: float
    tol: float
    status: SolverStatus
    iterations: int
    method: str
    time: float

    @property
    def converged(self) -> bool:
        return self.status is SolverStatus.CONVERGED


def _real_embed(H: np.ndarray) -> np.ndarray:
    """[[Re H, −Im H], [Im H, Re H]] (same eigenvalues as the Hermitian H, each twice)."""
    Re, Im = H.real, H.imag
    return np.block([[Re, -Im], [Im, Re]])


def certify_conv_lben(model: ConvLBEN, *, backoffs: Tuple[float, ...] = BACKOFFS) -> Tuple[Certificate, float]:
    r"""Certificate ``"conv_lben_conversion"``: havens2023 (4) with Λ = Ψ⁻¹ (per channel) at
    ``L' = L(1+δ)`` for the circular-convolution DEQ defined by the stored blocks.

    The real symmetric operator of (4) is unitarily similar to ``blkdiag_ω H(ω)`` with
    :math:`H(\omega) = 2\,\mathrm{herm}(\Lambda(I - \hat W(\omega))) - \hat G^H\hat G/L' -
    \Lambda\hat U\hat U^H\Lambda/L'` (eq. 25), so λ_min = min_ω λ_min(H(ω)); each H(ω) is checked
    through its real embedding ``[[Re, −Im], [Im, Re]]`` with :func:`deqtheory.verified.verified_pd`
    (one frequency per conjugate pair). Forming error per frequency bounded by
    ``16 (C + p + c_in + 4) u`` × (sum of the magnitudes of the terms) — a γ-type bound with a
    factor ≥ √2·4 for complex arithmetic. ``margin`` = min over frequencies."""
    from .circulant import freq_conjugate_pairs

    Wh = model.W_hat()
    C = model.C
    lam0 = model.lam
    edges = np.concatenate([[0], np.cumsum(model.channels)]).astype(int)
    cp = freq_conjugate_pairs(model.N)
    reps = np.concatenate([cp.pairs[:, 0].reshape(-1, 2), cp.self_conjugate], axis=0) if len(cp.pairs) \
        else cp.self_conjugate
    GtG = _H(model.G_hat) @ model.G_hat
    aG = _H(np.abs(model.G_hat)) @ np.abs(model.G_hat)
    kdim = C + model.p + model.c_in + 4
    last = None
    attempts = [(d, k) for d in backoffs for k in ((0.0, 0.25) if d > 0 else (0.0,))]
    for delta, kappa in attempts:
        lam = lam0.copy()
        for k in range(len(model.channels)):   # tilt (see certify_lben_lipschitz)
            lam[edges[k]:edges[k + 1]] *= (1.0 - kappa * delta) ** k
        X = lam[:, None] * (np.eye(C) - Wh)
        T1 = X + _H(X)
        LU = lam[:, None] * model.U_hat
        LUUL = LU @ _H(LU)
        aT1 = np.abs(lam)[:, None] * (1.0 + np.abs(Wh))
        aU = np.abs(LU) @ _H(np.abs(LU))
        Lp = model.L * (1.0 + delta)
        Hs = (T1 - GtG / Lp) - LUUL / Lp
        mag = 2 * aT1 + aG / Lp + aU / Lp
        worst, worst_w, status_all, last_c = math.inf, None, Status.CERTIFIED, None
        for w in reps:
            Hw = Hs[w[0], w[1]]
            err = 16.0 * kdim * _U * float(np.linalg.norm(mag[w[0], w[1]])) * 2.0
            c = verified_pd(_real_embed(0.5 * (Hw + _H(Hw))), abs_err=err, name="H(omega)")
            if c.margin < worst:
                worst, worst_w, last_c = c.margin, (int(w[0]), int(w[1])), c
            if not c.certified:
                status_all = c.status if c.status is not Status.CERTIFIED else Status.INCONCLUSIVE
                break
        cert = Certificate("conv_lben_conversion", status_all, margin=float(worst),
                           witness={"lam": lam, "L": Lp},
                           tolerance={"backoff": delta},
                           stats={"worst_frequency": worst_w, "frequencies_checked": int(len(reps)),
                                  "L_prescribed": model.L, "backoff": delta, "tilt": kappa * delta},
                           message=f"havens2023 (4) per frequency at L' = L(1 + {delta:g}): "
                                   + (last_c.message if last_c is not None else ""))
        last = cert
        if status_all is Status.CERTIFIED:
            return cert, Lp
    return last, math.inf


def conv_sll_to_lben(stack: Any) -> ConvLBEN:
    r"""Conv SLL / CPL stack (:class:`deqtheory.explicit_conv.ConvResidualStack`) → conv LBEN.

    Per frequency ω, with :math:`\hat K_n(\omega)` the (c × k_n) blocks of layer n (made exactly
    Hermitian-symmetric): the DEQ blocks of eq. (14) — :math:`\hat W_{n+1,0} = \hat K_n^H`,
    :math:`\hat W_{n+1,j+1} = -2\hat K_n^H\hat K_jT_j^{-1}` (j < n), :math:`\hat U = [I; 0]`,
    :math:`\hat G = [I, -2\hat K_0T_0^{-1}, …]` — Λ = (1, 2T₀⁻¹, …) per channel, L = 1, ε = 0,
    :math:`\hat M = \Lambda(I - \hat W) - (\hat G^H\hat G + \Lambda\hat U\hat U^H\Lambda)/2`,
    :math:`\hat V = (\tfrac12(\hat M + \hat M^H))^{1/2}` (:func:`deqtheory.circulant.freq_psd_sqrt`,
    Hermitian per frequency and mirrored, so V is a real convolution; raises if indefinite),
    :math:`\hat S = \tfrac12\hat M^H`. The kernels of W, V, S become full N × N; ``support``
    records the source W's kernel support (for the ℓ1 border penalty of §4.1)."""
    from . import circulant as ci
    from .explicit_conv import ConvResidualStack

    if not isinstance(stack, ConvResidualStack):
        raise DTypeError(f"stack: expected an explicit_conv.ConvResidualStack, got {type(stack).__name__}")
    N, c = stack.N, stack.c
    ks = [l.k for l in stack.layers]
    chans = (c,) + tuple(ks)
    C = sum(chans)
    edges = np.concatenate([[0], np.cumsum(chans)]).astype(int)
    Kh = [_hermitize(ci.kernel_to_freq(l.K, N)) for l in stack.layers]
    Wh = np.zeros((N, N, C, C), dtype=np.complex128)
    Gh = np.zeros((N, N, c, C), dtype=np.complex128)
    Uh = np.zeros((N, N, C, c), dtype=np.complex128)
    Uh[:, :, :c, :] = np.eye(c)
    Gh[:, :, :, :c] = np.eye(c)
    lam = np.ones(C)
    support = np.zeros((C, C, N, N), dtype=bool)
    for n, l in enumerate(stack.layers):
        s, e = edges[n + 1], edges[n + 2]
        KnH = _H(Kh[n])
        Wh[:, :, s:e, :c] = KnH
        support[s:e, :c] = ci.adjoint_kernel(l.K, N) != 0
        Gh[:, :, :, s:e] = -2.0 * Kh[n] / l.T[None, None, None, :]
        lam[s:e] = 2.0 / l.T
        for j in range(n):
            sj, ej = edges[j + 1], edges[j + 2]
            Wh[:, :, s:e, sj:ej] = -2.0 * (KnH @ Kh[j]) / stack.layers[j].T[None, None, None, :]
            support[s:e, sj:ej] = _cross_support(l.K, stack.layers[j].K, N)
    L = 1.0
    X = lam[:, None] * (np.eye(C) - Wh)
    LU = lam[:, None] * Uh
    M = X - (_H(Gh) @ Gh + LU @ _H(LU)) / (2 * L)
    Sym = 0.5 * (M + _H(M))
    Vh = ci.freq_psd_sqrt(Sym)
    Sh = 0.5 * _H(M)
    b = np.concatenate([np.zeros(c)] + [l.b for l in stack.layers])
    mask = np.zeros(C, dtype=bool)
    mask[:c] = True
    return ConvLBEN(N=N, channels=chans, log_psi=-np.log(lam), V_hat=Vh, S_hat=Sh, G_hat=Gh, U_hat=Uh, b=b,
                    b_y=np.zeros(c), identity_mask=mask, L=L, eps=0.0, support=support,
                    kernel_sizes=tuple((int(l.K.shape[2]), int(l.K.shape[3])) for l in stack.layers))


def _cross_support(Kn: np.ndarray, Kj: np.ndarray, N: int) -> np.ndarray:
    """Structural support (centered layout, (k_n, k_j, N, N)) of the kernel of 𝒦_nᵀ𝒦_j: offsets
    a' − a over tap pairs (taps a of K_n, a' of K_j) where Σ_o |K_n[o,i,a]||K_j[o,j,a']| > 0."""
    from . import circulant as ci
    from .explicit_conv import kernel_taps

    A0 = ci.embed_kernel(Kn, N, origin="zero")
    B0 = ci.embed_kernel(Kj, N, origin="zero")
    out = np.zeros((Kn.shape[1], Kj.shape[1], N, N))
    for a in kernel_taps(Kn, N):
        for a2 in kernel_taps(Kj, N):
            d = ((a2[0] - a[0]) % N, (a2[1] - a[1]) % N)
            out[:, :, d[0], d[1]] += np.abs(A0[:, :, a[0], a[1]]).T @ np.abs(B0[:, :, a2[0], a2[1]])
    return _center_zero(out, N) != 0


def _center_zero(K0: np.ndarray, N: int) -> np.ndarray:
    """Zero-origin full kernel → centered layout (origin (N − 1)//2)."""
    o = (N - 1) // 2
    return np.roll(K0, shift=(o, o), axis=(-2, -1))
