r"""Matrices of the LMIs (3), (4), (10) of havens2023 §2.2–§3, their rounding bounds, and the
numpy-only verifiers registered for the SDP certificates.

Conventions (docs/sdp.md): ``W`` is (n, n), ``U`` is (n, d), ``G`` is (p, n); a diagonal multiplier
is passed as the 1-d vector of its diagonal (``gamma`` for (3), ``lam`` for (4)/(10)).

* (3)  :math:`M(\gamma) = 2\Gamma - \Gamma W - W^\top\Gamma` (havens2023 Prop 2.1).
* (4)/(10) in Schur-complement ("block") form, jointly linear in :math:`(\Lambda, L)`:

  .. math:: F(\lambda, L) = \begin{bmatrix} 2\Lambda-\Lambda W-W^\top\Lambda & \Lambda U & G^\top\\
            U^\top\Lambda & L I_d & 0 \\ G & 0 & L I_p\end{bmatrix}.

  For :math:`L > 0`, :math:`F \succ 0` ⇔ (4) (Schur complement of the two :math:`L I` blocks),
  and :math:`F \succeq 0` ⇔ (10). (The sign of the :math:`\Lambda U` block is immaterial:
  congruence with diag(I, −I, I); havens2023 App. B.1 prints −ΛU.)

Rounding in forming the matrices (Higham, *Accuracy and Stability*, §3.1): a diagonal scaling
:math:`\lambda_i W_{ij}` is one multiplication, so :math:`|fl(\Lambda W) - \Lambda W| \le u|\Lambda W|`
entrywise; the three-term sum is bounded by :func:`deqtheory.verified.sum_error_bound`; entrywise
bounds are turned into spectral-norm bounds by :math:`\|E\|_2 \le \|E\|_F`. ``2λ`` and the copies of
``G`` and ``L`` are exact. Problem data (W, U, G, L) are taken as exact.
"""
from __future__ import annotations

import math
from typing import Any, Optional, Tuple

import numpy as np

from .._validate import as_matrix, as_scalar, as_square, as_vector
from ..certificates import Certificate, Status, register_verifier
from ..errors import ShapeError
from ..verified import INFLATE, UNIT_ROUNDOFF, gamma, product_error_bound, sum_error_bound, verified_pd_at_shift

__all__ = ["LIPSCHITZ_LMI", "wellposed_matrix", "lipschitz_lmi_matrix", "lipschitz_block_matrix", "lipschitz_schur_matrix",
           "verify_wellposed_witness", "verify_lipschitz_witness", "validate_problem", "verified_pd_two",
           "verify_lipschitz_refutation", "lambda_box", "w_error_term"]

#: The one name of the claim "a diagonal Λ ≻ 0 proves havens2023 (4)/(10) at L" (deqtheory.conditions).
LIPSCHITZ_LMI = "lipschitz_lmi"


def validate_problem(W: Any, U: Any, G: Any) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validate (W, U, G) with the project's shape conventions: W (n, n), U (n, d), G (p, n)."""
    W = as_square("W", W)
    n = W.shape[0]
    U = as_matrix("U", U)
    if U.shape[0] != n:
        raise ShapeError(f"U: expected shape ({n}, d) to match W of shape {W.shape}, got {U.shape}")
    G = as_matrix("G", G)
    if G.shape[1] != n:
        raise ShapeError(f"G: expected shape (p, {n}) to match W of shape {W.shape}, got {G.shape}")
    return W, U, G


def wellposed_matrix(W: np.ndarray, gamma_diag: np.ndarray) -> Tuple[np.ndarray, float]:
    r""":math:`M = 2\Gamma - \Gamma W - W^\top\Gamma` and a bound on ``‖M_exact − M‖₂``.

    ``(ΓW)_{ij} = γ_i W_{ij}`` (rows scaled), ``(WᵀΓ)_{ij} = W_{ji} γ_j``.
    """
    GW = gamma_diag[:, None] * W
    twoG = np.diag(2.0 * gamma_diag)
    M = twoG - GW - GW.T
    prod_err = 2.0 * UNIT_ROUNDOFF * float(np.linalg.norm(GW)) * INFLATE
    return M, prod_err + sum_error_bound(twoG, GW, GW.T)


