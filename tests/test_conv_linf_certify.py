"""The matrix-free sound ℓ∞ certifier of conv IBP-MonDEQ classifiers (deqtheory_train/certify/conv_linf.py):

* cross-check against the dense sound IBP box of :mod:`deqtheory.intervals` on the materialised model
  (``deqtheory.circulant.conv_matrix``): the two boxes agree to 1e-10 and both contain the fixed points;
* boxes contain the fixed points of inputs sampled in the ε-box (solved independently, tight tolerance);
* attacks written independently of the certifier (PGD on the margins with autograd through the layer's
  own solver, and uniform sampling) never break a certified point;
* chains: a stem conv, BatchNorm (eval), average pooling, two DEQs in sequence, a hidden linear layer;
* failures: a solve that does not converge certifies nothing; unsupported models are refused."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from deqtheory import circulant as _circ
from deqtheory import intervals as _iv
from deqtheory.errors import DomainError
from deqtheory_train.certify.conv_linf import ConvLinfPlan, certify_conv_linf
from deqtheory_train.export import to_deqtheory
from deqtheory_train.layers.conv_linf import ConvIBPMonDEQ

DT = torch.float64
TIGHT = {"f_solver": "pr", "f_tol": 1e-13, "f_stop_mode": "rel", "f_max_iter": 5000, "grad": "implicit"}


def _layer(c_in=1, c=2, N=4, k=3, m=0.2, seed=0, gamma_variant=False, scale=1.0):
    torch.manual_seed(seed)
    L = ConvIBPMonDEQ(c_in, c, N, k, m=m, seed=seed, dtype=DT, gamma_variant=gamma_variant, **TIGHT)
    g = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        L.M.mul_(scale * 3.0)
        L.U.copy_(torch.randn(L.U.shape, generator=g, dtype=DT))
        L.bias.copy_(torch.randn(L.bias.shape, generator=g, dtype=DT) * 0.3)
        L.log_slack.fill_(-3.0)
        if gamma_variant:
            L.beta.copy_(torch.randn(L.beta.shape, generator=g, dtype=DT) * 2)
    return L


def _model(layer, p=3, seed=0):
    g = torch.Generator().manual_seed(seed + 7)
    head = nn.Linear(layer.channels * layer.N ** 2, p).double()
    with torch.no_grad():
        head.weight.copy_(torch.randn(head.weight.shape, generator=g, dtype=DT))
        head.bias.copy_(torch.randn(head.bias.shape, generator=g, dtype=DT))
    return nn.Sequential(layer, nn.Flatten(), head)


def _dense(layer):
    """The exported layer materialised: W, U, b of the dense DEQ on channel-major vectors."""
    obj = to_deqtheory(layer)
    N = obj.N
    W = _circ.conv_matrix(obj.W_kernel(), N)
    U = _circ.conv_matrix(obj.U, N)
    b = np.repeat(np.asarray(obj.b, dtype=np.float64), N * N)
    return W, U, b


def _x(layer, B, seed):
    return torch.rand(B, layer.c_in, layer.N, layer.N, generator=torch.Generator().manual_seed(seed), dtype=DT)


@pytest.mark.parametrize("gamma_variant", [False, True])
@pytest.mark.parametrize("seed", range(3))
def test_matrix_free_box_agrees_with_the_dense_sound_ibp_box(seed, gamma_variant):
    layer = _layer(seed=seed, gamma_variant=gamma_variant)
    plan = ConvLinfPlan(_model(layer), solver_options={"f_tol": 1e-13})
    W, U, b = _dense(layer)
    x = _x(layer, 3, seed)
    eps = 0.05
    lo, hi = (x - eps).clamp(min=0), (x + eps).clamp(max=1)
    r = plan.boxes(lo, hi)
    assert not bool(r["bad"].any())
    for i in range(3):
        d = _iv.interval_bounds(W, U, b, _iv.Box(lo[i].reshape(-1).numpy(), hi[i].reshape(-1).numpy()), method="ibp")
        assert d.certified
        np.testing.assert_allclose(r["lower"][i].numpy(), d.box.lower, rtol=0, atol=1e-10)
        np.testing.assert_allclose(r["upper"][i].numpy(), d.box.upper, rtol=0, atol=1e-10)
        # the dense fixed point at the centre of the box lies in the matrix-free box
        xc = ((lo[i] + hi[i]) / 2).reshape(-1).numpy()
        z = np.zeros(W.shape[0])
        for _ in range(20000):
            z = np.maximum(W @ z + U @ xc + b, 0) * 0.5 + z * 0.5
        assert np.all(r["lower"][i].numpy() <= z + 1e-12) and np.all(z - 1e-12 <= r["upper"][i].numpy())


@pytest.mark.parametrize("seed", range(3))
def test_boxes_contain_sampled_fixed_points(seed):
    layer = _layer(c_in=2, c=3, N=5, seed=10 + seed)
    plan = ConvLinfPlan(_model(layer))
    x = _x(layer, 2, seed)
    eps = 0.1
    lo, hi = (x - eps).clamp(min=0), (x + eps).clamp(max=1)
    r = plan.boxes(lo, hi)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for _ in range(20):
            xs = lo + (hi - lo) * torch.rand(lo.shape, generator=g, dtype=DT)
            z = layer(xs).reshape(2, -1)
            assert layer.last_stats.converged
            assert bool((r["lower"] <= z).all()) and bool((z <= r["upper"]).all())


def _margins(model, x, y):
    out = model(x)
    return out.gather(1, y[:, None]) - out


@pytest.mark.parametrize("seed", range(2))
def test_attacks_never_break_a_certified_point(seed):
    layer = _layer(c_in=1, c=2, N=4, seed=20 + seed, m=0.3)
    model = _model(layer, seed=seed)
    layer.solver_options.update(f_tol=1e-10)       # the attacks' own solves: tight, not trusted
    x = _x(layer, 12, 100 + seed)
    with torch.no_grad():
        y = model(x).argmax(1)            # labels = the model's own predictions: many certified points
    eps_list = [0.01, 0.05]
    out = certify_conv_linf(model, x.numpy(), y.numpy(), norm="inf", eps=eps_list, batch_size=8)
    assert out.correct.all()
    assert out.certified[:, 0].sum() > 0, "the test needs certified points"
    assert (out.certified[:, -1].sum() < out.certified[:, 0].sum()) or out.certified.all()
    g = torch.Generator().manual_seed(seed)
    for k, eps in enumerate(eps_list):
        idx = np.flatnonzero(out.certified[:, k])
        if idx.size == 0:
            continue
        xc, yc = x[idx], y[idx]
        lo, hi = (xc - eps).clamp(min=0), (xc + eps).clamp(max=1)
        # sampling (corners and interior)
        with torch.no_grad():
            for _ in range(5):
                u = torch.rand(xc.shape, generator=g, dtype=DT)
                for xs in (lo + (hi - lo) * u, torch.where(u > 0.5, hi, lo)):
                    mm = _margins(model, xs, yc)
                    mm[torch.arange(len(yc)), yc] = np.inf
                    assert bool((mm > 0).all())
        assert bool((_pgd_margins(model, xc, yc, eps) > 0).all())
    # the attack has teeth: at a radius nothing is certified at, it breaks points
    assert bool((_pgd_margins(model, x, y, 1.0) <= 0).any())


def _pgd_margins(model, xc, yc, eps, steps=12):
    """Smallest margin min_{j != y} f_y - f_j after PGD (sign steps of eps/3) on it, in the clipped box."""
    lo, hi = (xc - eps).clamp(min=0), (xc + eps).clamp(max=1)
    xa = ((lo + hi) / 2).clone().requires_grad_(True)
    onehot = torch.nn.functional.one_hot(yc, model(xc[:1]).shape[1]).bool()
    for _ in range(steps):
        mm = _margins(model, xa, yc).masked_fill(onehot, 1e9)
        (grad,) = torch.autograd.grad(mm.amin(1).sum(), xa)
        with torch.no_grad():
            xa -= eps / 3 * grad.sign()
            xa.copy_(torch.maximum(torch.minimum(xa, hi), lo))
    with torch.no_grad():
        return _margins(model, xa, yc).masked_fill(onehot, np.inf).amin(1)


def test_chain_with_stem_batchnorm_pool_and_two_deqs_contains_sampled_outputs():
    torch.manual_seed(0)
    N = 6
    stem = nn.Conv2d(1, 2, 3, padding=1).double()
    d1 = _layer(c_in=2, c=2, N=N, seed=3)
    d2 = _layer(c_in=2, c=3, N=N, seed=4)
    bn = nn.BatchNorm2d(3).double()
    with torch.no_grad():
        bn.running_mean.uniform_(-0.5, 0.5)
        bn.running_var.uniform_(0.5, 2.0)
        bn.weight.uniform_(-2, 2)
        bn.bias.uniform_(-1, 1)
    model = nn.Sequential(stem, nn.ReLU(), d1, d2, bn, nn.AvgPool2d(2), nn.Flatten(),
                          nn.Linear(3 * 9, 5).double(), nn.ReLU(), nn.Linear(5, 4).double()).eval()
    x = _x(d1, 2, 5)[:, :1]
    eps = 0.05
    lo, hi = (x - eps).clamp(min=0), (x + eps).clamp(max=1)
    plan = ConvLinfPlan(model)
    assert len(plan.deqs) == 2
    r = plan.boxes(lo, hi)
    assert not bool(r["bad"].any())
    penult = nn.Sequential(*list(model)[:-1])
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for _ in range(20):
            xs = lo + (hi - lo) * torch.rand(lo.shape, generator=g, dtype=DT)
            h = penult(xs)
            assert bool((r["lower"] <= h).all()) and bool((h <= r["upper"]).all())


def test_a_solve_that_does_not_converge_certifies_nothing():
    layer = _layer(seed=1)
    model = _model(layer)
    x = _x(layer, 4, 0)
    with torch.no_grad():
        y = model(x).argmax(1)
    ok = certify_conv_linf(model, x.numpy(), y.numpy(), norm="inf", eps=[0.0, 0.01])
    bad = certify_conv_linf(model, x.numpy(), y.numpy(), norm="inf", eps=[0.0, 0.01],
                            solver_options={"f_max_iter": 1})
    assert ok.certified.any()
    assert not bad.certified.any() and not bad.correct.any()
    assert any("max_iterations" in k for k in bad.details["solver"]["statuses"])


def test_unsupported_models_are_refused():
    layer = _layer()
    with pytest.raises(DomainError, match="nn.Linear head"):
        ConvLinfPlan(nn.Sequential(layer, nn.Flatten()))
    with pytest.raises(DomainError, match="unsupported"):
        ConvLinfPlan(nn.Sequential(layer, nn.MaxPool2d(2), nn.Flatten(), nn.Linear(2 * 4, 3).double()))
    model = _model(layer)
    x = _x(layer, 2, 0)
    with pytest.raises(DomainError, match="l_inf"):
        certify_conv_linf(model, x.numpy(), np.zeros(2, dtype=np.int64), norm="2", eps=[0.1])


def test_the_certified_constants_are_the_exported_kernels():
    """The plan proves its constants on exactly the W kernel deqtheory computes from the exported file."""
    from deqtheory import conv_ibp
    layer = _layer(seed=2)
    plan = ConvLinfPlan(_model(layer))
    Kfile = to_deqtheory(layer).W_kernel()
    np.testing.assert_array_equal(plan.deqs[0].K.numpy(), Kfile)
    c = conv_ibp.conv_abs_contraction(Kfile, layer.N)
    assert plan.deqs[0].mu == float(c.witness["mu"])
    assert plan.deqs[0].certificates["conv_abs_contraction"].verify(K=Kfile, N=layer.N).certified


@pytest.mark.parametrize("tol", [1e-3, 1e-6])
def test_a_loose_solve_is_widened_to_contain_the_exact_box(tol):
    """The widening by the proved fixed-point error bound is what makes a loose solve sound: the box of
    a solve stopped at ``tol`` still contains the (tightly solved) lifted fixed point."""
    layer = _layer(c_in=1, c=3, N=5, seed=7, m=0.05)
    model = _model(layer)
    x = _x(layer, 3, 9)
    lo, hi = (x - 0.05).clamp(min=0), (x + 0.05).clamp(max=1)
    tight = ConvLinfPlan(model, solver_options={"f_tol": 1e-14}).boxes(lo, hi)
    loose = ConvLinfPlan(model, solver_options={"f_tol": tol}).boxes(lo, hi)
    assert not bool(loose["bad"].any())
    w_tight = float((tight["upper"] - tight["lower"]).sum())
    assert bool((loose["lower"] <= tight["lower"] + 1e-13).all()) and bool((loose["upper"] >= tight["upper"] - 1e-13).all())
    assert float((loose["upper"] - loose["lower"]).sum()) > w_tight        # it was widened, not exact
