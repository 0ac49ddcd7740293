"""li2022's conv CerDEQ end to end: the layer (deqtheory_train.layers.conv_cerdeq), its file kind
``conv_kernel_deq`` (deqtheory.formats.ConvKernelDEQNet), the matrix-free check, the conv ℓ∞ certifier on it
(deqtheory_train.certify.conv_linf), the stacked classifier (models.conv_linf.ConvCerDEQClassifier) and configs.

Oracles, independent of the code under test: the numpy recipe deqtheory.parametrizations.cerdeq.conv_cerdeq_kernel,
Gram matrices of the reshaped kernel, central finite differences, the convolutions materialised with
deqtheory.circulant.conv_matrix and the dense sound IBP box of deqtheory.intervals, fixed points iterated here,
PGD and sampling attacks (tests/test_conv_linf_certify.py), `deqtheory check` / `deqtheory eval` on the file.
"""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from torch import nn

from deqtheory import formats as fm
from deqtheory import spectrum
from deqtheory import intervals as _iv
from deqtheory.cli import main as deqtheory_main
from deqtheory.errors import DomainError, ShapeError
from deqtheory.parametrizations.cerdeq import conv_cerdeq_kernel as np_kernel
from deqtheory_train import cli
from deqtheory_train.certify.conv_linf import ConvLinfPlan, certify_conv_linf
from deqtheory_train.experiment.checkpoint import load_model_file
from deqtheory_train.export import to_deqtheory
from deqtheory_train.layers.conv_cerdeq import ConvCerDEQ
from deqtheory_train.models.conv_linf import ConvCerDEQClassifier
# the model around a layer, its dense materialisation, inputs, dense fixed points (α-averaged iteration written
# out), ε-boxes, sampled points and the attacks (PGD and sampling), all written independently of the certifier
from test_conv_linf_certify import _dense, _model, _x
from test_conv_nemon import DT, TIGHT, _attacked_margin, _box, _dense_fixed_point, _sampled

torch.set_num_threads(1)


