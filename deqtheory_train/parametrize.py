r"""Torch mirrors of :mod:`deqtheory.parametrizations` — same formulas, same parameter names.

Every family has

* a **pure function** ``<family>_weight(...) -> W`` (differentiable, follows the dtype/device of its
  inputs) — the single torch transcription of the deqtheory formula;
* an ``nn.Module`` (``MonDEQWeight``, …) holding the free parameters as ``nn.Parameter`` under the
  **same names** as the deqtheory params dataclass; ``module()`` returns ``W``;
* numpy: ``deqtheory_train.export.to_deqtheory(module)`` → the deqtheory params dataclass (numpy
  float64, detached; the fields ``module.fields``) such that ``module.family().forward(params)``
  equals ``module()`` up to float64 rounding, and ``family().contains(W)`` /
  ``family().defining_condition(params)`` certify it (tests: ``tests/test_train_dense_parametrize.py``);
  LBEN's parameters include the layer's ``G``, ``U``: export the :class:`LBENLayer`;
* ``from_params(params, dtype=, device=)`` (classmethod): the inverse of ``to_deqtheory``;
* ``family()``: the deqtheory :class:`~deqtheory.parametrizations.Parametrization` with the current
  hyper-parameters.

For ``torch.nn.utils.parametrize``: :class:`FamilyParametrization` wraps a deqtheory family
(``forward(*free_tensors) -> W``, ``right_inverse(W)`` = deqtheory's right inverse), e.g.
``parametrize.register_parametrization(linear, "weight", FamilyParametrization(MonDEQ(m=1)), unsafe=True)``
(``unsafe`` because ``right_inverse`` returns several tensors). LBEN is not offered there (its set
depends on ``G``, ``U``; use :class:`LBENWeight`). On registration a weight outside the family's set
(a default ``nn.Linear`` for ``MonDEQ(m=1)``) is replaced by a valid point, ``family.sample`` drawn
from torch's RNG (as geotorch does), with a warning; a later assignment outside the set raises.

Formulas (conventions of ``docs/conventions.md``; W acts on column vectors):

==========================  ========================================================================  =========================
module                      W                                                                         paper
==========================  ========================================================================  =========================
MonDEQWeight(n, m)          (1−m)I − AᵀA + B − Bᵀ                                                      havens2023 eq. (5)
GMonDEQWeight(n, m)         I − Φ(AᵀA + Bᵀ − B + mI), Φ = diag(exp(log_phi))                           havens2023 eq. (6)
LBENWeight(n, L, eps)       I − Ψ(GᵀG/2L + Ψ⁻¹UUᵀΨ⁻¹/2L + VᵀV + Sᵀ − S + εI), Ψ = diag(exp(log_psi))   havens2023 eq. (7)
IBPMonDEQWeight(n, m)       D^{-1/2}MD^{-1/2}, d = r(M)/(1−m) + exp(log_slack)                         wei2022 eq. (3.4), §4
IBPMonDEQGammaWeight(n,m,γ) ΓD^{-1/2}MD^{-1/2}Γ⁻¹, Γ = (γ−1)/γ·sigmoid(β) + 1/γ (γ=None: exp(β))         wei2022 eq. (3.7), §4
NonEuclideanWeight(n, γ)    [η]T[η]⁻¹ − diag(|T|𝟙) + γI, η = exp(log_eta)  (**corrected** eq. 12)       jafarpour2022 eq. (12)
CerDEQWeight(n, K)          Björck_K(V/(n‖V‖_max))/√n                                                  li2022 §3.3, eqs. (6)–(7)
==========================  ========================================================================  =========================

The IBP margin ``m`` may change during training (wei2022 App. B warm-up,
:func:`m_warmup` with :func:`smooth_eps_schedule`); ``to_deqtheory``/``family`` use the current ``m``.
"""
from __future__ import annotations

import math
from typing import Any, Optional

import numpy as np
import torch
from torch import nn

from deqtheory import parametrizations as dp
from deqtheory.errors import DomainError

__all__ = [
    "mondeq_weight", "gmondeq_weight", "lben_weight", "row_col_mass", "ibp_d", "ibp_weight",
    "ibp_gamma_diag", "ibp_gamma_weight", "noneuclidean_weight", "bjorck_order2", "cerdeq_weight",
    "MonDEQWeight", "GMonDEQWeight", "LBENWeight", "IBPMonDEQWeight", "IBPMonDEQGammaWeight",
    "NonEuclideanWeight", "CerDEQWeight", "FamilyParametrization", "m_warmup", "smooth_eps_schedule", "to_numpy",
]


