"""Conv DAG-LBEN (deqtheory_train.layers.conv_dag): the torch layer against the numpy reference
deqtheory.parametrizations.dag_lben on materialised convolution matrices, its exact forward
substitution against the dense fixed point, the SLL conversion, autograd, the eq. (7)
materialisation used for certification, and the tiny pipeline config end to end."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from deqtheory.circulant import conv_matrix
from deqtheory.errors import DomainError, ShapeError
from deqtheory.parametrizations.dag_lben import dag_lben, is_block_strictly_lower
from deqtheory.parametrizations.lben import lben_lhs
from deqtheory_train.export import to_deqtheory
from deqtheory_train.layers.conv import ConvLBEN
from deqtheory_train.layers.conv_dag import ConvDAGLBEN
from deqtheory_train.layers.explicit import SLLConv2d

torch.set_num_threads(1)
DT = torch.float64


def _layer(seed=0, N=5, blocks=(2, 3, 2), ic=2, k=3, eps=0.0, L=1.0, scale=1.0):
    torch.manual_seed(seed)
    lay = ConvDAGLBEN(2, sum(blocks), 2, N, blocks=blocks, kernel_size=k, identity_channels=ic, eps=eps, L=L, dtype=DT)
    with torch.no_grad():
        for p in (lay.G, lay.Ut, lay.V):
            p.mul_(scale)
        lay.log_q.copy_(0.3 * torch.randn(lay.channels, dtype=DT))
        lay.bias.copy_(0.5 * torch.randn(lay.channels, dtype=DT))
        lay.bias_y.copy_(torch.randn(2, dtype=DT))
    return lay


def _np(t):
    return t.detach().cpu().numpy()


def _reference(lay):
    """deqtheory's dense construction on the materialised convolution matrices."""
    N = lay.N
    G, Ut, V = (conv_matrix(_np(t), N) for t in (lay.G, lay.Ut, lay.V))
    q = np.repeat(np.exp(_np(lay.log_q)), N * N)
    return dag_lben(G, Ut, V, blocks=[b * N * N for b in lay.blocks], L=lay.L, eps=lay.eps, q=q), G


def _dense_solve(W, U, b, x, blocks, ident):
    """z = φ(Wz + Ux + b) by forward substitution over the dense blocks (φ = id on ``ident``)."""
    z = np.zeros(W.shape[0])
    e = np.concatenate([[0], np.cumsum(blocks)])
    for k in range(len(blocks)):
        s, t = e[k], e[k + 1]
        pre = W[s:t] @ z + U[s:t] @ x + b[s:t]
        z[s:t] = np.where(ident[s:t], pre, np.maximum(pre, 0.0))
    return z


@pytest.mark.theorem("havens2023:dag.lben")
@pytest.mark.parametrize("k,eps,L,seed", [(3, 0.0, 1.0, 0), (5, 0.1, 2.0, 1), (2, 0.0, 0.5, 2)])
def test_lambda_W_U_match_the_numpy_reference(k, eps, L, seed):
    lay = _layer(seed, k=k, eps=eps, L=L)
    ref, _ = _reference(lay)
    N = lay.N
    lam = _np(lay.lam())
    assert np.allclose(np.repeat(lam, N * N), ref.lam, rtol=1e-10, atol=0)
    d = to_deqtheory(lay).dense()
    assert np.allclose(d["W"], ref.W, atol=1e-10 * max(1.0, np.abs(ref.W).max()))
    assert np.allclose(d["U"], ref.U, atol=1e-10 * max(1.0, np.abs(ref.U).max()))
    assert is_block_strictly_lower(d["W"], [b * N * N for b in lay.blocks], tol=1e-10)


