r"""Every condition of ``deqtheory check`` proved for the **stored model** of a parametric file.

A parametric file (docs/formats.md: ``mondeq``, ``lben``, …) defines the exact real matrix
:math:`W_{\rm exact}` of its stored parameters; the checks of :mod:`deqtheory.linalg`,
:mod:`deqtheory.spectrum` and :mod:`deqtheory.graph` prove their conditions for the float64 matrix
:math:`\mathrm{fl}(W)` computed from them. :func:`deqtheory.formats.stored_rounding` gives a proved
:math:`\delta` (``W_error``) with :math:`\|E\|_2 \le \delta`, :math:`E = W_{\rm exact} - \mathrm{fl}(W)`.
From that bound alone (n = order of W):

* (e1) :math:`|E_{ij}| \le \delta` — an entry is at most the spectral norm;
* (e2) :math:`\|D\|_2 \le \|E\|_F \le \sqrt n\,\delta` for every D with :math:`|D| \le |E|` entrywise
  (e.g. :math:`D = |W_{\rm exact}| - |\mathrm{fl}(W)|`), and :math:`\|E\|_\infty \le \sqrt n\,\delta`
  (a row's ℓ1 norm is at most √n times its ℓ2 norm, which is at most ‖E‖₂).

:func:`stored_condition` maps the certificate proved on fl(W) to one about :math:`W_{\rm exact}` (margins
lowered by the loss below, rounded toward safety; a verdict the loss can flip becomes INCONCLUSIVE):

============================ ===================================================================
``monotone``                 λ_min(sym(I − W)) is 1-Lipschitz in ‖W‖₂ (Weyl): loss δ; or the family's
                             exact margin (MonDEQ: sym(I − W) = mI + AᵀA ⪰ mI), whichever is larger
``ibp_wellposed``            sym(I − |W_exact|) ⪰ sym(I − |fl W|) − ‖D‖₂ I, D as in (e2): loss √n δ
``adjoint_contractive``      ‖|W_exact|‖₂ ≤ ‖|fl W|‖₂ + ‖D‖₂ (e2): loss √n δ
``mu_inf``                   M(W_exact) ≤ M(fl W) + |E| entrywise (M the Metzler majorant), so
                             μ∞,[η]⁻¹ grows by at most max_i (|E|η)_i/η_i ≤ δ·min(‖η‖₁, √n‖η‖∞)/min η
``pf_abs``                   |W_exact| ≤ |fl W| + |E|: the Collatz–Wielandt bound of witness v grows by
                             the same weighted term (Perron root monotone on nonnegative matrices)
``feedforward``              refuted only by a cycle through entries with |fl(W)_ij| > δ (then
                             W_exact's entries there are nonzero, e1); never certified from δ alone: a
                             norm bound cannot prove that an entry of W_exact is exactly zero. With an
                             entrywise bound 𝓔 ≥ |E| (zero on structural zeros, exact in any arithmetic):
                             supp(W_exact) ⊆ supp(fl W) ∪ supp(𝓔), so certified when that union is a DAG,
                             and refuted by a cycle through entries with |fl(W)_ij| > 𝓔_ij
``sdp_wellposed``            not here: proved with ``w_error`` by :func:`deqtheory.sdp.sdp_wellposed`
                             (‖ΓE + EᵀΓ‖₂ ≤ 2 max γ · δ, :func:`deqtheory.sdp.lmi.w_error_term`)
``conv_ibp_monotone``,       not here: the matrix-free conv rows are proved directly for every kernel
``conv_abs_contraction``,    within a tap-wise bound 𝓔 (:func:`deqtheory.formats.kernel_rounding`): their
``conv_mu_inf``              c × c masses are widened by S = Σ_taps 𝓔 (|K_exact| ≤ |K̂| + 𝓔 tap by tap),
                             ``mass_error`` of :mod:`deqtheory.conv_ibp` / :mod:`deqtheory.conv_nemon`
============================ ===================================================================

An entrywise bound 𝓔 ≥ |E| (``w_error`` a :class:`RoundingBound` carrying it, e.g. the explicit kinds'
block-triangular embeddings, :func:`deqtheory.formats.stored_rounding`) also tightens (e2) to
‖D‖₂ ≤ ‖𝓔‖_F and the Collatz–Wielandt loss to max_i (𝓔w)_i/w_i (rounded up).

Refutations carry over with the same losses (a witness refuting fl(W) with the allowance enlarged by the
loss refutes W_exact). ``δ = 0`` returns the certificate unchanged (dense files: the stored W is the model).
numpy only; used by :func:`deqtheory.report.check_deq` and by the certifier of :mod:`deqtheory_train`.
"""
from __future__ import annotations

