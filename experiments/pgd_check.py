"""Empirical cross-check of certificates (not CI): PGD inside the certified balls.

    OPENBLAS_NUM_THREADS=1 .venv/bin/python experiments/pgd_check.py MODEL.npz --norm inf --eps 0.1 [--n 200] [--json out.json]
    OPENBLAS_NUM_THREADS=1 .venv/bin/python experiments/pgd_check.py MODEL.npz --norm 2 [--n 200] [--json out.json]

Certifies the first ``n`` MNIST test images with the model's default certifier, then attacks with
PGD (``steps`` steps from ``restarts`` random starts, float64 forward at f_tol 1e-12):

* ``--norm inf``: every image in its ε-ball (∩ [0, 1]), step ε/4, sign gradients; reports how many
  certified points PGD breaks (must be 0), how many are PGD-robust, how many are certified.
* ``--norm 2``: every certified image in the ℓ2 ball of its own certified radius (step r/4,
  normalised gradients; no [0, 1] clipping — the certificate covers the whole ball); reports the
  broken certified points (must be 0) and, as a check that the attack has teeth, how many of the
  same points it breaks at 3× their radius."""
from __future__ import annotations

import argparse
import json

import numpy as np
import torch

from deqtheory_train import data as D
from deqtheory_train import experiment as X


def pgd_linf(model, x, y, eps, steps=40, restarts=2, seed=0):
    """Boolean (B,): True where some PGD iterate in the ε-ball (∩ [0, 1]) is misclassified."""
    g = torch.Generator().manual_seed(seed)
    broken = torch.zeros(len(y), dtype=torch.bool)
    for _ in range(restarts):
        d = (torch.rand(x.shape, generator=g, dtype=x.dtype) * 2 - 1) * eps
        for _ in range(steps):
            d.requires_grad_(True)
            out = model((x + d).clamp(0, 1))
            other = out.masked_fill(torch.nn.functional.one_hot(y, out.shape[1]).bool(), -float("inf")).amax(1)
            loss = (other - out.gather(1, y[:, None])[:, 0]).sum()
            (gr,) = torch.autograd.grad(loss, d)
            with torch.no_grad():
                d = (d + 0.25 * eps * gr.sign()).clamp(-eps, eps)
        with torch.no_grad():
            broken |= model((x + d).clamp(0, 1)).argmax(1) != y
    return broken


def pgd_l2(model, x, y, radius, steps=40, restarts=2, seed=0):
    """Boolean (B,): True where some ℓ2 PGD iterate within ``radius`` (per sample) is misclassified."""
    g = torch.Generator().manual_seed(seed)
    r = torch.as_tensor(radius, dtype=x.dtype).view(-1, *([1] * (x.ndim - 1)))
    broken = torch.zeros(len(y), dtype=torch.bool)
    for _ in range(restarts):
        d = torch.randn(x.shape, generator=g, dtype=x.dtype)
        d = d / d.flatten(1).norm(dim=1).view_as(r).clamp_min(1e-30) * r * 0.5
        for _ in range(steps):
            d.requires_grad_(True)
            out = model(x + d)
            other = out.masked_fill(torch.nn.functional.one_hot(y, out.shape[1]).bool(), -float("inf")).amax(1)
            loss = (other - out.gather(1, y[:, None])[:, 0]).sum()
            (gr,) = torch.autograd.grad(loss, d)
            with torch.no_grad():
                d = d + 0.25 * r * gr / gr.flatten(1).norm(dim=1).view_as(r).clamp_min(1e-30)
                d = d * torch.clamp(r / d.flatten(1).norm(dim=1).view_as(r).clamp_min(1e-30), max=1.0)
        with torch.no_grad():
            broken |= model(x + d).argmax(1) != y
    return broken


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--norm", choices=("2", "inf"), default="inf")
    ap.add_argument("--eps", type=float, help="ℓ∞ radius (required for --norm inf)")
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--restarts", type=int, default=2)
    ap.add_argument("--json")
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    model, _ = X.load_model_file(a.model)
    te = D.load_dataset("mnist", "test").subset(a.n)
    if a.norm == "inf" and a.eps is None:
        ap.error("--eps is required for --norm inf")
    res = X.get_certifier(model.default_certifier)(model, te.x, te.y, norm=a.norm, eps=[] if a.norm == "2" else [a.eps])
    model = model.double().train(False)
    for mod in model.modules():
        if hasattr(mod, "solver_options"):
            mod.solver_options.update({"f_tol": 1e-12, "f_max_iter": 5000})
    x = torch.as_tensor(te.x, dtype=torch.float64)
    y = torch.as_tensor(te.y)
    if a.norm == "inf":
        cert = np.asarray(res.certified)[:, 0]
        broken = pgd_linf(model, x, y, a.eps, a.steps, a.restarts).numpy()
        out = {"model": a.model, "norm": "inf", "eps": a.eps, "n": a.n, "steps": a.steps, "restarts": a.restarts,
               "certified": int(cert.sum()), "pgd_robust": int((~broken).sum()),
               "certified_but_pgd_broken": int((cert & broken).sum())}
    else:
        rad = np.asarray(res.radius, dtype=np.float64)
        idx = np.flatnonzero(rad > 0)
        xb, yb, rb = x[idx], y[idx], torch.as_tensor(rad[idx])
        broken = pgd_l2(model, xb, yb, rb, a.steps, a.restarts).numpy()
        broken3 = pgd_l2(model, xb, yb, 3 * rb, a.steps, a.restarts).numpy()
        out = {"model": a.model, "norm": "2", "n": a.n, "steps": a.steps, "restarts": a.restarts,
               "certified": int(idx.size), "median_certified_radius": float(np.median(rad[idx])) if idx.size else 0.0,
               "certified_but_pgd_broken": int(broken.sum()), "pgd_broken_at_3x_radius": int(broken3.sum())}
    print(json.dumps(out))
    if a.json:
        with open(a.json, "w", encoding="utf-8") as f:
            json.dump(out, f, indent=2)
            f.write("\n")
    return 0 if out["certified_but_pgd_broken"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
