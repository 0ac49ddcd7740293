r"""Batched fixed-point solvers for z = φ(Wz + v) in torch, with implicit (or phantom) gradients.

φ is ReLU, or the identity on the coordinates of an optional ``identity_mask`` (both are resolvents
of a maximal monotone operator: the normal cone of {z_i ≥ 0 on unmasked i}). Batches are rows:
``v`` has shape ``(batch, n)`` for dense layers or ``(batch, *shape)`` for operators (conv); norms
are per sample over all non-batch dimensions. Everything follows the device and dtype of ``v``
(float32 or float64); nothing is moved to a device.

Forward methods (``f_solver``), all on ``F(z) = φ(Wz + v)``:

================  ==============================================================  ==============================================
``"fb"``          z ← φ((1−α)z + α(Wz + v))  (pabbaraju2021 eq. 3)                 m = λ_min(sym(I−W)) > 0, L = ‖I−W‖₂; contracts iff
                                                                                  0 < α < 2m/L²; default α = m/L². m ≤ 0 (estimate)
                                                                                  ⇒ status NOT_MONOTONE, nothing iterated
``"pr"``          u½ = 2z − u; z½ = R(u½ + αv); u = 2z½ − u½; z = φ(u);            any α > 0 for (Λ-)monotone W (also LBEN /
                  R = (I + α(I−W))⁻¹, u⁰ = z⁰                                       G-MonDEQ); default α = 1/L. Dense: R formed once
                                                                                  per solve (LU inverse); operators: user resolvent
``"alpha_avg"``   z ← (1−α)z + αF(z)  (jafarpour2022 Thm 5.1(2))                   contracts ‖·‖_{∞,[η]⁻¹} if μ∞,[η]⁻¹(W) < 1 and
                                                                                  α ≤ 1/(1 − min_i min(W_ii, 0)) (the default)
``"anderson"``    type-II Anderson on F, memory ``memory``                         **no guarantee**; failure is reported
================  ==============================================================  ==============================================

Stopping: the residual r_k = ‖z_k − F(z_k)‖₂ per sample, max over the batch (``f_stop_mode="abs"``),
or ``"rel"``: max_k r_k/(‖F(z_k)‖₂ + ‖v_k‖₂ + tiny) (tiny = 1e-30; scale-free, finite when z* = 0).
``SolverStats.status`` is CONVERGED iff that quantity is ≤ tol **for the returned z** (recomputed).
Failures are results: MAX_ITERATIONS, DIVERGED (quantity > divergence_factor·max(initial, tol)),
NONFINITE; the returned z is the iterate with the smallest stopping quantity.

**Checking every k iterations** (``check_every``, default ``"auto"``: 1 on the CPU, 8 on other
devices): the stopping quantity needs a device → host copy, which stalls a GPU's queue once per
iteration. With k > 1 it is computed only at iterations k, 2k, … and at ``max_iter`` (``history``
holds those), so a solve may run up to k − 1 iterations past the first iterate below ``tol``; PR and
FB with α ≠ 1 then also skip F(z) (one mat-vec) on the unchecked iterations. k = 1 is the exact
per-iteration behaviour. The CONVERGED decision is unchanged: the returned z's quantity, recomputed.

**Spectral cache (one eigvalsh / SVD / inverse per matrix and optimizer step).** m, L, min_i W_ii
and the PR resolvents (I + α(I − W))⁻¹ are functions of W's values only, and W changes only at
``optimizer.step()``; yet a training step builds several operators on the same W (the forward
solve, its adjoint backward solve — same m and L, resolvent Rᵀ —, the parametrization evaluated
again for the interval/IBP pass, every evaluation batch). :class:`SpectralCache` keeps them per
distinct matrix, keyed by the **bits** of its values (a stored copy, compared with
:func:`torch.equal` on an integer view after a fast identity + ``_version`` check), so a value is
reused exactly when recomputing it would give the same bits, and an optimizer step (new values)
can never see a stale one. Bounded LRU (:data:`SPECTRAL_CACHE`, default 16 matrices: a conv ℓ∞ DEQ
uses three per step — W and the two blocks of its lift — so li2022's three stacked DEQs need nine;
the resolvents it keeps are those a step forms anyway, now alive between the solves of the step);
:func:`spectral_cache` switches it off (or resizes it) inside a ``with`` block.

**Floating point on GPUs.** cuBLAS / cuDNN may use TF32 (10-bit mantissa) for float32 matmuls and
convolutions on recent GPUs: ≈ 1e-3 relative error, more than the solver tolerances. Every solve runs
with TF32 switched off (:func:`ieee_float32`; ``allow_tf32=True`` opts out), so the iteration is the
float32 one its tolerance is about; on the CPU it changes nothing.

Backward (``grad="implicit"``): with z* the forward solution and D = diag(φ'(Wz* + v)) (ReLU:
1[pre > 0]; masked coordinates 1), the implicit function theorem gives
dz* = (I − DW)⁻¹D(dW z* + dv). The upstream gradient c is replaced by g = (I − DW)⁻ᵀc, i.e. the
**adjoint fixed point** gᵀ = gᵀDW + cᵀ. Writing a = Dg it is a = D(Wᵀa + c), g = Wᵀa + c: a DEQ
of the same form with W → Wᵀ and φ → D· (D is a projection for ReLU, hence a resolvent in any
diagonal metric), so FB (same m, L), PR (resolvent Rᵀ, the transpose of the forward one),
α-averaging (the transposed iteration matrix has the same weighted-ℓ1/ℓ∞ duality) and Anderson
apply with the same step sizes (``b_solver``, ``b_tol``, ``b_max_iter``, ``b_stop_mode``). The
output is z_out = F(z*) computed with autograd (one re-attached step), and its gradient is replaced
by g through a ``torch.autograd.Function``, so gradients reach W (any parametrization) and v.
``grad="phantom"``: k steps z ← (1−τ)z + τF(z) from z* with autograd (Geng et al. 2021, li2022 §4.9).
"""
from __future__ import annotations

