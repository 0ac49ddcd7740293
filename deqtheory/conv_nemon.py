r"""The convolutional non-Euclidean DEQ (jafarpour2022 eq. 12, corrected, with a conv T and per-channel η)
and its matrix-free Metzler certificate.

Setting and conventions as :mod:`deqtheory.conv_ibp`: ``W`` is the circular cross-correlation with a
kernel ``K`` (c, c, kh, kw) on the ``N × N`` grid (origin tap ``((kh − 1)//2, (kw − 1)//2)``), acting on
channel-major state vectors ``(c, N, N)``, ``n = cN²``; kernels larger than the grid are refused
(``ShapeError``), so no two taps alias: every entry of the n × n matrix is 0 or exactly one tap, the
diagonal entry of every pixel of channel c is the origin tap ``K[c, c, o]``.

**Claim 1 (the Metzler mass gives μ∞ exactly).** Let

.. math:: A_M[c, c] = K[c, c, o] + \sum_{t \ne o}|K[c, c, t]|, \qquad
          A_M[c', c] = \sum_t |K[c', c, t]| \ (c' \ne c)

(c × c, Metzler: the diagonal is signed). For η > 0 per channel and η̃ = η repeated over the pixels,
the weighted row sum of row (c, p) of the materialised W is
:math:`W_{ii} + \sum_{j \ne i}\tilde\eta_j|W_{ij}|/\tilde\eta_i = (A_M\eta)_c/\eta_c` (the same for every
pixel p), hence

.. math:: \mu_{\infty,[\tilde\eta]^{-1}}(W) = \max_c (A_M\eta)_c/\eta_c.

**Claim 2 (the Metzler lift).** The embedded network of jafarpour2022 eq. (6) lifts W to
:math:`\widehat W = \begin{psmallmatrix}\lceil W\rceil^{\rm M} & \lfloor W\rfloor^{\rm M}\\
\lfloor W\rfloor^{\rm M} & \lceil W\rceil^{\rm M}\end{psmallmatrix}` on ``[z̄; z̲]`` (⌈W⌉ᴹ: the diagonal and the
non-negative off-diagonal entries, ⌊W⌋ᴹ: the negative off-diagonal entries). For k ≤ N it is the 2c-channel
circular conv with kernel ``[[A, B], [B, A]]`` (:func:`metzler_lift_kernel`): ``B`` = the negative taps except
the origin tap of each ``K[c, c]``, ``A = K − B``. Row (c, p) of Ŵ has diagonal ``K[c, c, o]`` and
off-diagonal moduli ``|A| + |B| = |K|`` tap by tap, so with weights :math:`[\tilde\eta; \tilde\eta]`,
:math:`\mu_{\infty}(\widehat W) = \max_c (A_M\eta)_c/\eta_c` as well (jafarpour2022 Thm 6.3 on the materialised
matrix). μ < 1 makes the embedded fixed point unique, reached by the α-averaged iteration with
α ≤ 1/(1 − min_c min(K[c, c, o], 0)) (jafarpour2022 Thm 5.1), and its box contains z*(v) for every v in the
input box (Thm 6.3).

**Claim 3 (the parametrization).** With T (c, c, kh, kw), η = exp(log_eta) > 0 per channel and γ < 1,

.. math:: K_W[o, i, t] = \eta_o K_T[o, i, t]/\eta_i \quad (t \ne o \text{ or } o \ne i), \qquad
          K_W[c, c, o] = \eta_c K_T[c, c, o]/\eta_c - \sum_{i, t}|K_T[c, i, t]| + \gamma.

Materialised (k ≤ N: the row mass of every pixel of channel c of the matrix T̃ of K_T is
:math:`\sum_{i,t}|K_T[c, i, t]|`) this is exactly the dense corrected eq. (12),
:math:`W = [\tilde\eta]\tilde T[\tilde\eta]^{-1} - \mathrm{diag}(|\tilde T|\mathbb 1) + \gamma I`, so (dense
proof, :mod:`deqtheory.parametrizations.noneuclidean`) :math:`\mu_{\infty,[\tilde\eta]^{-1}}(W) = \gamma +
\max_c 2\min(K_T[c, c, o], 0) \le \gamma` in exact arithmetic: by claim 1, :math:`(A_M\eta)_c/\eta_c =
K_T[c, c, o] - |K_T[c, c, o]| + \gamma`. Certificates are proved on the float kernel the formula produces
(:func:`conv_mu_inf`), never on the parameters.

Rounding (:func:`metzler_mass_upper`): off-diagonal entries are :func:`deqtheory.conv_ibp.abs_mass_upper`;
a diagonal entry is the sum ŝ of the k² − 1 off-origin moduli (with the origin tap zeroed, k² exact
non-negative terms: :math:`s \le \hat s + e`, e the γ_{k²} allowance of ``abs_mass_upper``) plus the signed
origin tap d, each of the two additions rounded up by ``nextafter`` (round-to-nearest errs by at most half an
ulp of the result, so one ulp up is ≥ the exact sum).
"""
from __future__ import annotations

