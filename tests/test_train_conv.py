"""deqtheory_train.layers.conv: circular-conv DEQs (MonDEQ, LBEN, SLL → LBEN) against dense oracles.

Oracles: the convolutions materialized with deqtheory.circulant.conv_matrix (independent of the FFT
path), fixed points from deqtheory.solvers.solve, W from deqtheory.parametrizations.LBEN, the SLL
conversion from deqtheory.explicit.sll_to_deq. Small grids (N ≤ 5, channels ≤ 3).
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from deqtheory import circulant as C
from deqtheory import explicit as ex
from deqtheory import solvers as S
from deqtheory.certificates import Status
from deqtheory.errors import DomainError, ShapeError
from deqtheory.parametrizations import LBEN
from deqtheory.parametrizations.lben import LBENParams
from deqtheory_train import fft as T
from deqtheory_train.layers.conv import ConvLBEN, ConvMonDEQ
from deqtheory_train.export import to_deqtheory
from deqtheory_train.layers.explicit import SLLConv2d

torch.set_num_threads(1)
D64 = torch.float64
TIGHT = {"f_tol": 1e-11, "f_stop_mode": "abs", "f_max_iter": 3000}


def _perturb(mod, seed, scale=0.3):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in mod.parameters():
            p.add_(scale * torch.randn(p.shape, generator=g, dtype=p.dtype))
    return mod


def _dense_z(W, U, b, x, **kw):
    r = S.solve(W, U, b, x.reshape(x.shape[0], -1).numpy(), method="pr", tol=1e-12, **kw)
    assert r.converged
    return r.z


@pytest.mark.theorem("havens2023:eq5")
@pytest.mark.parametrize("k,N,solver", [(3, 4, "pr"), (3, 3, "pr"), (2, 4, "pr"), (3, 5, "fb")])
def test_conv_mondeq_matches_dense_deq(k, N, solver):
    torch.manual_seed(k + N)
    m = 0.5 if solver == "pr" else 2.0                     # FB's default α = m/L² is slow when m ≪ L
    mdl = _perturb(ConvMonDEQ(2, 3, k, m=m, dtype=D64, f_solver=solver, **TIGHT), N, 0.3 if solver == "pr" else 0.1)
    x = torch.randn(3, 2, N, N, dtype=D64)
    z = mdl(x)
    assert mdl.last_info.forward.converged
    d = to_deqtheory(mdl, N=N).dense()          # the exported model, materialized with conv_matrix
    W, U, b = d["W"], d["U"], d["b"]
    # FFT blocks of W == the dense formula on conv_matrix; spatial matvec == FFT matvec
    assert np.abs(C.conv_matrix(T.freq_to_kernel(mdl.W_freq(N).detach()).numpy(), N) - W).max() < 1e-12
    zz = torch.randn(2, 3, N, N, dtype=D64)
    op = mdl.operator(N)
    assert (op.matvec(zz) - T.fft_apply(mdl.W_freq(N), zz)).abs().max() < 1e-12
    assert (op.rmatvec(zz) - T.fft_apply(T.freq_adjoint(mdl.W_freq(N)), zz)).abs().max() < 1e-12
    assert op.m >= m - 1e-12                                # m + λ_min(AᵀA)
    assert np.abs(z.detach().numpy().reshape(3, -1) - _dense_z(W, U, b, x)).max() < 1e-9


@pytest.mark.parametrize("alpha", [0.3, 1.7])
def test_fft_resolvent_is_the_dense_resolvent(alpha):
    torch.manual_seed(1)
    N = 4
    mdl = _perturb(ConvMonDEQ(2, 3, 3, m=0.2, dtype=D64), 2)
    W = to_deqtheory(mdl, N=N).dense()["W"]
    n = W.shape[0]
    R = np.linalg.inv(np.eye(n) + alpha * (np.eye(n) - W))
    apply, apply_T = mdl.operator(N).resolvent(alpha)
    u = torch.randn(2, 3, N, N, dtype=D64)
    un = u.reshape(2, -1).numpy()
    assert np.abs(apply(u).reshape(2, -1).numpy() - un @ R.T).max() < 1e-12
    assert np.abs(apply_T(u).reshape(2, -1).numpy() - un @ R).max() < 1e-12


@pytest.mark.theorem("havens2023:eq7")
@pytest.mark.parametrize("N,k,eps", [(4, None, 0.1), (3, None, 0.05), (5, 3, 0.1)])
def test_conv_lben_matches_dense_parametrization_and_deq(N, k, eps):
    """Per-frequency W == deqtheory LBEN(L, ε).forward on the materialized kernels; the layer's z*
    == the dense DEQ's; LBEN.contains certifies (4) with Λ = Ψ⁻¹ (so y = Gz is L-Lipschitz)."""
    torch.manual_seed(N)
    lb = _perturb(ConvLBEN(2, 3, 2, N, kernel_size=k, L=2.0, eps=eps, dtype=D64, **TIGHT), N)
    obj = to_deqtheory(lb)                       # the exported model (DFT blocks), materialized densely
    d = {**obj.dense(), "psi": np.repeat(obj.psi, N * N)}
    assert set(d) == {"W", "U", "b", "G", "b_y", "identity_mask", "psi"}
    MG, MU, MV, MS = (C.conv_matrix(t.detach().numpy(), N) for t in (lb.G, lb.U, lb.V, lb.S))
    W_ref = LBEN(L=2.0, eps=eps).forward(LBENParams(log_psi=np.log(d["psi"]), G=MG, U=MU, V=MV, S=MS))
    assert np.abs(d["W"] - W_ref).max() < 1e-11
    assert np.abs(C.conv_matrix(T.freq_to_kernel(lb.W_freq().detach()).numpy(), N) - W_ref).max() < 1e-11
    x = torch.randn(3, 2, N, N, dtype=D64)
    y = lb.readout(lb(x))
    assert lb.last_stats.converged
    z_ref = _dense_z(d["W"], d["U"], d["b"], x, Lambda=1.0 / d["psi"])
    assert np.abs(lb(x).detach().numpy().reshape(3, -1) - z_ref).max() < 1e-9
    assert np.abs(y.detach().numpy().reshape(3, -1) - (z_ref @ d["G"].T + d["b_y"])).max() < 1e-9
    cert = LBEN(L=2.0, eps=eps).contains(W_ref, G=d["G"], U=d["U"], Lambda=1.0 / d["psi"])
    assert cert.status is Status.CERTIFIED


