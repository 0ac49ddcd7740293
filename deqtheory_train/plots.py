"""PNG plots of training runs and certification results (matplotlib, Agg backend; no display).

* :func:`plot_training_curves` — loss, accuracy and the lr/ε schedules against epochs, from the
  records of ``metrics.jsonl`` (``kind == "epoch"`` rows; ``kind == "step"`` rows drawn faintly).
* :func:`plot_certified_accuracy` — certified accuracy (%) against ε for one or more result tables,
  with an optional overlay of reference numbers from a paper (markers), so a reproduction can be
  compared with the published table at a glance.
"""
from __future__ import annotations

import os
import pathlib
from typing import Any, Mapping, Optional, Sequence, Union

from deqtheory.io import atomic_write

__all__ = ["plot_training_curves", "plot_certified_accuracy", "pyplot"]


def pyplot() -> Any:
    """``matplotlib.pyplot`` with the Agg backend (no display)."""
    import matplotlib
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    return plt


def _save(fig: Any, path: "str | os.PathLike[str]") -> pathlib.Path:
    return atomic_write(path, lambda fh: fig.savefig(fh, format="png", dpi=110, bbox_inches="tight"), suffix=".png")


def plot_training_curves(records: Sequence[Mapping[str, Any]], path: "str | os.PathLike[str]", *,
                         title: Optional[str] = None) -> pathlib.Path:
    """Three panels: loss (train/test), accuracy (train/test), lr and ε — against epochs."""
    plt = pyplot()
    ep = [r for r in records if r.get("kind") == "epoch"]
    st = [r for r in records if r.get("kind") == "step"]
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    try:
        ax = axes[0]
        if st:
            ax.plot([r["epoch"] for r in st], [r["loss"] for r in st], color="0.8", lw=0.8, label="train (steps)")
        ax.plot([r["epoch"] for r in ep], [r["train_loss"] for r in ep], "o-", label="train")
        te = [r for r in ep if "test_loss" in r]
        ax.plot([r["epoch"] for r in te], [r["test_loss"] for r in te], "s-", label="test")
        ax.set_xlabel("epoch"), ax.set_ylabel("loss"), ax.legend(fontsize=8)
        ax = axes[1]
        ax.plot([r["epoch"] for r in ep], [100 * r["train_acc"] for r in ep], "o-", label="train")
        ax.plot([r["epoch"] for r in te], [100 * r["test_acc"] for r in te], "s-", label="test (clean)")
        ax.set_xlabel("epoch"), ax.set_ylabel("accuracy (%)"), ax.legend(fontsize=8)
        ax = axes[2]
        src = st if st else ep
        ax.plot([r["epoch"] for r in src], [r["lr"] for r in src], label="lr")
        ax.set_xlabel("epoch"), ax.set_ylabel("learning rate")
        if any(r.get("eps", 0) for r in src):
            ax2 = ax.twinx()
            ax2.plot([r["epoch"] for r in src], [r.get("eps", 0) for r in src], color="C3", label="ε")
            ax2.set_ylabel("ε (pixel units)", color="C3")
        if title:
            fig.suptitle(title)
        return _save(fig, path)
    finally:
        plt.close(fig)


Table = Mapping[str, Any]


def plot_certified_accuracy(tables: Union[Table, Sequence[Table]], path: "str | os.PathLike[str]", *,
                            paper: Optional[Sequence[Mapping[str, Any]]] = None,
                            title: Optional[str] = None) -> pathlib.Path:
    """Certified accuracy (%) vs ε.

    ``tables``: one or several dicts with ``eps`` (list), ``certified_accuracy`` (fractions in
    [0, 1]), optional ``label``/``certifier`` and ``norm``, optional ``clean_accuracy`` (drawn at
    ε = 0 when 0 is not in ``eps``). ``paper``: reference series
    ``{"label", "eps", "certified_accuracy"}`` drawn as unconnected markers."""
    plt = pyplot()
    if isinstance(tables, Mapping):
        tables = [tables]
    fig, ax = plt.subplots(figsize=(5.2, 3.8))
    try:
        norms = set()
        for k, t in enumerate(tables):
            eps = [float(e) for e in t["eps"]]
            acc = [100 * float(a) for a in t["certified_accuracy"]]
            if "clean_accuracy" in t and 0.0 not in eps:
                eps, acc = [0.0] + eps, [100 * float(t["clean_accuracy"])] + acc
            label = t.get("label") or t.get("certifier") or f"run {k}"
            ax.plot(eps, acc, "o-", label=str(label))
            if "norm" in t:
                norms.add(str(t["norm"]))
        for j, p in enumerate(paper or []):
            ax.plot([float(e) for e in p["eps"]], [100 * float(a) for a in p["certified_accuracy"]],
                    linestyle="none", marker="*", markersize=11, label=str(p.get("label", f"paper {j}")))
        nl = "/".join(sorted(norms))
        ax.set_xlabel(f"ε (ℓ{nl}, pixel units)" if nl else "ε (pixel units)")
        ax.set_ylabel("certified accuracy (%)")
        ax.set_ylim(0, 100)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        if title:
            ax.set_title(title)
        return _save(fig, path)
    finally:
        plt.close(fig)