import contextlib
import dataclasses
import math
import time
import weakref
from typing import Any, Callable, Iterator, Optional, Tuple, Union

import torch

from deqtheory.errors import DomainError, ShapeError
from deqtheory.solvers import SolverStatus

__all__ = ["SolverStatus", "SolverStats", "DEQInfo", "LinearOperator", "DenseOperator", "as_operator",
           "activation", "fixed_point", "deq_solve", "fixed_point_residual", "F_SOLVERS", "ieee_float32",
           "resolve_check_every", "SpectralCache", "SPECTRAL_CACHE", "spectral_cache"]

F_SOLVERS = ("fb", "pr", "alpha_avg", "anderson")
_TINY = 1e-30


@dataclasses.dataclass(frozen=True)
class SolverStats:
    """Statistics of one solve. ``residual``: max over the batch of ‖z_k − F(z_k)‖₂ for the returned
    z; ``rel_residual``: the relative form (module docstring); ``history``: the stopping quantity
    per iteration (entry 0 = start); ``alpha``: step used (nan where none)."""

    method: str
    status: SolverStatus
    iterations: int
    residual: float
    rel_residual: float
    tol: float
    stop_mode: str
    alpha: float
    history: Tuple[float, ...]
    time: float

    @property
    def converged(self) -> bool:
        return self.status is SolverStatus.CONVERGED

    @property
    def message(self) -> str:
        return (f"{self.method}: {self.status.value} after {self.iterations} iterations, "
                f"{self.stop_mode} residual {self.residual if self.stop_mode == 'abs' else self.rel_residual:.3e} "
                f"(tol {self.tol:.1e})")


@dataclasses.dataclass
class DEQInfo:
    """Forward statistics, and the backward (adjoint) statistics once ``backward`` has run."""

    forward: SolverStats
    backward: Optional[SolverStats] = None
    grad: str = "implicit"


# ----------------------------------------------------------------------------------------------
# operators
# ----------------------------------------------------------------------------------------------

