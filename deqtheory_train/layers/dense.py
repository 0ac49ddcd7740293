r"""Dense DEQ layers z = φ(Wz + Ux + b), y = Gz + b_y, with certified parametrizations of W.

Shapes (``docs/conventions.md``): W (n, n), U (n, d), b (n,), G (p, n), b_y (p,); inputs are rows
``x`` (batch, d) → ``z`` (batch, n) (``v = x Uᵀ + b``). σ = ReLU (optional identity mask).

Every layer has

* ``forward(x) -> z`` (solve + implicit or phantom gradient, :func:`deqtheory_train.solvers.deq_solve`);
  ``last_info`` (:class:`~deqtheory_train.solvers.DEQInfo`) / ``last_stats`` hold the last solve's statistics;
* ``readout(z) -> y = z Gᵀ + b_y`` (when ``p`` is given);
* ``weight() -> W``, ``input_matrix() -> U``: the *effective* matrices as torch tensors (what the
  forward pass and training use);
* ``kind`` — the file kind of ``deqtheory_train.export.to_deqtheory(layer)``, the one way to numpy:
  a :class:`deqtheory.formats.FamilyNet` / :class:`~deqtheory.formats.LBENNet` with ``.params`` (the
  deqtheory params dataclass), ``.W()`` (deqtheory's float64 ``W`` on those parameters: the model in
  the file, and what :mod:`deqtheory_train.certify` certifies), ``G``/``b_y`` (None without a readout);
* ``family()`` — the deqtheory parametrization (``family().forward(to_deqtheory(layer).params)`` is
  the exported ``W``, except for CerDEQ where the BN-replacement scale multiplies it, see :class:`CerDEQLayer`).

Solver options (``f_solver``, ``f_tol``, ``f_max_iter``, ``f_stop_mode``, ``b_solver``, ``b_tol``,
``b_max_iter``, ``b_stop_mode``, ``grad``, ``phantom_steps``, ``phantom_tau``, ``alpha``, ``memory``,
``identity_mask``) are keyword arguments of every constructor and live in ``layer.solver_options``.
"""
from __future__ import annotations

import math
from typing import Any, Dict, Optional

import numpy as np
import torch
from torch import nn

from deqtheory import parametrizations as dp
from deqtheory.errors import DomainError

from ..parametrize import (CerDEQWeight, GMonDEQWeight, IBPMonDEQGammaWeight, IBPMonDEQWeight, LBENWeight,
                           MonDEQWeight, NonEuclideanWeight, m_warmup)
from ..solvers import DEQInfo, SolverStats, deq_solve

__all__ = ["DenseDEQLayer", "MonDEQLayer", "LipMonDEQLayer", "GMonDEQLayer", "LBENLayer", "IBPMonDEQLayer",
           "CerDEQLayer", "NEMONLayer"]

_SOLVER_KEYS = ("f_solver", "f_tol", "f_max_iter", "f_stop_mode", "b_solver", "b_tol", "b_max_iter",
                "b_stop_mode", "grad", "phantom_steps", "phantom_tau", "alpha", "memory", "identity_mask",
                "check_every", "allow_tf32")


def _pos_int(name: str, k: Any) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or int(k) < 1:
        raise DomainError(f"{name}: expected a positive integer, got {k!r}")
    return int(k)


