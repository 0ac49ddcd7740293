"""Issue 15 item 12: what a user of the documented APIs expects.

(a) the documented ``torch.nn.utils.parametrize`` one-liner works on a default ``nn.Linear`` (it starts
at a valid point, as geotorch does); (b) ``Conversion.deq()(X)`` is as exact as ``deqtheory eval``;
(c) the computed W of a converted feed-forward SLL has a 2-cycle (``check`` now says ``feedforward inconclusive``) because
the *stored* LBEN W has rounding-level entries where the SLL is zero (docs/cli.md, "convert")."""
from __future__ import annotations

import json

import warnings

import numpy as np
import pytest

from deqtheory import convert as cv
from deqtheory import explicit as ex
from deqtheory import formats as fm
from deqtheory import graph


def _sll():
    rng = np.random.default_rng(0)
    return ex.random_sll_stack(rng, 4, [3, 5]), rng.normal(size=(8, 4))


def test_parametrize_one_liner_on_a_default_linear():
    torch = pytest.importorskip("torch")
    from torch.nn.utils import parametrize

    from deqtheory.parametrizations import MonDEQ, OutsideSetError
    from deqtheory_train.parametrize import FamilyParametrization

    def register(seed):
        torch.manual_seed(seed)
        lin = torch.nn.Linear(8, 8)                      # default init: sym(W) not <= 0, outside MonDEQ(m=1)
        with pytest.warns(UserWarning, match="outside the set"):
            parametrize.register_parametrization(lin, "weight", FamilyParametrization(MonDEQ(m=1)), unsafe=True)
        return lin

    lin = register(0)
    W = lin.weight.detach().double().numpy()
    assert MonDEQ(m=1).contains(W).certified
    assert np.array_equal(W, register(0).weight.detach().double().numpy())      # torch.manual_seed decides
    lin(torch.ones(2, 8)).sum().backward()                                       # trains as usual
    with pytest.raises(OutsideSetError, match="assign family.forward"):
        lin.weight = torch.ones(8, 8)                                            # later: strict, with a hint


def test_parametrize_keeps_a_weight_in_the_set_exactly():
    torch = pytest.importorskip("torch")
    from torch.nn.utils import parametrize

    from deqtheory.parametrizations import MonDEQ
    from deqtheory_train.parametrize import FamilyParametrization

    fam = MonDEQ(m=1)
    W0 = fam.forward(fam.sample(np.random.default_rng(1), 6))
    lin = torch.nn.Linear(6, 6, bias=False).double()
    with torch.no_grad():
        lin.weight.copy_(torch.as_tensor(W0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")                                           # no warning in this case
        parametrize.register_parametrization(lin, "weight", FamilyParametrization(fam), unsafe=True)
    assert np.allclose(lin.weight.detach().numpy(), W0, atol=1e-12)


def test_conversion_deq_is_as_exact_as_deqtheory_eval(tmp_path):
    net, X = _sll()
    c = cv.sll_to_lben(net)
    y_src = net(X)
    y = c.deq()(X)
    scale = max(1.0, float(np.max(np.abs(y_src))))
    assert np.max(np.abs(y - y_src)) <= 1e-14 * scale                   # PR at tol 1e-9 gave ~6e-10
    assert c.deq().solve(X).method == "exact_dag(snapped)"
    fm.save_model(tmp_path / "l.npz", c)
    y_eval, info = fm.evaluate(str(tmp_path / "l.npz"), X)
    assert info["method"] == "exact_dag(snapped)" and np.max(np.abs(y_eval - y)) <= 1e-14 * scale
    other = c.deq().solve(X, method="pr")                                # explicit methods still honoured
    assert other.method == "pr"


def test_feedforward_of_a_conversion_is_the_stored_rounding(tmp_path, capsys):
    net, _ = _sll()
    c = cv.sll_to_lben(net)
    W = np.asarray(c.W)
    ff = graph.is_feedforward(W)
    assert not ff.certified and "cycle of length 2" in ff.message       # the computed W's graph
    fm.save_model(tmp_path / "l.npz", c)                                 # `check` is about the stored model:
    from deqtheory import cli as dcli
    assert dcli.main(["check", str(tmp_path / "l.npz"), "--no-sdp", "--json"]) == 0
    row = json.loads(capsys.readouterr().out)["conditions"]["feedforward"]
    assert row["status"] == "inconclusive" and "rounding" in row["message"]
    n = W.shape[0]
    snap = 64 * n * 2.0 ** -53 * float(np.max(np.abs(W)))
    tiny = (np.abs(W) > 0) & (np.abs(W) <= snap)
    assert tiny.any() and float(np.max(np.abs(W[tiny]))) < 1e-14      # rounding-level entries …
    assert graph.is_feedforward(np.where(tiny, 0.0, W)).certified      # … are the only cycles
    assert np.all(np.asarray(c.W_source)[tiny] == 0)                   # where the source's W is zero
