"""Cost of sound ℓ∞ certification against the plain float interval pass, and training step times of the
conv IBP-MonDEQ models → benchmarks/results/certify_linf.json.

    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/certify_linf.py [--threads 1 2] [--only deq3_cpu ...]

For each model (as built by the registry, float64, eval mode, seeded initial weights; MNIST test images
when the dataset is installed, otherwise uniform noise — the cost does not depend on the weights being
trained, only on the solver's iteration counts, which are reported):

* ``plan_s`` — :class:`~deqtheory_train.certify.conv_linf.ConvLinfPlan` construction (the proofs on the
  c × c abs-mass matrices) and ``setup_s`` — the lifted operator (per-frequency resolvents), both once
  per model;
* ``certify_s_per_image`` — :meth:`ConvLinfPlan.interval_margins` at ε = 0.1 (sound: outward-rounded
  boxes, residual recomputed by direct convolution, proved widening), after one warm-up batch;
* ``float_s_per_image`` — the model's own float interval pass ``model.interval_margins`` (what the
  training loss computes; no rounding, no widening) at its training lift tolerance, and
  ``float_same_tol_s_per_image`` at the certifier's tolerance; ``ratio`` = certify / float (the issue's
  target is ≤ 3 at the same thread count, same run);
* ``train_step_s`` — one ``ibp_elided`` optimizer step (float32, batch as in the configs) per thread count;
* the dense certifier (``deq_linf`` plan, IBP-MonDEQ width 1024) for comparison.
Peak RSS is recorded (memory must be O(batch × state): no n × n matrix is formed for conv models)."""
from __future__ import annotations

import argparse
import json
import pathlib
import platform
import resource
import sys
import time

import numpy as np
import torch

from deqtheory_train import registry as R
from deqtheory_train.certify import prepare
from deqtheory_train.certify.conv_linf import CONV_LINF_SOLVER, ConvLinfPlan
from deqtheory_train.certify.results import Perturbation
from deqtheory_train.losses import ibp_elided_loss
from deqtheory_train.train import LossContext

MODELS = {
    # name: (builder, kwargs, certification batch, training batch)
    "deq3_cpu": ("deq3_cpu_linf", {}, 64, 128),
    "deq3": ("deq3_linf", {}, 4, 16),
    "dense_n1024": ("ibp_mondeq_linf", {"width": 1024, "pre_hidden": [256]}, 64, 128),
}


def _images(B: int):
    try:
        from deqtheory_train import data as D
        ds = D.load_dataset("mnist", "test")
        return torch.as_tensor(ds.x[:B], dtype=torch.float64), torch.as_tensor(ds.y[:B]), "mnist test[:B]"
    except Exception as e:                               # noqa: BLE001 - the benchmark runs without data too
        g = torch.Generator().manual_seed(0)
        return (torch.rand(B, 1, 28, 28, generator=g, dtype=torch.float64), torch.randint(0, 10, (B,), generator=g),
                f"uniform noise ({type(e).__name__}: no MNIST)")


def _timed(f, reps: int = 1):
    t = time.perf_counter()
    for _ in range(reps):
        out = f()
    return (time.perf_counter() - t) / reps, out


def measure_certify(name: str, threads: int, eps: float = 0.1):
    builder, kw, B, _ = MODELS[name]
    torch.set_num_threads(threads)
    model = R.build_model(builder, (1, 28, 28), 10, **kw).double().eval()
    x, y, src = _images(B)
    pert = Perturbation("inf", eps, (0.0, 1.0))
    rec = {"model": name, "builder": builder, "kwargs": kw, "batch": B, "threads": threads, "inputs": src, "eps": eps}
    if name.startswith("dense"):
        plan_s, plan = _timed(lambda: prepare(model, interval="ibp"))
        setup_s, _ = _timed(lambda: plan.deq.lift("ibp"))
    else:
        plan_s, plan = _timed(lambda: ConvLinfPlan(model))
        setup_s, _ = _timed(lambda: plan.deqs[0].operator())
    rec.update(plan_s=plan_s, setup_s=setup_s)
    xs, ys = plan.inputs(x, y)
    with torch.no_grad():
        plan.interval_margins(xs, ys, pert)                       # warm-up
        cs, r = _timed(lambda: plan.interval_margins(xs, ys, pert))
        rec["certify_s_per_image"] = cs / B
        st = r["stats"]
        rec["certify_solver"] = {"status": st.status.value, "iterations": int(st.iterations), "tol": st.tol}
        lo, hi = (x - eps).clamp(min=0), (x + eps).clamp(max=1)
        base = model
        base.interval_margins(lo, hi, y)                           # warm-up
        fs, _ = _timed(lambda: base.interval_margins(lo, hi, y))
        rec["float_s_per_image"] = fs / B
        lift = base.layer.lift_options if hasattr(base.layer, "lift_options") else base.lift_solver
        old = dict(lift)
        lift.update(f_tol=CONV_LINF_SOLVER["f_tol"] if not name.startswith("dense") else plan.solver_options["f_tol"])
        fs2, _ = _timed(lambda: base.interval_margins(lo, hi, y))
        lift.clear()
        lift.update(old)
        rec["float_same_tol_s_per_image"] = fs2 / B
    rec["ratio"] = rec["certify_s_per_image"] / rec["float_s_per_image"]
    rec["ratio_same_tol"] = rec["certify_s_per_image"] / rec["float_same_tol_s_per_image"]
    rec["certify_images_per_s"] = 1.0 / rec["certify_s_per_image"]
    rec["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return rec


def measure_train(name: str, threads: int, steps: int):
    builder, kw, _, B = MODELS[name]
    torch.set_num_threads(threads)
    model = R.build_model(builder, (1, 28, 28), 10, **kw).train()
    x, y, src = _images(B)
    x = x.float()
    opt = torch.optim.Adam(model.parameters(), 1e-4)
    ctx = LossContext(eps=0.1, kappa=0.5)

    def step():
        loss, _ = ibp_elided_loss(model, x, y, ctx)
        opt.zero_grad()
        loss.backward()
        opt.step()

    step()                                                        # warm-up
    s, _ = _timed(step, steps)
    return {"model": name, "batch": B, "threads": threads, "steps": steps, "train_step_s": s,
            "train_images_per_s": B / s, "inputs": src}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--only", nargs="+", choices=list(MODELS), default=list(MODELS))
    ap.add_argument("--train-steps", type=int, default=3)
    ap.add_argument("--out", default="benchmarks/results/certify_linf.json")
    a = ap.parse_args(argv)
    out = {"command": "OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/certify_linf.py " + " ".join(sys.argv[1:]),
           "machine": {"platform": platform.platform(), "processor": platform.processor(),
                       "torch": torch.__version__},
           "date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()), "certify": [], "train": []}
    for name in a.only:
        for t in a.threads:
            rec = measure_certify(name, t)
            print(json.dumps(rec), flush=True)
            out["certify"].append(rec)
    for name in a.only:
        if name.startswith("dense"):
            continue
        for t in a.threads:
            rec = measure_train(name, t, 1 if name == "deq3" else a.train_steps)
            print(json.dumps(rec), flush=True)
            out["train"].append(rec)
    p = pathlib.Path(a.out)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(json.dumps(out, indent=1))
    print(f"wrote {p}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
