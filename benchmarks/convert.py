"""Benchmark (not CI): conv SLL → conv LBEN at the CIFAR-10 size of havens2023 §4.2.

Paper §4.2: "4 convolutional layers with circular padding and 2 dense layers ... The convolutional
and dense layers have 8 and 512 channels/features". We convert the 4 conv SLL layers on a 32×32
grid with c = 8 state channels, 3×3 kernels and k = 8 inner channels per layer (the paper does
not state an inner width; override with --inner). The DEQ state then has C = 8 + 4·8 = 40
channels, n = 40·32² = 40960 (a dense W would need 13 GB; the conv LBEN stores 1024 blocks of
40×40). Times: conversion (per-frequency M, ½(M+Mᵀ) square roots), the per-frequency verified
certificate of (4), and one forward evaluation (batch of 4) checked against the conv SLL.

Usage: OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/convert.py [--inner 8] [--out benchmarks/results/convert.json]
"""
from __future__ import annotations

import argparse
import json
import platform
import resource
import sys
import time
import tracemalloc

import numpy as np

from deqtheory import convert as cv
from deqtheory import explicit_conv as ec


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--N", type=int, default=32)
    ap.add_argument("--channels", type=int, default=8)
    ap.add_argument("--inner", type=int, default=8)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="benchmarks/results/convert.json")
    a = ap.parse_args(argv)
    rng = np.random.default_rng(a.seed)
    stack = ec.random_conv_sll_stack(rng, a.channels, [a.inner] * a.layers, a.N, s=3)
    tracemalloc.start()
    t0 = time.perf_counter()
    model = cv.conv_sll_to_lben(stack)
    t_conv = time.perf_counter() - t0
    t0 = time.perf_counter()
    cert, Lp = model.certificate()
    t_cert = time.perf_counter() - t0
    X = rng.normal(size=(4, a.channels, a.N, a.N))
    t0 = time.perf_counter()
    r = model.solve(X, method="dag", tol=1e-12)
    Y = model.output(r.z)
    t_eval = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    Yref = stack(X)
    rel = float(np.max(np.abs(Y - Yref)) / np.max(np.abs(Yref)))
    res = {
        "command": "OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/convert.py " + " ".join(argv or sys.argv[1:]),
        "grid": a.N, "state_channels": a.channels, "inner_channels": a.inner, "layers": a.layers, "kernel": 3,
        "C": model.C, "n": model.C * a.N * a.N,
        "convert_seconds": t_conv, "certificate_seconds": t_cert, "eval_seconds_batch4": t_eval,
        "total_seconds": t_conv + t_cert,
        "peak_traced_memory_GB": peak / 1e9,
        "max_rss_GB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6,
        "certificate": cert.status.value, "L_certified": Lp, "margin": cert.margin,
        "fixed_point_residual": r.residual, "status": r.status, "output_rel_err_vs_conv_sll": rel,
        "platform": platform.platform(), "numpy": np.__version__,
    }
    with open(a.out, "w") as fh:
        json.dump(res, fh, indent=2)
    print(json.dumps(res, indent=2))
    return 0 if (res["total_seconds"] < 30 and res["max_rss_GB"] < 4) else 1


if __name__ == "__main__":
    sys.exit(main())
