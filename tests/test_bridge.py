"""The bridge torch → deqtheory (deqtheory_train.export.to_deqtheory), per family: a few float64 SGD
steps → to_deqtheory → formats.save_model → `deqtheory check | eval | convert` (the CLI entry point, in
process) → outputs equal the torch model's to ≤ 1e-10 and the constants deqtheory proves on the file
equal those deqtheory_train.certify uses for the model."""
from __future__ import annotations

import dataclasses
import json
import math
import subprocess
import sys

import numpy as np
import pytest
import torch
from torch import nn

from deqtheory import bounds, cli, formats as fm, intervals as iv, pipeline as pl
from deqtheory import convert as cv
from deqtheory import explicit as ex
from deqtheory import explicit_conv as ec
from deqtheory.errors import DomainError
from deqtheory_train import models as M
from deqtheory_train.models import linf as ML
from deqtheory_train.certify import ConvCertificationPlan, Perturbation, certify_batch, prepare
from deqtheory_train.certify import deq as certify_deq_module
from deqtheory_train.certify.layer_arrays import dense_arrays
from deqtheory_train.export import to_deqtheory
from deqtheory_train.layers import (AOLMLP, AOLConv2d, CerDEQLayer, CPLConv2d, CPLLinear, GMonDEQLayer,
                                    IBPMonDEQLayer, LBENLayer, LipMonDEQLayer, MonDEQLayer, NEMONLayer, SandwichMLP,
                                    SLLConv2d, SLLLinear)
from deqtheory_train.layers.conv import ConvLBEN, ConvMonDEQ
from deqtheory_train.layers.conv_dag import ConvDAGLBEN

D = torch.float64
TIGHT = {"f_tol": 1e-13, "f_stop_mode": "abs", "f_max_iter": 20000}
N = 5
NORM = {"mean": [0.1, 0.2], "std": [0.3, 0.4]}


def _sgd(model: nn.Module, x: torch.Tensor, steps: int = 2, out=None) -> None:
    """A couple of SGD steps on random targets (the parameters move off their initialisation)."""
    opt = torch.optim.SGD(model.parameters(), lr=1e-2)
    out = out or model
    g = torch.Generator().manual_seed(1)
    for _ in range(steps):
        opt.zero_grad()
        y = out(x)
        loss = (y - torch.randn(y.shape, generator=g, dtype=y.dtype)).square().mean()
        loss.backward()
        opt.step()


def _tight(model: nn.Module) -> None:
    for m in model.modules():
        if hasattr(m, "solver_options") and m.solver_options.get("f_solver") != "dag":
            m.solver_options.update(TIGHT)


def _close(Y, y, tol=1e-10):
    y = y.detach().numpy() if isinstance(y, torch.Tensor) else y
    assert Y.shape == y.shape
    err = float(np.max(np.abs(Y - y)))
    assert err <= tol * max(1.0, float(np.max(np.abs(y)))), err


def _cli_json(capsys, *args):
    rc = cli.main(list(args) + ["--json"])
    out = capsys.readouterr().out
    return rc, json.loads(out)


def _save(tmp_path, obj, name="m.npz"):
    p = str(tmp_path / name)
    kind = fm.save_model(p, obj)
    k2, back = fm.read_model(p)
    assert k2 == kind == fm.kind_of(back)
    return p, kind


def _eval_file(tmp_path, p, x, tol=None, capsys=None):
    """`deqtheory eval` through the CLI (tight --tol for DEQs) and the formats API; both agree."""
    X = x.detach().numpy()
    xp, yp = str(tmp_path / "x.npy"), str(tmp_path / "y.npy")
    np.save(xp, X)
    args = ["eval", p, xp, "-o", yp] + ([] if tol is None else ["--tol", str(tol)])
    assert cli.main(args) == 0
    if capsys is not None:
        capsys.readouterr()
    Y = np.load(yp)
    Y2, info = fm.evaluate(p, X, tol=tol)
    assert np.array_equal(Y, Y2) and info["status"] in ("converged", "explicit")
    return Y


# ------------------------------------------------------------------------------------------------
# dense DEQ layers
# ------------------------------------------------------------------------------------------------