def lipschitz_lmi_matrix(W: np.ndarray, U: np.ndarray, G: np.ndarray, lam: np.ndarray,
                         L: float) -> Tuple[np.ndarray, float]:
    r"""The left side of havens2023 (4) / (10) for a diagonal Λ = diag(lam) — the one assembler of it,

    .. math:: 2\Lambda - \Lambda W - W^\top\Lambda - \tfrac1L G^\top G - \tfrac1L\Lambda UU^\top\Lambda,

    formed as :math:`X + X^\top` with :math:`X = \Lambda(I - W)`, and a bound on the 2-norm of its
    rounding error (entrywise a-priori bounds of Higham §3.1, inflated by :data:`INFLATE`).
    (4) holds strictly iff this matrix is ≻ 0 (used by LBEN, the conversions and explicit networks;
    the SDP works with the equivalent Schur block form :func:`lipschitz_block_matrix`)."""
    n = W.shape[0]
    X = lam[:, None] * (np.eye(n) - W)
    T1 = X + X.T
    GtG = G.T @ G
    LU = lam[:, None] * U
    LUUL = LU @ LU.T
    lhs = (T1 - GtG / L) - LUUL / L
    err = (2 * float(np.max(lam)) * sum_error_bound(np.eye(n), W) + 3 * UNIT_ROUNDOFF * float(np.linalg.norm(T1))
           + (product_error_bound(G.T, G) + UNIT_ROUNDOFF * float(np.linalg.norm(GtG))) / L
           + (product_error_bound(LU, LU.T) + 3 * UNIT_ROUNDOFF * float(np.linalg.norm(np.abs(LU) @ np.abs(LU.T)))) / L
           + 2 * sum_error_bound(T1, GtG / L, LUUL / L))
    return lhs, INFLATE * err


def lipschitz_block_matrix(W: np.ndarray, U: np.ndarray, G: np.ndarray, lam: np.ndarray,
                           L: float) -> Tuple[np.ndarray, float]:
    r"""The block matrix :math:`F(\lambda, L)` above (order n + d + p) and a bound on its rounding."""
    n, d = U.shape
    p = G.shape[0]
    M, err = wellposed_matrix(W, lam)
    LU = lam[:, None] * U
    F = np.zeros((n + d + p, n + d + p))
    F[:n, :n] = M
    F[:n, n:n + d] = LU
    F[n:n + d, :n] = LU.T
    F[:n, n + d:] = G.T
    F[n + d:, :n] = G
    idx = np.arange(n, n + d + p)
    F[idx, idx] = L
    err += math.sqrt(2.0) * UNIT_ROUNDOFF * float(np.linalg.norm(LU)) * INFLATE
    return F, err


def lipschitz_schur_matrix(W: np.ndarray, U: np.ndarray, G: np.ndarray, lam: np.ndarray,
                           L: float) -> np.ndarray:
    r"""Left side of (4)/(10): :math:`2\Lambda-\Lambda W-W^\top\Lambda-\tfrac1L G^\top G-\tfrac1L\Lambda UU^\top\Lambda`
    (no rounding bound: used by tests and for diagnostics only)."""
    M, _ = wellposed_matrix(W, lam)
    LU = lam[:, None] * U
    return M - (G.T @ G) / L - (LU @ LU.T) / L


# ----------------------------------------------------------------------------------------------
# Verified positive definiteness with at most two factorizations of the LMI matrix
# ----------------------------------------------------------------------------------------------

_DENSE_ESTIMATE_MAX_N = 96
_LANCZOS_STEPS = 40


