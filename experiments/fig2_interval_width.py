"""wei2022 Fig. 2 (right): width of the IBP fixed-point box (3.3) against the solver iteration.

    OPENBLAS_NUM_THREADS=1 .venv/bin/python experiments/fig2_interval_width.py \\
        --out experiments/results/ibpmondeq_mnist/fig2_interval_width.png [--model LABEL=model.npz ...]

MNIST test images (ε = 0.1, α = 0.1): a randomly initialised plain MonDEQ (m = 1, Winston & Kolter)
and IBP-MonDEQ (m = 0.1) of width 128, plus trained models; writes the PNG and a ``.json`` summary.
The lifted system is the one the ℓ∞ training losses use (``LinfDEQClassifier.lifted_system``)."""
from __future__ import annotations

import argparse
import json
import math
import pathlib
import sys
from typing import Any, Dict, Mapping, Optional, Sequence, Tuple

import numpy as np
import torch

from deqtheory_train import experiment as X
from deqtheory_train.data import load_dataset
from deqtheory_train.models.linf import LinfDEQClassifier
from deqtheory_train.plots import pyplot


@torch.no_grad()
def interval_width_trace(model: LinfDEQClassifier, x: torch.Tensor, eps: float, *, alpha: float = 0.1,
                         iters: int = 200, clip: Tuple[float, float] = (0.0, 1.0)) -> np.ndarray:
    r"""Mean over samples and coordinates of :math:`\bar z_k - \underline z_k` for k = 1..``iters``
    of the damped forward–backward iteration :math:`\hat z \leftarrow \sigma((1-\alpha)\hat z +
    \alpha(\widehat W\hat z + \hat v))` on the lifted system (3.3) (wei2022 App. B "Details for
    Figure 2": α = 0.1, MNIST, ε = 0.1). Values above 1e30 or non-finite are reported as inf."""
    M, vhat, _, _ = model.lifted_system(torch.clamp(x - eps, *clip), torch.clamp(x + eps, *clip))
    M, vhat = M.double(), vhat.double()
    n = model.layer.n
    z = torch.zeros_like(vhat)
    out = np.full(iters, np.inf)
    for k in range(iters):
        z = torch.relu((1 - alpha) * z + alpha * (z @ M.T + vhat))
        w = float((z[:, :n] - z[:, n:]).mean())
        if not math.isfinite(w) or abs(w) > 1e30:
            break
        out[k] = w
    return out


def plot_interval_widths(traces: Mapping[str, np.ndarray], path: Any, *, title: str = "") -> None:
    """wei2022 Fig. 2 (right): mean z̄_k − z̲_k vs iteration k (log scale), one curve per model;
    a curve that stops has overflowed (diverged)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    for label, w in traces.items():
        w = np.asarray(w, dtype=np.float64)
        k = np.arange(1, len(w) + 1)
        ok = np.isfinite(w) & (w > 0)
        ax.semilogy(k[ok], w[ok], label=label)
    ax.set_xlabel("solver iteration k (damped FB, alpha = 0.1)")
    ax.set_ylabel("mean(z_upper_k - z_lower_k)")
    ax.set_title(title or "IBP fixed point (3.3): interval width")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(str(path), dpi=120)
    plt.close(fig)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """``python experiments/fig2_interval_width.py --out PNG [--model LABEL=model.npz ...]``:
    wei2022 Fig. 2 (right) on MNIST test images (ε = 0.1, α = 0.1) for a randomly initialised plain
    MonDEQ (m = 1, Winston & Kolter) and IBP-MonDEQ (m = 0.1) of width 128, plus trained models."""
    ap = argparse.ArgumentParser(prog="experiments/fig2_interval_width.py")
    ap.add_argument("--out", required=True)
    ap.add_argument("--model", action="append", default=[], help="LABEL=path/to/model.npz")
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--iters", type=int, default=300)
    ap.add_argument("--eps", type=float, default=0.1)
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    ds = load_dataset("mnist", "test").subset(a.n)
    x = torch.from_numpy(ds.x).double()
    norm = {"mean": [0.1307], "std": [0.3081]}
    traces: Dict[str, np.ndarray] = {}
    plain = LinfDEQClassifier((1, 28, 28), 10, family="mondeq", width=128, m=1.0, normalize=norm, init="default").double()
    ibp = LinfDEQClassifier((1, 28, 28), 10, family="ibp_mondeq", width=128, m=0.1, normalize=norm, init="default").double()
    traces["MonDEQ (random init, m=1)"] = interval_width_trace(plain, x, a.eps, iters=a.iters)
    traces["IBP-MonDEQ (random init, m=0.1)"] = interval_width_trace(ibp, x, a.eps, iters=a.iters)
    for spec in a.model:
        label, path = spec.split("=", 1)
        mdl, _ = X.load_model_file(path)
        traces[label] = interval_width_trace(mdl.double(), x, a.eps, iters=a.iters)
    out = pathlib.Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    plot_interval_widths(traces, out, title=f"MNIST eps={a.eps}: IBP fixed point (3.3), {a.n} test images")
    summ = {k: {"first": float(v[0]), "last_finite": float(v[np.isfinite(v)][-1]) if np.isfinite(v).any() else None,
                "diverged": bool(not np.all(np.isfinite(v))), "iterations_finite": int(np.isfinite(v).sum())}
            for k, v in traces.items()}
    out.with_suffix(".json").write_text(json.dumps(summ, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
