"""The device test lane (issue 14 item 1): what must hold wherever a model runs — the solvers reach the
numpy oracle's fixed point, implicit gradients equal the CPU float64 ones, every layer family runs a
forward + backward pass whose loss and gradients agree with the CPU's, the device certifiers prove
exactly what the CPU run proves, a training step, and checkpoint/resume is bit-identical.

Every test takes ``dev`` from :data:`deqtheory_train.testing.DEVICES`: the CPU always, ``cuda`` when
``torch.cuda.is_available()`` (skipped with that reason otherwise). ``benchmarks/gpu_check.sh`` runs this
file on a GPU. The reference of each comparison is computed on the CPU in the same test."""
from __future__ import annotations

import copy
import functools

import numpy as np
import pytest
import torch

from deqtheory import solvers as ds
from deqtheory_train import data as D
from deqtheory_train import experiment as X
from deqtheory_train import registry as R
from deqtheory_train import solvers as S
from deqtheory_train import train as T
from deqtheory_train.testing import DEVICES, mondeq_matrix, mondeq_problem

torch.set_num_threads(1)

CPU = torch.device("cpu")


# ----------------------------------------------------------------------------------------------
# solvers and implicit backward
# ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dev", DEVICES)
@pytest.mark.parametrize("identity", [(), (2, 5)], ids=["relu", "masked"])
def test_every_solver_reaches_the_numpy_fixed_point_on_the_device(dev, identity):
    """All of F_SOLVERS, checking every iteration and every 8th (and the device's "auto"), float64 on
    ``dev``, φ = ReLU or the identity on some coordinates: CONVERGED, the returned z on ``dev`` within
    1e-10 of deqtheory.solvers' fixed point."""
    W, V, im = mondeq_problem(9, 6, identity, seed=3)
    ref = ds.solve_injection(W, V, method="pr", tol=1e-13, identity_mask=im)
    assert ref.converged
    Wt, Vt = (torch.tensor(a, dtype=torch.float64, device=dev) for a in (W, V))
    mk = None if im is None else torch.tensor(im, device=dev)
    assert S.resolve_check_every("auto", torch.device(dev)) == (1 if dev == "cpu" else 8)
    for method in S.F_SOLVERS:
        for k in (1, 8, "auto"):
            z, st = S.fixed_point(Wt, Vt, f_solver=method, f_tol=1e-12, f_stop_mode="abs", f_max_iter=5000,
                                  identity_mask=mk, check_every=k)
            assert z.device.type == dev and z.dtype == torch.float64
            assert st.status is S.SolverStatus.CONVERGED, (method, k, st.message)
            assert st.residual <= 1e-12
            assert np.max(np.abs(z.cpu().numpy() - ref.z)) <= 1e-10, (method, k)


@pytest.mark.parametrize("dev", DEVICES)
@pytest.mark.parametrize("method", ["pr", "fb", "alpha_avg"])
def test_implicit_gradient_on_the_device_equals_the_cpu_float64_gradient(dev, method):
    """d/dW and d/dv of ⟨c, z*(W, v)⟩ through the adjoint fixed point: float64 on ``dev`` equals the
    CPU float64 gradient to 1e-9; float32 on ``dev`` to 1e-3 (relative to the gradient's size)."""
    n = 8
    W0 = mondeq_matrix(n, m=0.6, seed=7)
    if method == "alpha_avg":                                 # μ∞ < 1 for the α-averaged iteration
        W0 = W0 / (2 * np.abs(W0).sum(1, keepdims=True))
    V0 = np.random.default_rng(8).standard_normal((4, n))
    C0 = np.random.default_rng(9).standard_normal((4, n))

    def grads(device, dtype):
        W = torch.tensor(W0, dtype=dtype, device=device, requires_grad=True)
        v = torch.tensor(V0, dtype=dtype, device=device, requires_grad=True)
        f64 = dtype == torch.float64
        z, info = S.deq_solve(W, v, f_solver=method, f_tol=1e-12 if f64 else 1e-5, f_stop_mode="abs" if f64 else "rel",
                              f_max_iter=5000)
        (z * torch.tensor(C0, dtype=dtype, device=device)).sum().backward()
        assert info.forward.converged and info.backward is not None and info.backward.converged
        assert W.grad.device.type == torch.device(device).type
        return W.grad.double().cpu().numpy(), v.grad.double().cpu().numpy()

    gW, gv = grads(CPU, torch.float64)
    for dtype, tol in ((torch.float64, 1e-9), (torch.float32, 1e-3)):
        hW, hv = grads(dev, dtype)
        scale = max(np.abs(gW).max(), np.abs(gv).max())
        assert np.abs(hW - gW).max() <= tol * scale and np.abs(hv - gv).max() <= tol * scale, dtype


