"""deqtheory.formats: save/read round trips for every kind, load_model materialization, typed errors."""
from __future__ import annotations

import numpy as np
import pytest

from deqtheory import convert as cv
from deqtheory import explicit as ex
from deqtheory import explicit_conv as ec
from deqtheory import formats as fm
from deqtheory.errors import DomainError, ModelFileError
from deqtheory.io import save_npz
from deqtheory.model import DEQ


def _models(rng):
    n = 4
    A, B, U = rng.normal(size=(n, n)), rng.normal(size=(n, n)), rng.normal(size=(n, 3))
    W = np.tril(rng.normal(size=(n, n)), -1)
    return {
        "deq": (DEQ(W, U, rng.normal(size=n), rng.normal(size=(2, n)), identity_mask=[1, 0, 0, 0]), (3,)),
        "mondeq": (fm.MonDEQNet(A, B, 0.5, U, rng.normal(size=(2, n)), rng.normal(size=n), rng.normal(size=2)), (3,)),
        "gmondeq": (fm.GMonDEQNet(A, B, rng.normal(size=n) * 0.3, 0.5, U), (3,)),
        "sll": (ex.random_sll_stack(rng, 3, [2, 3]), (3,)),
        "cpl": (ex.random_sll_stack(rng, 3, [2], kind="cpl"), (3,)),
        "aol": (ex.random_aol_net(rng, [3, 4, 2]), (3,)),
        "sandwich": (ex.random_sandwich_net(rng, 3, [2, 3], 2, L=2.0), (3,)),
        "conv_sll": (ec.random_conv_sll_stack(rng, 1, [2], 3), (1, 3, 3)),
        "conv_cpl": (ec.random_conv_sll_stack(rng, 1, [1, 1], 3, kind="cpl"), (1, 3, 3)),
    }


def test_round_trip_every_kind(tmp_path):
    rng = np.random.default_rng(0)
    for kind, (model, xshape) in _models(rng).items():
        p = tmp_path / f"{kind}.npz"
        assert fm.save_model(p, model) == kind
        k2, obj = fm.read_model(p)
        assert k2 == kind
        X = rng.normal(size=(2,) + xshape)
        Y1, i1 = fm.evaluate((kind, model), X)
        Y2, i2 = fm.evaluate(p, X)
        assert np.array_equal(Y1, Y2), kind
        arr = fm.load_model(p)
        assert arr["kind"] == kind and arr["W"].ndim == 2
        if kind not in ("conv_sll", "conv_cpl"):
            lb = fm.to_lben(kind, obj) if kind not in ("deq",) else None
            if lb is not None:
                q = tmp_path / f"{kind}_lben.npz"
                assert fm.save_model(q, lb) == "lben"
                Y3, i3 = fm.evaluate(q, X)
                assert i3["status"] == "converged" and i3["residual"] <= i3["tol"]
                assert np.max(np.abs(Y3 - Y1)) <= 1e-9 * max(1.0, np.max(np.abs(Y1)))
        else:
            q = tmp_path / f"{kind}_lben.npz"
            assert fm.save_model(q, fm.to_lben(kind, obj)) == "conv_lben"
            k3, m3 = fm.read_model(q)
            assert isinstance(m3, cv.ConvLBEN) and m3.support is not None
            Y3, i3 = fm.evaluate(q, X)
            assert i3["status"] == "converged"
            assert np.max(np.abs(Y3 - Y1)) <= 1e-9 * max(1.0, np.max(np.abs(Y1)))
            d = fm.load_model(q)
            assert d["identity_mask"].sum() == obj.c * 9


def test_missing_key_and_unknown_kind(tmp_path):
    p = tmp_path / "bad.npz"
    save_npz(p, {"W_0": np.ones((2, 2))}, kind="sll")
    with pytest.raises(ModelFileError, match="depth"):
        fm.read_model(p)
    save_npz(p, {"A": np.ones((2, 2))}, kind="mondeq")
    with pytest.raises(ModelFileError, match="'B'"):
        fm.load_model(p)
    save_npz(p, {"W": np.ones((2, 2))}, kind="nonsense")
    with pytest.raises(ModelFileError, match="unknown kind"):
        fm.read_model(p)
    with pytest.raises(DomainError):
        fm.to_lben("deq", None)


def test_conv_dense_guard(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    p = tmp_path / "c.npz"
    fm.save_model(p, ec.random_conv_sll_stack(rng, 1, [1], 3))
    monkeypatch.setattr(fm, "MAX_DENSE_N", 10)
    with pytest.raises(DomainError, match="materialization"):
        fm.load_model(p)