class LinearOperator:
    r"""A batched linear map ``z ↦ Wz`` on tensors ``(batch, *shape)``.

    Parameters
    ----------
    matvec, rmatvec : callables ``z -> Wz`` and ``g -> Wᵀg`` (batched; may carry autograd graphs).
    resolvent : optional callable ``alpha -> (apply, apply_T)`` with ``apply(u) = (I + α(I − W))⁻¹u``
        and ``apply_T(u) = (I + α(I − W))⁻ᵀu`` (e.g. an FFT per-frequency solve); needed for ``"pr"``.
        It is called once per solve (factor there).
    m, L : floats (or callables returning them) — λ_min(sym(I − W)) and ‖I − W‖₂, used for the
        default step sizes of ``fb`` (α = m/L²) and ``pr`` (α = 1/L).
    diag_min : float (or callable) — min_i W_ii, for the default α of ``alpha_avg``.
    """

    def __init__(self, matvec: Callable, rmatvec: Callable, *, resolvent: Optional[Callable] = None,
                 m: Any = None, L: Any = None, diag_min: Any = None):
        self.matvec = matvec
        self.rmatvec = rmatvec
        self._resolvent = resolvent
        self._m, self._L, self._diag_min = m, L, diag_min

    @staticmethod
    def _get(x: Any) -> Optional[float]:
        if x is None:
            return None
        return float(x() if callable(x) else x)

    @property
    def m(self) -> Optional[float]:
        return self._get(self._m)

    @property
    def L(self) -> Optional[float]:
        return self._get(self._L)

    @property
    def diag_min(self) -> Optional[float]:
        return self._get(self._diag_min)

    def resolvent(self, alpha: float):
        if self._resolvent is None:
            raise DomainError("f_solver='pr' needs a resolvent (I + alpha (I - W))^-1: pass resolvent= "
                              "to LinearOperator (dense W gets one automatically)")
        return self._resolvent(alpha)


_INT_VIEW = {1: torch.int8, 2: torch.int16, 4: torch.int32, 8: torch.int64}


def _bits(t: torch.Tensor) -> torch.Tensor:
    """``t`` viewed as integers of the same width (complex as pairs): equal views ⇔ equal bits
    (so −0.0 ≠ 0.0 and a NaN equals itself; :func:`torch.equal` on floats says neither)."""
    if t.is_complex():
        t = torch.view_as_real(t.resolve_conj())
    return t.view(_INT_VIEW[t.element_size()]) if t.is_floating_point() else t


class _Entry:
    __slots__ = ("key", "alive", "values")

    def __init__(self, key: Tuple[Any, ...], alive: list):
        self.key, self.alive, self.values = key, alive, {}


def _alive(tensors: list) -> list:
    """What the identity fast path compares: (weak reference, version, storage address) per tensor."""
    return [(weakref.ref(t), t._version, t.data_ptr()) for t in tensors]


class SpectralCache:
    r"""Derived values of matrices (m, L, min_i W_ii, resolvents), one dict per distinct **key**: a
    tuple of tensors (compared bitwise, see the module docstring) and hashable scalars (compared
    with ``==``). :meth:`values` returns the dict of that key, creating it (and evicting the least
    recently used beyond ``maxsize``) on a miss; the caller fills it. ``hits`` / ``misses`` count
    lookups (tests, benchmarks). ``maxsize = 0`` disables it: every lookup is a fresh dict.

    The fast path (no comparison of values) needs the very same tensor objects, alive, at the same
    ``_version`` (bumped by every in-place update, ``optimizer.step()`` included) and storage."""

    def __init__(self, maxsize: int = 16):
        self.maxsize = int(maxsize)
        self._entries: list = []
        self.hits = self.misses = 0

    def clear(self) -> None:
        self._entries.clear()

    @staticmethod
    def _same(a: torch.Tensor, b: torch.Tensor) -> bool:
        return (a.shape == b.shape and a.dtype == b.dtype and a.device == b.device
                and torch.equal(_bits(a.detach()), _bits(b)))

    def _match(self, e: _Entry, key: Tuple[Any, ...], tensors: list) -> bool:
        if len(e.key) != len(key):
            return False
        for k, c in zip(key, e.key):
            if isinstance(k, torch.Tensor) != isinstance(c, torch.Tensor):
                return False
            if not isinstance(k, torch.Tensor) and not (type(k) is type(c) and k == c):
                return False
        if len(e.alive) == len(tensors) and all(r() is t and t._version == v and t.data_ptr() == p
                                                for (r, v, p), t in zip(e.alive, tensors)):
            return True
        return all(self._same(k, c) for k, c in zip(key, e.key) if isinstance(k, torch.Tensor))

    def values(self, *key: Any) -> dict:
        if self.maxsize <= 0:
            self.misses += 1
            return {}
        tensors = [k for k in key if isinstance(k, torch.Tensor)]
        for i, e in enumerate(self._entries):
            if self._match(e, key, tensors):
                self.hits += 1
                e.alive = _alive(tensors)
                self._entries.append(self._entries.pop(i))
                return e.values
        self.misses += 1
        stored = tuple(k.detach().clone().resolve_conj() if isinstance(k, torch.Tensor) else k for k in key)
        e = _Entry(stored, _alive(tensors))
        self._entries.append(e)
        del self._entries[:-self.maxsize]
        return e.values


