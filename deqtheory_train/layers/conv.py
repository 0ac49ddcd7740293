r"""Circular-convolution DEQ layers (conv MonDEQ, conv LBEN) solved with :mod:`deqtheory_train.solvers`.

Feature maps ``(B, c, N, N)``; every linear map is a circular cross-correlation
(:func:`deqtheory_train.fft.conv2d_circular`, PyTorch convention, origin ``(k−1)//2``), i.e. a
block-doubly-block-circulant matrix (havens2023 App. E, eq. 24) whose per-frequency blocks under the
unitary 2-D DFT are :func:`deqtheory_train.fft.kernel_to_freq` (eq. 25). Sums, products, adjoints
and inverses of such maps are again such maps, so ``W`` and the Peaceman–Rachford resolvent
``(I + α(I − W))⁻¹`` are computed **per frequency** (``N²`` small ``c × c`` solves) and applied by FFT
(Winston & Kolter 2020 §5 for MonDEQ; havens2023 §4.1 for LBEN).

* :class:`ConvMonDEQ` — havens2023 eq. (5) with convolutions:
  :math:`W = (1-m)I - A^\top A + B - B^\top`, ``A``, ``B`` kernels ``(c_a, c, k, k)``, ``(c, c, k, k)``;
  input map ``U`` kernel ``(c, c_in, k, k)`` and bias per channel; ``z = ReLU(Wz + Ux + b)``,
  ``forward`` returns ``z``. ``Wz`` is applied spatially (convs and adjoint convs), the resolvent by FFT.
* :class:`ConvLBEN` — havens2023 eq. (7) with convolutions and **per-channel** Ψ (a per-pixel Ψ
  would break the circulant structure):
  :math:`W = I - \Psi(\tfrac1{2L}G^\top G + \tfrac1{2L}\Psi^{-1}UU^\top\Psi^{-1} + V^\top V + S^\top - S + \varepsilon I)`,
  kernels ``G (c_out, c, kG, kG)``, ``U (c, c_in, kU, kU)``, ``V (c_v, c, kV, kV)``, ``S (c, c, kS, kS)``
  (default: full ``N × N`` kernels, i.e. arbitrary circular convolutions on the grid ``N``);
  ``forward`` returns ``z*``, ``readout(z)`` gives ``y = Gz + b_y``. Per frequency
  :math:`\hat W = I - \psi\odot_{\rm rows}(\hat G^H\hat G/2L + \hat V^H\hat V + \hat S^H - \hat S + \varepsilon I)
  - \hat U\hat U^H\odot_{\rm cols}\psi^{-1}/2L`. ``identity_channels`` leading channels use φ = identity
  (havens2023 footnote 3; needed by :meth:`ConvLBEN.from_sll`).
* :meth:`ConvLBEN.from_sll` — the SLL → LBEN conversion of havens2023 Thm 3.5 / §4.1 for a stack of
  :class:`~deqtheory_train.layers.explicit.SLLConv2d` layers, done per frequency: state
  ``z = [x̃₀; x̃₁; …; x̃_L]`` (``c + Σ h_n`` channels), Λ = blkdiag(I, 2T₀⁻¹, …) per channel, Ψ = Λ⁻¹,
  ``M = Λ(I − W) − (GᵀG + ΛUUᵀΛ)/2``, ``V = (½(M + Mᵀ))^{1/2}`` (Hermitian PSD root per frequency,
  :func:`deqtheory_train.fft.freq_psd_sqrt`), **S = ½Mᵀ** (project convention: eq. 7's skew sign,
  docs/explicit.md discrepancy 3), ε = 0, L = 1. ``V``, ``S``, ``G``, ``U`` become full ``N × N``
  kernels (the "much larger convolutional kernel" of havens2023 §4.2 Remark).

Solvers: ``deqtheory_train.solvers.deq_solve`` with a :class:`~deqtheory_train.solvers.LinearOperator`
(``matvec``/``rmatvec`` carry the autograd graph, the resolvent is detached), default ``f_solver="pr"``
(valid for any α > 0: MonDEQ is monotone, LBEN is Ψ⁻¹-monotone). ``m``/``L`` of the operator (for
default step sizes) are ``min_ω λ_min(sym(I − Ŵ(ω)))`` and ``max_ω σ_max(I − Ŵ(ω))``. The
spectrum — and so every bound computed from it — is that of the grid ``N`` of the input.
"""
from __future__ import annotations