DENSE = {
    "mondeq": lambda: MonDEQLayer(5, 6, 3, dtype=D),
    "lipmondeq": lambda: LipMonDEQLayer(5, 6, 3, dtype=D),
    "gmondeq": lambda: GMonDEQLayer(5, 6, 3, dtype=D),
    "lben": lambda: LBENLayer(5, 6, 3, dtype=D),
    "ibp_mondeq": lambda: IBPMonDEQLayer(5, 6, 3, dtype=D),
    "ibp_mondeq_gamma": lambda: IBPMonDEQLayer(5, 6, 3, gamma_variant=True, dtype=D),
    "cerdeq": lambda: CerDEQLayer(5, 6, 3, dtype=D),
    "noneuclidean": lambda: NEMONLayer(5, 6, 3, gamma=0.2, dtype=D),
}


@pytest.mark.parametrize("kind", sorted(DENSE))
def test_dense_layer_bridge(kind, tmp_path, capsys):
    torch.manual_seed(0)
    layer = DENSE[kind]()
    x = torch.randn(8, 5, dtype=D)
    _sgd(layer, x, out=lambda v: layer.readout(layer(v)))
    assert layer.kind == kind
    obj = to_deqtheory(layer)
    p, k = _save(tmp_path, obj)
    assert k == kind
    _tight(layer)
    with torch.no_grad():
        y = layer.readout(layer(x))
    _close(_eval_file(tmp_path, p, x, tol=1e-13, capsys=capsys), y)
    # deqtheory check: the file's DEQ arrays are the certifier's arrays, bit for bit (both are
    # formats.TABLE[kind].arrays of the same object), so every constant is the very number `check` proves
    rc, rep = _cli_json(capsys, "check", p, "--no-sdp", "--compact")
    assert rc == 0 and rep["model"]["kind"] == kind
    a = fm.load_model(p)
    plan = prepare(layer)
    plan.deq.point()
    plan.deq.l2()
    consts, prov = plan.info()
    assert np.array_equal(a["W"], plan.deq.Wn) and np.array_equal(a["U"], plan.deq.Un)
    assert np.array_equal(a["b"], plan.deq.bn)
    assert np.abs(a["W"] - layer.weight().detach().numpy()).max() <= 1e-13    # the torch W: rounding apart
    assert prov["monotone"]["margin"] == rep["conditions"]["monotone"]["margin"]
    assert prov["monotone"]["status"] == rep["conditions"]["monotone"]["status"]
    # ... and both are about the stored model: fl(W)'s proof restated for every W within the file's W_error
    w_err = rep["model"].get("W_error", 0.0)
    assert (w_err > 0) == (kind != "cerdeq")              # CerDEQ's computed Björck output is its model
    assert rep["conditions"]["monotone"]["tolerance"].get("W_error", 0.0) == w_err
    from deqtheory.linalg import check_monotone
    m_fl = check_monotone(a["W"]).margin
    assert rep["conditions"]["monotone"]["margin"] == m_fl if not w_err else \
        m_fl - 2 * w_err <= rep["conditions"]["monotone"]["margin"] < m_fl
    # the certifier names its proofs by the rows of the one table of conditions that `check` reports
    from deqtheory.conditions import CONDITIONS
    assert prov["monotone"]["condition"] == "monotone"
    assert prov["monotone"]["catalogue"] == list(CONDITIONS["monotone"].catalogue)
    if "mu_inf" in prov:
        assert prov["mu_inf"]["margin"] == rep["conditions"]["mu_inf"]["margin"]
    Lz = bounds.pabbaraju_lipschitz(a["W"], a["U"])
    if math.isfinite(consts["L_x_to_z"]) and Lz.certified:
        assert Lz.value == prov["L_x_to_z"]["value"]
    if kind == "lben":
        assert obj.L == consts["L_x_to_y"] == layer.L       # the prescribed L, proved on both sides
    if kind in ("mondeq", "lipmondeq", "gmondeq", "lben"):
        _convert_agrees(tmp_path, p, x, y, capsys)


def _torch_arrays(layer):
    """The arrays the certifier read before it certified the exported model: ``W`` and ``U`` as the torch
    layer computes them (its own float64 formula), everything else as exported."""
    e = dense_arrays(layer)
    with torch.no_grad():
        W, U = (t.detach().double().numpy().copy() for t in (layer.weight(), layer.input_matrix()))
    return dataclasses.replace(e, W=W, U=U)


