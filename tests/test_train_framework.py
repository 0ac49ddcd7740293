"""deqtheory_train experiment framework: configs, schedules, losses, pickle-free atomic
checkpoints, SIGKILL + --resume reproducibility, DDP (2 gloo processes) vs 1 process, plots, the
certify command and the soundness of the built-in MLP certifier (dense oracles)."""
from __future__ import annotations

import copy
import json
import math
import pathlib
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from deqtheory.intervals import Box, affine_box
from deqtheory_train import cli
from deqtheory_train.testing import subprocess_env
from deqtheory_train import data as D
from deqtheory_train import experiment as X
from deqtheory_train import losses as Lo
from deqtheory_train import registry as R
from deqtheory_train.certify import boxes as CB
from deqtheory_train import plots as P
from deqtheory_train import train as T

torch.set_num_threads(1)
ROOT = pathlib.Path(__file__).resolve().parents[1]

TINY = {
    "name": "tiny",
    "seed": 7,
    "epochs": 2,
    "model": {"builder": "mlp", "kwargs": {"hidden": [12], "normalize": {"mean": [0.5], "std": [0.3]}}},
    "data": {"dataset": "synthetic", "kwargs": {"n": 240, "shape": [1, 5, 5], "num_classes": 3, "noise": 0.6},
             "batch_size": 16, "eval_batch_size": 50},
    "optimizer": {"name": "adam", "lr": 0.02},
    "schedule": {"name": "triangular", "warmup_epochs": 0.5, "start_factor": 0.2},
    "grad_clip": 1.0,
    "loss": {"name": "ibp"},
    "eps_schedule": {"end_value": 0.05, "start_epoch": 0.5, "ramp_epochs": 1.0, "shape": "smooth"},
    "kappa_schedule": {"start_value": 1.0, "end_value": 0.5, "start_epoch": 0.5, "ramp_epochs": 1.0},
    "checkpoint": {"every_steps": 4},
    "log": {"every_steps": 1, "progress": False, "plot_every_epochs": 0},
}


def _env():
    return subprocess_env(ROOT)


def _records(path):
    return [{k: v for k, v in r.items() if k != "wall_time"} for r in X.read_metrics(path)]


def _weights(path):
    arrays, _ = X.load_checkpoint(path)
    return {k: v for k, v in arrays.items() if k.startswith("model/")}


# ----------------------------------------------------------------------------------------------
# Configs
# ----------------------------------------------------------------------------------------------

def test_bundled_configs_validate_and_name_registered_parts():
    b = X.bundled_configs()
    assert {"synthetic_mlp", "mlp_mnist", "mlp_mnist_ibp", "mlp_fashion_mnist"} <= set(b)
    for name, path in b.items():
        cfg = X.load_config(path)
        assert cfg["model"]["builder"] in X.available_models(), name
        assert cfg["data"]["dataset"] in D.available_datasets(), name
        assert cfg["loss"]["name"] in R.LOSSES, name


def test_config_validation_errors(tmp_path):
    with pytest.raises(X.ConfigError, match="optimizer.betaz: unknown key"):
        X.validate_config({**TINY, "optimizer": {"betaz": [0.9, 0.99]}})
    with pytest.raises(X.ConfigError, match="epochs"):
        X.validate_config({**TINY, "epochs": 0})
    with pytest.raises(X.ConfigError, match="schedule.name"):
        X.validate_config({**TINY, "schedule": {"name": "exp"}})
    with pytest.raises(X.ConfigError, match="unknown key"):
        X.validate_config({**TINY, "lr": 0.1})
    with pytest.raises(X.ConfigError, match="no such file"):
        X.load_config(tmp_path / "nope.json")


