"""Benchmark of deqtheory.sdp (NOT run in CI).

Times the minimal-L SDP of havens2023 (10) (``min_lipschitz``) per backend and size n, the
certificate verification (``cert.verify``), and the symmetry-reduced convolutional SDP
(``conv_min_lipschitz``); every case runs in its own subprocess (peak RSS from
``resource.getrusage``, a wall-clock limit per case; a backend is not tried at larger n after
its first timeout/crash).

Usage::

    OPENBLAS_NUM_THREADS=2 .venv/bin/python benchmarks/sdp.py          # full grid -> benchmarks/results/sdp.{json,png}
    OPENBLAS_NUM_THREADS=2 .venv/bin/python benchmarks/sdp.py --quick  # small grid (smoke test)
    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/sdp.py --rerun-structured --why "..."  # re-time structured rows
    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/sdp.py --matched  # n = 256, each backend at matched accuracy

Problems (seed 0):

* ``dense`` — MonDEQ weight (havens2023 eq. 5): W = 0.7 I − AᵀA + B − Bᵀ (m = 0.3), A, B with
  N(0, 1/n) entries; U (n, n/4), G (10, n) with N(0, 1/n) entries. Well-posedness from
  ``deqtheory.linalg.check_monotone(W)`` (passed as ``wellposed=``; its time is included).
* ``dense_gmon`` — G-MonDEQ weight (eq. 6, log Φ ~ U(−1.5, 1.5)): Γ = I does not work, so (3) is
  solved first (to 1e−4) for the well-posedness witness / anchor; structured backend only.
* ``conv`` — 3×3 circular convolutions on an N×N grid, c hidden = c_in = c_out channels,
  KW ~ 0.1·N(0, 1/c), KU, KG ~ N(0, 1/c); reduced problem of ``deqtheory.sdp.conv``.

``L`` is the *verified* L of the certificate; ``L_solver`` the solver's optimum.
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
SIZES = [16, 32, 64, 128, 256, 512, 1024]
LIMITS = {"structured": 1024, "cvxopt": 256, "clarabel": 64, "scs": 256}   # clarabel: memory ~n⁴ (2.6 GB at 64); scs > 240 s at 512
CONV = [(8, 4), (8, 8), (8, 16), (16, 4), (16, 8), (16, 16), (32, 4), (32, 8), (32, 16)]


def make_problem(n: int, kind: str = "dense", seed: int = 0):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, n)) / np.sqrt(n)
    B = rng.standard_normal((n, n)) / np.sqrt(n)
    if kind == "dense":
        W = 0.7 * np.eye(n) - A.T @ A + B - B.T
    else:
        phi = np.exp(rng.uniform(-1.5, 1.5, n))
        W = np.eye(n) - phi[:, None] * (A.T @ A + B.T - B + 0.3 * np.eye(n))
    d = max(2, n // 4)
    U = rng.standard_normal((n, d)) / np.sqrt(n)
    G = rng.standard_normal((10, n)) / np.sqrt(n)
    return W, U, G


def make_conv(N: int, c: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    KW = 0.1 * rng.standard_normal((c, c, 3, 3)) / np.sqrt(c)
    KU = rng.standard_normal((c, c, 3, 3)) / np.sqrt(c)
    KG = rng.standard_normal((c, c, 3, 3)) / np.sqrt(c)
    return KW, KU, KG


def run_single(kind: str, backend: str, n: int, c: int, tol: float = None) -> dict:
    from deqtheory.sdp import min_lipschitz
    if backend != "structured":
        import cvxpy  # noqa: F401  (import time, ~1 s, is not charged to the solve)
    out = {"kind": kind, "backend": backend, "n": n}
    if kind in ("dense", "dense_gmon"):
        W, U, G = make_problem(n, kind)
        t0 = time.perf_counter()
        wp = None
        if kind == "dense":
            from deqtheory.linalg import check_monotone
            wp = check_monotone(W)
        c_ = min_lipschitz(W, U, G, backend=backend, wellposed=wp, fallback=False,   # time this backend only
                           **({} if tol is None else {"tol": tol}))
        out["time"] = time.perf_counter() - t0
        t1 = time.perf_counter()
        v = c_.verify(W=W, U=U, G=G, wellposed=wp)
        out["verify_time"] = time.perf_counter() - t1
        out.update({"status": c_.status.value, "verified": v.certified, "L": c_.witness.get("L"),
                    "L_solver": c_.stats.get("L_solver"), "iterations": c_.stats.get("iterations"),
                    "solver_time": c_.stats.get("time"), "margin": c_.margin,
                    "verify_factorizations": v.stats.get("factorizations"),
                    "wellposed_condition": c_.witness.get("wellposed_condition")})
    else:
        from deqtheory.sdp.conv import conv_min_lipschitz
        KW, KU, KG = make_conv(n, c)
        out.update({"channels": c, "blocks": None})
        t0 = time.perf_counter()
        c_ = conv_min_lipschitz(KW, KU, KG, n, backend=backend)
        out["time"] = time.perf_counter() - t0
        t1 = time.perf_counter()
        v = c_.verify(KW=KW, KU=KU, KG=KG)
        out["verify_time"] = time.perf_counter() - t1
        out.update({"status": c_.status.value, "verified": v.certified, "L": c_.witness.get("L"),
                    "L_solver": c_.stats.get("L_solver"), "iterations": c_.stats.get("iterations"),
                    "blocks": c_.stats.get("frequencies"), "dense_n": c * n * n,
                    "anchor": c_.stats.get("anchor")})
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    if tol is not None:
        out["tol"] = tol
    return out


def run_case(kind, backend, n, c, timeout, threads=None, tol=None):
    cmd = [sys.executable, str(Path(__file__).resolve()), "--single", kind, backend, str(n), str(c)]
    if tol is not None:
        cmd += ["--tol", repr(tol)]
    env = dict(os.environ)
    if threads is not None:
        env["OPENBLAS_NUM_THREADS"] = str(threads)
    t0 = time.perf_counter()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT, env=env)
    except subprocess.TimeoutExpired:
        return {"kind": kind, "backend": backend, "n": n, "channels": c, "status": "timeout",
                "time": time.perf_counter() - t0, "timeout": timeout}
    if p.returncode != 0:
        return {"kind": kind, "backend": backend, "n": n, "channels": c, "status": "crash",
                "stderr": p.stderr[-2000:]}
    r = json.loads(p.stdout.strip().splitlines()[-1])
    r["openblas_threads"] = env.get("OPENBLAS_NUM_THREADS")
    return r


def _load() -> str:
    try:
        return Path("/proc/loadavg").read_text().strip()
    except OSError:
        return "unknown"


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def summary(results):
    """Speed-up of structured over the fastest cvxpy backend whose L agrees to 1e-6 relative, per n;
    ``max_rel_L_diff`` over CVXOPT/Clarabel."""
    out = []
    dense = [r for r in results if r["kind"] == "dense" and r.get("status") == "certified"
             and r.get("openblas_threads") == os.environ.get("OPENBLAS_NUM_THREADS")]
    for n in sorted({r["n"] for r in dense}):
        st = [r for r in dense if r["n"] == n and r["backend"] == "structured"]
        cv = [r for r in dense if r["n"] == n and r["backend"] != "structured"]
        if not st or not cv:
            continue
        # only backends whose proved L agrees with the structured one to 1e-6 relative count
        ok = [r for r in cv if abs(r["L"] - st[0]["L"]) <= 1e-6 * st[0]["L"]]
        if not ok:
            continue
        best = min(ok, key=lambda r: r["time"])
        out.append({"n": n, "structured_time": st[0]["time"], "best_cvxpy": best["backend"],
                    "best_cvxpy_time": best["time"], "speedup": best["time"] / st[0]["time"],
                    "max_rel_L_diff": max(abs(r["L"] - st[0]["L"]) / st[0]["L"] for r in cv
                                          if r["backend"] in ("cvxopt", "clarabel"))
                    if any(r["backend"] in ("cvxopt", "clarabel") for r in cv) else None})
    have = {s["n"] for s in out}
    for r in results:   # every cvxpy backend timed out at this n: lower bound on the speed-up
        if r["kind"] == "dense" and r.get("status") == "timeout" and r["n"] not in have:
            have.add(r["n"])
            st = [s for s in dense if s["n"] == r["n"] and s["backend"] == "structured"]
            if st:
                out.append({"n": r["n"], "structured_time": st[0]["time"], "best_cvxpy": r["backend"],
                            "best_cvxpy_time": f"> {r['timeout']}", "speedup": f"> {r['timeout'] / st[0]['time']:.0f}"})
    return out


def markdown_tables(data: dict) -> str:
    """Markdown tables (docs/performance.md, "SDP certificates") from a results JSON."""
    meta, res = data["meta"], data["results"]
    default = meta.get("OPENBLAS_NUM_THREADS")
    extra = str(meta.get("extra_threads"))
    lines = [f"Command: `{meta['command']}`  ", f"Machine: {meta['machine']}; date {meta['date']}; "
             f"load average before/after: {meta['loadavg_before'].split()[:3]} / {meta['loadavg_after'].split()[:3]}; "
             f"total {meta['total_wall_s']:.0f} s; per-case timeout {meta['timeout_per_case_s']:.0f} s.", ""]

    def fmt(r):
        if r is None:
            return "—"
        if r.get("status") == "timeout":
            return f"> {r['timeout']:.0f} (timeout)"
        if r.get("status") != "certified":
            return str(r.get("status"))
        return f"{r['time']:.3g}"

    def find(kind, be, n, th=default, c=None):
        for r in res:
            if r["kind"] == kind and r["backend"] == be and r["n"] == n and str(r.get("openblas_threads", th)) == str(th) \
                    and (c is None or r.get("channels") == c):
                return r
        return None

    backends = ["structured", "cvxopt", "clarabel", "scs"]
    ns = sorted({r["n"] for r in res if r["kind"] == "dense"})
    lines += ["**Minimal L of (10), dense MonDEQ (n hidden, d = n/4, p = 10): wall time [s] "
              f"(OPENBLAS_NUM_THREADS={default}), peak RSS [MB], verification.**", "",
              "| n | " + " | ".join(backends) + (f" | structured / cvxopt, {extra} BLAS threads |" if extra != "None"
                                                  else " | structured / cvxopt, other BLAS threads (not run) |") + f" peak RSS structured / best cvxpy | verify() [s] | L (structured, proved) | max rel. diff. of proved L to the cvxpy backends |",
              "|---|" + "---|" * (len(backends) + 5)]
    for n in ns:
        row = [find("dense", be, n) for be in backends]
        one = [find("dense", be, n, th=extra) for be in ("structured", "cvxopt")]
        st = row[0]
        cv = [r for r in row[1:] if r is not None and r.get("status") == "certified"]
        rss = "—"
        if st is not None and "peak_rss_mb" in st:
            best = min(cv, key=lambda r: r["time"]) if cv else None
            rss = f"{st['peak_rss_mb']:.0f} / " + (f"{best['peak_rss_mb']:.0f}" if best else "—")
        diffs = [abs(r["L"] - st["L"]) / st["L"] for r in cv] if st is not None and st.get("L") else []
        lines.append(f"| {n} | " + " | ".join(fmt(r) for r in row) + f" | {fmt(one[0])} / {fmt(one[1])} | {rss} | "
                     + (f"{st['verify_time']:.3g}" if st and "verify_time" in st else "—") + " | "
                     + (f"{st['L']:.10g}" if st and st.get("L") else "—") + " | "
                     + (f"{max(diffs):.1e}" if diffs else "—") + " |")
    gm = [r for r in res if r["kind"] == "dense_gmon"]
    if gm:
        lines += ["", "**G-MonDEQ (Γ = I fails, (3) solved first), structured:** " + ", ".join(
            f"n = {r['n']}: {fmt(r)} s" for r in sorted(gm, key=lambda r: r["n"]))]
    cs = [r for r in res if r["kind"] == "conv"]
    if cs:
        lines += ["", "**Reduced convolutional SDP (3×3 kernels, c hidden = c_in = c_out channels, N×N grid): "
                  "solve incl. proof [s] / verify() [s] / blocks / proved L.**", "",
                  "| grid | channels | dense n = cN² | backend | BLAS threads | solve [s] | verify [s] | blocks | L | peak RSS [MB] |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        for r in sorted(cs, key=lambda r: (r["n"], r.get("channels", 0), r["backend"], str(r.get("openblas_threads")))):
            lines.append(f"| {r['n']}×{r['n']} | {r.get('channels')} | {r.get('dense_n', '—')} | {r['backend']} | "
                         f"{r.get('openblas_threads')} | {fmt(r)} | "
                         + (f"{r['verify_time']:.3g}" if "verify_time" in r else "—") + f" | {r.get('blocks', '—')} | "
                         + (f"{r['L']:.10g}" if r.get("L") else "—") + " | "
                         + (f"{r['peak_rss_mb']:.0f}" if "peak_rss_mb" in r else "—") + " |")
    if data.get("summary"):
        lines += ["", "**Speed-up of structured over the fastest cvxpy backend whose proved L agrees to 1e-6 (same n, same settings):** " + "; ".join(
            f"n = {s['n']}: {s['speedup'] if isinstance(s['speedup'], str) else format(s['speedup'], '.3g')}× "
            f"({s['best_cvxpy']})" for s in data["summary"])]
    return "\n".join(lines) + "\n"


def plot(results, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.6))
    default = os.environ.get("OPENBLAS_NUM_THREADS")
    for kind, style in (("dense", "-"), ("dense_gmon", ":")):
        for be, th in sorted({(r["backend"], str(r.get("openblas_threads"))) for r in results if r["kind"] == kind}):
            rs = sorted([r for r in results if r["kind"] == kind and r["backend"] == be and "peak_rss_mb" in r
                         and str(r.get("openblas_threads")) == th], key=lambda r: r["n"])
            if not rs:
                continue
            lab = be if kind == "dense" else f"{be} (G-MonDEQ, with (3))"
            if th != str(default):
                lab += f" [{th} BLAS threads]"
            axes[0].loglog([r["n"] for r in rs], [r["time"] for r in rs], "o" + style, label=lab)
            axes[1].loglog([r["n"] for r in rs], [r["peak_rss_mb"] for r in rs], "o" + style, label=lab)
    rs = sorted([r for r in results if r["kind"] == "dense" and r["backend"] == "structured" and "verify_time" in r
                 and r.get("openblas_threads") == default], key=lambda r: r["n"])
    if rs:
        axes[0].loglog([r["n"] for r in rs], [r["verify_time"] for r in rs], "k--", label="verify()")
    for c in sorted({r.get("channels") for r in results if r["kind"] == "conv"}):
        rs = sorted([r for r in results if r["kind"] == "conv" and r.get("channels") == c and "peak_rss_mb" in r
                     and r["backend"] == "structured" and r.get("openblas_threads") == default], key=lambda r: r["n"])
        if rs:
            axes[2].loglog([r["n"] for r in rs], [r["time"] for r in rs], "o-", label=f"{c} channels: solve")
            axes[2].loglog([r["n"] for r in rs], [r["verify_time"] for r in rs], "x--", label=f"{c} channels: verify")
    axes[0].set_xlabel("n (hidden units)")
    axes[0].set_ylabel("wall time [s]")
    axes[0].set_title("min L of havens2023 (10), dense")
    axes[1].set_xlabel("n")
    axes[1].set_ylabel("peak RSS [MB]")
    axes[1].set_title("peak memory")
    axes[2].set_xlabel("grid size N (N×N)")
    axes[2].set_ylabel("wall time [s]")
    axes[2].set_title("reduced conv SDP (structured)")
    for ax in axes:
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def rerun_structured(a) -> int:
    """Re-time the structured rows (after a solver change) and replace them in the results file."""
    out = Path(a.out)
    data = json.loads(out.read_text())
    default = os.environ.get("OPENBLAS_NUM_THREADS")
    t_start = time.time()
    load_before = _load()
    new = []
    for n in SIZES:
        new.append(run_case("dense", "structured", n, 0, a.timeout))
    for n in [64, 256, 1024]:
        new.append(run_case("dense_gmon", "structured", n, 0, a.timeout))
    for N, c in CONV:
        new.append(run_case("conv", "structured", N, c, a.timeout))
    for r in new:
        print(json.dumps(r), flush=True)
    key = lambda r: (r["kind"], r["backend"], r["n"], r.get("channels") or 0, str(r.get("openblas_threads")))
    keys = {key(r) for r in new}
    old = [r for r in data["results"] if key(r) in keys]
    for r in old:
        r["superseded"] = True
    data["superseded_results"] = data.get("superseded_results", []) + old
    data["results"] = [r for r in data["results"] if key(r) not in keys] + new
    data["meta"]["rerun_structured"] = {
        "command": " ".join(["OPENBLAS_NUM_THREADS=" + str(default), ".venv/bin/python",
                             os.path.relpath(sys.argv[0], ROOT)] + sys.argv[1:]),
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(t_start)),
        "total_wall_s": time.time() - t_start, "loadavg_before": load_before, "loadavg_after": _load(),
        "why": a.why}
    data["summary"] = summary(data["results"])
    out.write_text(json.dumps(data, indent=1))
    try:
        plot(data["results"], out.with_suffix(".png"))
    except ImportError:
        pass
    return 0


#: matched-accuracy comparison at n = 256: each backend at the tolerances below; the fastest run
#: whose proved L agrees with the reference (CVXOPT at its tightest, 1e-8) to 1e-6 relative counts
MATCHED = {"structured": [1e-6, 1e-7, 1e-8, 1e-9], "scs": [1e-7, 1e-8, 1e-9], "cvxopt": [1e-8]}


def matched_accuracy(a) -> int:
    """Time n = 256 per backend over a range of tolerances (repeated ``--repeat`` times, best kept)
    and store, under ``matched_accuracy`` in --out, the speed-up of the fastest structured run over
    the fastest cvxpy run among those whose L is within 1e-6 (relative) of the CVXOPT reference."""
    out = Path(a.out)
    data = json.loads(out.read_text())
    t_start = time.time()
    load_before = _load()
    rows = []
    for rep in range(a.repeat):
        for be, tols in MATCHED.items():
            for tol in tols:
                r = run_case("dense", be, 256, 0, a.timeout, tol=tol)
                r["repeat"] = rep
                print(json.dumps(r), flush=True)
                rows.append(r)
    ok = [r for r in rows if r.get("status") == "certified"]
    ref = min((r for r in ok if r["backend"] == "cvxopt"), key=lambda r: r["time"])["L"]
    best = {}
    for r in ok:
        r["rel_L_diff_to_cvxopt"] = abs(r["L"] - ref) / ref
        k = (r["backend"], r["tol"])
        if k not in best or r["time"] < best[k]["time"]:
            best[k] = r
    good = [r for r in best.values() if r["rel_L_diff_to_cvxopt"] <= 1e-6]
    st = min((r for r in good if r["backend"] == "structured"), key=lambda r: r["time"])
    cv = min((r for r in good if r["backend"] != "structured"), key=lambda r: r["time"])
    data["matched_accuracy"] = {
        "command": " ".join(["OPENBLAS_NUM_THREADS=" + str(os.environ.get("OPENBLAS_NUM_THREADS")), ".venv/bin/python",
                             os.path.relpath(sys.argv[0], ROOT)] + sys.argv[1:]),
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(t_start)),
        "loadavg_before": load_before, "loadavg_after": _load(), "repeat": a.repeat,
        "reference_L_cvxopt": ref,
        "best_per_setting": sorted(({"backend": r["backend"], "tol": r["tol"], "time": r["time"],
                                     "iterations": r.get("iterations"), "L": r["L"],
                                     "rel_L_diff_to_cvxopt": r["rel_L_diff_to_cvxopt"]} for r in best.values()),
                                   key=lambda d: (d["backend"], d["tol"])),
        "fastest_structured_within_1e-6": {"tol": st["tol"], "time": st["time"]},
        "fastest_cvxpy_within_1e-6": {"backend": cv["backend"], "tol": cv["tol"], "time": cv["time"]},
        "speedup": cv["time"] / st["time"],
        "runs": rows}
    out.write_text(json.dumps(data, indent=1))
    print(json.dumps({k: v for k, v in data["matched_accuracy"].items() if k != "runs"}, indent=1))
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--single", nargs=4, metavar=("KIND", "BACKEND", "N", "C"))
    ap.add_argument("--tol", type=float, default=None, help="with --single: the solver tolerance (default: the API's)")
    ap.add_argument("--matched", action="store_true",
                    help="n = 256 over a range of tolerances per backend (matched-accuracy speed-up) into --out")
    ap.add_argument("--repeat", type=int, default=2, help="with --matched: repetitions (best kept)")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--extra-threads", type=int, default=None, metavar="T",
                    help="also time structured n = 64/256/1024, cvxopt n = 64/128 and conv 32x32x16 with "
                         "OPENBLAS_NUM_THREADS=T")
    ap.add_argument("--timeout", type=float, default=300.0, help="seconds per case (default 300)")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "sdp.json"))
    ap.add_argument("--table", metavar="JSON", help="print the markdown tables of a results file and exit")
    ap.add_argument("--rerun-structured", action="store_true",
                    help="re-time only the structured cases (default threads) and replace them in --out")
    ap.add_argument("--why", default="structured solver changed after the full run; the replaced rows are kept "
                                      "under superseded_results", help="with --rerun-structured: recorded reason")
    a = ap.parse_args(argv)
    if a.table:
        print(markdown_tables(json.loads(Path(a.table).read_text())))
        return 0
    if a.single:
        print(json.dumps(run_single(a.single[0], a.single[1], int(a.single[2]), int(a.single[3]), a.tol)))
        return 0
    if a.matched:
        return matched_accuracy(a)
    if a.rerun_structured:
        return rerun_structured(a)
    t_start = time.time()
    load_before = _load()
    sizes = [16, 32, 64] if a.quick else SIZES
    results = []

    def record(r):
        print(json.dumps(r), flush=True)
        results.append(r)

    for be, lim in LIMITS.items():
        for n in sizes:
            if n > lim:
                continue
            r = run_case("dense", be, n, 0, a.timeout)
            record(r)
            if r.get("status") in ("timeout", "crash"):
                break
    for n in ([32] if a.quick else [64, 256, 1024]):
        record(run_case("dense_gmon", "structured", n, 0, a.timeout))
    if a.extra_threads:   # the same cases with another OPENBLAS_NUM_THREADS (loaded machines: 1 vs 2)
        T = a.extra_threads
        for n in ([64] if a.quick else [64, 256, 1024]):
            record(run_case("dense", "structured", n, 0, a.timeout, threads=T))
        for n in ([64] if a.quick else [64, 128]):
            record(run_case("dense", "cvxopt", n, 0, a.timeout, threads=T))
        record(run_case("conv", "structured", 32 if not a.quick else 8, 16 if not a.quick else 4, a.timeout, threads=T))
    conv = [(8, 4), (8, 8)] if a.quick else CONV
    for N, c in conv:
        record(run_case("conv", "structured", N, c, a.timeout))
    for N, c in ([(8, 4)] if a.quick else [(8, 4), (8, 8)]):
        record(run_case("conv", "clarabel", N, c, a.timeout))
    meta = {"command": " ".join(["OPENBLAS_NUM_THREADS=" + str(os.environ.get("OPENBLAS_NUM_THREADS")),
                                 ".venv/bin/python"] + [os.path.relpath(sys.argv[0], ROOT)] + sys.argv[1:]),
            "machine": f"{platform.platform()}; {_cpu()}; {os.cpu_count()} logical CPUs",
            "python": platform.python_version(), "numpy": np.__version__,
            "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS"),
            "date": time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(t_start)),
            "total_wall_s": time.time() - t_start,
            "loadavg_before": load_before, "loadavg_after": _load(),
            "timeout_per_case_s": a.timeout, "extra_threads": a.extra_threads,
            "note": ("shared 2-core machine: other jobs ran concurrently (see loadavg); timings are noisy "
                     "upper bounds of the unloaded times")}
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"meta": meta, "summary": summary(results), "results": results}, indent=1))
    try:
        plot(results, out.with_suffix(".png"))
    except ImportError:
        print("matplotlib missing: no plot (.venv/bin/pip install matplotlib)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
