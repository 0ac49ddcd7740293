r"""The convolutional IBP-MonDEQ (wei2022 eq. 3.4 / 3.7 with per-channel D) and its matrix-free certificates.

Setting and conventions (:mod:`deqtheory.circulant`): ``W`` is the circular cross-correlation with a
kernel ``K`` of shape ``(c, c, kh, kw)`` on the ``N × N`` grid (origin ``(k − 1)//2``, PyTorch
``padding_mode='circular'``), acting on channel-major state vectors ``(c, N, N)``; ``n = cN²``. Kernels
larger than the grid (``kh > N`` or ``kw > N``) are refused with :class:`~deqtheory.errors.ShapeError`.
Write

.. math:: A[o, i] = \sum_{a, b} |K[o, i, a, b]| \qquad (c \times c,\ A \ge 0).

**Claim 1 (|W| is a convolution).** For ``k ≤ N`` every entry of the ``n × n`` matrix ``W`` is either 0
or exactly one tap ``K[o, i, a, b]`` (the ``k`` offsets ``a − o(k)`` are distinct mod ``N``), so
:math:`|W|` is the circular convolution with :math:`|K|`; on a vector that is constant per channel
(:math:`v_c` at every pixel) it gives :math:`(Av)_c` at every pixel.

**Claim 2 (the lift's margin from a c × c matrix).** :math:`\mathrm{sym}|W|` is the convolution with
the kernel of :math:`(|K| + |K|^{\rm adj})/2`; its per-frequency blocks
:math:`B(\omega) = \mathrm{sym}(\hat{|K|}(\omega))` satisfy :math:`|B(\omega)| \le B(0) = \mathrm{sym}(A)`
entrywise (triangle inequality on :math:`\sum_{a,b}|K_{oi,ab}|e^{i\theta_{ab}(\omega)}`). For a Hermitian
block, :math:`\lambda_{\max}(B(\omega)) \le \rho(B(\omega)) \le \rho(|B(\omega)|) \le \rho(\mathrm{sym}A)`
(Wielandt), and ω = 0 attains it (the channel-constant lift of the Perron vector of sym A is an
eigenvector), so

.. math:: \lambda_{\max}(\mathrm{sym}|W|) = \lambda_{\max}(\mathrm{sym}A).

Hence :math:`\mathrm{sym}(I - |W|) \succeq mI` with :math:`m = 1 - \lambda_{\max}(\mathrm{sym}A)`, and by
wei2022 Lemma 3.4 (spec(sym Ŵ) = spec(sym W) ∪ spec(sym|W|), λ_max(sym W) ≤ λ_max(sym|W|)) the IBP lift
:math:`\widehat W = \begin{psmallmatrix}W_+ & W_-\\ W_- & W_+\end{psmallmatrix}` and W itself satisfy
:math:`\mathrm{sym}(I - \widehat W) \succeq mI`, :math:`\mathrm{sym}(I - W) \succeq mI`.
:func:`conv_ibp_margin` proves m from :math:`A_{\rm up}` = :func:`abs_mass_upper` ``(K)`` ≥ A entrywise:
:math:`0 \le A \le A_{\rm up}` gives :math:`\lambda_{\max}(\mathrm{sym}A) \le \lambda_{\max}(\mathrm{sym}A_{\rm up})`
(Perron–Frobenius monotonicity), and :math:`\mathrm{sym}(I - A_{\rm up}) \succeq mI` is proved by the
verified Cholesky test (:func:`deqtheory.linalg.check_monotone` on the c × c matrix).

**Claim 3 (weighted ℓ∞ contraction).** If :math:`\eta \in \mathbb R^c`, η > 0, :math:`A\eta \le \mu\eta`
and μ < 1, let η̃ be η repeated over the pixels of each channel. Then (claim 1)
:math:`\||W|\|_{\infty,[\tilde\eta]^{-1}} = \max_c (A\eta)_c/\eta_c \le \mu`, also
:math:`\|W\|_{\infty,[\tilde\eta]^{-1}} \le \mu` and, since :math:`|W_+| + |W_-| = |W|`,
:math:`\||\widehat W|\|_{\infty,[\tilde\eta;\tilde\eta]^{-1}} \le \mu`: :math:`z \mapsto \mathrm{ReLU}(\widehat Wz + \hat v)`
is a μ-contraction of that norm (ReLU is 1-Lipschitz per coordinate), so
:math:`\mu_{\infty,[\tilde\eta]^{-1}}(\widehat W) \le \mu < 1` (jafarpour2022 Thm 5.1), the lifted fixed
point is unique and :math:`\|\hat z - z^\star\|_{\infty,\tilde\eta} \le \|r\|_{\infty,\tilde\eta}/(1-\mu)` for
the residual :math:`r = \hat z - \mathrm{ReLU}(\widehat W\hat z + \hat v)` (:func:`contraction_error_bound`).
Since :math:`\rho(A) \le \lambda_{\max}(\mathrm{sym}A)` for A ≥ 0, this route works whenever claim 2's
does, and also for the Γ-variant (:math:`A_W = \Gamma A_{W'}\Gamma^{-1}` has the spectral radius of
:math:`A_{W'}`, while its symmetric part may have a larger λ_max). :func:`conv_abs_contraction` proves
μ from :math:`A_{\rm up}` with the outward-rounded Collatz–Wielandt bound of :mod:`deqtheory.linalg`.

**The parametrization (wei2022 eq. 3.4 with per-channel D, §4 with m).** With
:math:`A_M = \sum_{\rm taps}|M|`, :math:`r_c = ((A_M\mathbb 1)_c + (A_M^\top\mathbb 1)_c)/2`,
:math:`d = r/(1-m) + e^{s}` and :math:`W[o, i] = M[o, i]/\sqrt{d_o d_i}` (every tap), W is again a
convolution, :math:`A_W = D^{-1/2}A_MD^{-1/2}`, and the dense Thm 3.1 argument on the c × c matrix
(:math:`(1-m)D - \mathrm{sym}A_M` strictly diagonally dominant) with claim 2 gives
:math:`\lambda_{\max}(\mathrm{sym}|W|) < 1 - m`. The Γ-variant (eq. 3.7, §4):
:math:`W[o, i] = \Gamma_o W'[o, i]/\Gamma_i`. The float formulas are those of the dense
:class:`~deqtheory.parametrizations.IBPMonDEQ` / :class:`~deqtheory.parametrizations.IBPMonDEQGamma`,
broadcast over the taps (see :meth:`ConvIBPMonDEQ.forward`); certificates are proved on the kernel they
produce, never on the parameters.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Any, Optional, Tuple

import numpy as np

from ._validate import as_array, as_scalar
from .certificates import Certificate, Status, register_verifier
from .circulant import _as_grid, _as_kernel
from .errors import ShapeError
from .linalg import (_cw_bounds, _perron_vector, _refute_quadratic, _shifted_identity_minus, check_monotone,
                     one_minus_down, pf_upper_bound)
from .parametrizations.base import Params
from .parametrizations.ibp import IBPMonDEQ, IBPMonDEQGamma, IBPMonDEQParams, row_col_mass
from .verified import INFLATE, UNIT_ROUNDOFF, gamma as _gam, round_up

__all__ = ["abs_mass", "abs_mass_upper", "abs_mass_lower", "ConvIBPMonDEQParams", "ConvIBPMonDEQGammaParams",
           "ConvIBPMonDEQ", "ConvIBPMonDEQGamma", "conv_ibp_margin", "conv_abs_contraction",
           "contraction_error_bound"]

_ETA = 2.0 ** -1074          # smallest subnormal


# ----------------------------------------------------------------------------------------------
# the c × c mass matrix A = Σ_taps |K|
# ----------------------------------------------------------------------------------------------

def _kernel(K: Any, N: Optional[int] = None, *, square: bool = False) -> np.ndarray:
    """``K`` as an exact float64 4-d kernel (finite); ``k ≤ N`` when ``N`` is given; c_out = c_in when
    ``square``. Typed errors name the shape."""
    K = as_array("K", K, ndim=4)
    if N is not None:
        _as_kernel("K", K, N)
    if square and K.shape[0] != K.shape[1]:
        raise ShapeError(f"K: expected a square-channel kernel (c, c, kh, kw) for a DEQ state, got shape {K.shape}")
    return K


def abs_mass(K: Any) -> np.ndarray:
    r""":math:`A[o, i] = \sum_{a,b}|K[o, i, a, b]|` as computed in float64 (``np.abs(K).sum(axis=(2, 3))``):
    the *model's* definition (used by :class:`ConvIBPMonDEQ`), not a bound."""
    return np.abs(_kernel(K)).sum(axis=(2, 3))