# ----------------------------------------------------------------------------------------------
# every layer family: forward + backward on the device agrees with the CPU
# ----------------------------------------------------------------------------------------------

_NORM = {"mean": [0.5], "std": [0.25]}
_L2 = ("2", "offset_ce", {"offset": 1.4142135623730951, "temperature": 0.25})
_LM = ("2", "lipschitz_margin", {"eps": 0.5, "temperature": 1.0, "l1": 0.1})
_IBP = ("inf", "ibp_elided", {})
_INCL = ("inf", "inclusion", {})
_CER = ("inf", "cerdeq", {"eps_target": 0.1, "lambda_n": 0.25, "lambda_0": 0.75})

#: family → (builder, kwargs, source family for ``init_from`` (converted models) or None, (norm, loss, loss kwargs))
FAMILIES = {
    "lipmondeq": ("lipmondeq", {"width": 12, "normalize": _NORM}, None, _L2),
    "lben_from_lipmondeq": ("lben_from_lipmondeq", {}, "lipmondeq", _L2),
    "ibp_mondeq": ("ibp_mondeq_linf", {"width": 8, "pre_hidden": [10], "init": "ibp", "normalize": _NORM}, None, _IBP),
    "cerdeq": ("cerdeq_linf", {"width": 8, "pre_hidden": [10], "n_iter": 5, "init": "ibp", "normalize": _NORM},
               None, _CER),
    "nemon": ("nemon_linf", {"width": 8, "nemon_gamma": 0.0}, None, _INCL),
    "mondeq": ("mondeq_linf", {"width": 8, "normalize": _NORM}, None, _IBP),
    "convsll": ("convsll", {"channels": 2, "hidden": 4, "depth": 2, "kernel_size": 3, "normalize": _NORM}, None, _L2),
    "convlben_from_sll": ("convlben_from_sll", {}, "convsll", _LM),
    "convlben_dag_from_sll": ("convlben_dag_from_sll", {}, "convsll", _LM),
    "conv_ibp_mondeq": ("deq3_linf", {"stem": [[4, 3, 1]], "channels": 4, "pool": 2, "init": "ibp",
                                      "normalize": _NORM}, None, _IBP),
    "conv_nemon": ("deq3_linf", {"family": "nemon", "nemon_gamma": 0.0, "stem": [[4, 3, 1]], "channels": 4,
                                 "pool": 2, "init": "ibp", "normalize": _NORM}, None, _INCL),
    "conv_cerdeq": ("conv_cerdeq_cpu_linf", {"deqs": [[4, 3, 2]], "linear": [6], "normalize": _NORM}, None, _IBP),
}
SHAPE, CLASSES = (1, 8, 8), 3


def _build(family, dtype=torch.float64):
    builder, kw, src, _ = FAMILIES[family]
    torch.manual_seed(0)
    if src is not None:
        kw = {**kw, "init_from": _build(src, dtype)}
    return R.build_model(builder, SHAPE, CLASSES, **kw).to(dtype)


def _batch(n=6, dtype=torch.float64, device=CPU):
    ds_ = D.load_dataset("synthetic", "train", n=n, shape=list(SHAPE), num_classes=CLASSES, noise=0.3)
    return (torch.from_numpy(ds_.x).to(device=device, dtype=dtype), torch.from_numpy(ds_.y).to(device))


def _on(model, device):
    """A copy of ``model`` on ``device`` whose solves (forward, lifted) check convergence every iteration,
    as on the CPU: the CPU and ``dev`` runs stop at the same iterate and differ by rounding only."""
    model = copy.deepcopy(model).to(device)
    for mod in model.modules():
        for name in ("solver_options", "lift_options", "lift_solver"):
            if isinstance(getattr(mod, name, None), dict):
                getattr(mod, name)["check_every"] = 1
    return model