def _lanczos_max(matvec, N: int, steps: int) -> float:
    """Upper estimate of the largest eigenvalue of a symmetric PSD operator: largest Ritz value of
    Lanczos (full reorthogonalisation, fixed start) plus its residual bound |β_m s_m|."""
    import scipy.linalg as sla
    m = min(steps, N)
    V = np.empty((m + 1, N))
    v = np.cos(0.7 * np.arange(N) + 0.3)
    V[0] = v / np.linalg.norm(v)
    alpha = np.zeros(m)
    beta = np.zeros(m)
    k = 0
    for k in range(m):
        w = matvec(V[k])
        alpha[k] = float(V[k] @ w)
        w = w - V[:k + 1].T @ (V[:k + 1] @ w)
        w = w - V[:k + 1].T @ (V[:k + 1] @ w)
        beta[k] = float(np.linalg.norm(w))
        if beta[k] <= 1e-14 * max(1.0, abs(alpha[k])):
            break
        V[k + 1] = w / beta[k]
    k += 1
    theta, svec = sla.eigh_tridiagonal(alpha[:k], beta[:k - 1])
    return float(theta[-1]) + abs(beta[k - 1] * svec[-1, -1])


def verified_pd_two(A: np.ndarray, *, abs_err: float, name: str = "A",
                    estimate: Optional[float] = None) -> Certificate:
    r"""Verified :math:`\mathrm{sym}(A) \succ 0` with **at most two** O(N³) factorizations of ``A``.

    The proof is :func:`deqtheory.verified.verified_pd_at_shift` (one floating-point Cholesky of
    :math:`\mathrm{sym}(A) - tI` with a rigorous rounding bound): λ_min ≥ t − loss. Only the choice
    of the shift t differs from :func:`deqtheory.verified.verified_pd` (which uses a full
    eigendecomposition plus up to four Choleskys):

    * N ≤ 96: t from ``eigvalsh`` (1 eigendecomposition + 1 Cholesky);
    * N > 96: a plain Cholesky :math:`A = R^\top R` (unverified, for estimation only), 40 Lanczos
      steps on :math:`v \mapsto R^{-1}R^{-\top}v` (O(N²) each) for
      :math:`\hat\lambda \approx \lambda_{\min}(A)`, then the verified Cholesky at
      :math:`t = (1-10^{-3})\hat\lambda - 2\,\mathrm{loss}_0` (2 Choleskys, no eigendecomposition).

    With ``estimate`` (an estimate of λ_min computed elsewhere, e.g. by one batched eigvalsh of many
    small blocks) only the verified Cholesky is done. ``margin`` is the proved lower bound (``-inf``
    when nothing was proved); ``stats`` records
    ``lambda_min_estimate`` and ``factorizations``. Failure is never a proof of indefiniteness.
    """
    import scipy.linalg as sla
    N = A.shape[0]
    S = A if np.array_equal(A, A.T) else 0.5 * (A + A.T)
    c = 2 * gamma(N + 1) / (1 - 2 * gamma(N + 1))
    loss0 = c * float(np.sum(np.maximum(np.diag(S), 0.0))) + abs_err
    scale = float(np.max(np.abs(np.diag(S)))) if N else 0.0
    tiny = 64 * N * UNIT_ROUNDOFF * max(scale, 1e-300)
    facts = 0
    if estimate is not None:
        est = float(estimate)
    elif N <= _DENSE_ESTIMATE_MAX_N:
        est = float(np.linalg.eigvalsh(S)[0])
        facts += 1
    else:
        try:
            R = sla.cholesky(S, lower=False, check_finite=False)
        except np.linalg.LinAlgError:
            R = None
        facts += 1
        if R is None:
            est = -math.inf
        else:
            def mv(v: np.ndarray) -> np.ndarray:
                u = sla.solve_triangular(R, v, trans="T", lower=False, check_finite=False)
                return sla.solve_triangular(R, u, lower=False, check_finite=False)
            est = 1.0 / _lanczos_max(mv, N, _LANCZOS_STEPS)
    stats = {"n": N, "lambda_min_estimate": est}
    if not est > 0:
        return Certificate("pd", Status.INCONCLUSIVE, margin=-math.inf, stats={**stats, "factorizations": facts},
                           tolerance={"abs_err": abs_err},
                           message=f"sym({name}) is not positive definite in floating point (estimate {est:.3g})")
    t = (1 - 1e-3) * est - 2 * loss0 - tiny
    if not t > 0:
        t = 0.5 * est
    pd = verified_pd_at_shift(S, t, abs_err=abs_err, name=name)
    facts += 1
    return pd.replace(stats={**dict(pd.stats), **stats, "factorizations": facts})