def to_numpy(t: torch.Tensor) -> np.ndarray:
    """Detached float64 numpy copy (any device)."""
    return t.detach().to(device="cpu", dtype=torch.float64).numpy().copy()


def _eye(n: int, like: torch.Tensor) -> torch.Tensor:
    return torch.eye(n, dtype=like.dtype, device=like.device)


def _param(a: Any, dtype, device) -> nn.Parameter:
    return nn.Parameter(torch.as_tensor(np.array(a, dtype=np.float64, copy=True), dtype=dtype, device=device))


# ----------------------------------------------------------------------------------------------
# pure formulas (one torch transcription of each deqtheory formula)
# ----------------------------------------------------------------------------------------------

def mondeq_weight(A: torch.Tensor, B: torch.Tensor, m: float) -> torch.Tensor:
    r"""havens2023 (5): :math:`W = (1-m)I - A^\top A + B - B^\top` (A: (k, n), B: (n, n))."""
    n = B.shape[0]
    return ((1.0 - m) * _eye(n, B) - A.T @ A) + (B - B.T)


def gmondeq_weight(A: torch.Tensor, B: torch.Tensor, log_phi: torch.Tensor, m: float) -> torch.Tensor:
    r"""havens2023 (6): :math:`W = I - \Phi(A^\top A + B^\top - B + mI)`, Φ = diag(exp(log_phi))."""
    n = B.shape[0]
    inner = (A.T @ A + (B.T - B)) + m * _eye(n, B)
    return _eye(n, B) - torch.exp(log_phi)[:, None] * inner


def lben_weight(log_psi: torch.Tensor, G: torch.Tensor, U: torch.Tensor, V: torch.Tensor, S: torch.Tensor,
                L: float, eps: float) -> torch.Tensor:
    r"""havens2023 (7): :math:`W = I - \Psi(\tfrac{1}{2L}G^\top G + \tfrac{1}{2L}\Psi^{-1}UU^\top\Psi^{-1}
    + V^\top V + S^\top - S + \varepsilon I)`, Ψ = diag(exp(log_psi)); skew sign of eq. (7)."""
    n = S.shape[0]
    psi = torch.exp(log_psi)
    X = ((G.T @ G / (2 * L) + V.T @ V) + (S.T - S)) + eps * _eye(n, S)
    Y = (U @ U.T) / ((2 * L) * psi[None, :])        # Ψ·Ψ⁻¹UUᵀΨ⁻¹/(2L)
    return (_eye(n, S) - psi[:, None] * X) - Y


def row_col_mass(M: torch.Tensor) -> torch.Tensor:
    r""":math:`r(M) = (|M|\mathbb 1 + |M|^\top\mathbb 1)/2` (wei2022 Thm 3.1)."""
    A = M.abs()
    return 0.5 * (A.sum(dim=1) + A.sum(dim=0))


def ibp_d(M: torch.Tensor, log_slack: torch.Tensor, m: float) -> torch.Tensor:
    r"""Diagonal of D: :math:`d = r(M)/(1-m) + e^{\text{log\_slack}}` (strictly inside wei2022 (3.4))."""
    return row_col_mass(M) / (1.0 - m) + torch.exp(log_slack)


def ibp_weight(M: torch.Tensor, log_slack: torch.Tensor, m: float) -> torch.Tensor:
    r"""wei2022 (3.4): :math:`W = D^{-1/2}MD^{-1/2}`; then :math:`\lambda_{\max}(\mathrm{sym}|W|) < 1-m`."""
    s = torch.rsqrt(ibp_d(M, log_slack, m))
    return (s[:, None] * M) * s[None, :]


def ibp_gamma_diag(beta: torch.Tensor, gamma: Optional[float]) -> torch.Tensor:
    r"""Γ of wei2022 §4: :math:`\frac{\gamma-1}{\gamma}\mathrm{sigmoid}(\beta) + \frac1\gamma` (κ(Γ) < γ);
    ``gamma=None``: :math:`e^\beta` (plain Thm 3.3)."""
    if gamma is None:
        return torch.exp(beta)
    return (gamma - 1.0) / gamma * torch.sigmoid(beta) + 1.0 / gamma