class DenseDEQLayer(nn.Module):
    """Base class: owns ``b``, the readout ``G``/``b_y`` and the solver options; subclasses define
    :meth:`weight`, :meth:`input_matrix`, :meth:`family` (and ``W_param``, read by the bridge)."""

    kind = "deq"
    default_solver = "pr"

    def __init__(self, d: int, n: int, p: Optional[int] = None, *, seed: int = 0, dtype=None, device=None,
                 **solver_options: Any):
        super().__init__()
        self.d, self.n = _pos_int("d", d), _pos_int("n", n)
        self.p = None if p is None else _pos_int("p", p)
        bad = set(solver_options) - set(_SOLVER_KEYS)
        if bad:
            raise TypeError(f"unknown solver option(s) {sorted(bad)}; allowed: {_SOLVER_KEYS}")
        opts = {"f_solver": self.default_solver, "f_tol": 1e-5, "f_max_iter": 500, "f_stop_mode": "rel",
                "grad": "implicit"}
        opts.update({k: v for k, v in solver_options.items() if v is not None})
        self.solver_options: Dict[str, Any] = opts
        self._dd = dict(dtype=dtype or torch.get_default_dtype(), device=device)
        self.rng = np.random.default_rng(seed)
        self.b = nn.Parameter(torch.zeros(self.n, **self._dd))
        if self.p is not None:
            self.G = nn.Parameter(self._t(self.rng.standard_normal((self.p, self.n)) / math.sqrt(self.n)))
            self.b_y = nn.Parameter(torch.zeros(self.p, **self._dd))
        else:
            self.G = None
            self.b_y = None
        self.last_info: Optional[DEQInfo] = None

    def _t(self, a: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(np.array(a, dtype=np.float64, copy=True), **self._dd)

    def _new_U(self, scale: Optional[float] = None) -> nn.Parameter:
        s = 1.0 / math.sqrt(self.d) if scale is None else scale
        return nn.Parameter(self._t(self.rng.standard_normal((self.n, self.d)) * s))

    # -- W from the parametrization module ``W_param`` (overridden where W needs more) -------------
    def weight(self) -> torch.Tensor:
        return self.W_param()

    def input_matrix(self) -> torch.Tensor:
        return self.U

    def family(self) -> dp.Parametrization:
        """The deqtheory parametrization with the current hyper-parameters."""
        return self.W_param.family()

    @property
    def m(self) -> float:
        """Monotonicity margin of the families that have one (MonDEQ, G-MonDEQ, IBP-MonDEQ)."""
        return self.W_param.m

    # -- common --------------------------------------------------------------------------
    @property
    def last_stats(self) -> Optional[SolverStats]:
        return None if self.last_info is None else self.last_info.forward

    def injection(self, x: torch.Tensor) -> torch.Tensor:
        """v = x Uᵀ + b for a batch ``x`` (batch, d)."""
        if x.ndim != 2 or x.shape[1] != self.d:
            raise ValueError(f"x: expected shape (batch, {self.d}), got {tuple(x.shape)}")
        return x @ self.input_matrix().T + self.b

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z, info = deq_solve(self.weight(), self.injection(x), **self.solver_options)
        self.last_info = info
        return z

    def readout(self, z: torch.Tensor) -> torch.Tensor:
        if self.G is None:
            raise DomainError("readout: this layer was built without p (no G, b_y)")
        return z @ self.G.T + self.b_y


class MonDEQLayer(DenseDEQLayer):
    r"""Monotone DEQ (Winston & Kolter 2020; havens2023 eq. 5): ``W = (1−m)I − AᵀA + B − Bᵀ``, U free.
    Lipschitz (pabbaraju2021 Thm 1): x ↦ z is ‖U‖₂/m-Lipschitz."""

    kind = "mondeq"

    def __init__(self, d: int, n: int, p: Optional[int] = None, *, m: float = 1.0, rank: Optional[int] = None,
                 scale: float = 0.5, **kw: Any):
        super().__init__(d, n, p, **kw)
        self.W_param = MonDEQWeight(n, m, rank=rank, scale=scale, rng=self.rng, **self._dd)
        self._init_U()

    def _init_U(self) -> None:
        self.U = self._new_U()



class LipMonDEQLayer(MonDEQLayer):
    r"""MonDEQ with ``‖U‖₂ ≤ lip·m`` (so x ↦ z is ``lip``-Lipschitz by pabbaraju2021 Thm 1).

    **Choice: exact spectral normalization** (not power iteration, not the orthogonal
    parametrization): ``U = lip·m·V / (σ̂_max(V)(1 + norm_slack))`` with σ̂_max from
    ``torch.linalg.matrix_norm(V, 2)`` (full SVD, backward-stable: relative error ≲ a small
    multiple of n·eps, far below ``norm_slack``). Power iteration underestimates σ_max (bound
    violated); an orthogonal U has ‖U‖₂ = 1 ± rounding (bound only approximate). Defaults:
    ``norm_slack = 1e-9`` (float64), ``1e-5`` (float32) — the exported U then satisfies
    ``‖U‖₂ ≤ lip·m`` with a margin that ``deqtheory.linalg.norm2_upper_bound`` can prove (tested)."""

    kind = "lipmondeq"

    def __init__(self, d: int, n: int, p: Optional[int] = None, *, m: float = 1.0, lip: float = 1.0,
                 norm_slack: Optional[float] = None, **kw: Any):
        if not (isinstance(lip, (int, float)) and lip > 0 and math.isfinite(lip)):
            raise DomainError(f"lip: expected a positive number, got {lip!r}")
        self.lip = float(lip)
        self._norm_slack = norm_slack
        super().__init__(d, n, p, m=m, **kw)

    def _init_U(self) -> None:
        self.V_in = self._new_U()

    @property
    def norm_slack(self) -> float:
        if self._norm_slack is not None:
            return float(self._norm_slack)
        return 1e-9 if self.V_in.dtype == torch.float64 else 1e-5

    def input_matrix(self) -> torch.Tensor:
        s = torch.linalg.matrix_norm(self.V_in, ord=2)
        return (self.lip * self.m) * self.V_in / (s * (1.0 + self.norm_slack))


class GMonDEQLayer(DenseDEQLayer):
    r"""G-MonDEQ (havens2023 eq. 6): ``W = I − Φ(AᵀA + Bᵀ − B + mI)``; x ↦ z is ‖Φ⁻¹U‖₂/m-Lipschitz
    (havens2023 Thm 3.3)."""

    kind = "gmondeq"

    def __init__(self, d: int, n: int, p: Optional[int] = None, *, m: float = 1.0, rank: Optional[int] = None,
                 scale: float = 0.5, **kw: Any):
        super().__init__(d, n, p, **kw)
        self.W_param = GMonDEQWeight(n, m, rank=rank, scale=scale, rng=self.rng, **self._dd)
        self.U = self._new_U()



class LBENLayer(DenseDEQLayer):
    r"""LBEN (havens2023 eq. 7): W depends on the layer's ``G`` and ``U``; (4) holds with Λ = Ψ⁻¹,
    so x ↦ y = Gz + b_y is ``L``-Lipschitz (havens2023 Prop 2.2). ``p`` is required."""

    kind = "lben"

    def __init__(self, d: int, n: int, p: int, *, L: float = 1.0, eps: float = 0.1, rank: Optional[int] = None,
                 scale: float = 0.5, **kw: Any):
        if p is None:
            raise DomainError("p: LBEN needs an output matrix G (p, n)")
        super().__init__(d, n, p, **kw)
        self.W_param = LBENWeight(n, L, eps, rank=rank, scale=scale, rng=self.rng, **self._dd)
        self.U = self._new_U()

    @property
    def L(self) -> float:
        return self.W_param.fam.L

    def weight(self) -> torch.Tensor:
        return self.W_param(self.G, self.U)


    @classmethod
    def from_conversion(cls, conv: Any, *, dtype=None, device=None, **kw: Any) -> "LBENLayer":
        r"""LBEN layer holding the parameters of a :class:`deqtheory.convert.Conversion`
        (``mondeq_to_lben``, ``gmondeq_to_lben``, ``sll_to_lben``, …): ``log_psi, V, S, G, U`` from
        ``conv.params``, ``b``/``b_y`` from the conversion, ``L = conv.L`` and ``eps = conv.eps``
        (so ``weight()`` is ``LBEN(L, eps).forward(conv.params)`` = ``conv.W``, i.e. the source's W up to
        the conversion's ``residuals["W_rel"]``). Conversions with an ``identity_mask`` pass it on as
        the solver option ``identity_mask``. ``kw``: solver options."""
        p = conv.params
        G = np.asarray(p.G, dtype=np.float64)
        U = np.asarray(p.U, dtype=np.float64)
        n, d, q = U.shape[0], U.shape[1], G.shape[0]
        mask = getattr(conv, "identity_mask", None)
        if mask is not None and np.any(mask) and "identity_mask" not in kw:
            kw["identity_mask"] = torch.as_tensor(np.asarray(mask, dtype=bool))
        layer = cls(d, n, q, L=float(conv.L), eps=float(conv.eps), rank=int(np.asarray(p.V).shape[0]),
                    dtype=dtype, device=device, **kw)
        with torch.no_grad():
            layer.W_param._load(p, **layer._dd)
            layer.G.data = layer._t(G)
            layer.U.data = layer._t(U)
            b = np.zeros(n) if conv.b is None else conv.b
            b_y = np.zeros(q) if conv.b_y is None else conv.b_y
            layer.b.data = layer._t(b)
            layer.b_y.data = layer._t(b_y)
        return layer


class IBPMonDEQLayer(DenseDEQLayer):
    r"""IBP-MonDEQ (wei2022 eq. 3.4, Thm 3.1; ``gamma`` set: eq. 3.7, Thm 3.3 with κ(Γ) < γ).

    ``m`` is the target margin; :meth:`warmup` sets the current margin to
    ``m + (0.99 − m)(1 − ε_current/ε_train)`` (wei2022 App. B). ``gamma_variant=True`` uses
    :class:`~deqtheory_train.parametrize.IBPMonDEQGammaWeight` with ``gamma`` (default 3, wei2022 §4)."""

    kind = "ibp_mondeq"

    def __init__(self, d: int, n: int, p: Optional[int] = None, *, m: float = 0.1, gamma_variant: bool = False,
                 gamma: Optional[float] = 3.0, scale: float = 1.0, **kw: Any):
        super().__init__(d, n, p, **kw)
        self.m_target = float(m)
        if gamma_variant:
            self.W_param = IBPMonDEQGammaWeight(n, m, gamma, scale=scale, rng=self.rng, **self._dd)
            self.kind = "ibp_mondeq_gamma"
        else:
            self.W_param = IBPMonDEQWeight(n, m, scale=scale, rng=self.rng, **self._dd)
        self.U = self._new_U()

    @property
    def m(self) -> float:
        """The current margin (changes during warm-up)."""
        return self.W_param.m

    @m.setter
    def m(self, value: float) -> None:
        self.W_param.m = value

    def warmup(self, eps_current: float, eps_train: float) -> float:
        """Set the current m by wei2022 App. B; returns it."""
        self.W_param.m = m_warmup(self.m_target, eps_current, eps_train)
        return self.W_param.m



class CerDEQLayer(DenseDEQLayer):
    r"""CerDEQ (li2022 §3.3–3.5): ``W_orth = Björck_K(V/(n‖V‖_max))/√n`` and the BN replacement of
    §3.5: the pre-activation is ``diag(s)(W_orth z + U₀x) + b`` with a learnable per-unit scale
    ``s = s_max·sigmoid(θ) ∈ (0, 1)`` ("bounded in (0, 1) to ensure convergence"; ``s_max = 0.999``
    keeps it away from 1 in floating point) and the bias ``b``. Hence the **effective** (exported)
    matrices are ``W = diag(s)W_orth``, ``U = diag(s)U₀``, and
    ``‖Ŵ‖₂ = ‖|W|‖₂ ≤ max(s)·‖W_orth‖_F ≤ max(s)·(1 + defect)`` < 1: the adjoint DEQ is strictly
    contractive (li2022 Prop 3.1–3.4; without the scale only ≤ 1 is guaranteed).
    ``U₀`` is initialised N(0, σ²) with σ = √π/(√2·d), the value that makes d·E|U₀ᵢⱼ| = 1 — li2022
    Prop 3.5 as corrected in the theorem catalogue (``li2022:prop3.5``: the printed σ = √π/√(2n_u)
    gives d·E|U| = √d, and bound (8) fails even with the corrected σ, so it is an initialization
    scale, not a guarantee).
    ``to_deqtheory(layer).params`` are the :class:`~deqtheory.parametrizations.CerDEQParams` of ``W_orth``;
    ``bn_scale()`` the scale s."""

    kind = "cerdeq"

    def __init__(self, d: int, n: int, p: Optional[int] = None, *, n_iter: int = 30, cond: float = 3.0,
                 s_max: float = 0.999, s_init: float = 0.9, **kw: Any):
        super().__init__(d, n, p, **kw)
        if not 0 < s_max < 1 or not 0 < s_init < s_max:
            raise DomainError(f"s_max, s_init: need 0 < s_init < s_max < 1, got {s_init}, {s_max}")
        self.s_max = float(s_max)
        self.W_param = CerDEQWeight(n, n_iter, cond=cond, rng=self.rng, **self._dd)
        self.U0 = self._new_U(scale=math.sqrt(math.pi / 2.0) / self.d)
        q = s_init / s_max
        self.theta = nn.Parameter(torch.full((n,), math.log(q / (1 - q)), **self._dd))

    def bn_scale(self) -> torch.Tensor:
        return self.s_max * torch.sigmoid(self.theta)

    def weight_orth(self) -> torch.Tensor:
        return self.W_param()

    def weight(self) -> torch.Tensor:
        return self.bn_scale()[:, None] * self.W_param()

    def input_matrix(self) -> torch.Tensor:
        return self.bn_scale()[:, None] * self.U0



class NEMONLayer(DenseDEQLayer):
    r"""Non-Euclidean monotone DEQ (jafarpour2022 eq. 12, **corrected**):
    ``W = [η]T[η]⁻¹ − diag(|T|𝟙) + γI`` ⇒ μ∞,[η]⁻¹(W) ≤ γ < 1 (well-posed, Thm 5.1). Default solver:
    α-averaged iteration (Thm 5.1(2)); ℓ∞ Lipschitz bound: jafarpour2022 Thm 6.1."""

    kind = "noneuclidean"
    default_solver = "alpha_avg"

    def __init__(self, d: int, n: int, p: Optional[int] = None, *, gamma: float = 0.0, scale: float = 1.0,
                 eta_range: float = 1.0, **kw: Any):
        super().__init__(d, n, p, **kw)
        self.W_param = NonEuclideanWeight(n, gamma, scale=scale, eta_range=eta_range, rng=self.rng, **self._dd)
        self.U = self._new_U()