def _randomized(module, seed, **scales):
    """``module`` with each named parameter set to a seeded N(0, scale²) draw; a name prefixed ``add_`` is
    perturbed by that draw instead of replaced."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, sc in scales.items():
            p = getattr(module, name.removeprefix("add_"))
            draw = sc * torch.randn(p.shape, generator=g, dtype=p.dtype)
            p.copy_(p + draw if name.startswith("add_") else draw)
    return module


def _layer(c_in=1, c=2, N=4, k=3, seed=0, noise=0.5, n_iter=5, **kw):
    """A float64 layer with a perturbed (not orthogonal) raw kernel and random U₀, bias, scale logits."""
    L = ConvCerDEQ(c_in, c, N, k, n_iter=n_iter, seed=seed, dtype=DT, **{**TIGHT, **kw})
    return _randomized(L, seed + 1, add_V=noise, U0=1.0, bias=0.3, theta=1.0)


# ---------------------------------------------------------------------------------------------- kernel

@pytest.mark.parametrize("c,k,n_iter", [(1, 1, 5), (2, 3, 5), (3, 2, 7), (4, 3, 30), (8, 1, 30)])
def test_kernel_is_the_numpy_recipe_with_near_orthonormal_rows(c, k, n_iter):
    L = _layer(c, c, 4, k, seed=c + k, n_iter=n_iter)
    O = L.orth_kernel().detach().numpy()
    ref = np_kernel(L.V.detach().numpy(), n_iter)
    np.testing.assert_allclose(O, ref, rtol=0, atol=1e-14)
    n = c * k * k
    R = O.reshape(c, n) * math.sqrt(n)                  # the Björck iterate, rows near-orthonormal
    G = R @ R.T
    if n_iter == 30:
        assert np.abs(G - np.eye(c)).max() <= 1e-12
    # the rows never grow (p maps [0, 1] into itself): every row of O/√n has ℓ1 mass ≤ 1
    assert np.linalg.eigvalsh(G)[-1] <= 1 + 1e-12
    assert np.abs(O).reshape(c, n).sum(1).max() <= 1 + 1e-12
    # the effective kernel and U are the per-channel scale times O/√n and U₀, with 0 < s < s_max
    s = L.scale().detach().numpy()
    assert np.all((0 < s) & (s < L.s_max))
    np.testing.assert_array_equal(L.weight_kernel().detach().numpy(), s[:, None, None, None] * O)
    np.testing.assert_array_equal(L.U.detach().numpy(), s[:, None, None, None] * L.U0.detach().numpy())


def test_numpy_recipe_refuses_bad_kernels():
    with pytest.raises(ShapeError, match=r"\(5, 1, 2, 2\)"):
        np_kernel(np.ones((5, 1, 2, 2)))                 # 5 rows in R^4 cannot be orthonormal
    with pytest.raises(ShapeError):
        np_kernel(np.ones((2, 2, 3)))
    with pytest.raises(DomainError):
        np_kernel(np.zeros((2, 2, 1, 1)))


def test_layer_validates_its_arguments_and_initialises_u():
    with pytest.raises(ShapeError):
        ConvCerDEQ(1, 2, 2, 3)
    with pytest.raises(DomainError):
        ConvCerDEQ(1, 2, 4, 3, s_max=1.0)
    with pytest.raises(DomainError):
        ConvCerDEQ(1, 2, 4, 3, u_init="xavier")
    with pytest.raises(ShapeError):
        ConvCerDEQ(1, 2, 4, 3, u_init="identity")
    with pytest.raises(DomainError):
        ConvCerDEQ(1, 2, 4, 3, n_iter=0)
    L = ConvCerDEQ(2, 2, 4, 3, u_kernel_size=1, u_init="identity", u_trainable=False, dtype=DT)
    assert "U0" not in dict(L.named_parameters()) and "U0" in dict(L.named_buffers())
    x = _x(L, 1, 0)
    np.testing.assert_allclose(L.injection(x).detach().numpy(), (L.scale()[None, :, None, None] * x).detach().numpy(),
                               rtol=1e-15)
    with pytest.raises(ShapeError):
        L.injection(x[:, :1])
    # li2022 Prop 3.5 scale, corrected (n_u E|U| = 1) and as printed (n_u E|U| = √n_u), n_u = c_in kU²
    for u_init, target in (("li2022", 1.0), ("li2022_printed", math.sqrt(8 * 9))):
        U0 = ConvCerDEQ(8, 64, 4, 3, u_init=u_init, dtype=DT).U0.detach()
        assert abs(float(U0.abs().mean()) * 8 * 9 / target - 1) < 0.05


# ---------------------------------------------------------------------------------------------- solves, gradients

def test_forward_is_the_dense_fixed_point():
    L = _layer(c_in=2, c=3, N=5, seed=2)
    W, U, b = _dense(L)
    assert np.abs(W).sum(1).max() < 1                    # this draw is an ℓ∞ contraction: plain iteration converges
    x = _x(L, 3, 0)
    z = L(x)
    assert L.last_stats.converged and L.solver_options["f_solver"] == "alpha_avg"
    for i in range(3):
        np.testing.assert_allclose(z[i].detach().reshape(-1).numpy(),
                                   _dense_fixed_point(W, U @ x[i].reshape(-1).numpy() + b), atol=1e-11)


def test_implicit_gradient_matches_finite_differences():
    L = _layer(c_in=1, c=2, N=3, k=3, seed=5, b_tol=1e-13)
    x = _x(L, 2, 1)
    w = torch.randn(2, 2, 3, 3, generator=torch.Generator().manual_seed(3), dtype=DT)

    def loss():
        return (w * L(x)).sum()

    loss().backward()
    assert L.last_info.backward is not None and L.last_info.backward.converged
    g = torch.Generator().manual_seed(4)
    for p in (L.V, L.theta, L.U0, L.bias):
        d = torch.randn(p.shape, generator=g, dtype=DT)
        h = 1e-6
        with torch.no_grad():
            p.add_(h * d)
            fp = float(loss())
            p.sub_(2 * h * d)
            fm_ = float(loss())
            p.add_(h * d)
        fd = (fp - fm_) / (2 * h)
        an = float((p.grad * d).sum())
        assert abs(fd - an) <= 1e-6 * max(1.0, abs(fd)), (fd, an)


def test_lifted_solve_is_the_dense_ibp_fixed_point_and_contains_sampled_points():
    L = _layer(c_in=1, c=2, N=4, seed=3, lift_solver=dict(TIGHT))
    W, U, b = _dense(L)
    x = _x(L, 2, 1)
    lo, hi = _box(x, 0.1)
    zl, zu = L.lifted_solve(*L.injection_box(lo, hi))
    assert L.last_lift_info.forward.converged
    Lw, n = spectrum.ibp_lift(W), W.shape[0]
    boxes = [_iv.affine_box(U, b, _iv.Box(lo[i].reshape(-1).numpy(), hi[i].reshape(-1).numpy())) for i in range(2)]
    zh = np.stack([_dense_fixed_point(Lw, np.concatenate([vb.upper, vb.lower])) for vb in boxes])
    np.testing.assert_allclose(torch.cat([zu, zl], 1).detach().reshape(2, -1).numpy(), zh, atol=1e-10)
    with torch.no_grad():                # the box contains the layer's fixed points at sampled inputs
        z = L(_sampled(lo, hi, torch.Generator().manual_seed(0))).reshape(-1, 2, n)
    assert bool((zl.reshape(2, n) - 1e-9 <= z).all()) and bool((z <= zu.reshape(2, n) + 1e-9).all())


# ---------------------------------------------------------------------------------------------- file kind, check, eval

def test_export_is_the_computed_kernel_and_round_trips(tmp_path, capsys):
    L = _layer(c_in=2, c=3, N=5, seed=6)
    obj = to_deqtheory(L)
    assert isinstance(obj, fm.ConvKernelDEQNet) and obj.kind == L.kind == "conv_kernel_deq"
    np.testing.assert_array_equal(obj.W_kernel(), L.weight_kernel().detach().numpy())
    np.testing.assert_array_equal(obj.U, L.U.detach().numpy())
    prov = json.loads(obj.provenance)
    assert prov["n_iter"] == 5 and prov["n"] == 3 * 9 and prov["m"] == 3
    path = tmp_path / "m.npz"
    assert fm.save_model(path, obj) == "conv_kernel_deq"
    kind, back = fm.read_model(path)
    assert kind == "conv_kernel_deq" and np.array_equal(back.K, obj.K) and np.array_equal(back.U, obj.U)
    assert back.provenance == obj.provenance and back.N == 5 and back.c == 3 and back.c_in == 2
    # deqtheory eval (dense solve on this small grid) equals the torch layer
    x = _x(L, 2, 3)
    Y, info = fm.evaluate(str(path), x.numpy())
    assert info["ok"] and info["kind"] == "conv_kernel_deq"
    with torch.no_grad():
        np.testing.assert_allclose(Y, L(x).numpy(), rtol=0, atol=1e-10)
    # deqtheory check proves the lift matrix-free on the stored kernel
    assert deqtheory_main(["check", str(path), "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["model"]["matrix_free"] is True and rep["model"]["kind"] == "conv_kernel_deq"
    assert rep["conditions"]["conv_abs_contraction"]["status"] == "certified"


def test_file_refuses_bad_arrays():
    obj = to_deqtheory(_layer(c_in=2, c=3, N=5))
    with pytest.raises(ShapeError):
        fm.ConvKernelDEQNet(obj.K, obj.U[:2], obj.b, 5)
    with pytest.raises(ShapeError):
        fm.ConvKernelDEQNet(obj.K, obj.U, obj.b, 2)                   # kernel larger than the grid
    with pytest.raises(ShapeError):
        fm.ConvKernelDEQNet(obj.K[:, :2], obj.U, obj.b, 5)
    with pytest.raises(DomainError):
        fm.ConvKernelDEQNet(obj.K, obj.U, obj.b, 5, provenance=3)


def test_a_kernel_whose_lift_is_not_proved_is_reported_and_certifies_nothing(tmp_path, capsys):
    """Scaling a CerDEQ kernel by 3 breaks ‖|K|‖∞ < 1: `deqtheory check` does not certify the lift and the
    certifier certifies no point, saying so in its provenance."""
    from deqtheory_train.layers import conv_cerdeq as lc

    L = _layer(c_in=1, c=2, N=4, seed=8)
    with torch.no_grad():
        L.theta.fill_(5.0)
    obj = to_deqtheory(L)
    big = fm.ConvKernelDEQNet(obj.K * 3.0, obj.U, obj.b, obj.N)
    path = tmp_path / "big.npz"
    fm.save_model(path, big)
    assert deqtheory_main(["check", str(path), "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert all(c["status"] != "certified" for c in rep["conditions"].values())

    class Big(lc.ConvCerDEQ):                 # the same layer with the tripled kernel (torch side)
        def weight_kernel(self):
            return 3.0 * super().weight_kernel()

    B = Big(1, 2, 4, 3, dtype=DT)
    B.load_state_dict(L.state_dict())
    model = _model(B)
    plan = ConvLinfPlan(model)
    assert not plan.deqs[0].valid
    why = plan.info()[1]["stages"][0]["deq"]
    for name in ("monotone", "contraction"):
        assert why[name]["status"] == "refuted" and "refuted" in why[name]["message"]
    x = _x(B, 3, 0)
    out = certify_conv_linf(model, x.numpy(), np.zeros(3, dtype=np.int64), norm="inf", eps=[0.0, 0.01])
    assert not out.certified.any()


# ---------------------------------------------------------------------------------------------- certifier

def check_one_deq_box(layer, method, *, eps=0.05, B=3, seed=0):
    """The matrix-free box of the model ``_model(layer)`` (one conv DEQ, solve tol 1e-13) over the ε-boxes of B
    random inputs equals the dense sound box of ``deqtheory.intervals.interval_bounds(..., method)`` on the
    materialised layer to 1e-10, and contains the layer's fixed points at sampled inputs (uniform and vertices).
    Returns the plan's DEQ box (for the caller's checks of its constants)."""
    plan = ConvLinfPlan(_model(layer), solver_options={"f_tol": 1e-13})
    W, U, b = _dense(layer)
    lo, hi = _box(_x(layer, B, seed), eps)
    r = plan.boxes(lo, hi)
    dense = [_iv.interval_bounds(W, U, b, _iv.Box(lo[i].reshape(-1).numpy(), hi[i].reshape(-1).numpy()), method=method)
             for i in range(B)]
    assert not bool(r["bad"].any()) and all(d.certified for d in dense)
    for key, side in (("lower", "lower"), ("upper", "upper")):
        np.testing.assert_allclose(r[key].numpy(), np.stack([getattr(d.box, side) for d in dense]), rtol=0, atol=1e-10)
    with torch.no_grad():
        z = layer(_sampled(lo, hi, torch.Generator().manual_seed(seed))).reshape(-1, B, W.shape[0])
    assert layer.last_stats.converged and bool((r["lower"] <= z).all()) and bool((z <= r["upper"]).all())
    return plan.deqs[0]


@pytest.mark.parametrize("c_in,c,N,seed", [(1, 2, 4, 0), (2, 3, 5, 1)])
def test_matrix_free_box_agrees_with_the_dense_ibp_box_and_contains_sampled_fixed_points(c_in, c, N, seed):
    deq = check_one_deq_box(_layer(c_in=c_in, c=c, N=N, seed=seed), "ibp", seed=seed)
    assert deq.mu is not None and deq.solver_options["f_solver"] == "alpha_avg"


@pytest.mark.parametrize("which", ["layer", "classifier"])
def test_attacks_never_break_a_certified_point(which):
    """On one conv CerDEQ with a linear head, and on the stacked classifier (conv CerDEQ → linear CerDEQ, BN
    extractors), labels = the model's own predictions: PGD and sampling never push a certified point's margin
    to ≤ 0, and they do break points at ε = 1 (the attacks have teeth)."""
    if which == "layer":
        model = _model(_layer(c_in=1, c=2, N=4, seed=21, f_tol=1e-10), seed=1)
        x = torch.rand(12, 1, 4, 4, generator=torch.Generator().manual_seed(101), dtype=DT)
    else:
        model = _classifier(seed=2)
        x = torch.rand(12, 1, 8, 8, generator=torch.Generator().manual_seed(102), dtype=DT)
    with torch.no_grad():
        y = model(x).argmax(1)
    out = certify_conv_linf(model, x.numpy(), y.numpy(), norm="inf", eps=[0.01, 0.05], batch_size=8)
    assert out.certified[:, 0].sum() > 0, "the test needs certified points"
    broken = [(_attacked_margin(model, x, y, eps, k) <= 0) & torch.as_tensor(out.certified[:, k])
              for k, eps in enumerate([0.01, 0.05])]
    assert not any(bool(b.any()) for b in broken)
    assert bool((_attacked_margin(model, x, y, 1.0, 0) <= 0).any())


# ---------------------------------------------------------------------------------------------- classifier, configs

def _classifier(seed=0):
    m = ConvCerDEQClassifier((1, 8, 8), 3, arch="conv_cerdeq_cpu", deqs=[[3, 3, 2]], linear=[5], seed=seed,
                             normalize={"mean": [0.5], "std": [0.25]}, solver=dict(TIGHT)).double()
    m.train()
    with torch.no_grad():              # running statistics that are not the identity
        for _ in range(3):
            m(torch.rand(16, 1, 8, 8, generator=torch.Generator().manual_seed(seed), dtype=DT))
    return m.eval()


def test_classifier_stacks_a_conv_and_a_linear_cerdeq_and_exports_exactly():
    m = _classifier()
    deqs = m.deq_layers()
    assert [(d.N, d.kernel_size, d.channels) for d in deqs] == [(4, 3, 3), (1, 1, 5)]
    pipe = to_deqtheory(m)
    kinds = [fm.kind_of(s) for s in pipe.stages]
    assert kinds == ["normalize", "conv2d", "batchnorm", "conv_kernel_deq", "conv2d", "batchnorm",
                     "conv_kernel_deq", "flatten", "linear"]
    x = torch.rand(4, 1, 8, 8, generator=torch.Generator().manual_seed(1), dtype=DT)
    Y, info = fm.evaluate(("classifier", pipe), x.numpy())
    with torch.no_grad():
        np.testing.assert_allclose(Y, m(x).numpy(), rtol=0, atol=1e-10)
    assert info["ok"]
    # the float training boxes contain sampled logits; the sound certifier's boxes contain the head's inputs
    lo, hi = _box(x, 0.05)
    r = m.interval_bounds(lo, hi)
    plan = ConvLinfPlan(m)
    assert len(plan.deqs) == 2 and all(d.valid for d in plan.deqs)
    sb = plan.boxes(lo, hi)
    g = torch.Generator().manual_seed(2)
    with torch.no_grad():
        for _ in range(10):
            f = m.features(lo + (hi - lo) * torch.rand(lo.shape, generator=g, dtype=DT))
            assert bool((r["zl"] - 1e-8 <= f).all()) and bool((f <= r["zu"] + 1e-8).all())
            assert bool((sb["lower"] <= f).all()) and bool((f <= sb["upper"]).all())


def test_li2022_objective_runs_on_the_conv_classifier():
    """The registry loss 'cerdeq' (li2022 §3.6: certified + clean + Shi regularizers) on the stacked model:
    finite, and gradients reach every DEQ's raw kernel and scale."""
    from deqtheory_train import losses as Lo
    m = _classifier().train()
    x = torch.rand(8, 1, 8, 8, generator=torch.Generator().manual_seed(3), dtype=DT)
    y = torch.arange(8) % 3
    ctx = Lo.LossContext(eps=0.02, kappa=0.5, norm="inf")
    loss, logits = Lo.cerdeq_loss(m, x, y, ctx, eps_target=0.1)
    assert torch.isfinite(loss) and logits.shape == (8, 3)
    loss.backward()
    for d in m.deq_layers():
        assert float(d.V.grad.abs().sum()) > 0 and float(d.theta.grad.abs().sum()) > 0
    with pytest.raises(ValueError, match="grid"):
        ConvCerDEQClassifier((1, 8, 8), 3, arch="conv_cerdeq_cpu", deqs=[[3, 5, 4]])
    with pytest.raises(ValueError, match="arch"):
        ConvCerDEQClassifier((1, 8, 8), 3, arch="deq3")