# ----------------------------------------------------------------------------------------------
# Verifiers (numpy only). They recompute the margin from the witness; they never call a solver.
# ----------------------------------------------------------------------------------------------

def w_error_term(lam: np.ndarray, w_error: float, u_error: float = 0.0, g_error: float = 0.0) -> float:
    r"""Bound on :math:`\|\Lambda\Delta + \Delta^\top\Lambda\|_2 \le 2\max_i\lambda_i\,\|\Delta\|_2` for the
    difference Δ between the exact W of a stored model and the floating-point ``W`` checked, when
    ‖Δ‖₂ ≤ ``w_error`` (parametric files: W computed from stored parameters). Rounded up.

    With ``u_error`` ≥ ‖ΔU‖₂ and ``g_error`` ≥ ‖ΔG‖₂ (U, G computed from stored arrays) the bound is on
    ‖F(Λ, L; W+Δ, U+ΔU, G+ΔG) − F(Λ, L; W, U, G)‖₂ for the block matrix of :func:`lipschitz_block_matrix`
    (ΛU and Gᵀ in the first block row, L only on the diagonal): the change is
    [[ΛΔ + ΔᵀΛ, B], [Bᵀ, 0]] with B = [ΛΔU, ΔGᵀ], of norm ≤ 2 max λ·‖Δ‖₂ + ‖B‖₂ ≤
    max λ·(2‖Δ‖₂ + ‖ΔU‖₂) + ‖ΔG‖₂."""
    if not (u_error or g_error):
        if not w_error:
            return 0.0
        return INFLATE * 2.0 * float(np.max(lam)) * float(w_error)
    return INFLATE * (float(np.max(lam)) * (2.0 * float(w_error) + float(u_error)) + float(g_error))


def verify_wellposed_witness(W: Any, gamma_diag: Any, *, w_error: float = 0.0) -> Certificate:
    r"""Proved lower bound on :math:`\lambda_{\min}(2\Gamma-\Gamma W-W^\top\Gamma)` for ``Γ = diag(gamma)``.

    CERTIFIED iff every γ_i > 0 (checked exactly) and the proved bound is > 0 (Prop 2.1, eq. (3)).
    The margin refers to the stored (unnormalized) γ; :func:`deqtheory.sdp.sdp_wellposed` stores
    γ with ``sum(γ) = n`` (i.e. tr Γ = n). ``w_error``: a proved bound on ‖W_exact − W‖₂ (the model's
    exact W differs from the given one, e.g. computed from stored parameters); the proof then holds
    for every W' with ‖W' − W‖₂ ≤ ``w_error`` (recorded in ``tolerance["W_error"]``).
    """
    W = as_square("W", W)
    g = as_vector("gamma", gamma_diag, n=W.shape[0])
    if np.any(g <= 0):
        return Certificate("sdp_wellposed", Status.INCONCLUSIVE, margin=-math.inf,
                           witness={"gamma": g}, message="witness Γ is not positive definite")
    M, err = wellposed_matrix(W, g)
    err += w_error_term(g, w_error)
    pd = verified_pd_two(M, abs_err=err, name="2Γ - ΓW - WᵀΓ")
    status = Status.CERTIFIED if pd.certified else Status.INCONCLUSIVE
    return Certificate("sdp_wellposed", status, margin=pd.margin, witness={"gamma": g},
                       tolerance={"abs_err": err, **{k: v for k, v in pd.tolerance.items() if k != "abs_err"},
                                  **({"W_error": float(w_error)} if w_error else {})},
                       residuals={"lambda_min_estimate": pd.stats.get("lambda_min_estimate", math.nan)},
                       stats={"n": W.shape[0], "trace_gamma": float(np.sum(g)),
                              "factorizations": pd.stats.get("factorizations")},
                       message=("havens2023 Prop 2.1 (3): " + pd.message) if pd.certified
                       else "could not prove (3) for the stored Γ: " + pd.message)


