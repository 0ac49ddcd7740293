r"""Spectral facts about the IBP lift :math:`\widehat W = \begin{psmallmatrix}W_+&W_-\\W_-&W_+\end{psmallmatrix}`.

The lift acts on :math:`[\bar z;\underline z]` (upper bound first, wei2022 eq. (3.3); li2022 eq. (5)).
With :math:`Q_k = \tfrac{1}{\sqrt2}\begin{psmallmatrix}I_k&I_k\\I_k&-I_k\end{psmallmatrix}`
(orthogonal and symmetric) and any :math:`A, B \in \mathbb R^{m\times n}`,

.. math:: Q_m \begin{pmatrix}A&B\\B&A\end{pmatrix} Q_n = \begin{pmatrix}A+B&0\\0&A-B\end{pmatrix}.

For :math:`A = W_+`, :math:`B = W_-`: :math:`A+B = W`, :math:`A-B = |W|`. Consequences
(each tested against the dense :math:`2n\times 2n` matrix):

* wei2022 **Claim 3.5**: the eigenvalues of :math:`\begin{psmallmatrix}A&B\\B&A\end{psmallmatrix}`
  (square blocks) are those of :math:`A+B` together with those of :math:`A-B`, *with multiplicity*
  (a similarity, so the characteristic polynomial factors).
* wei2022 **Lemma 3.4**: :math:`\mathrm{sym}(\widehat W)` is the lift of
  :math:`(\mathrm{sym}\,W_+, \mathrm{sym}\,W_-)`, so its eigenvalues are those of
  :math:`\mathrm{sym}(W)` and :math:`\mathrm{sym}(|W|)`; hence
  :math:`I_{2n} - \widehat W \succ 0 \iff I_n - |W| \succ 0` (eq. 3.8), because
  :math:`\lambda_{\max}(\mathrm{sym}|W|) \ge \lambda_{\max}(\mathrm{sym}\,W)`.
* li2022 **Prop 3.2** (corrected; the printed right-hand side is :math:`\max(\|W\|_2, \|W^\top\|_2)`,
  which equals :math:`\|W\|_2` and is false): :math:`\|\widehat W\|_2 = \max(\|W\|_2, \||W|\|_2) =
  \||W|\|_2`, using :math:`\|W\|_2 \le \||W|\|_2` (:math:`|Wx| \le |W||x|`).
* li2022 **Prop 3.4**: for :math:`O \in \mathbb R^{m\times n}`, :math:`OO^\top = I_m`, :math:`m\le n`:
  :math:`1 \le \|\widehat O\|_2 \le \sqrt m \le \sqrt n` (since :math:`\||O|\|_2 \le \|O\|_F = \sqrt m`).
  The bound :math:`\sqrt m` is attained by normalised Hadamard matrices (:math:`|O|` of rank one).
* Spectral radius: :math:`\rho(\widehat W) = \max(\rho(W), \rho(|W|)) = \rho(|W|) \ge \rho(W)`
  (wei2022 §3.1 says "always larger"; it is "≥", with equality e.g. for :math:`W \ge 0`).
* li2022 §3.3: :math:`\sigma_{\max}(W) \le \sqrt{mn}\,\|W\|_{\max}` (:func:`sigma_max_bound`).
"""
from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from ._validate import as_matrix, as_scalar, as_square
from .certificates import Certificate, Status, register_verifier
from .errors import DomainError, ShapeError
from .verified import pd_as_condition, verified_pd, verified_pd_at_shift

__all__ = ["ibp_lift", "lift_transform", "block_lift", "block_lift_eigvals", "lift_eigvals",
           "lift_sym_eigvals", "lift_spectral_norm", "lift_spectral_radius", "sigma_max_bound",
           "OrthogonalLiftBounds", "orthogonal_lift_bounds", "check_adjoint_contractive"]


def ibp_lift(W: Any) -> np.ndarray:
    r"""The IBP lift :math:`\widehat W = \begin{psmallmatrix}W_+&W_-\\W_-&W_+\end{psmallmatrix}`
    (wei2022 §3.1, li2022 eq. 5), acting on :math:`[\bar z;\underline z]` (upper first).
    For an (m, n) ``W`` the result is (2m, 2n)."""
    W = as_matrix("W", W)
    P, N = np.maximum(W, 0.0), np.minimum(W, 0.0)
    return np.block([[P, N], [N, P]])


