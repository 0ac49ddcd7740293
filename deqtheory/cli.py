"""Command-line interface: ``deqtheory check | verify | verify-certification | convert | eval | theorems``.

Exit status: 0 on success, 1 when a certificate or a certification does not verify, ``eval`` finds
no fixed point, or ``theorems --check`` finds a failing entry, 2 on bad input (usage or file).

Conventions shared with ``deqtheory-train`` (docs/cli.md): errors are **one line** on stderr
(``deqtheory check: error: …``); ``--json`` prints one JSON object on stdout and ``--json-out PATH``
writes it to a file (both may be given); with ``--json`` an error is also printed on stdout as
``{"error": "…", "exit": 2}``.
"""
from __future__ import annotations

import argparse
import functools
import json
import sys
from typing import Any, Callable, List, Optional, Sequence

from .errors import DEQInputError

__all__ = ["main", "build_parser", "OneLineParser", "report_error", "emit_json", "set_blas_threads", "blas_threads"]


def report_error(prog: str, message: str, *, as_json: bool = False, code: int = 2) -> int:
    """The one error convention of both command lines: ``prog: error: message`` as **one line** on
    stderr and, with ``as_json``, ``{"error": message, "exit": code}`` on stdout. Returns ``code``."""
    msg = " ".join(str(message).split())
    if as_json:
        sys.stdout.write(json.dumps({"error": msg, "exit": code}) + "\n")
    sys.stderr.write(f"{prog}: error: {msg}\n")
    return code


def emit_json(obj: Any, *, stdout: bool, path: Optional[str], indent: Optional[int] = 2) -> None:
    """``--json`` (``stdout``) and ``--json-out PATH`` (``path``, written atomically, parent directories
    created): the one JSON output convention of both command lines."""
    from .certificates import to_jsonable

    text = json.dumps(to_jsonable(obj), indent=indent) + "\n"
    if path:
        from .io import atomic_write

        atomic_write(path, lambda fh: fh.write(text.encode()), suffix=".json")
    if stdout:
        sys.stdout.write(text)