import math
from typing import Any, Dict, Optional, Sequence

import numpy as np
import torch
from torch import nn

from deqtheory import circulant as _circ
from deqtheory.errors import DomainError, ShapeError

from .. import fft as _fft
from ..solvers import SPECTRAL_CACHE, DEQInfo, LinearOperator, SolverStats, SolverStatus, cached, deq_solve

__all__ = ["FreqConvOperator", "kernel_operator", "ConvMonDEQ", "ConvLBEN"]


def _fk(dtype, device):
    return {"dtype": dtype if dtype is not None else torch.get_default_dtype(), "device": device}


#: Blocks ``Ŵ`` with at most this many entries are their own cache key (a stored copy); larger ones
#: are cached across operators only under an explicit ``key`` (e.g. the kernels they come from).
FREQ_KEY_MAX_NUMEL = 1 << 22


def _freq_values(What: torch.Tensor, key: Optional[tuple] = None) -> dict:
    """The :data:`~deqtheory_train.solvers.SPECTRAL_CACHE` dict of the operator with blocks ``What``:
    under ``key`` (a tuple of tensors and scalars that determines ``What``), else under ``What``'s
    values when it is small (:data:`FREQ_KEY_MAX_NUMEL`), else a dict of this operator alone."""
    if key is not None:
        return SPECTRAL_CACHE.values("freq", *key)
    if What.numel() <= FREQ_KEY_MAX_NUMEL:
        return SPECTRAL_CACHE.values("freq", What)
    return {}


def _resolvent_from_freq(What: torch.Tensor, values: Optional[dict] = None):
    """``alpha -> (apply, apply_T)`` with ``apply(u) = (I + α(I − W))⁻¹u`` per frequency (detached);
    one inverse per (``values`` dict, α) — by default :func:`_freq_values` of ``What``."""
    Wd = What.detach()
    N, _, c, _ = Wd.shape
    vals = _freq_values(What) if values is None else values

    def inverse(alpha: float):
        I = _fft.freq_identity(N, c, dtype=Wd.dtype, device=Wd.device)
        R = _fft.freq_inv(I + alpha * (I - Wd))
        return R, _fft.freq_adjoint(R)

    def resolvent(alpha: float):
        R, RH = cached(vals, ("R", float(alpha)), lambda: inverse(alpha))
        return (lambda u: _fft.fft_apply(R, u)), (lambda u: _fft.fft_apply(RH, u))

    return resolvent


def _m_L(What: torch.Tensor, values: Optional[dict] = None):
    """``(m, L)`` = (min_ω λ_min(sym(I − Ŵ)), max_ω σ_max(I − Ŵ)) in float64, lazily, kept in
    ``values`` (default :func:`_freq_values` of ``What``)."""
    vals = _freq_values(What) if values is None else values

    def compute():
        A = What.detach().to(torch.complex128)
        I = torch.eye(A.shape[-1], dtype=A.dtype, device=A.device)
        IW = I - A
        return (float(torch.linalg.eigvalsh(_fft.freq_sym(IW)).min()),
                float(torch.linalg.matrix_norm(IW, ord=2).max()))

    return (lambda: cached(vals, "mL", compute)[0]), (lambda: cached(vals, "mL", compute)[1])


