"""deqtheory_train.layers.conv_linf / models.conv_linf: the conv IBP-MonDEQ layer and wei2022's DEQ-3 / DEQ-7.

Oracles, independent of the layer's FFT path: deqtheory.conv_ibp (the numpy parametrization), the
convolutions materialised with deqtheory.circulant.conv_matrix, dense fixed points from
deqtheory.solvers.solve, the dense IBP lift deqtheory_train.certify.boxes.ibp_lift_t, finite differences,
`deqtheory eval` on the exported file. Small grids (N ≤ 5, channels ≤ 3) except the architecture checks.
"""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from deqtheory import circulant as C
from deqtheory import conv_ibp as CI
from deqtheory import formats as fm
from deqtheory import solvers as S
from deqtheory.cli import main as deqtheory_main
from deqtheory.errors import DomainError, ShapeError
from deqtheory_train import cli
from deqtheory_train import registry as R
from deqtheory_train.certify.boxes import ibp_lift_t
from deqtheory_train.experiment import load_config
from deqtheory_train.experiment.checkpoint import load_model_file
from deqtheory_train.export import to_deqtheory
from deqtheory_train.layers.conv_linf import ConvIBPMonDEQ
from deqtheory_train.losses import ibp_elided_loss
from deqtheory_train.models.conv_linf import ARCHS, ConvLinfClassifier
from deqtheory_train.train import LossContext

torch.set_num_threads(1)
D64 = torch.float64
TIGHT = {"f_tol": 1e-12, "f_stop_mode": "abs", "f_max_iter": 3000, "b_tol": 1e-12}
TINY = ("conv_ibpmondeq_deq3_tiny", "conv_ibpmondeq_deq7_tiny", "conv_ibpmondeq_deq3_gamma_tiny")


def _layer(c_in=2, c=3, N=5, k=3, *, gamma_variant=False, gamma=3.0, seed=0, m=0.1, ku=3, **kw):
    """A float64 layer with non-trivial parameters (M scaled, slack spread, β and bias random)."""
    L = ConvIBPMonDEQ(c_in, c, N, k, u_kernel_size=ku, m=m, gamma_variant=gamma_variant, gamma=gamma, seed=seed,
                      dtype=D64, **kw)
    g = torch.Generator().manual_seed(100 + seed)
    with torch.no_grad():
        L.M.mul_(3.0)
        L.log_slack.copy_(torch.log(torch.rand(c, generator=g, dtype=D64) + 0.05))
        L.U.mul_(10.0)
        L.bias.copy_(torch.randn(c, generator=g, dtype=D64))
        if L.beta is not None:
            L.beta.copy_(2 * torch.randn(c, generator=g, dtype=D64))
    return L


def _family(L):
    return CI.ConvIBPMonDEQGamma(m=L.m, gamma=L.gamma) if L.beta is not None else CI.ConvIBPMonDEQ(m=L.m)


def _params(L):
    M, ls = L.M.detach().numpy(), L.log_slack.detach().numpy()
    if L.beta is None:
        return CI.ConvIBPMonDEQParams(M=M, log_slack=ls)
    return CI.ConvIBPMonDEQGammaParams(M=M, log_slack=ls, beta=L.beta.detach().numpy())


def _dense(L):
    """Materialised W, U (conv_matrix) and b of the layer."""
    N = L.N
    W = C.conv_matrix(L.weight_kernel().detach().numpy(), N)
    U = C.conv_matrix(L.U.detach().numpy(), N)
    return W, U, np.repeat(L.bias.detach().numpy(), N * N)


# ------------------------------------------------------------------------------------------------
# the parametrization
# ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("gamma_variant,gamma", [(False, None), (True, 3.0), (True, None)])
@pytest.mark.parametrize("m", [0.0, 0.1, 0.5])
def test_weight_kernel_is_the_numpy_formula_bit_for_bit(gamma_variant, gamma, m):
    for seed in range(3):
        L = _layer(gamma_variant=gamma_variant, gamma=gamma, m=m, seed=seed)
        K = L.weight_kernel().detach().numpy()
        ref = _family(L).forward(_params(L))
        assert np.array_equal(K, ref), float(np.abs(K - ref).max())
        assert np.array_equal(to_deqtheory(L).W_kernel(), ref)


