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
