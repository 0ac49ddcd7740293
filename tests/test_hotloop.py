"""The hot loop of training (issue 14 item 3): m, L and resolvents computed once per matrix and
optimizer step (:class:`deqtheory_train.solvers.SpectralCache`), never stale after a step and
bit-identical to the uncached path; batches gathered on the device (``data.device_resident``) and
the random crop + flip augmentation done there, resume-safe (``data.augment``)."""
from __future__ import annotations

import collections
import copy

import numpy as np
import pytest
import torch

from deqtheory_train import data as D
from deqtheory_train import experiment as X
from deqtheory_train import losses as Lo
from deqtheory_train import solvers as S
from deqtheory_train import train as T
from deqtheory_train.errors import ConfigError
from deqtheory_train.experiment.config import config_fingerprint
from deqtheory_train.layers.conv import ConvMonDEQ
from deqtheory_train.models.linf import LinfDEQClassifier
from deqtheory_train.testing import DEVICES

torch.set_num_threads(1)


@pytest.fixture
def calls(monkeypatch):
    """Counts the calls of the factorizations behind m (eigvalsh), L (matrix_norm) and the resolvents
    (inv for dense W, solve per frequency for conv)."""
    n = collections.Counter()
    for name in ("eigvalsh", "matrix_norm", "inv", "solve"):
        f = getattr(torch.linalg, name)

        def counted(*a, _f=f, _name=name, **k):
            n[_name] += 1
            return _f(*a, **k)
        monkeypatch.setattr(torch.linalg, name, counted)
    return n


def _ibp_model():
    torch.manual_seed(0)
    return LinfDEQClassifier((1, 6, 6), 3, family="ibp_mondeq", width=10, pre_hidden=(12,),
                             solver={"f_solver": "pr"}, lift_solver={"f_solver": "pr"})


def _train(calls, enabled, steps=3):
    """IBP-elided training steps (clean solve of W and interval solve of the lifted M̂, each with its
    implicit backward); per step the call counts, the loss; at the end the parameters."""
    m = _ibp_model()
    opt = torch.optim.Adam(m.parameters(), lr=1e-2)
    g = torch.Generator().manual_seed(1)
    x, y = torch.rand(8, 1, 6, 6, generator=g), torch.randint(0, 3, (8,), generator=g)
    ctx = T.LossContext(eps=0.05, kappa=0.5, epoch=0.0, step=0, norm="inf")
    per_step = []
    with S.spectral_cache(enabled):
        for _ in range(steps):
            calls.clear()
            st = T.train_step(m, opt, Lo.ibp_elided_loss, {}, x, y, ctx)
            per_step.append((dict(calls), st["loss_sum"], st["bw_iters"]))
    return per_step, [p.detach().clone() for p in m.parameters()]


def test_one_norm_and_one_inverse_per_matrix_and_step_bit_identical_to_uncached(calls):
    on, p_on = _train(calls, True)
    off, p_off = _train(calls, False)
    for (c_on, loss_on, bw), (c_off, loss_off, _) in zip(on, off):
        assert bw > 0                                   # the backward (adjoint PR) solves ran
        # two distinct matrices per step (W and the lift M̂): one ‖I − ·‖₂ and one inverse each,
        # shared by the forward and the adjoint solve (Rᵀ); uncached, each solve forms its own
        assert c_on.get("inv", 0) == 2 and c_on.get("matrix_norm", 0) == 2
        assert c_off.get("inv", 0) == 4 and c_off.get("matrix_norm", 0) == 4
        assert loss_on == loss_off
    assert all(torch.equal(a, b) for a, b in zip(p_on, p_off))


def test_a_parametrized_weight_computed_twice_is_recognised(calls):
    m = _ibp_model()
    with S.spectral_cache(True) as cache:
        W1, W2 = m.layer.weight(), m.layer.weight()        # two tensors, same values
        assert W1 is not W2
        h = cache.hits
        assert S.DenseOperator(W1).L == S.DenseOperator(W2).L
        assert calls["matrix_norm"] == 1 and cache.hits == h + 1


