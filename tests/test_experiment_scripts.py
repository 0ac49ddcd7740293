"""Smoke tests of the scripts under experiments/ (so they do not rot): the PGD cross-check runs on a
tiny trained model in both norms and reports no certified point broken."""
from __future__ import annotations

import importlib.util
import json
import pathlib

import pytest
import torch

from deqtheory_train import cli
from deqtheory_train import experiment as X

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