def test_config_names_and_keywords_are_checked_against_the_registry_at_load_time():
    """A misspelt builder / loss / certifier / dataset keyword is a ConfigError naming the key and the
    accepted ones (from the signatures), before anything is built; forwarded keywords are accepted."""
    def cfg(**over):
        c = copy.deepcopy(TINY)
        for path, v in over.items():
            sec, key = path.split("__")
            c.setdefault(sec, {})[key] = v
        return c
    with pytest.raises(X.ConfigError, match=r"model.kwargs: unknown key\(s\) \['hiden'\].*hidden"):
        X.validate_config(cfg(model__kwargs={"hiden": [4]}))
    with pytest.raises(X.ConfigError, match=r"loss.kwargs: unknown key\(s\) \['temprature'\].*temperature"):
        X.validate_config(cfg(loss__name="offset_ce", loss__kwargs={"temprature": 0.5}))
    with pytest.raises(X.ConfigError, match=r"certify.kwargs: unknown key\(s\) \['factr'\].*factor"):
        X.validate_config(cfg(certify__certifier="deq", certify__kwargs={"factr": "sqrt2"}))
    with pytest.raises(X.ConfigError, match=r"data.kwargs: unknown key\(s\) \['nn'\]"):
        X.validate_config(cfg(data__kwargs={"nn": 3}))
    with pytest.raises(X.ConfigError, match="model.builder: unknown 'mlpp'"):
        X.validate_config(cfg(model__builder="mlpp"))
    with pytest.raises(X.ConfigError, match="certify.certifier: unknown"):
        X.validate_config(cfg(certify__certifier="nope"))
    X.validate_config(cfg(certify__certifier="deq", certify__kwargs={"interval": "ibp", "batch_size": 7}))
    X.validate_config(cfg(model__builder="lipmondeq", model__kwargs={"width": 8, "f_tol": 1e-6}))
    with pytest.raises(X.ConfigError, match="f_tolerance"):
        X.validate_config(cfg(model__builder="lipmondeq", model__kwargs={"f_tolerance": 1e-6}))
    X.validate_config(cfg(model__builder="nemon_linf", model__kwargs={"width": 8}))
    with pytest.raises(X.ConfigError, match="family"):
        X.validate_config(cfg(model__builder="nemon_linf", model__kwargs={"family": "cerdeq"}))
    # free-form kwargs are passed through untouched; defaults are filled in
    c = X.validate_config(TINY)
    assert c["model"]["kwargs"]["hidden"] == [12] and c["optimizer"]["betas"] == [0.9, 0.999]


def test_toml_config(tmp_path):
    p = tmp_path / "c.toml"
    p.write_text('name = "t"\nepochs = 2\n[model]\nbuilder = "mlp"\n[data]\ndataset = "synthetic"\nbatch_size = 8\n')
    c = X.load_config(p)
    assert c["epochs"] == 2 and c["data"]["batch_size"] == 8 and c["loss"]["name"] == "ce"


# ----------------------------------------------------------------------------------------------
# Schedules and losses
# ----------------------------------------------------------------------------------------------

def test_smooth_ramp_is_c1_monotone_and_hits_target():
    r = T.Ramp(0.0, 0.3, start_epoch=1.0, ramp_epochs=8.0, shape="smooth")
    ts = np.linspace(0, 12, 4801)
    v = np.array([r(t) for t in ts])
    assert v[0] == 0 and r(1.0) == 0 and r(9.0) == pytest.approx(0.3) and r(12.0) == pytest.approx(0.3)
    assert np.all(np.diff(v) >= -1e-15)
    d = np.diff(v) / np.diff(ts)                                   # derivative continuous at the switch (t = 3)
    k = np.searchsorted(ts, 3.0)
    assert abs(d[k + 1] - d[k - 2]) < 1e-3
    # quartic phase: value at 1/4 of the ramp = a m^4 with a = 1/(m^4 + 4 m^3 (1-m)), m = 1/4
    m = 0.25
    assert r(3.0) == pytest.approx(0.3 * m ** 4 / (m ** 4 + 4 * m ** 3 * (1 - m)))
    lin = T.Ramp(1.0, 0.5, 10, 10, "linear")                       # jafarpour2022 §7 κ ramp
    assert lin(10) == 1.0 and lin(15) == pytest.approx(0.75) and lin(25) == 0.5