def ibp_gamma_weight(M: torch.Tensor, log_slack: torch.Tensor, beta: torch.Tensor, m: float,
                     gamma: Optional[float]) -> torch.Tensor:
    r"""wei2022 (3.7): :math:`W = \Gamma D^{-1/2}MD^{-1/2}\Gamma^{-1}`."""
    g = ibp_gamma_diag(beta, gamma)
    return (g[:, None] * ibp_weight(M, log_slack, m)) / g[None, :]


def noneuclidean_weight(T: torch.Tensor, log_eta: torch.Tensor, gamma: float) -> torch.Tensor:
    r"""jafarpour2022 (12) **corrected**: :math:`W = [\eta]T[\eta]^{-1} - \mathrm{diag}(|T|\mathbb 1) + \gamma I`
    ⇒ :math:`\mu_{\infty,[\eta]^{-1}}(W) \le \gamma` (the printed :math:`[\eta]^{-1}T[\eta]` is wrong,
    see ``docs/parametrizations.md``)."""
    n = T.shape[0]
    eta = torch.exp(log_eta)
    return ((eta[:, None] * T) / eta[None, :] - torch.diag(T.abs().sum(dim=1))) + gamma * _eye(n, T)


def bjorck_order2(W: torch.Tensor, n_iter: int) -> torch.Tensor:
    r"""li2022 (6)–(7) with :math:`A_0 = W^\top`; returns :math:`A_K^\top` (no scaling)."""
    A = W.T
    for _ in range(int(n_iter)):
        AtA = A.T @ A
        A = 1.875 * A - 1.25 * (A @ AtA) + 0.375 * (A @ AtA) @ AtA
    return A.T


def cerdeq_weight(V: torch.Tensor, n_iter: int) -> torch.Tensor:
    r"""li2022 §3.3: :math:`Y_0 = V/(\sqrt{mn}\|V\|_{\max})`, Björck (6)–(7), then :math:`/\sqrt n`."""
    n = V.shape[0]
    c = math.sqrt(V.shape[0] * V.shape[1]) * V.abs().max()
    return bjorck_order2(V / c, n_iter) / math.sqrt(n)


# ----------------------------------------------------------------------------------------------
# schedules (wei2022 App. B)
# ----------------------------------------------------------------------------------------------

def smooth_eps_schedule(step: float, start: float, length: float, eps_train: float, *,
                        mid: float = 0.25, exponent: float = 4.0) -> float:
    r"""wei2022 App. B (after Xu et al. 2020): ε = 0 before ``start``; over ``length`` steps a
    degree-``exponent`` monomial for the first ``mid`` fraction, then linear to ``eps_train``, with
    continuous value and derivative: with s = (step − start)/length,

    .. math:: \epsilon/\epsilon_{\rm train} = a s^p \ (s \le s_m), \qquad 1 - b(1 - s)\ (s > s_m),

    :math:`b = p a s_m^{p-1}`, :math:`a = 1/(s_m^p + p s_m^{p-1}(1-s_m))` (so a = 256/13, b = 16/13
    for p = 4, s_m = 1/4); ε = ``eps_train`` after the ramp."""
    if not length > 0:
        raise DomainError(f"length: must be > 0, got {length}")
    s = (float(step) - float(start)) / float(length)
    if s <= 0:
        return 0.0
    if s >= 1:
        return float(eps_train)
    p, sm = float(exponent), float(mid)
    a = 1.0 / (sm ** p + p * sm ** (p - 1) * (1 - sm))
    b = p * a * sm ** (p - 1)
    f = a * s ** p if s <= sm else 1.0 - b * (1.0 - s)
    return float(eps_train) * f


def m_warmup(m: float, eps_current: float, eps_train: float, m_start: float = 0.99) -> float:
    r"""wei2022 App. B: :math:`m_{\rm current} = m + (0.99 - m)(1 - \epsilon_{\rm current}/\epsilon_{\rm train})`
    (interpolates from 0.99 at ε = 0 to m at ε = ε_train)."""
    if not eps_train > 0:
        raise DomainError(f"eps_train: must be > 0, got {eps_train}")
    r = min(max(float(eps_current) / float(eps_train), 0.0), 1.0)
    return float(m) + (float(m_start) - float(m)) * (1.0 - r)


# ----------------------------------------------------------------------------------------------
# modules
# ----------------------------------------------------------------------------------------------

