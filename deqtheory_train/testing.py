"""Test helpers of ``deqtheory_train``: the devices a device-parametrised test runs on.

``@pytest.mark.parametrize("dev", DEVICES)`` runs a test on the CPU always and on ``"cuda"`` when
``torch.cuda.is_available()``; without CUDA the ``cuda`` case is *skipped with that reason* (never
silently dropped), so a CPU-only ``make test`` reports it as a skip and a CUDA machine runs it.
The CUDA test lane is ``tests/test_devices.py`` (``benchmarks/gpu_check.sh`` runs it on a GPU)."""
from __future__ import annotations

import os
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import pytest
import torch

__all__ = ["DEVICES", "device_params", "NO_CUDA_REASON", "mondeq_matrix", "mondeq_problem", "subprocess_env"]

NO_CUDA_REASON = "no CUDA device (torch.cuda.is_available() is False)"


def device_params() -> List[object]:
    """``["cpu", pytest.param("cuda", marks=skipif(no CUDA))]`` — evaluated at import (collection) time."""
    return ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(),
                                                                 reason=NO_CUDA_REASON))]


#: the parameter list of ``@pytest.mark.parametrize("dev", DEVICES)``
DEVICES = device_params()


def subprocess_env(root: "os.PathLike[str] | str") -> Dict[str, str]:
    """The environment of a child process of a test (``torchrun``, a CLI): one BLAS / OpenMP thread, the
    checkout ``root`` first on ``PYTHONPATH``, and none of a parent ``torchrun``'s rank variables or of the
    fault-injection variables of :mod:`deqtheory_train.experiment.run` (a child starts clean)."""
    from .experiment.run import HANG_ENV, HIDE_ENV

    env = dict(os.environ)
    env.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
               PYTHONPATH=str(root) + os.pathsep + env.get("PYTHONPATH", ""))
    for k in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT", HANG_ENV, HIDE_ENV):
        env.pop(k, None)
    return env


def mondeq_matrix(n: int, m: float = 0.5, seed: int = 0) -> np.ndarray:
    r"""W = (1 − m)I − AᵀA + B − Bᵀ (A, B Gaussian / √n): sym(I − W) = mI + AᵀA ⪰ mI, a monotone DEQ."""
    rng = np.random.default_rng(seed)
    A, B = rng.standard_normal((2, n, n)) / np.sqrt(n)
    return (1 - m) * np.eye(n) - A.T @ A + B - B.T


def mondeq_problem(n: int, batch: int, identity: Sequence[int] = (), *, seed: int = 0
                   ) -> Tuple[np.ndarray, np.ndarray, Optional[np.ndarray]]:
    """A solver test problem: ``(W, V, identity_mask)`` with W = :func:`mondeq_matrix` ``(n, seed=seed)``,
    injections V (batch, n) from ``seed + 1``, and the identity mask on the coordinates ``identity``
    (None when empty)."""
    V = np.random.default_rng(seed + 1).standard_normal((batch, n))
    mask = np.isin(np.arange(n), list(identity)) if len(identity) else None
    return mondeq_matrix(n, seed=seed), V, mask
