"""Symmetry-reduced SDP for circular convolutions equals the dense SDP (deqtheory.sdp.conv)."""
from __future__ import annotations

import numpy as np
import pytest

from deqtheory.circulant import conv_matrix, kernel_to_freq
from deqtheory.sdp import lipschitz_certificate, min_lipschitz
from deqtheory.sdp.conv import (conv_min_lipschitz, expand_channel_multiplier, freq_blocks_direct,
                                representative_frequencies)


def _kernels(rng, c, ci, co, k, scale=0.15):
    KW = scale * rng.standard_normal((c, c, k, k))
    return KW, rng.standard_normal((c, ci, k, k)), rng.standard_normal((co, c, k, k))


def test_direct_blocks_match_circulant_fft(rng):
    K = rng.standard_normal((2, 3, 3, 3))
    N = 5
    om = representative_frequencies(N)
    direct, err = freq_blocks_direct(K, N, om)
    fft = kernel_to_freq(K, N)[om[:, 0], om[:, 1]]
    assert np.all(np.abs(direct - fft) <= err[None] + 1e-13)
    assert len(om) == (N * N + 1) // 2


@pytest.mark.parametrize("N,k", [(3, 3), (4, 2)])
def test_reduced_l_equals_dense_l(rng, N, k):
    """Channel-constant Λ loses nothing (group averaging) and the DFT splits the LMI: reduced L* = dense L*."""
    c, ci, co = 2, 1, 2
    KW, KU, KG = _kernels(rng, c, ci, co, k)
    W, U, G = conv_matrix(KW, N), conv_matrix(KU, N), conv_matrix(KG, N)
    dense = min_lipschitz(W, U, G, backend="structured")
    red = conv_min_lipschitz(KW, KU, KG, N)
    assert dense.certified and red.certified, (dense.message, red.message)
    Ld, Lr = dense.witness["L"], red.witness["L"]
    assert abs(Lr - Ld) <= 1e-6 * Ld
    # the reduced witness, expanded to pixels, is a dense certificate too (dense oracle)
    lam = expand_channel_multiplier(red.witness["lam_c"], N)
    assert lipschitz_certificate(W, U, G, Lr * (1 + 1e-9), lam=lam).certified
    assert red.verify(KW=KW, KU=KU, KG=KG).certified
    # perturbed reduced witness is rejected
    bad = red.replace(witness={**dict(red.witness), "L": Ld * (1 - 1e-3)})
    assert not bad.verify(KW=KW, KU=KU, KG=KG).certified
