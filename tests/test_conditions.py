"""The table of conditions (deqtheory.conditions): one name per claim, used by the verifier
registry, the report and the CLI; legacy names still verify."""
from __future__ import annotations

import dataclasses
import subprocess
import sys

import numpy as np
import pytest

from deqtheory import certificates, conditions
from deqtheory.bounds import jafarpour_linf_lipschitz, monotone_margin, pabbaraju_lipschitz
from deqtheory.catalogue_entries import ENTRIES
from deqtheory.certificates import Certificate, Status, verifier_for
from deqtheory.errors import DomainError, DTypeError
from deqtheory.linalg import check_monotone, check_mu_inf, monotone_parameter
from deqtheory.model import DEQ
from deqtheory.parametrizations import MonDEQ
from deqtheory.report import BoundEntry, CheckReport, LipschitzSection, check_deq, check_model


def _mondeq(seed=0, n=6, d=3, m=0.4):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, n)) / np.sqrt(n)
    B = rng.standard_normal((n, n)) / np.sqrt(n)
    W = (1 - m) * np.eye(n) - A.T @ A + B - B.T
    return W, rng.standard_normal((n, d)), rng.standard_normal((2, n))


def test_every_registered_verifier_is_a_table_row_and_every_row_has_a_verifier():
    certificates._import_verifier_modules()
    assert set(certificates._VERIFIERS) == set(conditions.CONDITIONS)
    for name, row in conditions.CONDITIONS.items():
        assert verifier_for(name).__module__ == row.module or verifier_for(name).__module__.startswith(row.module), \
            (name, verifier_for(name).__module__, row.module)


def test_catalogue_ids_exist_and_legacy_names_are_unique():
    ids = {e["id"] for e in ENTRIES}
    for row in conditions.CONDITIONS.values():
        assert set(row.catalogue) <= ids, (row.name, set(row.catalogue) - ids)
        assert row.claim and isinstance(row.activation, conditions.Activation)
        assert dataclasses.is_dataclass(row)
    legacy = [old for row in conditions.CONDITIONS.values() for old in row.legacy]
    assert len(legacy) == len(set(legacy)) and not set(legacy) & set(conditions.CONDITIONS)
    assert conditions.canonical("bounds.monotone") == "monotone"
    for old in ("l2_sdp", "lipschitz_strict", "lipschitz_nonstrict", "lmi10"):
        assert conditions.canonical(old) == "lipschitz_lmi"
        assert verifier_for(old) is verifier_for("lipschitz_lmi")
    with pytest.raises(KeyError):
        conditions.condition("no_such_condition")
    with pytest.raises(KeyError):
        certificates.register_verifier("no_such_condition")


