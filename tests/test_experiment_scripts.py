"""Smoke tests of the scripts under experiments/ (so they do not rot): the PGD cross-check runs on a
tiny trained model in both norms and reports no certified point broken; the wei2022 Fig. 2 script's
interval-width trace separates a plain MonDEQ from an IBP-MonDEQ."""
from __future__ import annotations

import importlib.util
import json
import pathlib

import numpy as np
import pytest
import torch

from deqtheory_train import cli
from deqtheory_train import experiment as X
from deqtheory_train.models.linf import LinfDEQClassifier

torch.set_num_threads(1)
ROOT = pathlib.Path(__file__).resolve().parents[1]


def _script(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "experiments" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("pgd")
    cfg = json.loads((X.CONFIG_DIR / "lipmondeq_margin_mnist_tiny.json").read_text())
    p = tmp / "cfg.json"
    p.write_text(json.dumps(cfg))
    assert cli.main(["run", str(p), "--out", str(tmp / "run"), "--no-progress"]) == 0
    return tmp / "run" / "model.npz"


@pytest.mark.parametrize("args", [["--norm", "2"], ["--norm", "inf", "--eps", "0.02"]])
def test_pgd_check_script(tiny_model, tmp_path, args):
    pgd = _script("pgd_check")
    out = tmp_path / "pgd.json"
    rc = pgd.main([str(tiny_model), *args, "--n", "16", "--steps", "5", "--restarts", "1", "--json", str(out)])
    res = json.loads(out.read_text())
    assert rc == 0 and res["certified_but_pgd_broken"] == 0
    assert res["norm"] == args[1] and res["n"] == 16 and 0 <= res["certified"] <= 16
    if args[1] == "2":
        assert res["certified"] > 0 and res["median_certified_radius"] > 0


def test_plain_mondeq_ibp_diverges_ibp_mondeq_converges():
    """wei2022 Fig. 2 (right): the damped FB iteration on the IBP system (3.3) blows up for a random
    plain MonDEQ (W = (1−m)I − AᵀA + B − Bᵀ) and converges for a random IBP-MonDEQ of the same size."""
    fig2 = _script("fig2_interval_width")
    torch.manual_seed(0)
    x = torch.rand(8, 1, 8, 8)
    kw = dict(width=32, normalize={"mean": [0.5], "std": [0.3]}, init="default")
    plain = LinfDEQClassifier((1, 8, 8), 10, family="mondeq", m=1.0, **kw)
    ibp = LinfDEQClassifier((1, 8, 8), 10, family="ibp_mondeq", m=0.1, **kw)
    wp = fig2.interval_width_trace(plain, x, 0.1, iters=400)
    wi = fig2.interval_width_trace(ibp, x, 0.1, iters=400)
    assert np.all(np.isfinite(wi)) and abs(wi[-1] - wi[-2]) < 1e-6 * max(1.0, abs(wi[-1]))
    assert (not np.all(np.isfinite(wp))) or wp[-1] > 1e3 * max(wi[-1], 1e-12)
