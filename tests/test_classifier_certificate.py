"""Classifier certificates re-checked without torch (deqtheory.classifier_certificate): a certified run
of deqtheory_train.certify with its witnesses → one .npz → the numpy re-check confirms every claim; every
tampering (a flag, a radius, a fixed point, a constant's witness, the model) is caught."""
from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from torch import nn

from deqtheory import classifier_certificate as CC
from deqtheory import cli as DC
from deqtheory import formats as fm
from deqtheory import pipeline as pl
from deqtheory.certificates import Status
from deqtheory_train.certify import Readout, certify_deq, certify_linf
from deqtheory_train.data import Normalize
from deqtheory_train.experiment.certification import RADIUS_SLACK, certify_model, save_witness
from deqtheory_train.layers import IBPMonDEQLayer, LBENLayer, NEMONLayer

torch.set_num_threads(1)
F64 = torch.float64
OK, NOT, TORCH, MISMATCH = (CC.ClaimStatus.CONFIRMED, CC.ClaimStatus.NOT_CONFIRMED, CC.ClaimStatus.NEEDS_TORCH,
                            CC.ClaimStatus.MODEL_MISMATCH)
LAYERS = {"ibp": lambda: IBPMonDEQLayer(4, 8, 3, dtype=F64, m=0.3), "lben": lambda: LBENLayer(4, 8, 3, dtype=F64),
          "nemon": lambda: NEMONLayer(4, 8, 3, dtype=F64, gamma=0.2)}
RUNS = {"l2_ibp": ("ibp", "2", [0.0, 0.01, 0.05], {}), "l2_lben": ("lben", "2", [0.0, 0.02, 0.05], {}),
        "linf_nemon": ("nemon", "inf", [0.0, 0.01, 0.03], {}),
        "linf_ibp": ("ibp", "inf", [0.0, 0.01, 0.03], {"interval": "ibp"})}


def _model(name):
    torch.manual_seed(0)
    L = LAYERS[name]()
    return nn.Sequential(Normalize([0.5], [0.3]), nn.Flatten(), L, Readout(L)).double()


def _data(model, n=30):
    g = torch.Generator().manual_seed(0)
    x = torch.rand(n, 1, 2, 2, generator=g, dtype=F64)
    with torch.no_grad():
        y = model(x).argmax(1)
    y[:2] = (y[:2] + 1) % 3                          # two misclassified images: never certified
    return x.numpy(), y.numpy()


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    d = tmp_path_factory.mktemp("certs")
    out = {}
    for key, (name, norm, eps, kw) in RUNS.items():
        model = _model(name)
        x, y = _data(model)
        f = certify_linf if norm == "inf" else certify_deq
        o = f(model, x, y, norm=norm, eps=eps, witness=True, **kw)
        path = d / f"{key}.npz"
        save_witness(path, model, o, x, y, norm=norm, eps=eps, certifier="deq")
        out[key] = (path, o)
    return out


def _changed(cf, **kw):
    return dataclasses.replace(cf, **kw)


@pytest.mark.parametrize("key", list(RUNS))
def test_certified_run_is_confirmed_in_numpy(runs, key):
    path, o = runs[key]
    cf = CC.load_certification(path)
    assert np.array_equal(cf.certified, o.certified) and np.array_equal(cf.correct, o.correct)
    assert not cf.correct[:2].any()
    assert cf.certified[:, -1].sum() >= 5 and not cf.certified[:, -1].all()      # non-vacuous, not trivial
    rep = CC.recheck(cf)
    assert rep.status is OK, rep.format()
    assert [r.claimed for r in rep.per_eps] == cf.certified.sum(axis=0).tolist()
    assert all(r.confirmed == r.claimed for r in rep.per_eps)
    assert all(c["status"] == "certified" for c in rep.constants.values() if c["stored"] == "certified")
    if cf.norm == "2":
        assert rep.radius.claimed == int((cf.radius > 0).sum()) >= 5
        assert np.all(cf.radius <= o.radius * (1 - RADIUS_SLACK))
    else:
        assert cf.domain == (0.0, 1.0) and cf.witness["z_lift"].shape == (30, 3, 16)