def test_lr_schedules():
    s = T.LRSchedule(5e-4, "step", steps_per_epoch=10, total_steps=3000, milestones=(120, 280), gamma=0.2)
    assert s(1199) == 5e-4 and s(1200) == pytest.approx(1e-4) and s(2800) == pytest.approx(2e-5)
    tri = T.LRSchedule(1.0, "triangular", steps_per_epoch=10, total_steps=100, warmup_epochs=2,
                       start_factor=0.1, end_factor=0.0)
    f = [tri(k) for k in range(100)]
    assert f[0] == pytest.approx(0.1) and max(f) == f[20] == 1.0 and f[99] == pytest.approx(1 / 80)
    assert np.all(np.diff(f[:21]) > 0) and np.all(np.diff(f[20:]) < 0)
    cos = T.LRSchedule(1.0, "cosine", steps_per_epoch=1, total_steps=10)
    assert cos(0) == 1.0 and cos(5) == pytest.approx(0.5) and cos(10) == pytest.approx(0.0, abs=1e-12)


def test_offset_cross_entropy_matches_formula(rng):
    """τ·CE((y − o·e_c)/τ, c) computed independently with numpy log-sum-exp."""
    logits = rng.standard_normal((6, 4))
    y = rng.integers(0, 4, 6)
    o, tau = math.sqrt(2), 0.25
    z = (logits - o * np.eye(4)[y]) / tau
    lse = np.log(np.exp(z - z.max(1, keepdims=True)).sum(1)) + z.max(1)
    expect = tau * np.mean(lse - z[np.arange(6), y])
    got = float(Lo.offset_cross_entropy(torch.tensor(logits), torch.tensor(y)))
    assert got == pytest.approx(expect, rel=1e-12)
    assert float(Lo.offset_cross_entropy(torch.tensor(logits), torch.tensor(y), 0.0, 1.0)) == pytest.approx(
        float(F.cross_entropy(torch.tensor(logits), torch.tensor(y))), rel=1e-12)


def test_ibp_loss_worst_case_logits_bound_sampled_points(rng):
    torch.manual_seed(0)
    m = X.MLP((1, 4, 4), 3, hidden=[10, 8], normalize={"mean": [0.4], "std": [0.2]}).double()
    x = torch.tensor(rng.random((5, 1, 4, 4)))
    y = torch.tensor(rng.integers(0, 3, 5))
    eps = 0.05
    lo, hi = m.interval_logits((x - eps).clamp(0, 1), (x + eps).clamp(0, 1))
    wc = Lo.worst_case_logits(lo, hi, y)
    for _ in range(200):
        xp = (x + eps * (2 * torch.rand_like(x) - 1)).clamp(0, 1)
        with torch.no_grad():
            out = m(xp)
        assert torch.all(out >= lo - 1e-9) and torch.all(out <= hi + 1e-9)
        marg_wc = wc.gather(1, y[:, None]) - wc
        marg = out.gather(1, y[:, None]) - out
        assert torch.all(marg_wc <= marg + 1e-9)
    loss, _ = Lo.ibp_loss(m, x, y, T.LossContext(eps=eps, kappa=0.5))
    clean = F.cross_entropy(m(x), y)
    assert float(loss.detach()) >= float(clean.detach()) - 1e-12                       # worst-case CE ≥ clean CE


def test_collect_solve_stats_protocol():
    class L(torch.nn.Module):
        def __init__(self, st):
            super().__init__()
            self.last_solve_stats = st

    m = torch.nn.Sequential(L({"iterations": 7, "residual": 1e-5}), L(type("S", (), {"forward_iterations": 12})()))
    assert T.collect_solve_stats(m) == {"fp_iters": 12.0, "fp_residual": 1e-5}

    class Info:                                     # DEQ layers: last_info.forward / .backward
        forward = {"iterations": 20, "residual": 3e-6}
        backward = {"iterations": 9}

    lay = torch.nn.Linear(2, 2)
    lay.last_info = Info()
    assert T.collect_solve_stats(torch.nn.Sequential(lay)) == {"fp_iters": 20.0, "fp_residual": 3e-6, "bw_iters": 9.0}
    assert T.collect_solve_stats(torch.nn.Linear(2, 2)) == {}


# ----------------------------------------------------------------------------------------------
# Checkpoints
# ----------------------------------------------------------------------------------------------

