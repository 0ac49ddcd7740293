"""Witnesses of the conv ℓ∞ certifier re-checked without torch (deqtheory.conv_certificate through
deqtheory.classifier_certificate): tiny conv IBP-MonDEQ / Γ-variant / conv NEMON classifiers (the
``conv_ibpmondeq_deq3_tiny`` / ``conv_nemon_tiny`` builders) and two DEQs in sequence, certified with
witnesses → one .npz → every claim confirmed in numpy; tampering (a stored point, a flag, the model, a
constant) is caught; the numpy interval rules are checked against exact rational boxes."""
from __future__ import annotations

import dataclasses
import hashlib
import json
from fractions import Fraction

import numpy as np
import pytest
import torch
from torch import nn

from deqtheory import classifier_certificate as CC
from deqtheory import cli as DC
from deqtheory import conv_certificate as CV
from deqtheory import formats as fm
from deqtheory import intervals as _iv
from deqtheory import pipeline as pl
from deqtheory.testing.oracles import exact_conv_box
from deqtheory_train import registry as R
from deqtheory_train.certify.conv_linf import ConvLinfPlan, certify_conv_linf
from deqtheory_train.certify.deq import error_bound
from deqtheory_train.experiment.certification import save_witness
from deqtheory_train.experiment.config import load_config
from deqtheory_train.export import to_deqtheory
from test_classifier_certificate import test_fixed_point_moved_beyond_its_error_bound_is_caught as _moved_is_caught
from test_classifier_certificate import test_flag_on_an_uncertified_image_is_caught as _flag_is_caught
from test_conv_linf_certify import _dense, _layer, _x

torch.set_num_threads(1)
DT = torch.float64
OK, NOT, MISMATCH = CC.ClaimStatus.CONFIRMED, CC.ClaimStatus.NOT_CONFIRMED, CC.ClaimStatus.MODEL_MISMATCH
EPS = [0.0, 0.002, 0.01]
#: test name → (config, extra builder kwargs)
TINY = {"ibp": ("conv_ibpmondeq_deq3_tiny", {}), "gamma": ("conv_ibpmondeq_deq3_tiny", {"gamma_variant": True}),
        "nemon": ("conv_nemon_tiny", {})}


def _tiny(name):
    cfg_name, extra = TINY[name]
    cfg = load_config(cfg_name)
    torch.manual_seed(0)
    shape = tuple(cfg["data"]["kwargs"]["shape"])
    model = R.build_model(cfg["model"]["builder"], shape, cfg["data"]["kwargs"]["num_classes"],
                          **{**cfg["model"]["kwargs"], **extra}).eval()
    x = torch.rand((24,) + shape, generator=torch.Generator().manual_seed(1)).numpy()
    with torch.no_grad():
        y = model(torch.as_tensor(x)).argmax(1).numpy()
    y[:2] = (y[:2] + 1) % 3                          # two misclassified images: never certified
    return model, x.astype(np.float64), y


def _two_deqs():
    """stem conv → two conv IBP-MonDEQs in sequence → BN → pool → FC → ReLU → FC (float64)."""
    torch.manual_seed(0)
    N = 6
    d1, d2 = _layer(c_in=2, c=2, N=N, seed=3), _layer(c_in=2, c=3, N=N, seed=4)
    bn = nn.BatchNorm2d(3).double()
    with torch.no_grad():
        bn.running_mean.uniform_(-0.5, 0.5)
        bn.running_var.uniform_(0.5, 2.0)
        bn.weight.uniform_(-2, 2)
    model = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1).double(), nn.ReLU(), d1, d2, bn, nn.AvgPool2d(2),
                          nn.Flatten(), nn.Linear(3 * 9, 5).double(), nn.ReLU(), nn.Linear(5, 3).double()).eval()
    x = _x(d1, 16, 5)[:, :1].numpy()
    with torch.no_grad():
        y = model(torch.as_tensor(x)).argmax(1).numpy()
    y[:2] = (y[:2] + 1) % 3
    return model, x, y