@pytest.mark.parametrize("kind", sorted(DENSE))
def test_certified_results_move_only_at_rounding_level(kind, monkeypatch):
    """Certifying the exported W (deqtheory's formula) instead of the torch W changes the certified
    results of a small batch at rounding level only: same certified / correct flags, radii and
    margins equal to 1e-9 relative (ℓ2 and ℓ∞)."""
    torch.manual_seed(0)
    layer = DENSE[kind]()
    x = torch.randn(8, 5, dtype=D)
    _sgd(layer, x, out=lambda v: layer.readout(layer(v)))
    _tight(layer)
    with torch.no_grad():
        y = layer.readout(layer(x)).argmax(1)
    perts = (Perturbation("2", 0.01), Perturbation("inf", 0.002))
    new = [certify_batch(prepare(layer), x, y, q) for q in perts]
    monkeypatch.setattr(certify_deq_module, "dense_arrays", _torch_arrays)
    old = [certify_batch(prepare(layer), x, y, q) for q in perts]
    assert np.abs(_torch_arrays(layer).W - dense_arrays(layer).W).max() <= 1e-13
    for rn, ro in zip(new, old):
        assert torch.equal(rn.certified, ro.certified) and torch.equal(rn.correct, ro.correct)
        for name in ("radius", "margins", "clean_margins"):
            a, b = getattr(rn, name), getattr(ro, name)
            assert torch.allclose(a, b, rtol=1e-9, atol=1e-12, equal_nan=True), (name, (a - b).abs().max())
    assert new[0].certified.any() or new[1].certified.any()            # not vacuous


def _convert_agrees(tmp_path, p, x, y, capsys, tol=1e-9):
    q = str(tmp_path / "lben.npz")
    rc, summ = _cli_json(capsys, "convert", p, "-o", q) if fm.read_model(p)[0] != "lben" else (0, None)
    if summ is None:
        return
    assert rc == 0 and summ["certificate"] == "certified"
    Y, info = fm.evaluate(q, x.detach().numpy().reshape(x.shape[0], -1) if summ["kind"] == "lben" else x.numpy())
    assert info["status"] == "converged"
    yy = y.detach().numpy()
    assert np.max(np.abs(Y.reshape(yy.shape) - yy)) <= tol * max(1.0, float(np.max(np.abs(yy))))


# ------------------------------------------------------------------------------------------------
# explicit layers
# ------------------------------------------------------------------------------------------------

def _run(layers, x):
    for l in layers:
        x = l(x)
    return x


EXPLICIT = {
    "sll": (lambda: [SLLLinear(4, 5, dtype=D), SLLLinear(4, 3, dtype=D)], (4,), None),
    "cpl": (lambda: [CPLLinear(4, 5, dtype=D)], (4,), None),
    "aol": (lambda: AOLMLP([4, 5, 3], dtype=D), (4,), None),
    "sandwich": (lambda: SandwichMLP(4, [5, 3], 2, L=2.0, dtype=D), (4,), None),
    "conv_sll": (lambda: [SLLConv2d(2, 3, 3, dtype=D), SLLConv2d(2, 4, 3, dtype=D)], (2, N, N), N),
    "conv_cpl": (lambda: [CPLConv2d(2, 3, 3, dtype=D)], (2, N, N), N),
    "conv_aol": (lambda: AOLConv2d(2, 3, 3, dtype=D), (2, N, N), N),
}


@pytest.mark.parametrize("kind", sorted(EXPLICIT))
def test_explicit_bridge(kind, tmp_path, capsys):
    torch.manual_seed(1)
    make, shape, grid = EXPLICIT[kind]
    mod = make()
    net = nn.Sequential(*mod) if isinstance(mod, list) else mod
    x = torch.randn((6,) + shape, dtype=D)
    _sgd(net, x)
    net.eval()
    p, k = _save(tmp_path, to_deqtheory(mod, N=grid))
    assert k == kind == (mod[0] if isinstance(mod, list) else mod).kind       # layer kind = file kind
    with torch.no_grad():
        y = net(x)
    # CPL: the file's T is deqtheory's proved bound ≥ ‖W‖₂², relatively ≤ 1e-10 (conv) above the torch one
    _close(_eval_file(tmp_path, p, x, capsys=capsys), y, tol=1e-10 if "cpl" not in kind else 1e-9)
    rc, rep = _cli_json(capsys, "check", p, "--no-sdp", "--compact")
    assert rc == 0
    if kind == "conv_aol":      # its linear DEQ embedding: the proved ℓ2 constant ‖U‖₂ is AOL's ≤ 1
        l2 = rep["lipschitz"]["l2_analytic"]
        assert l2["status"] == "certified" and 0.3 <= l2["L"] <= 1.0
    if kind in ("sll", "conv_sll", "aol"):
        _convert_agrees(tmp_path, p, x, y, capsys)


