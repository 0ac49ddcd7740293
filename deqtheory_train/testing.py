"""Test helpers of ``deqtheory_train``: the devices a device-parametrised test runs on.

``@pytest.mark.parametrize("dev", DEVICES)`` runs a test on the CPU always and on ``"cuda"`` when
``torch.cuda.is_available()``; without CUDA the ``cuda`` case is *skipped with that reason* (never
silently dropped), so a CPU-only ``make test`` reports it as a skip and a CUDA machine runs it.
The CUDA test lane is ``tests/test_devices.py`` (``benchmarks/gpu_check.sh`` runs it on a GPU)."""
from __future__ import annotations

from typing import List

import pytest
import torch

__all__ = ["DEVICES", "device_params", "NO_CUDA_REASON"]

NO_CUDA_REASON = "no CUDA device (torch.cuda.is_available() is False)"


def device_params() -> List[object]:
    """``["cpu", pytest.param("cuda", marks=skipif(no CUDA))]`` — evaluated at import (collection) time."""
    return ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(),
                                                                 reason=NO_CUDA_REASON))]


#: the parameter list of ``@pytest.mark.parametrize("dev", DEVICES)``
DEVICES = device_params()
