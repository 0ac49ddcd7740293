"""Certification split across ranks (issue 14 item 2): shards are the certifier's own batches, the merged
output is the one-process output (certified matrix, radii, witnesses, details), ranks that disagree on
model-level facts are refused, and ``torchrun --nproc_per_node 2 … certify`` (gloo, CPU) reports the
numbers and writes the witness file of one process."""
from __future__ import annotations

import copy
import functools
import json
import pathlib
import subprocess
import sys

import numpy as np
import pytest
import torch

from deqtheory_train import cli
from deqtheory_train.testing import subprocess_env
from deqtheory_train import data as D
from deqtheory_train import experiment as X
from deqtheory_train import registry as R
from deqtheory_train.experiment.sharding import (DEFAULT_CHUNK, ShardMismatchError, _canonical, certifier_batch_size,
                                                 merge_outputs, shard_indices)

torch.set_num_threads(1)
ROOT = pathlib.Path(__file__).resolve().parents[1]
SHAPE, CLASSES = (1, 6, 6), 3
NORM = {"mean": [0.5], "std": [0.3]}


# ----------------------------------------------------------------------------------------------
# which examples a rank certifies
# ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("n, chunk, world", [(0, 5, 2), (23, 5, 2), (23, 5, 3), (10, 5, 4), (7, 100, 2), (40, 4, 3)])
def test_shards_are_whole_batches_dealt_round_robin_and_cover_every_example_once(n, chunk, world):
    parts = [shard_indices(n, chunk, r, world) for r in range(world)]
    allidx = np.concatenate(parts) if parts else np.zeros(0)
    assert sorted(allidx.tolist()) == list(range(n))
    sizes = [len(p) for p in parts]
    assert max(sizes) - min(sizes) <= chunk                    # no rank waits for more than one batch
    for r, p in enumerate(parts):
        # the rank's own batches (cut every `chunk` of its list) are exactly global batches r, r + W, ...
        mine = [p[i:i + chunk].tolist() for i in range(0, len(p), chunk)]
        glob = [list(range(s, min(n, s + chunk))) for s in range(0, n, chunk)][r::world]
        assert mine == glob


def test_shard_indices_refuses_a_rank_outside_the_world():
    with pytest.raises(ValueError, match="rank"):
        shard_indices(10, 2, 2, 2)


def test_certifier_batch_size_reads_the_keyword_the_partial_and_the_signature():
    def f(model, x, y, *, norm, eps, batch_size=37):
        return None

    def g(model, x, y, *, norm, eps):
        return None

    assert certifier_batch_size(f, {}) == 37
    assert certifier_batch_size(f, {"batch_size": 4}) == 4
    assert certifier_batch_size(functools.partial(f, batch_size=9), {}) == 9
    assert certifier_batch_size(g, {}) == DEFAULT_CHUNK
    assert certifier_batch_size(R.get_certifier("deq_ibp"), {}) == 500
    with pytest.raises(ValueError, match="batch_size"):
        certifier_batch_size(f, {"batch_size": 0})


# ----------------------------------------------------------------------------------------------
# the merge is the one-process output
# ----------------------------------------------------------------------------------------------

def _model(builder, **kw):
    torch.manual_seed(0)
    return R.build_model(builder, SHAPE, CLASSES, normalize=NORM, **kw).to(torch.float32)


def _data(n):
    ds = D.load_dataset("synthetic", "test", n=n, shape=list(SHAPE), num_classes=CLASSES, noise=0.3)
    return ds.x, ds.y


CASES = {
    "deq_l2": ("lipmondeq", {"width": 8}, "deq", "2", [0.0, 0.05, 0.2]),
    "deq_linf": ("ibp_mondeq_linf", {"width": 8, "pre_hidden": [10], "init": "ibp"}, "deq_linf", "inf",
                 [0.0, 0.002, 0.01]),
    "conv_linf": ("deq3_linf", {"stem": [[4, 3, 1]], "channels": 4, "pool": 2, "init": "ibp"}, "conv_linf", "inf",
                  [0.0, 0.002, 0.01]),
}


def _shard_pieces(fn, model, x, y, world, chunk, **kw):
    pieces = []
    for r in range(world):
        idx = shard_indices(len(y), chunk, r, world)
        pieces.append({"index": idx, "output": fn(model, x[idx], y[idx], batch_size=chunk, **kw)} if len(idx) else None)
    return pieces


@pytest.mark.parametrize("world", [2, 3])
@pytest.mark.parametrize("case", list(CASES))
def test_merged_shards_equal_one_process_bit_for_bit(case, world):
    """Each rank certifies whole batches of the one-process batching, so the merged per-image results and
    witnesses are identical (not close: identical) to one process, the details agree, and solver counts add."""
    builder, kw, name, norm, eps = CASES[case]
    model, (x, y) = _model(builder, **kw), _data(17)
    fn = R.get_certifier(name)
    chunk = 4
    one = fn(model, x, y, norm=norm, eps=eps, batch_size=chunk, witness=True)
    merged = merge_outputs(_shard_pieces(fn, model, x, y, world, chunk, norm=norm, eps=eps, witness=True),
                           len(y), len(eps))
    assert one.certified[:, 0].sum() > 0                         # not an empty comparison
    assert np.array_equal(merged.correct, one.correct) and np.array_equal(merged.certified, one.certified)
    if one.radius is None:
        assert merged.radius is None
    else:
        assert np.array_equal(merged.radius, one.radius)
    assert merged.witness.keys() == one.witness.keys()
    for k in one.witness:
        assert np.array_equal(merged.witness[k], one.witness[k], equal_nan=True), k
    assert _canonical(merged.details) == _canonical(one.details)
    assert _canonical(merged.certificates) == _canonical(one.certificates) and merged.meta == one.meta


