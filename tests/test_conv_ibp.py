"""deqtheory.conv_ibp and formats.ConvIBPMonDEQNet: shapes, typed errors, the dense-family formulas, file round
trips (save / read / load / evaluate / `deqtheory check` and `eval`), certificate round trips through files."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from deqtheory import conv_ibp as ci
from deqtheory import formats as fm
from deqtheory.certificates import Status
from deqtheory.circulant import conv_matrix
from deqtheory.errors import DomainError, InexactValueError, NonFiniteError, ShapeError
from deqtheory.parametrizations import IBPMonDEQ, IBPMonDEQGamma, IBPMonDEQParams
from deqtheory.sdp.io import load_certificate, save_certificate


def _net(rng, gamma=False, c=2, c_in=1, k=3, N=4, m=0.1):
    fam = ci.ConvIBPMonDEQGamma(m=m) if gamma else ci.ConvIBPMonDEQ(m=m)
    p = fam.sample(rng, c, k, N)
    return fm.ConvIBPMonDEQNet(p.M, p.log_slack, rng.standard_normal((c, c_in, 3, 3)), rng.standard_normal(c), m, N,
                               beta=getattr(p, "beta", None), gamma=3.0 if gamma else None)


def test_abs_mass_shapes_and_typed_errors():
    K = np.arange(2 * 3 * 2 * 2, dtype=float).reshape(2, 3, 2, 2) - 10
    assert ci.abs_mass(K).shape == (2, 3) and ci.abs_mass_upper(K).shape == (2, 3)
    assert np.all(ci.abs_mass_lower(K) <= ci.abs_mass(K)) and np.all(ci.abs_mass(K) <= ci.abs_mass_upper(K))
    assert np.all(ci.abs_mass_upper(np.zeros((1, 1, 1, 1))) > 0)     # the underflow allowance
    with pytest.raises(ShapeError, match=r"\(2, 2\)"):
        ci.abs_mass_upper(np.ones((2, 2)))
    with pytest.raises(NonFiniteError):
        ci.abs_mass_upper(np.full((1, 1, 1, 1), np.nan))
    with pytest.raises(InexactValueError):
        ci.abs_mass_upper(np.full((1, 1, 1, 1), np.longdouble(1) + np.longdouble(2.0) ** -60))
    assert ci.abs_mass_upper(np.full((1, 1, 2, 2), 1e308))[0, 0] == np.inf


def test_certificates_refuse_bad_shapes():
    for f in (ci.conv_ibp_margin, ci.conv_abs_contraction):
        with pytest.raises(ShapeError, match=r"\(2, 3, 1, 1\)"):
            f(np.ones((2, 3, 1, 1)), 3)                                  # c_out != c_in
        with pytest.raises(ShapeError, match=r"\(1, 1, 5, 5\)"):
            f(np.ones((1, 1, 5, 5)), 4)                                  # k > N
        with pytest.raises(DomainError):
            f(np.ones((1, 1, 1, 1)), 0)
    big = ci.conv_ibp_margin(np.full((1, 1, 2, 2), 1e308), 2)
    assert big.status is Status.INCONCLUSIVE and big.margin == -np.inf
    assert ci.conv_abs_contraction(np.full((1, 1, 2, 2), 1e308), 2).status is Status.INCONCLUSIVE


def test_parametrization_is_the_dense_formula_per_tap(rng):
    """d is the dense IBPMonDEQ.d of A_M; a 1x1 kernel gives exactly the dense W; Γ is the dense Γ."""
    fam = ci.ConvIBPMonDEQ(m=0.2)
    p = fam.sample(rng, 3, 2, 4)
    AM = np.abs(p.M).sum(axis=(2, 3))
    assert np.array_equal(fam.row_col_mass(p), 0.5 * (AM.sum(axis=1) + AM.sum(axis=0)))
    assert np.array_equal(fam.d(p), IBPMonDEQ(m=0.2).d(IBPMonDEQParams(M=AM, log_slack=p.log_slack)))
    W1 = ci.ConvIBPMonDEQ(m=0.2).forward(ci.ConvIBPMonDEQParams(M=p.M[:, :, :1, :1], log_slack=p.log_slack))
    dense = IBPMonDEQ(m=0.2).forward(IBPMonDEQParams(M=p.M[:, :, 0, 0], log_slack=p.log_slack))
    assert np.array_equal(W1[:, :, 0, 0], dense)
    g = ci.ConvIBPMonDEQGamma(m=0.2, gamma=3.0)
    beta = rng.standard_normal(3) * 5
    assert np.array_equal(g.Gamma(beta), IBPMonDEQGamma(m=0.2, gamma=3.0).Gamma(beta))
    pg = ci.ConvIBPMonDEQGammaParams(M=p.M, log_slack=p.log_slack, beta=beta)
    gb = g.Gamma(beta)
    assert np.array_equal(g.forward(pg), (gb[:, None, None, None] * fam.forward(p)) / gb[None, :, None, None])
    assert "m=0.2" in repr(fam) and "gamma=3.0" in repr(g)


def test_parametrization_typed_errors(rng):
    fam = ci.ConvIBPMonDEQ(m=0.1)
    with pytest.raises(DomainError):
        ci.ConvIBPMonDEQ(m=1.0)
    with pytest.raises(DomainError):
        ci.ConvIBPMonDEQGamma(m=0.1, gamma=1.0)
    with pytest.raises(TypeError):
        fam.forward(IBPMonDEQParams(M=np.eye(2), log_slack=np.zeros(2)))
    with pytest.raises(ShapeError, match=r"\(2, 3, 1, 1\)"):
        fam.forward(ci.ConvIBPMonDEQParams(M=np.ones((2, 3, 1, 1)), log_slack=np.zeros(2)))
    with pytest.raises(ShapeError, match=r"\(3,\)"):
        fam.forward(ci.ConvIBPMonDEQParams(M=np.ones((2, 2, 1, 1)), log_slack=np.zeros(3)))
    with pytest.raises(ShapeError):
        fam.sample(rng, 2, 5, 4)


def test_net_fields_errors_and_dense(rng):
    net = _net(rng)
    assert (net.c, net.c_in, net.kind) == (2, 1, "conv_ibp_mondeq")
    assert isinstance(net.family, ci.ConvIBPMonDEQ) and not isinstance(net.family, ci.ConvIBPMonDEQGamma)
    d = net.dense()
    assert d["W"].shape == (32, 32) and d["U"].shape == (32, 16) and np.array_equal(d["b"], np.repeat(net.b, 16))
    assert np.array_equal(d["W"], conv_matrix(net.W_kernel(), 4))
    g = _net(rng, gamma=True)
    assert g.kind == "conv_ibp_mondeq_gamma" and g.family.gamma == 3.0
    with pytest.raises(ShapeError, match=r"\(2, 2, 5, 5\)"):
        fm.ConvIBPMonDEQNet(np.ones((2, 2, 5, 5)), np.zeros(2), np.ones((2, 1, 1, 1)), np.zeros(2), 0.1, 4)
    with pytest.raises(ShapeError, match="U"):
        fm.ConvIBPMonDEQNet(np.ones((2, 2, 1, 1)), np.zeros(2), np.ones((3, 1, 1, 1)), np.zeros(2), 0.1, 4)
    with pytest.raises(ShapeError, match="b"):
        fm.ConvIBPMonDEQNet(np.ones((2, 2, 1, 1)), np.zeros(2), np.ones((2, 1, 1, 1)), np.zeros(3), 0.1, 4)
    with pytest.raises(DomainError, match="gamma"):
        fm.ConvIBPMonDEQNet(np.ones((2, 2, 1, 1)), np.zeros(2), np.ones((2, 1, 1, 1)), np.zeros(2), 0.1, 4, gamma=3.0)
    with pytest.raises(DomainError):
        fm.ConvIBPMonDEQNet(np.ones((2, 2, 1, 1)), np.zeros(2), np.ones((2, 1, 1, 1)), np.zeros(2), 1.5, 4)


@pytest.mark.parametrize("gamma", [False, True])
def test_file_round_trip_check_and_eval(tmp_path, rng, gamma):
    net = _net(rng, gamma=gamma)
    p = tmp_path / "m.npz"
    kind = fm.save_model(p, net)
    assert kind == net.kind
    k2, obj = fm.read_model(p)
    assert k2 == kind and np.array_equal(obj.W_kernel(), net.W_kernel()) and obj.gamma == net.gamma
    arr = fm.load_model(p)
    assert np.array_equal(arr["W"], net.dense()["W"])
    X = rng.standard_normal((2, 1, 4, 4))
    Y, info = fm.evaluate(p, X)
    assert Y.shape == (2, 2, 4, 4) and info["ok"] and info["kind"] == kind
    Z = np.maximum(np.einsum("ij,bj->bi", arr["W"], Y.reshape(2, -1)) + X.reshape(2, -1) @ arr["U"].T + arr["b"], 0)
    assert np.max(np.abs(Z - Y.reshape(2, -1))) <= 1e-9
    Yf, _ = fm.evaluate(p, X.reshape(2, -1))
    assert np.array_equal(Yf, Y.reshape(2, -1))
    r = subprocess.run([sys.executable, "-m", "deqtheory.cli", "check", str(p), "--json"], capture_output=True,
                       text=True)
    assert r.returncode in (0, 1), r.stderr
    assert json.loads(r.stdout)
    np.save(tmp_path / "x.npy", X)
    r = subprocess.run([sys.executable, "-m", "deqtheory.cli", "eval", str(p), str(tmp_path / "x.npy"), "-o",
                        str(tmp_path / "y.npy")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert np.max(np.abs(np.load(tmp_path / "y.npy") - Y)) <= 1e-9


def test_missing_beta_is_a_model_file_error(tmp_path, rng):
    from deqtheory.errors import ModelFileError
    from deqtheory.io import save_npz

    net = _net(rng)
    p = tmp_path / "g.npz"
    save_npz(p, fm.TABLE["conv_ibp_mondeq"].write(net), kind="conv_ibp_mondeq_gamma")
    with pytest.raises(ModelFileError, match="'beta'"):
        fm.read_model(p)


@pytest.mark.parametrize("which", ["margin", "contraction"])
def test_certificate_file_round_trip_verifies_against_the_read_model(tmp_path, rng, which):
    net = _net(rng, gamma=which == "contraction")
    p = tmp_path / "m.npz"
    fm.save_model(p, net)
    _, obj = fm.read_model(p)
    K = obj.W_kernel()
    cert = (ci.conv_ibp_margin if which == "margin" else ci.conv_abs_contraction)(K, obj.N)
    assert cert.certified
    q = tmp_path / "c.npz"
    save_certificate(q, cert)
    back = load_certificate(q)
    again = back.verify(K=K)
    assert again.certified and again.margin == cert.margin
    assert again.verify(K=K, N=obj.N).certified
    assert not back.verify(K=2.0 * K).certified
    with pytest.raises(ShapeError):
        back.verify(K=K, N=2)                                              # k = 3 > N = 2


def test_contraction_error_bound():
    cert = ci.conv_abs_contraction(np.full((1, 1, 1, 1), 0.5), 1)
    assert cert.certified and cert.witness["mu"] >= 0.5
    b = ci.contraction_error_bound(cert, 1.0)
    assert 2.0 <= b <= 2.0 * (1 + 1e-12)
    assert ci.contraction_error_bound(ci.conv_ibp_margin(np.full((1, 1, 1, 1), 0.5), 1), 1.0) == np.inf
    with pytest.raises(DomainError):
        ci.contraction_error_bound(cert, -1.0)
