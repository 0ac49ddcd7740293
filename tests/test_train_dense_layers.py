"""deqtheory_train.layers.dense: every layer exports to deqtheory, where its defining condition and
its Lipschitz / contraction certificate are proved; forward z equals deqtheory.solvers on the
exported arrays; implicit gradients match finite differences."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from deqtheory import bounds, linalg, sdp, spectrum
from deqtheory import solvers as ds
from deqtheory_train import layers as Ly
from deqtheory_train.certify.layer_arrays import dense_arrays
from deqtheory_train.export import to_deqtheory

torch.set_num_threads(1)

D, N, P = 4, 6, 3
TIGHT = dict(f_tol=1e-13, f_stop_mode="abs", f_max_iter=20000, b_tol=1e-13)


def _x(batch=3, seed=0, dtype=torch.float64):
    return torch.tensor(np.random.default_rng(seed).standard_normal((batch, D)), dtype=dtype)


LAYERS = {
    "mondeq": lambda **k: Ly.MonDEQLayer(D, N, P, m=0.5, **k),
    "lipmondeq": lambda **k: Ly.LipMonDEQLayer(D, N, P, m=0.5, lip=2.0, **k),
    "gmondeq": lambda **k: Ly.GMonDEQLayer(D, N, P, m=0.5, **k),
    "lben": lambda **k: Ly.LBENLayer(D, N, P, L=3.0, eps=0.1, **k),
    "ibp": lambda **k: Ly.IBPMonDEQLayer(D, N, P, m=0.1, **k),
    "ibp_gamma": lambda **k: Ly.IBPMonDEQLayer(D, N, P, m=0.1, gamma_variant=True, gamma=3.0, **k),
    "cerdeq": lambda **k: Ly.CerDEQLayer(D, N, P, **k),
    "nemon": lambda **k: Ly.NEMONLayer(D, N, P, gamma=0.0, eta_range=3.0, **k),
}


def _export(layer):
    """The exported model's DEQ arrays (``to_deqtheory`` → ``formats.TABLE[kind].arrays``) as a dict."""
    return vars(dense_arrays(layer))


def _make(name, dtype=torch.float64, **kw):
    layer = LAYERS[name](dtype=dtype, **{**TIGHT, **kw})
    with torch.no_grad():          # move away from the initialisation (zero bias etc.)
        g = torch.Generator().manual_seed(1)
        for prm in layer.parameters():
            prm.add_(0.1 * torch.randn(prm.shape, generator=g, dtype=prm.dtype))
    return layer


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_forward_equals_deqtheory_solve_on_export(name):
    layer = _make(name)
    x = _x()
    z = layer(x)
    assert layer.last_stats.converged, layer.last_stats.message
    e = _export(layer)
    assert e["kind"] == layer.kind and e["W"].shape == (N, N) and e["U"].shape == (N, D)
    assert e["G"].shape == (P, N) and e["b"].shape == (N,) and e["b_y"].shape == (P,)
    ref = ds.solve(e["W"], e["U"], e["b"], x.numpy(), method="auto", tol=1e-13)
    assert ref.converged
    assert np.max(np.abs(z.detach().numpy() - ref.z)) <= 1e-10
    y = layer.readout(z)
    assert np.allclose(y.detach().numpy(), ref.z @ e["G"].T + e["b_y"], atol=1e-10)


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_exported_weight_equals_torch_weight(name):
    """The torch W (``layer.weight()``, what training runs) equals deqtheory's W on the exported
    parameters (``family().forward(params)``, CerDEQ: ``diag(s) W_orth``) to float64 rounding."""
    layer = _make(name)
    e = _export(layer)
    Wf = layer.family().forward(to_deqtheory(layer).params)
    if name == "cerdeq":        # effective W = diag(s) W_orth (BN replacement, li2022 §3.5)
        Wf = layer.bn_scale().detach().numpy()[:, None] * Wf
    assert np.array_equal(Wf, e["W"])
    Wt = layer.weight().detach().numpy()
    assert np.max(np.abs(Wt - e["W"])) <= 1e-12 * max(1.0, np.abs(e["W"]).max())


