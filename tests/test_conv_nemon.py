"""The convolutional NEMON end to end: deqtheory.conv_nemon (parametrization, file kind, matrix-free check),
deqtheory_train.layers.conv_nemon (torch mirror, solves, Metzler lift), ConvLinfClassifier(family="nemon") and
the matrix-free certifier on it (deqtheory_train.certify.conv_linf).

Oracles, independent of the code under test: the convolutions materialised with deqtheory.circulant.conv_matrix,
the dense sound Metzler box of deqtheory.intervals.interval_bounds(..., method="metzler"), dense fixed points
iterated here, fixed points of the layer's own solver on sampled inputs, PGD and sampling attacks, the
`deqtheory check` / `deqtheory eval` CLI on the exported file.
"""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn

from deqtheory import circulant as _circ
from deqtheory import conv_nemon as CN
from deqtheory import formats as fm
from deqtheory import intervals as _iv
from deqtheory import linalg
from deqtheory.cli import main as deqtheory_main
from deqtheory.errors import DomainError, ShapeError
from deqtheory_train import cli
from deqtheory_train.certify.conv_linf import ConvLinfPlan, certify_conv_linf
from deqtheory_train.experiment.checkpoint import load_model_file
from deqtheory_train.export import to_deqtheory
from deqtheory_train.layers.conv_nemon import ConvNEMON, conv_nemon_weight_kernel, metzler_lift_kernel
from deqtheory_train.models.conv_linf import ConvLinfClassifier
# the model around a layer, its dense materialisation, inputs and the PGD attack (written independently of the
# certifier) are those of the conv IBP-MonDEQ certifier tests: they only use the layer's interface and export
from test_conv_linf_certify import _dense, _model, _pgd_margins, _x

torch.set_num_threads(1)
DT = torch.float64
TIGHT = {"f_tol": 1e-13, "f_stop_mode": "rel", "f_max_iter": 5000}


def _layer(c_in=1, c=2, N=4, k=3, gamma=0.0, seed=0, scale=3.0, **kw):
    L = ConvNEMON(c_in, c, N, k, gamma=gamma, seed=seed, dtype=DT, **{**TIGHT, **kw})
    g = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        L.T.mul_(scale)
        L.log_eta.copy_(torch.randn(c, generator=g, dtype=DT))
        L.U.copy_(torch.randn(L.U.shape, generator=g, dtype=DT))
        L.bias.copy_(torch.randn(c, generator=g, dtype=DT) * 0.3)
    return L


def _dense_fixed_point(W, v, iters=20000):
    """α-averaged iteration written out (jafarpour2022 Thm 5.1), α = 1/(1 − min(min diag W, 0))."""
    a = 1.0 / (1.0 - min(float(np.diag(W).min()), 0.0))
    z = np.zeros(W.shape[0])
    for _ in range(iters):
        z = (1 - a) * z + a * np.maximum(W @ z + v, 0.0)
    return z


# ---------------------------------------------------------------------------------------------- numpy side

def test_parametrization_validates_its_input():
    fam = CN.ConvNonEuclidean(gamma=0.0)
    p = fam.sample(np.random.default_rng(0), 2, 3)
    with pytest.raises(DomainError):
        CN.ConvNonEuclidean(gamma=1.0)
    with pytest.raises(ShapeError, match=r"\(2, 3, 3, 3\)"):
        fam.forward(CN.ConvNonEuclideanParams(T=np.zeros((2, 3, 3, 3)), log_eta=np.zeros(2)))
    with pytest.raises(ShapeError, match="log_eta"):
        fam.forward(CN.ConvNonEuclideanParams(T=p.T, log_eta=np.zeros(3)))
    with pytest.raises(TypeError):
        fam.forward(object())
    with pytest.raises(ShapeError):
        fam.sample(np.random.default_rng(0), 2, 5, N=4)
    with pytest.raises(ShapeError):
        CN.conv_mu_inf(fam.forward(p), 2)


def _net(seed=0, c=3, c_in=2, k=3, N=5, gamma=0.0):
    rng = np.random.default_rng(seed)
    p = CN.ConvNonEuclidean(gamma).sample(rng, c, k, N, scale=2.0)
    return fm.ConvNonEuclideanNet(p.T, p.log_eta, rng.standard_normal((c, c_in, 3, 3)), rng.standard_normal(c), gamma, N)


