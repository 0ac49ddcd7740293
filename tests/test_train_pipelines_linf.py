"""ℓ∞ certified-training pipelines (deqtheory_train.models.linf, deqtheory_train.losses): IBP-MonDEQ
(wei2022), CerDEQ (li2022), NEMON (jafarpour2022).

* the CLI runs each tiny config end to end (``run`` → ``certify`` prints a table and writes JSON);
* points certified by the sound certifier survive ℓ∞ PGD on the trained tiny models (0 violations),
  and PGD does break the models on a large box (the attack is not vacuous);
* the ε schedule and the m warm-up follow wei2022 App. B (values at given steps, computed by hand);
* the torch lifts equal deqtheory's; the float training boxes contain sampled outputs.
"""
from __future__ import annotations

import json
import math
import pathlib

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from deqtheory import intervals as dint  # noqa: E402
from deqtheory_train import cli  # noqa: E402
from deqtheory_train import experiment as X  # noqa: E402
from deqtheory_train import losses as Lo  # noqa: E402
from deqtheory_train import registry as R  # noqa: E402
from deqtheory_train.certify import boxes as CB  # noqa: E402
from deqtheory_train.models import linf as ML  # noqa: E402
from deqtheory_train import train as T  # noqa: E402
from deqtheory_train.certify import Perturbation, certify_batch, prepare  # noqa: E402
from deqtheory_train.data import load_dataset  # noqa: E402
from deqtheory_train.parametrize import smooth_eps_schedule  # noqa: E402

TINY = ("ibpmondeq_mnist_tiny", "cerdeq_mnist_tiny", "nemon_mnist_tiny")
FULL = ("ibpmondeq_mnist", "cerdeq_mnist", "nemon_mnist", "cerdeq_cifar10")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("linf")
    out = {}
    for name in TINY:
        d = root / name
        assert cli.main(["run", name, "--out", str(d), "--no-progress", "--threads", "1"]) == 0
        out[name] = d
    return out


def test_configs_listed_and_valid(capsys):
    assert cli.main(["list"]) == 0
    text = capsys.readouterr().out
    for name in TINY + FULL:
        assert name in text
        X.load_config(name)
    for b in ("ibp_mondeq_linf", "cerdeq_linf", "nemon_linf", "mondeq_linf"):
        assert b in X.available_models()
    for loss in ("ibp_elided", "cerdeq", "inclusion"):
        assert loss in R.LOSSES


@pytest.mark.parametrize("name", TINY)
def test_cli_run_then_certify(runs, name, capsys):
    d = runs[name]
    for f in ("model.npz", "metrics.jsonl", "summary.json", "certify.json", "config.json"):
        assert (d / f).is_file(), f
    summ = json.loads((d / "summary.json").read_text())
    assert summ["status"] == "finished"
    capsys.readouterr()
    jpath = d / "cli_cert.json"
    assert cli.main(["certify", str(d / "model.npz"), "--norm", "inf", "--eps", "0", "0.02", "0.05",
                     "--json", str(jpath)]) == 0
    text = capsys.readouterr().out
    assert "certifier deq" in text and "norm linf" in text and "certified acc" in text
    res = json.loads(jpath.read_text())
    acc = res["certified_accuracy"]
    assert res["norm"] == "inf" and res["eps"] == [0.0, 0.02, 0.05]
    # certified accuracy is monotone in ε and bounded by the clean accuracy; ε = 0 ⇒ correct
    assert acc[0] <= res["clean_accuracy"] + 1e-12 and acc[0] >= acc[1] >= acc[2]
    assert acc[1] > 0.3, f"{name}: the tiny model should certify something at eps 0.02 ({acc})"
    # the end-of-run certificate (same sound certifier) agrees with the CLI on the shared ε
    at_end = json.loads((d / "certify.json").read_text())
    assert at_end["certified_accuracy"] == pytest.approx(acc[1:], abs=1e-12)


def _margin_fn(model):
    def f(x, y):
        logits = model(x)
        other = logits.clone()
        other[torch.arange(len(y)), y] = -math.inf
        return logits[torch.arange(len(y)), y] - other.max(dim=1).values
    return f