@pytest.mark.parametrize("k,N", [(3, 3), (3, 5), (2, 4), (1, 3), (4, 4)])
def test_materialised_W_is_m_monotone_in_abs_and_the_lift_kernel_is_the_matrix_lift(k, N):
    for seed in range(3):
        for m in (0.1, 0.5):
            L = _layer(c=3, N=N, k=k, ku=min(k, 3), m=m, seed=seed)
            W, _, _ = _dense(L)
            A = np.abs(W)
            lam = float(np.linalg.eigvalsh(0.5 * (A + A.T)).max())
            assert lam < 1 - m, (lam, m)
            # the lift kernel materialises to [[W+, W-], [W-, W+]] of the matrix (k ≤ N: no aliasing)
            lift = C.conv_matrix(L.lift_kernel().detach().numpy(), N)
            assert np.array_equal(lift, ibp_lift_t(torch.as_tensor(W)).numpy())
    # the Γ-variant: ρ(|W|) = ρ(|W'|) < 1 − m (λ_max(sym|W|) may exceed it)
    Lg = _layer(N=4, gamma_variant=True, m=0.3, seed=5)
    rho = float(np.abs(np.linalg.eigvals(np.abs(_dense(Lg)[0]))).max())
    assert rho < 1 - 0.3


def test_initialisation_is_the_documented_one():
    L = ConvIBPMonDEQ(4, 4, 6, 3, u_kernel_size=1, u_init="identity", seed=1, dtype=D64)
    b = 1 / np.sqrt(4 * 9)
    assert float(L.M.detach().abs().max()) <= b and float(L.M.detach().abs().max()) > 0.5 * b      # nn.Conv2d default range
    assert torch.equal(L.log_slack, torch.full((4,), np.log(1e-8), dtype=D64))
    x = torch.randn(2, 4, 6, 6, dtype=D64)
    assert torch.equal(L.injection(x), x)                                          # U = I, bias 0
    Li = ConvIBPMonDEQ(2, 5, 6, 3, u_kernel_size=3, seed=1, dtype=D64)
    std = float(Li.U.detach().std())
    assert 0.5 < std / (np.sqrt(2 * np.pi) / 18) < 1.5                            # Shi et al. IBP init
    assert torch.equal(ConvIBPMonDEQ(2, 5, 6, seed=1, dtype=D64).M, Li.M)          # seeded, reproducible
    assert not torch.equal(ConvIBPMonDEQ(2, 5, 6, seed=2, dtype=D64).M, Li.M)


# ------------------------------------------------------------------------------------------------
# solves and gradients
# ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("gamma_variant", [False, True])
@pytest.mark.parametrize("solver", ["pr", "fb"])
def test_fixed_point_matches_dense_solve_of_the_materialised_deq(gamma_variant, solver):
    L = _layer(N=4, gamma_variant=gamma_variant, seed=3, **{**TIGHT, "f_solver": solver})
    x = torch.randn(3, 2, 4, 4, dtype=D64)
    with torch.no_grad():
        z = L(x)
    assert L.last_info.forward.converged
    W, U, b = _dense(L)
    r = S.solve(W, U, b, x.reshape(3, -1).numpy(), method="pr", tol=1e-13)
    assert r.converged
    assert np.abs(z.reshape(3, -1).numpy() - r.z).max() < 1e-10


def test_lift_operator_is_the_conv_with_the_lift_kernel_and_adjoint_and_resolvent_are_exact():
    L = _layer(N=4, seed=4)
    L.requires_grad_(False)
    op = L.lift_operator()
    Kh = L.lift_kernel()
    z = torch.randn(2, 6, 4, 4, dtype=D64)
    y = torch.randn(2, 6, 4, 4, dtype=D64)
    from deqtheory_train import fft as T
    assert torch.allclose(op.matvec(z), T.conv2d_circular(Kh, z), atol=1e-13, rtol=0)
    assert abs(float((y * op.matvec(z)).sum() - (op.rmatvec(y) * z).sum())) < 1e-12
    Wh = C.conv_matrix(Kh.detach().numpy(), 4)
    I = np.eye(Wh.shape[0])
    for alpha in (0.3, 1.7):
        R_, RT = op.resolvent(alpha)
        ref = np.linalg.inv(I + alpha * (I - Wh))
        u = z.reshape(2, -1).numpy()
        assert np.abs(R_(z).reshape(2, -1).numpy() - u @ ref.T).max() < 1e-12
        assert np.abs(RT(z).reshape(2, -1).numpy() - u @ ref).max() < 1e-12
    assert op.m > 0