@pytest.mark.parametrize("dev", DEVICES)
def test_never_stale_after_an_optimizer_step(calls, dev):
    rng = np.random.default_rng(4)
    W = torch.nn.Parameter(torch.tensor(0.3 * rng.standard_normal((6, 6)), device=dev))
    opt = torch.optim.SGD([W], lr=0.1)
    with S.spectral_cache(True):
        op = S.DenseOperator(W)
        m0, L0 = op.m, op.L
        R0 = op.resolvent(0.7)[0](torch.eye(6, dtype=W.dtype, device=dev))
        assert (S.DenseOperator(W).m, S.DenseOperator(W).L) == (m0, L0)   # same object, same version: hits
        n = calls["eigvalsh"]
        assert n == 1
        (W ** 2).sum().backward()
        opt.step()                                         # in place: W._version bumps
        op1 = S.DenseOperator(W)
        m1, L1 = op1.m, op1.L
        R1 = op1.resolvent(0.7)[0](torch.eye(6, dtype=W.dtype, device=dev))
        assert calls["eigvalsh"] == n + 1 and m1 != m0 and L1 != L0 and not torch.equal(R1, R0)
        with S.spectral_cache(False):
            fresh = S.DenseOperator(W)
            assert (fresh.m, fresh.L) == (m1, L1)
            assert torch.equal(fresh.resolvent(0.7)[0](torch.eye(6, dtype=W.dtype, device=dev)), R1)
        # replacing the storage (.data =, no version bump) is seen too
        with torch.no_grad():
            W.data = W.data * 0.5
        L2 = S.DenseOperator(W).L
        with S.spectral_cache(False):
            assert L2 != L1 and L2 == S.DenseOperator(W).L


def test_keys_compare_bits_and_cache_is_bounded():
    c = S.SpectralCache(maxsize=2)
    z = torch.zeros(3)
    c.values("k", z)["v"] = 1
    assert c.values("k", torch.zeros(3)) == {"v": 1}            # equal values, another tensor: a hit
    assert c.values("k", -torch.zeros(3)) == {}                # −0.0: other bits, another entry
    assert c.values("j", torch.zeros(3)) == {}                 # other scalar part of the key
    assert c.values("k", torch.zeros(3)) == {}                 # evicted (LRU, 2 entries)
    assert c.values("k", torch.zeros(3, dtype=torch.float64)) == {}
    z.add_(1.0)                                                # in place on a cached object: not a hit
    c.values("k", z)["v"] = 2
    z.add_(1.0)
    assert c.values("k", z) == {}


def test_evaluation_batches_share_one_resolvent(calls):
    m = _ibp_model().eval()
    x = torch.rand(30, 1, 6, 6, generator=torch.Generator().manual_seed(2))
    y = torch.zeros(30, dtype=torch.int64)
    for enabled, expected in ((True, 1), (False, 3)):
        calls.clear()
        with S.spectral_cache(enabled):
            T.evaluate(m, x.numpy(), y.numpy(), batch_size=10, device=torch.device("cpu"))
        assert calls["inv"] == expected


def test_conv_operators_share_resolvents_across_forwards(calls):
    torch.manual_seed(0)
    layer = ConvMonDEQ(1, 3, 3, m=0.5, dtype=torch.float64)
    x = torch.rand(2, 1, 5, 5, dtype=torch.float64)
    outs = {}
    for enabled, expected in ((True, 1), (False, 2)):
        calls.clear()
        with S.spectral_cache(enabled), torch.no_grad():
            outs[enabled] = [layer(x), layer(x)]
        assert calls["solve"] == expected and calls["matrix_norm"] == expected
    assert all(torch.equal(a, b) for a, b in zip(outs[True], outs[False]))
    with S.spectral_cache(True), torch.no_grad():
        layer(x)
        layer.B.add_(0.01)                                     # a parameter update: new values, new entry
        calls.clear()
        layer(x)
        assert calls["solve"] == 1