def test_verifier_lookup_needs_no_prior_import():
    """A certificate read from a file verifies in a fresh interpreter that imported only certificates."""
    code = ("from deqtheory.certificates import verifier_for; "
            "print(verifier_for('l2_sdp').__name__, verifier_for('mu_inf').__name__)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["_verify_lipschitz_lmi", "_verify_mu_inf"]


def test_one_monotonicity_certificate():
    """bounds.monotone_margin, linalg.check_monotone and MonDEQ.contains all give 'monotone',
    and each re-verifies from its witness through the one verifier."""
    W, U, G = _mondeq()
    a, b = check_monotone(W), monotone_margin(W)
    assert a.condition == b.condition == "monotone" and a.certified and b.certified
    assert a.margin == b.margin
    c = MonDEQ(m=0.4).contains(W)
    assert c.condition == "monotone" and c.certified and c.witness["m"] < 0.4
    for cert in (a, c):
        again = cert.verify(W=W)
        assert again.status is Status.CERTIFIED and again.margin == cert.margin
    # phi-weighted form (G-MonDEQ): Phi^-1 (I - W) with a positive diagonal phi
    phi = np.linspace(0.5, 2.0, W.shape[0])
    Wg = np.eye(len(phi)) - phi[:, None] * (np.eye(len(phi)) - W)
    d = monotone_margin(Wg, phi)
    assert d.condition == "monotone" and d.certified
    assert d.verify(W=Wg).certified
    assert not d.verify(W=Wg + 2 * np.eye(len(phi))).certified
    # MonDEQ membership when tol >= m (W huge): a separate, weaker claim, never "monotone"
    Wbig = 1e17 * np.ones((3, 3))
    big = MonDEQ(m=0.4).contains(Wbig)
    assert big.condition == "mondeq_monotone"
    assert big.verify(W=Wbig).status is big.status
    # a legacy-named certificate verifies through the same verifier
    old = a.replace(condition="bounds.monotone")
    assert old.verify(W=W).certified and old.verify(W=W).condition == "monotone"
    # monotone_parameter: the proved m whatever the level the certificate was proved at
    assert monotone_parameter(a) == a.margin
    lam_true = float(np.linalg.eigvalsh(np.eye(W.shape[0]) - 0.5 * (W + W.T))[0])
    for cert in (a, c):
        assert 0.4 - 1e-9 <= monotone_parameter(cert) <= lam_true


def test_bounds_reuse_given_certificates_and_refuse_wrong_ones():
    W, U, G = _mondeq(1)
    mono = check_monotone(W)
    r0, r1 = pabbaraju_lipschitz(W, U, G), pabbaraju_lipschitz(W, U, G, monotone=mono)
    assert r0.certified and r0.value == r1.value
    mu = check_mu_inf(W)
    l0, l1 = jafarpour_linf_lipschitz(W, U, G), jafarpour_linf_lipschitz(W, U, G, mu_inf=mu)
    assert l0.value == l1.value
    # a given certificate is re-verified, not trusted: one for another W does not prove this one
    bad = check_monotone(0.5 * W)
    Wbig = W + 1.5 * np.eye(W.shape[0])                      # I - W is not monotone any more
    assert not pabbaraju_lipschitz(Wbig, U, G, monotone=bad).certified
    with pytest.raises(DomainError):
        pabbaraju_lipschitz(W, U, G, monotone=mu)


def test_report_is_typed_and_uses_the_table():
    W, U, G = _mondeq(2)
    rep = check_model(W, U, None, G, options={"sdp": True})
    assert isinstance(rep, CheckReport) and isinstance(rep.lipschitz, LipschitzSection)
    assert tuple(rep.conditions) == conditions.REPORT_CONDITIONS
    assert isinstance(rep.lipschitz.l2_analytic, BoundEntry) and isinstance(rep.lipschitz.l2_sdp, Certificate)
    assert rep.lipschitz.l2_sdp.condition == "lipschitz_lmi" and rep.lipschitz.l2_sdp.certified
    d = rep.to_dict()
    assert set(d["lipschitz"]) == {"l2_analytic", "l2_sdp", "linf"}
    assert not any(k.startswith("_") for k in d["lipschitz"])
    # the analytic bound reused the proved monotonicity margin
    assert d["lipschitz"]["l2_analytic"]["bounds"]["pabbaraju2021:thm1"]["margin"] == d["conditions"]["monotone"]["margin"]
    assert rep.lipschitz.l2_sdp.verify(W=W, U=U, G=G).certified


def test_identity_mask_is_carried_through_the_report():
    W, U, G = _mondeq(3)
    mask = np.zeros(W.shape[0], dtype=bool)
    mask[:2] = True
    rep = check_deq(DEQ(W, U, G=G, identity_mask=mask), options={"sdp": False})
    assert rep.model["masked"] == 2
    for name, c in rep.conditions.items():
        if conditions.CONDITIONS[name].activation is conditions.Activation.RELU:
            assert c.status is Status.NOT_APPLICABLE
        else:
            assert c.status is not Status.NOT_APPLICABLE
    assert rep.conditions["monotone"].certified
    rep2 = check_model(W, U, None, G, identity_mask=mask, options={"sdp": False})
    assert rep2.model["masked"] == 2
    with pytest.raises(DTypeError):
        check_deq(W)