def test_checkpoint_round_trip_optimizer_state_and_atomicity(tmp_path):
    torch.manual_seed(0)
    m = torch.nn.Linear(3, 2)
    opt = torch.optim.Adam(m.parameters(), lr=1e-3, betas=(0.8, 0.9))
    for _ in range(3):
        opt.zero_grad()
        m(torch.randn(4, 3)).square().sum().backward()
        opt.step()
    arrays = {}
    tree = X.state_to_tree({"opt": opt.state_dict(), "t": (1, 2.5, None, "s", float("inf"))}, arrays, "o")
    X.save_checkpoint(tmp_path / "c.npz", arrays, {"tree": tree})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.npz"]             # no temp file left
    a2, meta = X.load_checkpoint(tmp_path / "c.npz")
    back = X.tree_to_state(meta["tree"], a2)
    assert back["t"] == (1, 2.5, None, "s", float("inf"))
    sd, sd2 = opt.state_dict(), back["opt"]
    assert sd2["param_groups"][0]["betas"] == (0.8, 0.9)
    for k, st in sd["state"].items():
        for name, v in st.items():
            assert torch.equal(v, sd2["state"][k][name]) and v.dtype == sd2["state"][k][name].dtype
    opt2 = torch.optim.Adam(torch.nn.Linear(3, 2).parameters())
    opt2.load_state_dict(sd2)


def test_checkpoint_refuses_pickles_and_garbage(tmp_path):
    p = tmp_path / "evil.npz"
    np.savez(p, __meta__=np.frombuffer(b"{}", dtype=np.uint8), x=np.array([object()], dtype=object))
    with pytest.raises(X.CheckpointError, match="without pickle"):
        X.load_checkpoint(p)
    (tmp_path / "junk.npz").write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(X.CheckpointError):
        X.load_checkpoint(tmp_path / "junk.npz")
    with pytest.raises(X.CheckpointError, match="no such"):
        X.load_checkpoint(tmp_path / "none.npz")
    with pytest.raises(X.CheckpointError, match="object arrays"):
        X.state_to_tree(np.array([None], dtype=object), {}, "x")


# ----------------------------------------------------------------------------------------------
# Kill / resume
# ----------------------------------------------------------------------------------------------