@pytest.mark.parametrize("family", ["conv_ibp_mondeq", "conv_nemon", "conv_cerdeq"])
def test_conv_linf_operators_share_values_under_their_kernel_at_any_size(calls, monkeypatch, family):
    """The conv l_inf families' W and lift operators are keyed by their kernel and grid, so the values are
    shared between operators even when the blocks are too large to be their own key (the full-size DEQ-3:
    FREQ_KEY_MAX_NUMEL forced to 0 here): a second clean + interval pass of the same model factorizes
    nothing, and after a parameter update everything is recomputed."""
    from deqtheory_train import registry as R
    from deqtheory_train.layers import conv as C
    monkeypatch.setattr(C, "FREQ_KEY_MAX_NUMEL", 0)
    builders = {"conv_ibp_mondeq": ("deq3_linf", {"stem": [[4, 3, 1]], "channels": 4, "pool": 2, "init": "ibp"}),
                "conv_nemon": ("deq3_linf", {"family": "nemon", "stem": [[4, 3, 1]], "channels": 4, "pool": 2,
                                             "init": "ibp"}),
                "conv_cerdeq": ("conv_cerdeq_cpu_linf", {"deqs": [[4, 3, 2]], "linear": [6]})}
    builder, kw = builders[family]
    torch.manual_seed(0)
    model = R.build_model(builder, (1, 8, 8), 3, **kw).double()
    for mod in model.modules():                  # the resolvent-based solver, so the inverses are counted
        for name in ("solver_options", "lift_options"):
            if isinstance(getattr(mod, name, None), dict):
                getattr(mod, name)["f_solver"] = "pr"
    x = torch.rand(4, 1, 8, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    y = torch.zeros(4, dtype=torch.int64)
    ctx = T.LossContext(eps=0.02, kappa=0.5, epoch=0.0, step=0, norm="inf")

    def passes():
        calls.clear()
        with torch.no_grad():
            Lo.ibp_elided_loss(model, x, y, ctx)
        return dict(calls)

    with S.spectral_cache(True):
        first = passes()
        assert first.get("solve", 0) + first.get("inv", 0) >= 2           # W and the lift were factorized
        assert not any(passes().values())                                 # ... once: the second pass reuses
        with torch.no_grad():
            for p in model.parameters():
                p.mul_(1 + 1e-6)
        assert passes() == first                                          # new kernel values: recomputed


# ----------------------------------------------------------------------------------------------
# batches on the device, augmentation
# ----------------------------------------------------------------------------------------------

def _reference_augment(x, P, flip, seed, dev):
    """Per-sample loop on the CPU: pad with zeros, crop at the drawn offsets, flip — the same draws
    (same device generator, same order) as :func:`deqtheory_train.data.augment_batch`."""
    g = torch.Generator(device=dev).manual_seed(seed)
    B, C, H, W = x.shape
    kw = {"generator": g, "device": dev}
    oi = torch.randint(0, 2 * P + 1, (B,), **kw).cpu() if P else torch.zeros(B, dtype=torch.int64)
    oj = torch.randint(0, 2 * P + 1, (B,), **kw).cpu() if P else torch.zeros(B, dtype=torch.int64)
    f = torch.randint(0, 2, (B, 1), **kw).cpu().bool()[:, 0] if flip else torch.zeros(B, dtype=torch.bool)
    out = torch.empty_like(x)
    for b in range(B):
        p = np.pad(x[b].numpy(), ((0, 0), (P, P), (P, P)))
        c = p[:, oi[b]:oi[b] + H, oj[b]:oj[b] + W]
        out[b] = torch.from_numpy(np.ascontiguousarray(c[:, :, ::-1] if f[b] else c))
    return out, oi, oj, f


@pytest.mark.parametrize("dev", DEVICES)
@pytest.mark.parametrize("P,flip", [(2, True), (3, False), (0, True)])
def test_augment_is_the_per_sample_crop_and_flip(P, flip, dev):
    x = torch.rand(16, 3, 5, 7, generator=torch.Generator().manual_seed(0))
    got = D.augment_batch(x.to(dev), crop=P, flip=flip, generator=torch.Generator(device=dev).manual_seed(11))
    assert got.device.type == dev
    got = got.cpu()
    ref, oi, oj, f = _reference_augment(x, P, flip, 11, dev)
    assert torch.equal(got, ref)
    assert got.shape == x.shape and 0 <= float(got.min()) and float(got.max()) <= 1
    if P:
        assert len(set(oi.tolist())) > 1 and len(set(oj.tolist())) > 1
    if flip:
        assert 0 < int(f.sum()) < len(f)
    assert D.augment_batch(x, crop=0, flip=False, generator=None) is x


@pytest.mark.parametrize("dev", DEVICES)
def test_augment_generator_depends_on_seed_rank_step_only(dev):
    x = torch.rand(8, 1, 6, 6, generator=torch.Generator().manual_seed(0)).to(dev)

    def aug(seed, rank, step):
        return D.augment_batch(x, crop=2, flip=True, generator=D.augment_generator(seed, rank, step, dev))
    assert torch.equal(aug(0, 0, 5), aug(0, 0, 5))
    assert not torch.equal(aug(0, 0, 5), aug(0, 1, 5))
    assert not torch.equal(aug(0, 0, 5), aug(0, 0, 6))
    assert not torch.equal(aug(0, 0, 5), aug(1, 0, 5))


@pytest.mark.parametrize("bad,where", [
    ({"crop": -1}, "data.augment.crop"), ({"crop": True}, "data.augment.crop"), ({"crop": "4"}, "data.augment.crop"),
    ({"flip": "yes"}, "data.augment.flip"), ({"rotate": 5}, "rotate"), ([4, True], "data.augment"),
])
def test_augment_config_is_validated(bad, where):
    cfg = copy.deepcopy(TINY)
    cfg["data"]["augment"] = bad
    with pytest.raises(ConfigError, match=where):
        X.validate_config(cfg)


def test_config_defaults_and_fingerprint():
    c = X.validate_config(TINY)
    assert c["data"]["augment"] is None and c["data"]["device_resident"] is None
    off = copy.deepcopy(TINY)
    off["data"]["device_resident"] = False
    assert config_fingerprint(X.validate_config(off)) == config_fingerprint(c)
    off["data"]["device_resident"] = "yes"
    with pytest.raises(ConfigError, match="device_resident"):
        X.validate_config(off)
    aug = copy.deepcopy(TINY)
    aug["data"]["augment"] = {"crop": 1, "flip": True}
    assert config_fingerprint(X.validate_config(aug)) != config_fingerprint(c)
    none = copy.deepcopy(TINY)
    none["data"]["augment"] = {"crop": 0, "flip": False}
    assert X.validate_config(none)["data"]["augment"] is None


@pytest.mark.parametrize("dev", DEVICES)
def test_resident_budget_rule_and_resident_batches_equal_host_batches(dev):
    assert D.resident_fits(D.RESIDENT_CPU_BYTES, "cpu") and not D.resident_fits(D.RESIDENT_CPU_BYTES + 1, "cpu")
    ds = D.load_dataset("synthetic", "train", n=20, shape=(1, 4, 4), num_classes=3)
    x, y = D.to_device_arrays(ds, dev, torch.float64, None)       # a few bytes: within every budget
    assert isinstance(x, torch.Tensor) and x.dtype == torch.float64 and x.device.type == dev
    hx, hy = D.to_device_arrays(ds, dev, torch.float64, False)
    assert hx is ds.x and hy is ds.y
    idx = np.array([5, 0, 19, 5])
    a, b = D.take_batch(x, y, idx, dev, torch.float64), D.take_batch(hx, hy, idx, dev, torch.float64)
    assert a[0].device.type == b[0].device.type == dev
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])