class _WeightBase(nn.Module):
    """Common helpers: ``params_type`` / ``fields`` (the deqtheory params dataclass and its free
    fields, read by :func:`deqtheory_train.export.to_deqtheory`); ``from_params``."""

    params_type: type = dp.Params
    fields: tuple = ()

    def _load(self, params: Any, dtype, device) -> None:
        for k in self.fields:
            setattr(self, k, _param(getattr(params, k), dtype, device))

    #: name of the field whose first dimension is the rank option of the constructor (None: no rank)
    _rank_field: Optional[str] = None

    def family(self) -> dp.Parametrization:
        """The deqtheory parametrization with the current hyper-parameters."""
        return self.fam

    @property
    def m(self) -> float:
        return self.fam.m

    @classmethod
    def from_params(cls, params: Any, *hyper: Any, dtype=None, device=None, **hyper_kw: Any) -> "_WeightBase":
        """The inverse of ``to_deqtheory(module)``: a module of size ``n`` (the last field's first dimension) with
        the hyper-parameters ``hyper`` / ``hyper_kw`` (as the constructor: ``m``; ``L, eps``; ``m, gamma``;
        ``gamma``; ``n_iter``) holding ``params``. LBEN: loads ``log_psi, V, S`` (``G``, ``U`` belong to the layer)."""
        n = getattr(params, cls.fields[-1]).shape[0]
        kw = {} if cls._rank_field is None else {"rank": getattr(params, cls._rank_field).shape[0]}
        obj = cls(n, *hyper, **hyper_kw, **kw, dtype=dtype, device=device)
        obj._load(params, **_dd(dtype, device))
        return obj


def _dd(dtype, device):
    return dict(dtype=dtype or torch.get_default_dtype(), device=device)


class MonDEQWeight(_WeightBase):
    r"""havens2023 (5): ``W = (1−m)I − AᵀA + B − Bᵀ``; parameters ``A`` (rank, n), ``B`` (n, n).
    Initialisation: deqtheory ``MonDEQ.sample`` with ``rng``/``scale``."""

    params_type = dp.MonDEQParams
    fields = ("A", "B")
    _rank_field = "A"

    def __init__(self, n: int, m: float = 1.0, *, rank: Optional[int] = None, scale: float = 0.5,
                 rng: Optional[np.random.Generator] = None, dtype=None, device=None):
        super().__init__()
        self.fam = dp.MonDEQ(m=m)
        prm = self.fam.sample(rng or np.random.default_rng(0), n, rank=rank, scale=scale)
        self._load(prm, **_dd(dtype, device))


    def forward(self) -> torch.Tensor:
        return mondeq_weight(self.A, self.B, self.fam.m)



class GMonDEQWeight(_WeightBase):
    r"""havens2023 (6): ``W = I − Φ(AᵀA + Bᵀ − B + mI)``; parameters ``A``, ``B``, ``log_phi`` (n,)."""

    params_type = dp.GMonDEQParams
    fields = ("A", "B", "log_phi")
    _rank_field = "A"

    def __init__(self, n: int, m: float = 1.0, *, rank: Optional[int] = None, scale: float = 0.5,
                 rng: Optional[np.random.Generator] = None, dtype=None, device=None):
        super().__init__()
        self.fam = dp.GMonDEQ(m=m)
        rng = rng or np.random.default_rng(0)
        mp = dp.MonDEQ(m=m).sample(rng, n, rank=rank, scale=scale)
        prm = dp.GMonDEQParams(A=mp.A, B=mp.B, log_phi=np.zeros(n))
        self._load(prm, **_dd(dtype, device))


    @property
    def phi(self) -> torch.Tensor:
        return torch.exp(self.log_phi)

    def forward(self) -> torch.Tensor:
        return gmondeq_weight(self.A, self.B, self.log_phi, self.fam.m)



class LBENWeight(_WeightBase):
    r"""havens2023 (7). Holds ``log_psi`` (n,), ``V`` (k, n), ``S`` (n, n); ``G`` (p, n) and ``U``
    (n, d) are the layer's output/input matrices and are **passed in**: ``module(G, U) -> W``;
    The full :class:`deqtheory.parametrizations.LBENParams` are exported with the layer
    (``to_deqtheory(lben_layer).params``)."""

    params_type = dp.LBENParams
    fields = ("log_psi", "V", "S")
    _rank_field = "V"

    def __init__(self, n: int, L: float = 1.0, eps: float = 0.1, *, rank: Optional[int] = None,
                 scale: float = 0.5, rng: Optional[np.random.Generator] = None, dtype=None, device=None):
        super().__init__()
        self.fam = dp.LBEN(L=L, eps=eps)
        rng = rng or np.random.default_rng(0)
        mp = dp.MonDEQ(m=1.0).sample(rng, n, rank=rank, scale=scale)
        dd = _dd(dtype, device)
        self.log_psi = _param(np.zeros(n), **dd)
        self.V = _param(mp.A, **dd)
        self.S = _param(mp.B, **dd)


    @property
    def psi(self) -> torch.Tensor:
        return torch.exp(self.log_psi)

    def forward(self, G: torch.Tensor, U: torch.Tensor) -> torch.Tensor:
        return lben_weight(self.log_psi, G, U, self.V, self.S, self.fam.L, self.fam.eps)




