"""Model files: ``.npz`` archives read with ``allow_pickle=False`` (loading a file never runs code).

A DEQ model file holds arrays ``W`` (required) and optionally ``U``, ``b``, ``G``, ``b_y``;
an optional 0-d string array ``kind`` names the family (default ``"deq"``). See docs/formats.md.
"""
from __future__ import annotations

import os
import pathlib
import tempfile
import zipfile
import zlib
from typing import Any, BinaryIO, Callable, Dict, Iterable, Mapping, Optional

import numpy as np

from ._validate import as_array
from .errors import DEQInputError, ModelFileError

__all__ = ["load_npz", "load_npy", "save_npz", "load_deq_arrays", "atomic_write", "check_npy_header",
           "DEQ_KEYS", "MAX_ARRAY_ELEMENTS", "check_npz_headers", "load_npz_raw", "json_object"]

DEQ_KEYS = ("W", "U", "b", "G", "b_y")

#: Largest number of elements one stored array may declare (2**30, i.e. 8 GiB as float64). Every
#: ``.npy`` header — each member of an ``.npz`` and an ``eval`` input — is checked against it
#: *before* any data is read, so a crafted header declaring a huge shape cannot allocate memory.
MAX_ARRAY_ELEMENTS = 2 ** 30


def check_npy_header(fh: BinaryIO, name: str, *, limit: Optional[int] = None, size: Optional[int] = None) -> tuple:
    """Read and check the ``.npy`` header at the start of ``fh`` (format 1.0/2.0/3.0) without reading data.

    Returns ``(shape, dtype)``. Raises :class:`ModelFileError` naming ``name`` for an unreadable
    header, an object dtype (a pickle), a shape with more than ``limit`` (default
    :data:`MAX_ARRAY_ELEMENTS`) elements or more than ``8·limit`` bytes (wide dtypes such as ``V``/``S``
    items) — counted in exact integers, so no overflow — and, when ``size`` (the bytes of the whole
    ``.npy``: the file's size, or a zip member's uncompressed size) is given, a header that declares
    more data than the file holds. numpy allocates the declared array *before* it reads the data, so
    this last check is what keeps a 64-byte file from allocating the 8 GiB its header declares."""
    from numpy.lib import format as npf

    limit = MAX_ARRAY_ELEMENTS if limit is None else limit
    try:
        version = npf.read_magic(fh)
        if version == (1, 0):
            shape, _, dtype = npf.read_array_header_1_0(fh)
        elif version in ((2, 0), (3, 0)):
            shape, _, dtype = npf.read_array_header_2_0(fh)
        else:  # pragma: no cover - read_magic accepts only known majors
            raise ValueError(f"unsupported .npy format version {version}")
    except (ValueError, EOFError, OSError, SyntaxError, TypeError, UnicodeDecodeError) as exc:
        raise ModelFileError(f"{name}: unreadable .npy header ({exc})") from None
    if dtype.hasobject:
        raise ModelFileError(f"{name}: object array (dtype {dtype}) cannot be read without pickle")
    count = 1
    for d in shape:
        count *= int(d)
    nbytes = count * int(dtype.itemsize)
    if count > limit or nbytes > 8 * limit:
        raise ModelFileError(f"{name}: header declares shape {tuple(shape)} ({count} elements of {dtype}), "
                             f"above the limit of {limit} elements (of 8 bytes) per array (io.MAX_ARRAY_ELEMENTS)")
    if size is not None and nbytes > size - fh.tell():
        raise ModelFileError(f"{name}: header declares shape {tuple(shape)} of {dtype} ({nbytes} bytes) but the "
                             f"file holds {max(size - fh.tell(), 0)} bytes of data (truncated or forged header)")
    return tuple(shape), dtype


def check_npz_headers(p: str) -> None:
    """:func:`check_npy_header` on every ``.npy`` member of the archive ``p`` (before ``np.load``)."""
    with zipfile.ZipFile(p) as zf:
        for info in zf.infolist():
            key = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
            with zf.open(info) as fh:
                check_npy_header(fh, f"{p}:{key}", size=info.file_size)


def load_npy(path: "str | os.PathLike[str]") -> np.ndarray:
    """Read one ``.npy`` array with ``allow_pickle=False`` after checking its header
    (:func:`check_npy_header`); :class:`ModelFileError` naming the file for a missing, unreadable,
    oversized or truncated file. The array is returned as stored (dtype checks are the caller's)."""
    p = os.fspath(path)
    if not os.path.exists(p):
        raise ModelFileError(f"{p}: no such file")
    if os.path.isdir(p):
        raise ModelFileError(f"{p}: is a directory, expected an .npy file")
    try:
        with open(p, "rb") as fh:
            check_npy_header(fh, p, size=os.fstat(fh.fileno()).st_size)
        return np.load(p, allow_pickle=False)
    except ModelFileError:
        raise
    except (ValueError, OSError, EOFError) as exc:
        raise ModelFileError(f"{p}: not a readable .npy array without pickle ({exc})") from None


def _readable_file(p: str, what: str) -> None:
    if not os.path.exists(p):
        raise ModelFileError(f"{p}: no such file")
    if os.path.isdir(p):
        raise ModelFileError(f"{p}: is a directory, expected {what}")
    if not zipfile.is_zipfile(p):
        raise ModelFileError(f"{p}: not an .npz archive (not a zip file)")