TINY = {
    "name": "tiny_aug", "seed": 3, "epochs": 1,
    "model": {"builder": "mlp", "kwargs": {"hidden": [10]}},
    "data": {"dataset": "synthetic", "kwargs": {"n": 160, "shape": [1, 5, 5], "num_classes": 3, "noise": 0.6},
             "batch_size": 16, "eval_batch_size": 40},
    "optimizer": {"name": "adam", "lr": 0.02},
    "loss": {"name": "ce"},
    "checkpoint": {"every_steps": 0},
    "log": {"every_steps": 1, "progress": False, "plot_every_epochs": 0},
}


def _weights(path):
    arrays, _ = X.load_checkpoint(path)
    return {k: v for k, v in arrays.items() if k.startswith("model/")}


def _same(a, b):
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def test_resume_with_augmentation_is_bitwise_and_residency_changes_nothing(tmp_path):
    aug = copy.deepcopy(TINY)
    aug["data"]["augment"] = {"crop": 1, "flip": True}
    ref = X.run_experiment(aug, tmp_path / "ref", progress=False)                 # 10 steps
    s = X.run_experiment(aug, tmp_path / "cut", max_steps=4, progress=False)
    assert s["status"] == "stopped"
    done = X.run_experiment(aug, tmp_path / "cut", resume=True, progress=False)
    assert done["test_loss"] == ref["test_loss"]
    w_ref = _weights(tmp_path / "ref" / "model.npz")
    assert _same(_weights(tmp_path / "cut" / "model.npz"), w_ref)
    # the augmentation is on (another run without it trains other weights) …
    X.run_experiment(TINY, tmp_path / "plain", progress=False)
    assert not _same(_weights(tmp_path / "plain" / "model.npz"), w_ref)
    # … and host batches train bitwise as device-resident ones
    host = copy.deepcopy(aug)
    host["data"]["device_resident"] = False
    h = X.run_experiment(host, tmp_path / "host", progress=False)
    assert h["test_loss"] == ref["test_loss"]
    assert _same(_weights(tmp_path / "host" / "model.npz"), w_ref)