@pytest.mark.parametrize("gamma_variant", [False, True])
def test_implicit_gradient_passes_gradcheck_in_every_parameter(gamma_variant):
    """The implicit backward (adjoint PR solve) against torch.autograd.gradcheck's finite differences,
    jointly in M, log_slack, U, bias (and β) and the input."""
    L = _layer(c_in=1, c=2, N=3, gamma_variant=gamma_variant, seed=6, **TIGHT)
    names = [n for n, _ in L.named_parameters()]
    x = torch.randn(2, 1, 3, 3, dtype=D64)

    def f(xx, *ps):
        return torch.func.functional_call(L, dict(zip(names, ps)), (xx,))

    inputs = (x.requires_grad_(),) + tuple(p.detach().clone().requires_grad_() for p in L.parameters())
    assert torch.autograd.gradcheck(f, inputs, eps=1e-6, atol=1e-6, rtol=1e-5)
    assert L.last_info.backward.converged


@pytest.mark.parametrize("gamma_variant", [False, True])
def test_lifted_solve_matches_the_dense_lift_and_contains_sampled_fixed_points(gamma_variant):
    L = _layer(N=4, gamma_variant=gamma_variant, seed=7, lift_solver={"f_tol": 1e-12, "f_stop_mode": "abs",
                                                                     "f_max_iter": 3000}, **TIGHT)
    g = torch.Generator().manual_seed(7)
    x = torch.randn(2, 2, 4, 4, generator=g, dtype=D64)
    lo, hi = x - 0.2, x + 0.2
    vlo, vhi = L.injection_box(lo, hi)
    zl, zu = L.lifted_solve(vlo, vhi)
    assert L.last_lift_info.forward.converged
    W, _, _ = _dense(L)
    n = W.shape[0]
    vhat = np.concatenate([vhi.detach().reshape(2, -1).numpy(), vlo.detach().reshape(2, -1).numpy()], 1)
    r = S.solve(ibp_lift_t(torch.as_tensor(W)).numpy(), np.eye(2 * n), np.zeros(2 * n), vhat, method="pr", tol=1e-13)
    assert r.converged
    assert np.abs(r.z[:, :n] - zu.detach().reshape(2, -1).numpy()).max() < 1e-9
    assert np.abs(r.z[:, n:] - zl.detach().reshape(2, -1).numpy()).max() < 1e-9
    with torch.no_grad():
        for _ in range(30):
            xs = lo + (hi - lo) * torch.rand(x.shape, generator=g, dtype=D64)
            z = L(xs)
            assert bool((z <= zu + 1e-9).all()) and bool((z >= zl - 1e-9).all())
    # differentiable: the box width has a gradient in every parameter
    L.zero_grad()
    zl, zu = L.lifted_solve(*L.injection_box(lo, hi))
    (zu - zl).sum().backward()
    assert all(p.grad is not None and float(p.grad.abs().sum()) > 0 for p in (L.M, L.U))


def test_warmup_and_margin_checks():
    L = _layer(m=0.1)
    assert L.warmup(0.0, 0.2) == pytest.approx(0.99) and L.m_target == 0.1
    assert L.warmup(0.1, 0.2) == pytest.approx(0.1 + 0.89 * 0.5)
    assert L.warmup(0.3, 0.2) == pytest.approx(0.1)
    with pytest.raises(DomainError):
        L.m = 1.0


def test_pr_default_step_is_one_and_other_solvers_keep_their_rules():
    L = ConvIBPMonDEQ(1, 2, 4)
    assert L.solver_options["alpha"] == 1.0 and L.lift_options["alpha"] == 1.0
    assert "alpha" not in ConvIBPMonDEQ(1, 2, 4, f_solver="fb").solver_options     # FB: α = m/L² from theory
    assert "alpha" not in ConvIBPMonDEQ(1, 2, 4, b_solver="anderson").solver_options
    assert ConvIBPMonDEQ(1, 2, 4, alpha=0.3, lift_solver={"alpha": 2.0}).lift_options["alpha"] == 2.0


