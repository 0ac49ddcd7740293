r"""The contract shared by every weight parametrization (geotorch / ``torch.nn.utils.parametrize`` style).

A *parametrization* is an object holding the family's hyper-parameters (``m``, ``L``, ``ε``, ``γ``,
...; validated in ``__init__``) and implementing

* ``forward(params) -> W`` — the map from free parameters to the weight matrix ``W`` (n×n);
* ``right_inverse(W, **context) -> params`` — free parameters reproducing ``W`` (a theorem of the
  source paper gives the construction); raises :class:`OutsideSetError` when ``W`` is not in the
  image (this is a *mathematical* failure, a :class:`deqtheory.errors.DEQLinAlgError`);
* ``contains(W, tol=None, **context) -> Certificate`` — a certificate that ``W`` lies in the set the
  family parametrizes (witness + proved margin, ``margin > 0`` ⇔ certified);
* ``sample(rng, n, ...) -> params`` — random parameters with controlled conditioning;
* ``defining_condition(params) -> Certificate`` — the *analytic* witness of the source theorem
  (e.g. G-MonDEQ: (3) holds with Γ = Φ⁻¹ and its left side is 2AᵀA + 2mI), with the rounding
  of forming ``W`` in floating point accounted for by :meth:`Parametrization.forward_error_bound`;
* ``context(params) -> dict`` — the extra arrays (besides ``W``) that the set depends on
  (LBEN: ``G`` and ``U``); empty for the other families.

Parameters are small frozen dataclasses (:class:`Params`) whose fields are float64 arrays. **Every
field is unconstrained**: positive diagonals are stored through their logarithm (``log_phi``,
``log_psi``, ``log_eta``, ``log_slack``) or a logit (``beta``), so any finite perturbation of any
field is again a valid parameter (this is what the contract test checks).

Conventions (project-wide, see ``docs/conventions.md``): linear maps act on column vectors, ``W`` is
(n, n); ``sym(A) = (A + Aᵀ)/2``, ``skew(A) = (A − Aᵀ)/2``; "A ≻ 0" for a non-symmetric ``A`` means
``sym(A) ≻ 0`` (uᵀAu > 0 for u ≠ 0), as in wei2022 §2.
"""
from __future__ import annotations

import abc
import dataclasses
import math
from typing import Any, Callable, ClassVar, Dict, Mapping, Optional, Tuple

import numpy as np

from .._validate import as_array, as_matrix, as_positive_diagonal, as_square, as_vector
from ..certificates import Certificate, Status
from ..errors import DEQLinAlgError, DomainError
from ..verified import UNIT_ROUNDOFF, verified_pd

__all__ = ["Params", "Parametrization", "OutsideSetError", "sym", "skew", "psd_factor",
           "default_tol", "lambda_min_certificate"]


class OutsideSetError(DEQLinAlgError):
    """``right_inverse`` was given a matrix that is not in the image of the parametrization
    (or membership could not be established numerically)."""


def sym(A: np.ndarray) -> np.ndarray:
    """``(A + Aᵀ)/2``."""
    return 0.5 * (A + A.T)


def skew(A: np.ndarray) -> np.ndarray:
    """``(A − Aᵀ)/2``."""
    return 0.5 * (A - A.T)


def psd_factor(X: np.ndarray, *, tol: float, name: str = "X") -> np.ndarray:
    r"""A square factor ``F`` with ``FᵀF = X₊`` for a symmetric ``X`` that is PSD up to ``tol``.

    Uses ``eigh`` and clips eigenvalues in ``[−tol, 0)`` to zero (never indefinite:
    ``FᵀF = V diag(max(w, 0)) Vᵀ``). Raises :class:`OutsideSetError` if ``λ_min(X) < −tol``.
    """
    X = sym(X)
    w, V = np.linalg.eigh(X)
    if w[0] < -tol:
        raise OutsideSetError(f"{name} is not positive semidefinite: lambda_min = {w[0]:.3e} < -tol = {-tol:.3e}")
    w = np.clip(w, 0.0, None)
    return (np.sqrt(w)[:, None] * V.T)


def default_tol(scale: float, n: int) -> float:
    r"""Default tolerance for closed (``⪰``) conditions: :math:`32(n+1)^2 u \max(1, \text{scale})`.

    It is ~10× the loss of the verified Cholesky test of :mod:`deqtheory.verified` on an
    n×n matrix of Frobenius norm ``scale``, so matrices *on* the boundary of a closed set
    (equality, e.g. ``AᵀA`` singular) are accepted, while anything farther out is not.
    """
    return 32.0 * (n + 1) ** 2 * UNIT_ROUNDOFF * max(1.0, float(scale))