import math
from typing import Any, Callable, Dict, Optional, Tuple

import numpy as np

from .certificates import Certificate, Status
from .verified import INFLATE, refute_quadratic, round_up

__all__ = ["stored_condition", "STORED_CONDITIONS", "weighted_abs_loss", "add_up", "sub_down", "RoundingBound",
           "unbounded_condition"]


class RoundingBound(float):
    r"""A proved δ ≥ ‖W_exact − fl(W)‖₂ (the float value) that may carry an entrywise bound
    ``entrywise`` = 𝓔 ≥ |W_exact − fl(W)| (n × n, ≥ 0, zero exactly where W_exact and fl(W) are both
    structurally zero), with δ ≥ ‖𝓔‖_F. It is a float wherever a number is expected (``W_error`` of
    :func:`deqtheory.formats.stored_rounding`, JSON), so every caller that passes ``W_error`` on passes 𝓔 too.
    ``unproved`` (δ = 0 only): W is computed from the stored data with no proved bound (``conv_lben``'s inverse
    FFT) — the rows stay about the computed W, and :func:`deqtheory.report.check_deq` says so
    (``model["rows_about"]``)."""

    entrywise: Optional[np.ndarray]
    unproved: str

    def __new__(cls, delta: float, entrywise: Optional[np.ndarray] = None, unproved: str = "") -> "RoundingBound":
        out = super().__new__(cls, delta)
        if unproved and delta:
            from .errors import DomainError
            raise DomainError(f"RoundingBound: unproved needs delta = 0, got {delta!r}")
        out.entrywise = None if entrywise is None else np.asarray(entrywise, dtype=np.float64)
        out.unproved = str(unproved)
        return out

    def __reduce__(self) -> Any:          # copies keep the entrywise bound and the note
        return (RoundingBound, (float(self), self.entrywise, self.unproved))


def _entrywise(w_error: Any) -> Optional[np.ndarray]:
    return getattr(w_error, "entrywise", None)


def add_up(a: float, b: float) -> float:
    """A float ≥ a + b (one rounded addition, then one ulp up)."""
    return float(np.nextafter(a + b, math.inf)) if math.isfinite(a + b) else a + b


def sub_down(a: float, b: float) -> float:
    """A float ≤ a − b (one rounded subtraction, then one ulp down)."""
    return float(np.nextafter(a - b, -math.inf)) if math.isfinite(a - b) else a - b


def _sqrt_n_delta(n: int, delta: float, E: Optional[np.ndarray] = None) -> float:
    """(e2): ‖D‖₂ ≤ √n δ, rounded up; with an entrywise bound 𝓔 also ≤ ‖𝓔‖_F (the smaller)."""
    out = round_up(math.sqrt(n) * delta)
    if E is not None:
        out = min(out, round_up(INFLATE * float(np.linalg.norm(E))))
    return out


def weighted_abs_loss(w: Any, delta: float, E: Optional[np.ndarray] = None) -> float:
    r"""A float ≥ :math:`\max_{i: w_i > 0} (|E|w)_i / w_i` for a weight ``w ≥ 0`` (nonzero) and every E with
    ‖E‖₂ ≤ δ: :math:`(|E|w)_i \le \delta\|w\|_1` by (e1) and :math:`\le \|w\|_\infty\|E\|_\infty \le
    \sqrt n\,\delta\|w\|_\infty` by (e2); divided by :math:`\min_{w_i>0} w_i`. With an entrywise bound
    ``E`` ≥ |E| also ≤ max_i (𝓔w)_i/w_i (the computed quotients inflated by INFLATE, which exceeds their
    γ_{n+1} rounding); the smaller is returned. Rounded up; ``inf`` for no positive weight."""
    w = np.asarray(w, dtype=np.float64).ravel()
    pos = w[w > 0]
    if not pos.size or not np.all(np.isfinite(w)):
        return math.inf
    s1 = round_up(float(np.sum(np.abs(w))))
    cap = round_up(math.sqrt(w.size) * float(np.max(np.abs(w))))
    out = round_up(delta * min(s1, cap) / float(np.min(pos)))
    if E is not None and E.shape == (w.size, w.size):
        q = (E @ np.abs(w))[w > 0] / pos
        if np.all(np.isfinite(q)):
            out = min(out, round_up(INFLATE * float(np.max(q))))
    return out


def _note(delta: float) -> str:
    return f"stored model: |W_exact - fl(W)|_2 <= W_error = {delta:.3g}"


