"""ℓ2 certified-training pipelines (havens2023 §4, Table 1): Lip-MonDEQ → LBEN and conv SLL → conv LBEN.

The CLI runs each tiny config end to end (run → convert → fine-tune → certify); converted models
equal their sources before fine-tuning; certified points survive PGD at their certified radius."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from deqtheory_train import cli
from deqtheory_train import data as D
from deqtheory_train import experiment as X

torch.set_num_threads(1)

EPS = [36 / 255, 72 / 255, 108 / 255, 1.0]


def _tiny(tmp, name, init_from=None):
    cfg = json.loads((X.CONFIG_DIR / f"{name}.json").read_text())
    if init_from is not None:
        cfg["model"]["kwargs"]["init_from"] = str(init_from)
    cfg["log"]["progress"] = False
    p = tmp / f"{name}.json"
    p.write_text(json.dumps(cfg))
    return p


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("l2")
    out = {}
    for src, dst in (("lipmondeq_mnist_tiny", "lben_from_lipmondeq_mnist_tiny"),
                     ("convsll_mnist_tiny", "convlben_from_sll_mnist_tiny")):
        assert cli.main(["run", str(_tiny(tmp, src)), "--out", str(tmp / src), "--no-progress"]) == 0
        assert cli.main(["run", str(_tiny(tmp, dst, tmp / src / "model.npz")), "--out", str(tmp / dst),
                         "--no-progress"]) == 0
        out[src], out[dst] = tmp / src, tmp / dst
    return out


def test_bundled_configs_and_builders_listed(capsys):
    assert cli.main(["list"]) == 0
    txt = capsys.readouterr().out
    for name in ("lipmondeq", "lben_from_lipmondeq", "convsll", "convlben_from_sll", "conv_l2", "deq"):
        assert name in txt
    for c in ("lipmondeq_mnist", "lben_from_lipmondeq_mnist", "convsll_mnist", "convlben_from_sll_mnist"):
        cfg = X.load_config(c)
        tiny = X.load_config(c + "_tiny")
        assert cfg["certify"]["eps"] == pytest.approx(EPS) and tiny["epochs"] == 1
        assert cfg["paper"] and cfg["paper"][0]["certified_accuracy"]
    # havens2023 Table 1, MNIST rows, as printed
    assert X.load_config("lben_from_lipmondeq_mnist")["paper"][0]["certified_accuracy"] == [0.927, 0.910, 0.886, 0.731]
    assert X.load_config("lipmondeq_mnist")["paper"][0]["certified_accuracy"] == [0.886, 0.858, 0.826, 0.634]


@pytest.mark.parametrize("name", ["lipmondeq_mnist_tiny", "lben_from_lipmondeq_mnist_tiny", "convsll_mnist_tiny",
                                  "convlben_from_sll_mnist_tiny"])
def test_cli_pipeline_end_to_end(runs, name, capsys):
    d = runs[name]
    for f in ("model.npz", "metrics.jsonl", "summary.json", "certify.json", "curves.png"):
        assert (d / f).exists(), f
    js = d / "cert_cli.json"
    assert cli.main(["certify", str(d / "model.npz"), "--norm", "2", "--eps", *map(str, EPS), "--json", str(js),
                     "--max-samples", "10"]) == 0
    out = capsys.readouterr().out
    assert "certified acc" in out
    res = json.loads(js.read_text())
    assert len(res["certified_accuracy"]) == 4 and res["n"] == 10
    acc = res["certified_accuracy"]
    assert all(a >= b for a, b in zip(acc, acc[1:])) and acc[0] <= res["clean_accuracy"]
    assert res["clean_accuracy"] > 0.2          # it learned something in 1 tiny epoch


def _logits64(model, x, tol=1e-13):
    model = model.double().eval()
    for mod in model.modules():
        if hasattr(mod, "solver_options"):
            mod.solver_options.update({"f_tol": tol, "f_max_iter": 5000, "f_stop_mode": "abs"})
    with torch.no_grad():
        return model(torch.as_tensor(x, dtype=torch.float64))


def test_converted_models_equal_sources_before_finetuning():
    from deqtheory_train import models as M
    x = D.load_dataset("mnist", "test").subset(16).x
    norm = {"mean": [0.1307], "std": [0.3081]}
    torch.manual_seed(1)
    src = M.build_lipmondeq((1, 28, 28), 10, width=24, normalize=norm, seed=3).double()
    lb = M.lben_from_lipmondeq_model(src)
    a, b = _logits64(src, x), _logits64(lb, x)
    assert float((a - b).abs().max()) <= 1e-9
    csrc = M.build_convsll((1, 28, 28), 10, channels=2, hidden=3, depth=2, normalize=norm, seed=2).double()
    clb = M.convlben_from_sll_model(csrc, f_solver="fb", alpha=1.0)   # W nilpotent: Picard is exact in depth + 1 steps
    a, b = _logits64(csrc, x), _logits64(clb, x)
    assert float((a - b).abs().max()) <= 1e-9
    # float32: the pipeline's dtype (conversion in float64, parameters rounded to float32)
    src32 = M.build_lipmondeq((1, 28, 28), 10, width=24, normalize=norm, seed=3).float().eval()
    lb32 = M.lben_from_lipmondeq_model(src32).eval()
    xt = torch.as_tensor(x)
    with torch.no_grad():
        for s, t in ((src32, lb32), (csrc.float().eval(), M.convlben_from_sll_model(csrc.float()).eval())):
            for mod in list(s.modules()) + list(t.modules()):
                if hasattr(mod, "solver_options"):
                    mod.solver_options.update({"f_tol": 1e-7, "f_max_iter": 2000})
            ya, yb = s(xt), t(xt)
            assert float((ya - yb).abs().max()) <= 1e-6 * max(1.0, float(ya.abs().max()))


def _pgd_violations(model, x, y, radius, steps=25, restarts=1, seed=0):
    """ℓ2 PGD on the float64 model inside the certified balls; number of label flips."""
    g = torch.Generator().manual_seed(seed)
    x = torch.as_tensor(x, dtype=torch.float64)
    y = torch.as_tensor(y)
    r = torch.as_tensor(radius, dtype=torch.float64).view(-1, 1, 1, 1)
    bad = 0
    for _ in range(restarts):
        d = torch.randn(x.shape, generator=g, dtype=torch.float64)
        d = d / d.flatten(1).norm(dim=1).view(-1, 1, 1, 1) * r * 0.5
        for _ in range(steps):
            d.requires_grad_(True)
            out = model(x + d)
            other = out.masked_fill(torch.nn.functional.one_hot(y, out.shape[1]).bool(), -math.inf).amax(1)
            loss = (other - out.gather(1, y[:, None])[:, 0]).sum()
            (gr,) = torch.autograd.grad(loss, d)
            with torch.no_grad():
                gn = gr.flatten(1).norm(dim=1).clamp_min(1e-30).view(-1, 1, 1, 1)
                d = d + 0.25 * r * gr / gn
                dn = d.flatten(1).norm(dim=1).view(-1, 1, 1, 1)
                d = d * torch.clamp(r / dn.clamp_min(1e-30), max=1.0)
        with torch.no_grad():
            bad += int((model(x + d).argmax(1) != y).sum())
    return bad


@pytest.mark.parametrize("name", ["lipmondeq_mnist_tiny", "lben_from_lipmondeq_mnist_tiny", "convsll_mnist_tiny",
                                  "convlben_from_sll_mnist_tiny"])
def test_certified_points_survive_pgd(runs, name):
    model, meta = X.load_model_file(runs[name] / "model.npz")
    te = D.load_dataset("mnist", "test").subset(8)
    res = X.get_certifier(model.default_certifier)(model, te.x, te.y, norm="2", eps=[0.05])
    model = model.double().train(False)
    for mod in model.modules():
        if hasattr(mod, "solver_options"):
            mod.solver_options.update({"f_tol": 1e-10, "f_max_iter": 3000})
    idx = np.flatnonzero(res.radius > 0)
    assert idx.size >= 1, "nothing certified: the PGD check would be vacuous"
    assert _pgd_violations(model, te.x[idx], te.y[idx], res.radius[idx]) == 0
    # not vacuous: far outside the certified radius the attack succeeds on some point
    assert _pgd_violations(model, te.x[idx], te.y[idx], 30 * res.radius[idx] + 3.0, steps=10) > 0


def test_lipschitz_margin_loss_uses_the_certifiers_pairwise_factor():
    """The lipschitz_margin loss raises wrong logits by ε·K_yj with K_yj the per-pair factor the `deq`
    certifier proves (‖g_y − g_j‖·L_{x→z}/σ) with L_{x→z} ≤ lip, so a batch whose shifted logits are
    classified right has clean margins ≥ ε·K — what certification at ε needs (up to the certifier's
    rounding allowances)."""
    from deqtheory_train import losses as Lo
    from deqtheory_train import models as Mo
    from deqtheory_train import train as T
    from deqtheory_train.certify import prepare

    torch.manual_seed(0)
    model = Mo.build_lipmondeq((1, 28, 28), 10, width=16, lip=1.0,
                               normalize={"mean": [0.1307], "std": [0.3081]}, f_tol=1e-9)
    model = model.double()
    x = torch.rand(6, 1, 28, 28, dtype=torch.float64)
    y = torch.arange(6) % 10
    eps = 0.3
    loss, logits = Lo.lipschitz_margin_loss(model, x, y, T.LossContext(norm="2"), eps=eps)
    K_cert = prepare(model).l2_factors(y)                   # (B, p), rigorous upper bounds
    G = model.deq.G.detach()
    K = torch.linalg.vector_norm(G[y][:, None, :] - G[None, :, :], dim=-1) / 0.3081
    off = ~torch.nn.functional.one_hot(y, 10).bool()
    ratio = K_cert[off].to(K.dtype) / K[off]
    # same per-pair structure (one common factor: the certifier proves L_{x→z} ≤ lip, sometimes tighter)
    assert float(ratio.max() - ratio.min()) < 1e-6 and 0.9 < float(ratio.min()) and float(ratio.max()) <= 1 + 1e-6
    shifted = logits.detach() + eps * K * off
    assert loss.item() == pytest.approx(torch.nn.functional.cross_entropy(shifted, y).item(), rel=1e-6)  # σ stored in float32
    # monotone in eps; eps = 0 is plain cross-entropy
    l0, _ = Lo.lipschitz_margin_loss(model, x, y, T.LossContext(norm="2"), eps=0.0)
    assert l0.item() == pytest.approx(torch.nn.functional.cross_entropy(logits.detach(), y).item(), rel=1e-12)
    assert loss.item() > l0.item()
    with pytest.raises(X.ConfigError):
        Lo.lipschitz_margin_loss(model, x, y, T.LossContext(norm="2"), eps=-1.0)
    # LBEN: the global √2·L/σ of Prop 2.2, never below what the certifier proves per pair
    lb = Mo.lben_from_lipmondeq_model(model)
    K_lb = Mo.margin_lipschitz_factors(lb, y)
    assert torch.allclose(K_lb, torch.full_like(K_lb, math.sqrt(2.0) * float(lb.deq.L) / 0.3081), rtol=1e-6)
    assert bool((prepare(lb).l2_factors(y)[off].to(K_lb.dtype) <= K_lb[off] * (1 + 1e-6)).all())


@pytest.mark.parametrize("chain", [("lipmondeq_margin_mnist_tiny", "lben_from_lipmondeq_margin_mnist_tiny"),
                                   ("convsll_margin_mnist_tiny", "convlben_from_sll_margin_mnist_tiny")])
def test_lipschitz_margin_configs_run_and_certify(tmp_path, chain):
    prev = None
    for name in chain:
        out = tmp_path / name
        cfg = _tiny(tmp_path, name, None if prev is None else prev / "model.npz")
        assert cli.main(["run", str(cfg), "--out", str(out), "--no-progress"]) == 0
        assert X.load_config(name[:-len("_tiny")])["loss"]["name"] == "lipschitz_margin"
        cert = json.loads((out / "certify.json").read_text())
        assert cert["eps"] == pytest.approx(EPS) and len(cert["certified_accuracy"]) == len(EPS)
        acc = cert["certified_accuracy"]
        assert all(0.0 <= a <= cert["clean_accuracy"] for a in acc) and acc == sorted(acc, reverse=True)
        prev = out


def test_conv_l2_certifies_a_converted_lben_like_its_source_with_the_exact_dag_solve():
    """Before fine-tuning, the conv LBEN (f_solver="dag": W nilpotent, one exact pass) computes the
    SLL's function and both are 1-Lipschitz: conv_l2 must certify the same radii up to the LBEN's
    fixed-point/rounding widening (tiny), and the certifier must have used the DAG solve."""
    from deqtheory_train import models as M
    norm = {"mean": [0.1307], "std": [0.3081]}
    te = D.load_dataset("mnist", "test").subset(32)
    torch.manual_seed(0)                                 # the linear head's default init
    csrc = M.build_convsll((1, 28, 28), 10, channels=2, hidden=3, depth=2, normalize=norm, seed=2).double()
    clb = M.convlben_from_sll_model(csrc, f_solver="dag")
    r_s = X.get_certifier("conv_l2")(csrc, te.x, te.y, norm="2", eps=[0.01])
    r_l = X.get_certifier("conv_l2")(clb, te.x, te.y, norm="2", eps=[0.01])
    assert np.array_equal(r_s.radius > 0, r_l.radius > 0)
    ok = r_s.radius > 0
    assert ok.any()
    # the LBEN's radii are smaller only by its widening allowances (fixed-point error, FFT rounding)
    assert np.all(r_l.radius[ok] <= r_s.radius[ok]) and np.all(r_s.radius[ok] - r_l.radius[ok] <= 1e-6)
    assert set(r_l.details["solver"]["statuses"]) == {"clean:converged"}
    assert r_l.details["solver"]["max_iterations"] == len(clb.body.blocks)
    from deqtheory_train.certify.conv_l2 import _ConvLBENCert
    assert _ConvLBENCert(clb.body).layer.solver_options["f_solver"] == "dag"
    # once W is no longer nilpotent the certifier falls back to PR instead of failing
    with torch.no_grad():
        clb.body.S[0, -1] += 1e-3
    assert _ConvLBENCert(clb.body).layer.solver_options["f_solver"] == "pr"


@pytest.mark.parametrize("kind", ["convsll", "convlben"])
def test_margin_factors_of_conv_models_match_conv_l2_radii(kind):
    """For conv classifiers the loss's K_yj (‖h_y − h_j‖·L_body/σ) reproduces conv_l2's certified
    radius min_j (f_y − f_j)/K_yj up to the certifier's rounding/fixed-point allowances."""
    from deqtheory_train import models as M
    norm = {"mean": [0.1307], "std": [0.3081]}
    te = D.load_dataset("mnist", "test").subset(32)
    torch.manual_seed(0)                                 # the linear head's default init
    model = M.build_convsll((1, 28, 28), 10, channels=2, hidden=3, depth=2, normalize=norm, seed=2).double()
    if kind == "convlben":
        model = M.convlben_from_sll_model(model, f_solver="dag")
    res = X.get_certifier("conv_l2")(model, te.x, te.y, norm="2", eps=[0.01])
    y = torch.as_tensor(te.y)
    with torch.no_grad():
        logits = model.eval()(torch.as_tensor(te.x, dtype=torch.float64))
        K = M.margin_lipschitz_factors(model, y)
    m = logits.gather(1, y[:, None]) - logits
    off = ~torch.nn.functional.one_hot(y, 10).bool()
    r = torch.where(off, m / K, torch.full_like(m, math.inf)).amin(1).numpy()
    ok = res.radius > 0
    assert ok.any()
    assert np.all(res.radius[ok] <= r[ok] * (1 + 1e-9)) and np.allclose(res.radius[ok], r[ok], rtol=1e-4)
