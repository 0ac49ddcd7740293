"""The Lipschitz rows of ``deqtheory check`` are proved for the stored U and G (issue 15 item 1): kinds that compute
U or G from stored arrays (SLL's G, AOL's scaled first / last weights, Sandwich's √(2L) blocks, CerDEQ's row scale)
carry proved bounds ``U_error`` / ``G_error`` (:func:`deqtheory.formats.stored_rounding`), and every Lipschitz row
(closed forms, the LMI and its ``verify``, ℓ∞) is widened by them; stored U, G (kind ``deq``) change nothing."""

import math

import numpy as np
import pytest

from deqtheory import explicit as ex
from deqtheory import formats as fm
from deqtheory.certificates import Status
from deqtheory.model import DEQ
from deqtheory.report import check_deq, deq_from_arrays
from deqtheory.sdp import min_lipschitz
from deqtheory.sdp.lmi import verify_lipschitz_witness


def _check(kind, obj):
    """``deqtheory check``'s path: the DEQ arrays with every rounding bound passed on as options."""
    arrays = fm.deq_arrays(kind, obj)
    opts = {k: arrays[k] for k in ("W_error", "W_margin", "U_error", "G_error") if k in arrays}
    return check_deq(deq_from_arrays(arrays), kind=kind, options=opts), arrays


def test_aol_output_scaling_underflow_is_not_certified_as_lipschitz_zero():
    # W̃_out = 1e-200: W̃ᵀW̃ = 1e-400 underflows, the computed D is 0 and so the computed G = 0 — but the stored
    # model's exact output layer is W̃_out/|W̃_out| = 1, so y depends on x (the exact L is > 0). The old rows
    # certified L = 5e-324 (closed forms) and "L = 0, not applicable" (LMI) for the computed G.
    net = ex.AOLNet(weights=(np.array([[1.0, 0.5]]),), biases=(np.zeros(1),), out_weight=np.array([[1e-200]]))
    rep, arrays = _check("aol", net)
    assert np.all(arrays["G"] == 0) and arrays["G_error"] == math.inf
    lip = rep.lipschitz
    assert lip.l2_analytic.status is not Status.CERTIFIED
    assert lip.linf.status is not Status.CERTIFIED
    assert lip.l2_sdp.status is Status.INCONCLUSIVE


def test_conv_aol_kernel_scaling_underflow_is_not_certified_as_lipschitz_zero():
    # conv_aol embeds with W = 0 and U = 𝓜_{K̃D}: K̃ ~ 1e-200 makes the Gram sum underflow, D = 0, U = 0
    from deqtheory.explicit_conv import ConvAOLLayer

    K = np.full((1, 1, 2, 2), 1e-200)
    rep, arrays = _check("conv_aol", ConvAOLLayer(K, None, 3))
    assert np.all(arrays["U"] == 0) and arrays["U_error"] == math.inf
    assert rep.lipschitz.l2_analytic.status is not Status.CERTIFIED
    assert rep.lipschitz.l2_sdp.status is Status.INCONCLUSIVE
    # a normal conv AOL kernel: U's bound is finite and tiny, and the rows stay certified
    rng = np.random.default_rng(0)
    layer = ConvAOLLayer(rng.standard_normal((2, 2, 2, 2)), None, 3)
    e = fm.stored_rounding(layer)["U_error"]
    assert 0.0 < e < 1e-12
    rep, _ = _check("conv_aol", layer)
    assert rep.lipschitz.l2_analytic.status is Status.CERTIFIED and rep.lipschitz.l2_sdp.certified
    assert rep.lipschitz.l2_sdp.tolerance["U_error"] == e


def _sll(seed=0):
    rng = np.random.default_rng(seed)
    W0, W1 = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    T = [np.abs(w.T @ w).sum(axis=1) * 1.5 for w in (W0, W1)]       # T ≥ SLL's tight value: a valid SLL
    return ex.ResidualStack(layers=(ex.ResidualLayer(W=W0, T=T[0], b=np.zeros(3)),
                                    ex.ResidualLayer(W=W1, T=T[1], b=np.zeros(3))))


def test_computed_g_carries_a_proved_bound_and_every_row_uses_it():
    net = _sll()
    r = fm.stored_rounding(net)
    assert r["U_error"] == 0.0 and 0.0 < r["G_error"] < 1e-13      # U = [I; 0] exact; G's blocks fl(−2W/T)
    rep, arrays = _check("sll", net)
    c = rep.lipschitz.l2_sdp
    assert c.certified and c.tolerance["G_error"] == r["G_error"]
    assert "U_error" not in c.tolerance
    # the dual refutation is proved for every G within G_error too (lmi.verify_lipschitz_refutation), so the
    # minimal claim is about the stored model
    assert c.stats["minimal"] is True and 0 < c.stats["L_lower"] <= float(c.witness["L"])
    # `deqtheory verify` re-reads the widened claim: the stored witness re-verifies; widened further, it is harder
    model = deq_from_arrays(arrays)
    assert c.verify(W=model.W, U=model.U, G=model.G).certified
    assert "(norms raised by the rounding of U, G" in rep.lipschitz.l2_analytic.bounds["pabbaraju2021:thm1"].detail \
        or "U, G rounding" in rep.lipschitz.l2_analytic.bounds["pabbaraju2021:thm1"].detail