def _loss_and_grads(model, family, device):
    norm, loss, lkw = FAMILIES[family][3]
    model = _on(model, device).train()
    x, y = _batch(device=torch.device(device))
    ctx = T.LossContext(norm=norm, eps=0.02, kappa=0.5)
    val, logits = R.get_loss(loss)(model, x, y, ctx, **lkw)
    val.backward()
    assert logits.device.type == torch.device(device).type and torch.isfinite(logits).all()
    grads = {k: p.grad for k, p in model.named_parameters() if p.grad is not None}
    assert grads and all(g.device.type == torch.device(device).type and torch.isfinite(g).all()
                         for g in grads.values())
    return float(val.detach()), {k: g.double().cpu().numpy() for k, g in grads.items()}


@pytest.mark.parametrize("dev", DEVICES)
@pytest.mark.parametrize("family", list(FAMILIES))
def test_forward_and_backward_of_every_layer_family_on_the_device(dev, family):
    """The family's training loss at ε = 0.02 (float64, tiny sizes) on ``dev``: finite logits and
    gradients on ``dev`` for the same parameters as on the CPU, loss and every gradient within 1e-7 of
    the CPU's (relative). The solvers check convergence every iteration on both sides (a GPU's default
    is every 8th, covered by the solver test above), so both run the same iteration and differ by
    rounding only."""
    model = _build(family)
    ref_loss, ref_g = _loss_and_grads(model, family, CPU)
    loss, g = _loss_and_grads(model, family, dev)
    assert loss == pytest.approx(ref_loss, rel=1e-7, abs=1e-12)
    assert g.keys() == ref_g.keys()
    scale = max(np.abs(a).max() for a in ref_g.values()) + 1e-12
    for k in g:
        assert np.abs(g[k] - ref_g[k]).max() <= 1e-7 * scale, k


# ----------------------------------------------------------------------------------------------
# certification on the device
# ----------------------------------------------------------------------------------------------

def _certify_data(n):
    return D.load_dataset("synthetic", "test", n=n, shape=list(SHAPE), num_classes=CLASSES, noise=0.3)


@pytest.mark.parametrize("dev", DEVICES)
@pytest.mark.parametrize("family, certifier, norm, eps", [
    ("lipmondeq", "deq", "2", [0.0, 0.05, 0.2]),
    ("ibp_mondeq", "deq_linf", "inf", [0.0, 0.002, 0.01]),
    ("conv_ibp_mondeq", "conv_linf", "inf", [0.0, 0.002, 0.01]),
])
def test_certification_on_the_device_proves_what_the_cpu_proves(dev, family, certifier, norm, eps):
    """``certify_model(..., device=dev)`` reports the CPU run's numbers, and the certifier's per-image
    result on ``dev`` has the CPU's certified matrix exactly and its witness margins within 1e-9 (with
    convergence checked every iteration on both sides, so both solves stop at the same iterate)."""
    model = _build(family, torch.float32)
    ds_ = _certify_data(12)
    ref = X.certify_model(model, ds_, certifier=certifier, norm=norm, eps=eps)
    res = X.certify_model(model, ds_, certifier=certifier, norm=norm, eps=eps, device=dev)
    assert res["device"] == str(torch.device(dev)) and ref["device"] == "cpu"
    assert res["certified_accuracy"] == ref["certified_accuracy"]
    assert res["clean_accuracy"] == ref["clean_accuracy"]
    fn = R.get_certifier(certifier)
    same = {"solver_options": {"check_every": 1}}
    a = fn(model, ds_.x, ds_.y, norm=norm, eps=eps, witness=True, **same)
    b = fn(model, ds_.x, ds_.y, norm=norm, eps=eps, witness=True, device=torch.device(dev), **same)
    assert np.array_equal(a.certified, b.certified) and np.array_equal(a.correct, b.correct)
    assert a.certified[:, 0].sum() > 0                       # the comparison is not about an empty matrix
    assert "clean_margins" in a.witness and ("interval_margins" in a.witness) == (norm == "inf")
    for key in ("clean_margins", "interval_margins"):
        if key in a.witness:
            assert np.allclose(a.witness[key], b.witness[key], rtol=0, atol=1e-9), key


_MNIST_NORM = {"mean": [0.1307], "std": [0.3081]}


@functools.lru_cache(maxsize=None)
def _conv_l2_model(kind):
    """The tiny 28 × 28 conv models of tests/test_conv_dag.py (float64): the conv SLL, its ConvLBEN
    (one-pass ``"dag"`` solve), the same LBEN with W no longer nilpotent (PR solve) and its DAG-LBEN."""
    from deqtheory_train import models as M
    torch.manual_seed(0)
    src = M.build_convsll((1, 28, 28), 10, channels=2, hidden=3, depth=2, normalize=_MNIST_NORM, seed=2).double()
    if kind == "convsll":
        return src
    if kind == "conv_dag_lben":
        return M.convlben_dag_from_sll_model(src)
    lben = M.convlben_from_sll_model(src, f_solver="dag")
    if kind == "convlben_pr":
        with torch.no_grad():
            lben.body.S[0, -1] += 1e-3
    return lben