class OneLineParser(argparse.ArgumentParser):
    """argparse whose usage errors are one line (exit 2), via :func:`report_error` (``json_errors``:
    also as a JSON object on stdout)."""

    def __init__(self, *args: Any, json_errors: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.json_errors = json_errors

    def error(self, message: str) -> "Any":  # type: ignore[override]
        report_error(self.prog, f"{message} (see --help)", as_json=self.json_errors)
        sys.exit(2)

    def add_subparsers(self, **kwargs: Any) -> Any:
        kwargs.setdefault("parser_class", functools.partial(type(self), json_errors=self.json_errors))
        return super().add_subparsers(**kwargs)


def _openblas_calls(action: str) -> List[Any]:
    """``*openblas_{action}_num_threads*`` of every OpenBLAS loaded in this process (numpy's and scipy's
    bundled copies), found through ``/proc/self/maps`` (Linux; elsewhere none)."""
    import ctypes

    try:
        with open("/proc/self/maps") as fh:
            libs = sorted({line.split()[-1] for line in fh if "openblas" in line.lower() and ".so" in line})
    except OSError:  # pragma: no cover - not Linux: the environment variables decide
        return []
    calls = []
    for lib in libs:
        try:
            h = ctypes.CDLL(lib)
        except OSError:  # pragma: no cover
            continue
        for sym in (f"openblas_{action}_num_threads", f"openblas_{action}_num_threads64_",
                    f"scipy_openblas_{action}_num_threads64_", f"scipy_openblas_{action}_num_threads"):
            fn = getattr(h, sym, None)
            if fn is not None:
                calls.append(fn)
                break
    return calls


def set_blas_threads(n: int) -> int:
    """Set the thread count of every OpenBLAS loaded in this process; returns how many were set. BLAS
    reads ``OPENBLAS_NUM_THREADS`` only when it loads, so this is how a command picks its threads
    after numpy is imported."""
    import ctypes

    calls = _openblas_calls("set")
    for fn in calls:
        fn(ctypes.c_int(int(n)))
    return len(calls)


def blas_threads() -> List[int]:
    """The thread count of every OpenBLAS loaded in this process (see :func:`set_blas_threads`)."""
    return [int(fn()) for fn in _openblas_calls("get")]


def _cmd_check(args: argparse.Namespace) -> int:
    from .formats import deq_arrays, kind_of, read_model
    from .report import MATRIX_FREE_KINDS, ClassifierSection, check_conv_ibp, check_deq, deq_from_arrays

    kind, obj = read_model(args.model)                       # the file is read once

    def check(stage: Any, k: str, o: Any) -> Any:
        if kind_of(stage) in MATRIX_FREE_KINDS:              # conv DEQs: proved without a dense W
            return check_conv_ibp(stage, path=args.model, kind=k)
        arrays = deq_arrays(k, o, args.model)
        return check_deq(deq_from_arrays(arrays, source=args.model), path=args.model, kind=k,
                         options={"backend": args.backend, "sdp": not args.no_sdp,
                                  "W_error": arrays.get("W_error", 0.0), "W_margin": arrays.get("W_margin"),
                                  "U_error": arrays.get("U_error", 0.0), "G_error": arrays.get("G_error", 0.0)})

    if kind == "classifier":                                 # every DEQ stage, the last one in front
        stages = obj.model_stages()
        report = check(stages[-1], kind, obj)
        earlier = [(obj.stages.index(s), check(s, kind_of(s), s)) for s in stages[:-1]]
        report = report.with_classifier(ClassifierSection.of(obj, kind_of), earlier)
    else:
        report = check(obj, kind, obj)
    if args.save_certificate:
        cert = report.lipschitz.l2_sdp if report.lipschitz is not None else None
        if cert is None:
            raise DEQInputError("--save-certificate needs the SDP section (drop --no-sdp)")
        from .sdp import save_certificate

        save_certificate(args.save_certificate, cert)
    _output(args, report.to_dict(), report.format_table, indent=None if args.compact else 2)
    return 0


def _output(args: argparse.Namespace, obj: Any, text: Callable[[], str], indent: Optional[int] = 2) -> None:
    """The result of a command: JSON on stdout (``--json``) and/or in a file (``--json-out``), else ``text()``."""
    emit_json(obj, stdout=args.json, path=args.json_out, indent=indent)
    if not args.json:
        print(text())


def _verify_against_model(cert, path: str, problem: dict):
    """``cert.verify`` with the model arrays its verifier accepts (``W``, ``U``, ``G``). A verifier
    that needs other arguments (``m``, ``Phi``, …: parametric conditions) and a witness lacking an
    entry its verifier reads are bad input (:class:`DEQInputError`), not tracebacks."""
    import inspect

    from .certificates import verifier_for
    from .errors import ModelFileError

    fn = verifier_for(cert.condition)
    params = list(inspect.signature(fn).parameters.values())[1:]
    if not any(q.kind is q.VAR_KEYWORD for q in params):
        names = {q.name for q in params}
        missing = [q.name for q in params if q.default is q.empty and q.name not in problem
                   and q.kind in (q.KEYWORD_ONLY, q.POSITIONAL_OR_KEYWORD)]
        if missing:
            raise DEQInputError(f"{path}: condition {cert.condition!r} is verified against {missing}, which a "
                                f"model file does not provide; re-check it in Python with cert.verify(...)")
        problem = {k: v for k, v in problem.items() if k in names}
    try:
        return cert.verify(**problem)
    except KeyError as exc:
        raise ModelFileError(f"{path}: certificate witness lacks entry {exc.args[0]!r} needed by the "
                             f"{cert.condition!r} verifier") from None


def _cmd_verify(args: argparse.Namespace) -> int:
    """Re-check a certificate file: exit 0 iff it verifies as CERTIFIED for this model.

    Files written under a legacy condition name (``l2_sdp``, ``lipschitz_strict``, …) verify through
    the current name (:mod:`deqtheory.conditions`)."""
    from .formats import load_model
    from .report import deq_from_arrays
    from .sdp import load_certificate

    model = deq_from_arrays(load_model(args.model), source=args.model)
    cert = load_certificate(args.certificate)
    checked = _verify_against_model(cert, args.certificate, {"W": model.W, "U": model.U, "G": model.G})
    L = checked.witness.get("L")
    _output(args, {"model": args.model, "certificate": args.certificate, "verified": checked.certified,
                   "result": checked.to_dict(arrays=False)},
            lambda: f"{args.certificate}: condition {checked.condition}: {checked.status.value}, "
                    f"margin {checked.margin:.6g}" + (f", L = {float(L):.6g}" if L is not None else "") +
                    f" — {checked.message}")
    return 0 if checked.certified else 1


def _cmd_convert(args: argparse.Namespace) -> int:
    """``deqtheory convert SRC.npz --to lben -o OUT.npz``: havens2023 §3 / App. C–E reparameterization."""
    import math

    from . import convert as cv
    from .formats import read_model, save_model, to_lben

    kind, obj = read_model(args.source)
    res = to_lben(kind, obj, allow_projection=args.allow_projection)
    out_kind = save_model(args.output, res)
    if isinstance(res, cv.ConvLBEN):
        cert, Lp = res.certificate() if not args.no_certificate else (None, math.nan)
        summary = {"source": args.source, "source_kind": kind, "output": args.output, "kind": out_kind,
                   "L": res.L, "L_certified": Lp, "certificate": None if cert is None else cert.status.value,
                   "margin": None if cert is None else cert.margin, "channels": list(res.channels), "N": res.N}
    else:
        cert, Lp = res.certificate, res.L_certified
        summary = {"source": args.source, "source_kind": kind, "output": args.output, "kind": out_kind,
                   "L": res.L, "L_certified": Lp, "certificate": cert.status.value, "margin": cert.margin,
                   "residuals": dict(res.residuals), "n": res.n, "exact": res.exact, "projection": res.projection}

    def text() -> str:
        line = (f"{args.source} ({kind}) -> {args.output} ({out_kind}): L = {summary['L']:.17g}, "
                f"certified L' = {Lp:.17g} ({summary['certificate']}, margin {summary['margin']})")
        if summary.get("exact") is None:
            return line
        return line + "\n" + ("exact conversion: the LBEN is the source up to rounding" if summary["exact"] else
                              f"PROJECTED: the source violates the conversion's hypothesis by "
                              f"{summary['projection']:.3e} relative; the LBEN (and its certificate) is the projected "
                              f"model, not the source (W differs by "
                              f"{summary['residuals'].get('W_rel', float('nan')):.3e} relative)")

    _output(args, summary, text)
    return 0


def _cmd_eval(args: argparse.Namespace) -> int:
    """``deqtheory eval MODEL.npz X.npy -o Y.npy``: evaluate any model file; DEQs report residual/status."""
    import numpy as np

    from ._validate import as_array
    from .formats import evaluate
    from .io import atomic_write, load_npy

    X = as_array(args.inputs, load_npy(args.inputs))  # real, exact in float64, finite, non-empty
    Y, info = evaluate(args.model, X, tol=args.tol)
    atomic_write(args.output, lambda fh: np.save(fh, Y), suffix=".npy")  # creates missing directories
    info = {**info, "output": args.output, "shape": list(np.shape(Y))}
    _output(args, info, lambda: f"{args.model} ({info['kind']}): status {info['status']}, method {info['method']}, "
                                f"residual {info['residual']:.3g} (tol {info['tol']:.3g}) -> {args.output} "
                                f"{tuple(info['shape'])}")
    return 0 if info["ok"] else 1


def _cmd_verify_certification(args: argparse.Namespace) -> int:
    """Re-check a classifier certification (:func:`deqtheory.classifier_certificate.recheck`): exit 0 iff
    every claim is confirmed, 1 otherwise, 2 for an unreadable file."""
    from .classifier_certificate import recheck

    rep = recheck(args.certification, args.model, first=args.first)
    _output(args, rep.to_dict(), rep.format)
    return 0 if rep.ok else 1


def _cmd_theorems(args: argparse.Namespace) -> int:
    from . import theorems

    return theorems.cli(args)


def _finite_positive(text: str) -> float:
    """A finite number > 0 from the command line (``--tol``); anything else is a usage error."""
    import math

    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (math.isfinite(v) and v > 0):
        raise argparse.ArgumentTypeError(f"{text!r}: must be finite and > 0")
    return v


def _positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: must be >= 1")
    return v


def _json_flags(p: argparse.ArgumentParser, what: str = "one JSON object") -> None:
    p.add_argument("--json", action="store_true", help=f"{what} on stdout (errors too: {{\"error\": ..., \"exit\": 2}})")
    p.add_argument("--json-out", metavar="PATH", default=None, help=f"write {what} to PATH (with or without --json)")


def build_parser(*, json_errors: bool = False) -> argparse.ArgumentParser:
    """The ``deqtheory`` parser (``json_errors``: usage errors also as a JSON object on stdout)."""
    from . import __version__

    p = OneLineParser(prog="deqtheory", description="Certificates and theorems for deep equilibrium models.",
                      json_errors=json_errors)
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    c = sub.add_parser("check", help="check a model file for well-posedness / Lipschitz conditions")
    c.add_argument("model", help="MODEL.npz with arrays W (required), U, b, G, b_y")
    _json_flags(c)
    c.add_argument("--compact", action="store_true", help="with --json: no indentation")
    c.add_argument("--no-sdp", action="store_true", help="skip the SDP-based conditions")
    c.add_argument("--backend", choices=("structured", "cvxopt", "clarabel", "scs"), default=None,
                   help="SDP backend (default: structured)")
    c.add_argument("--save-certificate", metavar="CERT.npz", default=None,
                   help="write the l2_sdp certificate (re-check it with `deqtheory verify`)")
    c.add_argument("--threads", type=_positive_int, default=1,
                   help="BLAS threads (default 1: the checks are many small factorizations, for which one "
                        "thread per process is fastest; raise it for n in the thousands)")
    c.set_defaults(func=_cmd_check)

    v = sub.add_parser("verify", help="re-check a saved certificate against a model, with numpy alone")
    v.add_argument("model", help="MODEL.npz")
    v.add_argument("certificate", help="CERT.npz written by `deqtheory check --save-certificate`")
    _json_flags(v)
    v.set_defaults(func=_cmd_verify)

    vc = sub.add_parser("verify-certification",
                        help="re-check a saved classifier certification (deqtheory-train certify --witness) "
                             "against its model file, with numpy alone")
    vc.add_argument("certification", help="the .npz of deqtheory-train certify --witness")
    vc.add_argument("--model", default=None, help="the model file to check against (default: the embedded one; "
                                                   "its sha256 must equal the recorded one)")
    vc.add_argument("--json", action="store_true", help="print the report as JSON")
    vc.add_argument("--first", type=_positive_int, default=5, help="unconfirmed images listed per eps")
    vc.add_argument("--json-out", metavar="PATH", default=None,
                    help="write the report as JSON to PATH (with or without --json)")
    vc.set_defaults(func=_cmd_verify_certification)

    cv = sub.add_parser("convert", help="reparameterize a model file as LBEN (havens2023 section 3)")
    cv.add_argument("source", help="SRC.npz of kind mondeq, gmondeq, sll, cpl, aol, sandwich, conv_sll, conv_cpl")
    cv.add_argument("--to", choices=("lben",), default="lben", help="target family (lben)")
    cv.add_argument("-o", "--output", required=True, help="OUT.npz (kind lben, or conv_lben for conv sources)")
    _json_flags(cv)
    cv.add_argument("--no-certificate", action="store_true", help="conv sources: skip the per-frequency certificate")
    cv.add_argument("--allow-projection", action="store_true",
                    help="dense sources that violate the conversion's hypothesis beyond rounding: convert to the "
                         "projected LBEN (reported as PROJECTED, with by how much) instead of refusing")
    cv.set_defaults(func=_cmd_convert)

    ev = sub.add_parser("eval", help="evaluate a model file on inputs X.npy")
    ev.add_argument("model", help="MODEL.npz (any kind)")
    ev.add_argument("inputs", help="X.npy: (batch, d) or (d,); conv kinds (B, c, N, N) or flattened")
    ev.add_argument("-o", "--output", required=True, help="Y.npy")
    ev.add_argument("--tol", type=_finite_positive, default=None,
                    help="fixed-point residual tolerance (DEQs; default 1e-12 max(1, max ||Ux + b||))")
    _json_flags(ev)
    ev.set_defaults(func=_cmd_eval)

    t = sub.add_parser("theorems", help="list or check the theorem catalogue")
    t.add_argument("--json", action="store_true", help="JSON list on stdout")
    t.add_argument("--check", action="store_true", help="run the executable checks")
    t.add_argument("--profile", choices=("ci", "thorough"), default=None, help="Hypothesis profile for --check")
    t.add_argument("--id", action="append", dest="ids", default=None, help="only this entry (repeatable)")
    t.add_argument("--markdown", action="store_true", help="print the docs/theorems.md page")
    t.add_argument("--summary-out", metavar="PATH", default=None,
                   help="with --check: write the per-entry summary JSON (docs/theorems_thorough.json)")
    t.set_defaults(func=_cmd_theorems)
    return p


#: the positional file arguments of each command, in the order an error is attributed to them
_INPUT_FILES = {"check": ("model",), "verify": ("model", "certificate"), "verify-certification": ("certification",),
                "convert": ("source",), "eval": ("model", "inputs")}


def _naming_the_input(args: argparse.Namespace, msg: str) -> str:
    """``msg`` prefixed with the command's input file when it names none of them: an error raised deep in a
    computation (``U: expected shape ('*', 6), got (8, 4)``) then still says which file it is about. With
    several inputs, the first is named (the one the others are checked against)."""
    paths = [str(getattr(args, a)) for a in _INPUT_FILES.get(args.command, ()) if getattr(args, a, None)]
    if not paths or any(p in msg for p in paths):
        return msg
    return f"{paths[0]}: {msg}"


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run one command; every failure on bad input is exit 2 with one line (:func:`report_error`)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    as_json = "--json" in argv
    args = build_parser(json_errors=as_json).parse_args(argv)
    restore = blas_threads() if getattr(args, "threads", None) else []
    if restore:
        set_blas_threads(args.threads)     # for this command only (main may run in-process)
    try:
        return int(args.func(args) or 0)
    except DEQInputError as exc:
        return report_error(f"deqtheory {args.command}", _naming_the_input(args, str(exc)), as_json=as_json)
    except BrokenPipeError:  # pragma: no cover - e.g. `| head`
        return 0
    except OSError as exc:       # an output path that cannot be written (a directory, no permission)
        return report_error(f"deqtheory {args.command}", f"{exc.filename or ''}: {exc.strerror or exc}",
                            as_json=as_json)
    finally:
        if restore and len(set(restore)) == 1:
            set_blas_threads(restore[0])


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