def _certify(model, x, y, path, eps=EPS):
    o = certify_conv_linf(model, x, y, norm="inf", eps=eps, witness=True, batch_size=10)
    save_witness(path, model, o, x, y, norm="inf", eps=eps, certifier="conv_linf")
    return o


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    d = tmp_path_factory.mktemp("convcerts")
    out = {}
    for name in TINY:
        model, x, y = _tiny(name)
        out[name] = (d / f"{name}.npz", _certify(model, x, y, d / f"{name}.npz"), model)
    model, x, y = _two_deqs()
    out["two"] = (d / "two.npz", _certify(model, x, y, d / "two.npz", eps=[0.0, 0.001, 0.002]), model)
    return out


def _changed(cf, **kw):
    return dataclasses.replace(cf, **kw)


@pytest.mark.parametrize("key", list(TINY) + ["two"])
def test_certified_conv_run_is_confirmed_in_numpy(runs, key):
    path, o, _ = runs[key]
    cf = CC.load_certification(path)
    assert np.array_equal(cf.certified, o.certified) and np.array_equal(cf.correct, o.correct)
    assert cf.certified.sum() >= 10 and not cf.certified[:, -1].all()          # non-vacuous, not trivial
    rep = CC.recheck(cf)
    assert rep.status is OK, rep.format()
    assert [r.claimed for r in rep.per_eps] == cf.certified.sum(axis=0).tolist()
    assert all(r.confirmed == r.claimed for r in rep.per_eps)
    assert rep.constants and all(c["status"] == "certified" for c in rep.constants.values())
    deqs = 2 if key == "two" else 1
    assert rep.model_kind.count("conv_") == deqs and len(cf.meta["deqs"]) == deqs
    assert cf.domain == (0.0, 1.0)


def test_witness_layout_and_certificate_names(runs):
    path, o, model = runs["two"]
    cf = CC.load_certification(path)
    plan = ConvLinfPlan(model)
    sizes = [d.c * d.N ** 2 for d in plan.deqs]
    N, E = cf.certified.shape
    assert cf.witness["z"].shape == (N, sum(sizes)) and cf.witness["z_lift"].shape == (N, E, 2 * sum(sizes))
    assert sorted(cf.certificates) == sorted(f"{c}@{k}" for k in range(2)
                                             for c in ("conv_ibp_monotone", "conv_abs_contraction"))
    assert "fixed_point_error" not in cf.witness
    assert list(CC.load_certification(runs["nemon"][0]).certificates) == ["conv_mu_inf@0"]


def test_numpy_margins_are_as_tight_as_the_certifiers(runs):
    """The re-check is a proof of the same boxes: its margins equal the certifier's up to rounding."""
    for key in ("ibp", "two"):
        path, o, _ = runs[key]
        cf = CC.load_certification(path)
        _, obj = fm.read_model(_write(path.parent / f"m_{key}.npz", cf.model_npz))
        chain = CV.conv_chain(obj)
        chain.use({n: c.verify(**CC._conv_problem(chain, n)) for n, c in cf.certificates.items()})
        k = len(cf.eps) - 1
        lo, hi = CC._input_box(cf.X, float(cf.eps[k]), cf.domain)
        mg, why = chain.margins(lo, hi, chain.split(cf.witness["z_lift"][:, k], lifted=True), cf.labels)
        assert all(w is None for w in why)
        ref = cf.witness["interval_margins"][:, k]
        fin = np.isfinite(ref)
        np.testing.assert_allclose(mg[fin], ref[fin], rtol=1e-9, atol=1e-9)


def test_small_batches_give_the_same_report(runs, monkeypatch):
    path = runs["two"][0]
    full = CC.recheck(path).to_dict()
    monkeypatch.setattr(CC, "CONV_BATCH", 3)
    assert CC.recheck(path).to_dict() == full


@pytest.mark.parametrize("entry", ["z", "z_lift"])
@pytest.mark.parametrize("key", ["ibp", "nemon", "two"])
def test_a_moved_point_is_caught(runs, key, entry):
    """The dense file's tampering test on the conv files (a point moved by 2, and by 1e-13), then a NaN."""
    _moved_is_caught(runs, key, entry)
    cf = CC.load_certification(runs[key][0])
    k = len(cf.eps) - 1
    i = int(np.flatnonzero(cf.certified[:, k])[0])
    w = {kk: v.copy() for kk, v in cf.witness.items()}
    w[entry][i] = np.nan
    rep = CC.recheck(_changed(cf, witness=w))
    assert rep.status is NOT and rep.per_eps[k].confirmed == rep.per_eps[k].claimed - 1
    assert "not finite" in dict(rep.per_eps[k].unconfirmed)[i]