class IBPMonDEQWeight(_WeightBase):
    r"""wei2022 (3.4) with margin m: ``W = D^{-1/2}MD^{-1/2}``, ``d = r(M)/(1−m) + exp(log_slack)``.
    ``m`` is a settable attribute (warm-up, :func:`m_warmup`)."""

    params_type = dp.IBPMonDEQParams
    fields = ("M", "log_slack")

    def __init__(self, n: int, m: float = 0.1, *, scale: float = 1.0,
                 rng: Optional[np.random.Generator] = None, dtype=None, device=None):
        super().__init__()
        self.m = m
        prm = dp.IBPMonDEQ(m=self.m).sample(rng or np.random.default_rng(0), n, scale=scale)
        self._load(prm, **_dd(dtype, device))

    @property
    def m(self) -> float:
        return self._m

    @m.setter
    def m(self, value: float) -> None:
        self._m = dp.IBPMonDEQ(m=value).m        # validates m ∈ [0, 1)

    def family(self) -> dp.IBPMonDEQ:
        return dp.IBPMonDEQ(m=self._m)

    def forward(self) -> torch.Tensor:
        return ibp_weight(self.M, self.log_slack, self._m)



class IBPMonDEQGammaWeight(IBPMonDEQWeight):
    r"""wei2022 (3.7) with margin m: ``W = ΓD^{-1/2}MD^{-1/2}Γ⁻¹``, Γ from ``beta`` (κ(Γ) < γ); the settable
    margin ``m`` as :class:`IBPMonDEQWeight`."""

    params_type = dp.IBPMonDEQGammaParams
    fields = ("M", "log_slack", "beta")

    def __init__(self, n: int, m: float = 0.1, gamma: Optional[float] = 3.0, *, scale: float = 1.0,
                 rng: Optional[np.random.Generator] = None, dtype=None, device=None):
        _WeightBase.__init__(self)
        self.gamma = dp.IBPMonDEQGamma(m=m, gamma=gamma).gamma
        self.m = m
        prm = dp.IBPMonDEQGamma(m=m, gamma=gamma).sample(rng or np.random.default_rng(0), n, scale=scale)
        self._load(prm, **_dd(dtype, device))

    def family(self) -> dp.IBPMonDEQGamma:
        return dp.IBPMonDEQGamma(m=self._m, gamma=self.gamma)

    @property
    def Gamma(self) -> torch.Tensor:
        return ibp_gamma_diag(self.beta, self.gamma)

    def forward(self) -> torch.Tensor:
        return ibp_gamma_weight(self.M, self.log_slack, self.beta, self._m, self.gamma)



class NonEuclideanWeight(_WeightBase):
    r"""jafarpour2022 (12) **corrected**: ``W = [η]T[η]⁻¹ − diag(|T|𝟙) + γI``; parameters ``T``, ``log_eta``."""

    params_type = dp.NonEuclideanParams
    fields = ("T", "log_eta")

    def __init__(self, n: int, gamma: float = 0.0, *, scale: float = 1.0, eta_range: float = 1.0,
                 rng: Optional[np.random.Generator] = None, dtype=None, device=None):
        super().__init__()
        self.fam = dp.NonEuclidean(gamma=gamma)
        prm = self.fam.sample(rng or np.random.default_rng(0), n, scale=scale, eta_range=max(eta_range, 1.0 + 1e-12))
        self._load(prm, **_dd(dtype, device))

    @property
    def gamma(self) -> float:
        return self.fam.gamma

    @property
    def eta(self) -> torch.Tensor:
        return torch.exp(self.log_eta)


    def forward(self) -> torch.Tensor:
        return noneuclidean_weight(self.T, self.log_eta, self.fam.gamma)