def test_lmi_witness_holds_for_every_u_g_within_the_errors():
    # A tiny instance where the widening matters: the minimal L for the computed (U, G) is beaten by the stored
    # (U + ΔU, G + ΔG) at ‖ΔU‖, ‖ΔG‖ = 1e-2; the widened certificate's witness holds for them.
    rng = np.random.default_rng(3)
    n, d, p = 4, 2, 2
    W = 0.3 * rng.standard_normal((n, n))
    W = W - (np.max(np.linalg.eigvalsh(0.5 * (W + W.T))) - 0.5) * np.eye(n)   # sym(I − W) ⪰ 0.5 I
    U, G = rng.standard_normal((n, d)), rng.standard_normal((p, n))
    eu = eg = 1e-2
    plain = min_lipschitz(W, U, G)
    wide = min_lipschitz(W, U, G, u_error=eu, g_error=eg)
    assert plain.certified and wide.certified
    assert wide.tolerance["U_error"] == eu and wide.tolerance["G_error"] == eg
    Lp, Lw = float(plain.witness["L"]), float(wide.witness["L"])
    assert Lw > Lp
    dU, dG = eu * U / np.linalg.norm(U, 2), eg * G / np.linalg.norm(G, 2)        # the stored arrays, scaled up
    assert not verify_lipschitz_witness(W, U + dU, G + dG, plain.witness["lam"], Lp, condition="lipschitz_lmi").certified
    for k in range(4):
        r = np.random.default_rng(10 + k)
        DU, DG = r.standard_normal((n, d)), r.standard_normal((p, n))
        DU *= eu / np.linalg.norm(DU, 2) * (1 - 1e-9)
        DG *= eg / np.linalg.norm(DG, 2) * (1 - 1e-9)
        for sU, sG in ((DU, DG), (dU * (1 - 1e-9), dG * (1 - 1e-9))):
            assert verify_lipschitz_witness(W, U + sU, G + sG, wide.witness["lam"], Lw,
                                            condition="lipschitz_lmi").certified
    # `verify` re-reads U_error / G_error: the certificate with the errors re-verifies, and a forged larger error
    # (a harder claim) is re-checked, not trusted
    assert wide.verify(W=W, U=U, G=G).certified
    forged = wide.replace(tolerance={**dict(wide.tolerance), "U_error": 10.0})
    assert not forged.verify(W=W, U=U, G=G).certified


@pytest.mark.parametrize("which", ["sll", "sandwich"])
def test_closed_forms_and_linf_are_widened_by_u_g_errors(which):
    kind, net = ("sll", _sll(1)) if which == "sll" else _sandwich()
    rep, arrays = _check(kind, net)
    plain = check_deq(deq_from_arrays(arrays), kind=kind,
                      options={"W_error": arrays["W_error"], "W_margin": arrays["W_margin"]})
    rows = [k for k, b in plain.lipschitz.l2_analytic.bounds.items() if b.status is Status.CERTIFIED]
    assert rows
    for row in rows:
        assert rep.lipschitz.l2_analytic.bounds[row].status is Status.CERTIFIED
        assert rep.lipschitz.l2_analytic.bounds[row].L > plain.lipschitz.l2_analytic.bounds[row].L
    if which == "sandwich":
        assert rep.lipschitz.linf.status is Status.CERTIFIED
        assert rep.lipschitz.linf.L > plain.lipschitz.linf.L


@pytest.mark.parametrize("seed", [0, 1])
def test_stored_u_g_deq_files_are_bit_identical(seed):
    rng = np.random.default_rng(seed)
    n = 4
    W = 0.2 * rng.standard_normal((n, n))
    model = DEQ(W, rng.standard_normal((n, 2)), None, rng.standard_normal((2, n)))
    r = fm.stored_rounding(model)
    assert r["U_error"] == 0.0 and r["G_error"] == 0.0
    rep, _ = _check("deq", model)
    old = check_deq(model, kind="deq", options={"W_error": 0.0, "W_margin": None})
    a, b = rep.lipschitz, old.lipschitz
    assert a.l2_analytic.to_dict() == b.l2_analytic.to_dict() and a.linf.to_dict() == b.linf.to_dict()
    assert (a.l2_sdp.status, a.l2_sdp.margin, a.l2_sdp.message) == (b.l2_sdp.status, b.l2_sdp.margin, b.l2_sdp.message)
    assert float(a.l2_sdp.witness["L"]) == float(b.l2_sdp.witness["L"])
    assert np.array_equal(a.l2_sdp.witness["lam"], b.l2_sdp.witness["lam"])
    assert dict(a.l2_sdp.tolerance) == dict(b.l2_sdp.tolerance)
    assert "U_error" not in rep.model and "G_error" not in rep.model


def _sandwich():
    return "sandwich", ex.random_sandwich_net(np.random.default_rng(0), 3, [4, 3], 2)