def test_sigkill_mid_epoch_then_resume_reproduces_uninterrupted_run(tmp_path):
    """A run SIGKILLed in epoch 2 (two steps after its last checkpoint, with metrics logged past
    it) and resumed with --resume ends with bitwise the same weights and the same metrics log as
    an uninterrupted run with the same seed."""
    cfg_path = tmp_path / "tiny.json"
    cfg_path.write_text(json.dumps(TINY))
    ref = X.run_experiment(TINY, tmp_path / "ref", progress=False)            # 15 steps/epoch, 30 total
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "deqtheory_train.cli", "run", str(cfg_path), "--out", str(out),
           "--no-progress", "--threads", "1"]
    env = _env()
    env[X.HANG_ENV] = "22"                                                    # checkpoint at 20, killed at 22
    errf = tmp_path / "stderr.txt"
    with open(errf, "wb") as err:
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=err)
        try:
            t0 = time.time()
            while not (out / "HANG").exists():
                assert proc.poll() is None, errf.read_text()
                assert time.time() - t0 < 90
                time.sleep(0.05)
            proc.send_signal(signal.SIGKILL)
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    _, meta = X.load_checkpoint(out / "checkpoint.npz")
    assert (meta["epoch"], meta["step_in_epoch"], meta["global_step"]) == (1, 5, 20)
    assert max(r["step"] for r in X.read_metrics(out / "metrics.jsonl")) == 22
    assert not (out / "model.npz").exists()
    done = subprocess.run(cmd + ["--resume"], env=_env(), capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode()
    summary = json.loads(done.stdout.decode().strip().splitlines()[-1])
    assert summary["test_acc"] == ref["test_acc"] and summary["test_loss"] == ref["test_loss"]
    assert _records(out / "metrics.jsonl") == _records(tmp_path / "ref" / "metrics.jsonl")
    w_ref, w = _weights(tmp_path / "ref" / "model.npz"), _weights(out / "model.npz")
    assert w.keys() == w_ref.keys() and all(np.array_equal(w[k], w_ref[k]) for k in w)
    # a second --resume of a finished run is a no-op that reports the same metrics
    again = X.run_experiment(TINY, out, resume=True, progress=False)
    assert again["test_acc"] == ref["test_acc"] and again["global_step"] == 30


def test_existing_checkpoint_needs_resume_and_same_config(tmp_path):
    cfg = copy.deepcopy(TINY)
    s = X.run_experiment(cfg, tmp_path / "r", max_steps=5, progress=False)
    assert s["status"] == "stopped" and s["global_step"] == 5
    with pytest.raises(X.CheckpointError, match="--resume"):
        X.run_experiment(cfg, tmp_path / "r", progress=False)
    cfg2 = copy.deepcopy(cfg)
    cfg2["optimizer"]["lr"] = 0.5
    with pytest.raises(X.CheckpointError, match="different config"):
        X.run_experiment(cfg2, tmp_path / "r", resume=True, progress=False)
    s = X.run_experiment(cfg, tmp_path / "r", resume=True, epochs=1, progress=False)
    assert s["status"] == "finished" and s["global_step"] == 15


# ----------------------------------------------------------------------------------------------
# DDP
# ----------------------------------------------------------------------------------------------

def test_ddp_two_gloo_processes_match_one_process(tmp_path):
    """torchrun --nproc_per_node 2 (gloo, CPU): global batch 16 split 8 + 8, per-rank mean loss,
    DDP gradient averaging ⇒ the same run as one process up to summation order."""
    cfg = copy.deepcopy(TINY)
    cfg["loss"] = {"name": "offset_ce"}
    cfg["checkpoint"] = {"every_steps": 0}
    cfg["certify"] = {"norm": "2", "eps": [0.02, 0.05], "at_end": True}
    (tmp_path / "c.json").write_text(json.dumps(cfg))
    one = X.run_experiment(cfg, tmp_path / "one", progress=False)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "deqtheory_train.cli", "run", str(tmp_path / "c.json"), "--out", str(tmp_path / "two"),
           "--no-progress", "--threads", "1"]
    done = subprocess.run(cmd, env=_env(), capture_output=True, timeout=180)
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    two = json.loads((tmp_path / "two" / "summary.json").read_text())
    assert two["world_size"] == 2 and one["world_size"] == 1
    assert two["global_step"] == one["global_step"] == 30
    assert two["test_acc"] == pytest.approx(one["test_acc"], abs=1e-12)
    assert two["test_loss"] == pytest.approx(one["test_loss"], rel=1e-5)
    r1 = [r for r in X.read_metrics(tmp_path / "one" / "metrics.jsonl") if r["kind"] == "step"]
    r2 = [r for r in X.read_metrics(tmp_path / "two" / "metrics.jsonl") if r["kind"] == "step"]
    assert len(r1) == len(r2) == 30
    assert all(a["loss"] == pytest.approx(b["loss"], rel=1e-5, abs=1e-6) for a, b in zip(r1, r2))
    w1, w2 = _weights(tmp_path / "one" / "model.npz"), _weights(tmp_path / "two" / "model.npz")
    assert all(np.allclose(w1[k], w2[k], rtol=1e-4, atol=1e-5) for k in w1)
    c2 = json.loads((tmp_path / "two" / "certify.json").read_text())
    assert c2["n"] == 240 and len(c2["certified_accuracy"]) == 2
    assert c2["ranks"] == 2          # both ranks certified a shard (tests/test_shard_certify.py: same numbers)