@pytest.mark.theorem("pabbaraju2021:thm1")
def test_mondeq_certificates():
    layer = _make("mondeq")
    e = _export(layer)
    assert layer.family().contains(e["W"]).certified
    assert layer.family().defining_condition(to_deqtheory(layer).params).certified
    nU, nG = np.linalg.norm(e["U"], 2), np.linalg.norm(e["G"], 2)
    Lb = bounds.pabbaraju_lipschitz(e["W"], e["U"], e["G"])
    assert Lb.certified and Lb.value <= nG * nU / layer.m * (1 + 1e-9)     # proved m ≥ parametrization m
    # havens2023 (4) with the analytic witness Λ = (‖G‖/‖U‖) I at L slightly above ‖G‖‖U‖/m
    L = 1.001 * nG * nU / layer.m
    cert = sdp.lipschitz_certificate(e["W"], e["U"], e["G"], L, lam=np.full(N, nG / nU))
    assert cert.certified, cert.message


@pytest.mark.theorem("pabbaraju2021:thm1")
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_lipmondeq_input_norm_bound_is_exact(dtype):
    layer = _make("lipmondeq", dtype=dtype)
    e = _export(layer)
    assert layer.family().contains(e["W"]).certified
    assert linalg.norm2_upper_bound(e["U"]) <= layer.lip * layer.m       # proved ‖U‖₂ ≤ lip·m
    Lb = bounds.pabbaraju_lipschitz(e["W"], e["U"])
    assert Lb.certified and Lb.value <= layer.lip * (1 + 1e-12)


@pytest.mark.theorem("havens2023:thm3.3")
def test_gmondeq_certificates():
    layer = _make("gmondeq")
    e = _export(layer)
    phi = layer.W_param.phi.detach().numpy()
    assert layer.family().contains(e["W"], Gamma=1 / phi).certified
    assert layer.family().defining_condition(to_deqtheory(layer).params).certified
    Lb = bounds.havens_gmondeq_lipschitz(e["W"], e["U"], phi, e["G"])
    assert Lb.certified and np.isfinite(Lb.value)


@pytest.mark.theorem("havens2023:prop2.2")
def test_lben_certificates():
    layer = _make("lben")
    e = _export(layer)
    lam = 1.0 / layer.W_param.psi.detach().numpy()
    assert layer.family().contains(e["W"], G=e["G"], U=e["U"], Lambda=lam).certified
    assert layer.family().defining_condition(to_deqtheory(layer).params).certified
    cert = sdp.lipschitz_certificate(e["W"], e["U"], e["G"], layer.L, lam=lam)
    assert cert.certified, cert.message


@pytest.mark.theorem("wei2022:thm3.1")
def test_ibp_certificates_and_m_warmup():
    layer = _make("ibp")
    e = _export(layer)
    assert layer.family().contains(e["W"]).certified
    assert linalg.check_ibp_wellposed(e["W"]).certified
    assert layer.warmup(0.0, 0.3) == pytest.approx(0.99)            # wei2022 App. B
    e2 = _export(layer)
    assert layer.family().m == pytest.approx(0.99) and layer.family().contains(e2["W"]).certified
    assert not np.allclose(e["W"], e2["W"])
    assert layer.warmup(0.3, 0.3) == pytest.approx(0.1)
    z = layer(_x())
    assert layer.last_stats.converged and z.shape == (3, N)


@pytest.mark.theorem("wei2022:thm3.3")
def test_ibp_gamma_certificates():
    layer = _make("ibp_gamma")
    e = _export(layer)
    G = layer.W_param.Gamma.detach().numpy()
    assert G.max() / G.min() < 3.0
    assert layer.family().contains(e["W"], Lambda=G ** -2).certified
    assert layer.family().defining_condition(to_deqtheory(layer).params).certified


@pytest.mark.theorem("li2022:prop3.4")
def test_cerdeq_certificates():
    layer = _make("cerdeq")
    e = _export(layer)
    Worth = layer.family().forward(to_deqtheory(layer).params)
    assert layer.family().contains(Worth).certified                   # √n W_orth orthogonal
    s = layer.bn_scale().detach().numpy()
    assert np.all((s > 0) & (s < 1))
    c = spectrum.check_adjoint_contractive(e["W"])                   # ‖Ŵ‖₂ ≤ max(s) < 1
    assert c.certified and c.stats["norm2_lift_upper_bound"] <= s.max() * (1 + 1e-6)
    assert np.allclose(e["U"], s[:, None] * layer.U0.detach().numpy())


