"""Benchmark (not CI): forward passes and certification cost of the torch DEQ layers (CPU).

(a) conv LBEN converted from a conv SLL stack (``ConvLBEN.from_sll``, eval mode, its default
    ``f_solver="dag"``: block forward substitution + the residual recomputed with the full W) vs the
    SLL stack itself: forward time at equal batch (same function, max deviation reported). Target: ≤ 3×.
    Also reported: the same LBEN solved by plain Picard steps (``f_solver="fb", alpha=1``, the
    generic iterative path) for comparison.
(b) iterations to relative residual 1e-6 for forward–backward (FB, α = m/L²), Peaceman–Rachford
    (PR, α = 1/L) and Anderson on dense MonDEQ / LBEN layers. Target: Anderson and PR ≤ ⅓ of FB.
(c) IBP fixed point (lifted 2n system) vs the plain fixed point on an IBP-MonDEQ layer, and the
    full certification time per batch (ℓ2 and ℓ∞).

Usage: OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/forward.py [--out benchmarks/results/forward.json]
"""
from __future__ import annotations

import argparse
import json
import platform
import time

import torch

from deqtheory_train.certify import Perturbation, certify_batch, prepare
from deqtheory_train.layers import ConvLBEN, IBPMonDEQLayer, LBENLayer, MonDEQLayer, SLLConv2d
from deqtheory_train.solvers import fixed_point

F64 = torch.float64


def _time(fn, reps=5):
    fn()
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def bench_conv(batch=32, N=16, c=4, hidden=8, depth=4):
    torch.manual_seed(0)
    layers = [SLLConv2d(c, hidden, 3, dtype=F64) for _ in range(depth)]
    x = torch.rand(batch, c, N, N, dtype=F64)

    def sll():
        h = x
        for l in layers:
            h = l(h)
        return h

    lben = ConvLBEN.from_sll(layers, N).eval()      # inference: operator blocks cached, default f_solver="dag"

    def deq():
        return lben.readout(lben(x))

    with torch.no_grad():       # best of 20: the batch-32 passes take ~10 ms, so noise matters
        t_sll = _time(sll, reps=20)
        t_lben = _time(deq, reps=20)
        dev = float((sll() - deq()).abs().max())
        st = lben.last_stats
        lben.solver_options = {**lben.solver_options, "f_solver": "fb", "alpha": 1.0}
        t_picard = _time(deq, reps=20)
        st_p = lben.last_stats
    return {"batch": batch, "N": N, "channels": c, "hidden": hidden, "depth": depth,
            "sll_forward_s": t_sll, "lben_forward_s": t_lben, "ratio": t_lben / t_sll, "max_abs_deviation": dev,
            "lben_solver": st.method, "lben_iterations": st.iterations, "lben_residual": st.residual,
            "lben_converged": st.converged, "picard_forward_s": t_picard, "picard_ratio": t_picard / t_sll,
            "picard_iterations": st_p.iterations, "target_ratio_max": 3.0}


def bench_iterations(n=100, d=50, batch=64, tol=1e-6):
    torch.manual_seed(0)
    out = {}
    for name, layer in (("mondeq", MonDEQLayer(d, n, 10, m=0.5, dtype=F64)),
                        ("lben", LBENLayer(d, n, 10, dtype=F64))):
        x = torch.randn(batch, d, dtype=F64)
        with torch.no_grad():
            W, v = layer.weight(), layer.injection(x)
        row = {}
        for meth in ("fb", "pr", "anderson"):
            t0 = time.perf_counter()
            z, st = fixed_point(W, v, f_solver=meth, f_tol=tol, f_stop_mode="rel", f_max_iter=20000)
            row[meth] = {"iterations": st.iterations, "status": st.status.value, "time_s": time.perf_counter() - t0,
                         "alpha": st.alpha}
        row["pr_over_fb"] = row["pr"]["iterations"] / max(row["fb"]["iterations"], 1)
        row["anderson_over_fb"] = row["anderson"]["iterations"] / max(row["fb"]["iterations"], 1)
        out[name] = row
    out["target_ratio_max"] = 1 / 3
    return out


def bench_ibp(n=100, d=50, batch=128, tol=1e-6):
    torch.manual_seed(0)
    layer = IBPMonDEQLayer(d, n, 10, m=0.3, dtype=F64)
    x = torch.randn(batch, d, dtype=F64)
    plan = prepare(layer, solver_options={"f_tol": tol, "f_stop_mode": "rel"})
    t0 = time.perf_counter()
    lf = plan.deq.lift("ibp")
    plan.deq.point()
    t_const = time.perf_counter() - t0
    with torch.no_grad():
        W, v = plan.deq.W, x @ plan.deq.U.T + plan.deq.b
        eps = 0.01
        vlo, vhi = v - eps * plan.deq.U.abs().sum(1), v + eps * plan.deq.U.abs().sum(1)
        vh = torch.cat([vhi, vlo], 1)
        res = {}
        for name, M, vv in (("plain", W, v), ("ibp_lift", lf.M, vh)):
            st = fixed_point(M, vv, f_solver="pr", f_tol=tol, f_stop_mode="rel")[1]
            res[name] = {"time_s": _time(lambda: fixed_point(M, vv, f_solver="pr", f_tol=tol, f_stop_mode="rel")),
                         "iterations": st.iterations, "status": st.status.value}
    y = layer.readout(layer(x)).argmax(1).detach()
    t2 = _time(lambda: certify_batch(plan, x, y, Perturbation("2", 0.05)), reps=3)
    ti = _time(lambda: certify_batch(plan, x, y, Perturbation("inf", 0.01)), reps=3)
    return {"n": n, "d": d, "batch": batch, **res, "ibp_over_plain_time": res["ibp_lift"]["time_s"] / res["plain"]["time_s"],
            "constants_s (once per model)": t_const, "certify_batch_l2_s": t2, "certify_batch_linf_s": ti}


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="benchmarks/results/forward.json")
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    res = {"machine": {"python": platform.python_version(), "torch": torch.__version__,
                       "cpu": platform.processor() or platform.machine(), "threads": a.threads},
           "conv_lben_vs_sll": [bench_conv(batch=b) for b in (32, 256)], "iterations_to_1e-6": bench_iterations(), "ibp_vs_plain": bench_ibp()}
    with open(a.out, "w", encoding="utf-8") as f:
        json.dump(res, f, indent=2, sort_keys=True)
        f.write("\n")
    print(json.dumps(res, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