def test_bad_input():
    L = _layer()
    with pytest.raises(ShapeError):
        L(torch.zeros(1, 3, 5, 5, dtype=D64))
    with pytest.raises(ShapeError):
        L(torch.zeros(1, 2, 4, 4, dtype=D64))
    with pytest.raises(ShapeError):
        L.lifted_solve(torch.zeros(1, 2, 5, 5, dtype=D64), torch.zeros(1, 2, 5, 5, dtype=D64))
    with pytest.raises(ShapeError):
        ConvIBPMonDEQ(2, 3, 3, 5)
    with pytest.raises(ShapeError):
        ConvIBPMonDEQ(2, 3, 5, u_init="identity")
    with pytest.raises(DomainError):
        ConvIBPMonDEQ(2, 3, 5, u_init="zeros")
    with pytest.raises(DomainError):
        ConvIBPMonDEQ(2, 3, 5, m=1.2)
    with pytest.raises(DomainError):
        ConvIBPMonDEQ(2, 3, 5, gamma_variant=True, gamma=0.5)
    with pytest.raises(ValueError):
        ConvLinfClassifier((1, 8, 8), 3, arch="deq5")
    with pytest.raises(ValueError):
        ConvLinfClassifier((1, 8, 8), 3, stem=[[4, 3]])
    with pytest.raises(ValueError):
        ConvLinfClassifier((1, 8, 8), 3, init="kaiming")


# ------------------------------------------------------------------------------------------------
# export
# ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("gamma_variant", [False, True])
def test_export_round_trip_equals_torch_output(tmp_path, gamma_variant, capsys):
    L = _layer(N=5, gamma_variant=gamma_variant, seed=8, **TIGHT)
    obj = to_deqtheory(L)
    assert isinstance(obj, fm.ConvIBPMonDEQNet) and obj.kind == L.kind and obj.m == L.m and obj.N == 5
    p = str(tmp_path / "deq.npz")
    assert fm.save_model(p, obj) == L.kind
    x = torch.randn(3, 2, 5, 5, dtype=D64)
    with torch.no_grad():
        z = L(x).numpy()
    xp, yp = str(tmp_path / "x.npy"), str(tmp_path / "y.npy")
    np.save(xp, x.numpy())
    assert deqtheory_main(["eval", p, xp, "-o", yp, "--tol", "1e-13"]) == 0
    capsys.readouterr()
    Y = np.load(yp).reshape(z.shape)
    assert np.abs(Y - z).max() <= 1e-10
    # the current (warm-up) m is what is exported
    L.m = 0.7
    assert to_deqtheory(L).m == 0.7


# ------------------------------------------------------------------------------------------------
# the classifiers (wei2022 Table 1 / App. B)
# ------------------------------------------------------------------------------------------------

SMALL = {"deq3": dict(stem=[[4, 3, 1]], channels=4, pool=2),
         "deq7": dict(stem=[[3, 3, 1]], channels=3, post=[[4, 3, 2], [4, 3, 1]], fc=[6]),
         "deq3_cpu": dict(stem=[[4, 3, 2]], channels=4)}


def _small(arch, dtype=torch.float32, **kw):
    return R.build_model(f"{arch}_linf", (1, 8, 8), 3, normalize={"mean": [0.5], "std": [0.25]},
                         **{**SMALL[arch], **kw}).to(dtype)


def _names(model):
    return [type(b).__name__ for b in model.certify_blocks()]


