r"""Convolutional DAG-LBEN: an LBEN whose ``W`` stays block strictly lower triangular while it trains,
so that its fixed point is computed exactly by one block forward substitution (differentiable,
no iterative solver, no implicit backward).

The construction (the numpy reference, its proof and its catalogue entry are
:mod:`deqtheory.parametrizations.dag_lben`): state channels split into consecutive ``blocks``
``(n_0, …, n_K)``; parameters are real kernels ``G (c_out, c, k, k)``, ``Ut (c, c_in, k, k)``
("Ũ = ΛU"), ``V (c_v, c, k, k)`` (default full ``N × N`` kernels), per-channel weights ``q`` and
biases. Per frequency ω of the ``N × N`` grid

.. math::
    \hat P = \tfrac{1}{2L}(\hat G^H\hat G + \hat{\tilde U}\hat{\tilde U}^H) + \hat V^H\hat V + \varepsilon I,\qquad
    \lambda_c = \sum_{c'\in\text{block}(c)} \|p_{cc'}\|_1\,\frac{q_{c'}}{q_c},

with :math:`p_{cc'}` the spatial kernel of the diagonal channel block of ``P`` (every row of the
block-circulant ``P`` holds each tap once, so this is the scaled Gershgorin/AOL bound of the dense
matrix: :math:`\Lambda_k \succeq P_{kk}`), and

.. math:: \hat W = -2\Lambda^{-1}\,\mathrm{lowblk}(\hat P),\qquad \hat U = \Lambda^{-1}\hat{\tilde U}.

Then :math:`\Lambda(I - W) = \Lambda + 2\,\mathrm{lowblk}(P)` has symmetric part
:math:`P + (\Lambda - \mathrm{blkdiag}\,P) \succeq \tfrac{1}{2L}(G^\top G + \Lambda UU^\top\Lambda) + \varepsilon I`:
havens2023 (4)/(10) with witness Λ, so the layer is an LBEN (eq. 7 with Ψ = Λ⁻¹,
``V' = [V; (Λ − blkdiag P)^{1/2}]``, ``S' = −lowblk(P)``; :meth:`ConvDAGLBEN.as_conv_lben` builds it) and
``x ↦ Gz* + b_y`` is L-Lipschitz — for every value of the parameters.

Why: the conv LBEN converted from a conv SLL (:meth:`ConvLBEN.from_sll`) has exactly this shape
(:meth:`ConvDAGLBEN.from_lben` recovers it to rounding), but fine-tuning it in the free eq. (7)
parameters makes ``W`` dense, and each step then needs ≈ 15 applications of a full-kernel operator
in Peaceman–Rachford (forward and backward, ≈ 25× the SLL step on MNIST). Fine-tuning in these
parameters keeps the one-pass forward (≈ 1.1–1.4× the SLL's, benchmarks/forward.py) and lets
autograd run through it. What it gives up: the diagonal and upper blocks of ``W`` stay zero (no
feedback between layers); what it keeps over the SLL: full-grid kernels, dense skip connections from
every earlier block, a learned metric Λ.

Certification: :mod:`deqtheory_train.certify` certifies the eq. (7) :class:`ConvLBEN` that
:meth:`as_conv_lben` materialises in float64 (nilpotent, solved by its ``"dag"`` path with the residual
recomputed from the full ``Ŵ``).
"""
from __future__ import annotations

import copy
import math
import time
from typing import Any, Optional, Sequence, Tuple

import numpy as np
import torch
from torch import nn

from deqtheory.errors import DomainError, ShapeError

from .. import fft as _fft

__all__ = ["ConvDAGLBEN"]


