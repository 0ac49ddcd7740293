"""deqtheory_train.layers.explicit against the numpy references of deqtheory.explicit.

Each torch layer (float64) is exported with ``deqtheory_train.export.to_deqtheory`` and must reproduce the reference's outputs
to 1e-10; the Lipschitz property is checked with deqtheory's certificates (``tw_certificate``,
``norm2_upper``) on the exported arrays and with Jacobian spectral norms. Conv layers are checked
against their dense materialization (``deqtheory.circulant.conv_matrix``) on small grids.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from deqtheory import circulant as C
from deqtheory import explicit as ex
from deqtheory.certificates import Status
from deqtheory_train import fft as T
from deqtheory_train.export import to_deqtheory
from deqtheory_train.layers import explicit as L

torch.set_num_threads(1)
D64 = torch.float64


def _randomize(mod: torch.nn.Module, seed: int, scale: float = 0.5) -> torch.nn.Module:
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in mod.parameters():
            p.add_(scale * torch.randn(p.shape, generator=g, dtype=p.dtype))
    return mod


def _assert_tw_not_refuted(layer: ex.ResidualLayer) -> None:
    """Proved λ_min(T − WᵀW) ≥ −(rounding): CERTIFIED, or INCONCLUSIVE within the non-strict tolerance."""
    cert = layer.tw_certificate()
    assert cert.status in (Status.CERTIFIED, Status.INCONCLUSIVE), cert
    assert cert.margin >= -cert.tolerance["nonstrict_tolerance"], cert


def _jacobian_norm(f, x: torch.Tensor) -> float:
    J = torch.autograd.functional.jacobian(f, x)
    return float(torch.linalg.matrix_norm(J.reshape(-1, x.numel()), ord=2))


@pytest.mark.theorem("havens2023:eq9")
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sll_linear_matches_reference_and_is_1_lipschitz(seed):
    torch.manual_seed(seed)
    layer = _randomize(L.SLLLinear(5, 7, dtype=D64), seed)
    ref = to_deqtheory(layer).layers[0]
    assert np.abs(layer.T().detach().numpy() - ex.sll_T(ref.W, np.exp(layer.log_q.detach().numpy()))).max() < 1e-12
    X = torch.randn(6, 5, dtype=D64)
    assert np.abs(layer(X).detach().numpy() - ref(X.numpy())).max() < 1e-10
    _assert_tw_not_refuted(ref)
    for i in range(3):
        assert _jacobian_norm(lambda v: layer(v[None])[0], X[i]) <= 1 + 1e-10


def test_sll_linear_stays_valid_after_optimizer_steps():
    torch.manual_seed(3)
    layer = L.SLLLinear(4, 6, dtype=D64)
    opt = torch.optim.Adam(layer.parameters(), lr=0.1)
    X = torch.randn(16, 4, dtype=D64)
    for _ in range(5):
        opt.zero_grad()
        loss = (layer(X) - 2 * X.flip(1)).square().sum()
        loss.backward()
        opt.step()
    _assert_tw_not_refuted(to_deqtheory(layer).layers[0])
    assert np.abs(layer(X).detach().numpy() - to_deqtheory(layer).layers[0](X.numpy())).max() < 1e-10


@pytest.mark.parametrize("seed", [0, 1])
def test_cpl_linear_eval_matches_reference_and_power_iteration_underestimates(seed):
    torch.manual_seed(seed)
    layer = _randomize(L.CPLLinear(5, 4, dtype=D64), seed)
    exact = float(torch.linalg.matrix_norm(layer.weight.detach(), ord=2))
    layer.train()
    for _ in range(200):
        s = float(layer.sigma().detach())
        assert s <= exact * (1 + 1e-12)
    assert abs(s - exact) < 1e-8 * exact
    layer.eval()
    ref = to_deqtheory(layer).layers[0]
    assert exact ** 2 <= ref.T[0] <= exact ** 2 * (1 + 1e-6)   # proved bound, never below the truth
    X = torch.randn(6, 5, dtype=D64)
    y = layer(X).detach().numpy()
    assert np.abs(y - ex.ResidualLayer(ref.W, np.full(ref.k, exact ** 2), ref.b)(X.numpy())).max() < 1e-10
    assert np.abs(y - ref(X.numpy())).max() < 1e-6
    _assert_tw_not_refuted(ref)


CONV_CASES = [(3, 3), (3, 4), (3, 5), (3, 6), (2, 3), (4, 4), (1, 3)]


@pytest.mark.theorem("havens2023:eq9")
@pytest.mark.parametrize("k,N", CONV_CASES)
def test_sll_conv_matches_dense_materialization_and_T_is_valid(k, N):
    """Conv SLL == dense ResidualLayer(conv_matrix(K)ᵀ, repeat(T), repeat(b)); its T dominates the dense
    eq. 9 T of the materialized W (equal when N ≥ 2k − 1); WᵀW ⪯ T proved (or tight); ‖J‖₂ ≤ 1."""
    torch.manual_seed(10 * k + N)
    layer = _randomize(L.SLLConv2d(2, 3, k, dtype=D64), k + N)
    ref = to_deqtheory(layer, N=N).layers[0].to_dense()
    x = torch.randn(4, 2, N, N, dtype=D64)
    y_ref = ref(x.reshape(4, -1).numpy()).reshape(4, 2, N, N)
    assert np.abs(layer(x).detach().numpy() - y_ref).max() < 1e-10
    q_dense = np.repeat(np.exp(layer.log_q.detach().numpy()), N * N)
    T_dense = ex.sll_T(ref.W, q_dense)
    assert np.all(ref.T >= T_dense * (1 - 1e-12))
    if N >= 2 * k - 1:
        assert np.abs(ref.T - T_dense).max() <= 1e-12 * ref.T.max()
        assert np.abs(layer(x).detach().numpy()
                      - ex.sll_layer(ref.W, q_dense, ref.b)(x.reshape(4, -1).numpy()).reshape(4, 2, N, N)).max() < 1e-10
    _assert_tw_not_refuted(ref)
    assert _jacobian_norm(lambda v: layer(v[None])[0], x[0]) <= 1 + 1e-10


@pytest.mark.parametrize("k,N", [(3, 3), (3, 5), (2, 4)])
def test_cpl_conv_matches_dense_reference(k, N):
    torch.manual_seed(k * N)
    layer = _randomize(L.CPLConv2d(2, 3, k, dtype=D64), N)
    exact = np.linalg.norm(C.conv_matrix(layer.kernel.detach().numpy(), N), 2)
    layer.train()
    x = torch.randn(3, 2, N, N, dtype=D64)
    for _ in range(300):
        s = float(layer.sigma(N).detach())
        assert s <= exact * (1 + 1e-12)
    layer.eval()
    assert abs(float(layer.sigma(N).detach()) - exact) < 1e-10
    ref = to_deqtheory(layer, N=N).layers[0].to_dense()
    assert exact ** 2 <= ref.T[0] <= exact ** 2 * (1 + 1e-6)   # proved bound, never below the truth
    y = layer(x).detach().numpy()
    same_T = ex.ResidualLayer(ref.W, np.full(ref.k, exact ** 2), ref.b)
    assert np.abs(y - same_T(x.reshape(3, -1).numpy()).reshape(3, 2, N, N)).max() < 1e-10
    assert np.abs(y - ref(x.reshape(3, -1).numpy()).reshape(3, 2, N, N)).max() < 1e-6
    _assert_tw_not_refuted(ref)
    stack = to_deqtheory([layer, L.SLLConv2d(2, 2, k, dtype=D64)], N=N).to_dense()
    assert stack.depth == 2


@pytest.mark.theorem("havens2023:eq8")
def test_aol_mlp_matches_reference_and_is_1_lipschitz():
    torch.manual_seed(4)
    net = _randomize(L.AOLMLP([5, 6, 4, 3], dtype=D64), 4)
    ref = to_deqtheory(net)
    X = torch.randn(7, 5, dtype=D64)
    assert np.abs(net(X).detach().numpy() - ref(X.numpy())).max() < 1e-10
    for l, W_ref in zip(net.layers, ref.effective_weights):
        assert np.abs(l.effective_weight().detach().numpy() - W_ref).max() < 1e-12
        assert ex.norm2_upper(W_ref) <= 1.0 + 1e-10     # AOL can be exactly tight (sign-consistent Gram)
    assert _jacobian_norm(lambda v: net(v[None])[0], X[0]) <= 1 + 1e-10


@pytest.mark.theorem("havens2023:eq8")
@pytest.mark.parametrize("k,N", [(3, 3), (3, 4), (3, 5), (2, 4), (4, 4)])
def test_aol_conv_is_1_lipschitz_on_the_grid(k, N):
    """‖M_{K̃D}‖₂ ≤ 1 proved (norm2_upper) on grids N ≥ k; D equals the dense eq. 8 D of the
    materialized W̃ when N ≥ 2k − 1 (then AOLNet reproduces the layer)."""
    torch.manual_seed(k + 7 * N)
    layer = _randomize(L.AOLConv2d(2, 3, k, dtype=D64), N)
    b = layer.bias.detach().numpy()          # the materialized effective map on the N x N grid
    W, b = C.conv_matrix(layer.effective_kernel().detach().numpy(), N), np.repeat(b, N * N)
    x = torch.randn(3, 2, N, N, dtype=D64)
    assert np.abs(layer(x).detach().numpy() - (x.reshape(3, -1).numpy() @ W.T + b).reshape(3, 3, N, N)).max() < 1e-10
    assert ex.norm2_upper(W) <= 1.0 + 1e-10
    Wt = C.conv_matrix(layer.weight.detach().numpy(), N)
    D_conv = np.repeat(L.aol_scaling_conv(layer.weight).detach().numpy(), N * N)
    D_dense = ex.aol_scaling(Wt)
    assert np.all(D_conv <= D_dense * (1 + 1e-12))
    if N >= 2 * k - 1:
        assert np.abs(D_conv - D_dense).max() < 1e-12
        # AOLNet with an identity first layer (aol_weight(I) = I) and bias 50: relu(x + 50) = x + 50 here,
        # so net(x) = W̃D_dense(x + 50) + b must equal the conv layer plus the constant W̃D_dense·50·𝟙
        net = ex.AOLNet((np.eye(2 * N * N),), (np.full(2 * N * N, 50.0),), Wt, b)
        shift = 50.0 * (Wt * D_dense[None, :]) @ np.ones(2 * N * N)
        assert np.abs(net(x.reshape(3, -1).numpy()) - shift
                      - layer(x).detach().numpy().reshape(3, -1)).max() < 1e-9


@pytest.mark.theorem("havens2023:sec2.4.sandwich")
@pytest.mark.parametrize("Lc", [1.0, 2.5])
def test_sandwich_matches_reference_and_is_L_lipschitz(Lc):
    torch.manual_seed(5)
    net = _randomize(L.SandwichMLP(4, [5, 3], 2, L=Lc, dtype=D64), 5)
    ref = to_deqtheory(net)
    AB, B_out = net.factors()
    A0, B0 = AB[0]
    assert np.abs(B_out.detach().numpy() - ref.B_out).max() < 1e-12
    assert np.abs(A0.detach().numpy() - ref.A[0]).max() < 1e-12
    assert np.abs(B0.detach().numpy() - ref.B[0]).max() < 1e-12
    X = torch.randn(6, 4, dtype=D64)
    assert np.abs(net(X).detach().numpy() - ref(X.numpy())).max() < 1e-10
    for i in range(3):
        assert _jacobian_norm(lambda v: net(v[None])[0], X[i]) <= Lc * (1 + 1e-10)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_dtype_follows_parameters_and_gradients_flow(dtype):
    torch.manual_seed(6)
    mods = [(L.SLLLinear(4, 5, dtype=dtype), (3, 4)), (L.CPLLinear(4, 5, dtype=dtype), (3, 4)),
            (L.AOLMLP([4, 5, 2], dtype=dtype), (3, 4)), (L.SandwichMLP(4, [5], 2, dtype=dtype), (3, 4)),
            (L.SLLConv2d(2, 3, 3, dtype=dtype), (3, 2, 5, 5)), (L.CPLConv2d(2, 3, 3, dtype=dtype), (3, 2, 5, 5)),
            (L.AOLConv2d(2, 3, 3, dtype=dtype), (3, 2, 5, 5))]
    for m, shape in mods:
        x = torch.randn(*shape, dtype=dtype)
        y = m(x)
        assert y.dtype == dtype
        y.square().sum().backward()
        for p in m.parameters():
            assert p.grad is not None and torch.isfinite(p.grad).all(), type(m).__name__


def test_float32_sll_conv_agrees_with_float64():
    torch.manual_seed(8)
    l64 = L.SLLConv2d(2, 3, 3, dtype=D64)
    l32 = L.SLLConv2d(2, 3, 3, dtype=torch.float32)
    l32.load_state_dict({k: v.float() for k, v in l64.state_dict().items()})
    x = torch.randn(2, 2, 6, 6, dtype=D64)
    assert (l32(x.float()).double() - l64(x)).abs().max() < 1e-4


def test_conv_layers_accept_unbatched_and_check_grid():
    layer = L.SLLConv2d(2, 3, 5, dtype=D64)
    from deqtheory.errors import ShapeError, DomainError
    with pytest.raises(ShapeError):
        layer(torch.zeros(1, 2, 4, 4, dtype=D64))        # kernel 5 > grid 4
    with pytest.raises(DomainError):
        to_deqtheory([layer])                # conv layer needs N
    assert T.gram_kernel(layer.kernel).shape == (3, 3, 9, 9)
