"""Training and certification throughput on one GPU against the CPU, same models, same process →
benchmarks/results/gpu_check.json (run by ``benchmarks/gpu_check.sh``; see docs/performance.md "GPU check").

    .venv/bin/python benchmarks/gpu_bench.py [--out PATH] [--tests-junit JUNIT.xml --tests-rc RC]
    .venv/bin/python benchmarks/gpu_bench.py --dry-run --out /tmp/gpu_check.json     (CPU only, tiny sizes)

Models (MNIST-shaped synthetic data, 10 classes; no dataset download; seeded initial weights — the
cost depends on the solvers' iteration counts, not on training, and both sides use the same weights):

* ``lipmondeq`` — the dense Lip-MonDEQ of ``lipmondeq_mnist`` with n = 1024 hidden units,
  ``offset_ce`` loss, certifier ``deq`` (ℓ2);
* ``convsll`` — ``convsll_mnist``, ``offset_ce``, certifier ``conv_l2``;
* ``deq3`` — the full-size DEQ-3 (``deq3_linf``: 128 channels on 28 × 28) of
  ``conv_ibpmondeq_deq3_mnist_eps01``, ``ibp_elided`` at ε = 0.1, κ = 0.5, certifier ``conv_linf`` (ℓ∞, ε = 0.1);
* ``convlben_dag`` — the DAG-LBEN converted from that SLL (``convlben_dag_from_sll``), ``lipschitz_margin``,
  certifier ``conv_l2``.

For each: **training** — ``train.train_step`` (Adam, the config's grad clip) on batches resident on the
device, one untimed warm-up step, then steps until the side's step count or time budget is reached
(median step → images/s); **certification** — one untimed warm-up call on a few images, then one timed
call of the registry certifier on ``n`` images (the whole call: plan, solves, proofs; images/s = n / wall).
The CPU side runs the same model and batch size in this process with fewer steps / images (recorded as
``steps`` / ``images`` per side); ``ratio`` = device images/s ÷ CPU images/s. A certifier that runs on the
CPU only (not in ``experiment.certification.DEVICE_CERTIFIERS``; none of the four measured here) has no device
side: ``device`` holds the reason and ``ratio`` is null. ``certified_agrees``: the device's certified matrix on the
images both sides certified equals the CPU's.

Without CUDA the script refuses to run except with ``--dry-run`` (CPU "device", tiny sizes, a few steps), and
a dry run refuses to write the committed ``benchmarks/results/gpu_check.json``: a dry run never passes for
a GPU result. A time budget (``--budget-s``) skips what would not fit (recorded as skipped)."""
from __future__ import annotations

import argparse
import datetime
import json
import os
import pathlib
import platform
import sys
import time
import xml.etree.ElementTree as ET
from typing import Any, Callable, Dict, List, Optional

import numpy as np
import torch

from deqtheory_train import data as D
from deqtheory_train import experiment as X
from deqtheory_train import registry as R
from deqtheory_train import train as T
from deqtheory_train.experiment.certification import DEVICE_CERTIFIERS

ROOT = pathlib.Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "benchmarks" / "results" / "gpu_check.json"
SCHEMA = 1


def _kw(config: str) -> Dict[str, Any]:
    return dict(X.load_config(config)["model"]["kwargs"])