def _pgd(model, x, y, eps, steps=30, restarts=2, seed=0):
    """ℓ∞ PGD on [x − ε, x + ε] ∩ [0, 1] minimising the true-class margin; returns the smallest
    margin found per sample (float64 forward with a tight solver)."""
    g = torch.Generator().manual_seed(seed)
    lo, hi = (x - eps).clamp(0, 1), (x + eps).clamp(0, 1)
    f = _margin_fn(model)
    best = f(x, y).detach()
    for r in range(restarts):
        xa = lo + (hi - lo) * torch.rand(x.shape, generator=g, dtype=x.dtype) if r else x.clone()
        for _ in range(steps):
            xa.requires_grad_(True)
            m = f(xa, y)
            (gr,) = torch.autograd.grad(m.sum(), xa)
            with torch.no_grad():
                xa = torch.minimum(torch.maximum(xa - (eps / 4) * gr.sign(), lo), hi)
                best = torch.minimum(best, f(xa, y))
    return best


@pytest.mark.parametrize("name", TINY)
def test_certified_points_survive_pgd(runs, name):
    model, meta = X.load_model_file(runs[name] / "model.npz")
    model = model.double()
    model.layer.solver_options.update(f_tol=1e-12, f_max_iter=5000, f_stop_mode="rel")
    cfg = X.validate_config(meta["config"])
    ds = load_dataset(cfg["data"]["dataset"], "test", **cfg["data"]["kwargs"]).subset(48)
    x = torch.from_numpy(ds.x).double()
    y = torch.from_numpy(ds.y).long()
    plan = prepare(model)
    eps = 0.05
    res = certify_batch(plan, x, y, Perturbation("inf", eps, (0.0, 1.0)))
    cert = res.certified
    assert int(cert.sum()) >= 5, f"{name}: too few certified points for a meaningful attack ({int(cert.sum())})"
    # the certified box contains z*(x) itself
    with torch.no_grad():
        z = model.layer(model._features(x))
    assert bool(((z >= res.z_lower - 1e-9) & (z <= res.z_upper + 1e-9))[cert].all())
    worst = _pgd(model, x[cert], y[cert], eps)
    assert bool((worst > 0).all()), f"{name}: PGD broke a certified point (min margin {float(worst.min())})"
    # non-vacuity: on the whole [0, 1] box the attack succeeds somewhere
    broken = _pgd(model, x[:16], y[:16], 1.0, steps=20, restarts=1)
    assert bool((broken < 0).any())


def test_smooth_eps_schedule_follows_wei2022_appB():
    """ε = 0 during the first (warm-up) epoch, then ε/ε_train = a s⁴ on the first quarter of the
    ramp and linear afterwards with a continuous slope (a = 256/13, slope b = 16/13): hand values
    1/13 at s = 1/4 and 5/13 at s = 1/2."""
    cfg = X.load_config("ibpmondeq_mnist")
    r = T.Ramp(**cfg["eps_schedule"])
    assert cfg["eps_schedule"]["shape"] == "smooth" and cfg["eps_schedule"]["start_epoch"] == 1
    e, L = cfg["eps_schedule"]["end_value"], cfg["eps_schedule"]["ramp_epochs"]
    assert e == 0.2                                               # wei2022 Table 3: eps_test 0.1 → eps_train 0.2
    assert r(0.0) == 0.0 and r(0.5) == 0.0 and r(1.0) == 0.0
    assert r(1 + L / 4) == pytest.approx(e / 13, rel=1e-12)
    assert r(1 + L / 2) == pytest.approx(5 * e / 13, rel=1e-12)
    assert r(1 + L / 8) == pytest.approx(e * (256 / 13) / 8 ** 4, rel=1e-12)
    assert r(1 + L) == pytest.approx(e) and r(1 + L + 3) == pytest.approx(e)
    h = 1e-6 * L
    left = (r(1 + L / 4) - r(1 + L / 4 - h)) / h
    right = (r(1 + L / 4 + h) - r(1 + L / 4)) / h
    assert left == pytest.approx(right, rel=1e-4) and left * L / e == pytest.approx(16 / 13, rel=1e-4)
    for t in np.linspace(0, 12, 97):                              # the framework Ramp = parametrize's schedule
        assert r(t) == pytest.approx(smooth_eps_schedule(t, 1.0, L, e), abs=1e-15)


def test_training_run_logs_the_schedule(runs):
    """The ε and κ recorded at every step of the tiny run are the configured ramps at epoch step/spe."""
    cfg = X.load_config("ibpmondeq_mnist_tiny")
    recs = [json.loads(s) for s in (runs["ibpmondeq_mnist_tiny"] / "metrics.jsonl").read_text().splitlines()]
    steps = [r for r in recs if r["kind"] == "step"]
    assert steps
    spe = 192 // 16
    re, rk = T.Ramp(**cfg["eps_schedule"]), T.Ramp(**cfg["kappa_schedule"])
    for s in steps:
        t = (s["step"] - 1) / spe
        assert s["eps"] == pytest.approx(re(t), abs=1e-15) and s["kappa"] == pytest.approx(rk(t), abs=1e-15)
    assert steps[0]["eps"] == 0.0 and steps[-1]["eps"] == pytest.approx(0.1)


