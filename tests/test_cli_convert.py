"""`deqtheory convert` / `deqtheory eval` / `deqtheory check` on converted files (command line)."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from deqtheory import explicit as ex
from deqtheory import explicit_conv as ec
from deqtheory import formats as fm
from deqtheory.cli import main

FAMILIES = ("mondeq", "gmondeq", "sll", "cpl", "aol", "sandwich", "conv_sll", "conv_cpl")


def _make(kind, rng, path):
    n = 4
    if kind == "mondeq":
        m, x = fm.MonDEQNet(rng.normal(size=(n, n)), rng.normal(size=(n, n)), 0.5, rng.normal(size=(n, 3)),
                            rng.normal(size=(2, n)), rng.normal(size=n), rng.normal(size=2)), (3,)
    elif kind == "gmondeq":
        m, x = fm.GMonDEQNet(rng.normal(size=(n, n)), rng.normal(size=(n, n)), 0.3 * rng.normal(size=n), 0.5,
                             rng.normal(size=(n, 3))), (3,)
    elif kind in ("sll", "cpl"):
        m, x = ex.random_sll_stack(rng, 3, [2, 3], kind=kind), (3,)
    elif kind == "aol":
        m, x = ex.random_aol_net(rng, [3, 4, 2]), (3,)
    elif kind == "sandwich":
        m, x = ex.random_sandwich_net(rng, 3, [3, 2], 2, L=1.5), (3,)
    else:
        m, x = ec.random_conv_sll_stack(rng, 2, [2, 1], 3, kind=kind[5:]), (2, 3, 3)
    fm.save_model(path, m)
    return x


def _run_cli(args):
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    return subprocess.run([sys.executable, "-m", "deqtheory.cli", *args], capture_output=True, text=True, env=env,
                          timeout=120)


@pytest.mark.parametrize("kind", ["sll", "conv_sll"])
def test_subprocess_round_trip(tmp_path, kind):
    """Command line: convert, eval both files, outputs agree to 1e-9 relative; check runs."""
    rng = np.random.default_rng(7)
    src, out = tmp_path / "src.npz", tmp_path / "out.npz"
    xs = _make(kind, rng, src)
    X = rng.normal(size=(5,) + xs)
    np.save(tmp_path / "x.npy", X)
    r = _run_cli(["convert", str(src), "--to", "lben", "-o", str(out), "--json"])
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout)
    assert info["certificate"] == "certified" and 1.0 <= info["L_certified"] <= 1 + 1e-9
    r1 = _run_cli(["eval", str(src), str(tmp_path / "x.npy"), "-o", str(tmp_path / "y1.npy")])
    r2 = _run_cli(["eval", str(out), str(tmp_path / "x.npy"), "-o", str(tmp_path / "y2.npy")])
    assert r1.returncode == 0 and r2.returncode == 0, r2.stderr
    assert "residual" in r2.stdout and "converged" in r2.stdout
    Y1, Y2 = np.load(tmp_path / "y1.npy"), np.load(tmp_path / "y2.npy")
    assert np.max(np.abs(Y1 - Y2)) <= 1e-9 * np.max(np.abs(Y1))
    r3 = _run_cli(["check", str(out), "--no-sdp", "--json"])
    assert r3.returncode == 0, r3.stderr
    assert json.loads(r3.stdout)["model"]["kind"] == ("lben" if kind == "sll" else "conv_lben")


@pytest.mark.parametrize("kind", FAMILIES)
def test_cli_main_round_trip_every_family(tmp_path, kind, capsys):
    """Same round trip through cli.main for every family (dense and conv)."""
    rng = np.random.default_rng(11)
    src, out = tmp_path / "src.npz", tmp_path / "out.npz"
    xs = _make(kind, rng, src)
    np.save(tmp_path / "x.npy", rng.normal(size=(4,) + xs))
    assert main(["convert", str(src), "--to", "lben", "-o", str(out), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["certificate"] == "certified"
    assert main(["eval", str(src), str(tmp_path / "x.npy"), "-o", str(tmp_path / "y1.npy")]) == 0
    assert main(["eval", str(out), str(tmp_path / "x.npy"), "-o", str(tmp_path / "y2.npy"), "--json"]) == 0
    ev = json.loads(capsys.readouterr().out.split("\n", 1)[1])
    assert ev["status"] == "converged" and ev["residual"] <= ev["tol"]
    Y1, Y2 = np.load(tmp_path / "y1.npy"), np.load(tmp_path / "y2.npy")
    assert np.max(np.abs(Y1 - Y2)) <= 1e-9 * np.max(np.abs(Y1))
    assert main(["check", str(out), "--no-sdp", "--json"]) == 0
    assert main(["check", str(src), "--no-sdp", "--json"]) == 0


def test_cli_errors(tmp_path, capsys):
    rng = np.random.default_rng(0)
    src = tmp_path / "d.npz"
    fm.save_model(src, ex.random_sll_stack(rng, 2, [2]))
    assert main(["eval", str(src), str(tmp_path / "missing.npy"), "-o", str(tmp_path / "y.npy")]) == 2
    from deqtheory.io import save_npz

    save_npz(tmp_path / "deq.npz", {"W": np.zeros((2, 2))})
    assert main(["convert", str(tmp_path / "deq.npz"), "-o", str(tmp_path / "o.npz")]) == 2
    assert "no LBEN conversion" in capsys.readouterr().err