def model_specs(dry: bool) -> List[Dict[str, Any]]:
    """The benchmarked models, full size or (``dry``) the tiny variants of the same families. ``sizes``:
    training batch, (device, CPU) timed steps, certification (device, CPU) images, warm-up images."""
    ol = X.load_config("lipmondeq_mnist")
    sll = X.load_config("convsll_mnist")
    d3 = X.load_config("conv_ibpmondeq_deq3_mnist_eps01")
    dag = X.load_config("convlben_dag_from_sll_margin_mnist")
    dense_kw = {**ol["model"]["kwargs"], "width": 16 if dry else 1024}
    sll_kw = _kw("convsll_mnist_tiny") if dry else dict(sll["model"]["kwargs"])
    d3_kw = _kw("conv_ibpmondeq_deq3_tiny") if dry else dict(d3["model"]["kwargs"])
    small = dict(batch=8, steps=(2, 1), images=(6, 4), warm=2)
    return [
        dict(name="lipmondeq", builder="lipmondeq", kwargs=dense_kw, loss=ol["loss"], opt=ol["optimizer"],
             clip=ol.get("grad_clip"), ctx=dict(norm="2"), certifier="deq", norm="2", eps=ol["certify"]["eps"],
             sizes=small if dry else dict(batch=128, steps=(30, 10), images=(1000, 200), warm=10)),
        dict(name="convsll", builder="convsll", kwargs=sll_kw, loss=sll["loss"], opt=sll["optimizer"],
             clip=sll.get("grad_clip"), ctx=dict(norm="2"), certifier="conv_l2", norm="2", eps=sll["certify"]["eps"],
             sizes=small if dry else dict(batch=128, steps=(30, 5), images=(1000, 200), warm=10)),
        dict(name="deq3", builder="deq3_linf", kwargs=d3_kw, loss=d3["loss"], opt=d3["optimizer"],
             clip=d3.get("grad_clip"), ctx=dict(norm="inf", eps=0.1, kappa=0.5), certifier="conv_linf",
             norm="inf", eps=[0.1], sizes=small if dry else dict(batch=32, steps=(10, 1), images=(100, 4), warm=2)),
        dict(name="convlben_dag", builder="convlben_dag_from_sll", kwargs={}, source="convsll", loss=dag["loss"],
             opt=dag["optimizer"], clip=dag.get("grad_clip"), ctx=dict(norm="2"), certifier="conv_l2", norm="2",
             eps=sll["certify"]["eps"],
             sizes=small if dry else dict(batch=128, steps=(20, 3), images=(1000, 100), warm=10)),
    ]


def _sync(dev: torch.device) -> None:
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def _optimizer(model: torch.nn.Module, spec: Dict[str, Any]) -> torch.optim.Optimizer:
    if spec["name"] == "sgd":
        return torch.optim.SGD(model.parameters(), spec["lr"], momentum=spec.get("momentum", 0.0))
    return torch.optim.Adam(model.parameters(), spec["lr"], betas=tuple(spec.get("betas", (0.9, 0.999))))


def measure_train(model: torch.nn.Module, spec: Dict[str, Any], ds: D.ArrayDataset, dev: torch.device, steps: int,
                  budget_s: float) -> Dict[str, Any]:
    """Warm-up step, then up to ``steps`` timed steps (at least one; fewer once ``budget_s`` is spent)."""
    import copy
    m = copy.deepcopy(model).to(dev).train()
    opt = _optimizer(m, spec["opt"])
    lf, lkw = R.get_loss(spec["loss"]["name"]), spec["loss"].get("kwargs", {})
    B = spec["sizes"]["batch"]
    x = torch.from_numpy(ds.x).to(device=dev, dtype=torch.float32)     # resident on the device
    y = torch.from_numpy(ds.y).to(dev)
    nb = len(ds.y) // B
    times: List[float] = []
    t_all = time.perf_counter()
    for i in range(steps + 1):
        j = i % nb
        ctx = T.LossContext(step=i, **spec["ctx"])
        _sync(dev)
        t = time.perf_counter()
        out = T.train_step(m, opt, lf, lkw, x[j * B:(j + 1) * B], y[j * B:(j + 1) * B], ctx, grad_clip=spec["clip"])
        _sync(dev)
        if i:
            times.append(time.perf_counter() - t)
            if time.perf_counter() - t_all > budget_s:
                break
    s = float(np.median(times))
    return {"batch_size": B, "steps": len(times), "median_step_s": s, "images_per_s": B / s,
            "last_loss": out["loss_sum"] / out["count"]}


def measure_certify(model: torch.nn.Module, spec: Dict[str, Any], ds: D.ArrayDataset, dev: torch.device,
                    n: int) -> Dict[str, Any]:
    """One warm-up call on ``warm`` images, then one timed call on the first ``n`` images."""
    fn = R.get_certifier(spec["certifier"])
    kw: Dict[str, Any] = {"device": dev} if spec["certifier"] in DEVICE_CERTIFIERS else {}
    m = model.to(torch.float32).eval()
    w = spec["sizes"]["warm"]
    fn(m, ds.x[:w], ds.y[:w], norm=spec["norm"], eps=spec["eps"], **kw)
    _sync(dev)
    t = time.perf_counter()
    outp = fn(m, ds.x[:n], ds.y[:n], norm=spec["norm"], eps=spec["eps"], **kw)
    _sync(dev)
    s = time.perf_counter() - t
    cert = np.asarray(outp.certified, dtype=bool)
    return {"images": n, "seconds": s, "images_per_s": n / s, "clean_accuracy": float(np.mean(outp.correct)),
            "certified_accuracy": [float(v) for v in cert.mean(axis=0)], "_certified": cert}