#: The process-wide cache used by :class:`DenseOperator` and the conv operators.
SPECTRAL_CACHE = SpectralCache()


@contextlib.contextmanager
def spectral_cache(enabled: bool = True, maxsize: Optional[int] = None) -> Iterator[SpectralCache]:
    """Inside: :data:`SPECTRAL_CACHE` off (``enabled=False``: nothing is shared between operators — a
    dense operator computes m, L and the resolvent at every use, a conv operator once for itself) or
    with ``maxsize`` entries; emptied and restored on exit."""
    old = SPECTRAL_CACHE.maxsize
    SPECTRAL_CACHE.clear()
    SPECTRAL_CACHE.maxsize = 0 if not enabled else (old if maxsize is None else int(maxsize))
    try:
        yield SPECTRAL_CACHE
    finally:
        SPECTRAL_CACHE.clear()
        SPECTRAL_CACHE.maxsize = old


def cached(values: dict, name: Any, compute: Callable[[], Any]) -> Any:
    """``values[name]``, computed by ``compute()`` on the first call."""
    if name not in values:
        values[name] = compute()
    return values[name]


class DenseOperator(LinearOperator):
    r"""Dense ``W`` (n, n), rows-are-samples: ``Wz`` is ``z @ Wᵀ``. ``m``, ``L``, ``diag_min`` are
    computed lazily in float64 from ``W.detach()`` (eigvalsh / matrix 2-norm); the PR resolvent is
    ``torch.linalg.inv(I + α(I − W))`` (LU), applied as one matmul per step, its transpose for the
    adjoint. All of them are kept in :data:`SPECTRAL_CACHE` under W's values (module docstring), so
    the operators of one optimizer step on the same W share one eigvalsh, one SVD and one inverse per α."""

    def __init__(self, W: torch.Tensor):
        if W.ndim != 2 or W.shape[0] != W.shape[1]:
            raise ShapeError(f"W: expected a square matrix, got shape {tuple(W.shape)}")
        self.W = W
        self._vals: Optional[dict] = None
        super().__init__(lambda z: z @ W.T, lambda g: g @ W, resolvent=self._dense_resolvent,
                         m=self._m_est, L=self._L_est, diag_min=self._diag_min)

    @property
    def _cache(self) -> dict:
        if SPECTRAL_CACHE.maxsize <= 0:       # off: every use computes afresh (tests, benchmarks)
            return SPECTRAL_CACHE.values("dense", self.W)
        if self._vals is None:
            self._vals = SPECTRAL_CACHE.values("dense", self.W)
        return self._vals

    def _IW64(self) -> torch.Tensor:
        Wd = self.W.detach().to(torch.float64)
        return torch.eye(Wd.shape[0], dtype=torch.float64, device=Wd.device) - Wd

    def _m_est(self) -> float:
        def m():
            A = self._IW64()
            return float(torch.linalg.eigvalsh(0.5 * (A + A.T))[0])
        return cached(self._cache, "m", m)

    def _L_est(self) -> float:
        return cached(self._cache, "L", lambda: float(torch.linalg.matrix_norm(self._IW64(), ord=2)))

    def _diag_min(self) -> float:
        return cached(self._cache, "diag_min", lambda: float(self.W.detach().diagonal().min()))

    def _dense_resolvent(self, alpha: float):
        def inverse():
            Wd = self.W.detach()
            eye = torch.eye(Wd.shape[0], dtype=Wd.dtype, device=Wd.device)
            R = torch.linalg.inv(eye + alpha * (eye - Wd))
            return R, R.T.contiguous()
        R, RT = cached(self._cache, ("R", float(alpha)), inverse)
        return (lambda u: u @ RT), (lambda u: u @ R)


def as_operator(W: Any) -> LinearOperator:
    """A :class:`LinearOperator` as is, a square tensor as :class:`DenseOperator`."""
    if isinstance(W, LinearOperator):
        return W
    if isinstance(W, torch.Tensor):
        return DenseOperator(W)
    raise DomainError(f"W: expected a square torch.Tensor or a LinearOperator, got {type(W).__name__}")


