"""benchmarks/gpu_check.sh (issue 14 item 5): its CPU-only dry run works end to end and writes a JSON of
the documented schema (docs/performance.md "GPU check"), and no dry run or CPU-only run can write the
committed GPU result benchmarks/results/gpu_check.json."""
from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import pytest
import torch

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
import gpu_bench as G  # noqa: E402

MODELS = ("lipmondeq", "convsll", "deq3", "convlben_dag")


def _env(**kw):
    env = dict(os.environ, PYTHON=sys.executable, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("GPU_CHECK_DRY_RUN", None)
    env.pop("GPU_CHECK_OUT", None)
    env.update(kw)
    return env


def _side(rec, side):
    assert rec[side]["images_per_s"] > 0 and rec[side]["images_per_s"] == pytest.approx(
        (rec[side]["batch_size"] / rec[side]["median_step_s"]) if "median_step_s" in rec[side]
        else rec[side]["images"] / rec[side]["seconds"])


def test_dry_run_of_the_script_writes_the_documented_json(tmp_path):
    out = tmp_path / "gpu_check.json"
    p = subprocess.run(["bash", str(ROOT / "benchmarks" / "gpu_check.sh"), "--dry-run", "--out", str(out)],
                       cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=170)
    assert p.returncode == 0, p.stdout + p.stderr
    res = json.loads(out.read_text())
    assert res["schema"] == G.SCHEMA and res["dry_run"] is True and res["device"]["type"] == "cpu"
    assert res["torch"] == torch.__version__ and "gpu_bench.py" in res["command"] and res["errors"] == []
    assert res["check_command"] == f"bash benchmarks/gpu_check.sh --dry-run --out {out}"
    assert res["targets"] is None                                 # a dry run claims nothing about a GPU
    t = res["tests"]
    assert t["returncode"] == 0 and t["passed"] >= 1 and t["failed"] == t["errors"] == 0
    assert t["tests"] == t["passed"] + t["skipped"] and "tests/test_devices.py tests/test_hotloop.py" in t["command"]
    assert t["cuda_cases"] >= 1 and t["cuda_skipped"] == (t["cuda_cases"] if not torch.cuda.is_available() else 0)
    assert set(res["models"]) == set(MODELS)
    for name, rec in res["models"].items():
        tr, ce = rec["train"], rec["certify"]
        _side(tr, "device"), _side(tr, "cpu")
        assert tr["device"]["steps"] >= 1 and tr["cpu"]["steps"] >= 1
        assert tr["ratio"] == pytest.approx(tr["device"]["images_per_s"] / tr["cpu"]["images_per_s"])
        _side(ce, "cpu")
        if ce["certifier"] in G.DEVICE_CERTIFIERS:
            _side(ce, "device")
            assert ce["ratio"] == pytest.approx(ce["device"]["images_per_s"] / ce["cpu"]["images_per_s"])
            assert ce["certified_agrees"] is True                # the same model, the same proofs
            assert len(ce["device"]["certified_accuracy"]) == len(ce["eps"])
        else:
            assert "CPU only" in ce["device"]["skipped"] and ce["ratio"] is None
    assert res["models"]["deq3"]["certify"]["certifier"] == "conv_linf"
    # every measured certifier runs on the device (conv_l2 included): each model has a device side
    assert all("skipped" not in rec["certify"]["device"] for rec in res["models"].values())
    assert {res["models"][m]["certify"]["certifier"] for m in ("convsll", "convlben_dag")} == {"conv_l2"}


def test_the_committed_json_is_never_written_by_a_dry_run_or_without_cuda(monkeypatch, tmp_path, capsys):
    before = G.COMMITTED.read_bytes() if G.COMMITTED.exists() else None
    assert G.main(["--dry-run", "--out", str(G.COMMITTED)]) == 2
    assert "dry run" in capsys.readouterr().err
    monkeypatch.setenv("GPU_CHECK_DRY_RUN", "1")                  # the environment switch is a dry run too
    assert G.main(["--out", str(G.COMMITTED)]) == 2
    monkeypatch.delenv("GPU_CHECK_DRY_RUN")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert G.main(["--out", str(tmp_path / "x.json")]) == 2     # no CUDA: no GPU result anywhere
    assert "no CUDA device" in capsys.readouterr().err and not (tmp_path / "x.json").exists()
    assert (G.COMMITTED.read_bytes() if G.COMMITTED.exists() else None) == before
    # the script itself refuses a non-dry run without CUDA before running anything
    p = subprocess.run(["bash", str(ROOT / "benchmarks" / "gpu_check.sh"), "--out", str(tmp_path / "y.json")],
                       env=_env(CUDA_VISIBLE_DEVICES=""), capture_output=True, text=True, timeout=60)
    assert p.returncode == 2 and "no CUDA device" in p.stderr and not (tmp_path / "y.json").exists()