@pytest.mark.parametrize("key", ["ibp", "nemon", "two"])
def test_flag_on_an_uncertified_image_is_caught(runs, key):
    """The dense file's test on the conv files: a flag on a correct uncertified image, and on a misclassified one."""
    _flag_is_caught(runs, key)


def test_a_changed_kernel_entry_is_a_model_mismatch(runs, tmp_path):
    path, _, model = runs["ibp"]
    obj = to_deqtheory(model)
    k = next(i for i, s in enumerate(obj.stages) if fm.kind_of(s) == "conv_ibp_mondeq")
    M = np.array(obj.stages[k].M)
    M[0, 0, 1, 1] += 1e-3
    st = dataclasses.replace(obj.stages[k], M=M)
    other = tmp_path / "other.npz"
    fm.save_model(other, pl.Pipeline(obj.stages[:k] + (st,) + obj.stages[k + 1:], obj.input_shape))
    rep = CC.recheck(path, other)
    assert rep.status is MISMATCH and not rep.per_eps and "sha256" in rep.notes[0]
    assert DC.main(["verify-certification", str(path), "--model", str(other)]) == 1
    same = tmp_path / "same.npz"
    same.write_bytes(CC.load_certification(path).model_npz)
    assert CC.recheck(path, same).status is OK


def test_a_re_embedded_model_whose_constants_fail_is_not_confirmed(runs, tmp_path):
    """Someone swaps the embedded model and fixes the sha256: the constants are re-proved on the new
    kernel (here 40 × larger: the lift is not contractive), nothing is confirmed."""
    path, _, model = runs["nemon"]
    cf = CC.load_certification(path)
    obj = to_deqtheory(model)
    k = next(i for i, s in enumerate(obj.stages) if fm.kind_of(s) == "conv_noneuclidean")
    st = dataclasses.replace(obj.stages[k], T=np.array(obj.stages[k].T) * 40.0)
    q = tmp_path / "big.npz"
    fm.save_model(q, pl.Pipeline(obj.stages[:k] + (st,) + obj.stages[k + 1:], obj.input_shape))
    blob = q.read_bytes()
    rep = CC.recheck(_changed(cf, model_npz=blob, meta={**cf.meta, "model_sha256": hashlib.sha256(blob).hexdigest()}))
    assert rep.status is NOT and rep.constants["conv_mu_inf@0"]["status"] != "certified"
    assert any("did not re-verify" in n for n in rep.notes)
    assert all(r.confirmed == 0 for r in rep.per_eps if r.claimed)


def test_altered_constant_witness_is_caught(runs):
    cf = CC.load_certification(runs["gamma"][0])
    name = "conv_abs_contraction@0"
    c = cf.certificates[name]
    certs = {**cf.certificates, name: c.replace(witness={**c.witness, "mu": float(c.witness["mu"]) / 2})}
    rep = CC.recheck(_changed(cf, certificates=certs))
    assert rep.status is NOT and rep.constants[name]["status"] != "certified"
    certs = {**cf.certificates, "conv_mu_inf@3": c}                 # a certificate for a stage that is not there
    rep = CC.recheck(_changed(cf, certificates=certs))
    assert rep.status is NOT and "3" in rep.constants["conv_mu_inf@3"]["message"]


def test_a_certificate_under_another_conditions_name_is_not_used(runs):
    """A valid conv_mu_inf proof (Metzler lift) stored as the IBP lift's contraction proves nothing for it."""
    from deqtheory import conv_nemon
    cf = CC.load_certification(runs["ibp"][0])
    _, obj = fm.read_model(_write(runs["ibp"][0].parent / "m_swap.npz", cf.model_npz))
    chain = CV.conv_chain(obj)
    d = chain.deqs[0]
    mu = conv_nemon.conv_mu_inf(d.K, d.N)
    assert mu.certified and mu.verify(K=d.K, N=d.N).certified
    chain.use({"conv_abs_contraction@0": mu})
    assert d.mu is None and d.m is None and not d.valid
    certs = {"conv_abs_contraction@0": mu}
    rep = CC.recheck(_changed(cf, certificates=certs))
    assert rep.status is NOT and all(r.confirmed == 0 for r in rep.per_eps)