@pytest.mark.theorem("jafarpour2022:eq12")
def test_nemon_certificates():
    layer = _make("nemon")
    e = _export(layer)
    eta = layer.W_param.eta.detach().numpy()
    assert layer.family().contains(e["W"], eta=eta).certified
    assert linalg.check_mu_inf(e["W"] - 0.5 * np.eye(N), eta).certified   # μ ≤ γ = 0 < 1/2
    Lb = bounds.jafarpour_linf_lipschitz(e["W"] * 0.999, e["U"], e["G"], eta)
    assert Lb.certified and np.isfinite(Lb.value)


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_implicit_gradient_matches_directional_finite_difference(name):
    layer = _make(name)
    x = _x(seed=2)
    w = torch.tensor(np.random.default_rng(3).standard_normal((3, P)))
    loss = (layer.readout(layer(x)) * w).sum()
    params = [p for p in layer.parameters()]
    grads = torch.autograd.grad(loss, params, allow_unused=True)
    assert layer.last_info.backward.converged
    g = torch.Generator().manual_seed(5)
    dirs = [torch.randn(p.shape, generator=g, dtype=p.dtype) for p in params]
    analytic = sum(float((gr * d).sum()) for gr, d in zip(grads, dirs) if gr is not None)
    h = 1e-6
    vals = []
    for sgn in (1, -1):
        with torch.no_grad():
            for p, d in zip(params, dirs):
                p.add_(sgn * h * d)
            vals.append(float((layer.readout(layer(x)) * w).sum()))
            for p, d in zip(params, dirs):
                p.sub_(sgn * h * d)
    fd = (vals[0] - vals[1]) / (2 * h)
    assert analytic == pytest.approx(fd, rel=1e-5, abs=1e-7)
    assert all(gr is not None for gr in grads)


@pytest.mark.parametrize("name", ["mondeq", "cerdeq", "nemon"])
def test_float32_layers_train_and_export(name):
    layer = _make(name, dtype=torch.float32, f_tol=1e-5, f_stop_mode="rel", b_tol=1e-5, f_max_iter=2000)
    opt = torch.optim.Adam(layer.parameters(), lr=1e-2)
    x = _x(dtype=torch.float32)
    for _ in range(2):
        opt.zero_grad()
        z = layer(x)
        assert z.dtype == torch.float32 and layer.last_stats.converged
        layer.readout(z).pow(2).sum().backward()
        opt.step()
    e = _export(layer)
    assert e["W"].dtype == np.float64
    if name == "mondeq":
        assert layer.family().contains(e["W"]).certified
    elif name == "nemon":
        # μ ≤ γ is closed and attained (T_ii ≥ 0): float32 rounding of W may exceed γ by ~1e-7,
        # so the set is certified only within float32 rounding; well-posedness (μ < 1) is proved
        eta = layer.W_param.eta.detach().double().numpy()
        assert layer.family().contains(e["W"], tol=1e-5, eta=eta).certified
        assert linalg.check_mu_inf(e["W"], eta).certified
    else:
        assert spectrum.check_adjoint_contractive(e["W"]).certified


def test_phantom_gradient_layer_and_bad_options():
    layer = _make("mondeq", grad="phantom", phantom_steps=3)
    z = layer(_x())
    z.sum().backward()
    assert layer.W_param.A.grad is not None and layer.last_info.backward is None
    with pytest.raises(TypeError):
        Ly.MonDEQLayer(D, N, P, f_solvr="pr")
    with pytest.raises(ValueError):
        Ly.LBENLayer(D, N, None)
    with pytest.raises(ValueError):
        layer(torch.zeros(2, D + 1, dtype=torch.float64))
    with pytest.raises(ValueError):
        Ly.MonDEQLayer(D, N).readout(torch.zeros(1, N))


@pytest.mark.theorem("li2022:prop3.5")
def test_cerdeq_default_input_init_uses_the_corrected_sigma():
    """U₀ ~ N(0, σ²) with σ = √π/(√2·d): d·E|U₀ᵢⱼ| = 1 (the catalogue's correction of li2022 Prop 3.5;
    the printed σ = √π/√(2d) would give √d = 20 here)."""
    from deqtheory_train.layers.dense import CerDEQLayer
    d, n = 400, 300
    lay = CerDEQLayer(d, n, 10, seed=0)
    est = d * float(lay.U0.detach().abs().mean())
    se = d * float(lay.U0.detach().abs().std()) / math.sqrt(n * d)
    assert abs(est - 1.0) < 5 * se + 1e-12