def test_forward_is_the_exact_fixed_point_of_the_dense_model_and_readout_is_Gz():
    lay = _layer(3)
    ref, G = _reference(lay)
    N, c = lay.N, lay.channels
    x = torch.randn(3, 2, N, N, dtype=DT)
    with torch.no_grad():
        z = lay(x)
        y = lay.readout(z)
        y2 = lay.forward_readout(x)
    ident = np.zeros(c * N * N, bool)
    ident[: lay.identity_channels * N * N] = True
    b = np.repeat(_np(lay.bias), N * N)
    by = np.repeat(_np(lay.bias_y), N * N)
    for i in range(3):
        zr = _dense_solve(ref.W, ref.U, b, _np(x[i]).ravel(), ref.blocks, ident)
        assert np.allclose(_np(z[i]).ravel(), zr, atol=1e-11)
        # the fixed-point equation itself, with the full dense W
        pre = ref.W @ zr + ref.U @ _np(x[i]).ravel() + b
        assert np.allclose(zr, np.where(ident, pre, np.maximum(pre, 0)), atol=1e-11)
        assert np.allclose(_np(y[i]).ravel(), G @ zr + by, atol=1e-11)
    assert torch.allclose(y, y2, atol=1e-12)


@pytest.mark.theorem("havens2023:dag.lben")
def test_lmi_holds_with_the_gershgorin_multiplier_on_the_materialised_layer():
    lay = _layer(4, eps=0.05)
    d = to_deqtheory(lay).dense()
    N = lay.N
    lam = np.repeat(_np(lay.lam()), N * N)
    lhs, err = lben_lhs(d["W"], lam, d["G"], d["U"], lay.L)
    assert np.linalg.eigvalsh(lhs).min() >= 2 * lay.eps - 1e-8
    # the proof's identity: LHS(4) = 2(VᵀV + εI) + 2(Λ − blkdiag P), with P from the reference
    ref, _ = _reference(lay)
    V = conv_matrix(_np(lay.V), N)
    assert np.allclose(lhs, 2 * (V.T @ V + lay.eps * np.eye(len(lam))) + 2 * ref.D, atol=1e-9)


def test_empirical_lipschitz_bound():
    lay = _layer(5, scale=3.0)
    g = torch.Generator().manual_seed(0)
    x1 = torch.randn(64, 2, lay.N, lay.N, dtype=DT, generator=g)
    x2 = x1 + 0.3 * torch.randn(x1.shape, dtype=DT, generator=g)
    with torch.no_grad():
        r = (lay.forward_readout(x1) - lay.forward_readout(x2)).flatten(1).norm(dim=1) / (x1 - x2).flatten(1).norm(dim=1)
    assert float(r.max()) <= lay.L * (1 + 1e-9)
    assert float(r.max()) > 0.05 * lay.L                        # not vacuous


def _sll(seed=0, c=3, h=4, depth=3, N=6):
    torch.manual_seed(seed)
    layers = [SLLConv2d(c, h, 3).to(DT) for _ in range(depth)]
    with torch.no_grad():
        for l in layers:
            for p in l.parameters():
                p.add_(0.3 * torch.randn_like(p))
    return layers


def test_from_sll_computes_the_sll_and_round_trips_through_eq7():
    N = 6
    layers = _sll(N=N)
    x = torch.randn(5, 3, N, N, dtype=DT)
    with torch.no_grad():
        h = x
        for l in layers:
            h = l(h)
        dag = ConvDAGLBEN.from_sll(layers, N)
        y = dag.forward_readout(x)
        assert float((y - h).abs().max()) <= 1e-12 * max(1.0, float(h.abs().max()))
        lb = dag.as_conv_lben()
        y2 = lb.readout(lb(x))
    assert lb.last_stats.converged and lb.solver_options["f_solver"] == "dag"
    assert float((y2 - y).abs().max()) <= 1e-12
    # the Gershgorin multiplier recovers Ψ⁻¹ of the conversion (Λ(I − W) has diagonal blocks Λ_k)
    ref = ConvLBEN.from_sll(layers, N)
    assert torch.allclose(dag.lam(), torch.exp(-ref.log_psi), rtol=1e-9)


def test_from_lben_refuses_a_non_nilpotent_lben():
    N = 5
    lb = ConvLBEN.from_sll(_sll(N=N), N)
    with torch.no_grad():
        lb.S[0, -1] += 1e-3
    with pytest.raises(DomainError):
        ConvDAGLBEN.from_lben(lb)
    with pytest.raises(DomainError):
        ConvDAGLBEN.from_lben(ConvLBEN(2, 4, 2, N, dtype=DT))       # no blocks