@pytest.mark.theorem("havens2023:sec4.1")
@pytest.mark.parametrize("k,N,solver", [(3, 4, "fb"), (3, 3, "pr"), (2, 4, "fb"), (3, 4, "dag"), (2, 5, "dag")])
def test_conv_sll_to_lben_is_exact(k, N, solver):
    """ConvLBEN.from_sll reproduces the conv SLL stack; its dense W, Ψ, G, U equal
    deqtheory.explicit.sll_to_deq of the exported stack (eqs. 13–15, Ψ = Λ⁻¹); V, S from the
    per-frequency root and S = ½Mᵀ rebuild W through eq. (7)."""
    torch.manual_seed(10 + k + N)
    layers = [_perturb(SLLConv2d(2, 3, k, dtype=D64), i) for i in range(3)]
    kw = dict(TIGHT, f_solver=solver)
    if solver == "pr":
        kw["alpha"] = None
    if solver == "fb":
        kw["alpha"] = 1.0          # plain Picard steps: exact after depth + 1 steps (W nilpotent)
    cl = ConvLBEN.from_sll(layers, N, **kw)
    x = torch.randn(2, 2, N, N, dtype=D64)
    ys = x
    for l in layers:
        ys = l(ys)
    assert (cl.readout(cl(x)) - ys).abs().max() < 1e-9
    assert cl.last_info.forward.converged
    form = ex.sll_to_deq(to_deqtheory(layers, N=N).to_dense())
    obj = to_deqtheory(cl)
    d = {**obj.dense(), "psi": np.repeat(obj.psi, N * N)}
    for key, ref in (("W", form.W), ("G", form.G), ("U", form.U), ("b", form.b)):
        assert np.abs(d[key] - ref).max() < 1e-10, key
    assert np.abs(d["psi"] - 1.0 / form.lam).max() < 1e-10 * np.max(1.0 / form.lam)
    cert = ex.check_lmi10(form)
    assert cert.status in (Status.CERTIFIED, Status.INCONCLUSIVE) and cert.margin > -1e-9