def test_ddp_checkpoint_keeps_every_rank_rng_and_a_blind_rank_stops_all(tmp_path):
    """Multi-node safety (issue 14 item 4): a DDP checkpoint holds each rank's RNG state, and a resume
    where one rank cannot see checkpoint.npz fails on every rank with one clear error instead of that
    rank starting at step 0 (which hangs the job); a resume where all ranks see it continues."""
    cfg = copy.deepcopy(TINY)
    cfg["loss"] = {"name": "offset_ce"}
    cfg["checkpoint"] = {"every_steps": 0}
    (tmp_path / "c.json").write_text(json.dumps(cfg))
    out = tmp_path / "two"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "deqtheory_train.cli", "run", str(tmp_path / "c.json"), "--out", str(out),
           "--no-progress", "--threads", "1"]
    done = subprocess.run(cmd + ["--max-steps", "5"], env=_env(), capture_output=True, timeout=180)
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    arrays, meta = X.load_checkpoint(out / "checkpoint.npz")
    assert meta["global_step"] == 5 and meta["world_size"] == 2
    assert set(meta["rng_ranks"]) == {"1"}
    assert {"rng/torch", "rng/numpy_keys", "rng/rank1/torch", "rng/rank1/numpy_keys"} <= set(arrays)
    env = _env()
    env[X.HIDE_ENV] = "1"
    blind = subprocess.run(cmd + ["--resume"], env=env, capture_output=True, timeout=180)
    err = blind.stderr.decode()
    assert blind.returncode != 0
    # each rank printed the one-line error and exited 2 — or was SIGTERMed by torchrun after it printed,
    # when the other rank's exit came first; never an abort (torchrun adds its own summary, not ours)
    assert err.count("rank(s) [1] of 2 cannot see") == 2 and err.count("exitcode  : 2") >= 1, err[-3000:]
    assert "SIGABRT" not in err and "terminate called" not in err, err[-3000:]
    assert "deqtheory_train/experiment" not in err, err[-3000:]
    assert X.load_checkpoint(out / "checkpoint.npz")[1]["global_step"] == 5     # nothing was overwritten
    done = subprocess.run(cmd + ["--resume"], env=_env(), capture_output=True, timeout=180)
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    assert json.loads((out / "summary.json").read_text())["global_step"] == 30


def test_resume_restores_rank_rng_and_warns_on_another_world_size(tmp_path):
    """Rank r > 0 restores its own saved state; a checkpoint without one (another world size) falls back
    to rank 0's state with a warning."""
    from deqtheory_train.experiment import run as RM
    from deqtheory_train.experiment.checkpoint import rng_state
    arrays = {}
    torch.manual_seed(1)
    m0 = rng_state(arrays, "rng")
    torch.manual_seed(2)
    m1 = rng_state(arrays, "rng/rank1")
    meta = {"rng": m0, "rng_ranks": {"1": m1}, "world_size": 2}
    torch.manual_seed(3)
    RM._restore_rng(meta, arrays, T.DistInfo(rank=1, world_size=2), "ck")
    assert torch.equal(torch.get_rng_state(), torch.from_numpy(arrays["rng/rank1/torch"]))
    with pytest.warns(RuntimeWarning, match="no RNG state saved for rank 2"):
        RM._restore_rng(meta, arrays, T.DistInfo(rank=2, world_size=3), "ck")
    assert torch.equal(torch.get_rng_state(), torch.from_numpy(arrays["rng/torch"]))


# ----------------------------------------------------------------------------------------------
# Plots and CLI
# ----------------------------------------------------------------------------------------------

def test_plots_are_written(tmp_path):
    recs = [{"kind": "step", "step": s, "epoch": s / 4, "loss": 1 / (s + 1), "acc": 0.5, "lr": 1e-3, "eps": 0.01 * s}
            for s in range(1, 9)]
    recs += [{"kind": "epoch", "epoch": e, "step": 4 * e, "train_loss": 1 / e, "train_acc": 0.5 + 0.1 * e,
              "test_loss": 1.1 / e, "test_acc": 0.5, "lr": 1e-3, "eps": 0.0} for e in (1, 2)]
    p1 = P.plot_training_curves(recs, tmp_path / "curves.png", title="t")
    table = {"eps": [0.1, 0.2], "certified_accuracy": [0.8, 0.5], "clean_accuracy": 0.9, "norm": "2", "certifier": "mlp"}
    p2 = P.plot_certified_accuracy(table, tmp_path / "sub" / "cert.png",
                                   paper=[{"label": "paper", "eps": [0.1], "certified_accuracy": [0.7]}])
    for p in (p1, p2):
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and p.stat().st_size > 2000