def test_m_warmup_follows_wei2022_appB():
    """m_current = m + (0.99 − m)(1 − ε/ε_train): 0.99 at ε = 0, 0.545 at ε = ε_train/2, m at ε_train
    (m = 0.1, ε_train = 0.1); the current m is what the layer uses, is stored in the state dict, and
    a reloaded model reproduces it."""
    kw = dict(family="ibp_mondeq", width=6, pre_hidden=[5], m=0.1, m_warmup_eps_train=0.1, init="default")
    model = ML.LinfDEQClassifier((1, 3, 3), 3, **kw).double()
    x = torch.rand(4, 1, 3, 3, dtype=torch.float64)
    y = torch.tensor([0, 1, 2, 0])
    for eps, want in ((0.0, 0.99), (0.05, 0.545), (0.1, 0.1), (0.2, 0.1), (0.025, 0.7675)):
        Lo.ibp_elided_loss(model, x, y, T.LossContext(eps=eps, kappa=0.5))
        assert model.layer.m == pytest.approx(want, abs=1e-12)
        W = model.layer.weight().detach().numpy()
        lam = np.linalg.eigvalsh((np.abs(W) + np.abs(W).T) / 2).max()
        assert lam <= 1 - want + 1e-9                            # wei2022 (3.4): λ_max(sym|W|) ≤ 1 − m
    Lo.ibp_elided_loss(model, x, y, T.LossContext(eps=0.05, kappa=0.5))
    fresh = ML.LinfDEQClassifier((1, 3, 3), 3, **kw).double()
    fresh.load_state_dict(model.state_dict())
    with torch.no_grad():
        assert torch.allclose(fresh(x), model(x), atol=1e-10)
    assert fresh.layer.m == pytest.approx(0.545, abs=1e-12)
    with pytest.raises(ValueError):
        ML.LinfDEQClassifier((1, 3, 3), 3, family="nemon", m_warmup_eps_train=0.1)


def test_lifts_match_deqtheory():
    rng = np.random.default_rng(3)
    for _ in range(5):
        W = rng.standard_normal((7, 7))
        Wt = torch.from_numpy(W)
        assert np.array_equal(CB.ibp_lift_t(Wt).numpy(), dint.ibp_lift(W))
        assert np.array_equal(CB.metzler_lift_t(Wt).numpy(), dint.metzler_lift(W))


@pytest.mark.parametrize("family", ["ibp_mondeq", "cerdeq", "nemon"])
def test_training_boxes_contain_samples(family):
    """The float training bounds (interval_logits, folded margins) contain the outputs at random
    points of the box (float64, tight solves; tolerance 1e-7 for the solver error)."""
    torch.manual_seed(0)
    model = ML.LinfDEQClassifier((1, 4, 4), 3, family=family, width=6, pre_hidden=[] if family == "nemon" else [5],
                                 normalize={"mean": [0.5], "std": [0.3]}, init="default",
                                 solver={"f_tol": 1e-12, "f_max_iter": 5000},
                                 lift_solver={"f_tol": 1e-12, "f_max_iter": 5000}).double()
    x = torch.rand(3, 1, 4, 4, dtype=torch.float64)
    y = torch.tensor([0, 1, 2])
    eps = 0.1
    lo, hi = (x - eps).clamp(0, 1), (x + eps).clamp(0, 1)
    with torch.no_grad():
        ylo, yhi = model.interval_logits(lo, hi)
        m, _ = model.interval_margins(lo, hi, y)
        for _ in range(20):
            xs = lo + (hi - lo) * torch.rand_like(x)
            out = model(xs)
            assert bool((out >= ylo - 1e-7).all() and (out <= yhi + 1e-7).all())
            true_m = out[torch.arange(3), y][:, None] - out
            assert bool((true_m >= m - 1e-7).all())


