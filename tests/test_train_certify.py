"""Soundness tests of deqtheory_train.certify: every certified point survives PGD and dense random
sampling of its perturbation set (0 violations), every interval box contains all sampled fixed
points, loose solves stay sound (widening), failed solves certify nothing, and the batched error
bound / constants agree with the deqtheory oracles."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from deqtheory import bounds as B
from deqtheory.errors import DomainError
from deqtheory_train.certify import (CertificationPlan, Perturbation, Readout, certified_accuracy, certify_batch,
                                     prepare)
from deqtheory_train.certify.layer_arrays import dense_arrays
from deqtheory_train.certify.deq import error_bound as _error_bound, residual_rho as _residual_rho
from deqtheory_train.layers import (CerDEQLayer, DenseDEQLayer, IBPMonDEQLayer, LBENLayer, MonDEQLayer, NEMONLayer, SLLLinear)
from deqtheory_train.solvers import fixed_point

torch.set_num_threads(1)
F64 = torch.float64
TIGHT = {"f_solver": "pr", "f_tol": 1e-13, "f_stop_mode": "abs", "f_max_iter": 5000}
N_RANDOM = 100_000


def _deq(model):
    mods = list(model) if isinstance(model, nn.Sequential) else [model]
    return [m for m in mods if isinstance(m, DenseDEQLayer)][0]


def _logits(model, x, grad=False):
    """Float model logits with a tight solve (the reference the attacks use)."""
    layer = _deq(model)
    saved = dict(layer.solver_options)
    layer.solver_options.update({"f_tol": 1e-12, "f_stop_mode": "abs", "f_max_iter": 5000})
    if layer.kind == "noneuclidean":
        layer.solver_options["f_solver"] = "alpha_avg"
    try:
        with torch.set_grad_enabled(grad):
            if isinstance(model, nn.Sequential):
                return model(x)
            return model.readout(model(x))
    finally:
        layer.solver_options.clear()
        layer.solver_options.update(saved)


def _worst_margin(logits, y):
    other = logits.clone()
    other[torch.arange(len(y)), y] = -math.inf
    return logits[torch.arange(len(y)), y] - other.amax(dim=1)


def _project(delta, radius, norm):
    if norm == "2":
        nrm = torch.linalg.vector_norm(delta, dim=1, keepdim=True).clamp_min(1e-30)
        return delta * torch.clamp(radius[:, None] / nrm, max=1.0)
    return torch.maximum(torch.minimum(delta, radius[:, None]), -radius[:, None])


def _pgd_violations(model, x, y, radius, norm, steps=50, restarts=3, seed=0):
    """Number of points with an adversarial example (exact-label change of the float model)."""
    g = torch.Generator().manual_seed(seed)
    bad = torch.zeros(len(y), dtype=torch.bool)
    for rs in range(restarts):
        d0 = torch.randn(x.shape, generator=g, dtype=F64)
        delta = _project(d0 * radius[:, None], radius, norm) if rs else torch.zeros_like(x)
        step = 2.5 * radius / steps
        for _ in range(steps):
            delta = delta.detach().requires_grad_(True)
            m = _worst_margin(_logits(model, x + delta, grad=True), y)
            (gr,) = torch.autograd.grad(m.sum(), delta)
            with torch.no_grad():
                if norm == "2":
                    gn = gr / torch.linalg.vector_norm(gr, dim=1, keepdim=True).clamp_min(1e-30)
                else:
                    gn = gr.sign()
                delta = _project(delta - step[:, None] * gn, radius, norm)
        with torch.no_grad():
            bad |= _worst_margin(_logits(model, x + delta), y) <= 0
    return int(bad.sum())


def _random_violations(model, x, y, radius, norm, total=N_RANDOM, seed=1):
    """Sample ``total`` points in the perturbation sets (half on the boundary / at corners)."""
    g = torch.Generator().manual_seed(seed)
    k = max(total // len(y), 1)
    xs = x.repeat_interleave(k, 0)
    ys = y.repeat_interleave(k, 0)
    rs = radius.repeat_interleave(k, 0)
    d = x.shape[1]
    if norm == "2":
        u = torch.randn(xs.shape, generator=g, dtype=F64)
        u = u / torch.linalg.vector_norm(u, dim=1, keepdim=True)
        t = torch.rand(len(xs), generator=g, dtype=F64) ** (1.0 / d)
        t[::2] = 1.0
        pts = xs + u * (rs * t)[:, None]
    else:
        u = torch.rand(xs.shape, generator=g, dtype=F64) * 2 - 1
        u[::2] = torch.sign(u[::2])
        pts = xs + u * rs[:, None]
    viol = 0
    for s in range(0, len(pts), 50_000):
        viol += int((_worst_margin(_logits(model, pts[s:s + 50_000]), ys[s:s + 50_000]) <= 0).sum())
    return viol, len(pts), pts, ys


def _labelled(model, n=40, d=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=g, dtype=F64)
    return x, _logits(model, x).argmax(1)


def _models():
    torch.manual_seed(0)
    sll = nn.Sequential(SLLLinear(4, 6, dtype=F64), MonDEQLayer(4, 8, m=0.5, dtype=F64), nn.Linear(8, 3, dtype=F64))
    cer = CerDEQLayer(4, 8, 3, dtype=F64)
    cer_stack = nn.Sequential(SLLLinear(4, 5, dtype=F64), cer, Readout(cer))
    return {
        "ibp": IBPMonDEQLayer(4, 8, 3, dtype=F64, m=0.3),
        "lben": LBENLayer(4, 8, 3, dtype=F64),
        "nemon": NEMONLayer(4, 8, 3, dtype=F64, gamma=0.2),
        "sll_mondeq": sll,
        "sll_cerdeq": cer_stack,
    }


def _trained(seed=0):
    """A MonDEQ trained for a few Adam steps on three Gaussian blobs (d = 4)."""
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    centers = torch.randn(3, 4, generator=g, dtype=F64) * 2
    y = torch.randint(0, 3, (300,), generator=g)
    x = centers[y] + 0.5 * torch.randn(300, 4, generator=g, dtype=F64)
    layer = IBPMonDEQLayer(4, 8, 3, m=0.3, dtype=F64)
    opt = torch.optim.Adam(layer.parameters(), lr=2e-2)
    for _ in range(40):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(layer.readout(layer(x)), y)
        loss.backward()
        opt.step()
    return layer, x[:40], y[:40]


# ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["ibp", "lben", "sll_mondeq"])
def test_l2_certified_radius_is_sound(name):
    model = _models()[name]
    x, y = _labelled(model)
    res = certify_batch(model, x, y, Perturbation("2", 0.0))
    c = res.certified & (res.radius > 0)
    assert int(c.sum()) >= 5, "vacuous certificate"
    xc, yc, rc = x[c], y[c], res.radius[c]
    assert _pgd_violations(model, xc, yc, rc, "2") == 0
    viol, n, _, _ = _random_violations(model, xc, yc, rc, "2", total=N_RANDOM // 5)
    assert n >= N_RANDOM // 5 - len(yc) and viol == 0
    # at the certified radius the per-pair constant is not absurdly loose: some attack at 20x succeeds
    assert _pgd_violations(model, xc, yc, 20 * rc, "2", steps=20, restarts=1) > 0


def test_trained_model_l2_and_linf_sound():
    layer, x, y = _trained()
    y = _logits(layer, x).argmax(1)
    r2 = certify_batch(layer, x, y, Perturbation("2", 0.0))
    c = r2.certified & (r2.radius > 0)
    assert int(c.sum()) >= 5
    viol, n, _, _ = _random_violations(layer, x[c], y[c], r2.radius[c], "2", total=N_RANDOM)
    assert n >= N_RANDOM - len(y) and viol == 0
    assert _pgd_violations(layer, x[c], y[c], r2.radius[c], "2") == 0
    eps = 0.05
    ri = certify_batch(layer, x, y, Perturbation("inf", eps))
    ci = ri.certified
    assert int(ci.sum()) >= 5
    rad = torch.full((int(ci.sum()),), eps, dtype=F64)
    assert _pgd_violations(layer, x[ci], y[ci], rad, "inf") == 0
    viol, n, pts, _ = _random_violations(layer, x[ci], y[ci], rad, "inf", total=N_RANDOM)
    assert viol == 0


@pytest.mark.parametrize("name,method", [("ibp", "ibp"), ("nemon", "metzler"), ("sll_cerdeq", "ibp"),
                                         ("ibp", "metzler")])
def test_linf_boxes_contain_all_sampled_fixed_points(name, method):
    model = _models()[name]
    x, y = _labelled(model, n=20)
    eps = 0.05
    res = certify_batch(model, x, y, Perturbation("inf", eps), interval=method)
    assert torch.isfinite(res.z_upper).all()
    rad = torch.full((len(y),), eps, dtype=F64)
    _, _, pts, ys = _random_violations(model, x, y, rad, "inf", total=20_000, seed=3)
    layer = _deq(model)
    plan = prepare(model)
    lo, hi = plan.pre_box(pts, pts)                      # exact up to ~1e-16 (explicit blocks)
    v = ((lo + hi) / 2) @ plan.deq.U.T + plan.deq.b
    z, st = fixed_point(plan.deq.W, v, **(TIGHT if layer.kind != "noneuclidean" else {**TIGHT, "f_solver": "alpha_avg"}))
    assert st.converged
    k = len(pts) // len(y)
    zl, zu = res.z_lower.repeat_interleave(k, 0), res.z_upper.repeat_interleave(k, 0)
    assert int(((z < zl - 1e-12) | (z > zu + 1e-12)).sum()) == 0
    # the same at a loose lifted solve (the widening is what makes it hold)
    solver = "alpha_avg" if layer.kind == "noneuclidean" else "pr"
    rl = certify_batch(model, x, y, Perturbation("inf", eps), interval=method,
                       solver_options={"f_tol": 1e-2, "f_stop_mode": "rel", "f_solver": solver})
    assert rl.solver["interval"]["status"] == "converged"
    zl, zu = rl.z_lower.repeat_interleave(k, 0), rl.z_upper.repeat_interleave(k, 0)
    assert int(((z < zl) | (z > zu)).sum()) == 0
    # ... and it contains the exact lifted fixed point (independent numpy engine, ~1e-15 residual)
    lf = plan.deq.lift(method)
    lo, hi = plan.pre_box(x - eps, x + eps)
    vlo, vhi = lo @ plan.deq.U.clamp(min=0).T + hi @ plan.deq.U.clamp(max=0).T, hi @ plan.deq.U.clamp(min=0).T + lo @ plan.deq.U.clamp(max=0).T
    n = plan.deq.n
    for i in range(len(y)):
        vh = np.concatenate([(vhi[i] + plan.deq.b).numpy(), (vlo[i] + plan.deq.b).numpy()])
        zs = B.solve_relu_fixed_point(lf.M.numpy(), vh).z
        assert np.all(zs[:n] <= rl.z_upper[i].numpy()) and np.all(zs[n:] >= rl.z_lower[i].numpy())
    # certified points: no sampled violation and PGD fails
    c = res.certified
    assert int(c.sum()) >= 3
    assert _pgd_violations(model, x[c], y[c], rad[c], "inf", steps=30, restarts=2) == 0
    cs = c.repeat_interleave(k, 0)
    assert int((_worst_margin(_logits(model, pts[cs]), ys[cs]) <= 0).sum()) == 0


@pytest.mark.parametrize("name", ["ibp", "nemon", "sll_mondeq"])
def test_loose_solve_is_widened_and_sound(name):
    model = _models()[name]
    x, y = _labelled(model, n=30)
    solver = "alpha_avg" if name == "nemon" else "pr"
    loose = prepare(model, solver_options={"f_tol": 1e-2, "f_stop_mode": "rel", "f_solver": solver})
    tight = prepare(model, solver_options=TIGHT if name != "nemon" else {**TIGHT, "f_solver": "alpha_avg"})
    rl = certify_batch(loose, x, y, Perturbation("2", 0.0))
    rt = certify_batch(tight, x, y, Perturbation("2", 0.0))
    assert rl.solver["clean"]["status"] == "converged"
    # the loose error bound dominates the real error: lower bounds never exceed the (tight) margins
    exact = _logits(model, x)
    true_m = exact[torch.arange(len(y)), y][:, None] - exact
    true_m[torch.arange(len(y)), y] = math.inf
    assert bool((rl.clean_margins <= true_m + 1e-9).all())
    assert float(rl.fixed_point_error.max()) > float(rt.fixed_point_error.max())
    # interval boxes at the loose solve contain the tight ones' fixed points
    ri = certify_batch(loose, x, y, Perturbation("inf", 0.03))
    rti = certify_batch(tight, x, y, Perturbation("inf", 0.03))
    if torch.isfinite(ri.z_upper).all():
        assert bool((ri.z_lower <= rti.z_lower + 1e-12).all() and (ri.z_upper >= rti.z_upper - 1e-12).all())
    c = rl.certified & (rl.radius > 0)
    if int(c.sum()):
        assert _pgd_violations(model, x[c], y[c], rl.radius[c], "2", steps=30, restarts=2) == 0


@pytest.mark.parametrize("norm", ["2", "inf"])
def test_failed_solve_certifies_nothing(norm):
    model = _models()["ibp"]
    x, y = _labelled(model, n=20)
    res = certify_batch(model, x, y, Perturbation(norm, 0.01), solver_options={"f_max_iter": 1, "f_tol": 1e-14})
    assert res.solver["clean"]["status"] != "converged"
    assert not bool(res.certified.any()) and not bool(res.correct.any())
    ok = certify_batch(model, x, y, Perturbation(norm, 0.01))
    assert bool(ok.certified.any())


def test_batched_error_bound_matches_deqtheory_oracle():
    """The torch formula is >= deqtheory.bounds.fixed_point_error_bound (same residual, same
    constants) and >= the true error to the exact (active-set) fixed point."""
    rng = np.random.default_rng(0)
    n = 6
    A = rng.standard_normal((n, n)) / 2
    Bm = rng.standard_normal((n, n)) / 2
    W = 0.5 * np.eye(n) - A.T @ A + Bm - Bm.T
    Wt = torch.as_tensor(W)
    V = torch.as_tensor(rng.standard_normal((12, n)))
    z, _ = fixed_point(Wt, V, f_solver="pr", f_tol=1e-3, f_stop_mode="rel")
    _, rho = _residual_rho(Wt, Wt.abs(), V, z)
    cm = B.monotone_margin(W)
    e = _error_bound(Wt.abs(), rho, float(cm.margin), None, None)
    cu = B.mu_inf_bound(W)
    for i in range(12):
        r, delta = B.residual_bound(W, V[i].numpy(), z[i].numpy())
        ref = B.fixed_point_error_bound(W, r, "2", residual_err=delta, certificate=cm)
        assert np.all(e[i].numpy() >= ref.componentwise * (1 - 1e-12))
        assert np.all(e[i].numpy() <= ref.componentwise * (1 + 1e-5) + 1e-300)
        zs = B.solve_relu_fixed_point(W, V[i].numpy()).z
        assert np.all(np.abs(z[i].numpy() - zs) <= e[i].numpy())
        if cu.certified:
            refi = B.fixed_point_error_bound(W, r, "inf", residual_err=delta, certificate=cu)
            ei = _error_bound(Wt.abs(), rho[i:i + 1], None, float(B._mu_upper_from_cert(cu)),
                              torch.as_tensor(cu.witness["eta"]))
            assert np.all(ei[0].numpy() >= refi.componentwise * (1 - 1e-12))


def test_constants_and_factor_ordering():
    layer = _models()["ibp"]
    x, y = _labelled(layer, n=30)
    e = dense_arrays(layer)          # the exported model's arrays (what the certifier proves on)
    plans = {f: prepare(layer, factor=f) for f in ("folded", "sqrt2", "paper")}
    res = {f: certify_batch(p, x, y, Perturbation("2", 0.0)) for f, p in plans.items()}
    Lz = B.pabbaraju_lipschitz(e.W, e.U).value
    assert res["folded"].constants["L_x_to_z"] == Lz
    assert bool((res["folded"].radius >= res["sqrt2"].radius).all())
    assert bool((res["sqrt2"].radius >= res["paper"].radius).all())
    assert res["folded"].provenance["L_x_to_z"]["theorem"] == "pabbaraju2021:thm1"
    # LBEN: the prescribed L is verified by the SDP certificate with the analytic witness
    lb = _models()["lben"]
    rl = certify_batch(lb, *_labelled(lb, n=5), Perturbation("2", 0.0))
    assert rl.provenance["L_x_to_y_lben"]["status"] == "certified" and rl.constants["L_x_to_y"] == 1.0


def test_certified_accuracy_and_registry():
    from deqtheory_train import experiment as X

    layer = _models()["ibp"]
    x, y = _labelled(layer, n=24)
    loader = [(x[:12], y[:12]), (x[12:], y[12:])]
    tab = certified_accuracy(layer, loader, [Perturbation("2", e) for e in (0.0, 0.05, 0.2)])
    assert tab["n"] == 24 and tab["clean_accuracy"] == 1.0
    acc = tab["certified_accuracy"]
    assert acc[0] >= acc[1] >= acc[2] and acc[1] > 0
    direct = certify_batch(layer, x, y, Perturbation("2", 0.05)).certified_accuracy
    assert abs(direct - acc[1]) < 1e-12
    out = X.get_certifier("deq")(layer, x.numpy(), y.numpy(), norm="2", eps=[0.05, 0.2])
    summ = X.summarize_certification(out, [0.05, 0.2], "2", "deq")
    assert abs(summ["certified_accuracy"][0] - acc[1]) < 1e-12
    outi = X.get_certifier("deq")(layer, x.numpy(), y.numpy(), norm="inf", eps=[0.02], clip=False)
    ti = certified_accuracy(layer, (x, y), Perturbation("inf", 0.02))
    assert abs(outi.certified.mean() - ti["certified_accuracy"][0]) < 1e-12


def test_bad_input():
    with pytest.raises(DomainError):
        Perturbation("1", 0.1)
    with pytest.raises(DomainError):
        Perturbation("2", -1.0)
    with pytest.raises(DomainError):
        CertificationPlan(nn.Sequential(nn.Linear(3, 3)))
    with pytest.raises(DomainError):
        prepare(_models()["ibp"], factor="bogus")


def test_shared_boxes_sound_switch_encloses_the_float_training_boxes():
    """certify.boxes serves certifiers (sound=True: outward rounded) and training losses (sound=False):
    the sound affine box contains the float one and every exact image of sampled points; the sound
    folded margins lie below the float ones, with +inf (sound) vs 0 (float) at the label."""
    from fractions import Fraction as Fr

    from deqtheory_train.certify import boxes as CB
    g = torch.Generator().manual_seed(3)
    W = torch.randn(5, 4, generator=g, dtype=torch.float64)
    b = torch.randn(5, generator=g, dtype=torch.float64)
    lo = torch.randn(6, 4, generator=g, dtype=torch.float64)
    hi = lo + torch.rand(6, 4, generator=g, dtype=torch.float64)
    slo, shi = CB.affine_box(W, b, lo, hi, sound=True)
    flo, fhi = CB.affine_box(W, b, lo, hi, sound=False)
    assert bool((slo <= flo).all()) and bool((fhi <= shi).all())
    for _ in range(20):
        t = torch.rand(6, 4, generator=g, dtype=torch.float64)
        xs = lo + t * (hi - lo)
        for i in range(6):
            for r in range(5):
                ex = sum(Fr(float(W[r, k])) * Fr(float(xs[i, k])) for k in range(4)) + Fr(float(b[r]))
                assert Fr(float(slo[i, r])) <= ex <= Fr(float(shi[i, r]))
    G = torch.randn(3, 5, generator=g, dtype=torch.float64)
    by = torch.randn(3, generator=g, dtype=torch.float64)
    y = torch.tensor([0, 1, 2, 1, 0, 2])
    zl, zu = flo.clamp(min=0), fhi.clamp(min=0)
    ms = CB.folded_margins(G, by, zl, zu, y, sound=True)
    mf = CB.folded_margins(G, by, zl, zu, y, sound=False)
    ar = torch.arange(6)
    assert bool(torch.isinf(ms[ar, y]).all()) and bool((mf[ar, y] == 0).all())
    off = torch.ones_like(ms, dtype=torch.bool)
    off[ar, y] = False
    assert bool((ms[off] < mf[off]).all())
