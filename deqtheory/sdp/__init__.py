r"""SDP certificates for DEQs (havens2023 §2.2–§3): well-posedness (3), Lipschitz (4)/(10), minimal L.

Public API::

    sdp_wellposed(W, backend=...) -> Certificate("sdp_wellposed")
    lipschitz_certificate(W, U, G, L, strict=True, lam=None, wellposed=None, backend=...) -> Certificate
    min_lipschitz(W, U, G, backend=..., wellposed=None, fallback=True, w_error=0.0, u_error=0.0, g_error=0.0)
        -> Certificate("lipschitz_lmi")   # *_error: proved bounds on the stored model's W, U, G minus the computed ones
        (stats["minimal"]: proved within 1e-6 of a refuted lower bound, deqtheory.sdp.minimal)
    save_certificate(path, cert) / load_certificate(path)

    conv.conv_min_lipschitz(KW, KU, KG, N, backend=...) -> Certificate("l2_sdp_conv")

``lipschitz_certificate`` returns REFUTED (witness ``V``) when the dual matrix proves that no
diagonal Λ ⪰ 0 satisfies (10) at L (:func:`deqtheory.sdp.lmi.verify_lipschitz_refutation`).

Backends: ``"structured"`` (default; :mod:`deqtheory.sdp.ipm`, block-diagonal version
:mod:`deqtheory.sdp.blockipm` for the reduced convolutional SDP), ``"cvxopt"``, ``"clarabel"``,
``"scs"`` (through cvxpy). See docs/sdp.md.
"""
from .api import BACKENDS, DEFAULT_BACKEND, lipschitz_certificate, min_lipschitz, sdp_wellposed
from .io import load_certificate, save_certificate
from . import lmi  # noqa: F401  (registers the verifiers)

__all__ = ["BACKENDS", "DEFAULT_BACKEND", "sdp_wellposed", "lipschitz_certificate", "min_lipschitz",
           "save_certificate", "load_certificate"]
