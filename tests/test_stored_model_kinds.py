"""The explicit kinds' DEQ embeddings (sll, cpl, aol, sandwich, conv_sll) are computed from the stored
arrays in floating point: `deqtheory check` proves its rows for the embedding of the *stored* arrays (the
exact real W), with an entrywise rounding bound 𝓔 (formats.stored_rounding, conditions_stored.RoundingBound).
Oracle: exact rational arithmetic (fractions.Fraction) on the stored float64 values."""
from __future__ import annotations

from fractions import Fraction as F

import numpy as np
import pytest

from deqtheory import explicit as ex
from deqtheory import explicit_conv as ec
from deqtheory import formats as fm
from deqtheory.certificates import Certificate, Status
from deqtheory.conditions_stored import RoundingBound, stored_condition
from deqtheory.graph import is_feedforward
from deqtheory.model import DEQ
from deqtheory.report import check_deq


def _fr(A):
    return [[F(float(x)) for x in row] for row in np.atleast_2d(A)]


def _matmul(A, B):
    return [[sum((A[i][t] * B[t][j] for t in range(len(B))), F(0)) for j in range(len(B[0]))] for i in range(len(A))]


def _assert_bound(W_fl, W_exact_blocks, E):
    """|W_exact − fl(W)| ≤ 𝓔 entrywise, exactly; 𝓔 is zero wherever W_exact and fl(W) are both 0."""
    n = W_fl.shape[0]
    exact = [[F(0)] * n for _ in range(n)]
    for (r0, c0), blk in W_exact_blocks:
        for i, row in enumerate(blk):
            for j, v in enumerate(row):
                exact[r0 + i][c0 + j] = v
    for i in range(n):
        for j in range(n):
            err = abs(exact[i][j] - F(float(W_fl[i, j])))
            assert err <= F(float(E[i, j])), (i, j, float(err), E[i, j])
            if exact[i][j] == 0 and W_fl[i, j] == 0:
                assert E[i, j] == 0 or (i, j) in _computed_cells(W_exact_blocks), (i, j)


def _computed_cells(blocks):
    return {(r0 + i, c0 + j) for (r0, c0), blk in blocks for i, row in enumerate(blk) for j, _ in enumerate(row)}


def _sll(seed=0, kind="sll"):
    return ex.random_sll_stack(np.random.default_rng(seed), 3, [4, 3, 2], kind=kind)


def _sll_exact_blocks(stack):
    """Block (n+1, 0) = W_nᵀ (stored), block (n+1, k+1) = W_nᵀ(−2 W_k T_k⁻¹), exactly."""
    blocks = ex._blocks_from_sizes([stack.d] + [l.k for l in stack.layers])
    out = []
    for i, l in enumerate(stack.layers):
        WnT = _fr(l.W.T)
        out.append(((blocks[i + 1][0], 0), WnT))
        for k in range(i):
            Wk, Tk = _fr(stack.layers[k].W), [F(float(t)) for t in stack.layers[k].T]
            P = [[-2 * Wk[r][c] / Tk[c] for c in range(len(Tk))] for r in range(len(Wk))]
            out.append(((blocks[i + 1][0], blocks[k + 1][0]), _matmul(WnT, P)))
    return out


def _underflow_sll():
    """Layer 0 with huge weights (P_0 = −2W_0/T_0 ~ 1e-150), layer 1 with tiny ones (~1e-200, T_1 = 1e-300):
    the exact block W_1ᵀP_0 ~ 1e-350 underflows in float64."""
    rng = np.random.default_rng(5)
    W0 = rng.uniform(0.5, 1.0, size=(3, 2)) * 1e150
    W1 = rng.uniform(0.5, 1.0, size=(3, 2)) * 1e-200
    return ex.ResidualStack((ex.sll_layer(W0), ex.ResidualLayer(W1, np.full(2, 1e-300), kind="sll")))


@pytest.mark.parametrize("kind,make", [("sll", lambda: _sll(1)), ("cpl", lambda: _sll(1, "cpl")),
                                       ("sll", lambda: _sll(12)), ("sll", _underflow_sll)])