def _stats(c: Certificate, delta: float, **extra: Any) -> Dict[str, Any]:
    return {**dict(c.stats), "W_error": delta, "margin_computed_W": float(c.margin), **extra}


def _pd_row(c: Certificate, delta: float, loss: float, matrix: Callable[[], Tuple[np.ndarray, float]],
            what: str) -> Certificate:
    """A condition ``λ_min(S) > 0`` proved on fl(W) (``c.margin`` a proved lower bound) whose matrix for
    W_exact differs from ``matrix()``'s B (with its own forming error) by at most ``loss`` in ‖·‖₂."""
    margin = sub_down(float(c.margin), loss)
    tol = {**dict(c.tolerance), "W_error": delta, "stored_model_loss": loss}
    st = _stats(c, delta)
    if c.status is Status.CERTIFIED:
        if margin > 0:
            return c.replace(margin=margin, tolerance=tol, stats=st,
                             message=f"{c.message}; {_note(delta)}: {what} >= {margin:.6g} (loss {loss:.3g})")
        return c.replace(status=Status.INCONCLUSIVE, margin=margin, tolerance=tol, stats=st,
                         message=(f"the computed W's proved margin {c.margin:.3g} does not exceed the loss {loss:.3g} "
                                  f"from the rounding of W ({_note(delta)}): not proved for the stored model"))
    if c.status is Status.REFUTED and "v" in c.witness:
        B, err = matrix()
        ok, ub = refute_quadratic(B, np.asarray(c.witness["v"], dtype=np.float64), err + loss)
        if ok:
            return c.replace(margin=margin, tolerance=tol, stats=st, residuals={**dict(c.residuals), "vBv_upper_bound": ub},
                             message=f"{c.message} (witness re-proved with the loss {loss:.3g}; {_note(delta)})")
        return c.replace(status=Status.INCONCLUSIVE, margin=margin, tolerance=tol, stats=st,
                         message=f"the witness refutes the computed W but not every W within {delta:.3g}: "
                                 "not refuted for the stored model")
    return c.replace(margin=margin, tolerance=tol, stats=st, message=f"{c.message}; {_note(delta)}")


def _monotone(c: Certificate, W: np.ndarray, delta: float, w_margin: Optional[float],
              E: Optional[np.ndarray] = None) -> Certificate:
    r"""λ_min(sym(Φ⁻¹(I − W_exact))) ≥ λ_min(sym(Φ⁻¹(I − fl W))) − ‖Φ⁻¹E‖₂ (Weyl), so the loss is
    δ·max(1/φ) (δ when Φ = I); for Φ = I and no given m also ≥ the family's exact margin ``w_margin``
    (MonDEQ: sym(I − W) = mI + AᵀA ⪰ mI on the stored m). The reported margin is the larger, rounded down.
    (``w_margin`` is about W_exact only: a caller that also needs the number for fl(W) caps it first,
    :func:`stored_condition` ``also_computed``.)"""
    from .linalg import _monotone_matrix

    m = float(c.witness.get("m", 0.0))
    phi = c.witness.get("phi")
    ph = None if phi is None else np.asarray(phi, dtype=np.float64)
    loss = delta if ph is None else round_up(delta * float(np.max(1.0 / ph)))
    out = _pd_row(c, delta, loss, lambda: _monotone_matrix(W, m, ph), "lambda_min(sym(I - W))")
    fam = float(w_margin) if w_margin is not None and w_margin > 0 and ph is None and m == 0.0 else -math.inf
    if not (fam > out.margin or (fam > 0 and not out.certified)):
        return out
    if c.certified:           # keep the computed W's witness (it still re-verifies); the number is the family's
        return out.replace(status=Status.CERTIFIED, margin=fam,
                           message=(f"{c.message}; {_note(delta)}: the family's exact margin m = {fam:.6g} on the "
                                    f"stored parameters (sym(I - W) = mI + A^T A >= mI) exceeds m_fl - W_error = "
                                    f"{out.margin:.6g}"))
    return Certificate("monotone", Status.CERTIFIED, margin=fam, witness={"m": 0.0, "family": "mondeq"},
                       tolerance=dict(out.tolerance), stats=dict(out.stats),
                       message=(f"proved on the stored parameters: sym(I - W) = mI + A^T A >= mI with the stored "
                                f"m = {fam:.6g} (the computed W's margin {c.margin:.3g} is within its rounding "
                                f"{delta:.3g} and is not used)"))


def _ibp(c: Certificate, W: np.ndarray, delta: float, w_margin: Optional[float],
         E: Optional[np.ndarray] = None) -> Certificate:
    from .linalg import _ibp_matrix

    return _pd_row(c, delta, _sqrt_n_delta(W.shape[0], delta, E), lambda: _ibp_matrix(W), "lambda_min(sym(I - |W|))")