def test_implicit_gradient_matches_finite_differences():
    torch.manual_seed(3)
    N = 3
    mdl = _perturb(ConvMonDEQ(1, 2, 3, m=0.5, dtype=D64, b_tol=1e-12, **TIGHT), 3)
    x = torch.randn(2, 1, N, N, dtype=D64)
    w = torch.randn(2, 2, N, N, dtype=D64)

    def loss():
        return (mdl(x) * w).sum()

    mdl.zero_grad()
    loss().backward()
    for p, idx in ((mdl.bias, (0,)), (mdl.A, (1, 0, 2, 1)), (mdl.B, (0, 1, 0, 0)), (mdl.U, (1, 0, 1, 1))):
        g = float(p.grad[idx])
        h = 1e-6
        with torch.no_grad():
            p[idx] += h
            lp = float(loss())
            p[idx] -= 2 * h
            lm = float(loss())
            p[idx] += h
        assert abs(g - (lp - lm) / (2 * h)) < 1e-6 * max(1.0, abs(g))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_dtype_follows_and_gradients_reach_all_parameters(dtype):
    torch.manual_seed(4)
    N = 4
    for mdl in (ConvMonDEQ(2, 3, 3, dtype=dtype), ConvLBEN(2, 3, 2, N, dtype=dtype)):
        x = torch.randn(2, 2, N, N, dtype=dtype)
        y = mdl(x)
        if isinstance(mdl, ConvLBEN):
            y = mdl.readout(y)
        assert y.dtype == dtype and mdl.last_info.forward.converged
        y.square().sum().backward()
        for name, p in mdl.named_parameters():
            assert p.grad is not None and torch.isfinite(p.grad).all(), (type(mdl).__name__, name)


def test_float32_conv_lben_agrees_with_float64():
    torch.manual_seed(5)
    N = 4
    l64 = ConvLBEN(2, 3, 2, N, dtype=D64, f_tol=1e-7)
    l32 = ConvLBEN(2, 3, 2, N, dtype=torch.float32, f_tol=1e-5)
    l32.load_state_dict({k: v.float() for k, v in l64.state_dict().items()})
    x = torch.randn(2, 2, N, N, dtype=D64)
    assert (l32.readout(l32(x.float())).double() - l64.readout(l64(x))).abs().max() < 1e-3


def test_bad_input():
    from deqtheory.errors import DomainError, ShapeError
    with pytest.raises(DomainError):
        ConvMonDEQ(2, 3, 3, m=0.0)
    with pytest.raises(ShapeError):
        ConvLBEN(2, 3, 2, 4, kernel_size=5)
    lb = ConvLBEN(2, 3, 2, 4, dtype=D64)
    with pytest.raises(ShapeError):
        lb(torch.zeros(1, 2, 5, 5, dtype=D64))
    with pytest.raises(DomainError):
        ConvLBEN.from_sll([torch.nn.Linear(2, 2)], 4)


def _sll_stack(seed, c=2, h=3, k=3, depth=3):
    torch.manual_seed(seed)
    return [_perturb(SLLConv2d(c, h, k, dtype=D64), seed + i) for i in range(depth)]