class CerDEQWeight(_WeightBase):
    r"""li2022 §3.3: ``W = Björck_K(V/(n‖V‖_max))/√n`` (differentiable; parameter ``V`` (n, n)).
    Default K = 30 (deqtheory's default; li2022's K = 5 orthogonalises only well-conditioned V)."""

    params_type = dp.CerDEQParams
    fields = ("V",)

    def __init__(self, n: int, n_iter: int = 30, *, cond: float = 3.0,
                 rng: Optional[np.random.Generator] = None, dtype=None, device=None):
        super().__init__()
        self.fam = dp.CerDEQ(n_iter=n_iter)
        prm = self.fam.sample(rng or np.random.default_rng(0), n, cond=cond)
        self._load(prm, **_dd(dtype, device))

    @property
    def n_iter(self) -> int:
        return self.fam.n_iter


    def forward(self) -> torch.Tensor:
        return cerdeq_weight(self.V, self.fam.n_iter)



# ----------------------------------------------------------------------------------------------
# torch.nn.utils.parametrize adapter
# ----------------------------------------------------------------------------------------------

_FORMULAS = {
    "mondeq": (("A", "B"), lambda f, A, B: mondeq_weight(A, B, f.m)),
    "gmondeq": (("A", "B", "log_phi"), lambda f, A, B, lp: gmondeq_weight(A, B, lp, f.m)),
    "ibp_mondeq": (("M", "log_slack"), lambda f, M, ls: ibp_weight(M, ls, f.m)),
    "ibp_mondeq_gamma": (("M", "log_slack", "beta"),
                         lambda f, M, ls, be: ibp_gamma_weight(M, ls, be, f.m, f.gamma)),
    "noneuclidean": (("T", "log_eta"), lambda f, T, le: noneuclidean_weight(T, le, f.gamma)),
    "cerdeq": (("V",), lambda f, V: cerdeq_weight(V, f.n_iter)),
}


class FamilyParametrization(nn.Module):
    r"""``torch.nn.utils.parametrize`` adapter for a deqtheory family (all but LBEN).

    ``forward(*tensors)`` takes the free tensors in the order of the deqtheory params dataclass
    fields and returns ``W`` with the torch formula above; ``right_inverse(W)`` calls the deqtheory
    family's ``right_inverse`` (float64) and returns the tensors in ``W``'s dtype/device. The deqtheory
    params of the free tensors: ``fam.params_type(**dict(zip(fields, numpy copies)))``.

    Initialisation (the first ``right_inverse``, made by ``register_parametrization``): a ``W`` in the
    set is kept exactly; a ``W`` outside it — e.g. a default ``nn.Linear``, whose symmetric part is
    not ⪯ (1 − m)I — starts instead at ``family.sample(rng, n)`` with ``rng`` seeded from torch's
    generator (so ``torch.manual_seed`` makes it reproducible), with a ``UserWarning`` naming the
    reason. Any later assignment of a ``W`` outside the set raises ``OutsideSetError`` with a hint."""

    def __init__(self, family: dp.Parametrization):
        super().__init__()
        if family.family not in _FORMULAS:
            raise DomainError(f"family: {family.family!r} has no torch parametrize adapter "
                              f"(supported: {sorted(_FORMULAS)})")
        self.fam = family
        self.fields, self._f = _FORMULAS[family.family]
        self._initialised = False

    def forward(self, *tensors: torch.Tensor) -> torch.Tensor:
        return self._f(self.fam, *tensors)

    def right_inverse(self, W: torch.Tensor):
        import warnings

        Wn = to_numpy(W)
        try:
            prm = self.fam.right_inverse(Wn)
        except dp.OutsideSetError as exc:
            if self._initialised:
                raise dp.OutsideSetError(f"{exc}. The assigned weight is outside the {self.fam.family} set: assign "
                                         f"family.forward(params) for valid params instead") from None
            seed = int(torch.randint(0, 2 ** 31 - 1, (1,)).item())
            prm = self.fam.sample(np.random.default_rng(seed), int(Wn.shape[0]))
            warnings.warn(f"FamilyParametrization({self.fam.family}): the initial weight is outside the set ({exc}); "
                          f"it starts at family.sample(rng, {Wn.shape[0]}) instead (rng seeded from torch's generator)",
                          UserWarning, stacklevel=2)
        self._initialised = True
        return tuple(torch.as_tensor(np.array(getattr(prm, k), dtype=np.float64, copy=True), dtype=W.dtype, device=W.device)
                     for k in self.fields)