def test_cli_run_and_certify(tmp_path, capsys):
    cfg = copy.deepcopy(TINY)
    cfg["epochs"] = 1
    cfg["log"]["plot_every_epochs"] = 1
    (tmp_path / "c.json").write_text(json.dumps(cfg))
    assert cli.main(["run", str(tmp_path / "c.json"), "--out", str(tmp_path / "r"), "--no-progress"]) == 0
    for f in ("checkpoint.npz", "model.npz", "metrics.jsonl", "config.json", "curves.png", "summary.json"):
        assert (tmp_path / "r" / f).is_file(), f
    capsys.readouterr()
    js = tmp_path / "cert.json"
    assert cli.main(["certify", str(tmp_path / "r" / "model.npz"), "--norm", "inf", "--eps", "0", "0.01", "0.3",
                     "--json", str(js), "--plot", str(tmp_path / "cert.png")]) == 0
    table = capsys.readouterr().out
    assert "certified acc" in table and "linf" in table
    res = json.loads(js.read_text())
    acc = res["certified_accuracy"]
    assert res["n"] == 240 and acc[0] == pytest.approx(res["clean_accuracy"]) and acc[0] >= acc[1] >= acc[2]
    assert (tmp_path / "cert.png").is_file()
    assert cli.main(["certify", str(tmp_path / "nope.npz"), "--norm", "2", "--eps", "0.1"]) == 2
    # --device: the CPU gives the same table; a device this torch cannot use is a one-line error (exit 2);
    # a certifier without a device rounding model refuses any other device
    js2 = tmp_path / "cert2.json"
    assert cli.main(["certify", str(tmp_path / "r" / "model.npz"), "--norm", "inf", "--eps", "0", "0.01", "0.3",
                     "--json", str(js2), "--device", "cpu"]) == 0
    res2 = json.loads(js2.read_text())
    assert res2["certified_accuracy"] == acc and res2["device"] == "cpu"
    capsys.readouterr()
    for bad in ("cuda:99", "nonsense"):
        assert cli.main(["certify", str(tmp_path / "r" / "model.npz"), "--eps", "0.1", "--device", bad]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and f"--device {bad}" in err
    model, _ = X.load_model_file(tmp_path / "r" / "model.npz")
    ds = D.load_dataset("synthetic", "test", **cfg["data"]["kwargs"])
    with pytest.raises(ValueError, match="runs on the CPU only"):
        X.certify_model(model, ds, certifier="mlp", norm="inf", eps=[0.1], device="meta")
    assert cli.main(["list"]) == 0 and "mlp" in capsys.readouterr().out


def test_console_script_is_declared():
    import tomllib
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert meta["project"]["scripts"]["deqtheory-train"] == "deqtheory_train.cli:main"
    assert any(r.startswith("tqdm") for r in meta["project"]["optional-dependencies"]["train"])


# ----------------------------------------------------------------------------------------------
# Built-in MLP certifier: soundness against dense oracles
# ----------------------------------------------------------------------------------------------

def _mlp(seed=0):
    torch.manual_seed(seed)
    return X.MLP((1, 4, 4), 4, hidden=[9, 7], normalize={"mean": [0.45], "std": [0.27]})


def _np_forward(m, x):
    """Float64 numpy forward pass (the oracle for margins)."""
    mean, std = m.norm.affine()
    h = ((x.reshape(len(x), -1) - mean[0]) / std[0])
    layers = m.float64_layers()
    for W, b in layers[:-1]:
        h = np.maximum(h @ W.T + b, 0)
    W, b = layers[-1]
    return h @ W.T + b


def test_batched_affine_boxes_contain_exact_image_and_match_library(rng):
    """Exact rational oracle: the batched box contains the exact tightest box of Wx + b; it agrees
    with deqtheory.intervals.affine_box to rounding level."""
    from fractions import Fraction as Fr
    W = rng.standard_normal((5, 6))
    b = rng.standard_normal(5)
    lo = rng.standard_normal((4, 6))
    hi = lo + rng.random((4, 6))
    blo, bhi = (t.numpy() for t in CB.affine_box(*(torch.from_numpy(a) for a in (W, b, lo, hi))))
    for i in range(4):
        for r in range(5):
            ex_lo = sum(Fr(W[r, k]) * Fr(lo[i, k] if W[r, k] > 0 else hi[i, k]) for k in range(6)) + Fr(b[r])
            ex_hi = sum(Fr(W[r, k]) * Fr(hi[i, k] if W[r, k] > 0 else lo[i, k]) for k in range(6)) + Fr(b[r])
            assert Fr(blo[i, r]) <= ex_lo and ex_hi <= Fr(bhi[i, r])
        ref = affine_box(W, b, Box(lo[i], hi[i]))
        assert np.allclose(blo[i], ref.lower, rtol=1e-12, atol=1e-12)
        assert np.allclose(bhi[i], ref.upper, rtol=1e-12, atol=1e-12)


def test_mlp_l2_certificates_are_sound(rng):
    """Lipschitz bound ≥ every local Jacobian norm; certified radius r: margins stay positive at
    points sampled on the sphere of radius 0.999 r (and along the gradient of the worst margin)."""
    m = _mlp(1).double()
    x = rng.random((40, 1, 4, 4))
    with torch.no_grad():
        y = m(torch.tensor(x)).argmax(1).numpy()
    y[:5] = (y[:5] + 1) % 4                                          # some misclassified samples
    L, K = X.mlp_lipschitz_bounds(m)
    for i in range(10):
        J = torch.autograd.functional.jacobian(m, torch.tensor(x[i:i + 1])).reshape(4, 16).numpy()
        assert np.linalg.norm(J, 2) <= L
        for c in range(4):
            for j in range(4):
                assert np.linalg.norm(J[c] - J[j]) <= K[c, j] * (1 + 1e-12) + 1e-15
    out = X.certify_mlp(m, x, y, norm="2", eps=[0.0, 0.01, 0.05, 0.2])
    f = _np_forward(m, x)
    true_correct = f.argmax(1) == y
    assert np.all(~out.correct[:5]) and np.all(out.correct <= true_correct)
    assert np.all(out.certified <= out.correct[:, None])
    assert np.all(out.certified[:, 1:] <= out.certified[:, :-1])    # monotone in ε
    assert np.sum(out.radius > 0) >= 10 and out.certified[:, 1].any()
    for i in np.flatnonzero(out.radius > 0):
        r = 0.999 * out.radius[i]
        d = rng.standard_normal((200, 16))
        d = d / np.linalg.norm(d, axis=1, keepdims=True) * r
        fp = _np_forward(m, x[i].reshape(1, -1) + d)
        assert np.all(fp.argmax(1) == y[i])
        for k, e in enumerate([0.0, 0.01, 0.05, 0.2]):
            assert out.certified[i, k] == (e < out.radius[i]) or abs(e - out.radius[i]) < 1e-9 * max(1, e)


def test_mlp_linf_certificates_are_sound(rng):
    """A certified sample keeps its label at all 2^k-vertex-like random points of the clipped box."""
    m = _mlp(2)
    x = rng.random((30, 1, 4, 4)).astype(np.float32)
    with torch.no_grad():
        y = m(torch.tensor(x)).argmax(1).numpy()
    eps = [0.0, 0.005, 0.02, 0.1]
    out = X.certify_mlp(m, x, y, norm="inf", eps=eps)
    assert out.radius is None and np.all(out.certified[:, 0] == out.correct)
    assert np.all(out.certified[:, 1:] <= out.certified[:, :-1])
    assert out.certified[:, 1].any()
    for i, k in zip(*np.nonzero(out.certified)):
        e = eps[k]
        pts = x[i].reshape(1, -1) + e * rng.choice([-1.0, 1.0], size=(300, 16))
        pts = np.clip(pts, 0, 1)
        assert np.all(_np_forward(m, pts).argmax(1) == y[i])
    # a wrong label is never certified
    bad = X.certify_mlp(m, x, (y + 1) % 4, norm="inf", eps=eps)
    assert not bad.certified.any() and not bad.correct.any()