def diagonal_witness(W: Any, name: str, given: Any, find: Callable[[np.ndarray], Optional[np.ndarray]],
                     condition: str, message: str) -> "tuple[np.ndarray, Optional[np.ndarray], Optional[Certificate]]":
    """The validated square ``W`` and the positive diagonal witness of a family's LMI: ``given``
    (validated, shape (n,)) or ``find(W)`` (a small search/SDP). Returns ``(W, d, None)``, or
    ``(W, None, INCONCLUSIVE certificate of condition)`` when none was found."""
    W = as_square("W", W)
    d = find(W) if given is None else as_positive_diagonal(name, given, n=W.shape[0])
    if d is None:
        return W, None, Certificate(condition, Status.INCONCLUSIVE, margin=-np.inf, message=message)
    return W, d, None


def lambda_min_certificate(condition: str, X: np.ndarray, *, threshold: float, tol: Optional[float],
                           abs_err: float, strict: bool, witness: Mapping[str, Any],
                           name: str, stats: Optional[Dict[str, Any]] = None) -> Certificate:
    r"""Certificate for :math:`\lambda_{\min}(\mathrm{sym}(X_{\rm exact})) \ge \text{threshold} - \text{tol}`.

    ``X`` is the computed matrix, ``abs_err`` a bound on :math:`\|X_{\rm exact} - X\|_2`.
    The proved lower bound ``lb`` on :math:`\lambda_{\min}` comes from
    :func:`deqtheory.verified.verified_pd`. ``margin = lb − threshold + tol`` (``tol`` is
    forced to 0 for strict conditions, which are then proved strictly: ``lb > threshold``).
    ``tol=None`` means ``default_tol(‖X‖_F, n) + 4·abs_err`` (room for the rounding of the
    verified Cholesky *and* of forming ``X``, so boundary points of a closed set are accepted).
    Status: CERTIFIED iff margin > 0; REFUTED iff verified_pd proved ``λ_min < 0`` *and* the
    threshold is ≥ 0 (so the condition is certainly violated); else INCONCLUSIVE.
    """
    if strict:
        t = 0.0
    elif tol is None:
        t = default_tol(float(np.linalg.norm(X)), X.shape[0]) + 4.0 * float(abs_err)
    else:
        t = float(tol)
    pd = verified_pd(X, abs_err=abs_err, refute=True, name=name)
    lb = float(pd.margin)
    margin = lb - threshold + t
    wit = dict(witness)
    if pd.status is Status.REFUTED and threshold - t >= 0:
        status = Status.REFUTED
        wit["v"] = pd.witness["v"]
        msg = f"{condition}: proved lambda_min(sym({name})) < 0 (counter-witness v)"
    elif margin > 0:
        status = Status.CERTIFIED
        msg = (f"{condition}: proved lambda_min(sym({name})) >= {lb:.6g} "
               f"{'>' if strict else '>='} {threshold:.6g}{'' if strict else f' - tol ({t:.3g})'}")
    else:
        status = Status.INCONCLUSIVE
        msg = f"{condition}: could not prove lambda_min(sym({name})) >= {threshold:.6g} - {t:.3g} (bound {lb:.6g})"
    st = {"lambda_min_estimate": pd.stats.get("lambda_min_estimate")}
    if stats:
        st.update(stats)
    return Certificate(condition, status, margin=margin, witness=wit,
                       tolerance={"tol": t, "abs_err": float(abs_err), "threshold": float(threshold)},
                       residuals={"lambda_min_lower_bound": lb}, stats=st, message=msg)


class exp_of:
    """Read-only attribute ``exp(<field>)`` of a parameter dataclass: the positive diagonal (Φ, Ψ, η)
    stored unconstrained as its logarithm."""

    def __init__(self, field: str):
        self.field = field

    def __get__(self, obj: Any, owner: Any = None) -> Any:
        if obj is None:
            return self
        return np.exp(getattr(obj, self.field))