def test_conv_aol_bridge_scaling_and_norm():
    """The exported conv AOL layer recomputes the torch layer's D (same formula, numpy) and its effective
    kernel; the materialized check arrays are the linear DEQ (W = 0, identity activations) of a map
    with ‖M_{K̃D}‖₂ ≤ 1; N is required and `deqtheory convert` refuses the kind with a clear message."""
    from deqtheory_train.layers.explicit import aol_scaling_conv

    torch.manual_seed(3)
    mod = AOLConv2d(2, 3, 3, dtype=D)
    _sgd(mod, torch.randn(4, 2, N, N, dtype=D))
    layer = to_deqtheory(mod, N=N)
    assert isinstance(layer, ec.ConvAOLLayer) and (layer.c_in, layer.c_out, layer.N) == (2, 3, N)
    with torch.no_grad():
        Dt = aol_scaling_conv(mod.weight).numpy()
        Kt = mod.effective_kernel().numpy()
    assert np.max(np.abs(layer.D - Dt)) <= 1e-14 * np.max(Dt)
    assert np.max(np.abs(layer.effective_kernel - Kt)) <= 1e-14 * np.max(np.abs(Kt))
    a = fm.deq_arrays("conv_aol", layer)
    assert not np.any(a["W"]) and np.all(a["identity_mask"]) and a["U"].shape == (3 * N * N, 2 * N * N)
    assert np.linalg.norm(a["U"], 2) <= 1.0 + 1e-12
    X = np.random.default_rng(0).normal(size=(3, 2, N, N))
    Y, info = fm.evaluate(("conv_aol", layer), X)
    Yf, _ = fm.evaluate(("conv_aol", layer), X.reshape(3, -1))          # flattened rows in, flattened out
    assert info["status"] == "explicit" and np.array_equal(Yf, Y.reshape(3, -1))
    assert np.max(np.abs(Yf - (X.reshape(3, -1) @ a["U"].T + a["b"]))) <= 1e-13
    with pytest.raises(DomainError, match="grid size N"):
        to_deqtheory(mod)
    with pytest.raises(DomainError, match="no LBEN conversion from 'conv_aol'"):
        fm.to_lben("conv_aol", layer)


def test_conv_sll_bridge_reaches_conv_sll_to_lben():
    """The issue's dead end: a torch conv SLL now reaches deqtheory.convert.conv_sll_to_lben, and the
    torch ConvLBEN.from_sll is that very conversion loaded back (from_deqtheory)."""
    torch.manual_seed(2)
    layers = [SLLConv2d(2, 3, 3, dtype=D), SLLConv2d(2, 2, 3, dtype=D)]
    st = to_deqtheory(layers, N=N)
    assert isinstance(st, ec.ConvResidualStack)
    lb = cv.conv_sll_to_lben(st)
    t = ConvLBEN.from_deqtheory(lb, dtype=D)
    t2 = ConvLBEN.from_sll(layers, N)
    for name in ("G", "U", "V", "S", "log_psi", "bias"):
        assert torch.equal(getattr(t, name), getattr(t2, name)), name
    back = to_deqtheory(t)
    for name in ("G_hat", "U_hat", "V_hat", "S_hat"):
        assert np.abs(getattr(back, name) - getattr(lb, name)).max() <= 1e-12
    assert back.channels == lb.channels and np.array_equal(back.identity_mask, lb.identity_mask)


# ------------------------------------------------------------------------------------------------
# convolutional DEQ layers
# ------------------------------------------------------------------------------------------------