def _guarded(f: Callable[[], Dict[str, Any]], deadline: float, what: str) -> Dict[str, Any]:
    """``f()``, or a record of why not (time budget spent, or the error): one model's failure is a
    result in the JSON, never the end of the run."""
    if time.perf_counter() > deadline:
        return {"skipped": f"time budget spent before {what}"}
    try:
        return f()
    except Exception as e:                                  # noqa: BLE001 - recorded, the run goes on
        return {"error": f"{type(e).__name__}: {e}"[:2000]}


def _ratio(a: Dict[str, Any], b: Dict[str, Any]) -> Optional[float]:
    if "images_per_s" in a and "images_per_s" in b:
        return a["images_per_s"] / b["images_per_s"]
    return None


def bench_model(spec: Dict[str, Any], dev: torch.device, shape, built: Dict[str, torch.nn.Module],
                deadline: float) -> Dict[str, Any]:
    torch.manual_seed(0)
    kw = dict(spec["kwargs"])
    if "source" in spec:
        kw["init_from"] = built[spec["source"]]
    model = R.build_model(spec["builder"], shape, 10, **kw).to(torch.float32)
    built[spec["name"]] = model
    sz = spec["sizes"]
    n = max(sz["batch"] * (sz["steps"][0] + 1), sz["images"][0])
    ds = D.load_dataset("synthetic", "train", n=n, shape=list(shape), num_classes=10, noise=0.3)
    rec: Dict[str, Any] = {"builder": spec["builder"], "kwargs": spec["kwargs"], "input_shape": list(shape),
                           "dtype": "float32", "source": spec.get("source")}
    left = lambda: max(1.0, deadline - time.perf_counter())          # noqa: E731
    tr = {"loss": spec["loss"]["name"], "loss_context": spec["ctx"], "batch_size": sz["batch"]}
    tr["device"] = _guarded(lambda: measure_train(model, spec, ds, dev, sz["steps"][0], min(60.0, left())),
                            deadline, "device training")
    tr["cpu"] = _guarded(lambda: measure_train(model, spec, ds, torch.device("cpu"), sz["steps"][1],
                                               min(60.0, left())), deadline, "CPU training")
    tr["ratio"] = _ratio(tr["device"], tr["cpu"])
    rec["train"] = tr
    ce: Dict[str, Any] = {"certifier": spec["certifier"], "norm": spec["norm"], "eps": spec["eps"]}
    if spec["certifier"] in DEVICE_CERTIFIERS:
        ce["device"] = _guarded(lambda: measure_certify(model, spec, ds, dev, sz["images"][0]), deadline,
                                "device certification")
    else:
        ce["device"] = {"skipped": f"certifier {spec['certifier']} runs on the CPU only (not in DEVICE_CERTIFIERS)"}
    ce["cpu"] = _guarded(lambda: measure_certify(model, spec, ds, torch.device("cpu"), sz["images"][1]), deadline,
                         "CPU certification")
    ce["ratio"] = _ratio(ce["device"], ce["cpu"])
    a, b = ce["device"].pop("_certified", None), ce["cpu"].pop("_certified", None)
    ce["certified_agrees"] = None if a is None or b is None else bool(np.array_equal(a[:len(b)], b))
    rec["certify"] = ce
    return rec


def junit_counts(path: pathlib.Path, rc: Optional[int]) -> Dict[str, Any]:
    """Counts of a pytest ``--junitxml`` report (the test lane's pass / skip / fail numbers)."""
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    c = {k: sum(int(s.get(k, 0)) for s in suites) for k in ("tests", "failures", "errors", "skipped")}
    cuda = [tc for tc in root.iter("testcase") if "-cuda]" in tc.get("name", "")]
    return {"returncode": rc, "tests": c["tests"], "passed": c["tests"] - c["failures"] - c["errors"] - c["skipped"],
            "failed": c["failures"], "errors": c["errors"], "skipped": c["skipped"],
            "cuda_cases": len(cuda), "cuda_skipped": sum(1 for tc in cuda if tc.find("skipped") is not None)}