def activation(x: torch.Tensor, identity_mask: Optional[torch.Tensor] = None) -> torch.Tensor:
    """φ(x): ReLU, identity where ``identity_mask`` (bool, broadcastable to one sample) is True."""
    r = torch.relu(x)
    return r if identity_mask is None else torch.where(identity_mask, x, r)


def _activation_slope(x: torch.Tensor, identity_mask: Optional[torch.Tensor]) -> torch.Tensor:
    d = (x > 0).to(x.dtype)
    return d if identity_mask is None else torch.where(identity_mask, torch.ones_like(d), d)


def _norms(x: torch.Tensor) -> torch.Tensor:
    return torch.linalg.vector_norm(x.reshape(x.shape[0], -1), ord=2, dim=1)


def _quantities(z: torch.Tensor, Fz: torch.Tensor, vn: torch.Tensor) -> Tuple[float, float]:
    r = _norms(z - Fz)
    rel = r / (_norms(Fz) + vn + _TINY)
    return float(r.max()), float(rel.max())


def fixed_point_residual(W: Any, v: torch.Tensor, z: torch.Tensor, *, identity_mask=None,
                         stop_mode: str = "abs") -> float:
    """max over the batch of ‖z − φ(Wz + v)‖₂ (``"abs"``) or its relative form (``"rel"``)."""
    op = as_operator(W)
    with torch.no_grad():
        a, r = _quantities(z, activation(op.matvec(z) + v, identity_mask), _norms(v))
    return a if stop_mode == "abs" else r


# ----------------------------------------------------------------------------------------------
# the iteration engine (no autograd)
# ----------------------------------------------------------------------------------------------

@contextlib.contextmanager
def ieee_float32(allow_tf32: bool = False) -> Iterator[None]:
    """Inside: cuBLAS matmuls and cuDNN convolutions in IEEE float32 (TF32 off) unless ``allow_tf32``;
    the previous settings are restored on exit (module docstring)."""
    mm, cd = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = bool(allow_tf32)
    torch.backends.cudnn.allow_tf32 = bool(allow_tf32)
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = mm, cd


def resolve_check_every(check_every: Union[int, str], device: torch.device) -> int:
    """``check_every`` as an int: ``"auto"`` is 1 on the CPU and 8 elsewhere (module docstring)."""
    if check_every == "auto":
        return 1 if device.type == "cpu" else 8
    if isinstance(check_every, bool) or not isinstance(check_every, int) or check_every < 1:
        raise DomainError(f"check_every: expected a positive integer or 'auto', got {check_every!r}")
    return check_every


def _check_opts(method: str, tol: float, max_iter: int, stop_mode: str) -> None:
    if method not in F_SOLVERS:
        raise DomainError(f"solver: expected one of {F_SOLVERS}, got {method!r}")
    if not (isinstance(tol, (int, float)) and math.isfinite(tol) and tol > 0):
        raise DomainError(f"tol: expected a positive finite number, got {tol!r}")
    if isinstance(max_iter, bool) or not isinstance(max_iter, int) or max_iter < 1:
        raise DomainError(f"max_iter: expected a positive integer, got {max_iter!r}")
    if stop_mode not in ("abs", "rel"):
        raise DomainError(f"stop_mode: expected 'abs' or 'rel', got {stop_mode!r}")