def load_npz_raw(path: "str | os.PathLike[str]") -> Dict[str, np.ndarray]:
    """Every member of an ``.npz`` archive **as stored** (no dtype conversion), read with
    ``allow_pickle=False`` after :func:`check_npz_headers`; :class:`ModelFileError` naming the file for
    a missing, non-zip, truncated, corrupt or oversized archive and for object members. The one raw
    reader for files whose arrays are not model arrays (certifications, checkpoints)."""
    p = os.fspath(path)
    _readable_file(p, "an .npz file")
    try:
        check_npz_headers(p)
        with np.load(p, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    except ModelFileError:
        raise
    except (zipfile.BadZipFile, zlib.error, NotImplementedError, OSError, EOFError, KeyError, ValueError) as exc:
        raise ModelFileError(f"{p}: truncated or corrupt .npz archive ({type(exc).__name__}: {exc})") from None


def json_object(name: str, stored: Any) -> Dict[str, Any]:
    """The JSON object stored in an array (a 0-d / one-element string array, or ``uint8`` bytes of
    UTF-8 text): :class:`ModelFileError` naming ``name`` when it is not text, not JSON, or a JSON
    value other than an object (a list, a number, ``null``)."""
    import json

    a = np.asarray(stored)
    if a.dtype == np.uint8 and a.ndim == 1:
        try:
            text = a.tobytes().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ModelFileError(f"{name}: not UTF-8 text ({exc})") from None
    elif a.dtype.kind in "US" and a.size == 1:
        v = a.reshape(-1)[0]
        text = v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)
    else:
        raise ModelFileError(f"{name}: expected JSON text, got an array of dtype {a.dtype} and shape {a.shape}")
    try:
        obj = json.loads(text)
    except ValueError as exc:
        raise ModelFileError(f"{name}: not valid JSON ({exc})") from None
    if not isinstance(obj, dict):
        raise ModelFileError(f"{name}: expected a JSON object, got a JSON {type(obj).__name__}")
    return obj


def load_npz(path: "str | os.PathLike[str]", *, required: Iterable[str] = (),
             check_finite: bool = True) -> Dict[str, Any]:
    """Read every array of an ``.npz`` file into a dict (numeric arrays as float64, strings as str).

    Every member's ``.npy`` header is checked first (:func:`check_npy_header`: shape at most
    :data:`MAX_ARRAY_ELEMENTS` elements, no object dtype), so nothing is allocated for a crafted
    header. Raises :class:`ModelFileError` naming the file when it is missing, not an npz archive,
    truncated / corrupt, declares an oversized array, holds object arrays (pickles), or lacks a ``required`` array; numeric
    arrays go through the usual validators (so NaN/Inf, complex or empty arrays raise typed errors
    that name ``file:array``).
    """
    p = os.fspath(path)
    _readable_file(p, "an .npz file")
    out: Dict[str, Any] = {}
    try:
        check_npz_headers(p)
        with np.load(p, allow_pickle=False) as data:
            names = list(data.files)
            for key in names:
                try:
                    arr = data[key]
                except ValueError as exc:  # object arrays need pickle
                    raise ModelFileError(f"{p}:{key}: cannot be read without pickle ({exc})") from None
                if arr.dtype.kind in "US":
                    out[key] = str(arr.reshape(-1)[0]) if arr.size == 1 else [str(a) for a in arr.reshape(-1)]
                else:
                    out[key] = as_array(f"{p}:{key}", arr, check_finite=check_finite)
    except ModelFileError:
        raise
    except (zipfile.BadZipFile, zlib.error, NotImplementedError, OSError, EOFError, KeyError) as exc:
        raise ModelFileError(f"{p}: truncated or corrupt .npz archive ({type(exc).__name__}: {exc})") from None
    except ValueError as exc:
        if isinstance(exc, DEQInputError):
            raise
        raise ModelFileError(f"{p}: unreadable .npz archive ({exc})") from None
    missing = [k for k in required if k not in out]
    if missing:
        raise ModelFileError(f"{p}: missing required array(s) {missing}; found {sorted(out)}")
    return out


def atomic_write(path: "str | os.PathLike[str]", write: Callable[[BinaryIO], Any], *,
                 suffix: str = ".tmp") -> pathlib.Path:
    """Write a file atomically: ``write(fh)`` fills a temporary file in the same directory, which is
    flushed, fsynced and moved over ``path`` with ``os.replace``; the directory is then fsynced. A crash
    or an exception leaves either the old file or the new one, never a partial file (the temporary file
    is removed on error). ``suffix`` is the temporary file's ending (matplotlib picks its format from it).
    Returns ``path`` as a :class:`pathlib.Path`. The one atomic-write helper of both packages."""
    p = pathlib.Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=suffix, dir=str(p.parent))
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, p)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    try:
        dfd = os.open(str(p.parent), os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:  # pragma: no cover - directories cannot be fsynced on some filesystems
        pass
    return p


def save_npz(path: "str | os.PathLike[str]", arrays: Mapping[str, Any], *, kind: Optional[str] = None) -> None:
    """Write arrays (and an optional ``kind`` string) to an ``.npz`` file atomically."""
    p = os.fspath(path)
    payload = {k: np.asarray(v) for k, v in arrays.items() if v is not None}
    for k, v in payload.items():
        if v.dtype == object:
            raise ModelFileError(f"{p}:{k}: object arrays cannot be saved (no pickles)")
    if kind is not None:
        payload["kind"] = np.asarray(kind)
    atomic_write(p, lambda fh: np.savez(fh, **payload))


def load_deq_arrays(path: "str | os.PathLike[str]") -> Dict[str, Any]:
    """Load a model file as DEQ arrays ``{"kind", "W", "U", "b", "G", "b_y", "identity_mask"}`` (absent
    arrays → None): :func:`deqtheory.formats.load_model` (the one reading path for every kind)."""
    from .formats import load_model

    return load_model(path)
