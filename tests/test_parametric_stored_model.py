"""Issue 15 item 1 (second half): a parametric file is certified on its *stored parameters*, not on the
floating-point W computed from them.

Regression instance: a ``mondeq`` file with A = B = 0 and m = 3·2⁻⁵⁴. fl((1 − m)I) = (1 − 2⁻⁵²)I, so
`check` used to report ``monotone`` margin 2.2e-16 > m and ``l2_analytic`` L = 4.50e15, while eq. (5) on
the stored parameters gives the exact Lipschitz constant 1/m = 6.00e15 (W = (1 − m)I, U = G = I)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from deqtheory.certificates import Status
from deqtheory.formats import MonDEQNet, deq_arrays, read_model, save_model
from deqtheory.linalg import check_monotone
from deqtheory.sdp import min_lipschitz
from deqtheory.sdp.lmi import LIPSCHITZ_LMI, verify_lipschitz_witness

M_TINY = 3 * 2.0 ** -54


def _check_json(path, capsys):
    from deqtheory.cli import main

    assert main(["check", str(path), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_tiny_m_mondeq_is_certified_on_its_stored_parameters(tmp_path, capsys):
    p = tmp_path / "tiny.npz"
    save_model(p, MonDEQNet(np.zeros((2, 2)), np.zeros((2, 2)), M_TINY, np.eye(2)))
    kind, obj = read_model(p)
    assert check_monotone(deq_arrays(kind, obj)["W"]).margin > M_TINY     # fl(W) is more monotone than the model
    d = _check_json(p, capsys)
    mono = d["conditions"]["monotone"]
    assert mono["status"] == "certified" and 0 < mono["margin"] <= M_TINY      # was 2.2e-16 > m
    assert d["model"]["W_error"] > 0
    exact_L = 2.0 ** 54 / 3                                                    # 1/m: W = (1 − m)I, U = G = I
    lip = d["lipschitz"]
    assert lip["l2_analytic"]["status"] == "certified"
    assert exact_L <= lip["l2_analytic"]["L"] <= exact_L * (1 + 1e-9)        # was 4.50e15 < the true 6.00e15
    sdp = lip["l2_sdp"]
    assert sdp["status"] != "certified" or float(sdp["L"]) >= exact_L         # never below the true constant


def test_ordinary_mondeq_keeps_its_verdicts_and_states_the_stored_bound(tmp_path, capsys):
    rng = np.random.default_rng(0)
    n = 6
    net = MonDEQNet(rng.standard_normal((n, n)) / 3, rng.standard_normal((n, n)) / 3, 0.2,
                    rng.standard_normal((n, 3)), G=rng.standard_normal((2, n)))
    p = tmp_path / "mon.npz"
    save_model(p, net)
    d = _check_json(p, capsys)
    W = deq_arrays(*read_model(p))["W"]
    mono = d["conditions"]["monotone"]
    m_fl, delta = check_monotone(W).margin, d["model"]["W_error"]
    assert mono["status"] == "certified" and mono["stats"]["margin_computed_W"] == m_fl
    # the stored model's margin, not fl(W)'s: max(m_fl - W_error rounded down, the stored m)
    assert mono["margin"] == max(float(np.nextafter(m_fl - delta, -np.inf)), 0.2)
    assert 0.2 <= mono["margin"] < m_fl and m_fl - mono["margin"] <= 2 * delta
    sdp = d["lipschitz"]["l2_sdp"]
    assert sdp["status"] == "certified" and sdp["certificate"]["tolerance"]["W_error"] == d["model"]["W_error"]
    # the saved certificate re-verifies (with its W_error) against the file
    from deqtheory.cli import main
    cert = tmp_path / "c.npz"
    assert main(["check", str(p), "--save-certificate", str(cert)]) == 0
    capsys.readouterr()
    assert main(["verify", str(p), str(cert)]) == 0


def test_w_error_certificate_holds_for_every_w_within_it():
    """min_lipschitz with w_error δ proves F ≻ 0 for every W' with ‖W' − W‖₂ ≤ δ (checked on perturbed W')."""
    rng = np.random.default_rng(1)
    n = 5
    A, B = rng.standard_normal((n, n)) / 3, rng.standard_normal((n, n)) / 3
    W = 0.7 * np.eye(n) - A.T @ A + B - B.T
    U, G = rng.standard_normal((n, 2)), rng.standard_normal((2, n))
    delta = 1e-3
    c = min_lipschitz(W, U, G, w_error=delta)
    assert c.certified and c.tolerance["W_error"] == delta
    plain = min_lipschitz(W, U, G)
    assert plain.witness["L"] <= c.witness["L"]           # the stored-model proof is never the smaller claim
    for _ in range(5):
        D = rng.standard_normal((n, n))
        Wp = W + delta * D / np.linalg.norm(D, 2)
        assert verify_lipschitz_witness(Wp, U, G, c.witness["lam"], c.witness["L"], condition=LIPSCHITZ_LMI).certified
    assert not min_lipschitz(W, U, G, w_error=10.0).certified     # rounding larger than every margin: refused
    with pytest.raises(Exception):
        min_lipschitz(W, U, G, w_error=-1.0)
    assert c.verify(W=W, U=U, G=G).status is Status.CERTIFIED


# ------------------------------------------------------------------------------------------------
# every row of `check` is about the stored model (deqtheory.conditions_stored)
# ------------------------------------------------------------------------------------------------

from fractions import Fraction as Fr  # noqa: E402

from deqtheory.conditions_stored import stored_condition  # noqa: E402
from deqtheory.model import DEQ  # noqa: E402
from deqtheory.report import check_deq  # noqa: E402

W_FL = np.array([[0.5, 0.49], [0.49, 0.5]])      # fl(W): every closed-form row certified with slack 0.01
ROWS = ("monotone", "ibp_wellposed", "adjoint_contractive", "mu_inf", "pf_abs")


def _exact_plus_identity(W, delta):
    """W_exact = W + δI as exact rationals (‖δI‖₂ = δ: a stored model within W_error = δ of fl(W))."""
    n = W.shape[0]
    return [[Fr(float(W[i, j])) + (Fr(delta) if i == j else 0) for j in range(n)] for i in range(n)]


def _report(W, delta, sdp=False):
    n = W.shape[0]
    return check_deq(DEQ(W, np.eye(n), None, np.eye(n)), options={"W_error": delta, "sdp": sdp})


def test_rows_refuse_a_computed_w_whose_stored_model_fails():
    """fl(W) certifies every row; W_exact = fl(W) + 0.02 I (within W_error = 0.02) fails every one of them,
    proved in exact rational arithmetic with v = (1, 1). Before: all certified on fl(W) except ``monotone``."""
    delta = 0.02
    Wx = _exact_plus_identity(W_FL, delta)
    # exact: row sums of |W_exact| = M(W_exact) are >= 1 at v = 1, so alpha(M(W_exact)) = lambda_pf(|W_exact|)
    # >= 1 (lower Collatz-Wielandt bound): mu_inf (every eta) and pf_abs fail; 1^T |W| 1 >= 1^T 1, so
    # || |W_exact| ||_2 >= 1 (Rayleigh) and 1^T (I - |W_exact|) 1 <= 0: adjoint_contractive, ibp_wellposed,
    # monotone fail; det(I - W_exact) < 0, so the symmetric I - W_exact has a negative eigenvalue and no
    # diagonal Gamma > 0 makes sym(Gamma (I - W_exact)) > 0 (Lyapunov): sdp_wellposed fails.
    assert all(Wx[i][0] + Wx[i][1] >= 1 for i in range(2))
    assert sum(Wx[i][j] for i in range(2) for j in range(2)) >= 2
    assert (1 - Wx[0][0]) * (1 - Wx[1][1]) - Wx[0][1] * Wx[1][0] < 0
    plain = _report(W_FL, 0.0, sdp=True)
    assert all(plain.conditions[r].certified for r in ROWS + ("sdp_wellposed",))
    assert plain.lipschitz.linf.status is Status.CERTIFIED
    rep = _report(W_FL, delta, sdp=True)
    for r in ROWS + ("sdp_wellposed",):
        assert not rep.conditions[r].certified, r
        assert rep.conditions[r].margin <= 0 or np.isnan(rep.conditions[r].margin), r
    assert rep.lipschitz.linf.status is not Status.CERTIFIED and rep.lipschitz.linf.L == np.inf


def test_row_margins_never_exceed_the_stored_models():
    """W_error = 0.004: every row stays certified, each margin at most the stored model's exact margin
    (W_exact = fl(W) + 0.004 I: all five margins equal 1 - 0.994 = 0.006 exactly in rationals; before:
    0.01, the computed W's)."""
    delta = 0.004
    Wx = _exact_plus_identity(W_FL, delta)
    exact = 1 - (Wx[0][0] + Wx[0][1])                       # = 1 - lambda_max = lambda_min(I - W_exact), all rows
    assert exact == 1 - (Wx[1][0] + Wx[1][1]) and exact > 0
    rep = _report(W_FL, delta)
    for r in ROWS:
        c = rep.conditions[r]
        assert c.certified and 0 < c.margin <= exact, (r, c.margin, float(exact))
        assert c.margin < _report(W_FL, 0.0).conditions[r].margin
        assert c.tolerance["W_error"] == delta
    # the linf bound uses the raised mu: it is at least the stored model's value at mu = 0.994
    L_exact_mu = 1.0 / float(exact)                          # ||U||_inf ||G||_inf / (1 - mu), U = G = I, eta = 1
    assert rep.lipschitz.linf.status is Status.CERTIFIED and rep.lipschitz.linf.L >= L_exact_mu


def test_feedforward_is_never_certified_from_a_rounded_w():
    """A DAG fl(W) whose stored model may have a cycle (W_exact = fl(W) + δ e_1 e_2^T has 1 -> 2 -> 1)."""
    W = np.array([[0.0, 0.0], [0.5, 0.0]])
    assert _report(W, 0.0).conditions["feedforward"].certified
    c = _report(W, 1e-3).conditions["feedforward"]
    assert c.status is Status.INCONCLUSIVE and "exactly zero" in c.message
    cyc = np.array([[0.0, 0.5], [0.5, 0.0]])
    assert _report(cyc, 0.1).conditions["feedforward"].status is Status.REFUTED     # |entries| > W_error
    # W_error 0.6 allows W_exact = cyc - 0.5 e_1 e_2^T (no cycle, ||E||_2 = 0.5): the cycle is not proved
    assert _report(cyc, 0.6).conditions["feedforward"].status is Status.INCONCLUSIVE


def test_refutations_carry_over_only_when_the_witness_survives_the_rounding():
    W = np.array([[0.5, 0.7], [0.7, 0.5]])                   # every row refuted on fl(W) (lambda_max(|W|) = 1.2)
    plain = _report(W, 0.0)
    for r in ("monotone", "ibp_wellposed", "mu_inf", "pf_abs"):
        assert plain.conditions[r].status is Status.REFUTED, r
        assert _report(W, 1e-3).conditions[r].status is Status.REFUTED, r          # 0.2 >> the loss
        assert _report(W, 0.5).conditions[r].status is Status.INCONCLUSIVE, r       # W - 0.5 I would pass


def test_files_with_exact_w_are_unchanged():
    """W_error = 0 (dense files): every row is the check's own certificate, bit for bit."""
    from deqtheory.graph import is_feedforward
    from deqtheory.linalg import check_ibp_wellposed, check_mu_inf, check_pf_abs
    from deqtheory.spectrum import check_adjoint_contractive

    rng = np.random.default_rng(3)
    W = rng.standard_normal((5, 5)) * 0.15
    rep = _report(W, 0.0)
    direct = {"monotone": check_monotone(W), "ibp_wellposed": check_ibp_wellposed(W),
              "adjoint_contractive": check_adjoint_contractive(W), "mu_inf": check_mu_inf(W),
              "pf_abs": check_pf_abs(W), "feedforward": is_feedforward(W)}
    for r, c in direct.items():
        assert rep.conditions[r].to_dict() == c.to_dict(), r
        assert stored_condition(c, W, 0.0) is c
    assert "W_error" not in rep.model


def test_parametric_file_rows_are_about_the_stored_parameters(tmp_path, capsys):
    """The tiny-m MonDEQ file: W_exact = (1 - m)I, so lambda_min(sym(I - |W_exact|)) = m exactly; the check used
    to report ibp_wellposed certified with slack 2.2e-16 > m (fl(W) = (1 - 2^-52) I)."""
    p = tmp_path / "tiny.npz"
    save_model(p, MonDEQNet(np.zeros((2, 2)), np.zeros((2, 2)), M_TINY, np.eye(2)))
    W = deq_arrays(*read_model(p))["W"]
    from deqtheory.linalg import check_ibp_wellposed
    assert check_ibp_wellposed(W).certified and check_ibp_wellposed(W).margin > M_TINY
    d = _check_json(p, capsys)
    ibp = d["conditions"]["ibp_wellposed"]
    assert ibp["status"] != "certified" or ibp["margin"] <= M_TINY
    for r, c in d["conditions"].items():
        assert c["tolerance"].get("W_error") == d["model"]["W_error"] or c["status"] != "certified", r


def test_family_margin_is_about_the_stored_model_only():
    """MonDEQ, A = B = 0, m = 2^-54: fl(1 - m) = 1, so the computed W = I is not monotone (z = ReLU(z + v) is
    ill-posed) while the stored model is, with margin m. ``check`` reports the stored model (m); a certifier
    that solves with the computed W (``also_computed``, deqtheory_train) must not borrow the family's m."""
    m = 2.0 ** -54
    a = deq_arrays("mondeq", MonDEQNet(np.zeros((2, 2)), np.zeros((2, 2)), m, np.eye(2)))
    assert np.array_equal(a["W"], np.eye(2)) and a["W_margin"] == m
    c = check_monotone(a["W"])
    assert not c.certified
    st = stored_condition(c, a["W"], a["W_error"], a["W_margin"])
    assert st.certified and st.margin == m
    both = stored_condition(c, a["W"], a["W_error"], a["W_margin"], also_computed=True)
    assert not both.certified
    # when fl(W) is proved monotone too, the common margin is capped at fl(W)'s: valid for both models
    W = 0.5 * np.eye(3)
    cw = check_monotone(W)
    assert stored_condition(cw, W, 0.01, 0.7).margin == 0.7
    assert stored_condition(cw, W, 0.01, 0.7, also_computed=True).margin == cw.margin


def test_trainer_certifier_restates_its_margin_with_the_same_function():
    """deqtheory_train's DEQConstants proves ``monotone`` for the exported model's exact W: its margin is
    fl(W)'s lowered by formats.stored_rounding's W_error (the number ``check`` reports for the file)."""
    import torch
    from deqtheory.formats import stored_rounding
    from deqtheory_train.certify import prepare
    from deqtheory_train.layers import MonDEQLayer

    torch.manual_seed(0)
    plan = prepare(MonDEQLayer(4, 5, 3, dtype=torch.float64))
    plan.deq.point()
    r = stored_rounding(plan.deq.exported)
    got = plan.certificates()["monotone"]
    m_fl = check_monotone(plan.deq.Wn).margin
    assert r["W_error"] > 0 and got.tolerance["W_error"] == r["W_error"]
    assert got.certified and m_fl - 2 * r["W_error"] <= got.margin < m_fl
    assert plan.deq.constants["fixed_point_m"] <= got.margin


def test_conv_mondeq_file_is_checked_on_its_stored_kernels(tmp_path, capsys):
    """A conv MonDEQ (A = B = 0 kernels, m = 3·2^-54, 1 channel, 2 x 2 grid) is materialized densely as
    W = fl(1 - m) I = (1 - 2^-52) I; the stored model's W = (1 - m)I has every slack exactly m. Before, the
    file had no W_error: monotone and ibp_wellposed were certified with slack 2.2e-16 > m."""
    from deqtheory.formats import ConvMonDEQNet

    net = ConvMonDEQNet(np.zeros((1, 1, 1, 1)), np.zeros((1, 1, 1, 1)), np.ones((1, 1, 1, 1)), np.zeros(1), M_TINY, 2)
    p = tmp_path / "conv.npz"
    save_model(p, net)
    a = deq_arrays(*read_model(p))
    assert np.array_equal(a["W"], (1 - 2.0 ** -52) * np.eye(4)) and a["W_error"] > 0 and a["W_margin"] == M_TINY
    assert check_monotone(a["W"]).margin > M_TINY
    d = _check_json(p, capsys)
    assert d["model"]["W_error"] == a["W_error"]
    for r, c in d["conditions"].items():
        assert c["status"] != "certified" or c["margin"] <= M_TINY, r
    assert d["conditions"]["monotone"]["status"] == "certified"          # the stored m (family margin)


def test_conv_mondeq_w_error_bounds_the_rounding():
    """formats.stored_rounding of a random conv MonDEQ bounds ‖W_exact − fl(W)‖₂ (exact rationals)."""
    from deqtheory.circulant import conv_matrix
    from deqtheory.formats import ConvMonDEQNet, stored_rounding

    rng = np.random.default_rng(5)
    net = ConvMonDEQNet(rng.standard_normal((1, 1, 2, 2)), rng.standard_normal((1, 1, 2, 2)),
                        rng.standard_normal((1, 1, 2, 2)), np.zeros(1), 0.3, 2)
    W = net.dense()["W"]
    MA, MB = conv_matrix(net.A, 2), conv_matrix(net.B, 2)
    n = W.shape[0]
    Ex = [[(Fr(1) - Fr(0.3) if i == j else 0) - sum(Fr(float(MA[k, i])) * Fr(float(MA[k, j])) for k in range(n))
           + Fr(float(MB[i, j])) - Fr(float(MB[j, i])) - Fr(float(W[i, j])) for j in range(n)] for i in range(n)]
    fro = float(sum(e * e for row in Ex for e in row)) ** 0.5          # ‖E‖₂ ≤ ‖E‖_F
    assert fro <= stored_rounding(net)["W_error"]