def verify_lipschitz_witness(W: Any, U: Any, G: Any, lam: Any, L: Any, *, condition: str,
                             w_error: float = 0.0, u_error: float = 0.0, g_error: float = 0.0) -> Certificate:
    r"""Proved lower bound on :math:`\lambda_{\min}(F(\lambda, L))` for the stored witness.

    A positive bound proves the block LMI strictly, which (L > 0, Schur complement) is exactly (4)
    at this L, hence also (10). Status CERTIFIED iff λ > 0 entrywise, L > 0 and the bound is > 0.
    ``w_error`` (a proved bound on ‖W_exact − W‖₂, :func:`w_error_term`): the proof then holds for
    every W' within it (``tolerance["W_error"]``); ``u_error`` / ``g_error`` likewise for U and G
    (``tolerance["U_error"]`` / ``["G_error"]``).
    """
    W, U, G = validate_problem(W, U, G)
    lam = as_vector("lam", lam, n=W.shape[0])
    L = as_scalar("L", L)
    if np.any(lam <= 0) or not L > 0:
        return Certificate(condition, Status.INCONCLUSIVE, margin=-math.inf, witness={"lam": lam, "L": L},
                           message="witness Λ is not positive definite or L <= 0")
    F, err = lipschitz_block_matrix(W, U, G, lam, L)
    err += w_error_term(lam, w_error, u_error, g_error)
    pd = verified_pd_two(F, abs_err=err, name="F(Λ, L)")
    status = Status.CERTIFIED if pd.certified else Status.INCONCLUSIVE
    return Certificate(condition, status, margin=pd.margin, witness={"lam": lam, "L": L},
                       tolerance={"abs_err": err, **{k: v for k, v in pd.tolerance.items() if k != "abs_err"},
                                  **({"W_error": float(w_error)} if w_error else {}),
                                  **({"U_error": float(u_error)} if u_error else {}),
                                  **({"G_error": float(g_error)} if g_error else {})},
                       residuals={"lambda_min_estimate": pd.stats.get("lambda_min_estimate", math.nan)},
                       stats={"n": W.shape[0], "d": U.shape[1], "p": G.shape[0],
                              "factorizations": pd.stats.get("factorizations")},
                       message=(f"proved F(Λ, L={L:.10g}) ≻ 0 (λ_min ≥ {pd.margin:.3g}), i.e. havens2023 (4) "
                                f"strictly, hence (10)") if pd.certified
                       else "could not prove F(Λ, L) ≻ 0: " + pd.message)


# ------------------------------------------------------------------------------------------------
# Refutation of (10)/(4) at a given L
# ------------------------------------------------------------------------------------------------

