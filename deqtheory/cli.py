"""Command-line interface: ``deqtheory check | verify | verify-certification | convert | eval | theorems``.

Exit status: 0 on success, 2 on bad input (one-line error on stderr naming file, array and
shape), 1 when ``--check`` of the theorem catalogue finds a failing entry.
"""
from __future__ import annotations

import argparse
import json
import sys
from typing import List, Optional

from .errors import DEQInputError

__all__ = ["main", "build_parser"]


def _cmd_check(args: argparse.Namespace) -> int:
    from .formats import deq_arrays, kind_of, read_model
    from .report import MATRIX_FREE_KINDS, ClassifierSection, check_conv_ibp, check_deq, deq_from_arrays

    kind, obj = read_model(args.model)                       # the file is read once
    stage = obj.model_stage() if kind == "classifier" else obj
    if kind_of(stage) in MATRIX_FREE_KINDS:                  # conv IBP-MonDEQ: proved without a dense W
        report = check_conv_ibp(stage, path=args.model, kind=kind)
    else:
        arrays = deq_arrays(kind, obj, args.model)
        model = deq_from_arrays(arrays, source=args.model)
        report = check_deq(model, path=args.model, kind=kind,
                           options={"backend": args.backend, "sdp": not args.no_sdp,
                                    "W_error": arrays.get("W_error", 0.0), "W_margin": arrays.get("W_margin")})
    if kind == "classifier":
        report = report.with_classifier(ClassifierSection.of(obj, kind_of))
    if args.save_certificate:
        cert = report.lipschitz.l2_sdp if report.lipschitz is not None else None
        if cert is None:
            raise DEQInputError("--save-certificate needs the SDP section (drop --no-sdp)")
        from .sdp import save_certificate

        save_certificate(args.save_certificate, cert)
    if args.json:
        json.dump(report.to_dict(), sys.stdout, indent=None if args.compact else 2)
        sys.stdout.write("\n")
    else:
        print(report.format_table())
    return 0


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
    if args.json:
        json.dump({"model": args.model, "certificate": args.certificate, "verified": checked.certified,
                   "result": checked.to_dict(arrays=False)}, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        L = checked.witness.get("L")
        print(f"{args.certificate}: condition {checked.condition}: {checked.status.value}, "
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
    if args.json:
        from .certificates import to_jsonable

        json.dump(to_jsonable(summary), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(f"{args.source} ({kind}) -> {args.output} ({out_kind}): L = {summary['L']:.17g}, "
              f"certified L' = {Lp:.17g} ({summary['certificate']}, margin {summary['margin']})")
        if "exact" in summary:
            print("exact conversion: the LBEN is the source up to rounding" if summary["exact"] else
                  f"PROJECTED: the source violates the conversion's hypothesis by {summary['projection']:.3e} "
                  f"relative; the LBEN (and its certificate) is the projected model, not the source "
                  f"(W differs by {summary['residuals'].get('W_rel', float('nan')):.3e} relative)")
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
    if args.json:
        json.dump(info, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(f"{args.model} ({info['kind']}): status {info['status']}, method {info['method']}, "
              f"residual {info['residual']:.3g} (tol {info['tol']:.3g}) -> {args.output} {tuple(info['shape'])}")
    return 0 if info["ok"] else 1


def _cmd_theorems(args: argparse.Namespace) -> int:
    from . import theorems

    return theorems.cli(args)


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    p = argparse.ArgumentParser(prog="deqtheory", description="Certificates and theorems for deep equilibrium models.")
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    c = sub.add_parser("check", help="check a model file for well-posedness / Lipschitz conditions")
    c.add_argument("model", help="MODEL.npz with arrays W (required), U, b, G, b_y")
    c.add_argument("--json", action="store_true", help="one JSON object on stdout")
    c.add_argument("--compact", action="store_true", help="with --json: no indentation")
    c.add_argument("--no-sdp", action="store_true", help="skip the SDP-based conditions")
    c.add_argument("--backend", choices=("structured", "cvxopt", "clarabel", "scs"), default=None,
                   help="SDP backend (default: structured)")
    c.add_argument("--save-certificate", metavar="CERT.npz", default=None,
                   help="write the l2_sdp certificate (re-check it with `deqtheory verify`)")
    c.set_defaults(func=_cmd_check)

    v = sub.add_parser("verify", help="re-check a saved certificate against a model, with numpy alone")
    v.add_argument("model", help="MODEL.npz")
    v.add_argument("certificate", help="CERT.npz written by `deqtheory check --save-certificate`")
    v.add_argument("--json", action="store_true", help="one JSON object on stdout")
    v.set_defaults(func=_cmd_verify)

    from .classifier_certificate import add_verify_arguments, run_verify

    vc = sub.add_parser("verify-certification",
                        help="re-check a saved classifier certification (deqtheory-train certify --witness) "
                             "against its model file, with numpy alone")
    add_verify_arguments(vc).set_defaults(func=run_verify)

    cv = sub.add_parser("convert", help="reparameterize a model file as LBEN (havens2023 section 3)")
    cv.add_argument("source", help="SRC.npz of kind mondeq, gmondeq, sll, cpl, aol, sandwich, conv_sll, conv_cpl")
    cv.add_argument("--to", choices=("lben",), default="lben", help="target family (lben)")
    cv.add_argument("-o", "--output", required=True, help="OUT.npz (kind lben, or conv_lben for conv sources)")
    cv.add_argument("--json", action="store_true", help="one JSON object on stdout")
    cv.add_argument("--no-certificate", action="store_true", help="conv sources: skip the per-frequency certificate")
    cv.add_argument("--allow-projection", action="store_true",
                    help="dense sources that violate the conversion's hypothesis beyond rounding: convert to the "
                         "projected LBEN (reported as PROJECTED, with by how much) instead of refusing")
    cv.set_defaults(func=_cmd_convert)

    ev = sub.add_parser("eval", help="evaluate a model file on inputs X.npy")
    ev.add_argument("model", help="MODEL.npz (any kind)")
    ev.add_argument("inputs", help="X.npy: (batch, d) or (d,); conv kinds (B, c, N, N) or flattened")
    ev.add_argument("-o", "--output", required=True, help="Y.npy")
    ev.add_argument("--tol", type=float, default=None, help="fixed-point residual tolerance (DEQs)")
    ev.add_argument("--json", action="store_true", help="one JSON object on stdout")
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


def main(argv: Optional[List[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except DEQInputError as exc:
        msg = str(exc).replace("\n", " ")
        print(f"deqtheory {args.command}: error: {msg}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # pragma: no cover - e.g. `| head`
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
