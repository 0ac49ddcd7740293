"""Issue 15 item 3: a conversion is exact (the LBEN is the source up to rounding) or says that it projected.

Regression instance: an SLL layer whose T is 1e-11 below the tight value (so the source is 1 + 2e-11
Lipschitz). Before, it was converted silently: the LBEN differed from the source by ~1e-13 (W) / 1e-12
(outputs) relative and L' = 1 + 1e-9 was certified for "the source's conversion"."""
from __future__ import annotations

import json

import numpy as np
import pytest

from deqtheory import convert as cv
from deqtheory import explicit as ex
from deqtheory.errors import DomainError
from deqtheory.formats import evaluate, save_model


def near_tight_sll(rel, k=100, seed=0):
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((k, k))
    T = np.linalg.eigvalsh(W.T @ W)[-1] * (1 - rel) * np.ones(k)
    return ex.ResidualStack((ex.ResidualLayer(W, T, kind="sll"),))


def test_sll_1e11_below_tight_is_refused_or_reported_projected(tmp_path):
    st = near_tight_sll(1e-11)
    with pytest.raises(DomainError, match="projected model, not the source"):
        cv.sll_to_lben(st)
    c = cv.sll_to_lben(st, allow_projection=True)
    assert not c.exact and 5e-12 <= c.projection <= 2e-11
    assert c.certificate.certified                   # certified for the projected LBEN itself
    save_model(tmp_path / "src.npz", st)
    save_model(tmp_path / "lben.npz", c)
    X = np.random.default_rng(1).standard_normal((3, 100))
    Y1, _ = evaluate(tmp_path / "src.npz", X)
    Y2, _ = evaluate(tmp_path / "lben.npz", X)
    assert np.max(np.abs(Y1 - Y2)) > 1e-14 * np.max(np.abs(Y1))   # the models really differ


@pytest.mark.parametrize("rel", [0.0, -1e-3])   # tight, and T above tight
def test_exact_sources_say_exact(rel):
    c = cv.sll_to_lben(near_tight_sll(rel, k=30))
    assert c.exact and c.projection <= 1e-13
    rng = np.random.default_rng(2)
    A, B, U = rng.normal(size=(4, 4)), rng.normal(size=(4, 4)), rng.normal(size=(4, 3))
    for conv in (cv.mondeq_to_lben(A, B, 0.5, U), cv.aol_to_lben(ex.random_aol_net(rng, [3, 4, 2])),
                 cv.sandwich_to_lben(ex.random_sandwich_net(rng, 3, [4, 2], 2))):
        assert conv.exact and conv.projection <= 1e-12


def test_projection_measure():
    T = np.diag([1.0, -1e-6])
    V = np.diag([1.0, 0.0])
    p, exact = cv.conversion_projection(V, T, 1.0)
    assert p == pytest.approx(1e-6) and not exact
    assert cv.conversion_projection(np.eye(2), np.eye(2), 1.0) == (0.0, True)


def test_cli_convert_says_projected_or_exact(tmp_path, capsys):
    from deqtheory.cli import main

    save_model(tmp_path / "bad.npz", near_tight_sll(1e-11))
    assert main(["convert", str(tmp_path / "bad.npz"), "-o", str(tmp_path / "o.npz")]) == 2
    assert "--allow-projection" in capsys.readouterr().err
    assert main(["convert", str(tmp_path / "bad.npz"), "-o", str(tmp_path / "o.npz"), "--allow-projection"]) == 0
    assert "PROJECTED" in capsys.readouterr().out
    assert main(["convert", str(tmp_path / "bad.npz"), "-o", str(tmp_path / "p.npz"), "--allow-projection",
                 "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["exact"] is False and 5e-12 <= d["projection"] <= 2e-11
    save_model(tmp_path / "good.npz", near_tight_sll(0.0, k=20))
    assert main(["convert", str(tmp_path / "good.npz"), "-o", str(tmp_path / "g.npz")]) == 0
    assert "exact conversion" in capsys.readouterr().out
