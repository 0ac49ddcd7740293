"""Regenerate the bundled example model files (deterministic).

    .venv/bin/python examples/make_examples.py

mondeq_small.npz — a MonDEQ (havens2023 eq. 5) W = (1 − m)I − AᵀA + B − Bᵀ with m = 0.5,
n = 12 hidden units, d = 6 inputs, p = 3 outputs, ‖U‖₂ scaled to 1.
"""
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def mondeq_small(seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    n, d, p, m = 12, 6, 3, 0.5
    A = rng.standard_normal((n, n)) / np.sqrt(n) * 0.6
    B = rng.standard_normal((n, n)) / np.sqrt(n) * 0.3
    W = (1 - m) * np.eye(n) - A.T @ A + B - B.T
    U = rng.standard_normal((n, d))
    U /= np.linalg.norm(U, 2)
    return {"W": W, "U": U, "b": 0.1 * rng.standard_normal(n), "G": rng.standard_normal((p, n)) / np.sqrt(n),
            "b_y": np.zeros(p), "kind": np.asarray("deq")}


if __name__ == "__main__":
    np.savez(HERE / "mondeq_small.npz", **mondeq_small())
    print("wrote", HERE / "mondeq_small.npz")


def sll_small(seed: int = 1):
    """A 3-layer SLL stack on R^4 (havens2023 §2.4) and 8 inputs, for the conversion demo."""
    from deqtheory import explicit as ex

    rng = np.random.default_rng(seed)
    return ex.random_sll_stack(rng, 4, [6, 6, 6]), rng.normal(size=(8, 4))


if __name__ == "__main__":
    from deqtheory import formats as fm

    net, X = sll_small()
    fm.save_model(HERE / "sll_small.npz", net)
    np.save(HERE / "x_small.npy", X)
    print("wrote", HERE / "sll_small.npz", HERE / "x_small.npy")
