"""Benchmark of deqtheory.sdp (NOT run in CI).

Times the minimal-L SDP of havens2023 (10) (``min_lipschitz``) per backend and size n, the
certificate verification, and the symmetry-reduced convolutional SDP; each case runs in its own
subprocess (peak RSS from ``resource.getrusage``; a wall-clock limit per case).

Usage::

    .venv/bin/python benchmarks/sdp.py                       # default grid, writes benchmarks/results/sdp.{json,png}
    .venv/bin/python benchmarks/sdp.py --quick               # small grid (smoke test)
    OPENBLAS_NUM_THREADS=2 taskset -c 0,1 .venv/bin/python benchmarks/sdp.py   # the "2 cores" setting

Problem: G-MonDEQ weight (havens2023 eq. 6, m = 0.3, log Φ ~ U(−1.5, 1.5)), U (n, n/4), G (10, n),
Gaussian entries / √n, seed 0. Reported L is the *verified* L of the certificate.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_LIMITS = {"structured": 1024, "cvxopt": 256, "clarabel": 64, "scs": 64}


def make_problem(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, n)) / np.sqrt(n)
    B = rng.standard_normal((n, n)) / np.sqrt(n)
    phi = np.exp(rng.uniform(-1.5, 1.5, n))
    W = np.eye(n) - phi[:, None] * (A.T @ A + B.T - B + 0.3 * np.eye(n))
    d = max(2, n // 4)
    U = rng.standard_normal((n, d)) / np.sqrt(n)
    G = rng.standard_normal((10, n)) / np.sqrt(n)
    return W, U, G


def run_single(kind: str, backend: str, n: int) -> dict:
    from deqtheory.sdp import min_lipschitz
    out = {"kind": kind, "backend": backend, "n": n}
    if kind == "dense":
        W, U, G = make_problem(n)
        t0 = time.perf_counter()
        c = min_lipschitz(W, U, G, backend=backend)
        out["time"] = time.perf_counter() - t0
        t1 = time.perf_counter()
        v = c.verify(W=W, U=U, G=G)
        out["verify_time"] = time.perf_counter() - t1
        out.update({"status": c.status.value, "verified": v.certified, "L": c.witness.get("L"),
                    "L_solver": c.stats.get("L_solver"), "iterations": c.stats.get("iterations"),
                    "solver_time": c.stats.get("time")})
    else:  # conv: n is the grid size N, c = 4 channels, 3x3 kernels
        from deqtheory.circulant import conv_matrix
        from deqtheory.sdp.conv import conv_min_lipschitz
        rng = np.random.default_rng(0)
        c_, k = 4, 3
        KW = 0.1 * rng.standard_normal((c_, c_, k, k))
        KU = rng.standard_normal((c_, 1, k, k))
        KG = rng.standard_normal((2, c_, k, k))
        t0 = time.perf_counter()
        if backend == "reduced":
            c = conv_min_lipschitz(KW, KU, KG, n)
        else:
            c = min_lipschitz(conv_matrix(KW, n), conv_matrix(KU, n), conv_matrix(KG, n), backend=backend)
        out["time"] = time.perf_counter() - t0
        out.update({"status": c.status.value, "L": c.witness.get("L"), "dense_n": c_ * n * n})
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    return out


def run_case(kind, backend, n, timeout):
    cmd = [sys.executable, str(Path(__file__).resolve()), "--single", kind, backend, str(n)]
    t0 = time.perf_counter()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return {"kind": kind, "backend": backend, "n": n, "status": "timeout", "time": time.perf_counter() - t0}
    if p.returncode != 0:
        return {"kind": kind, "backend": backend, "n": n, "status": "crash", "stderr": p.stderr[-2000:]}
    return json.loads(p.stdout.strip().splitlines()[-1])


def plot(results, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for be in sorted({r["backend"] for r in results if r["kind"] == "dense"}):
        rs = sorted([r for r in results if r["kind"] == "dense" and r["backend"] == be and "peak_rss_mb" in r],
                    key=lambda r: r["n"])
        if rs:
            axes[0].loglog([r["n"] for r in rs], [r["time"] for r in rs], "o-", label=be)
            axes[1].loglog([r["n"] for r in rs], [r["peak_rss_mb"] for r in rs], "o-", label=be)
    rs = sorted([r for r in results if r["kind"] == "dense" and r["backend"] == "structured" and "verify_time" in r],
                key=lambda r: r["n"])
    if rs:
        axes[0].loglog([r["n"] for r in rs], [r["verify_time"] for r in rs], "k--", label="verify()")
    axes[0].set_xlabel("n (hidden units)")
    axes[0].set_ylabel("wall time [s]")
    axes[0].set_title("min L of havens2023 (10), dense")
    axes[1].set_xlabel("n")
    axes[1].set_ylabel("peak RSS [MB]")
    for ax in axes:
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--single", nargs=3, metavar=("KIND", "BACKEND", "N"))
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--timeout", type=float, default=600.0)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "sdp.json"))
    a = ap.parse_args(argv)
    if a.single:
        print(json.dumps(run_single(a.single[0], a.single[1], int(a.single[2]))))
        return 0
    sizes = [16, 32, 64] if a.quick else [16, 32, 64, 128, 256, 512, 1024]
    limits = {k: min(v, sizes[-1]) for k, v in DEFAULT_LIMITS.items()}
    results = []
    for be, lim in limits.items():
        for n in sizes:
            if n > lim:
                continue
            r = run_case("dense", be, n, a.timeout)
            print(json.dumps(r), flush=True)
            results.append(r)
            if r.get("status") in ("timeout", "crash"):
                break
    grids = [3, 4] if a.quick else [4, 8, 16, 32]
    for N in grids:
        r = run_case("conv", "reduced", N, a.timeout)
        print(json.dumps(r), flush=True)
        results.append(r)
        if 4 * N * N <= 256:
            r = run_case("conv", "structured", N, a.timeout)
            print(json.dumps(r), flush=True)
            results.append(r)
    meta = {"command": " ".join([Path(sys.executable).name] + sys.argv), "machine": platform.platform(),
            "cpu_count": os.cpu_count(), "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS"),
            "date": time.strftime("%Y-%m-%d %H:%M:%S"),
            "note": "shared machine; timings are noisy"}
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"meta": meta, "results": results}, indent=1))
    try:
        plot(results, out.with_suffix(".png"))
    except ImportError:
        print("matplotlib missing: no plot (.venv/bin/pip install matplotlib)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