def test_file_kind_round_trips_and_checks_matrix_free(tmp_path, capsys):
    net = _net()
    path = tmp_path / "m.npz"
    assert fm.save_model(path, net) == "conv_noneuclidean"
    kind, obj = fm.read_model(path)
    assert kind == "conv_noneuclidean" and np.array_equal(obj.W_kernel(), net.W_kernel())
    assert obj.gamma == 0.0 and obj.N == 5 and obj.c == 3 and obj.c_in == 2
    assert deqtheory_main(["check", str(path), "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["model"]["matrix_free"] is True
    assert rep["conditions"]["conv_mu_inf"]["status"] == "certified"
    # evaluate (dense on this small grid) agrees with a fixed point iterated here
    X = np.random.default_rng(1).random((2, 2, 5, 5))
    Y, info = fm.evaluate(str(path), X)
    assert info["ok"]
    d = net.dense()
    for i in range(2):
        z = _dense_fixed_point(d["W"], d["U"] @ X[i].reshape(-1) + d["b"])
        np.testing.assert_allclose(Y[i].reshape(-1), z, atol=1e-8)


def test_file_refuses_bad_arrays():
    net = _net()
    with pytest.raises(ShapeError):
        fm.ConvNonEuclideanNet(net.T, net.log_eta, net.U[:2], net.b, 0.0, 5)
    with pytest.raises(ShapeError):
        fm.ConvNonEuclideanNet(net.T, net.log_eta, net.U, net.b, 0.0, 2)       # kernel larger than the grid
    with pytest.raises(DomainError):
        fm.ConvNonEuclideanNet(net.T, net.log_eta, net.U, net.b, 1.5, 5)


def test_check_uses_the_stored_eta_and_proves_the_dense_mu():
    net = _net(seed=4, gamma=-0.3)
    from deqtheory.report import check_conv_ibp
    r = check_conv_ibp(net, kind=net.kind)
    cert = r.conditions["conv_mu_inf"]
    assert cert.certified and set(r.conditions) == {"conv_mu_inf"}
    W = net.dense()["W"]
    eta = np.repeat(np.asarray(cert.witness["eta"]), net.N ** 2)
    assert linalg.mu_inf(W, eta) <= float(cert.witness["mu"]) <= -0.3 + 1e-9


# ---------------------------------------------------------------------------------------------- torch layer

@pytest.mark.parametrize("c,k,N", [(1, 1, 3), (2, 3, 5), (3, 2, 4), (32, 3, 14), (16, 5, 8)])
def test_torch_kernels_equal_the_numpy_formula_bit_for_bit(c, k, N):
    L = _layer(c, c, N, k, seed=c + k)
    obj = to_deqtheory(L)
    assert np.array_equal(L.weight_kernel().detach().numpy(), obj.W_kernel())
    assert np.array_equal(L.lift_kernel().detach().numpy(), CN.metzler_lift_kernel(obj.W_kernel()))
    assert np.array_equal(metzler_lift_kernel(torch.as_tensor(obj.W_kernel())).numpy(),
                          CN.metzler_lift_kernel(obj.W_kernel()))
    K32 = conv_nemon_weight_kernel(L.T.float(), L.log_eta.float(), L.gamma)
    assert K32.dtype == torch.float32 and np.allclose(K32.detach().numpy(), obj.W_kernel(), rtol=1e-5, atol=1e-6)


def test_forward_is_the_dense_fixed_point_and_gradients_flow():
    L = _layer(c_in=2, c=3, N=5, seed=2)
    W, U, b = _dense(L)
    x = _x(L, 3, 0)
    z = L(x)
    assert L.last_stats.converged and L.solver_options["f_solver"] == "alpha_avg"
    for i in range(3):
        np.testing.assert_allclose(z[i].detach().reshape(-1).numpy(), _dense_fixed_point(W, U @ x[i].reshape(-1).numpy() + b),
                                   atol=1e-9)
    z.square().sum().backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in (L.T, L.log_eta, L.U, L.bias))
    assert float(L.T.grad.abs().sum()) > 0 and float(L.log_eta.grad.abs().sum()) > 0


def test_lifted_solve_is_the_dense_metzler_fixed_point_and_contains_sampled_points():
    L = _layer(c_in=1, c=2, N=4, seed=3, lift_solver=dict(TIGHT))
    W, U, b = _dense(L)
    x = _x(L, 2, 1)
    lo, hi = (x - 0.1).clamp(min=0), (x + 0.1).clamp(max=1)
    zl, zu, (pl, pu) = L.lifted_solve(*L.injection_box(lo, hi), with_pre=True)
    assert L.last_lift_info.forward.converged
    M = _iv.metzler_lift(W)
    for i in range(2):
        vb = _iv.affine_box(U, b, _iv.Box(lo[i].reshape(-1).numpy(), hi[i].reshape(-1).numpy()))
        zh = _dense_fixed_point(M, np.concatenate([vb.upper, vb.lower]))
        n = W.shape[0]
        np.testing.assert_allclose(zu[i].detach().reshape(-1).numpy(), zh[:n], atol=1e-7)
        np.testing.assert_allclose(zl[i].detach().reshape(-1).numpy(), zh[n:], atol=1e-7)
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for _ in range(10):
            z = L(lo + (hi - lo) * torch.rand(lo.shape, generator=g, dtype=DT))
            assert bool((zl - 1e-9 <= z).all()) and bool((z <= zu + 1e-9).all())


def test_layer_validates_its_arguments():
    with pytest.raises(DomainError):
        ConvNEMON(1, 2, 4, 3, gamma=1.0)
    with pytest.raises(ShapeError):
        ConvNEMON(1, 2, 4, 5)
    with pytest.raises(ShapeError):
        ConvNEMON(1, 2, 4, 3, u_init="identity")
    with pytest.raises(DomainError):
        ConvNEMON(1, 2, 4, 3, u_init="xavier")
    L = ConvNEMON(2, 2, 4, 3, u_kernel_size=1, u_init="identity", dtype=DT)
    x = _x(L, 1, 0)
    assert torch.equal(L.injection(x), x)
    with pytest.raises(ShapeError):
        L.injection(x[:, :1])


def test_classifier_family_nemon_trains_with_the_metzler_lift():
    m = ConvLinfClassifier((1, 8, 8), 3, arch="deq3", stem=[[4, 3, 1]], channels=4, pool=2, family="nemon", seed=1)
    assert isinstance(m.layer, ConvNEMON) and m.layer.kind == "conv_noneuclidean"
    x = torch.rand(4, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    y = torch.tensor([0, 1, 2, 0])
    logits = m(x)
    marg, r = m.interval_margins((x - 0.05).clamp(min=0), (x + 0.05).clamp(max=1), y)
    assert logits.shape == (4, 3) and marg.shape == (4, 3) and bool((r["zl"] <= r["zu"]).all())
    marg.sum().backward()
    assert float(m.layer.T.grad.abs().sum()) > 0
    with pytest.raises(ValueError, match="family"):
        ConvLinfClassifier((1, 8, 8), 3, family="lben")
    with pytest.raises(ValueError, match="nemon"):
        ConvLinfClassifier((1, 8, 8), 3, family="nemon", m_warmup_eps_train=0.1)


def test_tiny_config_trains_through_the_cli_and_reloads(tmp_path, capsys):
    d = tmp_path / "run"
    assert cli.main(["run", "conv_nemon_tiny", "--out", str(d), "--no-progress", "--threads", "1"]) == 0
    capsys.readouterr()
    summ = json.loads((d / "summary.json").read_text())
    assert summ["status"] == "finished" and len(summ["certified_accuracy"]) == 2
    rows = [json.loads(line) for line in (d / "metrics.jsonl").read_text().splitlines()]
    train = [r for r in rows if "loss" in r and r.get("eps", 0) > 0]
    assert train and all(np.isfinite(r["loss"]) for r in train)
    model, _ = load_model_file(str(d / "model.npz"))
    assert isinstance(model.layer, ConvNEMON)
    obj = to_deqtheory(model.layer)
    assert obj.kind == "conv_noneuclidean" and np.array_equal(obj.T, model.layer.T.detach().double().numpy())


# ---------------------------------------------------------------------------------------------- certifier

def _box(x, eps):
    return (x - eps).clamp(min=0), (x + eps).clamp(max=1)


def _sampled(lo, hi, g, reps=10):
    """``reps`` uniform points and ``reps`` vertices of each box, stacked as (2·reps·B, ...)."""
    u = torch.rand((reps,) + tuple(lo.shape), generator=g, dtype=DT)
    return torch.cat([lo + (hi - lo) * u, torch.where(u > 0.5, hi, lo)]).flatten(0, 1)


@pytest.mark.theorem("jafarpour2022:thm6.3.conv")
@pytest.mark.parametrize("c_in,c,N,seed", [(1, 2, 4, 0), (1, 2, 4, 1), (2, 3, 5, 2)])
def test_matrix_free_box_agrees_with_the_dense_metzler_box_and_contains_sampled_fixed_points(c_in, c, N, seed):
    layer = _layer(c_in=c_in, c=c, N=N, seed=seed)
    plan = ConvLinfPlan(_model(layer), solver_options={"f_tol": 1e-13})
    deq = plan.deqs[0]
    assert deq.metzler and deq.m is None and deq.mu is not None and deq.solver_options["f_solver"] == "alpha_avg"
    W, U, b = _dense(layer)
    lo, hi = _box(_x(layer, 3, seed), 0.05)
    r = plan.boxes(lo, hi)
    assert not bool(r["bad"].any())
    dense = [_iv.interval_bounds(W, U, b, _iv.Box(lo[i].reshape(-1).numpy(), hi[i].reshape(-1).numpy()),
                                 method="metzler") for i in range(3)]
    assert all(d.certified for d in dense)
    np.testing.assert_allclose(r["lower"].numpy(), np.stack([d.box.lower for d in dense]), rtol=0, atol=1e-10)
    np.testing.assert_allclose(r["upper"].numpy(), np.stack([d.box.upper for d in dense]), rtol=0, atol=1e-10)
    with torch.no_grad():
        z = layer(_sampled(lo, hi, torch.Generator().manual_seed(seed))).reshape(-1, 3, c * N * N)
    assert layer.last_stats.converged
    assert bool((r["lower"] <= z).all()) and bool((z <= r["upper"]).all())


def _attacked_margin(model, x, y, eps, seed):
    """The smallest margin found in the clipped ε-box by sampling (uniform and vertices) and by PGD."""
    lo, hi = _box(x, eps)
    pts = _sampled(lo, hi, torch.Generator().manual_seed(seed), reps=5)
    with torch.no_grad():
        logits = model(pts)
    logits = logits.view(-1, x.shape[0], logits.shape[-1])
    yy = y[None, :, None].expand(logits.shape[0], -1, 1)
    other = logits.scatter(2, yy, -np.inf).amax(2)
    sampled = (logits.gather(2, yy)[..., 0] - other).amin(0)
    return torch.minimum(sampled, _pgd_margins(model, x, y, eps))


@pytest.mark.parametrize("seed", range(2))
def test_attacks_never_break_a_certified_point(seed):
    layer = _layer(c_in=1, c=2, N=4, seed=20 + seed, f_tol=1e-10)
    model = _model(layer, seed=seed)
    x = _x(layer, 12, 100 + seed)
    with torch.no_grad():
        y = model(x).argmax(1)
    eps_list = [0.01, 0.05]
    out = certify_conv_linf(model, x.numpy(), y.numpy(), norm="inf", eps=eps_list, batch_size=8)
    assert out.correct.all() and out.certified[:, 0].sum() > 0, "the test needs certified points"
    for k, eps in enumerate(eps_list):
        cert = torch.as_tensor(out.certified[:, k])
        assert bool((_attacked_margin(model, x, y, eps, seed)[cert] > 0).all())
    assert bool((_attacked_margin(model, x, y, 1.0, seed) <= 0).any())      # the attacks have teeth


@pytest.mark.parametrize("tol", [1e-3, 1e-6])
def test_a_loose_solve_is_widened_to_contain_the_exact_box(tol):
    model = _model(_layer(c_in=1, c=3, N=5, seed=7))
    lo, hi = _box(_x(model[0], 3, 9), 0.05)
    boxes = {t: ConvLinfPlan(model, solver_options={"f_tol": t}).boxes(lo, hi) for t in (1e-14, tol)}
    tight, loose = boxes[1e-14], boxes[tol]
    assert not bool(loose["bad"].any())
    assert bool((loose["lower"] <= tight["lower"] + 1e-13).all()) and bool((loose["upper"] >= tight["upper"] - 1e-13).all())
    width = {t: float((b["upper"] - b["lower"]).sum()) for t, b in boxes.items()}
    assert width[tol] > width[1e-14]          # widened, not exact


def test_the_certified_constants_are_the_exported_kernel_and_a_failed_solve_certifies_nothing():
    layer = _layer(seed=2)
    model = _model(layer)
    plan = ConvLinfPlan(model)
    Kfile = to_deqtheory(layer).W_kernel()
    np.testing.assert_array_equal(plan.deqs[0].K.numpy(), Kfile)
    cert = plan.deqs[0].certificates["conv_mu_inf"]
    assert plan.deqs[0].mu == float(cert.witness["mu"]) and cert.verify(K=Kfile, N=layer.N).certified
    assert plan.info()[0]["interval"] == "metzler (conv lift)"
    x = _x(layer, 4, 0)
    with torch.no_grad():
        y = model(x).argmax(1)
    ok = certify_conv_linf(model, x.numpy(), y.numpy(), norm="inf", eps=[0.0, 0.01])
    bad = certify_conv_linf(model, x.numpy(), y.numpy(), norm="inf", eps=[0.0, 0.01], solver_options={"f_max_iter": 1})
    assert ok.certified.any()
    assert not bad.certified.any() and not bad.correct.any()