def _run(method: str, mv: Callable, phi: Callable, v: torch.Tensor, z0: torch.Tensor, *, tol: float,
         max_iter: int, stop_mode: str, alpha: Optional[float], resolvent: Optional[Callable],
         m: Optional[float], L: Optional[float], diag_min: Optional[float], memory: int,
         divergence_factor: float, check_every: int = 1) -> Tuple[torch.Tensor, SolverStats]:
    """Solve z = phi(mv(z) + v). ``resolvent(alpha) -> apply`` for PR; the stopping quantity at every
    ``check_every``-th iteration and the last."""
    _check_opts(method, tol, max_iter, stop_mode)
    t0 = time.perf_counter()
    vn = _norms(v)
    pick = 0 if stop_mode == "abs" else 1

    def F(z):
        return phi(mv(z) + v)

    # step size from theory
    if method == "fb":
        if alpha is None:
            if m is None or L is None or not m > 0:
                z = z0
                q = _quantities(z, F(z), vn)
                return z, SolverStats(method, SolverStatus.NOT_MONOTONE, 0, q[0], q[1], tol, stop_mode,
                                      math.nan, (q[pick],), time.perf_counter() - t0)
            alpha = m / (L * L)
    elif method == "pr":
        if alpha is None:
            alpha = 1.0 / L if (L is not None and L > 0) else 1.0
    elif method == "alpha_avg":
        if alpha is None:
            alpha = 1.0 / (1.0 - min(diag_min, 0.0)) if diag_min is not None else 1.0
    if alpha is not None and not (math.isfinite(alpha) and alpha > 0):
        raise DomainError(f"alpha: expected a positive finite number, got {alpha!r}")

    z = z0
    Fz = F(z)
    q0 = _quantities(z, Fz, vn)
    hist = [q0[pick]]
    best = (q0[pick], z, Fz)
    status = SolverStatus.MAX_ITERATIONS
    it = 0
    if q0[pick] <= tol:
        status = SolverStatus.CONVERGED
    elif method == "anderson":
        z, status, it, hist, best = _anderson(F, z, Fz, vn, tol, max_iter, pick, memory, divergence_factor, hist, best,
                                              check_every=check_every)
    else:
        if method == "pr":
            R = resolvent(alpha)
            av = alpha * v
            u = z.clone()
            z = phi(u)                          # PR keeps z = φ(u) (u⁰ = z⁰)
        for it in range(1, max_iter + 1):
            if method == "fb":
                # α = 1 is the plain Picard step φ(Wz + v) = F(z), already computed (bitwise equal)
                z = Fz if alpha == 1 else phi((1 - alpha) * z + alpha * (mv(z) + v))
            elif method == "alpha_avg":
                z = (1 - alpha) * z + alpha * Fz
            else:  # pr
                uh = 2 * z - u
                zh = R(uh + av)
                u = 2 * zh - uh
                z = phi(u)
            check = it % check_every == 0 or it == max_iter
            if check or method == "alpha_avg" or (method == "fb" and alpha == 1):
                Fz = F(z)                       # the next step needs it, or the check does
            if not check:
                continue
            best, stop = _record(z, Fz, vn, pick, tol, divergence_factor, hist, best)
            if stop is not None:
                status = stop
                break
    zb = best[1]
    qa, qr = _quantities(zb, F(zb), vn)
    final = (qa, qr)[pick]
    if final <= tol:
        status = SolverStatus.CONVERGED
    elif status is SolverStatus.CONVERGED:
        status = SolverStatus.MAX_ITERATIONS
    return zb, SolverStats(method, status, it, qa, qr, float(tol), stop_mode,
                           math.nan if alpha is None else float(alpha), tuple(hist), time.perf_counter() - t0)


def _record(z, Fz, vn, pick, tol, dfac, hist, best):
    """One iterate's bookkeeping, shared by every method: append its stopping quantity q to ``hist``,
    keep (q, z, F(z)) if it is the best so far; return ``(best, status)`` with status NONFINITE (q not
    finite), CONVERGED (q ≤ tol), DIVERGED (q > dfac·max(q₀, tol)) or None (go on)."""
    q = _quantities(z, Fz, vn)[pick]
    hist.append(q)
    if not math.isfinite(q):
        return best, SolverStatus.NONFINITE
    if q < best[0]:
        best = (q, z, Fz)
    if q <= tol:
        return best, SolverStatus.CONVERGED
    if q > dfac * max(hist[0], tol):
        return best, SolverStatus.DIVERGED
    return best, None