def _scaled_mondeq():
    rng = np.random.default_rng(0)
    A, B = 0.3 * rng.standard_normal((3, 3)), 0.3 * rng.standard_normal((3, 3))
    m = fm.MonDEQNet(A, B, 0.5, rng.standard_normal((3, 2)), rng.standard_normal((2, 3)))
    return "mondeq", fm.FamilyNet(m.family, m.params, m.U, m.G, None, None, scale=np.array([0.5, 0.7, 0.3]))


@pytest.mark.parametrize("make,has_g", [(_sandwich, True), (_scaled_mondeq, False)])
def test_sandwich_and_row_scaled_u_are_bounded_and_the_lmi_carries_the_bounds(make, has_g):
    kind, net = make()
    r = fm.stored_rounding(net)
    assert 0.0 < r["U_error"] < 1e-13 and (0.0 < r["G_error"] < 1e-13 if has_g else r["G_error"] == 0.0)
    rep, arrays = _check(kind, net)
    c = rep.lipschitz.l2_sdp
    assert c.certified and c.tolerance["U_error"] == r["U_error"]
    assert ("G_error" in c.tolerance) == has_g
    model = deq_from_arrays(arrays)
    assert c.verify(W=model.W, U=model.U, G=model.G).certified
    assert rep.lipschitz.l2_analytic.status is Status.CERTIFIED and rep.lipschitz.linf.status is Status.CERTIFIED
    assert rep.model["U_error"] == r["U_error"]


def test_the_check_command_passes_the_u_g_bounds(tmp_path, capsys):
    """``deqtheory check FILE`` (not only the library path above) reports the stored model's Lipschitz rows:
    the AOL file whose computed G underflows to 0 is never certified L ≈ 0 on the command line either."""
    import json

    from deqtheory import cli as dcli

    net = ex.AOLNet(weights=(np.array([[1.0, 0.5]]),), biases=(np.zeros(1),), out_weight=np.array([[1e-200]]))
    fm.save_model(tmp_path / "aol.npz", net)
    capsys.readouterr()
    assert dcli.main(["check", str(tmp_path / "aol.npz"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    lip = out["lipschitz"]
    assert out["model"]["G_error"] == "inf"
    assert all(lip[row]["status"] != "certified" for row in ("l2_analytic", "linf", "l2_sdp")), lip


def test_dual_refutation_holds_for_every_w_u_g_within_the_errors():
    """The proved lower bound on the minimal L (a dual refutation of (10) at L_low) is proved for every stored
    (W + ΔW, U + ΔU, G + ΔG) within the errors: re-checked with no error on perturbed arrays (random and
    worst-case directions, ΔW on the diagonal moving the box λ̄), it still refutes; the errors are recorded and
    re-read, and a forged larger error is re-checked, not trusted."""
    from deqtheory.sdp import minimal as mn
    from deqtheory.sdp.api import _min_l_attempt, _anchor, _wellposedness
    from deqtheory.sdp.lmi import verify_lipschitz_refutation, _refutation

    rng = np.random.default_rng(5)
    n, d, p = 4, 2, 2
    W = 0.3 * rng.standard_normal((n, n))
    W = W - (np.max(np.linalg.eigvalsh(0.5 * (W + W.T))) - 0.5) * np.eye(n)
    U, G = rng.standard_normal((n, d)), rng.standard_normal((p, n))
    ew, eu, eg = 1e-4, 1e-4, 1e-4
    cert = min_lipschitz(W, U, G, w_error=ew, u_error=eu, g_error=eg)
    assert cert.certified and cert.stats["L_lower"] > 0
    # the refutation itself: rebuild it as min_lipschitz does (structured backend, the same scaling)
    source, anchor_g, _ = _wellposedness(W, None, "structured", 1e-9, ew, True)
    g, tg = anchor_g
    att = _min_l_attempt(W, U, G, 1.0, 1.0, _anchor(W, U, G, g, tg), "structured", 1e-9, ew, (eu, eg))
    ref = att["refutation"]
    assert ref is not None and ref.tolerance == {"W_error": ew, "U_error": eu, "G_error": eg}
    L, V = ref.witness["L"], ref.witness["V"]
    for k in range(6):
        r = np.random.default_rng(20 + k)
        DW = np.diag(r.choice([-1.0, 1.0], n)) if k % 2 else r.standard_normal((n, n))
        DU, DG = r.standard_normal((n, d)), r.standard_normal((p, n))
        DW *= ew / np.linalg.norm(DW, 2) * (1 - 1e-9)
        DU *= eu / np.linalg.norm(DU, 2) * (1 - 1e-9)
        DG *= eg / np.linalg.norm(DG, 2) * (1 - 1e-9)
        assert verify_lipschitz_refutation(W + DW, U + DU, G + DG, L, V, condition="lipschitz_lmi").status is Status.REFUTED
    assert _refutation(ref, W, U, G).status is Status.REFUTED                   # re-read errors: re-proved
    forged = ref.replace(tolerance={**dict(ref.tolerance), "G_error": 1e3})
    assert _refutation(forged, W, U, G).status is not Status.REFUTED
