"""deqtheory_train.parametrize: torch W equals deqtheory's forward on the exported params, and the
exported W is certified by deqtheory (one source of truth: deqtheory.parametrizations)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.nn.utils import parametrize as tparam

from deqtheory import parametrizations as dp
from deqtheory.errors import DomainError
from deqtheory_train import parametrize as P
from deqtheory_train.export import to_deqtheory

torch.set_num_threads(1)

N = 6


def _rel_close(a, b, rtol=1e-12):
    return np.max(np.abs(a - b)) <= rtol * max(1.0, np.max(np.abs(b)))


def _witness(mod, W):
    """The analytic witness of each family's theorem for its own forward."""
    if isinstance(mod, P.GMonDEQWeight):
        return {"Gamma": 1.0 / mod.phi.detach().numpy()}
    if isinstance(mod, P.IBPMonDEQGammaWeight):
        return {"Lambda": mod.Gamma.detach().numpy() ** -2.0}
    if isinstance(mod, P.NonEuclideanWeight):
        return {"eta": mod.eta.detach().numpy()}
    return {}


def _modules(dtype=torch.float64):
    rng = np.random.default_rng(3)
    return [
        ("mondeq", P.MonDEQWeight(N, 0.5, rng=rng, dtype=dtype)),
        ("gmondeq", P.GMonDEQWeight(N, 0.5, rng=rng, dtype=dtype)),
        ("ibp", P.IBPMonDEQWeight(N, 0.1, rng=rng, dtype=dtype)),
        ("ibp_m0", P.IBPMonDEQWeight(N, 0.0, rng=rng, dtype=dtype)),
        ("ibp_gamma", P.IBPMonDEQGammaWeight(N, 0.1, 3.0, rng=rng, dtype=dtype)),
        ("ibp_gamma_none", P.IBPMonDEQGammaWeight(N, 0.1, None, rng=rng, dtype=dtype)),
        ("noneuclidean", P.NonEuclideanWeight(N, 0.0, eta_range=4.0, rng=rng, dtype=dtype)),
        ("cerdeq", P.CerDEQWeight(N, 30, rng=rng, dtype=dtype)),
    ]


def _perturb(mod, scale=0.3, seed=0):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for prm in mod.parameters():
            prm.add_(scale * torch.randn(prm.shape, generator=g, dtype=prm.dtype))


@pytest.mark.theorem("havens2023:eq5")
@pytest.mark.parametrize("perturbed", [False, True])
@pytest.mark.parametrize("idx", range(8))
def test_torch_weight_equals_deqtheory_forward_and_is_certified(idx, perturbed):
    name, mod = _modules()[idx]
    if perturbed:                      # every field is unconstrained: any parameter is valid
        _perturb(mod, seed=idx)
    W = mod().detach().numpy()
    fam = mod.family()
    prm = to_deqtheory(mod)
    assert isinstance(prm, fam.params_type)
    assert _rel_close(W, fam.forward(prm), 1e-12), name
    cert = fam.contains(W, **_witness(mod, W))
    assert cert.certified, (name, cert.message)
    if name != "cerdeq":               # CerDEQ: no a-priori rounding bound (forward_error_bound = inf)
        assert fam.defining_condition(prm).certified, name


@pytest.mark.theorem("havens2023:prop2.2")
@pytest.mark.parametrize("eps", [0.1, 0.0])
def test_lben_weight_matches_and_lmi4_holds_with_lambda_psi_inverse(eps):
    rng = np.random.default_rng(1)
    mod = P.LBENWeight(N, L=2.0, eps=eps, rng=rng, dtype=torch.float64)
    _perturb(mod, 0.2)
    G = torch.as_tensor(rng.standard_normal((3, N)))
    U = torch.as_tensor(rng.standard_normal((N, 4)))
    W = mod(G, U).detach().numpy()
    prm = dp.LBENParams(log_psi=mod.log_psi.detach().numpy(), G=G.numpy(), U=U.numpy(), V=mod.V.detach().numpy(),
                        S=mod.S.detach().numpy())
    with pytest.raises(DomainError, match="LBENLayer"):
        to_deqtheory(mod)                       # its parameters include the layer's G, U
    assert _rel_close(W, mod.family().forward(prm))
    cert = mod.family().contains(W, G=G.numpy(), U=U.numpy(), Lambda=1.0 / mod.psi.detach().numpy())
    assert cert.certified, cert.message
    if eps > 0:
        assert mod.family().defining_condition(prm).certified


def test_from_params_round_trip():
    rng = np.random.default_rng(2)
    cases = [(P.MonDEQWeight, dp.MonDEQ(m=0.3), {"m": 0.3}),
             (P.GMonDEQWeight, dp.GMonDEQ(m=0.3), {"m": 0.3}),
             (P.IBPMonDEQWeight, dp.IBPMonDEQ(m=0.2), {"m": 0.2}),
             (P.IBPMonDEQGammaWeight, dp.IBPMonDEQGamma(m=0.2, gamma=2.0), {"m": 0.2, "gamma": 2.0}),
             (P.NonEuclideanWeight, dp.NonEuclidean(gamma=-0.5), {"gamma": -0.5}),
             (P.CerDEQWeight, dp.CerDEQ(n_iter=20), {"n_iter": 20})]
    for cls, fam, hp in cases:
        prm = fam.sample(rng, 5)
        mod = cls.from_params(prm, **hp, dtype=torch.float64)
        assert _rel_close(mod().detach().numpy(), fam.forward(prm)), cls.__name__
        back = to_deqtheory(mod)
        for k, v in prm.arrays().items():
            assert np.array_equal(getattr(back, k), v), (cls.__name__, k)
    lp = dp.LBEN(L=1.5, eps=0.2).sample(rng, 5)
    mod = P.LBENWeight.from_params(lp, 1.5, 0.2, dtype=torch.float64)
    G, U = torch.tensor(np.array(lp.G)), torch.tensor(np.array(lp.U))
    assert _rel_close(mod(G, U).detach().numpy(), dp.LBEN(L=1.5, eps=0.2).forward(lp))


