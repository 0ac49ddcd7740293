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
from typing import Any, Mapping, Optional, Tuple

import numpy as np

from .._validate import as_matrix, as_positive_diagonal, as_scalar, as_square, as_vector
from ..certificates import Certificate, Status, register_verifier
from ..errors import ShapeError
from ..verified import UNIT_ROUNDOFF, gamma, sum_error_bound, verified_pd

__all__ = ["wellposed_matrix", "lipschitz_block_matrix", "lipschitz_schur_matrix",
           "verify_wellposed_witness", "verify_lipschitz_witness", "validate_problem"]

_INFLATE = 1.0 + 1e-6


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
    prod_err = 2.0 * UNIT_ROUNDOFF * float(np.linalg.norm(GW)) * _INFLATE
    return M, prod_err + sum_error_bound(twoG, GW, GW.T)


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
    err += math.sqrt(2.0) * UNIT_ROUNDOFF * float(np.linalg.norm(LU)) * _INFLATE
    return F, err


def lipschitz_schur_matrix(W: np.ndarray, U: np.ndarray, G: np.ndarray, lam: np.ndarray,
                           L: float) -> np.ndarray:
    r"""Left side of (4)/(10): :math:`2\Lambda-\Lambda W-W^\top\Lambda-\tfrac1L G^\top G-\tfrac1L\Lambda UU^\top\Lambda`
    (no rounding bound: used by tests and for diagnostics only)."""
    M, _ = wellposed_matrix(W, lam)
    LU = lam[:, None] * U
    return M - (G.T @ G) / L - (LU @ LU.T) / L


# ----------------------------------------------------------------------------------------------
# Verifiers (numpy only). They recompute the margin from the witness; they never call a solver.
# ----------------------------------------------------------------------------------------------

def verify_wellposed_witness(W: Any, gamma_diag: Any) -> Certificate:
    r"""Proved lower bound on :math:`\lambda_{\min}(2\Gamma-\Gamma W-W^\top\Gamma)` for ``Γ = diag(gamma)``.

    CERTIFIED iff every γ_i > 0 (checked exactly) and the proved bound is > 0 (Prop 2.1, eq. (3)).
    The margin refers to the stored (unnormalized) γ; :func:`deqtheory.sdp.sdp_wellposed` stores
    γ with ``sum(γ) = n`` (i.e. tr Γ = n).
    """
    W = as_square("W", W)
    g = as_vector("gamma", gamma_diag, n=W.shape[0])
    if np.any(g <= 0):
        return Certificate("sdp_wellposed", Status.INCONCLUSIVE, margin=-math.inf,
                           witness={"gamma": g}, message="witness Γ is not positive definite")
    M, err = wellposed_matrix(W, g)
    pd = verified_pd(M, abs_err=err, refute=False, name="2Γ - ΓW - WᵀΓ")
    status = Status.CERTIFIED if pd.certified else Status.INCONCLUSIVE
    return Certificate("sdp_wellposed", status, margin=pd.margin, witness={"gamma": g},
                       tolerance={"abs_err": err, **{k: v for k, v in pd.tolerance.items() if k != "abs_err"}},
                       residuals={"lambda_min_estimate": pd.stats.get("lambda_min_estimate", math.nan)},
                       stats={"n": W.shape[0], "trace_gamma": float(np.sum(g))},
                       message=("havens2023 Prop 2.1 (3): " + pd.message) if pd.certified
                       else "could not prove (3) for the stored Γ: " + pd.message)


def verify_lipschitz_witness(W: Any, U: Any, G: Any, lam: Any, L: Any, *, condition: str) -> Certificate:
    r"""Proved lower bound on :math:`\lambda_{\min}(F(\lambda, L))` for the stored witness.

    A positive bound proves the block LMI strictly, which (L > 0, Schur complement) is exactly (4)
    at this L, hence also (10). Status CERTIFIED iff λ > 0 entrywise, L > 0 and the bound is > 0.
    """
    W, U, G = validate_problem(W, U, G)
    lam = as_vector("lam", lam, n=W.shape[0])
    L = as_scalar("L", L)
    if np.any(lam <= 0) or not L > 0:
        return Certificate(condition, Status.INCONCLUSIVE, margin=-math.inf, witness={"lam": lam, "L": L},
                           message="witness Λ is not positive definite or L <= 0")
    F, err = lipschitz_block_matrix(W, U, G, lam, L)
    pd = verified_pd(F, abs_err=err, refute=False, name="F(Λ, L)")
    status = Status.CERTIFIED if pd.certified else Status.INCONCLUSIVE
    return Certificate(condition, status, margin=pd.margin, witness={"lam": lam, "L": L},
                       tolerance={"abs_err": err, **{k: v for k, v in pd.tolerance.items() if k != "abs_err"}},
                       residuals={"lambda_min_estimate": pd.stats.get("lambda_min_estimate", math.nan)},
                       stats={"n": W.shape[0], "d": U.shape[1], "p": G.shape[0]},
                       message=(f"proved F(Λ, L={L:.10g}) ≻ 0 (λ_min ≥ {pd.margin:.3g}), i.e. havens2023 (4) "
                                f"strictly, hence (10)") if pd.certified
                       else "could not prove F(Λ, L) ≻ 0: " + pd.message)


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
    return _merge(cert, verify_wellposed_witness(W, cert.witness["gamma"]))


@register_verifier("lipschitz_strict")
def _verify_lipschitz_strict(cert: Certificate, *, W: Any, U: Any, G: Any, **_: Any) -> Certificate:
    if "lam" not in cert.witness or "L" not in cert.witness:
        return cert.replace(status=Status.INCONCLUSIVE, message="no witness (Λ, L) to verify")
    return _merge(cert, verify_lipschitz_witness(W, U, G, cert.witness["lam"], cert.witness["L"],
                                                 condition=cert.condition))


def _verify_with_wellposedness(cert: Certificate, W: Any, U: Any, G: Any,
                               wellposed: Optional[Certificate]) -> Certificate:
    if "lam" not in cert.witness or "L" not in cert.witness:
        return cert.replace(status=Status.INCONCLUSIVE, message="no witness (Λ, L) to verify")
    fresh = verify_lipschitz_witness(W, U, G, cert.witness["lam"], cert.witness["L"], condition=cert.condition)
    source = str(cert.witness.get("wellposed_condition", ""))
    wp_note: str
    if "gamma" in cert.witness:
        wp = verify_wellposed_witness(W, cert.witness["gamma"])
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


@register_verifier("lipschitz_nonstrict")
def _verify_lipschitz_nonstrict(cert: Certificate, *, W: Any, U: Any, G: Any,
                                wellposed: Optional[Certificate] = None, **_: Any) -> Certificate:
    return _verify_with_wellposedness(cert, W, U, G, wellposed)


@register_verifier("l2_sdp")
def _verify_l2_sdp(cert: Certificate, *, W: Any, U: Any, G: Any,
                   wellposed: Optional[Certificate] = None, **_: Any) -> Certificate:
    return _verify_with_wellposedness(cert, W, U, G, wellposed)
