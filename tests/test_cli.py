"""End-to-end tests of the `deqtheory` command line (check, verify, theorems)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from deqtheory.sdp import load_certificate, save_certificate

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "mondeq_small.npz"


def run(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "deqtheory.cli", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd)


def mondeq_file(tmp_path, seed=3, n=10, d=4, m=0.3):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, n)) / np.sqrt(n)
    B = rng.standard_normal((n, n)) / np.sqrt(n)
    W = (1 - m) * np.eye(n) - A.T @ A + B - B.T
    U = rng.standard_normal((n, d))
    p = tmp_path / "mon.npz"
    np.savez(p, W=W, U=U)
    return p, W, U, m


def test_check_table_lists_every_condition():
    r = run("check", EXAMPLE)
    assert r.returncode == 0, r.stderr
    for name in ("monotone", "ibp_wellposed", "adjoint_contractive", "mu_inf", "pf_abs", "feedforward",
                 "sdp_wellposed", "l2_sdp", "l2_analytic", "linf"):
        assert name in r.stdout
    assert "_l2_sdp_certificate" not in r.stdout


def test_check_json_schema_and_l2_sdp_below_analytic_bound(tmp_path):
    """Issue acceptance: on a MonDEQ file, l2_sdp L ≤ ‖U‖₂/m (pabbaraju2021 Thm 1) and verified."""
    p, W, U, m = mondeq_file(tmp_path)
    r = run("check", p, "--json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    conds = d["conditions"]
    assert set(conds) >= {"monotone", "ibp_wellposed", "adjoint_contractive", "mu_inf", "pf_abs", "feedforward",
                          "sdp_wellposed"}
    for c in conds.values():
        assert c["status"] in ("certified", "refuted", "inconclusive", "solver_error", "not_applicable")
        assert "margin" in c and "witness" in c
    assert conds["monotone"]["status"] == "certified"
    lam = np.linalg.eigvalsh(np.eye(len(W)) - 0.5 * (W + W.T)).min()
    assert m - 1e-9 <= conds["monotone"]["margin"] <= lam   # proved margin: never above the true λ_min
    lip = d["lipschitz"]
    assert lip["l2_sdp"]["status"] == "certified"
    analytic = np.linalg.norm(U, 2) / conds["monotone"]["margin"]
    assert lip["l2_sdp"]["L"] <= analytic * (1 + 1e-9)
    assert lip["l2_analytic"]["status"] == "certified"
    assert lip["l2_analytic"]["L"] >= lip["l2_sdp"]["L"] * (1 - 1e-9)
    assert set(lip) >= {"l2_sdp", "l2_analytic", "linf"}


def test_save_and_verify_certificate_round_trip(tmp_path):
    p, W, U, m = mondeq_file(tmp_path)
    cert = tmp_path / "cert.npz"
    r = run("check", p, "--save-certificate", cert)
    assert r.returncode == 0, r.stderr
    r = run("verify", p, cert, "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    d = json.loads(r.stdout)
    assert d["verified"] is True and d["result"]["status"] == "certified"


def test_certificate_written_under_a_legacy_name_still_verifies(tmp_path):
    """Files written before the table of conditions (condition "l2_sdp") verify through
    "lipschitz_lmi"; a lowered L in such a file is still rejected."""
    p, W, U, m = mondeq_file(tmp_path)
    cert = tmp_path / "cert.npz"
    assert run("check", p, "--save-certificate", cert).returncode == 0
    c = load_certificate(cert)
    assert c.condition == "lipschitz_lmi"
    old = tmp_path / "old.npz"
    save_certificate(old, c.replace(condition="l2_sdp"))
    r = run("verify", p, old, "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    d = json.loads(r.stdout)
    assert d["verified"] is True and d["result"]["condition"] == "lipschitz_lmi"
    save_certificate(old, c.replace(condition="l2_sdp", witness={**c.witness, "L": 0.5 * float(c.witness["L"])}))
    assert run("verify", p, old).returncode == 1


def test_verify_rejects_a_perturbed_witness_and_another_model(tmp_path):
    p, W, U, m = mondeq_file(tmp_path)
    cert = tmp_path / "cert.npz"
    assert run("check", p, "--save-certificate", cert).returncode == 0
    c = load_certificate(cert)
    lowered = c.replace(witness={**c.witness, "L": 0.5 * float(c.witness["L"])})
    bad = tmp_path / "bad.npz"
    save_certificate(bad, lowered)
    r = run("verify", p, bad)
    assert r.returncode == 1 and "certified" not in r.stdout.split("condition lipschitz_lmi:")[1].split(",")[0]
    # a certificate for one model does not verify for a model with a larger U
    np.savez(tmp_path / "big.npz", W=W, U=10 * U)
    r = run("verify", tmp_path / "big.npz", cert)
    assert r.returncode == 1


def test_no_sdp_skips_sdp_and_save_certificate_needs_it(tmp_path):
    r = run("check", EXAMPLE, "--no-sdp", "--json")
    assert r.returncode == 0
    d = json.loads(r.stdout)
    assert "sdp_wellposed" not in d["conditions"] and "l2_sdp" not in d["lipschitz"]
    r = run("check", EXAMPLE, "--no-sdp", "--save-certificate", tmp_path / "c.npz")
    assert r.returncode == 2 and "--save-certificate" in r.stderr


@pytest.mark.parametrize("backend", ["structured", "cvxopt"])
def test_backends_agree_on_the_example(backend):
    r = run("check", EXAMPLE, "--json", "--backend", backend)
    assert r.returncode == 0, r.stderr
    L = json.loads(r.stdout)["lipschitz"]["l2_sdp"]["L"]
    r0 = run("check", EXAMPLE, "--json")
    L0 = json.loads(r0.stdout)["lipschitz"]["l2_sdp"]["L"]
    assert abs(L - L0) <= 1e-6 * L0


def test_version_and_help_on_every_flag(capsys):
    """`deqtheory --version` prints the package version (issue 15 item 13); every flag has help text."""
    from deqtheory import __version__
    from deqtheory.cli import build_parser, main
    from deqtheory.testing import flags_without_help

    with pytest.raises(SystemExit) as ei:
        main(["--version"])
    assert ei.value.code == 0 and __version__ in capsys.readouterr().out
    assert flags_without_help(build_parser()) == []