@pytest.mark.parametrize("dev", DEVICES)
@pytest.mark.parametrize("kind, solver", [("convsll", None), ("convlben_dag", "dag"), ("convlben_pr", "pr"),
                                          ("conv_dag_lben", "dag")])
def test_conv_l2_on_the_device_proves_what_the_cpu_proves(dev, kind, solver):
    """``certify_model(..., certifier="conv_l2", device=dev)`` reports the CPU run's numbers; per image the
    certified matrix and ``correct`` are the CPU's exactly and the radii within 1e-9 relative (bit for bit
    on the CPU). The ConvLBEN solves check convergence every iteration on both sides (the PR case)."""
    model = _conv_l2_model(kind)
    ds_ = D.load_dataset("mnist", "test").subset(24)
    eps = [0.0, 0.01, 0.1]
    ref = X.certify_model(model, ds_, certifier="conv_l2", norm="2", eps=eps)
    res = X.certify_model(model, ds_, certifier="conv_l2", norm="2", eps=eps, device=dev)
    assert res["device"] == str(torch.device(dev)) and ref["device"] == "cpu"
    for key in ("certified_accuracy", "clean_accuracy", "median_certified_radius"):
        assert res[key] == pytest.approx(ref[key], rel=1e-9, abs=0), key
    if solver is not None:
        assert set(res["details"]["solver"]["statuses"]) == {"clean:converged"}
    fn = R.get_certifier("conv_l2")
    same = {"solver_options": {"check_every": 1}}
    a = fn(model, ds_.x, ds_.y, norm="2", eps=eps, **same)
    b = fn(model, ds_.x, ds_.y, norm="2", eps=eps, device=torch.device(dev), **same)
    assert np.array_equal(a.certified, b.certified) and np.array_equal(a.correct, b.correct)
    assert a.certified[:, 1].sum() > 0                       # the comparison is not about an empty matrix
    ok = a.radius > 0
    assert np.array_equal(ok, b.radius > 0)
    assert np.all(np.abs(b.radius[ok] - a.radius[ok]) <= 1e-9 * a.radius[ok])
    if torch.device(dev).type == "cpu":
        assert np.array_equal(a.radius, b.radius)
    if solver is not None:
        from deqtheory_train.certify import ConvCertificationPlan
        lay = ConvCertificationPlan(model, device=dev).lben.layer
        assert lay.solver_options["f_solver"] == solver and lay.S.device.type == torch.device(dev).type


def test_conv_l2_plan_puts_every_per_image_tensor_on_the_device():
    """On torch's ``meta`` device (no data, strict placement checks) the conv SLL plan's clean pass and
    ℓ2 factors run there: every per-image tensor is on the plan's device and the constants were moved
    (a CPU tensor in an elementwise op with a meta one raises). The ConvLBEN plan (whose solve needs
    values) holds its claimed spectra and its layer there; its constants are the CPU plan's, bit for bit."""
    from deqtheory_train.certify import ConvCertificationPlan
    meta = torch.device("meta")
    plan = ConvCertificationPlan(_conv_l2_model("convsll"), device=meta)
    x = torch.empty(3, 1, 28, 28, dtype=torch.float64, device=meta)
    y = torch.zeros(3, dtype=torch.long, device=meta)
    out = plan.clean(x, y)
    assert out["margins"].device == meta and out["correct"].device == meta and plan.l2_factors(y).device == meta
    for kind in ("convlben_dag", "conv_dag_lben"):
        model = _conv_l2_model(kind)
        lp, cp = ConvCertificationPlan(model, device=meta), ConvCertificationPlan(model)
        lb = lp.lben
        assert all(t.device == meta for t in (lb.What, lb.Uh, lb.Gh, lp.Cnorm, lp.C, lp.c0))
        assert all(p.device == meta for p in lb.layer.parameters())
        assert lp.info()[0] == cp.info()[0]                  # the model's constants: computed on the CPU