def test_autograd_through_the_substitution_matches_finite_differences():
    lay = _layer(6, N=4, blocks=(1, 2, 1), ic=1, k=2)
    x = torch.randn(2, 2, 4, 4, dtype=DT)
    w = torch.randn(2, 2, 4, 4, dtype=DT)

    def f():
        return (lay.forward_readout(x) * w).sum()

    f().backward()
    for name in ("G", "Ut", "V", "log_q", "bias", "bias_y"):
        p = getattr(lay, name)
        g = p.grad.clone()
        d = torch.randn_like(p)
        h = 1e-6
        with torch.no_grad():
            p.add_(h * d)
            fp = f()
            p.sub_(2 * h * d)
            fm = f()
            p.add_(h * d)
        fd = float((fp - fm) / (2 * h))
        assert abs(fd - float((g * d).sum())) <= 1e-5 * max(1.0, abs(fd)), name


def test_typed_errors():
    with pytest.raises(ShapeError):
        ConvDAGLBEN(1, 4, 1, 5, blocks=(2, 1))
    with pytest.raises(DomainError):
        ConvDAGLBEN(1, 4, 1, 5, blocks=(2, 2), identity_channels=3)
    with pytest.raises(DomainError):
        ConvDAGLBEN(1, 4, 1, 5, blocks=(2, 2), L=0.0)
    lay = _layer(0)
    with pytest.raises(ShapeError, match=r"\(1, 2, 6, 6\)"):
        lay(torch.zeros(1, 2, 6, 6, dtype=DT))


def test_margin_factors_and_conv_l2_of_a_dag_model_match_its_sll_source():
    """Before fine-tuning the DAG model computes the SLL's function: conv_l2 (on its eq. (7)
    materialisation) certifies the SLL's radii up to the widening allowances."""
    from deqtheory_train import data as D
    from deqtheory_train import experiment as X
    from deqtheory_train import models as M
    norm = {"mean": [0.1307], "std": [0.3081]}
    te = D.load_dataset("mnist", "test").subset(24)
    torch.manual_seed(0)
    src = M.build_convsll((1, 28, 28), 10, channels=2, hidden=3, depth=2, normalize=norm, seed=2).double()
    dag = M.convlben_dag_from_sll_model(src)
    assert isinstance(dag.body, ConvDAGLBEN) and dag.is_lben
    r_s = X.get_certifier("conv_l2")(src, te.x, te.y, norm="2", eps=[0.01])
    r_d = X.get_certifier("conv_l2")(dag, te.x, te.y, norm="2", eps=[0.01])
    ok = r_s.radius > 0
    assert ok.any() and np.array_equal(ok, r_d.radius > 0)
    assert np.all(r_d.radius[ok] <= r_s.radius[ok]) and np.all(r_s.radius[ok] - r_d.radius[ok] <= 1e-6)
    assert r_d.details["constants"]["kind"] == "conv_dag_lben"
    assert r_d.details["solver"]["max_iterations"] == len(dag.body.blocks)
    y = torch.as_tensor(te.y)
    with torch.no_grad():
        Ks, Kd = M.margin_lipschitz_factors(src, y), M.margin_lipschitz_factors(dag, y)
    assert torch.allclose(Ks, Kd)


def test_tiny_dag_pipeline_config_runs_and_certifies(tmp_path):
    from deqtheory_train import cli
    from deqtheory_train import experiment as X
    prev = None
    for name in ("convsll_margin_mnist_tiny", "convlben_dag_from_sll_margin_mnist_tiny"):
        cfg = json.loads((X.CONFIG_DIR / f"{name}.json").read_text())
        if prev is not None:
            cfg["model"]["kwargs"]["init_from"] = str(prev / "model.npz")
        p = tmp_path / f"{name}.json"
        p.write_text(json.dumps(cfg))
        out = tmp_path / name
        assert cli.main(["run", str(p), "--out", str(out), "--no-progress"]) == 0
        prev = out
    cert = json.loads((prev / "certify.json").read_text())
    acc = cert["certified_accuracy"]
    assert cert["details"]["constants"]["kind"] == "conv_dag_lben"
    assert all(0.0 <= a <= cert["clean_accuracy"] for a in acc) and acc == sorted(acc, reverse=True)
    assert X.load_config("convlben_dag_from_sll_margin_mnist")["model"]["builder"] == "convlben_dag_from_sll"
    # the fine-tuned model file reloads to the same function (no pickles: npz + config)
    from deqtheory_train.experiment import load_model_file
    m1, _ = load_model_file(prev / "model.npz")
    m2, _ = load_model_file(prev / "model.npz")
    xb = torch.randn(2, 1, 28, 28)
    with torch.no_grad():
        assert torch.equal(m1(xb), m2(xb))