def _adjoint(c: Certificate, W: np.ndarray, delta: float, w_margin: Optional[float],
             E: Optional[np.ndarray] = None) -> Certificate:
    from .spectrum import _jw_matrix

    return _pd_row(c, delta, _sqrt_n_delta(W.shape[0], delta, E), lambda: (_jw_matrix(W), 0.0),
                   "1 - || |W| ||_2")


def _collatz_wielandt(c: Certificate, W: np.ndarray, delta: float, w_margin: Optional[float],
                      E: Optional[np.ndarray] = None) -> Certificate:
    r"""``mu_inf`` / ``pf_abs``: the proved upper bound ``ub`` (witness η / v > 0) grows to
    ub + :func:`weighted_abs_loss` (η or v); a refutation's lower bound ``lb`` (witness v ≥ 0) drops by the
    same term over v's support (M(W_exact) ≥ M(fl W) − |E|, resp. |W_exact| ≥ |fl W| − |E|, and the lower
    Collatz–Wielandt bound of a Metzler / nonnegative matrix)."""
    from .linalg import one_minus_down

    key = "eta" if c.condition == "mu_inf" else "v"
    tol = {**dict(c.tolerance), "W_error": delta}
    ub = float(c.stats.get("upper_bound", math.inf))
    lb = float(c.stats.get("lower_bound", -math.inf))
    if c.status is Status.REFUTED and "v" in c.witness:
        t = weighted_abs_loss(c.witness["v"], delta, E)
        lb_st = sub_down(lb, t)
        st = _stats(c, delta, lower_bound=lb_st, lower_bound_computed_W=lb)
        if lb_st >= 1.0:
            return c.replace(tolerance=tol, stats=st, message=f"{c.message}; {_note(delta)}: lower bound {lb_st:.6g}")
        return c.replace(status=Status.INCONCLUSIVE, tolerance=tol, stats=st,
                         message=f"the witness refutes the computed W (bound {lb:.6g}) but not every W within "
                                 f"{delta:.3g} ({lb_st:.6g} < 1): not refuted for the stored model")
    t = weighted_abs_loss(c.witness[key], delta, E) if key in c.witness else math.inf
    ub_st = add_up(ub, t) if math.isfinite(ub) else math.inf
    margin = one_minus_down(ub_st) if math.isfinite(ub_st) else -math.inf
    st = _stats(c, delta, upper_bound=ub_st, upper_bound_computed_W=ub)
    if c.status is Status.CERTIFIED and ub_st < 1.0:
        return c.replace(margin=margin, tolerance=tol, stats=st,
                         message=f"{c.message}; {_note(delta)}: proved bound {ub_st:.6g} < 1 (loss {t:.3g})")
    if c.status is Status.CERTIFIED:
        return c.replace(status=Status.INCONCLUSIVE, margin=margin, tolerance=tol, stats=st,
                         message=(f"the computed W's proved bound {ub:.6g} < 1 but the rounding of W ({_note(delta)}) "
                                  f"allows {ub_st:.6g} >= 1: not proved for the stored model"))
    return c.replace(margin=min(float(c.margin), margin), tolerance=tol, stats=st,
                     message=f"{c.message}; {_note(delta)}")


def _feedforward(c: Certificate, W: np.ndarray, delta: float, w_margin: Optional[float],
                 E: Optional[np.ndarray] = None) -> Certificate:
    """A cycle of fl(W) through entries |fl(W)_ij| > δ (> 𝓔_ij with an entrywise bound) is a cycle of W_exact
    (e1); with an entrywise bound 𝓔, supp(W_exact) ⊆ supp(fl W) ∪ supp(𝓔), so a DAG union proves W_exact
    feed-forward (witness: the union's order, re-checkable with ``verify`` on the 0/1 support matrix); without one, zeros
    are never proved."""
    from .graph import is_feedforward

    tol = {**dict(c.tolerance), "W_error": delta}
    cut = delta if E is None else E
    big = is_feedforward(np.where(np.abs(W) > cut, W, 0.0))
    if big.status is Status.REFUTED:
        return big.replace(tolerance=tol, stats={**dict(big.stats), "W_error": delta},
                           message=f"{big.message}, every entry on it larger than its rounding bound in magnitude, "
                                   f"so the stored model has it too ({_note(delta)})")
    if E is not None:
        union = is_feedforward(np.where((W != 0) | (E > 0), 1.0, 0.0))
        if union.certified:
            return union.replace(tolerance={**tol, "entrywise": True}, stats={**dict(union.stats), "W_error": delta},
                                 message=(f"{union.message}, for every W within the entrywise rounding bound of the "
                                          f"computed W (its structural zeros are exact): the stored model is "
                                          f"feed-forward ({_note(delta)})"))
    why = ("the computed W is feed-forward" if c.certified else
           "every cycle of the computed W uses an entry within its rounding bound, which may be 0 in the stored model")
    how = ("a norm bound on its rounding cannot prove which entries of the stored model are exactly zero"
           if E is None else "its entrywise rounding bound allows entries that close a cycle")
    return Certificate("feedforward", Status.INCONCLUSIVE, margin=math.nan, tolerance=tol,
                       stats={**dict(c.stats), "W_error": delta},
                       message=f"{why}; W is computed from the stored parameters ({_note(delta)}) and {how}")


