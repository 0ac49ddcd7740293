"""``deqtheory-train`` command line: argument validation (radii, certifier names) with one-line
errors and exit 2, honest certify output (n and split), signal-safe runs, progress defaults, --version."""
from __future__ import annotations

import copy
import json
import math
import os
import pathlib
import subprocess
import sys
from fractions import Fraction

import pytest
import torch

from deqtheory_train import cli
from deqtheory_train import experiment as X

torch.set_num_threads(1)
ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from test_train_framework import TINY, _env  # noqa: E402


def _cli(*args, **kw):
    return subprocess.run([sys.executable, "-m", "deqtheory_train.cli", *args], env=_env(), capture_output=True,
                          timeout=120, **kw)


# ----------------------------------------------------------------------------------------------
# Radii and certifier names (issue 15 items 5 and 7)
# ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("bad", ["nan", "-1", "inf", "-inf", "1e400", "1/0", "abc", "-0.5/2", ""])
def test_nonsense_radii_are_one_line_errors_with_exit_2(bad, capsys):
    with pytest.raises(SystemExit) as ei:
        cli.main(["certify", "model.npz", "--norm", "2", "--eps", "0.1", bad])
    assert ei.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and ("--eps" in err or bad in err) and "Traceback" not in err


def test_fractions_are_parsed_exactly_and_rounded_up():
    for text in ("36/255", "1/3", "0.1", "2/10", "8/255", "1e-3", "0", "3"):
        q = Fraction(text)
        e = cli.parse_radius(text)
        assert Fraction(e) >= q and (Fraction(e) == q or Fraction(math.nextafter(e, 0.0)) < q), text
    assert cli.parse_radius("36/255") >= 36 / 255 and cli.parse_radius("0.5") == 0.5
    assert cli.parse_radius(" 1/4 ") == 0.25


def test_unknown_certifier_lists_the_known_ones_in_one_line():
    done = _cli("certify", "model.npz", "--norm", "2", "--eps", "0.1", "--certifier", "nosuch")
    err = done.stderr.decode()
    assert done.returncode == 2 and err.count("\n") == 1, err
    assert "nosuch" in err and "deq_ibp" in err and "mlp" in err and "Traceback" not in err


# ----------------------------------------------------------------------------------------------
# Honest certify output (item 10)
# ----------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A 1-epoch TINY run whose config certifies l∞ on its first 100 test examples (data.test_subset)."""
    d = tmp_path_factory.mktemp("trained")
    cfg = copy.deepcopy(TINY)
    cfg["epochs"] = 1
    cfg["data"]["test_subset"] = 100
    cfg["certify"] = {"norm": "inf", "eps": [0.01], "at_end": True}
    X.run_experiment(cfg, d / "r", progress=False)
    return d / "r"


def test_certify_states_n_and_the_config_subset_and_defaults_norm_to_the_config(trained, capsys, tmp_path):
    capsys.readouterr()
    js = tmp_path / "c.json"
    assert cli.main(["certify", str(trained / "model.npz"), "--eps", "36/255", "--json", str(js)]) == 0
    out = capsys.readouterr().out
    assert "norm linf" in out and "n=100" in out                         # the config's norm, without --norm
    assert "the first 100 of 240 examples" in out and "data.test_subset = 100" in out and "--split" in out
    res = json.loads(js.read_text())
    assert res["n"] == 100 and res["split"] == "test" and res["split_size"] == 240 and res["norm"] == "inf"
    assert res["eps"] == [cli.parse_radius("36/255")]
    # --split: the whole split, and the output says so
    assert cli.main(["certify", str(trained / "model.npz"), "--eps", "0.01", "--split", "test", "--norm", "2"]) == 0
    out = capsys.readouterr().out
    assert "n=240" in out and "all 240 examples" in out and "norm l2" in out
    # --max-samples is named as the reason
    assert cli.main(["certify", str(trained / "model.npz"), "--eps", "0.01", "--split", "test",
                     "--max-samples", "30"]) == 0
    assert "the first 30 of 240 examples, by --max-samples 30" in capsys.readouterr().out
    # the run's own certify.json says it too
    at_end = json.loads((trained / "certify.json").read_text())
    assert at_end["n"] == 100 and at_end["split_size"] == 240 and "data.test_subset = 100" in at_end["data"]