def _mass_allowance(K: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """The computed sums ŝ and an allowance e ≥ |ŝ − s| (before the final outward rounding)."""
    with np.errstate(over="ignore", invalid="ignore"):
        s = np.abs(K).sum(axis=(2, 3))
        return s, s * (INFLATE * _gam(K.shape[2] * K.shape[3])) + _ETA


def abs_mass_upper(K: Any) -> np.ndarray:
    r"""A proved upper bound :math:`A_{\rm up} \ge A = \sum_{\rm taps}|K|` entrywise (exact real sums of the
    stored float64 kernel).

    Rounding model: the :math:`k_hk_w` terms are exact non-negative floats, so any summation order gives
    :math:`|\hat s - s| \le \gamma_{k^2-1}s` (Higham eq. 4.4; additions never underflow), hence
    :math:`s \le \hat s/(1-\gamma_{k^2-1}) \le \hat s(1 + \gamma_{k^2})`. We return
    ``round_up(ŝ + INFLATE·γ_{k²}·ŝ + 2⁻¹⁰⁷⁴)`` per entry (:func:`deqtheory.verified.round_up`: ×(1 + 8u)
    and one ulp up; the tiny term covers underflow of the product). ``inf`` on overflow.
    Validates ``K`` (4-d, finite, exactly float64: :func:`deqtheory._validate.as_exact_float64`)."""
    K = _kernel(K)
    s, e = _mass_allowance(K)
    with np.errstate(over="ignore", invalid="ignore"):
        up = s + e
    return np.array([round_up(float(x)) for x in up.ravel()]).reshape(s.shape)


def abs_mass_lower(K: Any) -> np.ndarray:
    r"""A proved lower bound :math:`0 \le A_{\rm low} \le A` entrywise (:math:`s \ge \hat s(1-\gamma_{k^2})`,
    rounded down and clipped at 0); used only to *refute* (ρ(A) ≥ ρ(A_low) for 0 ≤ A_low ≤ A)."""
    K = _kernel(K)
    s, e = _mass_allowance(K)
    with np.errstate(over="ignore", invalid="ignore"):
        low = np.nextafter((s - e) * (1.0 - 8 * UNIT_ROUNDOFF), -np.inf)
    return np.where(np.isfinite(s), np.maximum(low, 0.0), 0.0)


def with_mass_error(A: np.ndarray, S: Optional[np.ndarray], *, up: bool, clip: bool = True) -> np.ndarray:
    r"""A mass bound widened for every kernel within a tap-wise allowance: ``S`` ≥ Σ_taps 𝓔 (c × c, e.g.
    :func:`abs_mass_upper` of 𝓔 ≥ |K_exact − K| tap by tap). Since :math:`|K_{\rm exact}| \le |K| + 𝓔` and
    :math:`\ge |K| - 𝓔` tap by tap (the signed origin tap moves by at most its 𝓔 too), every mass of
    K_exact is ≤ A_up + S and ≥ A_low − S: ``up`` returns A + S rounded up, else A − S rounded down (clipped
    at 0 when ``clip``: an |·| mass is ≥ 0). ``S`` None: ``A`` unchanged (the stored kernel is the model)."""
    if S is None:
        return A
    with np.errstate(over="ignore", invalid="ignore"):
        if up:
            return np.where(np.isfinite(A + S), np.nextafter(A + S, np.inf), np.inf)
        low = np.nextafter(A - S, -np.inf)
        return np.maximum(low, 0.0) if clip else np.where(np.isfinite(low), low, -np.inf)


def _mass_error_of(S: Any, c: int) -> Optional[np.ndarray]:
    if S is None:
        return None
    S = np.asarray(S, dtype=np.float64)
    if S.shape != (c, c) or np.any(np.isnan(S)) or np.any(S < 0):
        raise ShapeError(f"mass_error: expected a non-negative ({c}, {c}) array, got shape {S.shape}")
    return S


# ----------------------------------------------------------------------------------------------
# the parametrization
# ----------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True, eq=False)
class ConvIBPMonDEQParams(Params):
    """M: (c, c, kh, kw) unconstrained kernel; log_slack: (c,), slack = exp(log_slack) > 0."""

    SHAPES = {"M": ("c", "c", None, None), "log_slack": ("c",)}

    M: np.ndarray
    log_slack: np.ndarray


@dataclasses.dataclass(frozen=True, eq=False)
class ConvIBPMonDEQGammaParams(Params):
    """M: (c, c, kh, kw), log_slack: (c,), beta: (c,) (Γ from β, see :class:`ConvIBPMonDEQGamma`)."""

    SHAPES = {"M": ("c", "c", None, None), "log_slack": ("c",), "beta": ("c",)}

    M: np.ndarray
    log_slack: np.ndarray
    beta: np.ndarray


def _per_channel(name: str, v: np.ndarray, c: int) -> None:
    if v.shape != (c,):
        raise ShapeError(f"{name}: expected shape ({c},) (one entry per channel), got {v.shape}")


class ConvIBPMonDEQ:
    r"""wei2022 Thm 3.1 / eq. (3.4) with per-channel D and margin m (§4), on kernels:
    ``W[o, i] = M[o, i]/√(d_o d_i)``, ``d = r(A_M)/(1 − m) + exp(log_slack)``, ``A_M = Σ_taps |M|``.

    Set (module docstring, claims 1–2): ``λ_max(sym|W|) < 1 − m`` on every grid N ≥ k, i.e.
    ``sym(I − |W|) ≻ mI`` and the IBP lift ``sym(I − Ŵ) ≻ mI``. ``m`` in [0, 1) (``DomainError``).
    """

    family = "conv_ibp_mondeq"
    params_type = ConvIBPMonDEQParams

    def __init__(self, m: float = 0.0):
        self._dense = IBPMonDEQ(m=m)
        self.m = self._dense.m

    def __repr__(self) -> str:
        return f"{type(self).__name__}(m={self.m!r})"

    def _validate(self, params: Any) -> int:
        if not isinstance(params, self.params_type):
            raise TypeError(f"{type(self).__name__}: expected {self.params_type.__name__}, got {type(params).__name__}")
        M = _kernel(params.M, square=True)
        c = M.shape[0]
        for name in type(params).SHAPES:
            if name != "M":
                _per_channel(name, getattr(params, name), c)
        return c

    def _dense_params(self, params: Any) -> IBPMonDEQParams:
        return IBPMonDEQParams(M=abs_mass(params.M), log_slack=params.log_slack)

    def row_col_mass(self, params: Any) -> np.ndarray:
        r""":math:`r_c = (\sum_i A_M[c, i] + \sum_o A_M[o, c])/2` in float64: ``0.5·(A.sum(1) + A.sum(0))``
        with ``A = np.abs(M).sum(axis=(2, 3))`` (the model's definition, not a bound)."""
        self._validate(params)
        return row_col_mass(abs_mass(params.M))

    def d(self, params: Any) -> np.ndarray:
        """The per-channel diagonal of D: ``r/(1 − m) + exp(log_slack)`` (the dense :meth:`IBPMonDEQ.d`
        applied to the c × c matrix A_M)."""
        self._validate(params)
        return self._dense.d(self._dense_params(params))

    @staticmethod
    def _scale(M: np.ndarray, d: np.ndarray) -> np.ndarray:
        s = 1.0 / np.sqrt(d)
        return (s[:, None, None, None] * M) * s[None, :, None, None]

    def forward(self, params: Any) -> np.ndarray:
        r"""The W kernel (c, c, kh, kw). Exact float64 formula (the torch mirror copies it)::

            A = abs(M).sum(axis=(2, 3)); r = 0.5 * (A.sum(axis=1) + A.sum(axis=0))
            d = r / (1 - m) + exp(log_slack); s = 1 / sqrt(d)
            W = (s[:, None, None, None] * M) * s[None, :, None, None]
        """
        self._validate(params)
        return self._scale(params.M, self.d(params))

    def sample(self, rng: np.random.Generator, c: int, k: int, N: Optional[int] = None, *, scale: float = 1.0,
               slack_range: "tuple[float, float]" = (0.1, 1.0)) -> ConvIBPMonDEQParams:
        """Random parameters: M Gaussian·scale/(k√c) of shape (c, c, k, k), slack_i = u_i·mean(r)/(1 − m)
        with u_i uniform in ``slack_range`` (how far from the boundary λ_max(sym|W|) = 1 − m). ``N``
        (optional) checks k ≤ N (``ShapeError``)."""
        c, k = _as_grid("c", c), _as_grid("k", k)
        M = rng.standard_normal((c, c, k, k)) * scale / (k * math.sqrt(c))
        if N is not None:
            _as_kernel("M", M, _as_grid("N", N))
        base = float(np.mean(row_col_mass(abs_mass(M)))) / (1.0 - self.m)
        slack = rng.uniform(*slack_range, size=c) * max(base, 1e-300)
        return ConvIBPMonDEQParams(M=M, log_slack=np.log(slack))


class ConvIBPMonDEQGamma(ConvIBPMonDEQ):
    r"""wei2022 Thm 3.3 / eq. (3.7) with per-channel D, Γ and margin m: ``W[o, i] = Γ_o W'[o, i]/Γ_i``,
    W' the :class:`ConvIBPMonDEQ` kernel, ``Γ = (γ−1)/γ·sigmoid(β) + 1/γ`` (wei2022 §4; ``gamma=None``:
    Γ = exp(β), plain Thm 3.3) — the dense :meth:`IBPMonDEQGamma.Gamma`. Set: ρ(|W|) = ρ(|W'|) < 1 − m
    (claim 3 certifies it: :func:`conv_abs_contraction`); λ_max(sym|W|) may exceed 1 − m."""

    family = "conv_ibp_mondeq_gamma"
    params_type = ConvIBPMonDEQGammaParams

    def __init__(self, m: float = 0.0, gamma: Optional[float] = 3.0):
        super().__init__(m=m)
        self._dense_gamma = IBPMonDEQGamma(m=self.m, gamma=gamma)
        self.gamma = self._dense_gamma.gamma

    def __repr__(self) -> str:
        return f"{type(self).__name__}(m={self.m!r}, gamma={self.gamma!r})"

    def Gamma(self, beta: Any) -> np.ndarray:
        """The per-channel Γ from β (the dense formula: ``(g−1)/g·0.5(1 + tanh(β/2)) + 1/g``)."""
        return self._dense_gamma.Gamma(beta)

    def forward(self, params: Any) -> np.ndarray:
        r"""``g = Gamma(beta)``; ``W = (g[:, None, None, None] * W') / g[None, :, None, None]`` with W' the
        :meth:`ConvIBPMonDEQ.forward` kernel of (M, log_slack)."""
        Wp = super().forward(params)
        g = self.Gamma(params.beta)
        return (g[:, None, None, None] * Wp) / g[None, :, None, None]

    def sample(self, rng: np.random.Generator, c: int, k: int, N: Optional[int] = None, *, scale: float = 1.0,
               slack_range: "tuple[float, float]" = (0.1, 1.0), beta_scale: float = 1.0) -> ConvIBPMonDEQGammaParams:
        p = super().sample(rng, c, k, N, scale=scale, slack_range=slack_range)
        beta = rng.standard_normal(p.M.shape[0]) * beta_scale
        return ConvIBPMonDEQGammaParams(M=p.M, log_slack=p.log_slack, beta=beta)


# ----------------------------------------------------------------------------------------------
# certificates
# ----------------------------------------------------------------------------------------------

def _problem(K: Any, N: Any) -> Tuple[np.ndarray, int]:
    N = _as_grid("N", N)
    return _kernel(K, N, square=True), N


def _base_witness(K: np.ndarray, N: int) -> dict:
    return {"N": N, "k": (int(K.shape[2]), int(K.shape[3]))}


def _monotone_refutation(K: np.ndarray, v: np.ndarray, S: Optional[np.ndarray] = None) -> Tuple[bool, float]:
    r"""Prove :math:`|v|^\top(I - A_{\rm low})|v| < 0`; then the channel-constant lift ṽ of |v| has
    :math:`\tilde v^\top(I - |W|)\tilde v = N^2|v|^\top(I - A)|v| \le N^2|v|^\top(I - A_{\rm low})|v| < 0`
    (``S``: A_low lowered by the tap-wise allowance, :func:`with_mass_error`)."""
    B, err = _shifted_identity_minus(with_mass_error(abs_mass_lower(K), S, up=False), 1.0)
    return _refute_quadratic(B, np.abs(v), err)


def _error_witness(S: Optional[np.ndarray]) -> dict:
    return {} if S is None else {"A_error": S}


def conv_ibp_margin(K: Any, N: Any, *, mass_error: Any = None) -> Certificate:
    r"""Prove :math:`\mathrm{sym}(I - |W|) \succeq mI` with m = ``margin`` > 0 for the circular convolution W
    of the kernel ``K`` (c, c, kh, kw) on the N × N grid (condition ``conv_ibp_monotone``; module docstring,
    claims 1–2): then the IBP lift and W are m-monotone (wei2022 Lemma 3.4).

    m is the proved lower bound of :func:`deqtheory.linalg.check_monotone` on the c × c matrix
    :math:`A_{\rm up}` = :func:`abs_mass_upper` ``(K)``: :math:`\lambda_{\min}(\mathrm{sym}(I - A_{\rm up}))
    \ge m` and :math:`A \le A_{\rm up}` give the claim. Witness ``A`` (= A_up), ``N``, ``k``, ``shift``
    (the Cholesky shift that re-proves it). REFUTED (witness ``v`` ≥ 0, c entries) when
    :math:`v^\top(I - A_{\rm low})v < 0` is proved for :func:`abs_mass_lower`: then λ_max(sym|W|) > 1;
    else INCONCLUSIVE. ``mass_error`` (c × c, ≥ Σ_taps |K_exact − K|): the claim is proved for every kernel
    K_exact within that tap-wise allowance of ``K`` (the stored model of a kernel computed from parameters;
    masses widened by :func:`with_mass_error`, witness ``A_error``). Raises ``ShapeError`` for k > N or
    c_out ≠ c_in."""
    K, N = _problem(K, N)
    S = _mass_error_of(mass_error, K.shape[0])
    A_up = with_mass_error(abs_mass_upper(K), S, up=True)
    wit = {**_base_witness(K, N), "A": A_up, **_error_witness(S)}
    finite = bool(np.all(np.isfinite(A_up)))
    est = float(np.linalg.eigvalsh(0.5 * (A_up + A_up.T))[-1]) if finite else math.inf
    stats = {"c": int(K.shape[0]), "lambda_max_sym_A_estimate": est}
    if not finite:
        return Certificate("conv_ibp_monotone", Status.INCONCLUSIVE, margin=-math.inf, witness=wit, stats=stats,
                           message="sum of |K| over the taps overflows float64; nothing is claimed")
    up = check_monotone(A_up)
    margin = float(up.margin)
    if up.certified:
        return Certificate("conv_ibp_monotone", Status.CERTIFIED, margin=margin,
                           witness={**wit, "shift": float(up.witness["shift"])}, tolerance=dict(up.tolerance),
                           stats=stats, message=f"proved sym(I - |W|) >= {margin:.6g} I on the {N}x{N} grid "
                                                f"(lambda_min(sym(I - A_up)), c = {K.shape[0]})")
    low = check_monotone(with_mass_error(abs_mass_lower(K), S, up=False))
    if low.status is Status.REFUTED:
        v = np.abs(np.asarray(low.witness["v"], dtype=np.float64))
        ok, ub = _monotone_refutation(K, v, S)
        if ok:
            return Certificate("conv_ibp_monotone", Status.REFUTED, margin=min(margin, 0.0),
                               witness={**wit, "v": v}, residuals={"vBv_upper_bound": ub}, stats=stats,
                               message="refuted: proved v^T (I - A_low) v < 0 with v >= 0, so "
                                       "lambda_max(sym|W|) > 1 (the channel-constant lift of v)")
    return Certificate("conv_ibp_monotone", Status.INCONCLUSIVE, margin=margin, witness=wit, stats=stats,
                       message=f"could not prove sym(I - |W|) > 0 (lambda_max(sym A) estimate {est:.6g})")


@register_verifier("conv_ibp_monotone")
def _verify_conv_ibp_margin(cert: Certificate, *, K: Any, N: Any = None) -> Certificate:
    """Recompute A_up (A_low) from ``K`` and re-prove at the witness shift (re-check the witness v)."""
    K, N = _problem(K, cert.witness.get("N") if N is None else N)
    S = _mass_error_of(cert.witness.get("A_error"), K.shape[0])
    if cert.status is Status.REFUTED and "v" in cert.witness:
        v = np.asarray(cert.witness["v"], dtype=np.float64).reshape(-1)
        if v.shape != (K.shape[0],):
            return cert.replace(status=Status.INCONCLUSIVE, message=f"witness v has shape {v.shape}")
        ok, ub = _monotone_refutation(K, v, S)
        return cert.replace(status=Status.REFUTED if ok else Status.INCONCLUSIVE, residuals={"vBv_upper_bound": ub},
                            message=("re-verified: " if ok else "witness does not refute: ") + cert.message)
    A_up = with_mass_error(abs_mass_upper(K), S, up=True)
    if "shift" not in cert.witness or not np.all(np.isfinite(A_up)):
        return cert.replace(status=Status.INCONCLUSIVE, margin=-math.inf, message="nothing to re-prove")
    inner = Certificate("monotone", Status.CERTIFIED, witness={"m": 0.0, "shift": float(cert.witness["shift"])})
    again = inner.verify(W=A_up)
    return cert.replace(status=again.status, margin=float(again.margin), witness={**cert.witness, "A": A_up},
                        message="re-verified from K and the witness shift: " + again.message)


def _contraction(K: np.ndarray, N: int, eta: Optional[np.ndarray], stats: dict,
                 S: Optional[np.ndarray] = None) -> Certificate:
    """The shared logic of :func:`conv_abs_contraction` and its verifier (``eta=None``: choose η; ``S`` the
    tap-wise allowance's mass, :func:`with_mass_error`)."""
    A_up = with_mass_error(abs_mass_upper(K), S, up=True)
    wit = {**_base_witness(K, N), "A": A_up, **_error_witness(S)}
    if not np.all(np.isfinite(A_up)):
        return Certificate("conv_abs_contraction", Status.INCONCLUSIVE, margin=-math.inf, witness=wit, stats=stats,
                           message="sum of |K| over the taps overflows float64; nothing is claimed")
    if eta is None:
        pf = pf_upper_bound(A_up)
        eta, mu, how = pf.v, pf.bound, pf.method
    else:
        mu, how = _cw_bounds(A_up, eta)[0], "given"
    mu = float(mu)
    if mu < 1.0:
        return Certificate("conv_abs_contraction", Status.CERTIFIED, margin=one_minus_down(mu),
                           witness={**wit, "eta": eta, "mu": mu}, tolerance={"gamma_c1": _gam(K.shape[0] + 1)},
                           stats={**stats, "method": how},
                           message=f"proved || |W| ||_(inf,eta) <= {mu:.6g} < 1 (and for the IBP lift) on the "
                                   f"{N}x{N} grid")
    A_low = with_mass_error(abs_mass_lower(K), S, up=False)
    v = _perron_vector(A_low)[1]
    lb = _cw_bounds(A_low, v)[1] if np.any(v > 0) else -math.inf
    if lb >= 1.0:
        return Certificate("conv_abs_contraction", Status.REFUTED, margin=one_minus_down(mu),
                           witness={**wit, "v": v}, stats={**stats, "rho_lower_bound": lb},
                           message=f"refuted: proved rho(|W|) >= rho(A_low) >= {lb:.6g} >= 1 (witness v), so no "
                                   "weight eta makes |W| a contraction")
    return Certificate("conv_abs_contraction", Status.INCONCLUSIVE, margin=one_minus_down(mu),
                       witness={**wit, "eta": eta, "mu": mu}, stats={**stats, "method": how},
                       message=f"could not prove || |W| ||_(inf,eta) < 1 (proved bound {mu:.6g})")


def conv_abs_contraction(K: Any, N: Any, *, mass_error: Any = None) -> Certificate:
    r"""Prove that the circular convolution W of ``K`` (c, c, kh, kw) on the N × N grid and its IBP lift are
    contractions of the weighted ℓ∞ norm with per-channel weights η (condition ``conv_abs_contraction``;
    module docstring, claim 3): :math:`\|W\|_{\infty,\tilde\eta} \le \||W|\|_{\infty,\tilde\eta} \le \mu < 1`.

    η > 0 is the best of the Perron / resolvent / ones candidates of :func:`deqtheory.linalg.pf_upper_bound`
    on :math:`A_{\rm up}` = :func:`abs_mass_upper` ``(K)``; μ is the outward-rounded Collatz–Wielandt bound
    :math:`\max_c (A_{\rm up}\eta)_c/\eta_c` (≥ the exact value for the stored K); ``margin`` = 1 − μ
    rounded down. Witness ``eta`` (c,), ``mu``, ``A`` (= A_up), ``N``, ``k``. REFUTED (witness ``v``) when
    :math:`\rho(A_{\rm low}) \ge 1` is proved (then ρ(|W|) ≥ 1 and no weight works); else INCONCLUSIVE.
    ``mass_error``: as in :func:`conv_ibp_margin` (proved for every kernel within the tap-wise allowance).
    Raises ``ShapeError`` for k > N or c_out ≠ c_in."""
    K, N = _problem(K, N)
    S = _mass_error_of(mass_error, K.shape[0])
    A_up = with_mass_error(abs_mass_upper(K), S, up=True)
    est = float(_perron_vector(A_up)[0]) if np.all(np.isfinite(A_up)) else math.inf
    return _contraction(K, N, None, {"c": int(K.shape[0]), "rho_A_estimate": est}, S)


@register_verifier("conv_abs_contraction")
def _verify_conv_abs_contraction(cert: Certificate, *, K: Any, N: Any = None) -> Certificate:
    """Recompute A_up from ``K`` and μ from the witness η (or re-check the refutation from A_low); the
    recorded μ must be proved (a smaller recorded μ than the recomputed bound is refused)."""
    K, N = _problem(K, cert.witness.get("N") if N is None else N)
    c = K.shape[0]
    S = _mass_error_of(cert.witness.get("A_error"), c)
    if cert.status is Status.REFUTED:
        A_low = with_mass_error(abs_mass_lower(K), S, up=False)
        v = np.asarray(cert.witness.get("v", np.zeros(c)), dtype=np.float64).reshape(-1)
        ok = v.shape == (c,) and bool(np.all(v >= 0)) and bool(np.any(v > 0)) and _cw_bounds(A_low, v)[1] >= 1.0
        return cert.replace(status=Status.REFUTED if ok else Status.INCONCLUSIVE,
                            message=("re-verified: " if ok else "witness does not refute: ") + cert.message)
    eta = np.asarray(cert.witness.get("eta", np.zeros(0)), dtype=np.float64).reshape(-1)
    if eta.shape != (c,) or not np.all(np.isfinite(eta)) or np.any(eta <= 0):
        return cert.replace(status=Status.INCONCLUSIVE, margin=-math.inf,
                            message=f"witness eta is not a positive vector of shape ({c},)")
    again = _contraction(K, N, eta, {"reverified": True}, S)
    claimed = float(cert.witness.get("mu", math.inf))
    if again.certified and not again.witness["mu"] <= claimed:
        return again.replace(status=Status.INCONCLUSIVE,
                             message=f"recorded mu = {claimed!r} is below the proved bound {again.witness['mu']!r}")
    return again


def contraction_error_bound(cert: Certificate, residual_norm: float) -> float:
    r"""A proved upper bound on :math:`\|\hat z - z^\star\|_{\infty,\tilde\eta}` (η̃ = the certificate's
    ``eta`` per pixel, doubled for the lift) from a proved upper bound ``residual_norm`` ≥
    :math:`\|r\|_{\infty,\tilde\eta}` of the residual :math:`r = \hat z - \mathrm{ReLU}(\widehat W\hat z + \hat v)`
    (or of W's own fixed-point map): :math:`\|r\|/(1 - \mu)`, rounded up (Banach: the map is a
    μ-contraction of that norm, module docstring claim 3). ``inf`` unless ``cert`` is a CERTIFIED
    ``conv_abs_contraction`` certificate."""
    r = as_scalar("residual_norm", residual_norm, nonnegative=True)
    if cert.condition != "conv_abs_contraction" or not cert.certified:
        return math.inf
    gap = one_minus_down(float(cert.witness["mu"]))
    if not gap > 0:
        return math.inf
    return round_up(r / gap)