import dataclasses
import math
from typing import Any, Optional, Tuple

import numpy as np

from ._validate import as_scalar
from .certificates import Certificate, Status, register_verifier
from .circulant import _as_grid, _as_kernel
from .conv_ibp import (_base_witness, _error_witness, _kernel, _mass_allowance, _mass_error_of, _per_channel, _problem,
                       abs_mass_lower, abs_mass_upper, with_mass_error)
from .linalg import _cw_bounds, _perron_vector, min_mu_inf, one_minus_down
from .parametrizations.base import Params, exp_of
from .verified import gamma as _gam

__all__ = ["ConvNonEuclideanParams", "ConvNonEuclidean", "origin", "metzler_mass", "metzler_mass_upper",
           "metzler_mass_lower", "metzler_lift_kernel", "conv_mu_inf"]


def origin(K: np.ndarray) -> Tuple[int, int]:
    """The origin tap ``((kh − 1)//2, (kw − 1)//2)`` of a kernel (the diagonal of its conv matrix)."""
    return (K.shape[2] - 1) // 2, (K.shape[3] - 1) // 2


def _diag_index(K: np.ndarray) -> Tuple[np.ndarray, np.ndarray, int, int]:
    c = np.arange(K.shape[0])
    return (c, c) + origin(K)


# ----------------------------------------------------------------------------------------------
# the parametrization
# ----------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True, eq=False)
class ConvNonEuclideanParams(Params):
    """T: (c, c, kh, kw) unconstrained kernel; log_eta: (c,), η = exp(log_eta) per channel."""

    SHAPES = {"T": ("c", "c", None, None), "log_eta": ("c",)}

    T: np.ndarray
    log_eta: np.ndarray

    eta = exp_of("log_eta")


class ConvNonEuclidean:
    r"""jafarpour2022 (12), corrected, on kernels (module docstring, claim 3):
    ``K_W = η_o K_T/η_i`` tapwise, origin tap of ``K_W[c, c]`` minus ``Σ_{i,taps}|K_T[c, i]|`` plus γ.
    Set: μ∞,[η̃]⁻¹(W) ≤ γ on every grid N ≥ k. ``gamma`` < 1 (``DomainError``); jafarpour2022 §8.1: γ = 0."""

    family = "conv_noneuclidean"
    params_type = ConvNonEuclideanParams

    def __init__(self, gamma: float = 0.0):
        self.gamma = as_scalar("gamma", gamma, upper=1.0, strict_upper=True)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(gamma={self.gamma!r})"

    def _validate(self, params: Any) -> int:
        if not isinstance(params, ConvNonEuclideanParams):
            raise TypeError(f"{type(self).__name__}: expected ConvNonEuclideanParams, got {type(params).__name__}")
        c = _kernel(params.T, square=True).shape[0]
        _per_channel("log_eta", params.log_eta, c)
        return c

    def forward(self, params: Any) -> np.ndarray:
        r"""The W kernel (c, c, kh, kw). Exact float64 formula (the torch mirror copies it)::

            eta = exp(log_eta); c = T.shape[0]; s = abs(T).reshape(c, -1).sum(axis=1)
            W = (eta[:, None, None, None] * T) / eta[None, :, None, None]
            W[i, i, o, o] = (W[i, i, o, o] - s[i]) + gamma          for every channel i (origin tap o)
        """
        c = self._validate(params)
        T, eta = params.T, params.eta
        s = np.abs(T).reshape(c, -1).sum(axis=1)
        W = (eta[:, None, None, None] * T) / eta[None, :, None, None]
        idx = _diag_index(W)
        W[idx] = (W[idx] - s) + self.gamma
        return W

    def sample(self, rng: np.random.Generator, c: int, k: int, N: Optional[int] = None, *, scale: float = 1.0,
               eta_range: float = 4.0) -> ConvNonEuclideanParams:
        """Random parameters: T Gaussian·scale/(k√c) of shape (c, c, k, k), log η uniform on
        ±log(eta_range). ``N`` (optional) checks k ≤ N (``ShapeError``)."""
        c, k = _as_grid("c", c), _as_grid("k", k)
        T = rng.standard_normal((c, c, k, k)) * scale / (k * math.sqrt(c))
        if N is not None:
            _as_kernel("T", T, _as_grid("N", N))
        log_eta = rng.uniform(-math.log(eta_range), math.log(eta_range), size=c)
        return ConvNonEuclideanParams(T=T, log_eta=log_eta)