def test_ranks_that_proved_different_constants_or_overlap_are_refused():
    builder, kw, name, norm, eps = CASES["deq_l2"]
    model, (x, y) = _model(builder, **kw), _data(9)
    fn = R.get_certifier(name)
    pieces = _shard_pieces(fn, model, x, y, 2, 4, norm=norm, eps=eps)
    assert merge_outputs(pieces, 9, 3).certified.shape == (9, 3)
    bad = copy.deepcopy(pieces)
    bad[1]["output"].details["constants"] = {**bad[1]["output"].details["constants"], "tampered": 1.0}
    with pytest.raises(ShardMismatchError, match="constants"):
        merge_outputs(bad, 9, 3)
    twice = [pieces[0], pieces[0], pieces[1]]
    with pytest.raises(ShardMismatchError, match="exactly once"):
        merge_outputs(twice, 9, 3)
    with pytest.raises(ShardMismatchError, match="exactly once"):
        merge_outputs([pieces[0], None], 9, 3)


# ----------------------------------------------------------------------------------------------
# torchrun --nproc_per_node 2 (gloo, CPU)
# ----------------------------------------------------------------------------------------------

TINY_DEQ = {
    "name": "tiny_deq", "seed": 3, "epochs": 1, "norm": "2",
    "model": {"builder": "lipmondeq", "kwargs": {"width": 8, "normalize": NORM}},
    "data": {"dataset": "synthetic", "kwargs": {"n": 96, "shape": list(SHAPE), "num_classes": CLASSES, "noise": 0.4},
             "batch_size": 16, "eval_batch_size": 50},
    "optimizer": {"name": "adam", "lr": 0.01},
    "loss": {"name": "ce"},
    "checkpoint": {"every_steps": 0},
    "log": {"every_steps": 1, "progress": False, "plot_every_epochs": 0},
}


def _env():
    return subprocess_env(ROOT)


def test_torchrun_two_ranks_certify_what_one_process_certifies(tmp_path):
    """The acceptance check: ``torchrun --nproc_per_node 2 -m deqtheory_train.cli certify`` (each rank a
    shard of 5-example batches, rank 0 gathers) prints/writes the one-process numbers and a witness file
    with the one-process arrays, which ``deqtheory verify-certification`` re-checks."""
    from deqtheory.classifier_certificate import load_certification, recheck

    X.run_experiment(copy.deepcopy(TINY_DEQ), tmp_path / "run", progress=False)
    model = tmp_path / "run" / "model.npz"
    args = ["certify", str(model), "--certifier", "deq", "--norm", "2", "--eps", "0.02", "0.1", "--batch-size", "5",
            "--threads", "1"]
    assert cli.main(args + ["--json-out", str(tmp_path / "one.json"), "--witness", str(tmp_path / "one.npz")]) == 0
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "deqtheory_train.cli"] + args + ["--json-out", str(tmp_path / "two.json"),
                                                  "--witness", str(tmp_path / "two.npz")]
    done = subprocess.run(cmd, env=_env(), capture_output=True, timeout=240)
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    one = json.loads((tmp_path / "one.json").read_text())
    two = json.loads((tmp_path / "two.json").read_text())
    assert two["ranks"] == 2 and "ranks" not in one
    assert one["n"] == two["n"] > 10                             # several batches, so both ranks had work
    for k in ("certified_accuracy", "clean_accuracy", "median_certified_radius", "eps", "split", "data"):
        assert two[k] == one[k], k
    assert one["certified_accuracy"][0] > 0
    assert json.dumps(two["details"], sort_keys=True) == json.dumps(one["details"], sort_keys=True)
    c1, c2 = load_certification(tmp_path / "one.npz"), load_certification(tmp_path / "two.npz")
    for k in ("certified", "correct", "radius"):
        assert np.array_equal(getattr(c1, k), getattr(c2, k)), k
    for k in c1.witness:
        assert np.array_equal(c1.witness[k], c2.witness[k]), k
    rep = recheck(tmp_path / "two.npz")
    assert rep.ok, rep


def test_torchrun_a_certifier_that_refuses_stops_every_rank_with_one_line(tmp_path):
    """A certifier error on the ranks' shards reaches every rank (gathered before the results): each exits 2
    with the one-line error, none waits at the gather, no traceback."""
    X.run_experiment(copy.deepcopy(TINY_DEQ), tmp_path / "run", progress=False)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "deqtheory_train.cli", "certify", str(tmp_path / "run" / "model.npz"), "--certifier", "conv_linf",
           "--norm", "inf", "--eps", "0.01", "--batch-size", "5", "--threads", "1"]
    done = subprocess.run(cmd, env=_env(), capture_output=True, timeout=240)
    err = done.stderr.decode()
    assert done.returncode != 0
    # the one line names every rank that failed (both here: the model has no conv DEQ)
    assert "deqtheory-train certify: error: certifier conv_linf: rank 0: " in err, err[-3000:]
    assert "; rank 1: " in err, err[-3000:]
    # no traceback of ours (torchrun prints its own ChildFailedError summary)
    assert "deqtheory_train/" not in err and "SIGABRT" not in err, err[-3000:]