@pytest.mark.parametrize("N,bias", [(4, 0.0), (5, 0.7)])
def test_dag_forward_equals_sll_and_dense_fixed_point(N, bias):
    """f_solver="dag" (block forward substitution in the frequency domain, no autograd): the output
    equals the SLL stack and z equals the dense fixed point of the materialized W (deqtheory.solvers,
    identity mask on the skip block); the stats report the residual recomputed with the full W."""
    layers = _sll_stack(21 + N)
    cl = ConvLBEN.from_sll(layers, N).eval()
    with torch.no_grad():
        cl.bias.add_(bias)                      # a bias on every channel: the DC term of v̂ must carry it
        x = torch.randn(3, 2, N, N, dtype=D64)
        z = cl(x)
        st = cl.last_stats
        y = cl.readout(z)                        # reuses ẑ of this z
        y_spatial = cl._conv(cl.G, z, cl.bias_y)
    assert st.method == "dag" and st.converged and st.iterations == len(cl.blocks) == 4
    assert cl.blocks == (2, 3, 3, 3)
    d = to_deqtheory(cl).dense()
    mask = np.repeat(np.arange(cl.channels) < cl.identity_channels, N * N)
    zref = np.zeros((3, cl.channels * N * N))
    for _ in range(len(cl.blocks) + 1):          # Picard iteration is exact after depth + 1 steps (W nilpotent)
        pre = zref @ d["W"].T + x.reshape(3, -1).numpy() @ d["U"].T + d["b"]
        zref = np.where(mask, pre, np.maximum(pre, 0.0))
    assert np.abs(z.numpy().reshape(3, -1) - zref).max() < 1e-10
    pre = z.numpy().reshape(3, -1) @ d["W"].T + x.reshape(3, -1).numpy() @ d["U"].T + d["b"]
    res = np.linalg.norm(z.numpy().reshape(3, -1) - np.where(mask, pre, np.maximum(pre, 0.0)), axis=1).max()
    assert st.residual == pytest.approx(res, abs=1e-12)
    assert (y - y_spatial).abs().max() < 1e-12
    if bias == 0.0:
        ys = x
        for l in layers:
            ys = l(ys)
        assert (y - ys).abs().max() < 1e-10


def test_dag_readout_cache_is_tied_to_the_returned_z():
    """The ẑ reuse in readout applies only to the very tensor returned by the last forward, unmodified."""
    N = 4
    cl = ConvLBEN.from_sll(_sll_stack(5), N).eval()
    with torch.no_grad():
        x = torch.randn(2, 2, N, N, dtype=D64)
        z = cl(x)
        z2 = z.clone()
        z.mul_(2.0)                               # in place: the cached spectrum is stale now
        assert (cl.readout(z) - cl._conv(cl.G, z, cl.bias_y)).abs().max() < 1e-12
        assert (cl.readout(z2) - cl._conv(cl.G, z2, cl.bias_y)).abs().max() < 1e-12


def test_dag_gradient_equals_sll_gradient():
    """With autograd, the DAG solution seeds plain Picard steps (accepted at once) and the implicit
    backward gives the SLL stack's input and parameter-free gradients."""
    N = 4
    layers = _sll_stack(8)
    cl = ConvLBEN.from_sll(layers, N)
    x = torch.randn(2, 2, N, N, dtype=D64, requires_grad=True)
    w = torch.randn(2, 2, N, N, dtype=D64)
    (cl.readout(cl(x)) * w).sum().backward()
    assert cl.last_info.forward.iterations == 0 and cl.last_info.forward.converged
    g_lben = x.grad.clone()
    x.grad = None
    ys = x
    for l in layers:
        ys = l(ys)
    (ys * w).sum().backward()
    assert (g_lben - x.grad).abs().max() < 1e-9


def test_dag_refuses_a_non_nilpotent_W_and_bad_blocks():
    N = 4
    cl = ConvLBEN.from_sll(_sll_stack(9), N).eval()
    with torch.no_grad():
        cl.S[0, -1] += 1e-3                      # couples the last block back into the first: not a DAG any more
        with pytest.raises(DomainError, match="not block strictly lower triangular"):
            cl(torch.randn(1, 2, N, N, dtype=D64))
    with pytest.raises(DomainError, match="blocks"):
        ConvLBEN(2, 3, 2, N, dtype=D64, f_solver="dag")(torch.randn(1, 2, N, N, dtype=D64))
    with pytest.raises(ShapeError, match="blocks"):
        ConvLBEN(2, 3, 2, N, dtype=D64, blocks=(2, 2))