def test_file_is_pickle_free_and_embeds_the_model(runs):
    path, _ = runs["l2_lben"]
    with np.load(path, allow_pickle=False) as z:
        assert all(z[k].dtype != object for k in z.files)
        meta = json.loads(str(z["__meta__"][()]))
        blob = z["model_npz"].tobytes()
    import hashlib
    assert meta["model_sha256"] == hashlib.sha256(blob).hexdigest()
    assert set(meta["certificates"]) >= {"monotone", "monotone_weighted", "L_x_to_y_lben"}
    cf = CC.load_certification(path)
    assert cf.certificates["L_x_to_y_lben"].certified and "lam" in cf.certificates["L_x_to_y_lben"].witness


@pytest.mark.parametrize("key", ["l2_ibp", "linf_nemon"])
def test_flag_on_an_uncertified_image_is_caught(runs, key):
    cf = CC.load_certification(runs[key][0])
    k = len(cf.eps) - 1
    i = int(np.flatnonzero(cf.correct & ~cf.certified[:, k])[0])
    cert = cf.certified.copy()
    cert[i, k] = True
    rep = CC.recheck(_changed(cf, certified=cert))
    assert rep.status is NOT and rep.per_eps[k].status is NOT
    assert [j for j, _ in rep.per_eps[k].unconfirmed] == [i]
    cert = cf.certified.copy()
    cert[0, 0] = True                                   # a misclassified image
    rep = CC.recheck(_changed(cf, certified=cert))
    assert rep.status is NOT and 0 in [j for j, _ in rep.per_eps[0].unconfirmed]


def test_inflated_radius_is_caught(runs):
    cf = CC.load_certification(runs["l2_ibp"][0])
    i = int(np.argmax(cf.radius))
    r = cf.radius.copy()
    r[i] *= 1.01
    rep = CC.recheck(_changed(cf, radius=r))
    assert rep.status is NOT and rep.radius.unconfirmed == [(i, rep.radius.unconfirmed[0][1])]
    assert all(r.status is OK for r in rep.per_eps)


@pytest.mark.parametrize("key,entry", [("l2_ibp", "z"), ("linf_ibp", "z_lift")])
def test_fixed_point_moved_beyond_its_error_bound_is_caught(runs, key, entry):
    cf = CC.load_certification(runs[key][0])
    k = len(cf.eps) - 1
    i = int(np.flatnonzero(cf.certified[:, k])[0])
    w = {kk: v.copy() for kk, v in cf.witness.items()}
    if entry == "z":
        w["z"][i] += 2.0
    else:
        w["z_lift"][i, k] += 2.0
    rep = CC.recheck(_changed(cf, witness=w))
    assert rep.status is NOT and i in [j for j, _ in rep.per_eps[k].unconfirmed]
    # a change far below the error bound's scale still proves the claim (the witness is only a point)
    w = {kk: v.copy() for kk, v in cf.witness.items()}
    w[entry][i] += 1e-13
    assert CC.recheck(_changed(cf, witness=w)).status is OK


@pytest.mark.parametrize("key,name", [("l2_ibp", "monotone"), ("linf_nemon", "lift_metzler_monotone"),
                                      ("linf_nemon", "lift_metzler_mu_inf")])
def test_altered_constant_witness_is_caught(runs, key, name):
    cf = CC.load_certification(runs[key][0])
    c = cf.certificates[name]
    assert c.certified
    if "shift" in c.witness:
        wit = {**c.witness, "shift": float(c.witness["shift"]) + 5.0}      # claims a larger λ_min
    else:
        eta = np.array(c.witness["eta"], dtype=float)
        eta[0] *= 1e6
        wit = {**c.witness, "eta": eta}
    certs = {**cf.certificates, name: c.replace(witness=wit)}
    rep = CC.recheck(_changed(cf, certificates=certs))
    assert rep.status is NOT
    assert rep.constants[name]["status"] != Status.CERTIFIED.value
    assert any("did not re-verify" in n for n in rep.notes)


def test_certificate_stored_under_another_conditions_name_is_not_used(runs):
    """A valid μ∞ proof stored as the lift's *monotone* certificate would be read as an ℓ2 monotonicity
    margin m = 1 − μ (unsound): the re-check uses a certificate only under a name of its own condition."""
    cf = CC.load_certification(runs["linf_nemon"][0])
    mu = cf.certificates["lift_metzler_mu_inf"]
    assert mu.certified and mu.condition == "mu_inf"
    certs = {**cf.certificates, "lift_metzler_monotone": mu}
    rep = CC.recheck(_changed(cf, certificates=certs))
    c = rep.constants["lift_metzler_monotone"]
    assert c["status"] != Status.CERTIFIED.value and "its condition is 'mu_inf'" in c["message"]
    assert rep.status is NOT
    assert CC.expected_conditions("lift_ibp_mu_inf") == ("mu_inf",)
    assert CC.expected_conditions("conv_abs_contraction@0") == ("conv_abs_contraction",)
    assert CC.expected_conditions("unknown") == ()
    assert set(CC.CERTIFICATE_CONDITIONS) == set(CC.CERTIFICATE_TARGETS)