def lift_transform(k: int) -> np.ndarray:
    r"""The orthogonal, symmetric :math:`Q_k = \tfrac1{\sqrt2}\begin{psmallmatrix}I_k&I_k\\I_k&-I_k\end{psmallmatrix}`
    with :math:`Q_m \begin{psmallmatrix}A&B\\B&A\end{psmallmatrix} Q_n = \mathrm{blockdiag}(A+B, A-B)`."""
    if isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, np.integer)):
        raise DomainError(f"k: expected a positive int, got {type(k).__name__}")
    if k < 1:
        raise DomainError(f"k: must be >= 1, got {k}")
    I = np.eye(int(k))
    return np.block([[I, I], [I, -I]]) / math.sqrt(2.0)


def block_lift(A: Any, B: Any) -> np.ndarray:
    r""":math:`\begin{psmallmatrix}A&B\\B&A\end{psmallmatrix}` for two matrices of equal shape."""
    A = as_matrix("A", A)
    B = as_matrix("B", B, shape=A.shape)
    return np.block([[A, B], [B, A]])


def block_lift_eigvals(A: Any, B: Any) -> np.ndarray:
    r"""Eigenvalues of :math:`\begin{psmallmatrix}A&B\\B&A\end{psmallmatrix}` computed as the
    union, with multiplicity, of the eigenvalues of :math:`A+B` and of :math:`A-B`
    (wei2022 Claim 3.5). Sorted by (real, imag); complex dtype."""
    A = as_square("A", A)
    B = as_square("B", B, n=A.shape[0])
    ev = np.concatenate([np.linalg.eigvals(A + B), np.linalg.eigvals(A - B)]).astype(complex)
    return ev[np.lexsort((ev.imag, ev.real))]


def lift_eigvals(W: Any) -> np.ndarray:
    r"""Eigenvalues of :math:`\widehat W`: those of :math:`W` and of :math:`|W|` (Claim 3.5 with
    :math:`A=W_+`, :math:`B=W_-`)."""
    W = as_square("W", W)
    return block_lift_eigvals(np.maximum(W, 0.0), np.minimum(W, 0.0))


def lift_sym_eigvals(W: Any) -> np.ndarray:
    r"""Eigenvalues (ascending) of :math:`\mathrm{sym}(\widehat W)`: the union of those of
    :math:`\mathrm{sym}(W)` and :math:`\mathrm{sym}(|W|)` (wei2022 Lemma 3.4)."""
    W = as_square("W", W)
    S = 0.5 * (W + W.T)
    A = np.abs(W)
    Sa = 0.5 * (A + A.T)
    return np.sort(np.concatenate([np.linalg.eigvalsh(S), np.linalg.eigvalsh(Sa)]))


def lift_spectral_norm(W: Any) -> float:
    r""":math:`\|\widehat W\|_2 = \max(\|W\|_2, \||W|\|_2) = \||W|\|_2` (li2022 Prop 3.2, corrected;
    any (m, n) shape). Floating-point value; see :func:`check_adjoint_contractive` for a proof of
    :math:`<1` and :func:`deqtheory.linalg.norm2_upper_bound` for a proved upper bound."""
    W = as_matrix("W", W)
    return float(np.linalg.norm(np.abs(W), 2))


def lift_spectral_radius(W: Any) -> float:
    r""":math:`\rho(\widehat W) = \max(\rho(W), \rho(|W|)) = \rho(|W|)` (from Claim 3.5)."""
    W = as_square("W", W)
    return float(np.max(np.abs(np.linalg.eigvals(np.abs(W)))))


def sigma_max_bound(W: Any) -> float:
    r"""li2022 §3.3: :math:`\sigma_{\max}(W) \le \sqrt{mn}\,\|W\|_{\max}` for :math:`W\in\mathbb R^{m\times n}`
    (from :math:`\sigma_{\max} \le \|W\|_F`). Returns the right-hand side (rounded up by one ulp)."""
    W = as_matrix("W", W)
    m, n = W.shape
    return float(np.nextafter(math.sqrt(m * n) * float(np.max(np.abs(W))) * (1 + 4 * 2.0 ** -53), np.inf))


@dataclasses.dataclass(frozen=True)
class OrthogonalLiftBounds:
    r"""li2022 Prop 3.4 quantities for a row-orthogonal :math:`O` (m ≤ n): ``lower = 1``,
    ``value`` = :math:`\|\widehat O\|_2`, ``upper_m`` = :math:`\sqrt m`, ``upper_n`` = :math:`\sqrt n`,
    ``orthogonality_error`` = :math:`\|OO^\top - I_m\|_2`."""

    lower: float
    value: float
    upper_m: float
    upper_n: float
    orthogonality_error: float