@pytest.mark.theorem("jafarpour2022:eq11")
def test_inclusion_loss_is_eq11():
    """eq. 11: (1 − κ)·CE(f(x̂)) + κ·CE(−m̲) with m̲ of eq. 10 (κ weights the robust term)."""
    torch.manual_seed(1)
    model = ML.LinfDEQClassifier((1, 3, 3), 3, family="nemon", width=5, init="default").double()
    x = torch.rand(4, 1, 3, 3, dtype=torch.float64)
    y = torch.tensor([0, 1, 2, 1])
    ctx = T.LossContext(eps=0.05, kappa=0.75)
    loss, logits = Lo.inclusion_loss(model, x, y, ctx)
    m, _ = model.interval_margins((x - 0.05).clamp(0, 1), (x + 0.05).clamp(0, 1), y)
    want = 0.25 * torch.nn.functional.cross_entropy(logits, y) + 0.75 * torch.nn.functional.cross_entropy(-m, y)
    assert float(loss.detach()) == pytest.approx(float(want.detach()), rel=1e-10)
    # κ = 0 or ε = 0: the clean loss
    l0, lg = Lo.inclusion_loss(model, x, y, T.LossContext(eps=0.05, kappa=0.0))
    assert float(l0.detach()) == pytest.approx(float(torch.nn.functional.cross_entropy(lg, y).detach()), rel=1e-12)


@pytest.mark.theorem("li2022:sec3.6.loss")
def test_cerdeq_loss_is_sec36_objective():
    """li2022 §3.6: (L_c + λ_n L_n)/(1 + λ_n) + λ₀(1 − ε_now/ε)(L_t + L_r); λ vanishes at ε_now = ε."""
    torch.manual_seed(2)
    model = ML.LinfDEQClassifier((1, 3, 3), 3, family="cerdeq", width=5, pre_hidden=[4], init="ibp").double()
    x = torch.rand(6, 1, 3, 3, dtype=torch.float64)
    y = torch.tensor([0, 1, 2, 1, 0, 2])
    F = torch.nn.functional
    for eps_now in (0.05, 0.1):
        ctx = T.LossContext(eps=eps_now)
        loss, logits = Lo.cerdeq_loss(model, x, y, ctx, eps_target=0.1, lambda_n=0.25, lambda_0=0.75)
        m, bnd = model.interval_margins((x - eps_now).clamp(0, 1), (x + eps_now).clamp(0, 1), y)
        Lt, Lr = Lo.shi_regularizers(bnd)
        base = (F.cross_entropy(-m, y) + 0.25 * F.cross_entropy(logits, y)) / 1.25
        want = base + 0.75 * (1 - eps_now / 0.1) * (Lt + Lr)
        assert float(loss.detach()) == pytest.approx(float(want.detach()), rel=1e-10)
        assert float(Lt.detach()) >= 0 and float(Lr.detach()) >= 0


def test_deq_linf_certifies_non_monotone_nemon():
    """A NEMON whose W is not ℓ2-monotone (spread η) has no ℓ2 constant L_{x→z}. The plain ``deq``
    certifier used to void every clean certificate (its input-rounding term was L_z·(smallest
    subnormal) = inf even with no rounding); regression: with exact inputs it now agrees with
    ``deq_linf``, which supplies √n·Lip∞ (jafarpour2022 Thm 6.1). Certified points survive PGD and the
    correct points are the float argmax-correct ones."""
    torch.manual_seed(0)
    model = ML.LinfDEQClassifier((1, 4, 4), 3, family="nemon", width=10, init="default", seed=0,
                                 solver={"f_tol": 1e-12, "f_max_iter": 5000}).double()
    with torch.no_grad():
        model.layer.W_param.log_eta.copy_(torch.linspace(-3, 3, 10, dtype=torch.float64))
        model.layer.U.mul_(20.0)
    plan = prepare(model)
    assert plan.deq.l2()["L_z"] == math.inf and plan.deq.point()["mu"] < 1     # the premise
    x = torch.rand(40, 1, 4, 4, dtype=torch.float64)
    with torch.no_grad():
        y = model(x).argmax(1)                                   # labels = the model's own predictions
    eps = [0.0, 0.02]
    plain = X.get_certifier("deq")(model, x.numpy(), y.numpy(), norm="inf", eps=eps)
    fixed = X.get_certifier("deq_linf")(model, x.numpy(), y.numpy(), norm="inf", eps=eps)
    assert fixed.correct.all() and fixed.certified[:, 0].all()
    assert plain.correct.all() and (plain.certified == fixed.certified).all()
    c = torch.from_numpy(fixed.certified[:, 1])
    assert int(c.sum()) >= 3
    worst = _pgd(model, x[c], y[c], eps[1])
    assert bool((worst > 0).all())