class FreqConvOperator(LinearOperator):
    r"""``z ↦ Wz`` for a circular convolution given by its blocks ``Ŵ`` (``(N, N, c, c)``):
    ``matvec = fft_apply(Ŵ, ·)``, ``rmatvec = fft_apply(Ŵᴴ, ·)`` (graph kept), PR resolvent
    ``(I + α(I − Ŵ))⁻¹`` per frequency (detached). ``matvec``/``rmatvec`` may be overridden (e.g.
    spatial convolutions) with ``matvec=``, ``rmatvec=``. ``key``: a tuple of tensors and scalars
    that determines ``Ŵ`` (e.g. the kernels and the grid), under which m, L and the resolvents are
    shared with every other operator of the same key (:func:`_freq_values`)."""

    def __init__(self, What: torch.Tensor, *, matvec=None, rmatvec=None, key: Optional[tuple] = None):
        if What.ndim != 4 or What.shape[0] != What.shape[1] or What.shape[2] != What.shape[3]:
            raise ShapeError(f"What: expected blocks (N, N, c, c), got shape {tuple(What.shape)}")
        self.What = What
        WH = _fft.freq_adjoint(What)
        vals = _freq_values(What, key)
        m, L = _m_L(What, vals)
        super().__init__(matvec or (lambda z: _fft.fft_apply(What, z)),
                         rmatvec or (lambda g: _fft.fft_apply(WH, g)),
                         resolvent=_resolvent_from_freq(What, vals), m=m, L=L,
                         diag_min=lambda: cached(vals, "diag_min", lambda: float(
                             What.detach().diagonal(dim1=-2, dim2=-1).real.mean(dim=(0, 1)).min())))


def kernel_operator(K: torch.Tensor, N: int) -> FreqConvOperator:
    """The operator of the circular conv with kernel ``K`` on the ``N × N`` grid: spatial convs for matvec /
    rmatvec (graph kept), ``diag_min`` = the smallest origin tap (the α of ``alpha_avg``), per-frequency
    resolvent (``pr``, unproved); m, L and the resolvents shared under the key (K, N) at any size."""
    return FreqConvOperator(_fft.kernel_to_freq(K, N), matvec=lambda z: _fft.conv2d_circular(K, z),
                            rmatvec=lambda g: _fft.conv2d_circular_adjoint(K, g), key=("kernel", int(N), K))


_SOLVER_DEFAULTS = {"f_solver": "pr", "f_tol": 1e-5, "f_max_iter": 500}