def test_sll_entrywise_bound_is_proved_exactly(kind, make):
    """Before: W_error = 0 for sll files (the rows were about fl(W)); the computed blocks differ from the
    stored model's, and 𝓔 bounds the difference entry by entry (also where the exact block underflows)."""
    st = make()
    a = fm.deq_arrays(kind, st)
    delta = a["W_error"]
    assert isinstance(delta, RoundingBound) and delta > 0
    blocks = _sll_exact_blocks(st)
    exact_differs = any(F(float(a["W"][blocks[-1][0][0] + i, blocks[-1][0][1] + j])) != v
                        for i, row in enumerate(blocks[-1][1]) for j, v in enumerate(row))
    assert exact_differs                        # the stored model is not the computed W
    _assert_bound(a["W"], blocks, delta.entrywise)
    assert float(np.linalg.norm(delta.entrywise)) <= delta


def _bracket(Dh, s):
    """Rationals lo ≤ s^{-1/2} ≤ hi (lo² s ≤ 1 ≤ hi² s) a few ulps around the float D̂."""
    for k in range(1, 64):
        lo, hi = F(float(Dh)), F(float(Dh))
        for _ in range(k):
            lo, hi = F(float(np.nextafter(float(lo), -np.inf))), F(float(np.nextafter(float(hi), np.inf)))
        if lo * lo * s <= 1 <= hi * hi * s:
            return lo, hi
    raise AssertionError("no bracket")


def test_aol_entrywise_bound_is_proved_exactly():
    """AOL: block (k, k−1) = W̃_k D_k with D_k = (Σ_j |W̃ᵀW̃|_ij)^{-1/2} (irrational): the oracle brackets the
    exact D between rationals lo ≤ D ≤ hi (lo² s ≤ 1 ≤ hi² s, s exact) and requires 𝓔 to cover the error at
    both ends (so at the exact value). Before: W_error = 0, no 𝓔."""
    net = ex.random_aol_net(np.random.default_rng(2), [3, 4, 3, 2])
    a = fm.deq_arrays("aol", net)
    assert isinstance(a["W_error"], RoundingBound) and a["W_error"] > 0
    E = a["W_error"].entrywise
    blocks = ex._blocks_from_sizes([w.shape[0] for w in net.weights])
    computed = np.zeros_like(E, dtype=bool)
    for k in range(1, len(net.weights)):
        Wt = net.weights[k]
        Wf = _fr(Wt)
        G = _matmul([list(r) for r in zip(*Wf)], Wf)
        (r0, _), (c0, _) = blocks[k], blocks[k - 1]
        computed[r0:r0 + Wt.shape[0], c0:c0 + Wt.shape[1]] = True
        for j in range(Wt.shape[1]):
            lo, hi = _bracket(ex.aol_scaling(Wt)[j], sum((abs(v) for v in G[j]), F(0)))
            for i in range(Wt.shape[0]):
                fl = F(float(a["W"][r0 + i, c0 + j]))
                assert max(abs(Wf[i][j] * lo - fl), abs(Wf[i][j] * hi - fl)) <= F(float(E[r0 + i, c0 + j]))
    assert np.all(E[~computed] == 0)                   # structural zeros are exact
    assert is_feedforward(np.abs(a["W"]) + E).certified


def test_aol_scaling_deviation_brackets_the_exact_scaling():
    """δD ≥ |D_exact − D̂| proved on a column with cancellation in W̃ᵀW̃: D_exact² = 1/s exactly (rationals),
    and D̂ ± δD brackets it."""
    from deqtheory.formats import _aol_scaling_deviation

    Wt = np.array([[1e8 + 1.0, 3.0, 0.0], [-1e8, 7.0, 0.0], [1.0 / 3.0, 2.0 ** -30, 0.0]])
    dev = _aol_scaling_deviation(Wt)
    D = ex.aol_scaling(Wt)
    Wf = _fr(Wt)
    G = _matmul([list(r) for r in zip(*Wf)], Wf)
    for j in range(2):
        s = sum((abs(v) for v in G[j]), F(0))
        lo, hi = F(float(D[j])) - F(float(dev[j])), F(float(D[j])) + F(float(dev[j]))
        assert lo * lo * s <= 1 <= hi * hi * s
    assert dev[2] == 0 and D[2] == 0                    # a zero column: D = 0 exactly (footnote 2)


