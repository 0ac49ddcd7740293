"""Classifier stages Conv2d, BatchNorm and AvgPool2d (deqtheory.pipeline): numpy evaluation equals torch's,
file round trip through deqtheory.formats, typed errors, and the proved Lipschitz bounds hold on the
materialised maps (dense operator norms as the oracle)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from deqtheory import formats as fm
from deqtheory import pipeline as pl
from deqtheory.errors import DomainError, ShapeError


def _conv(rng, co=3, ci=2, k=3, stride=2, padding=1, bias=True):
    return pl.Conv2d(rng.standard_normal((co, ci, k, k)), rng.standard_normal(co) if bias else None, stride, padding)


def _bn(rng, C=3, affine=True):
    return pl.BatchNorm(rng.standard_normal(C), rng.uniform(0.1, 2.0, C), 1e-5,
                        rng.standard_normal(C) if affine else None, rng.standard_normal(C) if affine else None)


@pytest.mark.parametrize("k,stride,padding", [(3, 1, 1), (3, 2, 1), (1, 1, 0), (2, 2, 0), (3, 2, 0)])
def test_conv2d_stage_equals_torch(k, stride, padding):
    rng = np.random.default_rng(k * 10 + stride)
    st = _conv(rng, k=k, stride=stride, padding=padding)
    X = rng.standard_normal((4, 2, 7, 7))
    ref = F.conv2d(torch.tensor(X), torch.tensor(st.K), torch.tensor(st.b), stride=stride, padding=padding).numpy()
    np.testing.assert_allclose(st(X), ref, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("affine", [True, False])
def test_batchnorm_stage_equals_torch_eval(affine):
    rng = np.random.default_rng(1)
    st = _bn(rng, affine=affine)
    X = rng.standard_normal((4, 3, 5, 5))
    ref = F.batch_norm(torch.tensor(X), torch.tensor(st.mean), torch.tensor(st.var),
                       None if st.weight is None else torch.tensor(st.weight),
                       None if st.bias is None else torch.tensor(st.bias), training=False, eps=st.eps).numpy()
    np.testing.assert_allclose(st(X), ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(st(X[:, :, 0, 0]), ref[:, :, 0, 0], rtol=1e-12, atol=1e-12)   # BatchNorm1d


@pytest.mark.parametrize("k,stride,padding", [(2, 2, 0), (4, 4, 0), (3, 1, 1)])
def test_avgpool_stage_equals_torch(k, stride, padding):
    X = np.random.default_rng(2).standard_normal((2, 3, 8, 8))
    ref = F.avg_pool2d(torch.tensor(X), k, stride, padding, count_include_pad=True).numpy()
    np.testing.assert_allclose(pl.AvgPool2d(k, stride, padding)(X), ref, rtol=1e-13, atol=1e-13)


def _matrix(st, shape):
    n = int(np.prod(shape))
    E = np.eye(n).reshape((n,) + shape)
    zero = st(np.zeros((1,) + shape)).reshape(-1)
    return (st(E).reshape(n, -1) - zero).T


@pytest.mark.parametrize("seed", range(3))
def test_stage_lipschitz_bounds_hold(seed):
    rng = np.random.default_rng(seed)
    shape = (2, 6, 6)
    for st in (_conv(rng, stride=1 + seed % 2), pl.AvgPool2d(2 + seed % 2, 1 + seed % 2), _bn(rng, C=2)):
        A = _matrix(st, shape)
        for norm, exact in (("2", np.linalg.norm(A, 2)), ("inf", np.abs(A).sum(axis=1).max())):
            bound = pl.stages_lipschitz([st], norm)
            assert exact <= bound <= exact * 4 + 1e-12, (type(st).__name__, norm, exact, bound)


def test_stages_round_trip_through_a_classifier_file(tmp_path):
    rng = np.random.default_rng(3)
    n, d = 8, 3 * 2 * 2
    deq = fm.MonDEQNet(rng.normal(size=(n, n)), rng.normal(size=(n, n)), 0.5, rng.normal(size=(n, d)),
                       rng.normal(size=(4, n)), rng.normal(size=n), rng.normal(size=4))
    stages = (pl.Normalize(np.array([0.5]), np.array([0.25])), _conv(rng, co=3, ci=1, stride=2, padding=1), _bn(rng),
              pl.ReLU(), pl.AvgPool2d(2, 2), pl.Flatten(), deq)
    P = pl.Pipeline(stages, input_shape=(1, 8, 8))
    X = rng.uniform(0, 1, (5, 1, 8, 8))
    path = tmp_path / "c.npz"
    fm.save_model(path, P)
    kind, Q = fm.read_model(path)
    assert kind == "classifier"
    np.testing.assert_array_equal(fm.evaluate(path, X)[0], fm.evaluate(("classifier", P), X)[0])
    assert [type(s).__name__ for s in Q.stages[:-1]] == [type(s).__name__ for s in stages[:-1]]
    assert fm.kind_of(Q.stages[-1]) == "mondeq"


def test_bad_stage_arguments_are_typed_errors():
    with pytest.raises(ShapeError):
        pl.Conv2d(np.zeros((2, 2, 3, 2)))
    with pytest.raises(DomainError):
        pl.Conv2d(np.zeros((2, 2, 3, 3)), stride=0)
    with pytest.raises(DomainError):
        pl.BatchNorm(np.zeros(2), -np.ones(2), 1e-5)
    with pytest.raises(DomainError):
        pl.AvgPool2d(2, 1.5)
    with pytest.raises(ShapeError):
        pl.Conv2d(np.zeros((2, 3, 3, 3)))(np.zeros((1, 2, 5, 5)))


@pytest.mark.parametrize("arch", ["deq3", "deq7", "deq3_nemon"])
def test_conv_linf_classifier_exports_to_a_classifier_file(tmp_path, arch):
    """The bridge: a trained-shape ConvLinfClassifier (stem conv + BN, conv IBP-MonDEQ, BN, pool / convs,
    FC (+BN1d)) → deqtheory.pipeline stages → file; `deqtheory eval` equals the torch eval-mode output and
    `deqtheory check` proves the model stage matrix-free."""
    import json
    import subprocess
    import sys

    from deqtheory_train.export import to_deqtheory
    from deqtheory_train.registry import build_model

    small = {"deq3": dict(stem=[[3, 3, 1]], channels=3, pool=2),
             "deq7": dict(stem=[[2, 3, 1]], channels=2, post=[[3, 3, 2]], fc=[5]),
             "deq3_nemon": dict(stem=[[3, 3, 1]], channels=3, pool=2, family="nemon")}[arch]
    torch.manual_seed(0)
    model = build_model(f"{arch.split('_')[0]}_linf", (1, 8, 8), 4, **small).double()
    model.layer.solver_options.update(f_tol=1e-13, f_max_iter=5000)
    with torch.no_grad():                           # non-trivial running statistics, then eval mode
        for mod in model.modules():
            if isinstance(mod, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)):
                mod.running_mean.uniform_(-0.3, 0.3)
                mod.running_var.uniform_(0.5, 1.5)
    model.eval()
    P = to_deqtheory(model)
    names = [type(s).__name__ for s in P.stages]
    kind = "conv_noneuclidean" if arch.endswith("nemon") else "conv_ibp_mondeq"
    assert "Conv2d" in names and "BatchNorm" in names and fm.kind_of(P.model_stage()) == kind
    path = tmp_path / "clf.npz"
    assert fm.save_model(path, P) == "classifier"
    x = torch.rand(3, 1, 8, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        ref = model(x).numpy()
    Y, info = fm.evaluate(path, x.numpy(), tol=1e-13)
    assert info["ok"]
    np.testing.assert_allclose(Y, ref, rtol=0, atol=1e-10)
    r = subprocess.run([sys.executable, "-m", "deqtheory.cli", "check", str(path), "--json"], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)
    assert all(c["status"] == "certified" for c in rep["conditions"].values()) and rep["conditions"]
    assert rep["classifier"]["stages"][rep["classifier"]["model_stage"]] == kind


def test_unsupported_explicit_modules_are_refused_by_the_bridge():
    from deqtheory_train.export import _explicit_conv_stage
    with pytest.raises(DomainError, match="groups"):
        _explicit_conv_stage(torch.nn.Conv2d(2, 2, 3, groups=2))
    with pytest.raises(DomainError, match="ceil_mode"):
        _explicit_conv_stage(torch.nn.AvgPool2d(2, ceil_mode=True))
    with pytest.raises(DomainError, match="running statistics"):
        _explicit_conv_stage(torch.nn.BatchNorm2d(2, track_running_stats=False))