def _half_spectrum(K: torch.Tensor, N: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """``(Â, Âᴴ)``: ``Â = kernel_to_freq(K, N)[:, :N//2+1]`` ``(N, N//2+1, c_out, c_in)`` without the
    other half, and its per-frequency adjoint. ``kernel_to_freq`` is the unscaled ``e^{+2πi…}`` sum,
    i.e. ``conj(rfft2(K₀))`` for a real kernel, so ``Âᴴ`` is a plain transpose of ``rfft2(K₀)``; both
    are returned without torch's lazy conjugate bit (a conjugate-bit operand makes CPU ``bmm`` copy
    every per-frequency matrix separately)."""
    R = torch.fft.rfft2(_fft.embed_kernel(K, N, origin="zero"), dim=(-2, -1)).permute(2, 3, 0, 1).contiguous()
    return R.conj().resolve_conj(), R.transpose(-2, -1)


def _half_to_kernel0(A: torch.Tensor, N: int) -> torch.Tensor:
    """Inverse of :func:`_half_spectrum` with the origin at 0: ``(c_out, c_in, N, N)`` real kernel."""
    return torch.fft.irfft2(torch.conj(A.permute(2, 3, 0, 1)), s=(N, N), dim=(-2, -1))


def _fmatmul(A: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """``y[b, o, ω] = Σ_i A[ω, o, i] z[b, i, ω]`` (half spectrum, complex)."""
    return torch.einsum("hwoi,bihw->bohw", A, z)


class ConvDAGLBEN(nn.Module):
    r"""Conv LBEN with block strictly lower triangular ``W`` by construction (module docstring).

    ``forward(x) -> z*`` (exact block forward substitution, autograd through it), ``readout(z) -> y``,
    ``as_conv_lben()`` → the equal eq. (7) :class:`~deqtheory_train.layers.conv.ConvLBEN`,
    ``from_lben(lben)`` / ``from_sll(layers, N)`` → the DAG-LBEN of a nilpotent ConvLBEN / SLL stack.
    ``identity_channels`` leading channels use φ = identity (must lie inside block 0)."""

    kind = "conv_lben"          # the file kind of deqtheory_train.export.to_deqtheory(module)

    def __init__(self, c_in: int, channels: int, c_out: int, N: int, *, blocks: Sequence[int],
                 kernel_size: Optional[int] = None, v_channels: Optional[int] = None, L: float = 1.0,
                 eps: float = 0.0, identity_channels: int = 0, dtype=None, device=None) -> None:
        super().__init__()
        if not L > 0:
            raise DomainError(f"L: must be positive, got {L}")
        if not eps >= 0:
            raise DomainError(f"eps: must be >= 0, got {eps}")
        fk = {"dtype": dtype or torch.get_default_dtype(), "device": device}
        N, c = int(N), int(channels)
        k = N if kernel_size is None else int(kernel_size)
        if k > N:
            raise ShapeError(f"kernel_size: {k} is larger than the grid N = {N}")
        self.blocks = tuple(int(b) for b in blocks)
        if not self.blocks or any(b <= 0 for b in self.blocks) or sum(self.blocks) != c:
            raise ShapeError(f"blocks: expected positive channel counts summing to channels = {c}, got {self.blocks}")
        self.identity_channels = int(identity_channels)
        if not 0 <= self.identity_channels <= self.blocks[0]:
            raise DomainError(f"identity_channels: must lie in block 0 (0..{self.blocks[0]}), got {identity_channels}")
        cv = c if v_channels is None else int(v_channels)
        self.N, self.L, self.eps = N, float(L), float(eps)
        s = 1.0 / (k * math.sqrt(c))
        self.G = nn.Parameter(s * torch.randn(c_out, c, k, k, **fk))
        self.Ut = nn.Parameter(torch.randn(c, c_in, k, k, **fk) / (k * math.sqrt(c_in)))
        self.V = nn.Parameter(s * torch.randn(cv, c, k, k, **fk))
        self.log_q = nn.Parameter(torch.zeros(c, **fk))
        self.bias = nn.Parameter(torch.zeros(c, **fk))
        self.bias_y = nn.Parameter(torch.zeros(c_out, **fk))
        self._stats = None
        self._zhat = None

    @property
    def channels(self) -> int:
        return self.V.shape[1]

    @property
    def edges(self) -> Tuple[int, ...]:
        return tuple(int(e) for e in np.concatenate([[0], np.cumsum(self.blocks)]))

    # ------------------------------------------------------------------ the construction

    def parts(self) -> dict:
        r"""Half-spectrum pieces ``(N, N//2+1, ·, ·)``: ``P``, ``lam`` (c,), the lower blocks of ``Ŵ``
        per block row (``Wk[k]``: rows of block k, columns of blocks < k), ``U`` = Λ⁻¹Ũ, ``G``."""
        N, L = self.N, self.L
        (Gh, GhH), (Uth, UthH), (Vh, VhH) = (_half_spectrum(t, N) for t in (self.G, self.Ut, self.V))
        P = (GhH @ Gh + Uth @ UthH) / (2 * L) + VhH @ Vh
        if self.eps:
            P = P + self.eps * torch.eye(P.shape[-1], dtype=P.dtype, device=P.device)
        q = torch.exp(self.log_q)
        e = self.edges
        lams = []
        for k in range(len(self.blocks)):
            s, t = e[k], e[k + 1]
            p = _half_to_kernel0(P[..., s:t, s:t], N)                 # (n_k, n_k, N, N) spatial kernel
            l1 = p.abs().sum(dim=(-2, -1))
            qk = q[s:t]
            lams.append((l1 @ qk) / qk)
        lam = torch.cat(lams).clamp(min=torch.finfo(q.dtype).tiny)
        inv = (1.0 / lam).to(P.dtype)
        Wk = [(-2.0 * inv[e[k]:e[k + 1], None]) * P[..., e[k]:e[k + 1], :e[k]] for k in range(len(self.blocks))]
        return {"P": P, "lam": lam, "Wk": Wk, "U": inv[:, None] * Uth, "G": Gh}

    def lam(self) -> torch.Tensor:
        """Λ (per channel), the LMI witness and ``Ψ⁻¹`` of the equal eq. (7) LBEN."""
        return self.parts()["lam"]

    # ------------------------------------------------------------------ forward / readout

    def _xhat(self, x: torch.Tensor, parts: dict) -> torch.Tensor:
        if x.shape[-1] != self.N or x.shape[-2] != self.N:
            raise ShapeError(f"x: this ConvDAGLBEN is built for a {self.N}x{self.N} grid, got shape {tuple(x.shape)}")
        return torch.fft.rfft2(x, dim=(-2, -1), norm="ortho").to(parts["U"].dtype)

    def _v_block(self, xh: torch.Tensor, parts: dict, s: int, t: int) -> torch.Tensor:
        """``v̂`` of channels ``s:t``: ``Û x̂`` plus the bias at frequency 0 (``N·b``, unitary rfft2)."""
        vh = _fmatmul(parts["U"][..., s:t, :], xh)
        dc = torch.zeros(vh.shape[1:], dtype=vh.dtype, device=vh.device)
        dc[:, 0, 0] = self.N
        return vh + self.bias[s:t].to(vh.dtype)[:, None, None] * dc

    def _solve(self, x: torch.Tensor, spatial: bool = True):
        """Block forward substitution; returns ``(z or None, ẑ, parts)``. An identity-activation block
        needs no FFT pair (``ẑ_k`` = its pre-activation spectrum); ``spatial=False`` skips building ``z``."""
        t0 = time.perf_counter()
        N = self.N
        parts = self.parts()
        xh = self._xhat(x, parts)
        e, ic = self.edges, self.identity_channels
        zs, zhs = [], []
        for k in range(len(self.blocks)):
            s, t = e[k], e[k + 1]
            acc = self._v_block(xh, parts, s, t)
            if k:
                acc = acc + _fmatmul(parts["Wk"][k], torch.cat(zhs, 1) if k > 1 else zhs[0])
            if ic >= t:                       # φ = identity on the whole block: ẑ_k = acc exactly
                zhs.append(acc)
                if spatial:
                    zs.append(torch.fft.irfft2(acc, s=(N, N), dim=(-2, -1), norm="ortho"))
                continue
            p = torch.fft.irfft2(acc, s=(N, N), dim=(-2, -1), norm="ortho")
            lo = max(ic - s, 0)
            p = torch.cat([p[:, :lo], torch.relu(p[:, lo:])], 1) if lo else torch.relu(p)
            zs.append(p)
            zhs.append(torch.fft.rfft2(p, dim=(-2, -1), norm="ortho"))
        self._stats = {"method": "dag", "iterations": len(self.blocks), "time": time.perf_counter() - t0}
        return (torch.cat(zs, 1) if spatial else None), torch.cat(zhs, 1), parts

    def _readout_hat(self, zh: torch.Tensor, Gh: torch.Tensor) -> torch.Tensor:
        y = torch.fft.irfft2(_fmatmul(Gh, zh), s=(self.N, self.N), dim=(-2, -1), norm="ortho")
        return y + self.bias_y[:, None, None]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        r"""``z*`` (``(B, c, N, N)``) by exact block forward substitution
        :math:`z_k = \varphi(\mathrm{irfft}(\hat v_k + \sum_{j<k}\hat W_{kj}\hat z_j))`; differentiable."""
        z, zh, parts = self._solve(x)
        self._zhat = None if torch.is_grad_enabled() else (z, z._version, zh, parts["G"])
        return z

    def forward_readout(self, x: torch.Tensor) -> torch.Tensor:
        """``readout(forward(x))`` in one pass (reuses ``ẑ`` and its graph): what the classifier calls."""
        _, zh, parts = self._solve(x, spatial=False)
        self._zhat = None
        return self._readout_hat(zh, parts["G"])

    def readout(self, z: torch.Tensor) -> torch.Tensor:
        """``y = Gz + b_y`` (``(B, c_out, N, N)``); without autograd, right after :meth:`forward`, its ``ẑ`` is reused."""
        c = self._zhat
        if c is not None and c[0] is z and c[1] == z._version and not torch.is_grad_enabled():
            return self._readout_hat(c[2], c[3])
        Gh = _half_spectrum(self.G, self.N)[0]
        return self._readout_hat(torch.fft.rfft2(z, dim=(-2, -1), norm="ortho").to(Gh.dtype), Gh)

    @property
    def last_stats(self):
        """``{"method": "dag", "iterations": number of blocks, "time"}`` of the last forward (exact
        substitution: no residual to report; :meth:`as_conv_lben`'s solve recomputes one with the full ``Ŵ``)."""
        return self._stats

    # ------------------------------------------------------------------ conversions

    def as_conv_lben(self, **solver_kw: Any):
        r"""The equal eq. (7) :class:`ConvLBEN` in float64: ``Ψ = Λ⁻¹``, ``G``, ``U = Λ⁻¹Ũ``,
        ``V' = [V; D^{1/2}]`` with ``D = Λ − blkdiag(P)`` (per frequency, PSD by the Gershgorin bound;
        rounding-level negative eigenvalues clipped), ``S' = −lowblk(P)``, same ε, L, blocks, biases;
        default solver ``"dag"`` (its ``W`` is nilpotent).

        Why a torch → torch verb: a DAG-LBEN has no file kind of its own; the file stores it as this
        eq. (7) ConvLBEN (``to_deqtheory(dag)`` exports ``to_deqtheory(dag.as_conv_lben())``), and the
        per-frequency PSD square root of ``D`` that produces ``V'`` exists only here. It is the one way
        to the eq. (7) parameters; the conv ℓ2 certifier certifies that very module."""
        from .conv import ConvLBEN
        N = self.N
        with torch.no_grad():
            cache, self._zhat = self._zhat, None
            try:
                src = copy.deepcopy(self).to(torch.float64)
            finally:
                self._zhat = cache
            G, Ut, V = (_fft.kernel_to_freq(t.detach().to(torch.float64), N) for t in (src.G, src.Ut, src.V))
            H = _fft.freq_adjoint
            P = (H(G) @ G + Ut @ H(Ut)) / (2 * self.L) + H(V) @ V
            c = P.shape[-1]
            I = _fft.freq_identity(N, c, dtype=P.dtype, device=P.device)
            if self.eps:
                P = P + self.eps * I
            lam = src.lam().detach().to(torch.float64)
            e = self.edges
            D = torch.zeros_like(P)
            low = torch.zeros_like(P)
            for k in range(len(self.blocks)):
                s, t = e[k], e[k + 1]
                D[..., s:t, s:t] = torch.diag(lam[s:t]).to(P.dtype) - P[..., s:t, s:t]
                low[..., s:t, :s] = P[..., s:t, :s]
            Dr = _fft.freq_psd_sqrt(_fft.freq_sym(D))
            Vp = torch.cat([V, Dr], dim=-2)
            out = ConvLBEN(Ut.shape[-1], c, G.shape[-2], N, L=self.L, eps=self.eps,
                           identity_channels=self.identity_channels, blocks=self.blocks,
                           v_channels=Vp.shape[-2], dtype=torch.float64, device=P.device,
                           **({"f_solver": "dag", "f_tol": 1e-10, "f_stop_mode": "rel"} | solver_kw))
            out.log_psi.copy_(-torch.log(lam))
            out.G.copy_(_fft.freq_to_kernel(G))
            out.U.copy_(_fft.freq_to_kernel(Ut / lam.to(P.dtype)[:, None]))
            out.V.copy_(_fft.freq_to_kernel(Vp))
            out.S.copy_(_fft.freq_to_kernel(-low))
            out.bias.copy_(src.bias.detach().to(torch.float64))
            out.bias_y.copy_(src.bias_y.detach().to(torch.float64))
        return out

    @classmethod
    def from_lben(cls, lben: nn.Module) -> "ConvDAGLBEN":
        r"""The DAG-LBEN equal (to rounding) to a :class:`ConvLBEN` whose ``W`` is block strictly lower
        triangular over ``lben.blocks`` (e.g. :meth:`ConvLBEN.from_sll`): ``Ũ = ΛU``, same ``G``, ``V``;
        ``q`` = 1. Checked: Λ recovered by the Gershgorin bound equals ``Ψ⁻¹`` to 1e-6 relative (it does
        when ``Λ(I − W)`` has diagonal blocks ``Λ_k``), else :class:`DomainError`."""
        if getattr(lben, "blocks", None) is None:
            raise DomainError("lben: needs channel blocks (ConvLBEN(..., blocks=...) or ConvLBEN.from_sll)")
        lben.dag_plan()      # raises DomainError unless W is block strictly lower triangular
        N, c = lben.N, lben.channels
        dt, dev = lben.G.dtype, lben.G.device
        out = cls(lben.U.shape[1], c, lben.G.shape[0], N, blocks=lben.blocks, kernel_size=lben.V.shape[-1],
                  v_channels=lben.V.shape[0], L=lben.L, eps=lben.eps, identity_channels=lben.identity_channels,
                  dtype=dt, device=dev)
        with torch.no_grad():
            lam = torch.exp(-lben.log_psi.detach())
            out.Ut.copy_(lben.U.detach() * lam[:, None, None, None])      # ΛU: output-channel scaling
            out.G.copy_(lben.G.detach())
            out.V.copy_(lben.V.detach())
            out.bias.copy_(lben.bias.detach())
            out.bias_y.copy_(lben.bias_y.detach())
            got = out.lam()
            rel = float(((got - lam).abs() / lam).max())
            if rel > 1e-6:
                raise DomainError(f"lben: the Gershgorin multiplier of its P differs from Psi^-1 by {rel:.2e} "
                                  "(relative); Lambda(I - W) does not have diagonal blocks Lambda_k")
        return out

    @classmethod
    def from_sll(cls, layers: Sequence[nn.Module], N: int) -> "ConvDAGLBEN":
        """:meth:`ConvLBEN.from_sll` (havens2023 Thm 3.5 per frequency) followed by :meth:`from_lben`."""
        from .conv import ConvLBEN
        return cls.from_lben(ConvLBEN.from_sll(layers, N))