def test_sandwich_entrywise_bound_is_proved_exactly():
    net = ex.random_sandwich_net(np.random.default_rng(3), 3, [4, 3, 2], 2)
    a = fm.deq_arrays("sandwich", net)
    E = a["W_error"].entrywise
    blocks = ex._blocks_from_sizes([B.shape[0] for B in net.B])
    exact = []
    for n in range(1, net.depth):
        Bn, phn, Am, phm = _fr(net.B[n]), [F(float(p)) for p in net.phi[n]], _fr(net.A[n - 1]), \
            [F(float(p)) for p in net.phi[n - 1]]
        X = [[Bn[i][j] / phn[i] for j in range(len(Bn[0]))] for i in range(len(Bn))]
        Y = [[Am[j][i] * phm[j] for j in range(len(Am))] for i in range(len(Am[0]))]
        exact.append(((blocks[n][0], blocks[n - 1][0]), [[2 * v for v in row] for row in _matmul(X, Y)]))
    _assert_bound(a["W"], exact, E)
    assert a["W_error"] > 0


def test_feedforward_rule_with_entrywise_bound():
    """supp(W_exact) ⊆ supp(fl W) ∪ supp(𝓔): a DAG union certifies, a cycle through entries above 𝓔 refutes,
    and 𝓔 that closes a cycle (or covers a cycle's entry) leaves it open."""
    W = np.array([[0.0, 0.0, 0.0], [0.5, 0.0, 0.0], [0.25, 0.5, 0.0]])
    c = is_feedforward(W)
    E = np.zeros((3, 3))
    E[2, 0] = 1e-16
    delta = RoundingBound(2e-16, E)
    assert stored_condition(c, W, delta).certified
    assert stored_condition(c, W, 2e-16).status is Status.INCONCLUSIVE     # a norm bound proves no zero
    E2 = E.copy()
    E2[0, 2] = 1e-16                                     # the rounding could close the cycle 0 → 2 → 0
    assert stored_condition(c, W, RoundingBound(2e-16, E2)).status is Status.INCONCLUSIVE
    cyc = np.array([[0.0, 0.3], [0.4, 0.0]])
    rc = is_feedforward(cyc)
    assert stored_condition(rc, cyc, RoundingBound(0.5, np.full((2, 2), 0.1))).status is Status.REFUTED
    Ec = np.zeros((2, 2))
    Ec[0, 1] = 0.3                                       # the entry 0.3 may be 0 in the stored model
    assert stored_condition(rc, cyc, RoundingBound(0.3, Ec)).status is Status.INCONCLUSIVE


def test_entrywise_bound_tightens_the_weighted_losses():
    """mu_inf / pf_abs lose max_i(𝓔η)_i/η_i with 𝓔 (never more than the norm-only loss)."""
    from deqtheory.conditions_stored import weighted_abs_loss

    w = np.array([1.0, 1e-3, 1.0])
    E = np.zeros((3, 3))
    E[2, 0] = 1e-10
    assert weighted_abs_loss(w, 1e-10, E) < weighted_abs_loss(w, 1e-10) and weighted_abs_loss(w, 1e-10, E) >= 1e-10


@pytest.mark.parametrize("kind,make", [
    ("sll", lambda: _sll(4)),
    ("aol", lambda: ex.random_aol_net(np.random.default_rng(5), [3, 4, 3, 2])),
    ("sandwich", lambda: ex.random_sandwich_net(np.random.default_rng(6), 3, [4, 3, 2], 2)),
    ("conv_sll", lambda: ec.random_conv_sll_stack(np.random.default_rng(7), 1, [2, 2], 3)),
])
def test_explicit_kinds_check_is_about_the_stored_model(kind, make, tmp_path):
    """`check` on the file: W_error > 0 recorded, feedforward certified for the stored model (entrywise),
    every row carries the W_error it was restated with."""
    from deqtheory.report import deq_from_arrays

    p = str(tmp_path / "m.npz")
    fm.save_model(p, make())
    k, obj = fm.read_model(p)
    assert k == kind
    a = fm.deq_arrays(k, obj, p)
    rep = check_deq(deq_from_arrays(a), kind=k, options={"sdp": False, "W_error": a["W_error"]})
    assert rep.model["W_error"] == float(a["W_error"]) > 0
    ff = rep.conditions["feedforward"]
    assert ff.certified and ff.tolerance["entrywise"] is True and ff.tolerance["W_error"] == float(a["W_error"])
    # without the entrywise bound the same δ proves nothing about the stored model's zeros
    rep2 = check_deq(deq_from_arrays(a), kind=k, options={"sdp": False, "W_error": float(a["W_error"])})
    assert rep2.conditions["feedforward"].status is Status.INCONCLUSIVE