def orthogonal_lift_bounds(O: Any, *, tol: float = 1e-10) -> OrthogonalLiftBounds:
    r"""li2022 Prop 3.4: for :math:`O\in\mathbb R^{m\times n}` with :math:`OO^\top = I_m`,
    :math:`m\le n`: :math:`1 \le \|\widehat O\|_2 \le \sqrt m \le \sqrt n`. Raises
    :class:`~deqtheory.errors.ShapeError` if m > n and :class:`~deqtheory.errors.DomainError` if
    :math:`\|OO^\top - I\|_2 >` ``tol``."""
    O = as_matrix("O", O)
    tol = as_scalar("tol", tol, nonnegative=True)
    m, n = O.shape
    if m > n:
        raise ShapeError(f"O: expected m <= n (row-orthogonal), got shape {O.shape}")
    err = float(np.linalg.norm(O @ O.T - np.eye(m), 2))
    if err > tol:
        raise DomainError(f"O: not row-orthogonal, ||O O^T - I||_2 = {err:.3g} > tol = {tol:.3g} (shape {O.shape})")
    return OrthogonalLiftBounds(1.0, lift_spectral_norm(O), math.sqrt(m), math.sqrt(n), err)


def _jw_matrix(W: np.ndarray) -> np.ndarray:
    """[[I, |W|], [|W|^T, I]] (formed exactly); λ_min = 1 - ||W|||_2."""
    n = W.shape[0]
    A = np.abs(W)
    J = np.eye(2 * n)
    J[:n, n:] = A
    J[n:, :n] = A.T
    return J


def check_adjoint_contractive(W: Any) -> Certificate:
    r"""Verified :math:`\|\widehat W\|_2 < 1` for the IBP lift (li2022 Prop 3.1: the adjoint DEQ (5)
    is then a contraction and its fixed point bounds the DEQ's).

    By li2022 Prop 3.2 (corrected), :math:`\|\widehat W\|_2 = \||W|\|_2`, and by Jordan–Wielandt
    :math:`\lambda_{\min}\begin{psmallmatrix}I&|W|\\|W|^\top&I\end{psmallmatrix} = 1 - \||W|\|_2`.
    That :math:`2n\times2n` matrix is formed exactly and tested with
    :func:`~deqtheory.verified.verified_pd`, so ``margin`` is a **proved** lower bound on
    :math:`1 - \|\widehat W\|_2` (``1 - margin`` a proved upper bound on the norm).
    REFUTED with witness ``v`` when :math:`v^\top J v < 0` is proved (then :math:`\||W|\|_2 > 1`).
    Stats carry the floating-point values of :math:`\|W\|_2` and :math:`\||W|\|_2`.
    """
    W = as_square("W", W)
    J = _jw_matrix(W)
    c = verified_pd(J, name="[[I, |W|], [|W|^T, I]]")
    nW = float(np.linalg.norm(W, 2))
    nA = float(np.linalg.norm(np.abs(W), 2))
    stats = {**dict(c.stats), "norm2_W": nW, "norm2_absW": nA, "norm2_lift_upper_bound": 1.0 - c.margin}
    return pd_as_condition(c, "adjoint_contractive",
                           certified=f"proved ||W_hat||_2 = |||W|||_2 <= {1.0 - c.margin:.6g} < 1",
                           refuted=f"refuted: |||W|||_2 > 1 (estimate {nA:.6g}; witness v)",
                           otherwise=f"could not prove ||W_hat||_2 < 1 (estimate {nA:.6g})", stats=stats)


@register_verifier("adjoint_contractive")
def _verify_adjoint(cert: Certificate, *, W: Any) -> Certificate:
    W = as_square("W", W)
    J = _jw_matrix(W)
    if cert.status is Status.REFUTED and "v" in cert.witness:
        from .linalg import _refute_quadratic

        ok, ub = _refute_quadratic(J, np.asarray(cert.witness["v"], dtype=np.float64), 0.0)
        return cert.replace(status=Status.REFUTED if ok else Status.INCONCLUSIVE,
                            residuals={"vJv_upper_bound": ub})
    c = verified_pd_at_shift(J, float(cert.witness.get("shift", 0.0)), name="[[I, |W|], [|W|^T, I]]")
    return cert.replace(status=c.status, margin=c.margin, message="re-verified from witness shift: " + c.message)