def lambda_box(W: np.ndarray, U: np.ndarray, L: float, w_error: float = 0.0, u_error: float = 0.0) -> np.ndarray:
    r"""Upper bounds :math:`\bar\lambda_i` valid for every diagonal Λ ⪰ 0 with :math:`F(\lambda, L) \succeq 0`.

    The 2×2 principal minor of F on rows (i, n+k) is :math:`2\lambda_i(1-W_{ii})L - \lambda_i^2U_{ik}^2 \ge 0`,
    so :math:`\lambda_i \le 2\max(1-W_{ii},0)L/\max_k U_{ik}^2` (``inf`` when row i of U is zero).
    Rounded upwards (relative 8u: one subtraction, a square, a product and a quotient). ``w_error`` /
    ``u_error``: valid for every W′, U′ within them in ‖·‖₂ (|W′_ii − W_ii| ≤ w_error, |U′_ik| ≥ |U_ik| − u_error).
    """
    n = W.shape[0]
    Ua = np.maximum(np.abs(U) - float(u_error), 0.0) * (1 - 2 * UNIT_ROUNDOFF) if u_error else U
    u2 = np.max(Ua * Ua, axis=1) if U.shape[1] else np.zeros(n)
    num = 2.0 * np.maximum(1.0 - np.diag(W) + float(w_error) * (1 + 2 * UNIT_ROUNDOFF), 0.0) * L
    with np.errstate(divide="ignore", invalid="ignore"):
        box = np.where(u2 > 0, num / np.where(u2 > 0, u2, 1.0), np.inf)
    return box * (1 + 8 * UNIT_ROUNDOFF)


def verify_lipschitz_refutation(W: Any, U: Any, G: Any, L: Any, V: Any, *, condition: str,
                                w_error: float = 0.0, u_error: float = 0.0, g_error: float = 0.0) -> Certificate:
    r"""REFUTED iff the alternative below is proved for :math:`Z = VV^\top` (``V`` of shape (n+d+p, r)).

    Theorem of alternatives for :math:`F(\lambda, L) = C_L + \sum_i\lambda_iA_i` (block form of (10),
    :func:`lipschitz_block_matrix`; :math:`A_i = e_ib_i^\top + b_ie_i^\top`, B = [I − Wᵀ; Uᵀ; 0]):
    for every λ ≥ 0 with F ⪰ 0 we have λ ≤ λ̄ (:func:`lambda_box`), hence

    .. math:: 0 \le \langle F(\lambda, L), Z\rangle = \langle C_L, Z\rangle + \sum_i \lambda_i\langle A_i, Z\rangle
              \le \langle C_L, Z\rangle + \sum_i \bar\lambda_i\max(\langle A_i, Z\rangle, 0).

    If the right side is proved < 0, no diagonal Λ ⪰ 0 satisfies (10) at this L (so neither (4)).
    With :math:`V = [V_1; V_2; V_3]`: :math:`\langle A_i, Z\rangle = 2\sum_k((I-W)V_1 + UV_2)_{ik}(V_1)_{ik}`,
    :math:`\langle C_L, Z\rangle = 2\sum (GV_1)\circ V_3 + L(\|V_2\|_F^2 + \|V_3\|_F^2)`; each is computed
    with the a-priori bound :math:`\gamma_k\cdot` (the same expression in absolute values),
    k = n + d + p + r + 8 (Higham §3.1, products and sums of at most k terms).
    This refutes the *certificate method* ((10) with a diagonal multiplier) at L, not the
    Lipschitz bound itself. ``w_error`` (a proved bound on ‖W_exact − W‖₂): every
    :math:`\langle A_i, Z\rangle` moves by at most :math:`2\,\|\Delta\|_2\|V_1\|_F\|(V_1)_{i,:}\|_2`, added to its bound.
    ``u_error`` / ``g_error`` (the same for U, G): :math:`\langle A_i, Z\rangle` moves by at most
    :math:`2\|\Delta U\|_2\|V_2\|_F\|(V_1)_{i,:}\|_2`, :math:`\langle C_L, Z\rangle` by at most
    :math:`2\|\Delta G\|_2\|V_1\|_F\|V_3\|_F`; the box λ̄ is taken for the worst W′_ii, U′_ik
    (:func:`lambda_box`). The refutation then holds for every (W′, U′, G′) within the errors (the stored model);
    the errors are recorded in ``tolerance`` and re-read by the verifier.
    """
    W, U, G = validate_problem(W, U, G)
    L = as_scalar("L", L, positive=True)
    n, d = U.shape
    p = G.shape[0]
    V = as_matrix("V", V)
    if V.shape[0] != n + d + p:
        raise ShapeError(f"V: expected shape ({n + d + p}, r), got {V.shape}")
    r = V.shape[1]
    V1, V2, V3 = V[:n], V[n:n + d], V[n + d:]
    A1, A2, A3 = np.abs(V1), np.abs(V2), np.abs(V3)
    k = n + d + p + r + 8
    g = gamma(k) * INFLATE
    IW = np.eye(n) - W
    a = 2.0 * np.sum((IW @ V1 + U @ V2) * V1, axis=1)
    a_err = g * 2.0 * np.sum(((np.eye(n) + np.abs(W)) @ A1 + np.abs(U) @ A2) * A1, axis=1)
    a_up = a + a_err
    if w_error or u_error:
        a_up = a_up + INFLATE * 2.0 * (float(w_error) * float(np.linalg.norm(V1)) + float(u_error) * float(
            np.linalg.norm(V2))) * np.linalg.norm(V1, axis=1)
    cval = 2.0 * float(np.sum((G @ V1) * V3)) + L * (float(np.sum(V2 * V2)) + float(np.sum(V3 * V3)))
    c_err = g * (2.0 * float(np.sum((np.abs(G) @ A1) * A3)) + L * (float(np.sum(A2 * A2)) + float(np.sum(A3 * A3))))
    c_up = cval + c_err
    if g_error:
        c_up = c_up + INFLATE * 2.0 * float(g_error) * float(np.linalg.norm(V1)) * float(np.linalg.norm(V3))
    box = lambda_box(W, U, L, w_error, u_error)
    errs = {k: float(v) for k, v in (("W_error", w_error), ("U_error", u_error), ("G_error", g_error)) if v}
    pos = np.maximum(a_up, 0.0)
    if np.any((pos > 0) & ~np.isfinite(box)):
        total = math.inf
    else:
        with np.errstate(invalid="ignore"):      # inf·0 where pos = 0: not selected
            terms = np.where(pos > 0, box * pos, 0.0)
        total = c_up + float(np.sum(terms)) * (1 + gamma(n + 2)) + gamma(n + 2) * abs(c_up)
    nonzero = bool(np.any(V != 0))
    res = {"inner_C_upper": c_up, "max_inner_A_upper": float(np.max(a_up)) if n else -math.inf,
           "refutation_bound": total}
    if nonzero and total < 0:
        return Certificate(condition, Status.REFUTED, margin=-math.inf, witness={"V": V, "L": L},
                           residuals=res, tolerance=errs,
                           message=(f"proved: no diagonal Λ ⪰ 0 satisfies havens2023 (10) (hence not (4)) at "
                                    f"L = {L:.10g} (dual witness Z = VVᵀ, ⟨F(Λ, L), Z⟩ ≤ {total:.3g} < 0 for all "
                                    "feasible Λ)"))
    return Certificate(condition, Status.INCONCLUSIVE, margin=-math.inf, witness={"V": V, "L": L}, residuals=res,
                       tolerance=errs, message=f"refutation witness not proved (bound {total:.3g} ≥ 0)")