def test_stored_w_kinds_unchanged(tmp_path):
    """Kinds whose W is stored (deq, a single SLL layer's embedding has no computed block) get W_error 0 and
    `check` rows bit-identical to the plain check."""
    rng = np.random.default_rng(8)
    W = rng.standard_normal((4, 4)) * 0.2
    model = DEQ(W, rng.standard_normal((4, 2)))
    p = str(tmp_path / "d.npz")
    fm.save_model(p, model)
    a = fm.load_model(p)
    assert a.get("W_error", 0.0) == 0.0
    r0 = check_deq(model, options={"sdp": False}).to_dict()
    r1 = check_deq(model, options={"sdp": False, "W_error": a.get("W_error", 0.0)}).to_dict()
    for r in (r0, r1):
        for key in [k for k in r if "tim" in k]:
            r.pop(key)
    assert "W_error" not in r1["model"] and repr(r0) == repr(r1)
    one = ex.random_sll_stack(rng, 3, [4])
    assert fm.deq_arrays("sll", one)["W_error"] == 0.0


# ---- matrix-free conv kinds: the W kernel computed from parameters (formats.kernel_rounding) -----------

def _nemon_net(seed, gam=0.25, c=2):
    rng = np.random.default_rng(seed)
    T = rng.uniform(0.1, 1.0, size=(c, c, 1, 1)) * 10.0 ** rng.uniform(0, 3, size=(c, c, 1, 1))
    return fm.ConvNonEuclideanNet(T, rng.uniform(-3, 3, size=c), np.ones((c, 1, 1, 1)), np.zeros(c), gam, 3)


def test_conv_nemon_margin_never_exceeds_the_stored_models():
    """Positive origin taps: the stored model's Metzler mass has (A_M η)_c/η_c = γ exactly (claim 3), so η is
    a positive eigenvector, α(A_M) = γ and no weight proves μ < γ: a certified margin must be ≤ 1 − γ (exact
    rationals). The computed kernel of this file (cancellation in the origin tap) proves 1 − γ + 2.2e-14;
    before, `check` reported that margin."""
    from deqtheory import conv_nemon
    from deqtheory.report import check_conv_ibp

    net = _nemon_net(20)
    on_fl = conv_nemon.conv_mu_inf(net.W_kernel(), net.N, eta=net.eta)
    assert on_fl.certified and F(on_fl.margin) > 1 - F(net.gamma)          # the computed kernel's claim
    rep = check_conv_ibp(net, kind=net.kind)
    c = rep.conditions["conv_mu_inf"]
    assert c.certified and F(c.margin) <= 1 - F(net.gamma)
    assert rep.model["kernel_error"] > 0 and "A_error" in c.witness
    assert c.verify(K=net.W_kernel(), N=net.N).certified                   # re-proved with the recorded allowance