def test_conv_deq_layers_bridge(tmp_path, capsys):
    torch.manual_seed(3)
    x = torch.randn(3, 2, N, N, dtype=D)
    cm = ConvMonDEQ(2, 3, 3, dtype=D)
    _sgd(cm, x)
    with pytest.raises(Exception, match="N"):
        to_deqtheory(cm)
    cl = ConvLBEN(2, 3, 2, N, kernel_size=3, dtype=D)
    _sgd(cl, x, out=lambda v: cl.readout(cl(v)))
    dag = ConvDAGLBEN.from_sll([SLLConv2d(2, 3, 3, dtype=D)], N)
    _sgd(dag, x, out=dag.forward_readout)
    for mod, obj, kind, out in ((cm, to_deqtheory(cm, N=N), "conv_mondeq", cm),
                                (cl, to_deqtheory(cl), "conv_lben", lambda v: cl.readout(cl(v))),
                                (dag, to_deqtheory(dag), "conv_lben", lambda v: dag.readout(dag(v)))):
        p, k = _save(tmp_path, obj)
        assert k == kind == mod.kind
        _tight(mod)
        with torch.no_grad():
            y = out(x)
        _close(_eval_file(tmp_path, p, x, tol=1e-13, capsys=capsys), y)
        rc, rep = _cli_json(capsys, "check", p, "--no-sdp", "--compact")
        assert rc == 0 and rep["model"]["kind"] == kind
        a = fm.load_model(p)
        if kind == "conv_mondeq":
            d = to_deqtheory(cm, N=N).dense()
            assert np.array_equal(a["W"], d["W"]) and np.array_equal(a["U"], d["U"])
        else:
            assert a["identity_mask"].shape == (a["W"].shape[0],)


# ------------------------------------------------------------------------------------------------
# classifiers (the builders, tiny)
# ------------------------------------------------------------------------------------------------

def _dense_clf(name):
    if name == "lipmondeq":
        return M.build_lipmondeq((2, N, N), 3, width=6, normalize=NORM).double()
    if name == "lben_from_lipmondeq":
        return M.lben_from_lipmondeq_model(M.build_lipmondeq((2, N, N), 3, width=6, normalize=NORM).double())
    return ML.LinfDEQClassifier((2, N, N), 3, family=name, width=6, pre_hidden=(7,), normalize=NORM).double()


@pytest.mark.parametrize("name", ["lipmondeq", "lben_from_lipmondeq"] + list(ML.FAMILIES))
def test_dense_classifier_bridge(name, tmp_path, capsys):
    torch.manual_seed(4)
    model = _dense_clf(name)
    x = torch.rand(6, 2, N, N, dtype=D)
    _sgd(model, x)
    model.eval()
    obj = to_deqtheory(model)
    assert isinstance(obj, pl.Pipeline) and isinstance(obj.stages[0], pl.Normalize)
    if name in ML.FAMILIES:             # config key (nemon) → layer kind = file kind (noneuclidean), one table
        assert fm.kind_of(obj.model_stage()) == model.layer.kind == ML.FAMILIES[name].kind
    p, k = _save(tmp_path, obj)
    assert k == "classifier"
    _tight(model)
    with torch.no_grad():
        y = model(x)
    _close(_eval_file(tmp_path, p, x, tol=1e-13, capsys=capsys), y)
    rc, rep = _cli_json(capsys, "check", p, "--no-sdp", "--compact")
    assert rc == 0 and rep["model"]["kind"] == "classifier"
    # the classifier section: the report is about the model stage; the whole classifier's constant is
    # (stages before) x (model stage) x (stages after), Normalize contributing max 1/σ of the stored σ
    cls = rep["classifier"]
    assert cls["stages"][cls["model_stage"]] == fm.kind_of(obj.model_stage()) and cls["stages"][0] == "normalize"
    inv = float(np.max(1.0 / obj.stages[0].std))
    pre_lin = [s for s in obj.stages[:cls["model_stage"]] if isinstance(s, pl.Linear)]
    if not pre_lin:
        assert inv <= cls["lipschitz_before"]["2"] <= inv * (1 + 1e-14)
    if name in ("lipmondeq", "lben_from_lipmondeq"):
        assert "l2_analytic" in cls["lipschitz"]
    for nm, row in cls["lipschitz"].items():
        norm = "inf" if nm == "linf" else "2"
        L_stage = rep["lipschitz"][nm]["L"]
        want = cls["lipschitz_before"][norm] * L_stage * cls["lipschitz_after"][norm]
        assert want <= row["L"] <= want * (1 + 1e-14)
        X = torch.rand(12, 2, N, N, dtype=D).numpy()           # a sound bound holds on every pair
        Y, _ = fm.evaluate(p, X, tol=1e-13)
        dX = (X[:6] - X[6:]).reshape(6, -1)
        dY = Y[:6] - Y[6:]
        o = np.inf if norm == "inf" else 2
        assert np.all(np.linalg.norm(dY, ord=o, axis=1) <= row["L"] * np.linalg.norm(dX, ord=o, axis=1))
    # the constants the certifier uses, recomputed by deqtheory on the file
    plan = prepare(model)
    plan.deq.point()
    plan.deq.l2()
    consts, prov = plan.info()
    nrm = obj.stages[0]
    assert np.array_equal(nrm.mean, np.asarray(NORM["mean"], np.float32).astype(float))      # as stored
    assert np.max(1.0 / nrm.std) <= plan.pre[0].lip2 <= np.max(1.0 / nrm.std) * (1 + 1e-14)
    a = fm.load_model(p)
    assert np.array_equal(a["W"], plan.deq.Wn) and np.array_equal(a["U"], plan.deq.Un)
    assert prov["monotone"]["margin"] == rep["conditions"]["monotone"]["margin"]       # bit-equal
    Lz = bounds.pabbaraju_lipschitz(a["W"], a["U"])
    if Lz.certified and math.isfinite(consts["L_x_to_z"]) and "L_x_to_z_linf" not in prov:
        assert Lz.value == prov["L_x_to_z"]["value"]
    if name in ML.FAMILIES:             # the ℓ∞ certifier's lifted system, proved again on the file's W
        plan.deq.lift(plan.interval)
        lift = (iv.ibp_lift if plan.interval == "ibp" else iv.metzler_lift)(a["W"])
        got = plan.info()[1][f"lift_{plan.interval}"]["monotone"]
        assert bounds.monotone_margin(lift).margin == got["margin"]