def test_full_size_architectures_are_wei2022_table1():
    m3 = R.build_model("deq3_linf", (1, 28, 28), 10)
    assert _names(m3) == ["Conv2d", "BatchNorm2d", "ReLU", "ConvIBPMonDEQ", "BatchNorm2d", "AvgPool2d", "Flatten",
                          "Linear"]
    assert (m3.pre[0].out_channels, m3.pre[0].kernel_size, m3.pre[0].stride, m3.pre[0].padding) == (128, (3, 3), (1, 1),
                                                                                                       (1, 1))
    assert m3.layer.M.shape == (128, 128, 3, 3) and m3.layer.N == 28 and m3.layer.m == 0.1
    assert m3.head.in_features == 128 * 7 * 7 and m3.head.out_features == 10
    m7 = R.build_model("deq7_linf", (1, 28, 28), 10)
    assert _names(m7) == ["Conv2d", "BatchNorm2d", "ReLU", "ConvIBPMonDEQ", "BatchNorm2d", "Conv2d", "BatchNorm2d",
                          "ReLU", "Conv2d", "BatchNorm2d", "ReLU", "Conv2d", "BatchNorm2d", "ReLU", "Flatten", "Linear",
                          "BatchNorm1d", "ReLU", "Linear"]
    assert m7.layer.M.shape == (64, 64, 3, 3) and m7.layer.m == 0.5
    convs = [b for b in m7.certify_blocks() if isinstance(b, torch.nn.Conv2d)]
    assert [(c.out_channels, c.stride[0]) for c in convs] == [(64, 1), (128, 2), (128, 1), (128, 1)]
    assert m7.post[-3].in_features == 128 * 14 * 14 and m7.post[-3].out_features == 512
    conv = m3.pre[0]                           # Shi et al. IBP init of the explicit layers (fan_in = 1·3·3)
    assert 0.8 < float(conv.weight.detach().std()) / (np.sqrt(2 * np.pi) / 9) < 1.25 and not conv.bias.detach().any()
    mc = R.build_model("deq3_cpu_linf", (1, 28, 28), 10)
    assert mc.layer.N == 14 and mc.layer.channels == 32 and mc.head.in_features == 32 * 7 * 7
    assert set(ARCHS) == {"deq3", "deq7", "deq3_cpu"}


@pytest.mark.parametrize("arch", list(SMALL))
@pytest.mark.parametrize("gamma_variant", [False, True])
def test_every_builder_trains_forward_and_backward(arch, gamma_variant):
    torch.manual_seed(0)
    model = _small(arch, gamma_variant=gamma_variant)
    model.train()
    x, y = torch.rand(6, 1, 8, 8), torch.randint(0, 3, (6,))
    loss, logits = ibp_elided_loss(model, x, y, LossContext(eps=0.05, kappa=0.5))
    assert logits.shape == (6, 3) and torch.isfinite(loss)
    loss.backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
    assert float(model.layer.M.grad.abs().sum()) > 0 and model.last_interval_info.backward is not None


@pytest.mark.parametrize("arch", list(SMALL))
def test_eval_mode_float_boxes_contain_sampled_outputs(arch):
    torch.manual_seed(1)
    model = _small(arch, dtype=D64, solver=TIGHT, lift_solver={"f_tol": 1e-12, "f_stop_mode": "abs", "f_max_iter": 3000})
    with torch.no_grad():                          # non-trivial running statistics and BN affine parameters
        model.train()
        model(torch.rand(16, 1, 8, 8, dtype=D64))
        for b in model.modules():
            if isinstance(b, torch.nn.modules.batchnorm._BatchNorm):
                b.weight.normal_()
    model.eval()
    x = torch.rand(4, 1, 8, 8, dtype=D64)
    lo, hi = (x - 0.05).clamp(0, 1), (x + 0.05).clamp(0, 1)
    y = torch.randint(0, 3, (4,))
    with torch.no_grad():
        r = model.interval_bounds(lo, hi)
        ml, _ = model.interval_margins(lo, hi, y)
        ylo, yhi = model.interval_logits(lo, hi)
        for _ in range(20):
            xs = lo + (hi - lo) * torch.rand(x.shape, dtype=D64)
            f, out = model.features(xs), model(xs)
            assert bool((f <= r["zu"] + 1e-9).all()) and bool((f >= r["zl"] - 1e-9).all())
            assert bool((out <= yhi + 1e-9).all()) and bool((out >= ylo - 1e-9).all())
            marg = out[torch.arange(4), y][:, None] - out
            assert bool((marg >= ml - 1e-9).all())


