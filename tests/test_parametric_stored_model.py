"""Issue 15 item 1 (second half): a parametric file is certified on its *stored parameters*, not on the
floating-point W computed from them.

Regression instance: a ``mondeq`` file with A = B = 0 and m = 3·2⁻⁵⁴. fl((1 − m)I) = (1 − 2⁻⁵²)I, so
`check` used to report ``monotone`` margin 2.2e-16 > m and ``l2_analytic`` L = 4.50e15, while eq. (5) on
the stored parameters gives the exact Lipschitz constant 1/m = 6.00e15 (W = (1 − m)I, U = G = I)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from deqtheory.certificates import Status
from deqtheory.formats import MonDEQNet, deq_arrays, read_model, save_model
from deqtheory.linalg import check_monotone
from deqtheory.sdp import min_lipschitz
from deqtheory.sdp.lmi import LIPSCHITZ_LMI, verify_lipschitz_witness

M_TINY = 3 * 2.0 ** -54


def _check_json(path, capsys):
    from deqtheory.cli import main

    assert main(["check", str(path), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_tiny_m_mondeq_is_certified_on_its_stored_parameters(tmp_path, capsys):
    p = tmp_path / "tiny.npz"
    save_model(p, MonDEQNet(np.zeros((2, 2)), np.zeros((2, 2)), M_TINY, np.eye(2)))
    kind, obj = read_model(p)
    assert check_monotone(deq_arrays(kind, obj)["W"]).margin > M_TINY     # fl(W) is more monotone than the model
    d = _check_json(p, capsys)
    mono = d["conditions"]["monotone"]
    assert mono["status"] == "certified" and 0 < mono["margin"] <= M_TINY      # was 2.2e-16 > m
    assert d["model"]["W_error"] > 0
    exact_L = 2.0 ** 54 / 3                                                    # 1/m: W = (1 − m)I, U = G = I
    lip = d["lipschitz"]
    assert lip["l2_analytic"]["status"] == "certified"
    assert exact_L <= lip["l2_analytic"]["L"] <= exact_L * (1 + 1e-9)        # was 4.50e15 < the true 6.00e15
    sdp = lip["l2_sdp"]
    assert sdp["status"] != "certified" or float(sdp["L"]) >= exact_L         # never below the true constant


def test_ordinary_mondeq_keeps_its_verdicts_and_states_the_stored_bound(tmp_path, capsys):
    rng = np.random.default_rng(0)
    n = 6
    net = MonDEQNet(rng.standard_normal((n, n)) / 3, rng.standard_normal((n, n)) / 3, 0.2,
                    rng.standard_normal((n, 3)), G=rng.standard_normal((2, n)))
    p = tmp_path / "mon.npz"
    save_model(p, net)
    d = _check_json(p, capsys)
    W = deq_arrays(*read_model(p))["W"]
    mono = d["conditions"]["monotone"]
    assert mono["margin"] == check_monotone(W).margin                          # the certifier's number
    assert 0.2 <= mono["stats"]["margin_stored_model"] <= mono["margin"]
    sdp = d["lipschitz"]["l2_sdp"]
    assert sdp["status"] == "certified" and sdp["certificate"]["tolerance"]["W_error"] == d["model"]["W_error"]
    # the saved certificate re-verifies (with its W_error) against the file
    from deqtheory.cli import main
    cert = tmp_path / "c.npz"
    assert main(["check", str(p), "--save-certificate", str(cert)]) == 0
    capsys.readouterr()
    assert main(["verify", str(p), str(cert)]) == 0


def test_w_error_certificate_holds_for_every_w_within_it():
    """min_lipschitz with w_error δ proves F ≻ 0 for every W' with ‖W' − W‖₂ ≤ δ (checked on perturbed W')."""
    rng = np.random.default_rng(1)
    n = 5
    A, B = rng.standard_normal((n, n)) / 3, rng.standard_normal((n, n)) / 3
    W = 0.7 * np.eye(n) - A.T @ A + B - B.T
    U, G = rng.standard_normal((n, 2)), rng.standard_normal((2, n))
    delta = 1e-3
    c = min_lipschitz(W, U, G, w_error=delta)
    assert c.certified and c.tolerance["W_error"] == delta
    plain = min_lipschitz(W, U, G)
    assert plain.witness["L"] <= c.witness["L"]           # the stored-model proof is never the smaller claim
    for _ in range(5):
        D = rng.standard_normal((n, n))
        Wp = W + delta * D / np.linalg.norm(D, 2)
        assert verify_lipschitz_witness(Wp, U, G, c.witness["lam"], c.witness["L"], condition=LIPSCHITZ_LMI).certified
    assert not min_lipschitz(W, U, G, w_error=10.0).certified     # rounding larger than every margin: refused
    with pytest.raises(Exception):
        min_lipschitz(W, U, G, w_error=-1.0)
    assert c.verify(W=W, U=U, G=G).status is Status.CERTIFIED
