r"""Explicit (feed-forward) 1-Lipschitz networks and their exact DEQ embeddings.

Reference numpy implementations of the explicit Lipschitz families that havens2023 (§2.4, §3.3,
App. C, App. D) reparameterize as LBEN, and of the feed-forward embedding of wei2022 Prop. 3.7.

Families (dense layers only; circular convolutions live in :mod:`deqtheory.circulant`):

* **SLL / CPL residual stacks** (havens2023 §2.4, eq. 9; Araujo et al. 2023)

  .. math:: x_0 = x,\quad x_{n+1} = x_n - 2W_nT_n^{-1}\sigma(W_n^\top x_n + b_n),\quad y = x_N,

  1-Lipschitz whenever :math:`W_n^\top W_n \preceq T_n`. SLL: :math:`T_n = \mathrm{diag}(\sum_j
  |W_n^\top W_n|_{ij} q_j/q_i)` (eq. 9, *the paper's T*, not the ``2T^{-1}`` that one public code
  stores). CPL: :math:`T_n = \|W_n\|_2^2 I`.
* **AOL** (havens2023 eq. 8): :math:`W = \tilde W D`, :math:`D = \mathrm{diag}(\sum_j|\tilde W^\top
  \tilde W|_{ij})^{-1/2}` (zero sums give ``D_ii = 0``, footnote 2); layers
  :math:`x_{j+1} = \sigma(W_jx_j + b_j)`, output :math:`W_lx_l + b_l`.
* **Sandwich** (havens2023 §2.4 / App. D.2; Wang & Manchester 2023)

  .. math:: x_0 = \sqrt L x,\quad x_{n+1} = \sqrt2 A_n^\top\Phi_n\sigma(\sqrt2\Phi_n^{-1}B_nx_n + b_n),
            \quad y = \sqrt L B_Nx_N + b_N,

  with :math:`A_nA_n^\top + B_nB_n^\top \preceq I` (``= I`` from :func:`cayley_stiefel`),
  :math:`\|B_N\|_2 \le 1` and :math:`\Phi_n` positive diagonal.
* **Plain ReLU nets** (wei2022 eq. 3.10): :math:`z_L = \sigma(A_L\sigma(\cdots\sigma(A_1x + b_1)\cdots)
  + b_L)`.

Every explicit net embeds *exactly* into a DEQ :math:`z = \phi(Wz + Ux + b)`, :math:`y = Gz + b_y`
with strictly block-lower-triangular ``W`` (:class:`DEQForm`); ``phi`` is ReLU except on the blocks
flagged in ``identity_mask`` (the SLL skip block, havens2023 footnote 3: the identity is also
slope-restricted on [0, 1]). The analytic multiplier Λ of the paper is stored in the form
(``form.lam``) together with the constant ``form.L`` for which the non-strict LMI (10)

.. math:: 2\Lambda - \Lambda W - W^\top\Lambda - \tfrac1L G^\top G - \tfrac1L\Lambda UU^\top\Lambda \succeq 0

holds in exact arithmetic; :func:`check_lmi10` returns a proved lower bound on its λ_min.

Conventions: linear maps act on column vectors; batches are rows (``X`` is ``(batch, d)``);
diagonal matrices are 1-d vectors; float64 throughout; σ = ReLU.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Any, Optional, Sequence, Tuple

import numpy as np

from ._validate import as_matrix, as_positive_diagonal, as_scalar, as_square, as_vector
from .certificates import Certificate, register_verifier
from .errors import DomainError, DTypeError, ShapeError
from .linalg import norm2_upper_bound
from .verified import UNIT_ROUNDOFF, gamma, product_error_bound, sum_error_bound, verified_pd

__all__ = [
    "sll_T", "cpl_T", "ResidualLayer", "sll_layer", "cpl_layer", "ResidualStack",
    "aol_scaling", "aol_weight", "AOLNet", "cayley_stiefel", "SandwichNet", "ReLUNet",
    "DEQForm", "deqform_forward", "deqform_jacobian", "sll_to_deq", "aol_to_deq", "sandwich_to_deq",
    "feedforward_to_deq", "IBPEmbedding", "relu_net_to_ibp_deq", "lmi10_matrix", "check_lmi10",
    "DeqFormLBEN", "lben_from_deqform", "sandwich_analytic_V", "norm2_upper",
    "random_sll_stack", "random_aol_net", "random_sandwich_net", "random_relu_net",
]

_U = UNIT_ROUNDOFF


def _relu(v: np.ndarray) -> np.ndarray:
    return np.maximum(v, 0.0)


def _as_batch(name: str, X: Any, d: int) -> Tuple[np.ndarray, bool]:
    """``X`` as a (batch, d) array; a 1-d ``X`` of length d is a batch of one (flag returned)."""
    arr = np.asarray(X) if not isinstance(X, np.ndarray) else X
    if getattr(arr, "ndim", None) == 1:
        return as_vector(name, arr, n=d)[None, :], True
    return as_matrix(name, arr, shape=(None, d)), False


def _seq(name: str, xs: Any) -> Tuple[Any, ...]:
    if isinstance(xs, np.ndarray) or not isinstance(xs, (list, tuple)):
        raise DTypeError(f"{name}: expected a list/tuple of arrays, got {type(xs).__name__}")
    return tuple(xs)


def layer_tuple(layers: Any, cls: type, same: Tuple[str, ...]) -> Tuple[Any, ...]:
    """Validated layers of a stack: a non-empty list/tuple of ``cls`` instances that agree with
    ``layers[0]`` on every attribute in ``same`` (e.g. the state dimension); typed errors name the
    layer, the attribute and the values. (Dense stacks here; conv stacks may use it too.)"""
    layers = _seq("layers", layers)
    if not layers:
        raise ShapeError("layers: need at least one layer, got 0")
    for i, l in enumerate(layers):
        if not isinstance(l, cls):
            raise DTypeError(f"layers[{i}]: expected a {cls.__name__}, got {type(l).__name__}")
        for a in same:
            if getattr(l, a) != getattr(layers[0], a):
                w = getattr(l, "W", getattr(l, "K", None))
                raise ShapeError(f"layers[{i}]: {a} = {getattr(l, a)} differs from layers[0] ({getattr(layers[0], a)})"
                                 + ("" if w is None else f", weight shape {np.shape(w)}"))
    return layers


def _psd_factor(S: np.ndarray) -> np.ndarray:
    """V with VᵀV = S (S symmetric PSD up to rounding): eigh with negative eigenvalues clipped."""
    w, Q = np.linalg.eigh(0.5 * (S + S.T))
    return (np.sqrt(np.maximum(w, 0.0))[:, None] * Q.T)


#: The proved upper bound on ‖A‖₂ (Jordan–Wielandt + verified Cholesky): one home,
#: :func:`deqtheory.linalg.norm2_upper_bound`.
norm2_upper = norm2_upper_bound


# --------------------------------------------------------------------------- SLL / CPL


def sll_T(W: Any, q: Any = None) -> np.ndarray:
    r"""SLL diagonal of havens2023 eq. (9): :math:`T_i = \sum_j |W^\top W|_{ij}\, q_j / q_i`.

    ``W`` is (d, k) (the layer applies :math:`W^\top` to the state), ``q`` a positive (k,) vector
    (default ones). Returns the (k,) diagonal. By the scaled Gershgorin argument
    (:math:`Q(T - W^\top W)Q` is diagonally dominant with :math:`Q = \mathrm{diag}(q)`),
    :math:`W^\top W \preceq T` in exact arithmetic. A zero column of ``W`` gives :math:`T_i = 0`,
    which :class:`ResidualLayer` rejects (``T`` must be invertible).
    """
    W = as_matrix("W", W)
    k = W.shape[1]
    q = np.ones(k) if q is None else as_positive_diagonal("q", q, n=k)
    A = np.abs(W.T @ W)
    return (A @ q) / q


def cpl_T(W: Any) -> np.ndarray:
    r"""CPL diagonal :math:`T = \|W\|_2^2 I` (havens2023 §2.4), as a (k,) vector.

    Uses :func:`norm2_upper`, so :math:`W^\top W \preceq T` is *proved* (``T`` exceeds
    :math:`\|W\|_2^2` by a relative ~1e-12 at most)."""
    W = as_matrix("W", W)
    nrm = norm2_upper(W)
    if nrm == 0.0:
        raise DomainError(f"W: CPL needs a nonzero weight (T = ||W||^2 I must be invertible), shape {W.shape}")
    return np.full(W.shape[1], nrm * nrm * (1 + 2 * _U))


def _tw_tolerance(W: np.ndarray, T: np.ndarray) -> float:
    k = W.shape[1]
    return 64 * (k + 1) * _U * max(float(np.max(T)), float(np.sum(W * W)), 1e-300)


def _cholesky_loss(W: np.ndarray, T: np.ndarray, abs_err: float) -> float:
    """What the verified PD test can lose on T − WᵀW (2γ-type trace term of :mod:`deqtheory.verified`
    plus the forming error): a proved margin above −(tolerance + this) is consistent with exact PSD."""
    k = W.shape[1]
    return 2.0 * abs_err + 4.0 * (k + 2) * _U * (float(np.sum(T)) + float(np.sum(W * W)))


@dataclasses.dataclass(frozen=True)
class ResidualLayer:
    r"""One residual Lipschitz layer :math:`x \mapsto x - 2WT^{-1}\sigma(W^\top x + b)`.

    Fields: ``W`` (d, k), ``T`` (k,) positive diagonal, ``b`` (k,), ``kind`` (``"sll"``,
    ``"cpl"`` or ``"custom"``). Construction checks :math:`W^\top W \preceq T` up to a rounding
    tolerance :math:`64(k+1)u\max(\max T, \|W\|_F^2)` (estimated λ_min; :class:`DomainError`
    otherwise); :meth:`tw_certificate` gives the *proved* λ_min lower bound.
    """

    W: np.ndarray
    T: np.ndarray
    b: Optional[np.ndarray] = None
    kind: str = "custom"

    def __post_init__(self) -> None:
        W = as_matrix("W", self.W)
        k = W.shape[1]
        T = as_positive_diagonal("T", self.T, n=k)
        b = np.zeros(k) if self.b is None else as_vector("b", self.b, n=k)
        object.__setattr__(self, "W", W)
        object.__setattr__(self, "T", T)
        object.__setattr__(self, "b", b)
        lam = float(np.linalg.eigvalsh(np.diag(T) - W.T @ W)[0])
        if lam < -_tw_tolerance(W, T):
            raise DomainError(f"T: W^T W is not <= diag(T) (lambda_min(T - W^T W) ~ {lam:.3g}; "
                              f"W shape {W.shape}); the layer would not be 1-Lipschitz")

    @property
    def d(self) -> int:
        return self.W.shape[0]

    @property
    def k(self) -> int:
        return self.W.shape[1]

    def hidden(self, X: np.ndarray) -> np.ndarray:
        r""":math:`\sigma(W^\top x + b)` for a batch (rows)."""
        return _relu(X @ self.W + self.b)

    def __call__(self, X: Any) -> np.ndarray:
        Xb, one = _as_batch("X", X, self.d)
        Y = Xb - 2.0 * (self.hidden(Xb) / self.T) @ self.W.T
        return Y[0] if one else Y

    def tw_certificate(self) -> Certificate:
        r"""Certificate ``"residual_tw"``: margin = proved lower bound on :math:`\lambda_{\min}(T - W^\top W)`.

        CERTIFIED iff that bound is > 0 (strict); the layer is 1-Lipschitz iff the exact value is
        ≥ 0, so a slightly negative proved bound (≥ −tolerance, stored in ``tolerance``) is
        INCONCLUSIVE, not REFUTED."""
        return _tw_cert(self.W, self.T)


def _tw_cert(W: np.ndarray, T: np.ndarray) -> Certificate:
    WtW = W.T @ W
    S = np.diag(T) - WtW
    err = product_error_bound(W.T, W) + sum_error_bound(np.diag(T), WtW)
    c = verified_pd(S, abs_err=err, name="T - W^T W")
    return Certificate("residual_tw", c.status, margin=c.margin, witness={"T": T},
                       tolerance={"abs_err": err, "nonstrict_tolerance": _tw_tolerance(W, T) + _cholesky_loss(W, T, err)},
                       stats=dict(c.stats), message=c.message)


@register_verifier("residual_tw")
def _verify_tw(cert: Certificate, *, W: Any) -> Certificate:
    W = as_matrix("W", W)
    T = as_positive_diagonal("T", cert.witness["T"], n=W.shape[1])
    return _tw_cert(W, T)


def sll_layer(W: Any, q: Any = None, b: Any = None) -> ResidualLayer:
    """SLL layer with ``T = sll_T(W, q)`` (havens2023 eq. 9)."""
    return ResidualLayer(W, sll_T(W, q), b, kind="sll")


def cpl_layer(W: Any, b: Any = None) -> ResidualLayer:
    """CPL layer with ``T = ‖W‖₂² I`` (proved upper bound, :func:`cpl_T`)."""
    return ResidualLayer(W, cpl_T(W), b, kind="cpl")


@dataclasses.dataclass(frozen=True)
class ResidualStack:
    r"""SLL/CPL residual network :math:`y = x_N`, :math:`x_{n+1} = x_n - 2W_nT_n^{-1}\sigma(W_n^\top x_n + b_n)`.

    ``layers`` is a non-empty tuple of :class:`ResidualLayer` sharing the state dimension ``d``.
    Prescribed Lipschitz constant 1 (havens2023 §2.4, [2] Thm 3).
    """

    layers: Tuple[ResidualLayer, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "layers", layer_tuple(self.layers, ResidualLayer, ("d",)))

    @property
    def d(self) -> int:
        return self.layers[0].d

    @property
    def depth(self) -> int:
        return len(self.layers)

    def lipschitz_bound(self) -> float:
        """The prescribed constant, 1."""
        return 1.0

    def __call__(self, X: Any) -> np.ndarray:
        Xb, one = _as_batch("X", X, self.d)
        for l in self.layers:
            Xb = l(Xb)
        return Xb[0] if one else Xb


# --------------------------------------------------------------------------- AOL


def aol_scaling(W_tilde: Any) -> np.ndarray:
    r"""AOL rescaling (havens2023 eq. 8): :math:`D_{ii} = (\sum_j |\tilde W^\top\tilde W|_{ij})^{-1/2}`,
    with :math:`D_{ii} = 0` where the sum is 0 (footnote 2). Returns the (in,) diagonal."""
    Wt = as_matrix("W_tilde", W_tilde)
    s = np.abs(Wt.T @ Wt).sum(axis=1)
    out = np.zeros_like(s)
    pos = s > 0
    out[pos] = 1.0 / np.sqrt(s[pos])
    return out


def aol_weight(W_tilde: Any) -> np.ndarray:
    r"""The AOL weight :math:`W = \tilde W D` (:math:`\|W\|_2 \le 1` in exact arithmetic)."""
    Wt = as_matrix("W_tilde", W_tilde)
    return Wt * aol_scaling(Wt)[None, :]


@dataclasses.dataclass(frozen=True)
class AOLNet:
    r"""AOL network (havens2023 App. D.1): :math:`x_0 = x`, :math:`x_{j+1} = \sigma(\tilde W_jD_jx_j + b_j)`
    (j < l), :math:`f(x) = \tilde W_lD_lx_l + b_l`.

    ``weights`` = the free :math:`\tilde W_j` (out_j, in_j), j = 0..l-1 (l ≥ 1); ``biases`` matching;
    ``out_weight`` = :math:`\tilde W_l`, ``out_bias`` = :math:`b_l`. Prescribed Lipschitz constant 1.
    """

    weights: Tuple[np.ndarray, ...]
    biases: Tuple[np.ndarray, ...]
    out_weight: np.ndarray
    out_bias: Optional[np.ndarray] = None

    def __post_init__(self) -> None:
        ws = _seq("weights", self.weights)
        bs = _seq("biases", self.biases)
        if not ws:
            raise ShapeError("weights: need at least one hidden layer, got 0")
        if len(bs) != len(ws):
            raise ShapeError(f"biases: expected {len(ws)} vectors, got {len(bs)}")
        W2 = [as_matrix(f"weights[{i}]", w) for i, w in enumerate(ws)]
        for i in range(1, len(W2)):
            if W2[i].shape[1] != W2[i - 1].shape[0]:
                raise ShapeError(f"weights[{i}]: expected {W2[i-1].shape[0]} columns, got shape {W2[i].shape}")
        b2 = [as_vector(f"biases[{i}]", b, n=W2[i].shape[0]) for i, b in enumerate(bs)]
        Wo = as_matrix("out_weight", self.out_weight, shape=(None, W2[-1].shape[0]))
        bo = np.zeros(Wo.shape[0]) if self.out_bias is None else as_vector("out_bias", self.out_bias, n=Wo.shape[0])
        object.__setattr__(self, "weights", tuple(W2))
        object.__setattr__(self, "biases", tuple(b2))
        object.__setattr__(self, "out_weight", Wo)
        object.__setattr__(self, "out_bias", bo)

    @property
    def d(self) -> int:
        return self.weights[0].shape[1]

    @property
    def effective_weights(self) -> Tuple[np.ndarray, ...]:
        """:math:`(\\tilde W_0D_0, ..., \\tilde W_lD_l)` (the last one is the output layer)."""
        return tuple(aol_weight(w) for w in self.weights) + (aol_weight(self.out_weight),)

    def lipschitz_bound(self) -> float:
        return 1.0

    def __call__(self, X: Any) -> np.ndarray:
        Xb, one = _as_batch("X", X, self.d)
        eff = self.effective_weights
        for Wj, bj in zip(eff[:-1], self.biases):
            Xb = _relu(Xb @ Wj.T + bj)
        Y = Xb @ eff[-1].T + self.out_bias
        return Y[0] if one else Y


# --------------------------------------------------------------------------- Sandwich


def cayley_stiefel(X: Any, Y: Any) -> Tuple[np.ndarray, np.ndarray]:
    r"""Generalized Cayley transform giving :math:`[A\ B]` with :math:`AA^\top + BB^\top = I_p`.

    ``X`` (p, p) and ``Y`` (m, p) are free. With :math:`Z = X - X^\top + Y^\top Y` (so
    :math:`\mathrm{sym}(I+Z) = I + Y^\top Y \succ 0` and :math:`I + Z` is invertible),

    .. math:: Q = \begin{bmatrix}(I+Z)^{-1}(I-Z)\\ -2Y(I+Z)^{-1}\end{bmatrix}\in\mathbb R^{(p+m)\times p},
              \qquad Q^\top Q = I_p,

    (Wang & Manchester 2023, the convention of havens2023 §2.4: :math:`[A\ B]^\top` semi-orthogonal)
    and we return :math:`A = ((I+Z)^{-1}(I-Z))^\top` (p, p) and :math:`B = (-2Y(I+Z)^{-1})^\top`
    (p, m), i.e. :math:`[A\ B] = Q^\top`. In a Sandwich layer, ``B`` reads the m-dimensional input
    and :math:`A^\top` writes the p-dimensional output.
    """
    X = as_square("X", X)
    p = X.shape[0]
    Y = as_matrix("Y", Y, shape=(None, p))
    Z = X - X.T + Y.T @ Y
    I = np.eye(p)
    IZ = I + Z
    top = np.linalg.solve(IZ, I - Z)
    bot = -2.0 * np.linalg.solve(IZ.T, Y.T).T  # Y (I+Z)^{-1}
    return top.T, bot.T


@dataclasses.dataclass(frozen=True)
class SandwichNet:
    r"""Sandwich network (havens2023 §2.4 / App. D.2) with prescribed Lipschitz constant ``L``.

    Layer n (n = 0..N-1, N ≥ 1): ``B[n]`` (p_n, d_n), ``A[n]`` (p_n, d_{n+1}), ``phi[n]`` (p_n,)
    positive, ``b[n]`` (p_n,):
    :math:`x_{n+1} = \sqrt2 A_n^\top\Phi_n\sigma(\sqrt2\Phi_n^{-1}B_nx_n + b_n)`; input
    :math:`x_0 = \sqrt Lx`, output :math:`y = \sqrt L B_{\rm out}x_N + b_{\rm out}`.

    Constraints checked at construction (up to ``64(p+d)u``, :class:`DomainError` otherwise):
    :math:`A_nA_n^\top + B_nB_n^\top \preceq I` and :math:`\|B_{\rm out}\|_2 \le 1`. The paper prints
    :math:`A_nA_n^\top + B_nB_n^\top = I` and :math:`B_N^\top B_N = I`; the latter is impossible when
    the output is narrower than :math:`x_N` — what the Lipschitz proof uses is :math:`\|B_N\|_2 \le 1`
    (e.g. :math:`B_NB_N^\top = I` from :func:`cayley_stiefel`). ``phi`` must be *positive* (the paper
    says non-negative, but :math:`\Phi_n^{-1}` appears).
    """

    A: Tuple[np.ndarray, ...]
    B: Tuple[np.ndarray, ...]
    phi: Tuple[np.ndarray, ...]
    b: Tuple[np.ndarray, ...]
    B_out: np.ndarray
    b_out: Optional[np.ndarray] = None
    L: float = 1.0

    def __post_init__(self) -> None:
        As, Bs, ps, bs = (_seq(n, v) for n, v in (("A", self.A), ("B", self.B), ("phi", self.phi), ("b", self.b)))
        N = len(Bs)
        if N == 0:
            raise ShapeError("B: need at least one Sandwich layer, got 0")
        for name, v in (("A", As), ("phi", ps), ("b", bs)):
            if len(v) != N:
                raise ShapeError(f"{name}: expected {N} entries (one per layer), got {len(v)}")
        L = as_scalar("L", self.L, positive=True)
        A2, B2, p2, b2 = [], [], [], []
        d_in = None
        for n in range(N):
            Bn = as_matrix(f"B[{n}]", Bs[n], shape=(None, d_in))
            pn = Bn.shape[0]
            An = as_matrix(f"A[{n}]", As[n], shape=(pn, None))
            phn = as_positive_diagonal(f"phi[{n}]", ps[n], n=pn)
            bn = as_vector(f"b[{n}]", bs[n], n=pn)
            AB = np.hstack([An, Bn])
            lam = float(np.linalg.eigvalsh(AB @ AB.T)[-1])
            if lam > 1 + 64 * (AB.shape[0] + AB.shape[1]) * _U:
                raise DomainError(f"A[{n}], B[{n}]: A A^T + B B^T is not <= I (largest eigenvalue {lam:.6g}; "
                                  f"shapes {An.shape}, {Bn.shape})")
            A2.append(An); B2.append(Bn); p2.append(phn); b2.append(bn)
            d_in = An.shape[1]
        Bo = as_matrix("B_out", self.B_out, shape=(None, d_in))
        nb = float(np.linalg.norm(Bo, 2))
        if nb > 1 + 64 * sum(Bo.shape) * _U:
            raise DomainError(f"B_out: ||B_out||_2 = {nb:.6g} > 1 (shape {Bo.shape})")
        bo = np.zeros(Bo.shape[0]) if self.b_out is None else as_vector("b_out", self.b_out, n=Bo.shape[0])
        for name, val in (("A", tuple(A2)), ("B", tuple(B2)), ("phi", tuple(p2)), ("b", tuple(b2)),
                          ("B_out", Bo), ("b_out", bo), ("L", L)):
            object.__setattr__(self, name, val)

    @property
    def d(self) -> int:
        return self.B[0].shape[1]

    @property
    def depth(self) -> int:
        return len(self.B)

    def lipschitz_bound(self) -> float:
        """The prescribed constant ``L``."""
        return float(self.L)

    def __call__(self, X: Any) -> np.ndarray:
        Xb, one = _as_batch("X", X, self.d)
        s2 = math.sqrt(2.0)
        x = math.sqrt(self.L) * Xb
        for An, Bn, pn, bn in zip(self.A, self.B, self.phi, self.b):
            h = _relu(s2 * (x @ Bn.T) / pn + bn)
            x = s2 * (h * pn) @ An
        Y = math.sqrt(self.L) * (x @ self.B_out.T) + self.b_out
        return Y[0] if one else Y


# --------------------------------------------------------------------------- plain ReLU nets


@dataclasses.dataclass(frozen=True)
class ReLUNet:
    r"""Plain explicit ReLU net (wei2022 eq. 3.10): :math:`z_L(x) = \sigma(A_L\sigma(\cdots\sigma(A_1x + b_1)\cdots) + b_L)`.

    ``weights[i]`` is :math:`A_{i+1}` (h_{i+1}, h_i) (widths may differ; the paper uses h for all);
    ``biases`` optional (the paper has none). :meth:`lipschitz_bound` is the proved product
    :math:`\prod_i\|A_i\|_2` (upper bound, never below the truth)."""

    weights: Tuple[np.ndarray, ...]
    biases: Optional[Tuple[np.ndarray, ...]] = None

    def __post_init__(self) -> None:
        ws = _seq("weights", self.weights)
        if not ws:
            raise ShapeError("weights: need at least one layer, got 0")
        W2 = [as_matrix(f"weights[{i}]", w) for i, w in enumerate(ws)]
        for i in range(1, len(W2)):
            if W2[i].shape[1] != W2[i - 1].shape[0]:
                raise ShapeError(f"weights[{i}]: expected {W2[i-1].shape[0]} columns, got shape {W2[i].shape}")
        if self.biases is None:
            b2 = [np.zeros(w.shape[0]) for w in W2]
        else:
            bs = _seq("biases", self.biases)
            if len(bs) != len(W2):
                raise ShapeError(f"biases: expected {len(W2)} vectors, got {len(bs)}")
            b2 = [as_vector(f"biases[{i}]", b, n=W2[i].shape[0]) for i, b in enumerate(bs)]
        object.__setattr__(self, "weights", tuple(W2))
        object.__setattr__(self, "biases", tuple(b2))

    @property
    def d(self) -> int:
        return self.weights[0].shape[1]

    def lipschitz_bound(self) -> float:
        out = 1.0
        for w in self.weights:
            out *= norm2_upper(w)
        return out * (1 + gamma(len(self.weights) + 1))

    def __call__(self, X: Any) -> np.ndarray:
        Xb, one = _as_batch("X", X, self.d)
        for w, b in zip(self.weights, self.biases):
            Xb = _relu(Xb @ w.T + b)
        return Xb[0] if one else Xb


# --------------------------------------------------------------------------- DEQ form


@dataclasses.dataclass(frozen=True)
class DEQForm:
    r"""Exact DEQ form :math:`z = \phi(Wz + Ux + b)`, :math:`y = Gz + b_y` of an explicit net.

    ``W`` (n, n) strictly block lower triangular w.r.t. ``blocks`` (a tuple of (start, stop)
    covering 0..n in order), ``U`` (n, d), ``b`` (n,), ``G`` (p, n), ``b_y`` (p,),
    ``identity_mask`` (n,) bool — :math:`\phi_i` is the identity where True, ReLU elsewhere
    (constant on each block). ``lam`` (n,) is the paper's analytic Λ (or None) for which LMI (10)
    holds with constant ``L``; ``source`` names the construction.
    """

    W: np.ndarray
    U: np.ndarray
    b: np.ndarray
    G: np.ndarray
    b_y: np.ndarray
    identity_mask: np.ndarray
    blocks: Tuple[Tuple[int, int], ...]
    lam: Optional[np.ndarray] = None
    L: Optional[float] = None
    source: str = ""

    def __post_init__(self) -> None:
        W = as_square("W", self.W)
        n = W.shape[0]
        U = as_matrix("U", self.U, shape=(n, None))
        b = as_vector("b", self.b, n=n)
        G = as_matrix("G", self.G, shape=(None, n))
        b_y = as_vector("b_y", self.b_y, n=G.shape[0])
        mask = np.asarray(self.identity_mask)
        if mask.dtype != bool or mask.shape != (n,):
            raise ShapeError(f"identity_mask: expected a bool vector of shape ({n},), got {mask.dtype} {mask.shape}")
        blocks = tuple((int(s), int(e)) for s, e in self.blocks)
        pos = 0
        for s, e in blocks:
            if s != pos or e <= s:
                raise ShapeError(f"blocks: must tile 0..{n} in order with non-empty blocks, got {blocks}")
            pos = e
            if np.any(W[s:e, s:] != 0):
                raise DomainError(f"W: not strictly block lower triangular (block rows {s}:{e}), shape {W.shape}")
            if np.any(mask[s:e] != mask[s]):
                raise ShapeError(f"identity_mask: not constant on block {s}:{e}")
        if pos != n:
            raise ShapeError(f"blocks: must tile 0..{n}, got {blocks}")
        lam = None if self.lam is None else as_positive_diagonal("lam", self.lam, n=n)
        L = None if self.L is None else as_scalar("L", self.L, positive=True)
        for name, val in (("W", W), ("U", U), ("b", b), ("G", G), ("b_y", b_y), ("identity_mask", mask.copy()),
                          ("blocks", blocks), ("lam", lam), ("L", L)):
            object.__setattr__(self, name, val)

    @property
    def n(self) -> int:
        return self.W.shape[0]

    @property
    def d(self) -> int:
        return self.U.shape[1]

    @property
    def p(self) -> int:
        return self.G.shape[0]


def deqform_forward(form: DEQForm, X: Any, *, return_z: bool = False):
    r"""Evaluate the DEQ form exactly by block forward substitution.

    Since ``W`` is strictly block lower triangular, the unique fixed point is obtained block by
    block: :math:`z_k = \phi_k(\sum_{j<k}W_{kj}z_j + U_kx + b_k)`. Returns ``Y`` (batch, p) (and
    ``Z`` (batch, n) when ``return_z``); a 1-d ``X`` gives 1-d results."""
    if not isinstance(form, DEQForm):
        raise DTypeError(f"form: expected a DEQForm, got {type(form).__name__}")
    Xb, one = _as_batch("X", X, form.d)
    Z = np.zeros((Xb.shape[0], form.n))
    V = Xb @ form.U.T + form.b
    for s, e in form.blocks:
        pre = V[:, s:e] + Z[:, :s] @ form.W[s:e, :s].T
        Z[:, s:e] = pre if form.identity_mask[s] else _relu(pre)
    Y = Z @ form.G.T + form.b_y
    if one:
        Y, Z = Y[0], Z[0]
    return (Y, Z) if return_z else Y


def deqform_jacobian(form: DEQForm, x: Any) -> np.ndarray:
    r"""Jacobian :math:`\partial y/\partial x = G(I - DW)^{-1}DU` at one input ``x`` (d,), with
    :math:`D = \mathrm{diag}(\phi'(v))` (ReLU derivative 1 on v > 0, 0 otherwise; identity 1) —
    exact wherever no pre-activation is exactly 0."""
    xv = as_vector("x", x, n=form.d)
    _, z = deqform_forward(form, xv, return_z=True)
    v = form.W @ z + form.U @ xv + form.b
    D = np.where(form.identity_mask, 1.0, (v > 0).astype(float))
    M = np.eye(form.n) - D[:, None] * form.W
    return form.G @ np.linalg.solve(M, D[:, None] * form.U)


def _blocks_from_sizes(sizes: Sequence[int]) -> Tuple[Tuple[int, int], ...]:
    out, s = [], 0
    for k in sizes:
        out.append((s, s + int(k)))
        s += int(k)
    return tuple(out)


def sll_to_deq(stack: ResidualStack) -> DEQForm:
    r"""SLL/CPL stack as a DEQ (havens2023 eqs. 13–15, Thm 3.5).

    :math:`z = [\tilde x_0; \tilde x_1; \dots; \tilde x_N]` with :math:`\tilde x_0 = x` (identity
    activation) and :math:`\tilde x_{n+1} = \sigma(W_n^\top x_n + b_n)`,
    :math:`x_n = \tilde x_0 - \sum_{k<n}2W_kT_k^{-1}\tilde x_{k+1}` (eq. 13). Hence (eq. 14) block
    row n+1 of ``W`` is :math:`[W_n^\top,\ -2W_n^\top W_0T_0^{-1},\ \dots,\ -2W_n^\top W_{n-1}T_{n-1}^{-1},\ 0, \dots]`
    (all previous layers, as printed), :math:`U = [I; 0; \dots]`,
    :math:`G = [I, -2W_0T_0^{-1}, \dots, -2W_{N-1}T_{N-1}^{-1}]`, :math:`b = [0; b_0; \dots]`,
    :math:`b_y = 0`, and :math:`\Lambda = \mathrm{blkdiag}(I, 2T_0^{-1}, \dots, 2T_{N-1}^{-1})` (eq. 15),
    ``L = 1``.
    """
    if not isinstance(stack, ResidualStack):
        raise DTypeError(f"stack: expected a ResidualStack, got {type(stack).__name__}")
    d = stack.d
    sizes = [d] + [l.k for l in stack.layers]
    blocks = _blocks_from_sizes(sizes)
    n = blocks[-1][1]
    W = np.zeros((n, n))
    U = np.zeros((n, d))
    U[:d] = np.eye(d)
    b = np.zeros(n)
    G = np.zeros((d, n))
    G[:, :d] = np.eye(d)
    lam = np.ones(n)
    # -2 W_k T_k^{-1}: the map from x~_{k+1} to the state
    P = [-2.0 * l.W / l.T[None, :] for l in stack.layers]
    for i, l in enumerate(stack.layers):
        s, e = blocks[i + 1]
        W[s:e, :d] = l.W.T
        for k in range(i):
            sk, ek = blocks[k + 1]
            W[s:e, sk:ek] = l.W.T @ P[k]
        b[s:e] = l.b
        G[:, s:e] = P[i]
        lam[s:e] = 2.0 / l.T
    mask = np.zeros(n, dtype=bool)
    mask[:d] = True
    return DEQForm(W, U, b, G, np.zeros(d), mask, blocks, lam=lam, L=1.0, source="sll")


def feedforward_to_deq(weights: Sequence[Any], biases: Sequence[Any], G_last: Any = None, b_y: Any = None,
                       *, lam: Any = None, L: Optional[float] = None, source: str = "feedforward") -> DEQForm:
    r"""Generic ReLU feed-forward chain :math:`z_1 = \sigma(M_1x + b_1)`, :math:`z_k = \sigma(M_kz_{k-1} + b_k)`
    as a DEQ with block-subdiagonal ``W`` (:math:`W_{k,k-1} = M_k`), :math:`U = [M_1; 0; \dots]`,
    :math:`G = [0, \dots, G_{\rm last}]` (default: the identity on the last block, i.e. :math:`y = z_l`)."""
    Ms = [as_matrix(f"weights[{i}]", w) for i, w in enumerate(_seq("weights", weights))]
    bs = [as_vector(f"biases[{i}]", v, n=Ms[i].shape[0]) for i, v in enumerate(_seq("biases", biases))]
    if not Ms or len(bs) != len(Ms):
        raise ShapeError(f"weights/biases: need equally many (>= 1), got {len(Ms)} and {len(bs)}")
    sizes = [m.shape[0] for m in Ms]
    blocks = _blocks_from_sizes(sizes)
    n = blocks[-1][1]
    W = np.zeros((n, n))
    U = np.zeros((n, Ms[0].shape[1]))
    U[: sizes[0]] = Ms[0]
    for k in range(1, len(Ms)):
        s, e = blocks[k]
        sp, ep = blocks[k - 1]
        if Ms[k].shape[1] != ep - sp:
            raise ShapeError(f"weights[{k}]: expected {ep - sp} columns, got shape {Ms[k].shape}")
        W[s:e, sp:ep] = Ms[k]
    Gl = np.eye(sizes[-1]) if G_last is None else as_matrix("G_last", G_last, shape=(None, sizes[-1]))
    G = np.zeros((Gl.shape[0], n))
    G[:, blocks[-1][0]:] = Gl
    by = np.zeros(Gl.shape[0]) if b_y is None else as_vector("b_y", b_y, n=Gl.shape[0])
    return DEQForm(W, U, np.concatenate(bs), G, by, np.zeros(n, dtype=bool), blocks, lam=lam, L=L,
                   source=source)


def aol_to_deq(net: AOLNet) -> DEQForm:
    r"""AOL net as a DEQ (havens2023 App. D.1): :math:`z = [x_1; \dots; x_l]`,
    :math:`W_{k,k-1} = \tilde W_kD_k`, :math:`U = [\tilde W_0D_0; 0; \dots]`,
    :math:`G = [0, \dots, \tilde W_lD_l]`, :math:`b_y = b_l`; :math:`\Lambda = I`, ``L = 1``."""
    if not isinstance(net, AOLNet):
        raise DTypeError(f"net: expected an AOLNet, got {type(net).__name__}")
    eff = net.effective_weights
    n = sum(w.shape[0] for w in eff[:-1])
    return feedforward_to_deq(eff[:-1], net.biases, eff[-1], net.out_bias, lam=np.ones(n), L=1.0, source="aol")


def sandwich_to_deq(net: SandwichNet) -> DEQForm:
    r"""Sandwich net as a DEQ (havens2023 App. D.2, eq. 22).

    :math:`z = [y_1; \dots; y_N]` with :math:`y_{n+1} = \sigma(\sqrt2\Phi_n^{-1}B_nx_n + b_n)` (so
    :math:`x_{n+1} = \sqrt2A_n^\top\Phi_ny_{n+1}`); :math:`W_{n,n-1} = 2\Phi_n^{-1}B_nA_{n-1}^\top\Phi_{n-1}`,
    :math:`U = [\sqrt{2L}\Phi_0^{-1}B_0; 0; \dots]`, :math:`b = [b_0; \dots; b_{N-1}]`,
    :math:`G = [0, \dots, \sqrt{2L}B_{\rm out}A_{N-1}^\top\Phi_{N-1}]`, :math:`b_y = b_{\rm out}`;
    :math:`\Lambda = \mathrm{diag}(\Phi_0^2, \dots, \Phi_{N-1}^2)`, constant ``L``."""
    if not isinstance(net, SandwichNet):
        raise DTypeError(f"net: expected a SandwichNet, got {type(net).__name__}")
    L = net.L
    Ms = [math.sqrt(2 * L) * net.B[0] / net.phi[0][:, None]]
    for n in range(1, net.depth):
        Ms.append(2.0 * ((net.B[n] / net.phi[n][:, None]) @ (net.A[n - 1].T * net.phi[n - 1][None, :])))
    Gl = math.sqrt(2 * L) * net.B_out @ (net.A[-1].T * net.phi[-1][None, :])
    lam = np.concatenate([p * p for p in net.phi])
    return feedforward_to_deq(Ms, net.b, Gl, net.b_out, lam=lam, L=L, source="sandwich")


def sandwich_analytic_V(net: SandwichNet) -> np.ndarray:
    r"""A factor :math:`V` with :math:`V^\top V = \tfrac12(M + M^\top)` for the Sandwich embedding
    (havens2023 App. D.2, eq. 23 **as corrected**).

    Block row n (n = 0..N-2): :math:`[\dots, A_n^\top\Phi_n, -B_{n+1}^\top\Phi_{n+1}, \dots]` in block
    columns (n, n+1); last block row: :math:`(I - B_{\rm out}^\top B_{\rm out})^{1/2}A_{N-1}^\top\Phi_{N-1}`
    in block column N-1. (Printed eq. 23 has ``+B_{n+1}^\top\Phi_{n+1}`` and a last row
    ``[A_{N-1}^\top\Phi_{N-1}, B_N^\top\Phi_N]`` referring to a non-existent block; its Gram matrix
    differs from ½(M + Mᵀ).) Rows are the intermediate states :math:`x_1, \dots, x_N`."""
    if not isinstance(net, SandwichNet):
        raise DTypeError(f"net: expected a SandwichNet, got {type(net).__name__}")
    N = net.depth
    sizes = [B.shape[0] for B in net.B]
    cols = _blocks_from_sizes(sizes)
    rows_sizes = [A.shape[1] for A in net.A]  # d_1..d_N
    rows = _blocks_from_sizes(rows_sizes)
    V = np.zeros((rows[-1][1], cols[-1][1]))
    for k in range(N):
        rs, re = rows[k]
        cs, ce = cols[k]
        Ak = net.A[k].T * net.phi[k][None, :]
        if k < N - 1:
            V[rs:re, cs:ce] = Ak
            cs2, ce2 = cols[k + 1]
            V[rs:re, cs2:ce2] = -(net.B[k + 1].T * net.phi[k + 1][None, :])
        else:
            R = _psd_factor(np.eye(net.B_out.shape[1]) - net.B_out.T @ net.B_out)
            V[rs:re, cs:ce] = R @ Ak
    return V


# --------------------------------------------------------------------------- wei2022 Prop 3.7


@dataclasses.dataclass(frozen=True)
class IBPEmbedding:
    r"""wei2022 Prop. 3.7 embedding of a :class:`ReLUNet` into the (3.7) parametrization.

    ``form``: the DEQ (W = M block-subdiagonal, ``U`` = the paper's ``B`` = [A_1; 0; …], G selects
    the last block); ``M`` (= W); ``D`` and ``Gamma`` (n,) diagonals, constant :math:`\beta_i`,
    :math:`\gamma_i` on block i (eqs. A.10, A.12); ``betas``, ``gammas`` per block;
    ``required`` the lower bounds :math:`\max_j((|A_i|\mathbf 1 + |A_{i+1}|^\top\mathbf 1)_j)/2` that
    each :math:`\beta_i` must strictly exceed. Then :math:`W = \Gamma D^{-1/2}MD^{-1/2}\Gamma^{-1}`
    and :math:`\Lambda = \Gamma^{-2}` satisfies :math:`\Lambda - \Lambda|W| \succ 0` (Thm 3.3)."""

    form: DEQForm
    M: np.ndarray
    D: np.ndarray
    Gamma: np.ndarray
    betas: np.ndarray
    gammas: np.ndarray
    required: np.ndarray


def relu_net_to_ibp_deq(net: ReLUNet, *, slack: float = 2.0) -> IBPEmbedding:
    r"""wei2022 Prop. 3.7 (proof in App. A): embed :math:`z_L(x)` as the last block of
    :math:`z^\star = \sigma(Wz^\star + Bx + b)` with W in the (3.7) parametrization and W = M.

    :math:`\beta_i = \text{slack}\cdot r_i` (or 1 when :math:`r_i = 0`) with
    :math:`r_1 = \max_j(|A_2|^\top\mathbf 1)_j/2`, :math:`r_L = \max_j(|A_L|\mathbf 1)_j/2`,
    :math:`r_i = \max_j((|A_i|\mathbf 1 + |A_{i+1}|^\top\mathbf 1)_j)/2` (A.12 ff.; for varying widths the
    max runs over the block's own coordinates); :math:`\gamma_1 = 1`,
    :math:`\gamma_i = \gamma_{i-1}\sqrt{\beta_i\beta_{i-1}}` so that
    :math:`\gamma_i\beta_i^{-1/2}\beta_{i-1}^{-1/2}\gamma_{i-1}^{-1} = 1` (the proof prints
    :math:`\beta_{i-1}^{-1}`; the exponent must be −1/2 for the block (A.13) to equal :math:`A_i`).
    """
    if not isinstance(net, ReLUNet):
        raise DTypeError(f"net: expected a ReLUNet, got {type(net).__name__}")
    slack = as_scalar("slack", slack, positive=True)
    if not slack > 1:
        raise DomainError(f"slack: must be > 1 (beta_i > r_i strictly), got {slack}")
    As = net.weights
    Lyr = len(As)
    form = feedforward_to_deq(As, net.biases, source="wei2022:prop3.7")
    req = np.zeros(Lyr)
    for i in range(Lyr):
        h = As[i].shape[0]
        s = np.zeros(h)
        if i > 0:
            s += np.abs(As[i]).sum(axis=1)           # |A_i| 1 (row sums of block row i)
        if i < Lyr - 1:
            s += np.abs(As[i + 1]).sum(axis=0)       # |A_{i+1}|^T 1 (column sums of block column i)
        req[i] = float(np.max(s)) / 2.0
    betas = np.where(req > 0, slack * req, 1.0)
    gammas = np.ones(Lyr)
    for i in range(1, Lyr):
        gammas[i] = gammas[i - 1] * math.sqrt(betas[i] * betas[i - 1])
    D = np.concatenate([np.full(e - s, betas[i]) for i, (s, e) in enumerate(form.blocks)])
    Gam = np.concatenate([np.full(e - s, gammas[i]) for i, (s, e) in enumerate(form.blocks)])
    return IBPEmbedding(form=form, M=form.W.copy(), D=D, Gamma=Gam, betas=betas, gammas=gammas, required=req)


# --------------------------------------------------------------------------- LMI (10) and LBEN


def lmi10_matrix(form: DEQForm, lam: Any = None, L: Any = None) -> Tuple[np.ndarray, float]:
    r"""The left side of havens2023 (10),
    :math:`2\Lambda - \Lambda W - W^\top\Lambda - \tfrac1LG^\top G - \tfrac1L\Lambda UU^\top\Lambda`,
    and a bound on the rounding error of forming it (2-norm). ``lam``/``L`` default to the form's
    analytic ones."""
    if not isinstance(form, DEQForm):
        raise DTypeError(f"form: expected a DEQForm, got {type(form).__name__}")
    lam = form.lam if lam is None else lam
    L = form.L if L is None else L
    if lam is None or L is None:
        raise DomainError("lam/L: the form carries no analytic multiplier; pass lam and L")
    lam = as_positive_diagonal("lam", lam, n=form.n)
    L = as_scalar("L", L, positive=True)
    from .sdp.lmi import lipschitz_lmi_matrix

    return lipschitz_lmi_matrix(form.W, form.U, form.G, lam, L)


def check_lmi10(form: DEQForm, lam: Any = None, L: Any = None) -> Certificate:
    r"""Certificate ``"lipschitz_lmi"`` (``stats["lmi"] = "(10)"``) for havens2023 (10) with the given (default: analytic) Λ and L.

    ``margin`` is a *proved* lower bound on :math:`\lambda_{\min}` of the (exact) LMI matrix of the
    stored (W, U, G). CERTIFIED iff margin > 0 (the strict inequality (4)); the analytic
    multipliers of SLL/AOL/Sandwich make (10) hold only non-strictly (SLL: an exactly zero block),
    so the expected result for them is INCONCLUSIVE with margin ≥ −(rounding), reported in
    ``stats["lambda_min_lower_bound"]``; REFUTED (witness ``v``) when a negative eigenvalue is proved."""
    S, err = lmi10_matrix(form, lam, L)
    lam_v = form.lam if lam is None else as_positive_diagonal("lam", lam, n=form.n)
    L_v = form.L if L is None else as_scalar("L", L, positive=True)
    c = verified_pd(S, abs_err=err, name="LMI(10)")
    scale = float(np.max(np.abs(np.linalg.eigvalsh(0.5 * (S + S.T)))))
    witness = {"lam": lam_v, "L": float(L_v)}
    if "v" in c.witness:
        witness["v"] = c.witness["v"]
    return Certificate("lipschitz_lmi", c.status, margin=c.margin, witness=witness,
                       tolerance={"abs_err": err, "scale": scale},
                       stats={**dict(c.stats), "lambda_min_lower_bound": c.margin, "n": form.n, "lmi": "(10)"},
                       message=c.message)


@dataclasses.dataclass(frozen=True)
class DeqFormLBEN:
    r"""Result of :func:`lben_from_deqform`: ``params`` (the one
    :class:`deqtheory.parametrizations.LBENParams`, ``log_psi = log(1/λ)``), ``L``, ``eps`` (0),
    ``lam`` (the analytic Λ = Ψ⁻¹) and ``residual`` = ‖VᵀV − ½(M+Mᵀ)‖_F (nonzero only through
    eigenvalue clipping/rounding). ``psi``, ``V``, ``S``, ``G``, ``U`` read through (``psi = 1/lam``
    exactly)."""

    params: Any
    L: float
    eps: float
    lam: np.ndarray
    residual: float

    @property
    def psi(self) -> np.ndarray:
        return 1.0 / self.lam

    def __getattr__(self, name: str) -> Any:
        """``V``, ``S``, ``G``, ``U``, ``log_psi``: read through to :attr:`params`."""
        if name.startswith("__") or name == "params":
            raise AttributeError(name)
        return getattr(self.params, name)


def lben_from_deqform(form: DEQForm) -> DeqFormLBEN:
    r"""havens2023 Thm 3.5 / App. D: LBEN parameters reproducing ``form.W`` with the analytic Λ.

    :math:`\Psi = \Lambda^{-1}`, :math:`M = \Lambda(I - W) - \tfrac1{2L}(G^\top G + \Lambda UU^\top\Lambda)`,
    :math:`V^\top V = \tfrac12(M + M^\top)` (eigh factor with clipping: the matrix is exactly singular
    for SLL), :math:`\epsilon = 0`, and **S = ½Mᵀ** — with eq. (7)'s skew term :math:`S^\top - S`
    this gives :math:`S^\top - S = \tfrac12(M - M^\top)`. (Thm 3.5 prints S = ½M, which is right for
    the skew term :math:`S - S^\top` of eq. (2), not of eq. (7).)"""
    if form.lam is None or form.L is None:
        raise DomainError("form: carries no analytic multiplier lam/L")
    lam, L = form.lam, form.L
    n = form.n
    LU = lam[:, None] * form.U
    M = lam[:, None] * (np.eye(n) - form.W) - (form.G.T @ form.G + LU @ LU.T) / (2 * L)
    Sym = 0.5 * (M + M.T)
    V = _psd_factor(Sym)
    from .parametrizations.lben import LBENParams

    params = LBENParams(log_psi=np.log(1.0 / lam), G=form.G.copy(), U=form.U.copy(), V=V, S=0.5 * M.T)
    return DeqFormLBEN(params=params, L=float(L), eps=0.0, lam=lam, residual=float(np.linalg.norm(V.T @ V - Sym)))


# --------------------------------------------------------------------------- random valid instances


def random_sll_stack(rng: np.random.Generator, d: int, widths: Sequence[int], *, kind: str = "sll",
                     scale: float = 1.0) -> ResidualStack:
    """A random SLL (positive random q) or CPL stack, valid by construction (for tests/examples)."""
    layers = []
    for k in widths:
        W = scale * rng.normal(size=(d, int(k)))
        b = rng.normal(size=int(k))
        if kind == "sll":
            layers.append(sll_layer(W, q=rng.uniform(0.3, 3.0, size=int(k)), b=b))
        elif kind == "cpl":
            layers.append(cpl_layer(W, b=b))
        else:
            raise DomainError(f"kind: expected 'sll' or 'cpl', got {kind!r}")
    return ResidualStack(tuple(layers))


def random_aol_net(rng: np.random.Generator, dims: Sequence[int], *, zero_column: bool = False) -> AOLNet:
    """A random AOL net with layer widths ``dims`` = (d_in, h_1, ..., h_l, p_out), l ≥ 1."""
    dims = [int(v) for v in dims]
    if len(dims) < 3:
        raise ShapeError(f"dims: need (d_in, h_1, ..., p_out) with at least one hidden layer, got {dims}")
    ws = [rng.normal(size=(dims[i + 1], dims[i])) for i in range(len(dims) - 2)]
    if zero_column:
        ws[0][:, 0] = 0.0
    bs = [rng.normal(size=dims[i + 1]) for i in range(len(dims) - 2)]
    return AOLNet(tuple(ws), tuple(bs), rng.normal(size=(dims[-1], dims[-2])), rng.normal(size=dims[-1]))


def random_sandwich_net(rng: np.random.Generator, d: int, widths: Sequence[int], p_out: int, *,
                        L: float = 1.0) -> SandwichNet:
    """A random Sandwich net: layer n maps d_n → d_{n+1} = widths[n] through [A_n B_n] from
    :func:`cayley_stiefel` (A_n square); ``B_out`` (p_out, d_N) has orthonormal rows or columns
    (whichever its shape allows), so ‖B_out‖₂ = 1."""
    A, B, phi, b = [], [], [], []
    din = int(d)
    for p in widths:
        p = int(p)
        An, Bn = cayley_stiefel(rng.normal(size=(p, p)), rng.normal(size=(din, p)))
        A.append(An); B.append(Bn)
        phi.append(np.exp(rng.normal(scale=0.5, size=p)))
        b.append(rng.normal(size=p))
        din = p
    Q, _ = np.linalg.qr(rng.normal(size=(max(p_out, din), min(p_out, din))))
    Bo = Q.T if p_out <= din else Q  # wide: B Bᵀ = I; tall: Bᵀ B = I
    return SandwichNet(tuple(A), tuple(B), tuple(phi), tuple(b), Bo, rng.normal(size=p_out), L=L)


def random_relu_net(rng: np.random.Generator, dims: Sequence[int], *, scale: float = 1.0) -> ReLUNet:
    """A random ReLU net (wei2022 eq. 3.10) with widths ``dims`` = (d, h_1, ..., h_L)."""
    dims = [int(v) for v in dims]
    ws = [scale * rng.normal(size=(dims[i + 1], dims[i])) for i in range(len(dims) - 1)]
    bs = [rng.normal(size=dims[i + 1]) for i in range(len(dims) - 1)]
    return ReLUNet(tuple(ws), tuple(bs))