def _merge(cert: Certificate, fresh: Certificate, **extra_witness: Any) -> Certificate:
    w = dict(cert.witness)
    w.update(fresh.witness)
    w.update(extra_witness)
    return fresh.replace(witness=w, stats={**dict(cert.stats), **dict(fresh.stats), "verified_by": "numpy"})


@register_verifier("sdp_wellposed")
def _verify_sdp_wellposed(cert: Certificate, *, W: Any, **_: Any) -> Certificate:
    if "gamma" not in cert.witness:
        if cert.status is Status.REFUTED and "V" in cert.witness:
            from .refute import verify_wellposed_refutation
            return verify_wellposed_refutation(W, cert.witness["V"])
        return cert.replace(status=Status.INCONCLUSIVE, message="no witness Γ to verify")
    return _merge(cert, verify_wellposed_witness(W, cert.witness["gamma"], w_error=_w_error_of(cert)))


def _w_error_of(cert: Certificate, key: str = "W_error") -> float:
    """The ‖W_exact − W‖₂ bound a certificate was proved with (0 for a W taken as exact; ``key`` ``"U_error"`` /
    ``"G_error"``: the same for U / G). Re-checking with it is never weaker than without: a larger value only
    makes the proof harder."""
    return float(cert.tolerance.get(key, 0.0) or 0.0)


