r"""Helpers shared by the model builders: the solver keywords a DEQ builder accepts, the optional
input normalisation, the explicit ``Normalize → Flatten → (Linear → ReLU)*`` feature stack, and the
``init_from`` source model of the conversion builders."""
from __future__ import annotations

from typing import Any, Dict, Iterable, Mapping, Optional, Sequence

import torch
from torch import nn

from ..data import Normalize
from ..errors import ConfigError

__all__ = ["SOLVER_KW", "solver_kw", "normalize_or_identity", "source_model", "relu_stack"]

#: Solver keywords accepted by the DEQ builders (forwarded to the layer's solver options).
SOLVER_KW = ("f_solver", "f_tol", "f_max_iter", "f_stop_mode", "b_solver", "b_tol", "b_max_iter",
             "b_stop_mode", "grad", "alpha", "check_every", "allow_tf32")


def solver_kw(kw: Mapping[str, Any]) -> Dict[str, Any]:
    bad = set(kw) - set(SOLVER_KW)
    if bad:
        raise ConfigError(f"model.kwargs: unknown key(s) {sorted(bad)}")
    return dict(kw)


def normalize_or_identity(normalize: Optional[Mapping[str, Sequence[float]]]) -> nn.Module:
    return Normalize(**normalize) if normalize else nn.Identity()


def source_model(init_from: Any) -> nn.Module:
    """The source model of a conversion builder. Configs give ``init_from`` as the path of the source
    run's ``model.npz``; :func:`deqtheory_train.experiment.build_model_from_config` loads it and passes
    the model here."""
    if not isinstance(init_from, nn.Module):
        raise ConfigError("model.kwargs.init_from: the source model (a config gives the path of the source run's "
                          f"model.npz, which deqtheory_train.experiment loads); got {type(init_from).__name__}")
    return init_from


def relu_stack(norm: Optional[nn.Module], linears: Iterable[nn.Module], x: torch.Tensor) -> torch.Tensor:
    """``(Linear → ReLU)*`` applied to the flattened, optionally normalised ``x`` (N, C, H, W)."""
    if norm is not None:
        x = norm(x)
    h = x.flatten(1)
    for lin in linears:
        h = torch.relu(lin(h))
    return h