def _anderson(F, z0, F0, vn, tol, max_iter, pick, memory, dfac, hist, best, reg=1e-10, check_every=1):
    """Type-II Anderson acceleration (mixing 1), batched; per-sample bordered least squares."""
    bsz = z0.shape[0]
    shape = z0.shape
    N = z0[0].numel()
    mem = max(int(memory), 1)
    X = z0.new_zeros(bsz, mem, N)
    FX = z0.new_zeros(bsz, mem, N)
    X[:, 0] = z0.reshape(bsz, -1)
    FX[:, 0] = F0.reshape(bsz, -1)
    status = SolverStatus.MAX_ITERATIONS
    it = 0
    for it in range(1, max_iter + 1):
        k = min(it, mem)
        if k == 1:
            xn = FX[:, 0]
        else:
            Gm = FX[:, :k] - X[:, :k]                                   # residuals (bsz, k, N)
            H = Gm @ Gm.transpose(1, 2)                                 # (bsz, k, k)
            scale = H.diagonal(dim1=1, dim2=2).mean(dim=1).clamp_min(_TINY)
            lam = max(reg, 100.0 * torch.finfo(H.dtype).eps)
            H = H + (lam * scale)[:, None, None] * torch.eye(k, dtype=H.dtype, device=H.device)
            ones = torch.ones(bsz, k, 1, dtype=H.dtype, device=H.device)
            w = torch.linalg.solve_ex(H, ones)[0]
            c = w / w.sum(dim=1, keepdim=True)                          # Σc = 1, min ‖Σ c_i G_i‖
            xn = (c.transpose(1, 2) @ FX[:, :k])[:, 0]
            # a singular least-squares system (collinear residuals) falls back to the plain step
            ok = torch.isfinite(c).all(dim=1).all(dim=1, keepdim=True)
            xn = torch.where(ok, xn, FX[:, (it - 1) % mem])
        slot = it % mem
        z = xn.reshape(shape)
        Fz = F(z)
        X[:, slot] = xn
        FX[:, slot] = Fz.reshape(bsz, -1)
        if it % check_every and it != max_iter:
            continue
        best, stop = _record(z, Fz, vn, pick, tol, dfac, hist, best)
        if stop is not None:
            status = stop
            break
    return best[1], status, it, hist, best


def fixed_point(W: Any, v: torch.Tensor, *, f_solver: str = "pr", f_tol: float = 1e-5, f_max_iter: int = 500,
                f_stop_mode: str = "rel", alpha: Optional[float] = None, identity_mask: Optional[torch.Tensor] = None,
                z0: Optional[torch.Tensor] = None, memory: int = 5,
                divergence_factor: float = 1e6, check_every: Union[int, str] = "auto",
                allow_tf32: bool = False) -> Tuple[torch.Tensor, SolverStats]:
    """Solve z = φ(Wz + v) without autograd (see the module docstring). Returns ``(z, SolverStats)``."""
    op = as_operator(W)
    v = v.detach()
    k = resolve_check_every(check_every, v.device)
    z0 = torch.zeros_like(v) if z0 is None else z0.detach().to(dtype=v.dtype, device=v.device)
    if z0.shape != v.shape:
        raise ShapeError(f"z0: expected shape {tuple(v.shape)}, got {tuple(z0.shape)}")
    mask = _mask(identity_mask, v)
    with torch.no_grad(), ieee_float32(allow_tf32):
        m = op.m if f_solver == "fb" and alpha is None else None
        L = op.L if f_solver in ("fb", "pr") and alpha is None else None
        dmin = op.diag_min if f_solver == "alpha_avg" and alpha is None else None
        res = (lambda a: op.resolvent(a)[0]) if f_solver == "pr" else None
        return _run(f_solver, op.matvec, lambda x: activation(x, mask), v, z0, tol=f_tol, max_iter=f_max_iter,
                    stop_mode=f_stop_mode, alpha=alpha, resolvent=res, m=m, L=L, diag_min=dmin,
                    memory=memory, divergence_factor=divergence_factor, check_every=k)


def _mask(identity_mask: Any, v: torch.Tensor) -> Optional[torch.Tensor]:
    if identity_mask is None:
        return None
    mk = torch.as_tensor(identity_mask, device=v.device).to(torch.bool)
    if mk.shape != v.shape[1:]:
        raise ShapeError(f"identity_mask: expected shape {tuple(v.shape[1:])}, got {tuple(mk.shape)}")
    return mk


# ----------------------------------------------------------------------------------------------
# autograd
# ----------------------------------------------------------------------------------------------

class _ImplicitGrad(torch.autograd.Function):
    """Identity in the forward pass; the backward pass replaces the upstream gradient c by the
    solution g of the adjoint fixed point g = Jᵀg + c (J = DW at z*)."""

    @staticmethod
    def forward(ctx, z_f: torch.Tensor, backward_solve: Callable) -> torch.Tensor:
        ctx.backward_solve = backward_solve
        return z_f.clone()

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        return ctx.backward_solve(grad), None