#: condition name → the map from its certificate on fl(W) to one about W_exact (see the module docstring)
STORED_CONDITIONS: Dict[str, Callable[..., Certificate]] = {
    "monotone": _monotone, "ibp_wellposed": _ibp, "adjoint_contractive": _adjoint,
    "mu_inf": _collatz_wielandt, "pf_abs": _collatz_wielandt, "feedforward": _feedforward,
}


def stored_condition(cert: Certificate, W: Any, w_error: float, w_margin: Optional[float] = None, *,
                     also_computed: bool = False) -> Certificate:
    r"""The certificate ``cert`` (condition ``monotone``, ``ibp_wellposed``, ``adjoint_contractive``,
    ``mu_inf``, ``pf_abs`` or ``feedforward``, proved on the float ``W``) restated for every
    :math:`W_{\rm exact}` with :math:`\|W_{\rm exact} - W\|_2 \le` ``w_error`` (module docstring);
    ``w_margin``: the family's exact monotonicity margin (``monotone`` only). ``w_error`` a
    :class:`RoundingBound` with an ``entrywise`` bound: the entrywise rules apply. ``w_error == 0``, and
    NOT_APPLICABLE / SOLVER_ERROR certificates, are returned unchanged. ``tolerance["W_error"]`` records δ;
    the witness stays the one proved on ``W`` (``verify(W=W)`` re-checks the computed W's claim, the
    stored-model margin is that minus the loss). ``also_computed``: the result must hold for the float ``W``
    too (a certifier that evaluates the model with fl(W), :mod:`deqtheory_train`): ``w_margin`` is then used
    only up to the computed W's proved margin, so every margin returned is ≤ both models' — equal to the
    ``check`` row whenever the family's m does not exceed fl(W)'s proved margin."""
    delta = float(w_error or 0.0)
    if not delta or cert.status in (Status.NOT_APPLICABLE, Status.SOLVER_ERROR):
        return cert
    if not delta > 0:
        from .errors import DomainError
        raise DomainError(f"w_error: must be >= 0 (inf: unbounded), got {w_error!r}")
    fn = STORED_CONDITIONS.get(cert.condition)
    if fn is None:
        from .errors import DomainError
        raise DomainError(f"stored_condition: no stored-model rule for condition {cert.condition!r}; "
                          f"known: {sorted(STORED_CONDITIONS)}")
    if also_computed and w_margin is not None:
        w_margin = min(float(w_margin), float(cert.margin) if cert.certified else -math.inf)
    W = np.asarray(W, dtype=np.float64)
    E = _entrywise(w_error)
    if E is not None and E.shape != W.shape:
        from .errors import ShapeError
        raise ShapeError(f"w_error.entrywise: expected shape {W.shape}, got {E.shape}")
    if math.isinf(delta) and not (cert.condition == "feedforward" and E is not None):
        return unbounded_condition(cert)
    return fn(cert, W, delta, w_margin, E)


def unbounded_condition(cert: Certificate) -> Certificate:
    """``w_error = inf`` (a step of computing W from the stored data overflowed or underflowed, e.g. an AOL
    scaling whose W̃ᵀW̃ overflows to a computed D = 0): nothing proved on fl(W) carries over — a certificate or
    a refutation becomes INCONCLUSIVE, saying so (only the structural ``feedforward`` rule with an entrywise
    bound still decides)."""
    if cert.status not in (Status.CERTIFIED, Status.REFUTED):
        return cert
    return cert.replace(status=Status.INCONCLUSIVE, margin=-math.inf if cert.certified else cert.margin,
                        tolerance={**dict(cert.tolerance), "W_error": math.inf},
                        message=(f"{cert.message} -- for the computed W only: computing W from the stored data "
                                 "overflowed or underflowed (W_error = inf), so not proved for the stored model"))