@pytest.mark.parametrize("name", ["convsll", "convlben_from_sll", "convlben_dag_from_sll"])
def test_conv_classifier_bridge(name, tmp_path, capsys):
    torch.manual_seed(5)
    src = M.build_convsll((2, N, N), 3, channels=3, hidden=4, depth=2, normalize=NORM).double()
    x = torch.rand(4, 2, N, N, dtype=D)
    _sgd(src, x)
    model = {"convsll": lambda s: s, "convlben_from_sll": M.convlben_from_sll_model,
             "convlben_dag_from_sll": M.convlben_dag_from_sll_model}[name](src)
    if name != "convsll":
        _sgd(model, x)
    model.eval()
    obj = to_deqtheory(model)
    assert obj.input_shape == (2, N, N)
    p, k = _save(tmp_path, obj)
    _tight(model)
    with torch.no_grad():
        y = model(x)
    _close(_eval_file(tmp_path, p, x, tol=1e-13, capsys=capsys), y)
    _close(fm.evaluate(p, x.reshape(4, -1).numpy(), tol=1e-13)[0], y)          # flattened inputs too
    rc, rep = _cli_json(capsys, "check", p, "--no-sdp", "--compact")
    assert rc == 0
    plan = ConvCertificationPlan(model)
    consts, _ = plan.info()
    stage = obj.model_stage()
    if plan.lben is not None:           # the conv LBEN the certifier certifies is the one exported, bit for bit
        cert = to_deqtheory(plan.lben.layer)
        for key in ("G_hat", "U_hat", "V_hat", "S_hat", "log_psi", "b", "b_y", "identity_mask"):
            assert np.array_equal(getattr(cert, key), getattr(stage, key)), key
    L = stage.lipschitz_bound() if isinstance(stage, ec.ConvResidualStack) else stage.L
    assert L == consts["L_body"]
    nrm = obj.stages[0]
    assert np.max(1.0 / nrm.std) <= consts["lipschitz_pre"] <= np.max(1.0 / nrm.std) * (1 + 1e-14)
    if name == "convsll":
        q = str(tmp_path / "lben.npz")
        rc, summ = _cli_json(capsys, "convert", p, "-o", q)
        assert rc == 0 and summ["kind"] == "conv_lben" and summ["certificate"] == "certified"


# ------------------------------------------------------------------------------------------------
# files: training files, the export subcommand, the table
# ------------------------------------------------------------------------------------------------

def test_check_on_a_training_file_says_to_export(tmp_path):
    p = tmp_path / "model.npz"
    np.savez(p, __meta__=np.asarray("{}"), **{"model/0.mean": np.zeros(1)})
    r = subprocess.run([sys.executable, "-m", "deqtheory.cli", "check", str(p)], capture_output=True, text=True)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "deqtheory-train export RUN/model.npz -o model.npz" in lines[0]