def test_certify_model_runs_conv_l2_on_a_non_cpu_device(monkeypatch):
    """conv_l2 is a device certifier: ``certify_model(..., device=D)`` hands ``D`` to it instead of refusing
    (a certifier without a device rounding model still refuses: tests/test_train_framework.py)."""
    from deqtheory_train.experiment import certification as XC
    assert "conv_l2" in XC.DEVICE_CERTIFIERS
    seen = {}
    real = R.get_certifier("conv_l2")

    def recorder(name):
        assert name == "conv_l2"

        def run(model, x, y, **kw):
            seen.update(kw)
            return real(model, x, y, **{**kw, "device": CPU})
        return run

    monkeypatch.setattr(XC, "get_certifier", recorder)
    ds_ = D.load_dataset("mnist", "test").subset(4)
    res = X.certify_model(_conv_l2_model("convsll"), ds_, certifier="conv_l2", norm="2", eps=[0.01], device="meta")
    assert seen["device"] == torch.device("meta") and res["device"] == "meta"


# ----------------------------------------------------------------------------------------------
# training: one step; checkpoint / resume
# ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dev", DEVICES)
def test_one_training_step_on_the_device_matches_the_cpu(dev):
    """One Adam step of the Lip-MonDEQ (float64): parameters stay on ``dev``, move, and land within
    1e-6 of the CPU step."""
    model = _build("lipmondeq")
    after = {}
    for device in (CPU, torch.device(dev)):
        m = _on(model, device)
        opt = torch.optim.Adam(m.parameters(), 1e-2)
        x, y = _batch(16, device=device)
        out = T.train_step(m, opt, R.get_loss("offset_ce"), _L2[2], x, y, T.LossContext(norm="2"), grad_clip=1.0)
        assert np.isfinite(out["loss_sum"]) and out["count"] == 16
        assert all(p.device.type == device.type for p in m.parameters())
        after[device.type] = {k: p.detach().cpu().numpy() for k, p in m.named_parameters()}
    before = {k: p.detach().numpy() for k, p in model.named_parameters()}
    cpu, other = after["cpu"], after[torch.device(dev).type]
    assert any(not np.array_equal(cpu[k], before[k]) for k in cpu)
    for k in cpu:
        assert np.abs(other[k] - cpu[k]).max() <= 1e-6 * (1 + np.abs(cpu[k]).max()), k


RUN = {
    "name": "device_tiny", "seed": 3, "epochs": 2, "dtype": "float32", "norm": "2",
    "model": {"builder": "lipmondeq", "kwargs": {"width": 12, "normalize": _NORM, "f_tol": 1e-4, "b_tol": 1e-4}},
    "data": {"dataset": "synthetic", "kwargs": {"n": 64, "shape": list(SHAPE), "num_classes": CLASSES, "noise": 0.4},
             "batch_size": 16, "eval_batch_size": 32},
    "optimizer": {"name": "adam", "lr": 0.01},
    "loss": {"name": "offset_ce", "kwargs": _L2[2]},
    "checkpoint": {"every_steps": 2},
    "log": {"every_steps": 1, "progress": False, "plot_every_epochs": 0},
}


def _weights(path):
    arrays, _ = X.load_checkpoint(path)
    return {k: v for k, v in arrays.items() if k.startswith("model/")}


@pytest.mark.parametrize("dev", DEVICES)
def test_checkpoint_and_resume_on_the_device_is_bit_identical(dev, tmp_path):
    """``run_experiment(device=dev)`` stopped at step 3 (mid epoch 1) and resumed ends with bitwise the
    weights and metrics of an uninterrupted run on ``dev``."""
    ref = X.run_experiment(RUN, tmp_path / "ref", device=dev, progress=False)
    s = X.run_experiment(RUN, tmp_path / "r", device=dev, max_steps=3, progress=False)
    assert s["global_step"] == 3
    done = X.run_experiment(RUN, tmp_path / "r", device=dev, resume=True, progress=False)
    assert done["global_step"] == ref["global_step"] == 8
    assert done["test_acc"] == ref["test_acc"] and done["test_loss"] == ref["test_loss"]
    w_ref, w = _weights(tmp_path / "ref" / "model.npz"), _weights(tmp_path / "r" / "model.npz")
    assert w.keys() == w_ref.keys() and all(np.array_equal(w[k], w_ref[k]) for k in w)
    strip = lambda p: [{k: v for k, v in r.items() if k != "wall_time"} for r in X.read_metrics(p)]  # noqa: E731
    assert strip(tmp_path / "r" / "metrics.jsonl") == strip(tmp_path / "ref" / "metrics.jsonl")