def test_still_certified_after_optimizer_steps():
    """Contract: after gradient steps on an arbitrary loss the weight stays in the set."""
    for name, mod in _modules():
        opt = torch.optim.Adam(mod.parameters(), lr=0.1)
        for _ in range(3):
            opt.zero_grad()
            W = mod()
            loss = torch.sin(3.0 * W).sum() - W.trace()
            loss.backward()
            opt.step()
        W = mod().detach().numpy()
        assert mod.family().contains(W, **_witness(mod, W)).certified, name


def test_float32_matches_float64_oracle():
    for (name, m32), (_, m64) in zip(_modules(torch.float32), _modules(torch.float64)):
        W32 = m32()
        assert W32.dtype == torch.float32
        ref = m64.family().forward(to_deqtheory(m32))      # float64 oracle on the float32 params
        tol = 1e-5 if name != "cerdeq" else 1e-4
        assert np.max(np.abs(W32.detach().numpy().astype(np.float64) - ref)) <= tol * max(1, np.abs(ref).max()), name


def test_family_parametrization_with_torch_parametrize():
    rng = np.random.default_rng(4)
    fam = dp.MonDEQ(m=0.7)
    W0 = fam.forward(fam.sample(rng, N))
    lin = torch.nn.Linear(N, N, bias=False).double()
    with torch.no_grad():
        lin.weight.copy_(torch.as_tensor(W0))
    tparam.register_parametrization(lin, "weight", P.FamilyParametrization(fam), unsafe=True)
    assert np.allclose(lin.weight.detach().numpy(), W0, atol=1e-12)
    opt = torch.optim.SGD(lin.parameters(), lr=0.3)
    for _ in range(3):
        opt.zero_grad()
        lin(torch.ones(2, N, dtype=torch.float64)).pow(2).sum().backward()
        opt.step()
    W = lin.weight.detach().numpy()
    assert fam.contains(W).certified
    orig = lin.parametrizations.weight.original0, lin.parametrizations.weight.original1
    adapter = lin.parametrizations.weight[0]
    prm = fam.params_type(**{k: t.detach().numpy() for k, t in zip(adapter.fields, orig)})
    assert _rel_close(W, fam.forward(prm))


def test_family_parametrization_rejects_lben():
    with pytest.raises(DomainError):
        P.FamilyParametrization(dp.LBEN())


@pytest.mark.theorem("wei2022:sec4.param")
def test_m_warmup_and_smooth_eps_schedule():
    # wei2022 App. B: m interpolates from 0.99 (eps = 0) to m (eps = eps_train)
    assert P.m_warmup(0.5, 0.0, 0.3) == pytest.approx(0.99)
    assert P.m_warmup(0.5, 0.3, 0.3) == pytest.approx(0.5)
    assert P.m_warmup(0.5, 0.15, 0.3) == pytest.approx(0.5 + 0.49 * 0.5)
    e = lambda s: P.smooth_eps_schedule(s, 10, 100, 0.4)   # noqa: E731
    assert e(0) == 0.0 and e(10) == 0.0 and e(110) == pytest.approx(0.4) and e(500) == 0.4
    # degree-4 monomial on the first quarter, linear after, C¹ at the junction (s = 1/4 at step 35)
    h = 1e-6
    assert e(35 - h) == pytest.approx(e(35 + h), abs=1e-7)
    left = (e(35 - h) - e(35 - 2 * h)) / h
    right = (e(35 + 2 * h) - e(35 + h)) / h
    assert left == pytest.approx(right, rel=1e-4)
    assert e(20) / e(30) == pytest.approx((10 / 20) ** 4)          # monomial part
    assert e(60) - e(50) == pytest.approx(e(90) - e(80))            # linear part
    assert all(e(s) <= e(s + 1) for s in range(0, 120))
    # an IBP weight at the warm-up margin is certified for that margin
    mod = P.IBPMonDEQWeight(N, 0.1)
    mod.m = P.m_warmup(0.1, 0.0, 1.0)
    assert mod.family().m == pytest.approx(0.99)
    assert mod.family().contains(mod().detach().numpy()).certified


def test_bad_hyperparameters_raise():
    with pytest.raises(DomainError):
        P.MonDEQWeight(3, m=-1.0)
    with pytest.raises(DomainError):
        P.IBPMonDEQWeight(3, m=1.0)
    mod = P.IBPMonDEQWeight(3, m=0.1)
    with pytest.raises(DomainError):
        mod.m = 1.5
    with pytest.raises(DomainError):
        P.NonEuclideanWeight(3, gamma=1.0)
    with pytest.raises(DomainError):
        P.smooth_eps_schedule(0, 0, 0, 1.0)