def test_export_subcommand_on_a_run_file(tmp_path):
    from deqtheory_train import cli as tcli
    from deqtheory_train import experiment as X
    from deqtheory_train.experiment.checkpoint import model_arrays

    cfg = X.load_config("lipmondeq_mnist_tiny")
    cfg["model"]["kwargs"]["width"] = 5
    cfg = X.validate_config(cfg)
    model = X.build_model(cfg["model"]["builder"], (1, 28, 28), 10, **cfg["model"]["kwargs"]).double()
    cfg["dtype"] = "float64"
    run = tmp_path / "run"
    run.mkdir()
    X.save_checkpoint(run / "model.npz", model_arrays(model),
                      {"config": cfg, "input_shape": [1, 28, 28], "num_classes": 10})
    out = tmp_path / "out.npz"
    r = subprocess.run([sys.executable, "-m", "deqtheory_train.cli", "export", str(run), "-o", str(out), "--json"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    summ = json.loads(r.stdout)
    assert summ["kind"] == "classifier" and summ["next"][0] == f"deqtheory check {out}"
    assert any(c.startswith(f"deqtheory convert {out}") for c in summ["next"])
    assert [s["kind"] for s in summ["stages"]] == ["normalize", "flatten", "lipmondeq"]
    assert fm.load_model(out)["W"].shape == (5, 5)
    assert tcli.main(["export", str(tmp_path / "missing"), "-o", str(out)]) == 2


def test_kinds_dispatch_through_one_table():
    assert set(fm.KINDS) <= set(fm.TABLE)
    for k in ("ibp_mondeq", "ibp_mondeq_gamma", "cerdeq", "noneuclidean", "lipmondeq", "conv_mondeq", "classifier"):
        assert k in fm.KINDS
    assert all(fm.TABLE[k].stage for k in pl.STAGES)
    with pytest.raises(Exception):
        fm.save_model("/nonexistent/x.npz", pl.ReLU())        # a stage alone is not a model file
    with pytest.raises(Exception, match="model stage"):
        pl.Pipeline((pl.Flatten(),))


def test_save_model_accepts_materialized_arrays(tmp_path):
    """The certifier's materialized arrays of a layer (a dict) are written as kind deq, outputs unchanged."""
    torch.manual_seed(6)
    layer = MonDEQLayer(3, 4, 2, dtype=D, **TIGHT)
    p = str(tmp_path / "d.npz")
    assert fm.save_model(p, vars(dense_arrays(layer))) == "deq"
    x = torch.randn(3, 3, dtype=D)
    with torch.no_grad():
        _close(fm.evaluate(p, x.numpy())[0], layer.readout(layer(x)))
    with pytest.raises(Exception, match="'W'"):
        fm.save_model(p, {"A": np.ones((2, 2))})


def test_float32_models_export_exactly_their_parameters(tmp_path):
    """float32 training (the configs' default): parameters are exported exactly (float32 ⊂ float64),
    SLL T is eq. 9 in float64 (a float32 T can fall below ‖W‖₂² and would be refused), outputs agree to
    float32 rounding."""
    torch.manual_seed(7)
    x = torch.rand(3, 1, N, N)
    for model in (M.build_convsll((1, N, N), 4, channels=2, hidden=2, depth=2, normalize={"mean": [0.1], "std": [0.3]}),
                  M.build_lipmondeq((1, N, N), 4, width=6)):
        model.eval()
        obj = to_deqtheory(model)
        p, _ = _save(tmp_path, obj)
        with torch.no_grad():
            y = model(x).double().numpy()
        Y, info = fm.evaluate(p, x.double().numpy())
        assert info["status"] in ("converged", "explicit")
        assert np.max(np.abs(Y - y)) <= 1e-4 * max(1.0, np.max(np.abs(y)))
    for seed in range(20):                      # two hidden channels: Gershgorin T is tight, float32 T is not
        torch.manual_seed(seed)
        layer = SLLLinear(5, 2)
        lay = to_deqtheory(layer).layers[0]
        q = torch.exp(layer.log_q.detach()).double().numpy()
        assert np.array_equal(lay.W, layer.weight.detach().double().numpy())
        assert np.abs(lay.T - ex.sll_T(lay.W, q)).max() <= 1e-15 * lay.T.max()