@dataclasses.dataclass(frozen=True, eq=False)
class Params:
    """Base class of the parameter dataclasses: every field is an unconstrained float64 array.

    ``SHAPES`` (class attribute): field → shape with ``"n"`` for the state dimension and ``None``
    for a free one, in validation order; the first entry is square (n, n)."""

    SHAPES: ClassVar[Dict[str, Tuple[Optional[str], ...]]] = {}

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            arr = as_array(f"{type(self).__name__}.{f.name}", getattr(self, f.name))
            arr.setflags(write=False)
            object.__setattr__(self, f.name, arr)

    def arrays(self) -> Dict[str, np.ndarray]:
        """The fields as a dict (name -> array)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def replace(self, **changes: Any) -> "Params":
        return dataclasses.replace(self, **changes)

    def perturbed(self, rng: np.random.Generator, scale: float = 0.1) -> "Params":
        """A random perturbation of *every* field (``x + scale·N(0,1)``) — still a valid parameter."""
        return self.replace(**{k: v + scale * rng.standard_normal(v.shape) for k, v in self.arrays().items()})


class Parametrization(abc.ABC):
    """Abstract contract; see the module docstring."""

    #: short family name (used in certificates and docs)
    family: str = "abstract"
    #: the parameter dataclass of the family
    params_type: type = Params

    @abc.abstractmethod
    def forward(self, params: Params) -> np.ndarray:
        """W(params)."""

    def __call__(self, params: Params) -> np.ndarray:
        return self.forward(params)

    @abc.abstractmethod
    def right_inverse(self, W: Any, **context: Any) -> Params:
        """Parameters with ``forward(params) == W`` (up to rounding); :class:`OutsideSetError` if none."""

    @abc.abstractmethod
    def contains(self, W: Any, tol: Optional[float] = None, **context: Any) -> Certificate:
        """Certificate that ``W`` is in the family's set."""

    @abc.abstractmethod
    def sample(self, rng: np.random.Generator, n: int, **kw: Any) -> Params:
        """Random valid parameters."""

    @abc.abstractmethod
    def defining_condition(self, params: Params) -> Certificate:
        """The source theorem's analytic witness for ``forward(params)``."""

    @abc.abstractmethod
    def forward_error_bound(self, params: Params) -> float:
        r"""A bound on :math:`\|\mathrm{fl}(W) - W_{\rm exact}\|_2` for ``forward(params)``."""

    def context(self, params: Params) -> Dict[str, np.ndarray]:
        """Extra arrays the set depends on (passed to ``contains``/``right_inverse``)."""
        return {}

    def metric(self, params: Params) -> Optional[np.ndarray]:
        r"""The family's diagonal metric Φ ≻ 0 with :math:`\mathrm{sym}(\Phi^{-1}(I - W)) \succ 0` by
        construction (G-MonDEQ Φ, havens2023 eq. 6; LBEN Ψ, eq. 7), or ``None`` when the family has none.
        Certifiers use it for the Λ-monotone error and Lipschitz bounds (they re-prove the condition)."""
        return None

    # -- helpers --------------------------------------------------------------------------
    def _validate(self, params: Any) -> int:
        """Type and shapes of ``params`` from its ``SHAPES`` (the first entry is the square
        (n, n) field that fixes n); returns n. Typed errors name the field and its shape."""
        self._check_params(params)
        shapes = type(params).SHAPES
        first = getattr(params, next(iter(shapes)))
        n = first.shape[0] if first.ndim == 2 else -1
        for name, shape in shapes.items():
            arr = getattr(params, name)
            if len(shape) == 1:
                as_vector(name, arr, n=n)
            else:
                as_matrix(name, arr, shape=tuple(n if s == "n" else None for s in shape))
        return n

    def _check_params(self, params: Any) -> None:
        if not isinstance(params, self.params_type):
            raise TypeError(f"{type(self).__name__}: expected {self.params_type.__name__}, "
                            f"got {type(params).__name__}")

    def __repr__(self) -> str:
        hp = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({hp})"


def _check_n(n: Any) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or int(n) < 1:
        raise DomainError(f"n: expected a positive integer, got {n!r}")
    return int(n)


def _sq(name: str, W: Any) -> np.ndarray:
    return as_square(name, W)


def _fro(A: np.ndarray) -> float:
    return float(np.linalg.norm(A))


def _isfinite_all(*arrs: np.ndarray) -> bool:
    return all(bool(np.all(np.isfinite(a))) for a in arrs)


def _orthogonal(rng: np.random.Generator, n: int) -> np.ndarray:
    Q, R = np.linalg.qr(rng.standard_normal((n, n)))
    return Q * np.sign(np.diag(R))[None, :]


def _conditioned(rng: np.random.Generator, rows: int, cols: int, smin: float, smax: float) -> np.ndarray:
    """A rows×cols matrix with singular values log-uniform in [smin, smax]."""
    k = min(rows, cols)
    U = _orthogonal(rng, rows)[:, :k]
    V = _orthogonal(rng, cols)[:, :k]
    s = np.exp(rng.uniform(math.log(smin), math.log(smax), size=k))
    return (U * s[None, :]) @ V.T