class ConvMonDEQ(nn.Module):
    r"""Convolutional monotone DEQ ``z = ReLU(Wz + Ux + b)``, :math:`W = (1-m)I - A^\top A + B - B^\top`.

    ``A`` (c_a, c, k, k), ``B`` (c, c, k, k), ``U`` (c, c_in, k, k), ``bias`` (c,). ``solver_kw`` are
    passed to :func:`deqtheory_train.solvers.deq_solve` (default ``f_solver="pr"``, ``f_tol=1e-5``).
    After ``forward`` the solver statistics are in ``self.last_info``."""

    kind = "conv_mondeq"          # the file kind of deqtheory_train.export.to_deqtheory(module)

    def __init__(self, c_in: int, channels: int, kernel_size: int = 3, *, m: float = 1.0,
                 a_channels: Optional[int] = None, dtype=None, device=None, **solver_kw: Any) -> None:
        super().__init__()
        if not m > 0:
            raise DomainError(f"m: strong monotonicity must be > 0, got {m}")
        fk = _fk(dtype, device)
        k, c = int(kernel_size), int(channels)
        ca = c if a_channels is None else int(a_channels)
        self.m = float(m)
        self.A = nn.Parameter(torch.randn(ca, c, k, k, **fk) / (k * math.sqrt(c)))
        self.B = nn.Parameter(torch.randn(c, c, k, k, **fk) / (k * math.sqrt(c)))
        self.U = nn.Parameter(torch.randn(c, c_in, k, k, **fk) / (k * math.sqrt(c_in)))
        self.bias = nn.Parameter(torch.zeros(c, **fk))
        self.solver_options = {**_SOLVER_DEFAULTS, **solver_kw}
        self.last_info = None

    def W_freq(self, N: int) -> torch.Tensor:
        """Blocks ``(1−m)I − ÂᴴÂ + B̂ − B̂ᴴ`` on the ``N × N`` grid."""
        Ah, Bh = _fft.kernel_to_freq(self.A, N), _fft.kernel_to_freq(self.B, N)
        I = _fft.freq_identity(N, self.B.shape[0], dtype=Ah.dtype, device=Ah.device)
        return (1.0 - self.m) * I - _fft.freq_adjoint(Ah) @ Ah + Bh - _fft.freq_adjoint(Bh)

    def _Wz(self, z: torch.Tensor, transpose: bool = False) -> torch.Tensor:
        A, B = self.A, self.B
        out = (1.0 - self.m) * z - _fft.conv2d_circular_adjoint(A, _fft.conv2d_circular(A, z))
        skew = _fft.conv2d_circular(B, z) - _fft.conv2d_circular_adjoint(B, z)
        return out - skew if transpose else out + skew

    def operator(self, N: int) -> FreqConvOperator:
        return FreqConvOperator(self.W_freq(N), matvec=self._Wz, rmatvec=lambda g: self._Wz(g, transpose=True),
                                key=("conv_mondeq", int(N), self.m, self.A, self.B))

    def injection(self, x: torch.Tensor) -> torch.Tensor:
        return _fft.conv2d_circular(self.U, x, self.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The fixed point ``z*`` (``(B, c, N, N)``, grid of ``x``); statistics in ``self.last_info``."""
        z, self.last_info = deq_solve(self.operator(x.shape[-1]), self.injection(x), **self.solver_options)
        return z

    @property
    def last_stats(self):
        return None if self.last_info is None else self.last_info.forward


class ConvLBEN(nn.Module):
    r"""Convolutional LBEN (havens2023 eq. 7 with circular convolutions, per-channel Ψ), L-Lipschitz
    from ``x`` to ``y = Gz* + b_y`` on the grid ``N`` (for ε ≥ 0; ε > 0 strict).

    Parameters: ``log_psi`` (c,), kernels ``G`` (c_out, c, kG, kG), ``U`` (c, c_in, kU, kU),
    ``V`` (c_v, c, kV, kV), ``S`` (c, c, kS, kS) — sizes from ``kernel_size`` (default ``N``: full
    circular convolutions) — ``bias`` (c,), ``bias_y`` (c_out,). ``identity_channels``: the first
    that many state channels use φ = identity."""

    kind = "conv_lben"          # the file kind of deqtheory_train.export.to_deqtheory(module)

    def __init__(self, c_in: int, channels: int, c_out: int, N: int, *, kernel_size: Optional[int] = None,
                 v_channels: Optional[int] = None, L: float = 1.0, eps: float = 0.1, identity_channels: int = 0,
                 blocks: Optional[Sequence[int]] = None, dtype=None, device=None, **solver_kw: Any) -> None:
        super().__init__()
        if not L > 0:
            raise DomainError(f"L: must be positive, got {L}")
        if not eps >= 0:
            raise DomainError(f"eps: must be >= 0, got {eps}")
        fk = _fk(dtype, device)
        N, c = int(N), int(channels)
        k = N if kernel_size is None else int(kernel_size)
        if k > N:
            raise ShapeError(f"kernel_size: {k} is larger than the grid N = {N}")
        cv = c if v_channels is None else int(v_channels)
        self.N, self.L, self.eps = N, float(L), float(eps)
        self.identity_channels = int(identity_channels)
        if blocks is None:
            self.blocks = None
        else:
            self.blocks = tuple(int(b) for b in blocks)
            if any(b <= 0 for b in self.blocks) or sum(self.blocks) != c:
                raise ShapeError(f"blocks: expected positive channel counts summing to channels = {c}, got {self.blocks}")
        s = 1.0 / (k * math.sqrt(c))
        self.log_psi = nn.Parameter(torch.zeros(c, **fk))
        self.G = nn.Parameter(s * torch.randn(c_out, c, k, k, **fk))
        self.U = nn.Parameter(torch.randn(c, c_in, k, k, **fk) / (k * math.sqrt(c_in)))
        self.V = nn.Parameter(s * torch.randn(cv, c, k, k, **fk))
        self.S = nn.Parameter(s * torch.randn(c, c, k, k, **fk))
        self.bias = nn.Parameter(torch.zeros(c, **fk))
        self.bias_y = nn.Parameter(torch.zeros(c_out, **fk))
        self.solver_options = {**_SOLVER_DEFAULTS, **solver_kw}
        self.last_info = None

    @property
    def channels(self) -> int:
        return self.S.shape[0]

    def W_freq(self) -> torch.Tensor:
        r"""Blocks of W (``(N, N, c, c)``), havens2023 eq. (7) per frequency."""
        N, L = self.N, self.L
        G, U, V, S = (_fft.kernel_to_freq(t, N) for t in (self.G, self.U, self.V, self.S))
        H = _fft.freq_adjoint
        psi = torch.exp(self.log_psi).to(G.dtype)
        I = _fft.freq_identity(N, self.channels, dtype=G.dtype, device=G.device)
        X = (H(G) @ G) / (2 * L) + H(V) @ V + (H(S) - S) + self.eps * I
        return I - psi[:, None] * X - (U @ H(U)) / ((2 * L) * psi[None, :])

    def _param_key(self):
        return tuple((t.data_ptr(), t._version, t.dtype, t.device) for t in
                     (self.G, self.U, self.V, self.S, self.log_psi)) + (self.L, self.eps)

    def operator(self) -> FreqConvOperator:
        """The W operator. In eval mode without autograd the blocks ``Ŵ`` (and the operator with its
        resolvent cache) are kept until a parameter changes (in-place updates bump ``_version``),
        so repeated inference does not rebuild them; training always rebuilds (graph needed)."""
        key = ("conv_lben", self.N, self.L, self.eps, self.G, self.U, self.V, self.S, self.log_psi)
        if self.training or torch.is_grad_enabled():
            self._op_cache = None
            return FreqConvOperator(self.W_freq(), key=key)
        pkey = self._param_key()
        cache = getattr(self, "_op_cache", None)
        if cache is None or cache[0] != pkey:
            cache = (pkey, FreqConvOperator(self.W_freq(), key=key))
            self._op_cache = cache
        return cache[1]

    def identity_mask(self) -> Optional[torch.Tensor]:
        if self.identity_channels == 0:
            return None
        mk = torch.zeros(self.channels, self.N, self.N, dtype=torch.bool, device=self.S.device)
        mk[: self.identity_channels] = True
        return mk

    def _conv(self, K: torch.Tensor, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        """Circular conv plus bias; kernels wider than 5 taps go through the FFT (the same operator,
        ``kernel_to_freq`` + ``fft_apply``: O(N² log N) per channel pair instead of the direct O(N²k²))."""
        if K.shape[-1] <= 5:
            return _fft.conv2d_circular(K, x, bias)
        return _fft.fft_apply(_fft.kernel_to_freq(K, self.N), x) + bias[:, None, None]

    def injection(self, x: torch.Tensor) -> torch.Tensor:
        return self._conv(self.U, x, self.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The fixed point ``z*`` (``(B, c, N, N)``); solver statistics in ``self.last_info``
        (as the dense layers of :mod:`deqtheory_train.layers.dense`: ``forward -> z``, ``readout(z) -> y``).

        ``f_solver="dag"`` (the default of :meth:`from_sll`): block forward substitution, see
        :meth:`_dag_solve`; with autograd the result seeds the generic solver (plain Picard steps,
        exact for a nilpotent W), which then accepts it at once and supplies the implicit backward."""
        if x.shape[-1] != self.N or x.shape[-2] != self.N:
            raise ShapeError(f"x: this ConvLBEN is built for a {self.N}x{self.N} grid, got shape {tuple(x.shape)}")
        kw = dict(self.solver_options)
        kw.pop("dag_tol", None)
        self._zhat = None
        if kw.get("f_solver") == "dag":
            z, zh, stats = self._dag_solve(x, kw)
            if not torch.is_grad_enabled():
                self.last_info = DEQInfo(forward=stats)
                self._zhat = (z, z._version, zh)
                return z
            kw.update({"f_solver": "fb", "alpha": 1.0, "z0": z})
            kw.setdefault("f_max_iter", len(self.blocks) + 1)
        kw.setdefault("identity_mask", self.identity_mask())
        z, self.last_info = deq_solve(self.operator(), self.injection(x), **kw)
        return z

    # ------------------------------------------------------------------ block forward substitution

    def dag_plan(self):
        """Half-spectrum blocks for :meth:`_dag_solve` (cached with the operator in eval mode); public
        because the conv ℓ2 certifier (and :meth:`ConvDAGLBEN.from_lben`) call it to test that ``W`` is
        nilpotent over :attr:`blocks` before choosing the one-pass ``"dag"`` solve.

        Checks that ``Ŵ`` is block strictly lower triangular over :attr:`blocks`: every entry of the
        diagonal and upper blocks must be ≤ ``dag_tol`` (solver option, default 1e-9) × max|Ŵ| —
        rounding noise of a conversion — else :class:`DomainError` (a fine-tuned W is in general not
        nilpotent: use ``f_solver="pr"``)."""
        if self.blocks is None:
            raise DomainError("f_solver='dag' needs the channel blocks of a feed-forward conversion "
                              "(ConvLBEN(..., blocks=...) or ConvLBEN.from_sll)")
        op = self.operator()
        plan = getattr(op, "_dag_plan", None)
        if plan is not None:
            return plan
        N, h = self.N, self.N // 2 + 1
        with torch.no_grad():
            Wd = op.What.detach()
            edges = np.concatenate([[0], np.cumsum(self.blocks)]).astype(int)
            wmax = float(Wd.abs().max()) if Wd.numel() else 0.0
            upper = max(float(Wd[..., edges[k]:edges[k + 1], edges[k]:].abs().max()) for k in range(len(self.blocks)))
            tol = float(self.solver_options.get("dag_tol", 1e-9))
            if upper > tol * max(wmax, 1e-300):
                raise DomainError(f"f_solver='dag': W is not block strictly lower triangular over blocks {self.blocks} "
                                  f"(max |diagonal/upper block entry| {upper:.3e} > {tol:.1e} x max|W| = {wmax:.3e}); "
                                  "use f_solver='pr'")
            Wh = Wd[:, :h]
            plan = {
                "edges": edges,
                "Wk": [Wh[..., edges[k]:edges[k + 1], :edges[k]].contiguous() for k in range(len(self.blocks))],
                "W": Wh.contiguous(),
                "U": _fft.kernel_to_freq(self.U.detach(), N)[:, :h].contiguous(),
                "G": _fft.kernel_to_freq(self.G.detach(), N)[:, :h].contiguous(),
                "upper": upper,
            }
        if not (self.training or torch.is_grad_enabled()):
            op._dag_plan = plan
        return plan

    def _half_norms(self, xh: torch.Tensor) -> torch.Tensor:
        """Per-sample ℓ2 norm of the real maps whose ``rfft2(·, ortho)`` is ``xh`` (Parseval: the
        columns other than 0 and N/2 stand for two conjugate frequencies)."""
        N = self.N
        w = torch.full((xh.shape[-1],), 2.0, dtype=xh.real.dtype, device=xh.device)
        w[0] = 1.0
        if N % 2 == 0:
            w[-1] = 1.0
        sq = (xh.real ** 2 + xh.imag ** 2) * w
        return torch.sqrt(sq.reshape(xh.shape[0], -1).sum(1))

    def _dag_solve(self, x: torch.Tensor, kw: Dict[str, Any]):
        r"""Exact fixed point of a block strictly lower triangular (nilpotent) W by block forward
        substitution in the frequency domain: with ``v̂ = Ûx̂ + N b e₀`` (unitary rfft2),
        :math:`z_k = \varphi(\mathrm{irfft}(\hat v_k + \sum_{j<k}\hat W_{kj}\hat z_j))`,
        :math:`\hat z_k = \mathrm{rfft}(z_k)` — one FFT pair per state channel, the products of the
        lower blocks only. The residual ‖z − φ(Wz + v)‖ is then recomputed with the **full** Ŵ
        (diagonal/upper rounding noise included) and sets the status against ``f_tol``/``f_stop_mode``
        as for the iterative solvers. Returns ``(z, ẑ (half spectrum), SolverStats)``; no autograd."""
        import time
        t0 = time.perf_counter()
        plan = self.dag_plan()
        N = self.N
        edges = plan["edges"]
        ein = "hwoi,bihw->bohw"
        with torch.no_grad():
            xd = x.detach()
            cdt = plan["W"].dtype
            xh = torch.fft.rfft2(xd, dim=(-2, -1), norm="ortho").to(cdt)
            vh = torch.einsum(ein, plan["U"], xh)
            vh[:, :, 0, 0] += N * self.bias.detach().to(cdt)
            B = xd.shape[0]
            z = xd.new_empty(B, self.channels, N, N)
            zh = torch.empty_like(vh)
            ic = self.identity_channels
            for k in range(len(self.blocks)):
                s, e = int(edges[k]), int(edges[k + 1])
                acc = vh[:, s:e] if k == 0 else vh[:, s:e] + torch.einsum(ein, plan["Wk"][k], zh[:, :s])
                p = torch.fft.irfft2(acc, s=(N, N), dim=(-2, -1), norm="ortho")
                if ic < e:
                    lo = max(ic - s, 0)
                    p[:, lo:] = torch.relu(p[:, lo:])
                z[:, s:e] = p
                zh[:, s:e] = torch.fft.rfft2(p, dim=(-2, -1), norm="ortho")
            pre = torch.fft.irfft2(torch.einsum(ein, plan["W"], zh) + vh, s=(N, N), dim=(-2, -1), norm="ortho")
            Fz = pre.clone()
            Fz[:, ic:] = torch.relu(pre[:, ic:])
            r = torch.linalg.vector_norm((z - Fz).reshape(B, -1), dim=1)
            rel = r / (torch.linalg.vector_norm(Fz.reshape(B, -1), dim=1) + self._half_norms(vh) + 1e-30)
            ra, rr = (float(r.max()), float(rel.max())) if B else (0.0, 0.0)
        mode = kw.get("f_stop_mode", "rel")
        tol = float(kw.get("f_tol", 1e-5))
        q = ra if mode == "abs" else rr
        status = SolverStatus.CONVERGED if q <= tol else SolverStatus.MAX_ITERATIONS
        stats = SolverStats("dag", status, len(self.blocks), ra, rr, tol, mode, math.nan, (q,),
                            time.perf_counter() - t0)
        return z, zh, stats

    def readout(self, z: torch.Tensor) -> torch.Tensor:
        """``y = Gz + b_y`` (``(B, c_out, N, N)``): the LBEN output, L-Lipschitz in ``x``. Right after a
        ``"dag"`` forward without autograd, the spectrum ``ẑ`` of that very ``z`` is reused."""
        cache = getattr(self, "_zhat", None)
        if cache is not None and cache[0] is z and cache[1] == z._version and not torch.is_grad_enabled():
            plan = self.dag_plan()
            yh = torch.einsum("hwoi,bihw->bohw", plan["G"], cache[2])
            return torch.fft.irfft2(yh, s=(self.N, self.N), dim=(-2, -1), norm="ortho") + self.bias_y[:, None, None]
        return self._conv(self.G, z, self.bias_y)

    @property
    def last_stats(self):
        return None if self.last_info is None else self.last_info.forward

    # ------------------------------------------------------------------ SLL → LBEN (Thm 3.5, §4.1)

    @classmethod
    def from_deqtheory(cls, obj: Any, *, dtype=None, device=None, **solver_kw: Any) -> "ConvLBEN":
        r"""The torch layer of a :class:`deqtheory.convert.ConvLBEN` (e.g. the result of
        :func:`deqtheory.convert.conv_sll_to_lben`): full ``N × N`` kernels
        :func:`deqtheory.circulant.freq_to_kernel` of its blocks, ``log_psi``, biases, ``L``, ``ε``,
        ``blocks`` = its ``channels`` (when more than one), ``identity_channels`` = its identity mask (a
        prefix of the channels). ``solver_kw``: solver options."""
        N, C = obj.N, obj.C
        mask = np.asarray(obj.identity_mask, bool)
        ic = int(mask.sum())
        if not mask[:ic].all():
            raise DomainError(f"identity_mask: must mark leading channels, got {mask.astype(int).tolist()}")
        K = {n: torch.as_tensor(_circ.freq_to_kernel(getattr(obj, n + "_hat")), dtype=torch.float64)
             for n in ("G", "U", "V", "S")}
        out = cls(obj.c_in, C, obj.p, N, L=obj.L, eps=obj.eps, identity_channels=ic,
                  blocks=tuple(obj.channels) if len(obj.channels) > 1 else None, v_channels=K["V"].shape[0],
                  dtype=dtype, device=device, **solver_kw)
        with torch.no_grad():
            for n, t in K.items():
                getattr(out, n).copy_(t)
            out.log_psi.copy_(torch.as_tensor(obj.log_psi))
            out.bias.copy_(torch.as_tensor(obj.b))
            out.bias_y.copy_(torch.as_tensor(obj.b_y))
        return out

    @classmethod
    def from_sll(cls, layers: Sequence[nn.Module], N: int, **solver_kw: Any) -> "ConvLBEN":
        r"""Exact conv LBEN of a stack of :class:`SLLConv2d` layers on the ``N × N`` grid (havens2023
        Thm 3.5 with S = ½Mᵀ, §4.1 per-frequency square root), computed once in :mod:`deqtheory`:
        ``from_deqtheory(deqtheory.convert.conv_sll_to_lben(to_deqtheory(layers, N=N)))`` (the layers'
        own ``T``; float64, then cast to the layers' dtype). The result's output equals the SLL stack (up
        to solver tolerance) through ``readout(forward(x))``; ``identity_channels = c`` (φ = id on x̃₀),
        ε = 0, L = 1, ``blocks = (c, h_1, …, h_L)``. Default solver: ``f_solver="dag"`` (block forward
        substitution, exact in one pass since W is block strictly lower triangular; relative residual
        tolerance 1e-10, recomputed with the full W)."""
        from deqtheory.convert import conv_sll_to_lben

        from ..export import to_deqtheory
        from .explicit import SLLConv2d
        layers = list(layers)
        if not layers or not all(isinstance(l, SLLConv2d) for l in layers):
            raise DomainError("layers: expected a non-empty sequence of SLLConv2d")
        K0 = layers[0].kernel
        for n, l in enumerate(layers):
            if not bool((l.T() > 0).all()):
                raise DomainError(f"layers[{n}]: T has a zero entry (zero kernel channel); T must be invertible")
        obj = conv_sll_to_lben(to_deqtheory(layers, N=N))
        return cls.from_deqtheory(obj, dtype=K0.dtype, device=K0.device,
                                  **({"f_solver": "dag", "f_tol": 1e-10, "f_stop_mode": "rel"} | solver_kw))
