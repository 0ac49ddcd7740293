"""Command-line interface: ``deqtheory check | theorems`` (more subcommands join with later modules).

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
    from .io import load_deq_arrays
    from .report import check_model

    arrays = load_deq_arrays(args.model)
    report = check_model(arrays["W"], arrays["U"], arrays["b"], arrays["G"], arrays["b_y"],
                         path=args.model, kind=str(arrays["kind"]),
                         options={"backend": getattr(args, "backend", None), "sdp": not args.no_sdp})
    if args.json:
        json.dump(report.to_dict(), sys.stdout, indent=None if args.compact else 2)
        sys.stdout.write("\n")
    else:
        print(report.format_table())
    return 0


def _cmd_theorems(args: argparse.Namespace) -> int:
    from . import theorems

    return theorems.cli(args)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="deqtheory", description="Certificates and theorems for deep equilibrium models.")
    sub = p.add_subparsers(dest="command", required=True)

    c = sub.add_parser("check", help="check a model file for well-posedness / Lipschitz conditions")
    c.add_argument("model", help="MODEL.npz with arrays W (required), U, b, G, b_y")
    c.add_argument("--json", action="store_true", help="one JSON object on stdout")
    c.add_argument("--compact", action="store_true", help="with --json: no indentation")
    c.add_argument("--no-sdp", action="store_true", help="skip the SDP-based conditions")
    c.set_defaults(func=_cmd_check)

    t = sub.add_parser("theorems", help="list or check the theorem catalogue")
    t.add_argument("--json", action="store_true", help="JSON list on stdout")
    t.add_argument("--check", action="store_true", help="run the executable checks")
    t.add_argument("--profile", choices=("ci", "thorough"), default=None, help="Hypothesis profile for --check")
    t.add_argument("--id", action="append", dest="ids", default=None, help="only this entry (repeatable)")
    t.add_argument("--markdown", action="store_true", help="print the docs/theorems.md page")
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