def test_swapped_model_is_refused(runs, tmp_path):
    path, _ = runs["l2_ibp"]
    other = tmp_path / "other.npz"
    fm.save_model(other, _model_obj("lben"))
    rep = CC.recheck(path, other)
    assert rep.status is MISMATCH and not rep.per_eps and "sha256" in rep.notes[0]
    cf = CC.load_certification(path)
    rep = CC.recheck(_changed(cf, model_npz=other.read_bytes()))        # embedded bytes replaced
    assert rep.status is MISMATCH
    same = tmp_path / "same.npz"
    same.write_bytes(cf.model_npz)
    assert CC.recheck(path, same).status is OK


def _model_obj(name):
    from deqtheory_train.export import to_deqtheory
    return to_deqtheory(_model(name))


def test_conv_model_needs_torch_and_is_not_confirmed(tmp_path):
    from deqtheory_train.export import to_deqtheory
    from deqtheory_train.models import conv as MC
    torch.manual_seed(1)
    model = MC.build_convsll((1, 4, 4), 3, channels=2, hidden=2, depth=1).double()
    p = tmp_path / "conv.npz"
    fm.save_model(p, to_deqtheory(model))
    x = np.random.default_rng(0).random((3, 1, 4, 4))
    cert = np.array([[True], [False], [False]])
    CC.save_certification(tmp_path / "c.npz", model_npz=p.read_bytes(), X=x, labels=[0, 1, 2], norm="2", eps=[0.1],
                          domain=None, certified=cert, correct=cert[:, 0], radius=None, witness={"z": np.zeros((3, 1))},
                          certificates={})
    rep = CC.recheck(tmp_path / "c.npz")
    assert rep.status is TORCH and rep.per_eps[0].status is TORCH and rep.per_eps[0].confirmed == 0
    assert "needs torch" in rep.notes[0] and rep.model_kind.startswith("conv")
    assert DC.main(["verify-certification", str(tmp_path / "c.npz")]) == 1
    with pytest.raises(ValueError, match="hands out no witnesses"):
        certify_model(model, None, certifier="conv_l2", norm="2", eps=[0.1], witness_path=tmp_path / "w.npz")


def test_unsupported_pre_stage_needs_torch(runs, tmp_path):
    cf = CC.load_certification(runs["l2_ibp"][0])
    kind, obj = fm.read_model(_write(tmp_path / "m.npz", cf.model_npz))
    from deqtheory.explicit import ResidualStack
    assert not any(isinstance(s, ResidualStack) for s in obj.stages)
    odd = pl.Pipeline((pl.ChannelPad(1, 1),) + tuple(obj.stages), obj.input_shape)
    q = tmp_path / "odd.npz"
    fm.save_model(q, odd)
    rep = CC.recheck(_changed(cf, model_npz=q.read_bytes(), meta={**cf.meta, "model_sha256": _sha(q)}))
    assert rep.status is TORCH and "ChannelPad" in rep.notes[0]


def _write(p, data):
    p.write_bytes(data)
    return p


def _sha(p):
    import hashlib
    return hashlib.sha256(p.read_bytes()).hexdigest()