# ----------------------------------------------------------------------------------------------
# the Metzler mass and lift
# ----------------------------------------------------------------------------------------------

def _split(K: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """``(origin taps d (c,), |K| with the origin taps of K[c, c] zeroed)``."""
    idx = _diag_index(K)
    off = np.abs(K)
    d = K[idx].copy()
    off[idx] = 0.0
    return d, off


def metzler_mass(K: Any) -> np.ndarray:
    r""":math:`A_M` of the module docstring as computed in float64 (not a bound): ``Σ_taps |K|`` off the
    diagonal, ``K[c, c, o] + Σ_{t≠o}|K[c, c, t]|`` on it."""
    K = _kernel(K, square=True)
    d, off = _split(K)
    A = off.sum(axis=(2, 3))
    A[np.diag_indices_from(A)] += d
    return A


def metzler_mass_upper(K: Any) -> np.ndarray:
    r"""A proved upper bound :math:`A_{\rm up} \ge A_M` entrywise (exact real arithmetic on the stored
    float64 kernel; module docstring, rounding). Off the diagonal: :func:`abs_mass_upper`; on it:
    ``nextafter(nextafter(ŝ + e, +∞) + d, +∞)``. ``inf`` entries on overflow."""
    K = _kernel(K, square=True)
    A = abs_mass_upper(K)
    d, off = _split(K)
    s, e = _mass_allowance(off)
    with np.errstate(over="ignore", invalid="ignore"):
        top = np.nextafter(np.nextafter(np.diag(s) + np.diag(e), np.inf) + d, np.inf)
    A[np.diag_indices_from(A)] = np.where(np.isfinite(top), top, np.inf)
    return A


def metzler_mass_lower(K: Any) -> np.ndarray:
    r"""A proved lower bound :math:`A_{\rm low} \le A_M` entrywise, used only to *refute*: off the diagonal
    :func:`deqtheory.conv_ibp.abs_mass_lower`; on it ``nextafter(max(nextafter(ŝ − e, −∞), 0) + d, −∞)`` (the
    mirror of :func:`metzler_mass_upper`; ``-inf`` where a sum is not finite)."""
    K = _kernel(K, square=True)
    A = abs_mass_lower(K)
    d, off = _split(K)
    s, e = _mass_allowance(off)
    with np.errstate(over="ignore", invalid="ignore"):
        low = np.nextafter(np.maximum(np.nextafter(np.diag(s) - np.diag(e), -np.inf), 0.0) + d, -np.inf)
    A[np.diag_indices_from(A)] = np.where(np.isfinite(low), low, -np.inf)
    return A


def _abscissa_lower(K: np.ndarray, v: Optional[np.ndarray] = None,
                    S: Optional[np.ndarray] = None) -> Tuple[float, np.ndarray]:
    r"""A proved lower bound on the spectral abscissa α(A_M) and the witness v ≥ 0: with the float shift
    σ = max(0, −min diag A_low), ``B`` = A_low + σI rounded down (≥ 0, ≤ A_M + σI entrywise), and
    ρ(A_M + σI) ≥ ρ(B) ≥ min_{v_c>0} (Bv)_c/v_c (subinvariance); α(A_M) = ρ(A_M + σI) − σ, rounded down.
    ``S``: A_low lowered by a tap-wise allowance (off the diagonal clipped at 0, the signed diagonal not)."""
    A = metzler_mass_lower(K)
    if S is not None:
        diag = np.diag(with_mass_error(A, S, up=False, clip=False)).copy()
        A = with_mass_error(A, S, up=False)
        A[np.diag_indices_from(A)] = diag
    if not np.all(np.isfinite(A)):
        return -math.inf, np.zeros(A.shape[0])
    sigma = max(0.0, -float(np.min(np.diag(A))))
    B = A.copy()
    B[np.diag_indices_from(B)] = np.maximum(np.nextafter(np.diag(A) + sigma, -np.inf), 0.0)
    if v is None:
        v = _perron_vector(B)[1]
    if not (np.all(v >= 0) and np.any(v > 0)):
        return -math.inf, v
    lb = _cw_bounds(B, v)[1]
    return float(np.nextafter(lb - sigma, -np.inf)) if math.isfinite(lb) else -math.inf, v


def metzler_lift_kernel(K: Any) -> np.ndarray:
    r"""The (2c, 2c, kh, kw) kernel ``[[A, B], [B, A]]`` of the Metzler lift on ``[z̄; z̲]`` (module docstring,
    claim 2): ``B`` = the negative taps of K except the origin tap of each ``K[c, c]``, ``A = K − B`` (exact)."""
    K = _kernel(K, square=True)
    B = np.minimum(K, 0.0)
    B[_diag_index(K)] = 0.0
    A = np.where(B < 0, 0.0, K)
    return np.concatenate([np.concatenate([A, B], 1), np.concatenate([B, A], 1)], 0)


# ----------------------------------------------------------------------------------------------
# the certificate
# ----------------------------------------------------------------------------------------------

def _positive(eta: np.ndarray, c: int) -> bool:
    return eta.shape == (c,) and bool(np.all(np.isfinite(eta))) and bool(np.all(eta > 0))


def _mu(K: np.ndarray, N: int, candidates: list, stats: dict, claimed: float = math.inf,
        S: Optional[np.ndarray] = None) -> Certificate:
    """The shared logic of :func:`conv_mu_inf` and its verifier: the best proved μ over the candidate η
    (``None``: :func:`deqtheory.linalg.min_mu_inf` on A_up; candidates that are not positive (c,) vectors are
    dropped); CERTIFIED only when μ < 1 and μ ≤ ``claimed`` (the verifier's recorded μ). ``S``: the tap-wise
    allowance's mass (:func:`deqtheory.conv_ibp.with_mass_error`)."""
    c = K.shape[0]
    A_up = with_mass_error(metzler_mass_upper(K), S, up=True)
    wit = {**_base_witness(K, N), "A": A_up, **_error_witness(S)}
    candidates = [(how, e) for how, e in candidates if e is None or _positive(e, c)]
    if not np.all(np.isfinite(A_up)) or not candidates:
        return Certificate("conv_mu_inf", Status.INCONCLUSIVE, margin=-math.inf, witness=wit, stats=stats,
                           message="a tap sum overflows float64; nothing is claimed" if candidates else
                           f"witness eta is not a positive vector of shape ({c},)")
    best = (math.inf, None, "none")
    for how, eta in candidates:
        if eta is None:
            eta = min_mu_inf(A_up).eta
        mu = float(_cw_bounds(A_up, eta)[0])
        if mu < best[0]:
            best = (mu, eta, how)
    mu, eta, how = best
    wit = {**wit, "eta": eta, "mu": mu}
    if mu < 1.0:
        ok = mu <= claimed
        return Certificate("conv_mu_inf", Status.CERTIFIED if ok else Status.INCONCLUSIVE, margin=one_minus_down(mu),
                           witness=wit, tolerance={"gamma_c1": _gam(c + 1)}, stats={**stats, "method": how},
                           message=(f"proved mu_inf,[eta]^-1(W) <= {mu:.6g} < 1 for W and its Metzler lift on the "
                                    f"{N}x{N} grid") if ok else
                           f"recorded mu = {claimed!r} is below the proved bound {mu!r}")
    lb, v = _abscissa_lower(K, None, S)
    if lb >= 1.0:
        return Certificate("conv_mu_inf", Status.REFUTED, margin=one_minus_down(mu), witness={**wit, "v": v},
                           stats={**stats, "abscissa_lower_bound": lb},
                           message=f"refuted: proved alpha(A_M) >= {lb:.6g} >= 1 (witness v), so no weights make "
                                   "mu_inf of W or of its Metzler lift < 1")
    return Certificate("conv_mu_inf", Status.INCONCLUSIVE, margin=one_minus_down(mu), witness=wit,
                       stats={**stats, "method": how},
                       message=f"could not prove mu_inf,[eta]^-1(W) < 1 (proved bound {mu:.6g})")


def conv_mu_inf(K: Any, N: Any, *, eta: Any = None, mass_error: Any = None) -> Certificate:
    r"""Prove :math:`\mu_{\infty,[\tilde\eta]^{-1}}(W) \le \mu < 1` for the circular conv W of ``K``
    (c, c, kh, kw) on the N × N grid and for its Metzler lift with weights :math:`[\tilde\eta; \tilde\eta]`
    (condition ``conv_mu_inf``; module docstring, claims 1–2), matrix-free.

    μ is the outward-rounded Collatz–Wielandt bound :math:`\max_c (A_{\rm up}\eta)_c/\eta_c` on
    :math:`A_{\rm up}` = :func:`metzler_mass_upper` ``(K)`` ≥ A_M (≥ the exact value for the stored K, since
    η > 0); η is the best of ``eta`` (optional, e.g. a trained η), 𝟙 and :func:`deqtheory.linalg.min_mu_inf`
    on A_up. ``margin`` = 1 − μ rounded down. Witness ``eta`` (c,), ``mu``, ``A`` (= A_up), ``N``, ``k``.
    REFUTED (witness ``v`` ≥ 0, c entries) when α(A_M) ≥ 1 is proved from :func:`metzler_mass_lower`: then
    no weights at all — per channel or per pixel — make μ∞(W) or μ∞ of the lift < 1 (the materialised
    Metzler majorant of W, and that of the lift, have the spectral abscissa α(A_M): the channel-constant lift
    of the Perron vector of A_M + σI, doubled for the lift, is a positive eigenvector); else INCONCLUSIVE.
    ``mass_error`` (c × c, ≥ Σ_taps |K_exact − K|): proved for every kernel within that tap-wise allowance
    (:func:`deqtheory.conv_ibp.with_mass_error`; witness ``A_error``). Raises ``ShapeError`` for k > N or
    c_out ≠ c_in."""
    K, N = _problem(K, N)
    S = _mass_error_of(mass_error, K.shape[0])
    cands = [("ones", np.ones(K.shape[0])), ("min_mu_inf", None)]
    if eta is not None:
        e = np.asarray(eta, dtype=np.float64).reshape(-1)
        _per_channel("eta", e, K.shape[0])
        cands.insert(0, ("given", e))
    return _mu(K, N, cands, {"c": int(K.shape[0])}, S=S)


@register_verifier("conv_mu_inf")
def _verify_conv_mu_inf(cert: Certificate, *, K: Any, N: Any = None) -> Certificate:
    """Recompute A_up from ``K`` and μ from the witness η (a recorded μ below the recomputed bound is
    refused), or re-check the refutation from A_low and the witness v."""
    K, N = _problem(K, cert.witness.get("N") if N is None else N)
    c = K.shape[0]
    S = _mass_error_of(cert.witness.get("A_error"), c)
    if cert.status is Status.REFUTED:
        v = np.asarray(cert.witness.get("v", np.zeros(c)), dtype=np.float64).reshape(-1)
        ok = v.shape == (c,) and _abscissa_lower(K, v, S)[0] >= 1.0
        return cert.replace(status=Status.REFUTED if ok else Status.INCONCLUSIVE,
                            message=("re-verified: " if ok else "witness does not refute: ") + cert.message)
    eta = np.asarray(cert.witness.get("eta", np.zeros(0)), dtype=np.float64).reshape(-1)
    return _mu(K, N, [("given", eta)], {"reverified": True}, claimed=float(cert.witness.get("mu", math.inf)), S=S)
