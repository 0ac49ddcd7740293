"""Empirical cross-check of ℓ∞ certificates (not CI): PGD inside the ε-ball of every certified point.

    OPENBLAS_NUM_THREADS=1 .venv/bin/python experiments/pgd_check_linf.py MODEL.npz --eps 0.1 [--n 200] [--json out.json]

Certifies the first ``n`` MNIST test images with the model's default certifier, then runs ℓ∞ PGD
(``steps`` steps of size ε/4 from ``restarts`` random starts, float64 forward at f_tol 1e-12, images
clipped to [0, 1]) on every image and reports how many certified points PGD breaks (must be 0), how
many are PGD-robust, and how many are certified."""
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


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--eps", type=float, required=True)
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--restarts", type=int, default=2)
    ap.add_argument("--json")
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    model, _ = X.load_model_file(a.model)
    te = D.load_dataset("mnist", "test").subset(a.n)
    res = X.get_certifier(model.default_certifier)(model, te.x, te.y, norm="inf", eps=[a.eps])
    cert = np.asarray(res.certified)[:, 0]
    model = model.double().train(False)
    for mod in model.modules():
        if hasattr(mod, "solver_options"):
            mod.solver_options.update({"f_tol": 1e-12, "f_max_iter": 5000})
    x = torch.as_tensor(te.x, dtype=torch.float64)
    y = torch.as_tensor(te.y)
    broken = pgd_linf(model, x, y, a.eps, a.steps, a.restarts).numpy()
    out = {"model": a.model, "eps": a.eps, "n": a.n, "steps": a.steps, "restarts": a.restarts,
           "certified": int(cert.sum()), "pgd_robust": int((~broken).sum()),
           "certified_but_pgd_broken": int((cert & broken).sum())}
    print(json.dumps(out))
    if a.json:
        with open(a.json, "w", encoding="utf-8") as f:
            json.dump(out, f, indent=2)
            f.write("\n")
    return 0 if out["certified_but_pgd_broken"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