def test_wrong_witness_shapes_are_typed_errors(runs):
    from deqtheory.errors import ShapeError
    cf = CC.load_certification(runs["ibp"][0])
    w = {**cf.witness, "z_lift": cf.witness["z_lift"][:, :, :-1]}
    with pytest.raises(ShapeError, match="z_lift"):
        CC.recheck(_changed(cf, witness=w))


def test_command_line_and_json(runs, capsys):
    assert DC.main(["verify-certification", str(runs["two"][0]), "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["status"] == "confirmed" and rep["norm"] == "inf" and rep["model_kind"].startswith("classifier[")


def _write(p, data):
    p.write_bytes(data)
    return p


# ---------------------------------------------------------------------------------------------- the numpy rules

def _frac(a):
    return np.vectorize(lambda v: Fraction(float(v)), otypes=[object])(a)


@pytest.mark.theorem("wei2022:eq2.3.conv")      # the numpy re-check's implementation of the same claim
@pytest.mark.parametrize("case", [dict(stride=1, padding=1), dict(stride=2, padding=0), dict(stride=2, padding=1),
                                  dict(circular=True)])
@pytest.mark.parametrize("seed", range(2))
def test_conv_box_contains_the_exact_box_and_is_tight(case, seed):
    rng = np.random.default_rng(seed)
    K = rng.standard_normal((2, 3, 3, 3)) * 10.0 ** rng.uniform(-2, 2, (2, 3, 3, 3))
    b = rng.standard_normal(2)
    lo = rng.standard_normal((3, 5, 5))
    hi = lo + rng.uniform(0, 0.5, lo.shape) * (rng.random(lo.shape) > 0.3)
    el, eh = exact_conv_box(K, b, lo, hi, stride=case.get("stride", 1), padding=case.get("padding", 0),
                            circular=case.get("circular", False))
    nl, nh = CV.conv_box(K, b[None, :, None, None], lo[None], hi[None], **case)
    assert nl.shape[1:] == el.shape
    assert np.all(_frac(nl[0]) <= el) and np.all(eh <= _frac(nh[0]))
    scale = np.abs(K).sum() * max(np.abs(lo).max(), np.abs(hi).max()) + np.abs(b).max()
    assert np.max(nh[0] - eh.astype(float)) < 1e-12 * scale and np.max(el.astype(float) - nl[0]) < 1e-12 * scale
    pt = CV.conv_box(K, None, lo[None], lo[None], **case)          # a point: a box of rounding width
    assert np.all(pt[1] - pt[0] < 1e-12 * scale)


def test_linear_avgpool_batchnorm_boxes_contain_the_exact_images():
    rng = np.random.default_rng(3)
    lo = rng.standard_normal((2, 3, 6, 6))
    hi = lo + rng.uniform(0, 0.3, lo.shape)
    pool = pl.AvgPool2d(3, 2, 1)
    pl_, ph = CV.stage_box(pool, lo, hi)
    ones = np.ones((1, 1, 3, 3))
    for i, c in np.ndindex(2, 3):
        el, eh = exact_conv_box(ones, None, lo[i, c][None], hi[i, c][None], stride=2, padding=1)
        assert np.all(_frac(pl_[i, c]) <= el[0] / 9) and np.all(eh[0] / 9 <= _frac(ph[i, c]))
    np.testing.assert_allclose(pl_, pool(lo), atol=1e-14)
    lin = pl.Linear(rng.standard_normal((4, 108)), rng.standard_normal(4))
    ll, lh = CV.stage_box(lin, lo.reshape(2, -1), hi.reshape(2, -1))
    for i in range(2):
        el, eh = exact_conv_box(lin.W[:, :, None, None], lin.b, lo[i].reshape(-1, 1, 1), hi[i].reshape(-1, 1, 1))
        assert np.all(_frac(ll[i]) <= el[:, 0, 0]) and np.all(eh[:, 0, 0] <= _frac(lh[i]))
    bn = pl.BatchNorm(rng.standard_normal(3), rng.uniform(0.1, 2, 3), 1e-5, rng.standard_normal(3),
                      rng.standard_normal(3))
    bl, bh = CV.stage_box(bn, lo, hi)
    import mpmath
    mpmath.mp.prec = 200
    for idx in [(0, 0, 0, 0), (1, 2, 5, 3), (0, 1, 2, 2)]:
        c = idx[1]
        s = mpmath.mpf(bn.weight[c]) / mpmath.sqrt(mpmath.mpf(bn.var[c]) + mpmath.mpf(bn.eps))
        vals = [(mpmath.mpf(v) - mpmath.mpf(bn.mean[c])) * s + mpmath.mpf(bn.bias[c]) for v in (lo[idx], hi[idx])]
        assert mpmath.mpf(bl[idx]) <= min(vals) and max(vals) <= mpmath.mpf(bh[idx])


def test_matrix_free_error_bound_is_the_certifiers():
    """fixed_point_error (numpy) is the torch certifier's error_bound, bit for bit, given the same |W|ρ."""
    from deqtheory.verified import gamma
    rng = np.random.default_rng(0)
    rho = rng.uniform(0, 1e-6, (3, 40))
    Arho = rng.uniform(0, 1e-6, (3, 40))
    eta = rng.uniform(0.5, 2, 40)
    got = CV.fixed_point_error(rho, Arho * (1.0 + gamma(41)), m=0.3, mu=0.7, eta=eta)
    ref = error_bound(lambda r: torch.as_tensor(Arho), torch.as_tensor(rho), 0.3, 0.7, torch.as_tensor(eta))
    np.testing.assert_array_equal(got, ref.numpy())
    assert np.all(np.isinf(CV.fixed_point_error(rho, Arho)))


@pytest.mark.parametrize("seed", range(2))
def test_numpy_deq_box_agrees_with_the_dense_sound_box(seed):
    """One conv DEQ in numpy from a tightly solved lifted point: its box equals the dense sound IBP box of
    the materialised model to 1e-10 and contains it up to that."""
    layer = _layer(seed=seed)
    W, U, b = _dense(layer)
    plan = ConvLinfPlan(nn.Sequential(layer, nn.Flatten(), nn.Linear(2 * 16, 3).double()),
                        solver_options={"f_tol": 1e-13})
    x = _x(layer, 2, seed)
    lo, hi = (x - 0.05).clamp(min=0), (x + 0.05).clamp(max=1)
    pts = []
    plan.deqs[0].box(lo, hi, pts)
    st = CV.ConvDEQStage(to_deqtheory(layer), "conv_ibp_mondeq")
    st.use({k: c for k, c in plan.deqs[0].certificates.items()})
    zl, zu, why = st.box(lo.numpy(), hi.numpy(), pts[0].reshape(2, -1).numpy())
    assert why == [None, None]
    for i in range(2):
        d = _iv.interval_bounds(W, U, b, _iv.Box(lo[i].reshape(-1).numpy(), hi[i].reshape(-1).numpy()), method="ibp")
        np.testing.assert_allclose(zl[i].reshape(-1), d.box.lower, rtol=0, atol=1e-10)
        np.testing.assert_allclose(zu[i].reshape(-1), d.box.upper, rtol=0, atol=1e-10)


def test_conv_recheck_never_imports_torch(runs):
    import subprocess
    import sys
    code = ("import sys; from deqtheory.cli import main; m = lambda a: main(['verify-certification', *a]); "
            f"rc = m([{str(runs['two'][0])!r}]); assert 'torch' not in sys.modules, 'torch imported'; sys.exit(rc)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=120)
    assert done.returncode == 0, done.stdout.decode()[-2000:] + done.stderr.decode()[-2000:]


def test_cli_train_certify_with_witness_and_verify_without_torch(tmp_path, capsys):
    """The whole user path for a conv ℓ∞ model: deqtheory-train run (tiny DEQ-3) → certify --witness →
    deqtheory verify-certification confirms every claim."""
    from deqtheory import cli as dcli
    from deqtheory_train import cli as tcli
    out = tmp_path / "run"
    assert tcli.main(["run", "conv_ibpmondeq_deq3_tiny", "--out", str(out), "--epochs", "1", "--no-progress",
                      "--threads", "1"]) == 0
    w = tmp_path / "cert.npz"
    assert tcli.main(["certify", str(out / "model.npz"), "--certifier", "conv_linf", "--eps", "0", "1/255",
                      "--max-samples", "40", "--witness", str(w), "--threads", "1"]) == 0
    cf = CC.load_certification(w)
    assert cf.certified[:, 0].sum() >= 5                   # something was claimed
    capsys.readouterr()
    assert dcli.main(["verify-certification", str(w), "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["status"] == "confirmed"
    assert [r["confirmed"] for r in rep["per_eps"]] == cf.certified.sum(axis=0).tolist()