def device_info(dev: torch.device) -> Dict[str, Any]:
    info: Dict[str, Any] = {"type": dev.type, "name": platform.processor() or platform.machine()}
    if dev.type == "cuda":
        p = torch.cuda.get_device_properties(dev)
        info.update(name=p.name, capability=f"{p.major}.{p.minor}", memory_gib=p.total_memory / 2 ** 30,
                    multiprocessors=p.multi_processor_count)
    return info


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(COMMITTED))
    ap.add_argument("--dry-run", action="store_true", help="CPU only, tiny sizes, a few steps (never the committed JSON)")
    ap.add_argument("--budget-s", type=float, default=300.0, help="skip measurements once this is spent")
    ap.add_argument("--tests-junit", default=None, help="pytest --junitxml report of the test lane")
    ap.add_argument("--tests-rc", type=int, default=None, help="the test lane's exit status")
    ap.add_argument("--tests-command", default=None)
    ap.add_argument("--check-command", default=None, help="the gpu_check.sh command line that ran this")
    ap.add_argument("--only", nargs="*", default=None, help="benchmark only these models (sources are built)")
    a = ap.parse_args(argv)
    dry = a.dry_run or os.environ.get("GPU_CHECK_DRY_RUN") == "1"
    out = pathlib.Path(a.out).resolve()
    if dry and out == COMMITTED:
        print(f"gpu_bench: a dry run does not write {COMMITTED.relative_to(ROOT)} (it holds GPU results); "
              "pass --out PATH", file=sys.stderr)
        return 2
    if not dry and not torch.cuda.is_available():
        print("gpu_bench: no CUDA device (torch.cuda.is_available() is False; torch "
              f"{torch.__version__}, built for CUDA {torch.version.cuda}); run with --dry-run for the CPU check",
              file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    deadline = t0 + a.budget_s
    dev = torch.device("cpu" if dry else "cuda")
    shape = (1, 8, 8) if dry else (1, 28, 28)
    res: Dict[str, Any] = {
        "schema": SCHEMA, "dry_run": dry,
        "command": " ".join([pathlib.Path(sys.executable).name, "benchmarks/gpu_bench.py", *(argv or sys.argv[1:])]),
        "check_command": a.check_command,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "device": device_info(dev), "torch": torch.__version__, "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,
        "cpu": {"platform": platform.platform(), "cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads()},
        "data": f"synthetic MNIST-shaped {list(shape)}, 10 classes (deqtheory_train.data 'synthetic')",
        "budget_s": a.budget_s,
    }
    if a.tests_junit:
        p = pathlib.Path(a.tests_junit)
        res["tests"] = junit_counts(p, a.tests_rc) if p.is_file() else {"returncode": a.tests_rc,
                                                                          "error": "no junit report"}
        res["tests"]["command"] = a.tests_command
    built: Dict[str, torch.nn.Module] = {}
    res["models"] = {}
    specs = model_specs(dry)
    needed = {s["name"] for s in specs if a.only is None or s["name"] in a.only}
    needed |= {s["source"] for s in specs if s["name"] in needed and "source" in s}
    for spec in specs:
        if spec["name"] not in needed:
            continue
        rec = bench_model(spec, dev, shape, built, deadline)
        if a.only is None or spec["name"] in a.only:
            res["models"][spec["name"]] = rec
        print(spec["name"], "train x%s" % rec["train"]["ratio"], "certify x%s" % rec["certify"]["ratio"], flush=True)
    ratios = {part: res["models"].get("deq3", {}).get(part, {}).get("ratio") for part in ("train", "certify")}
    res["targets"] = None if dry else {f"deq3_{part}_ratio_ge_20": None if r is None else r >= 20
                                       for part, r in ratios.items()}
    res["errors"] = [f"{m}.{part}.{side}: {r[part][side]['error']}" for m, r in res["models"].items()
                     for part in ("train", "certify") for side in ("device", "cpu") if "error" in r[part][side]]
    res["wall_s"] = time.perf_counter() - t0
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=2) + "\n")
    print("wrote", out)
    for e in res["errors"]:
        print("gpu_bench: error:", e, file=sys.stderr)
    return 1 if res["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