def test_tiny_config_trains_reloads_and_exports(tmp_path, capsys):
    d = tmp_path / "run"
    assert cli.main(["run", "conv_cerdeq_tiny", "--out", str(d), "--no-progress", "--threads", "1"]) == 0
    capsys.readouterr()
    summ = json.loads((d / "summary.json").read_text())
    assert summ["status"] == "finished" and summ["global_step"] == 2 and len(summ["certified_accuracy"]) == 2
    rows = [json.loads(line) for line in (d / "metrics.jsonl").read_text().splitlines()]
    train = [r for r in rows if "loss" in r and r.get("eps", 0) > 0]
    assert len(train) >= 2 and all(np.isfinite(r["loss"]) for r in train)
    model, _ = load_model_file(str(d / "model.npz"))
    assert isinstance(model, ConvCerDEQClassifier) and len(model.deq_layers()) == 2
    out = tmp_path / "exported.npz"
    assert cli.main(["export", str(d / "model.npz"), "-o", str(out)]) == 0
    capsys.readouterr()
    assert deqtheory_main(["check", str(out), "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["model"]["kind"] == "classifier" and rep["model"]["matrix_free"] is True
    # both DEQ stages are checked: the last one in front, the earlier one under earlier_deq_stages
    (early,) = rep["earlier_deq_stages"]
    assert rep["classifier"]["stages"][early["stage"]] == "conv_kernel_deq" and early["model"]["matrix_free"] is True
    assert early["conditions"] and set(early["conditions"]) == set(rep["conditions"])
    assert deqtheory_main(["check", str(out)]) == 0
    assert f"DEQ stage {early['stage']} (conv_kernel_deq)" in capsys.readouterr().out


def test_cifar_config_fails_with_a_one_line_missing_dataset_error(tmp_path, monkeypatch, capsys):
    from deqtheory_train import experiment as X
    cfg = X.load_config("conv_cerdeq_cifar10")
    assert cfg["model"]["builder"] == "conv_cerdeq_cifar_linf" and cfg["loss"]["name"] == "cerdeq"
    monkeypatch.delenv("DEQTHEORY_CIFAR10", raising=False)
    rc = cli.main(["run", "conv_cerdeq_cifar10", "--out", str(tmp_path / "run"), "--no-progress", "--threads", "1"])
    err = capsys.readouterr().err.strip()
    assert rc != 0 and len(err.splitlines()) == 1 and "CIFAR-10" in err and "DEQTHEORY_CIFAR10" in err
    # the full-size model builds (CIFAR shapes) and the MNIST short config validates
    m = ConvCerDEQClassifier((3, 32, 32), 10)
    assert [(d.N, d.channels) for d in m.deq_layers()] == [(16, 64), (8, 128), (1, 512)]
    assert X.load_config("cerdeq_cpu_mnist_short")["epochs"] == 8