def test_command_line_exit_codes_and_json(runs, tmp_path, capsys):
    path, _ = runs["linf_ibp"]
    assert DC.main(["verify-certification", str(path), "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["status"] == "confirmed" and rep["norm"] == "inf" and len(rep["per_eps"]) == 3
    assert rep["domain"] == [0.0, 1.0]
    # a tampered file on disk (one flag) → exit 1 and the image named
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    k = 2
    i = int(np.flatnonzero(arrays["correct"] & ~arrays["certified"][:, k])[0])
    arrays["certified"][i, k] = True
    bad = tmp_path / "bad.npz"
    np.savez(bad, **arrays)
    assert DC.main(["verify-certification", str(bad), "--json"]) == 1
    rep = json.loads(capsys.readouterr().out)
    assert rep["status"] == "not_confirmed" and rep["per_eps"][k]["first_unconfirmed"][0]["index"] == i
    assert DC.main(["verify-certification", str(tmp_path / "nope.npz")]) == 2
    np.savez(tmp_path / "notcert.npz", a=np.zeros(2))
    assert DC.main(["verify-certification", str(tmp_path / "notcert.npz")]) == 2


def test_recheck_never_imports_torch(runs):
    path, _ = runs["l2_lben"]
    code = ("import sys; from deqtheory.cli import main; m = lambda a: main(['verify-certification', *a]); "
            f"rc = m([{str(path)!r}]); assert 'torch' not in sys.modules, 'torch imported'; sys.exit(rc)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=120)
    assert done.returncode == 0, done.stdout.decode()[-2000:] + done.stderr.decode()[-2000:]


def test_deqtheory_train_certify_witness_command(tmp_path, capsys):
    """deqtheory-train run → certify --witness → the numpy re-check (Linear + ReLU pre-stages), on the config's
    own float32 model: the certifier proves on the exported (file) arrays, so the stored witnesses re-verify."""
    from deqtheory_train import cli
    from deqtheory_train import experiment as X
    cfg = X.load_config("ibpmondeq_mnist_tiny")
    assert cfg.get("dtype", "float32") == "float32"
    (tmp_path / "c.json").write_text(json.dumps(cfg))
    out = tmp_path / "r"
    assert cli.main(["run", str(tmp_path / "c.json"), "--out", str(out), "--no-progress", "--max-steps", "6"]) == 0
    w, js = tmp_path / "cert.npz", tmp_path / "cert.json"
    for norm, eps in (("2", ["0", "0.05"]), ("inf", ["0", "0.02"])):
        assert cli.main(["certify", str(out / "checkpoint.npz"), "--norm", norm, "--eps", *eps, "--max-samples", "40",
                         "--witness", str(w), "--json", str(js)]) == 0
        res = json.loads(js.read_text())
        assert res["witness"] == str(w) and res["model_sha256"] == CC.load_certification(w).model_sha256
        capsys.readouterr()
        assert DC.main(["verify-certification", str(w)]) == 0, capsys.readouterr().out
        capsys.readouterr()
        from deqtheory import cli as dcli                     # the same re-check as `deqtheory verify-certification`
        assert dcli.main(["verify-certification", str(w), "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["status"] == "confirmed"
        cf = CC.load_certification(w)
        assert cf.certified[:, 1].sum() >= 1 and cf.X.shape == (40, 1, 6, 6)
    assert cli.main(["certify", str(out / "checkpoint.npz"), "--norm", "2", "--eps", "0.1", "--max-samples", "4",
                     "--certifier", "mlp", "--witness", str(tmp_path / "no.npz")]) == 2
    assert not (tmp_path / "no.npz").exists()


def test_load_certification_checks_array_headers_before_reading(tmp_path):
    """A crafted certification file whose .npy header declares a huge array is refused from the header
    (deqtheory.io.check_npz_headers), before anything is allocated."""
    import io as _io
    import zipfile

    from numpy.lib import format as npf
    from deqtheory.errors import ModelFileError

    hdr = _io.BytesIO()
    npf.write_array_header_1_0(hdr, {"descr": "<f8", "fortran_order": False, "shape": (10 ** 12,)})
    p = tmp_path / "huge.npz"
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("X.npy", hdr.getvalue())
    with pytest.raises(ModelFileError, match="limit"):
        CC.load_certification(p)


def test_errors_found_deep_in_the_recheck_name_the_file_and_the_mismatch(runs, tmp_path, capsys):
    """A certification whose stored images do not fit the embedded model is refused with one line that
    names the file and both widths (it used to read ``U: expected shape ('*', 6), got (8, 4)``)."""
    path, _ = runs["l2"] if "l2" in runs else next(iter(runs.values()))
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["X"] = np.zeros(arrays["X"].shape[:-1] + (arrays["X"].shape[-1] + 1,))
    bad = tmp_path / "wide.npz"
    np.savez(bad, **arrays)
    assert DC.main(["verify-certification", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and str(bad) in err and "X: the stored images have shape" in err, err
    assert "the embedded model takes 4" in err, err