def test_block_propagation_error_bound_is_sound():
    """conv_l2's fixed-point widening: for a nilpotent (converted) W the block bound ‖e‖ ≤ ‖a‖₂·ρ
    (a ≥ 1 + Ma, M_kj ≥ ‖W_kj‖₂) must cover the true error of perturbed solutions — checked against
    the exact fixed point on the dense model; the certifier uses the smaller of it and
    ‖r‖ + ‖W‖‖r‖ maxΛ/m_Λ."""
    from deqtheory_train.certify import _ConvLBENCert
    N = 5
    dag = ConvDAGLBEN.from_sll(_sll(N=N), N)
    with torch.no_grad():                            # a fine-tuned DAG-LBEN, not just the conversion
        for p in (dag.G, dag.Ut, dag.V):
            p.add_(0.02 * torch.randn_like(p))
    lb = dag.as_conv_lben()
    cert = _ConvLBENCert(lb)
    assert cert.block_gain is not None and cert.m_eff is not None
    mono = float(cert.fixed_point_error.__func__(type("C", (), {"m_eff": cert.m_eff, "W2": cert.W2,
                                                                 "block_gain": None})(), torch.ones(1)))
    one = torch.ones(1, dtype=DT)
    assert float(cert.fixed_point_error(one)) <= min(mono, cert.block_gain * (1 + 1e-5))
    d = to_deqtheory(lb).dense()
    W, U, b = d["W"], d["U"], d["b"]
    c = lb.channels
    ident = np.zeros(c * N * N, bool)
    ident[: lb.identity_channels * N * N] = True
    blocks = [k * N * N for k in lb.blocks]
    g = np.random.default_rng(0)
    worst = 0.0
    for trial in range(40):
        x = g.standard_normal(3 * N * N)
        zs = _dense_solve(W, U, b, x, blocks, ident)
        delta = g.standard_normal(zs.shape) * 10.0 ** g.uniform(-6, -1)
        if trial % 2:                                # an error in block 0 propagates through every later block
            delta[blocks[0]:] = 0.0
        z = zs + delta
        pre = W @ z + U @ x + b
        r = z - np.where(ident, pre, np.maximum(pre, 0.0))
        rho = torch.tensor([np.linalg.norm(r) * (1 + 1e-9) + 1e-300], dtype=DT)
        bound = float(cert.fixed_point_error(rho))
        err = float(np.linalg.norm(delta))
        assert err <= bound, (trial, err, bound)
        worst = max(worst, err / bound)
    assert worst > 1e-3                              # the check is not vacuous


def test_block_error_gain_refuses_without_blocks_or_with_strong_feedback():
    from deqtheory_train.certify import _block_error_gain
    g = torch.Generator().manual_seed(0)
    What = torch.randn(4, 4, 3, 3, dtype=torch.complex128, generator=g) * 0.01
    assert _block_error_gain(What, None, 0.0) is None
    low = What.clone()
    low[..., 0, 1:] = 0
    low[..., 1, 2] = 0
    low[..., 0, 0] = low[..., 1, 1] = low[..., 2, 2] = 0
    assert _block_error_gain(low, (1, 1, 1), 1e-12) is not None        # strictly lower: always verifies
    fb = What.clone()
    fb[..., 0, 0] = 1.5                                                # a diagonal block with gain > 1
    assert _block_error_gain(fb, (1, 1, 1), 0.0) is None