@pytest.mark.parametrize("arch", list(SMALL))
def test_training_boxes_use_the_clean_batch_statistics(arch):
    """BN decision: in training mode the interval pass uses the batch statistics of the latest clean forward,
    so the degenerate box [x, x] gives exactly the training-mode output of that batch."""
    torch.manual_seed(2)
    model = _small(arch, dtype=D64, solver=TIGHT, lift_solver={"f_tol": 1e-12, "f_stop_mode": "abs", "f_max_iter": 3000})
    model.train()
    x = torch.rand(8, 1, 8, 8, dtype=D64)
    f = model.features(x)
    r = model.interval_bounds(x, x)
    assert torch.allclose(r["zl"], f, atol=1e-9, rtol=0) and torch.allclose(r["zu"], f, atol=1e-9, rtol=0)
    # without a recorded clean forward: the statistics of the box centres (here the same batch)
    model._bn_stats.clear()
    r2 = model.interval_bounds(x, x)
    assert torch.allclose(r2["zl"], f, atol=1e-9, rtol=0)
    # eval mode: running statistics, a function of one input
    model.eval()
    with torch.no_grad():
        fe = model.features(x[:1])
        re = model.interval_bounds(x[:1], x[:1])
    assert torch.allclose(re["zu"], fe, atol=1e-9, rtol=0)


def test_m_warmup_follows_wei2022_appB_and_is_saved():
    model = _small("deq7", m=0.5, m_warmup_eps_train=0.4)
    model.set_training_eps(0.0)
    assert model.layer.m == pytest.approx(0.99)
    model.set_training_eps(0.1)
    assert model.layer.m == pytest.approx(0.5 + 0.49 * 0.75)
    sd = model.state_dict()
    other = _small("deq7", m=0.5, m_warmup_eps_train=0.4)
    other.load_state_dict(sd)
    other(torch.rand(2, 1, 8, 8))
    assert other.layer.m == pytest.approx(0.5 + 0.49 * 0.75)
    plain = _small("deq3")
    plain.set_training_eps(0.3)
    assert plain.layer.m == 0.1


# ------------------------------------------------------------------------------------------------
# configs and the CLI
# ------------------------------------------------------------------------------------------------

def test_configs_load_and_follow_wei2022_table3():
    for arch in ("deq3", "deq7", "cpu", "cpu_short"):
        for k, et in ((1, 0.2), (2, 0.3), (3, 0.4), (4, 0.4)):
            c = load_config(f"conv_ibpmondeq_{arch.replace('_short', '')}_mnist{'_short' if 'short' in arch else ''}_eps0{k}")
            assert c["eps_schedule"]["end_value"] == et and c["certify"]["eps"] == [k / 10]
            assert c["loss"]["name"] == "ibp_elided" and c["data"]["batch_size"] == 128
            assert c["optimizer"]["lr"] == 0.0005 and c["grad_clip"] == 10.0
            if arch in ("deq3", "deq7"):
                assert c["epochs"] == 300 and c["schedule"]["milestones"] == [120, 280]
                assert c["eps_schedule"]["ramp_epochs"] == 79
    assert load_config("conv_ibpmondeq_deq7_mnist_eps02")["model"]["kwargs"]["m_warmup_eps_train"] == 0.3
    assert "m_warmup_eps_train" not in load_config("conv_ibpmondeq_deq3_mnist_eps02")["model"]["kwargs"]


@pytest.mark.parametrize("name", TINY)
def test_tiny_config_trains_through_the_cli_and_reloads(tmp_path, name, capsys):
    d = tmp_path / name
    assert cli.main(["run", name, "--out", str(d), "--no-progress", "--threads", "1"]) == 0
    capsys.readouterr()
    summ = json.loads((d / "summary.json").read_text())
    assert summ["status"] == "finished"
    rows = [json.loads(line) for line in (d / "metrics.jsonl").read_text().splitlines()]
    train = [r for r in rows if "loss" in r and r.get("eps", 0) > 0]
    assert train and all(np.isfinite(r["loss"]) for r in train)
    model, _ = load_model_file(str(d / "model.npz"))
    assert isinstance(model, ConvLinfClassifier)
    obj = to_deqtheory(model.layer)
    assert obj.kind == model.layer.kind and np.array_equal(obj.M, model.layer.M.detach().double().numpy())