def _refutation(cert: Certificate, W: Any, U: Any, G: Any) -> Optional[Certificate]:
    if "V" in cert.witness and "L" in cert.witness and "lam" not in cert.witness:
        return verify_lipschitz_refutation(W, U, G, cert.witness["L"], cert.witness["V"], condition=cert.condition,
                                           w_error=_w_error_of(cert), u_error=_w_error_of(cert, "U_error"),
                                           g_error=_w_error_of(cert, "G_error"))
    return None


def _verify_with_wellposedness(cert: Certificate, W: Any, U: Any, G: Any,
                               wellposed: Optional[Certificate]) -> Certificate:
    if "lam" not in cert.witness or "L" not in cert.witness:
        return cert.replace(status=Status.INCONCLUSIVE, message="no witness (Λ, L) to verify")
    we = _w_error_of(cert)
    fresh = verify_lipschitz_witness(W, U, G, cert.witness["lam"], cert.witness["L"], condition=cert.condition,
                                     w_error=we, u_error=_w_error_of(cert, "U_error"),
                                     g_error=_w_error_of(cert, "G_error"))
    source = str(cert.witness.get("wellposed_condition", ""))
    wp_note: str
    if "gamma" in cert.witness:
        wp = verify_wellposed_witness(W, cert.witness["gamma"], w_error=we)
        wp_ok = wp.certified
        wp_note = f"well-posedness re-verified from stored Γ ((3), margin {wp.margin:.3g})"
    elif wellposed is not None:
        wp = wellposed.verify(W=W)
        wp_ok = wp.certified
        wp_note = f"well-posedness re-verified from the given {wellposed.condition!r} certificate"
    else:
        # A proved F ≻ 0 is (4) strictly, which by havens2023 Prop 2.2 implies well-posedness.
        wp_ok = fresh.certified
        wp_note = (f"recorded well-posedness source {source!r} not re-checked; strict (4) proved here "
                   "implies well-posedness (havens2023 Prop 2.2)")
    status = Status.CERTIFIED if (fresh.certified and wp_ok) else Status.INCONCLUSIVE
    out = _merge(cert, fresh)
    return out.replace(status=status, message=f"{fresh.message}; {wp_note}")


@register_verifier(LIPSCHITZ_LMI)
def _verify_lipschitz_lmi(cert: Certificate, *, W: Any = None, U: Any = None, G: Any = None,
                          wellposed: Optional[Certificate] = None, form: Any = None, **_: Any) -> Certificate:
    """Re-check a ``"lipschitz_lmi"`` certificate (or one written under a legacy name: ``l2_sdp``,
    ``lipschitz_strict``, ``lipschitz_nonstrict``, ``lmi10``) from its witness with numpy alone:
    a dual witness ``V`` is re-checked as a refutation; otherwise (Λ, L) must give a proved
    F(Λ, L) ≻ 0 (strict (4)), and a stored Γ (or a given well-posedness certificate) must re-verify.
    An explicit network is passed as ``form=`` (:class:`deqtheory.explicit.DEQForm`)."""
    cert = cert.replace(condition=LIPSCHITZ_LMI)
    if form is not None:
        from ..explicit import check_lmi10

        if "lam" not in cert.witness or "L" not in cert.witness:
            return cert.replace(status=Status.INCONCLUSIVE, message="no witness (Λ, L) to verify")
        return check_lmi10(form, cert.witness["lam"], cert.witness["L"])
    ref = _refutation(cert, W, U, G)
    if ref is not None:
        return ref
    return _verify_with_wellposedness(cert, W, U, G, wellposed)