def deq_solve(W: Any, v: torch.Tensor, *, f_solver: str = "pr", f_tol: float = 1e-5, f_max_iter: int = 500,
              f_stop_mode: str = "rel", b_solver: Optional[str] = None, b_tol: Optional[float] = None,
              b_max_iter: Optional[int] = None, b_stop_mode: Optional[str] = None, alpha: Optional[float] = None,
              identity_mask: Optional[torch.Tensor] = None, z0: Optional[torch.Tensor] = None, memory: int = 5,
              grad: str = "implicit", phantom_steps: int = 5, phantom_tau: float = 0.5,
              divergence_factor: float = 1e6, check_every: Union[int, str] = "auto",
              allow_tf32: bool = False) -> Tuple[torch.Tensor, DEQInfo]:
    r"""Differentiable solve of z = φ(Wz + v). ``W``: square tensor (may be the output of a
    parametrization, with graph) or a :class:`LinearOperator` whose ``matvec`` carries the graph.

    Returns ``(z, info)``: ``z`` = F(z*) re-attached (its value differs from z* by the residual);
    ``info.forward`` the forward :class:`SolverStats`; ``info.backward`` is filled by the backward
    pass (``grad="implicit"``). ``b_*`` default to the ``f_*`` values. ``grad``: ``"implicit"``
    (adjoint fixed point, module docstring) or ``"phantom"`` (``phantom_steps`` damped steps with
    damping ``phantom_tau`` ∈ (0, 1], differentiated by autograd). ``check_every`` / ``allow_tf32``:
    module docstring (both solves)."""
    if grad not in ("implicit", "phantom"):
        raise DomainError(f"grad: expected 'implicit' or 'phantom', got {grad!r}")
    op = as_operator(W)
    mask = _mask(identity_mask, v)
    z_star, fstats = fixed_point(op, v, f_solver=f_solver, f_tol=f_tol, f_max_iter=f_max_iter,
                                 f_stop_mode=f_stop_mode, alpha=alpha, identity_mask=mask, z0=z0, memory=memory,
                                 divergence_factor=divergence_factor, check_every=check_every, allow_tf32=allow_tf32)
    info = DEQInfo(forward=fstats, grad=grad)
    z_star = z_star.detach()
    if not torch.is_grad_enabled():
        return z_star, info
    if grad == "phantom":
        if isinstance(phantom_steps, bool) or not isinstance(phantom_steps, int) or phantom_steps < 1:
            raise DomainError(f"phantom_steps: expected a positive integer, got {phantom_steps!r}")
        if not 0 < phantom_tau <= 1:
            raise DomainError(f"phantom_tau: expected a number in (0, 1], got {phantom_tau!r}")
        z = z_star
        for _ in range(phantom_steps):
            z = (1 - phantom_tau) * z + phantom_tau * activation(op.matvec(z) + v, mask)
        return z, info
    z_f = activation(op.matvec(z_star) + v, mask)
    if not z_f.requires_grad:
        return z_f, info
    with torch.no_grad():
        D = _activation_slope(op.matvec(z_star) + v.detach(), mask)
    bs = b_solver or f_solver
    bt = f_tol if b_tol is None else b_tol
    bm = f_max_iter if b_max_iter is None else b_max_iter
    bmode = f_stop_mode if b_stop_mode is None else b_stop_mode
    _check_opts(bs, bt, bm, bmode)

    k = resolve_check_every(check_every, v.device)

    def backward_solve(c: torch.Tensor) -> torch.Tensor:
        with torch.no_grad(), ieee_float32(allow_tf32):
            c = c.detach()
            m = op.m if bs == "fb" and alpha is None else None
            L = op.L if bs in ("fb", "pr") and alpha is None else None
            dmin = op.diag_min if bs == "alpha_avg" and alpha is None else None
            res = (lambda a: op.resolvent(a)[1]) if bs == "pr" else None
            a, bstats = _run(bs, op.rmatvec, lambda x: D * x, c, torch.zeros_like(c), tol=bt, max_iter=bm,
                             stop_mode=bmode, alpha=alpha, resolvent=res, m=m, L=L, diag_min=dmin,
                             memory=memory, divergence_factor=divergence_factor, check_every=k)
            info.backward = bstats
            return op.rmatvec(a) + c

    return _ImplicitGrad.apply(z_f, backward_solve), info
