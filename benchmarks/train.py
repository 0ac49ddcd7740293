"""Training throughput of the certified-training configs (images/s, epoch times) → benchmarks/results/train.json.

    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/train.py [--steps 20] [--runs runs] [--only NAME ...]

For each config: ``steps`` timed optimizer steps at the config's batch size on one CPU thread
(after one warm-up step), on the model as built by the config (the converted models need their
source runs in ``runs/`` — their ``init_from``), plus the measured epoch wall times of the full runs
found in ``--runs`` (metrics.jsonl epoch records). Fine-tuned/converted ratio = LBEN images/s over
the source's."""
from __future__ import annotations

import argparse
import json
import pathlib
import platform
import time

import torch

from deqtheory_train import data as D
from deqtheory_train import experiment as X
from deqtheory_train import registry as R
from deqtheory_train import train as T

CONFIGS = [("lipmondeq_mnist", None), ("lben_from_lipmondeq_mnist", "lipmondeq_mnist"),
           ("lipmondeq_margin_mnist", None), ("lben_from_lipmondeq_margin_mnist", "lipmondeq_margin_mnist"),
           ("convsll_mnist", None), ("convlben_from_sll_mnist", "convsll_mnist"),
           ("convsll_margin_mnist", None), ("convlben_from_sll_margin_mnist", "convsll_margin_mnist"),
           ("convlben_dag_from_sll_margin_mnist", "convsll_margin_mnist"),
           ("ibpmondeq_mnist", None), ("cerdeq_mnist", None), ("nemon_mnist", None)]


def measure(cfg, steps: int):
    ds = D.load_dataset(cfg["data"]["dataset"], cfg["data"]["train_split"])
    model = X.build_model(cfg["model"]["builder"], ds.input_shape, ds.num_classes, **cfg["model"]["kwargs"])
    model.to(getattr(torch, cfg["dtype"])).train()
    opt = torch.optim.Adam(model.parameters(), cfg["optimizer"]["lr"], betas=tuple(cfg["optimizer"]["betas"]))
    lf = R.get_loss(cfg["loss"]["name"])
    B = cfg["data"]["batch_size"]
    # ℓ∞ configs: time the step at the end of the ε / κ ramps (the full certified-training cost)
    es, ks = cfg.get("eps_schedule") or {}, cfg.get("kappa_schedule") or {}
    ctx = T.LossContext(norm=cfg["norm"], eps=float(es.get("end_value", 0.0)), kappa=float(ks.get("end_value", 1.0)))
    times = []
    for i in range(steps + 1):
        xb = torch.from_numpy(ds.x[i * B:(i + 1) * B])
        yb = torch.from_numpy(ds.y[i * B:(i + 1) * B])
        t = time.perf_counter()
        T.train_step(model, opt, lf, cfg["loss"].get("kwargs", {}), xb, yb, ctx, grad_clip=cfg.get("grad_clip"))
        if i:
            times.append(time.perf_counter() - t)
    s = sorted(times)[len(times) // 2]
    return {"batch_size": B, "steps": steps, "median_step_s": s, "images_per_s": B / s,
            "est_epoch_s": s * (60000 // B)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--runs", default="runs")
    ap.add_argument("--out", default="benchmarks/results/train.json")
    ap.add_argument("--only", nargs="*", default=None, help="measure only these configs (and their sources)")
    a = ap.parse_args()
    torch.set_num_threads(1)
    res = {"machine": platform.platform(), "threads": 1, "torch": torch.__version__, "configs": {}}
    out = pathlib.Path(a.out)
    merged = json.loads(out.read_text())["configs"] if a.only is not None and out.exists() else {}
    for name, src in CONFIGS:
        if a.only is not None and name not in a.only and not any(src_ == name for n_, src_ in CONFIGS if n_ in a.only):
            continue
        cfg = X.load_config(name)
        if not (pathlib.Path(a.runs) / (src or name)).exists() and src is not None:
            print(name, "skipped: source run", src, "not in", a.runs)
            continue
        slow = "conv" in name and "lben" in name and "dag" not in name      # PR-solved conv LBEN: ~2.8 s/step
        steps = max(2, a.steps // 5) if slow else a.steps
        r = measure(cfg, steps)
        mp = pathlib.Path(a.runs) / name / "metrics.jsonl"
        if mp.exists():
            ep = [rec for rec in X.read_metrics(mp) if rec.get("kind") == "epoch"]
            wt = [rec["wall_time"] for rec in ep]
            r["run_epoch_wall_s"] = [b - a_ for a_, b in zip([0.0] + wt[:-1], wt)]
            r["run_train_size"] = cfg["data"].get("train_subset") or 60000
        if src and src in res["configs"]:
            r["ratio_step_time_vs_source"] = r["median_step_s"] / res["configs"][src]["median_step_s"]
        res["configs"][name] = r
        print(name, json.dumps(r))
    res["configs"] = {**merged, **res["configs"]}       # --only: update the other configs' records in place
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=2) + "\n")


if __name__ == "__main__":
    main()