def _mp_kernel(net):
    """The W kernel of the stored parameters at 60 digits (mpmath): the families' formulas in real arithmetic."""
    import mpmath as mp

    mp.mp.dps = 60
    f = lambda x: mp.mpf(float(x))  # noqa: E731
    if isinstance(net, fm.ConvNonEuclideanNet):
        T, eta, c = net.T, [mp.exp(f(v)) for v in net.log_eta], net.T.shape[0]
        K = np.empty(T.shape, dtype=object)
        for idx in np.ndindex(T.shape):
            K[idx] = eta[idx[0]] * f(T[idx]) / eta[idx[1]]
        o = ((T.shape[2] - 1) // 2, (T.shape[3] - 1) // 2)
        for ch in range(c):
            K[(ch, ch) + o] = f(T[(ch, ch) + o]) - sum(abs(f(x)) for x in T[ch].ravel()) + f(net.gamma)
        return K
    M, c = net.M, net.M.shape[0]
    A = [[sum(abs(f(x)) for x in M[o, i].ravel()) for i in range(c)] for o in range(c)]
    r = [(sum(A[ch][i] for i in range(c)) + sum(A[o][ch] for o in range(c))) / 2 for ch in range(c)]
    d = [r[ch] / (1 - f(net.m)) + mp.exp(f(net.log_slack[ch])) for ch in range(c)]
    g = [mp.mpf(1)] * c
    if net.beta is not None:
        G = None if net.gamma is None else f(net.gamma)
        g = [mp.exp(f(b)) if G is None else (G - 1) / G * (1 + mp.tanh(f(b) / 2)) / 2 + 1 / G for b in net.beta]
    K = np.empty(M.shape, dtype=object)
    for idx in np.ndindex(M.shape):
        K[idx] = g[idx[0]] * f(M[idx]) / mp.sqrt(d[idx[0]] * d[idx[1]]) / g[idx[1]]
    return K


@pytest.mark.parametrize("variant", ["ibp", "ibp_gamma", "ibp_exp", "nemon", "nemon_cancel"])
def test_kernel_rounding_bounds_the_exact_kernel(variant):
    """|K_exact − K̂| ≤ 𝓔 tap by tap (60-digit oracle), for each matrix-free family."""
    from deqtheory import conv_ibp, conv_nemon

    rng = np.random.default_rng(11)
    if variant.startswith("nemon"):
        net = _nemon_net(20) if variant == "nemon_cancel" else None
        if net is None:
            p = conv_nemon.ConvNonEuclidean(gamma=0.3).sample(rng, 3, 3, 5)
            net = fm.ConvNonEuclideanNet(p.T, p.log_eta, rng.standard_normal((3, 2, 3, 3)), np.zeros(3), 0.3, 5)
    else:
        gam = {"ibp": None, "ibp_gamma": 3.0, "ibp_exp": None}[variant]
        fam = conv_ibp.ConvIBPMonDEQ(m=0.1) if variant == "ibp" else conv_ibp.ConvIBPMonDEQGamma(m=0.1, gamma=gam)
        p = fam.sample(rng, 3, 3, 5, scale=40.0)
        net = fm.ConvIBPMonDEQNet(p.M, p.log_slack, rng.standard_normal((3, 2, 3, 3)), np.zeros(3), 0.1, 5,
                                  beta=None if variant == "ibp" else p.beta * 6, gamma=gam)
    E = fm.kernel_rounding(net)
    K = net.W_kernel()
    Kx = _mp_kernel(net)
    for idx in np.ndindex(K.shape):
        assert abs(Kx[idx] - float(K[idx])) <= float(E[idx]), (variant, idx)
    assert np.all(E > 0)


def test_conv_rows_use_the_kernel_bound_and_stored_kernels_are_unchanged(tmp_path):
    """Each matrix-free row is proved with masses widened by Σ_taps 𝓔 (margin ≤ the computed kernel's, witness
    A_error); a conv_kernel_deq file stores its kernel: no allowance, certificates identical to the plain ones."""
    from deqtheory import conv_ibp
    from deqtheory.report import check_conv_ibp

    rng = np.random.default_rng(3)
    p = conv_ibp.ConvIBPMonDEQ(m=0.1).sample(rng, 3, 3, 5)
    net = fm.ConvIBPMonDEQNet(p.M, p.log_slack, rng.standard_normal((3, 2, 3, 3)), np.zeros(3), 0.1, 5)
    rep = check_conv_ibp(net, kind=net.kind)
    for name, fn in (("conv_ibp_monotone", conv_ibp.conv_ibp_margin),
                     ("conv_abs_contraction", conv_ibp.conv_abs_contraction)):
        c, c_fl = rep.conditions[name], fn(net.W_kernel(), 5)
        assert c.certified and c.margin < c_fl.margin and "A_error" in c.witness
        assert c.verify(K=net.W_kernel(), N=5).certified
    assert fm.stored_rounding(net)["W_error"] > 0                  # the dense path carries conv_matrix(𝓔)
    kd = fm.ConvKernelDEQNet(net.W_kernel(), net.U, net.b, 5)
    assert fm.kernel_rounding(kd) is None and fm.stored_rounding(kd)["W_error"] == 0.0
    rk = check_conv_ibp(kd, kind="conv_kernel_deq")
    assert "kernel_error" not in rk.model
    for name, fn in (("conv_ibp_monotone", conv_ibp.conv_ibp_margin),
                     ("conv_abs_contraction", conv_ibp.conv_abs_contraction)):
        plain = fn(kd.K, 5)
        assert rk.conditions[name].margin == plain.margin and "A_error" not in rk.conditions[name].witness


def test_conv_lben_rows_say_they_are_about_the_computed_w(tmp_path, capsys):
    """conv_lben: W is an inverse FFT (no proved bound), so `check` keeps δ = 0 and says — in the JSON
    (`model.rows_about`) and in the table (a NOTE under the model line) — that the rows are about the computed
    W. Before: nothing said so, under a legend claiming every row is about the stored model."""
    import json

    from deqtheory import cli
    from deqtheory import convert as cv

    lb = cv.conv_sll_to_lben(ec.random_conv_sll_stack(np.random.default_rng(9), 1, [2], 3))
    p = str(tmp_path / "lb.npz")
    assert fm.save_model(p, lb) == "conv_lben"
    a = fm.deq_arrays("conv_lben", lb)
    assert a["W_error"] == 0.0 and "inverse FFT" in a["W_error"].unproved
    assert cli.main(["check", p, "--no-sdp", "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert "computed W" in rep["model"]["rows_about"] and "W_error" not in rep["model"]
    assert cli.main(["check", p, "--no-sdp"]) == 0
    assert "NOTE: conv_lben: W is the inverse FFT" in capsys.readouterr().out.splitlines()[1]
    with pytest.raises(Exception, match="delta = 0"):
        RoundingBound(1e-16, unproved="x")


def test_overflow_while_computing_w_is_not_proved_for_the_stored_model(tmp_path, capsys):
    """An AOL layer whose W̃ᵀW̃ overflows: numpy's D = 1/√inf = 0, so fl(W) has a zero block where the stored
    model's W̃D is O(1). Before, every row was proved for that zero block; now W_error = inf and each row is
    inconclusive, except feedforward (structural: still certified)."""
    from deqtheory import cli

    net = ex.random_aol_net(np.random.default_rng(0), [3, 4, 3, 2])
    ws = list(net.weights)
    ws[1] = ws[1] * 1e160
    with np.errstate(over="ignore", invalid="ignore"):      # numpy's own overflow in aol_scaling
        big = ex.AOLNet(tuple(ws), net.biases, net.out_weight, net.out_bias)
        p = str(tmp_path / "big.npz")
        fm.save_model(p, big)
        a = fm.deq_arrays("aol", big)
        assert float(a["W_error"]) == np.inf and not np.any(a["W"][4:7, 0:4])      # the computed block is 0
        rep = check_deq(DEQ(a["W"], a["U"], a["b"], a["G"], a["b_y"]), kind="aol",
                        options={"sdp": False, "W_error": a["W_error"]})
        for name, c in rep.conditions.items():
            assert c.status is (Status.CERTIFIED if name == "feedforward" else Status.INCONCLUSIVE), name
        assert rep.lipschitz.l2_analytic.status is Status.INCONCLUSIVE
        # the SDP rows take the same exit (report.check_deq: unbounded_condition when W_error = inf)
        from deqtheory.conditions_stored import unbounded_condition
        from deqtheory.sdp import sdp_wellposed
        wp = sdp_wellposed(a["W"])
        assert wp.certified and unbounded_condition(wp).status is Status.INCONCLUSIVE
        assert cli.main(["check", p, "--no-sdp"]) == 0 and "W_error = inf" in capsys.readouterr().out
