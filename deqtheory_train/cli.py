"""``deqtheory-train`` — run, resume and certify training experiments.

::

    deqtheory-train run CONFIG [--out DIR] [--resume] [--epochs N] [--max-steps N] [--progress|--no-progress]
                               [--threads N] [--device DEV]
    deqtheory-train certify CHECKPOINT --eps E [E ...] [--norm 2|inf] [--certifier NAME] [--split S]
                               [--max-samples N] [--batch-size B] [--device DEV] [--json] [--json-out OUT]
                               [--plot PNG] [--witness CERT.npz]
    deqtheory-train list
    deqtheory-train export RUN_DIR_OR_MODEL.npz -o model.npz [--json] [--json-out OUT]   # then: deqtheory check model.npz
    torchrun --standalone --nproc_per_node N -m deqtheory_train.cli run CONFIG ...   # DDP
    torchrun --standalone --nproc_per_node N -m deqtheory_train.cli certify CHECKPOINT ...   # sharded: same numbers

CONFIG is a JSON/TOML file or the name of a bundled config (``deqtheory-train list``). Exit codes:
0 success (also a run stopped by --max-steps), 2 usage/config/checkpoint error, 3 dataset not
installed, 130 / 143 a run stopped by SIGINT (Ctrl-C) / SIGTERM: it finished the current step, wrote
its checkpoint and printed the ``--resume`` command (128 + signal number, the shell convention; a
second Ctrl-C aborts at once).

Output conventions are those of ``deqtheory`` (:mod:`deqtheory.cli`, docs/cli.md): errors are one line
on stderr; ``--json`` prints the result as JSON on stdout (errors too, as ``{"error": …, "exit": 2}``),
``--json-out PATH`` writes it to a file. ``certify --json PATH`` (the old spelling) still writes PATH,
with a deprecation note on stderr.
"""
from __future__ import annotations

import argparse
import json
import pathlib
import sys
from typing import List, NoReturn, Optional

__all__ = ["main", "parse_radius"]


def parse_radius(text: str) -> float:
    r"""A perturbation radius ε from the command line: a decimal (``0.1``, ``1e-2``) or a fraction
    (``36/255``), finite and ≥ 0 (ε = 0 is the clean-accuracy column).

    The text is read exactly as a rational q (:class:`fractions.Fraction`) and rounded **up** to the
    smallest float64 ε ≥ q, so the ball certified, ‖δ‖ ≤ ε, contains the ball asked for: a certificate
    at ε is a certificate at q. ``nan``, ``inf`` and negative values are argparse errors (exit 2)."""
    import math
    from fractions import Fraction

    t = text.strip()
    try:
        q = Fraction(t)
    except (ValueError, ZeroDivisionError):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number or fraction like 36/255") from None
    if q < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is negative: a radius is >= 0")
    try:
        e = float(q)
    except OverflowError:
        raise argparse.ArgumentTypeError(f"{text!r} is not finite") from None
    if not math.isfinite(e):
        raise argparse.ArgumentTypeError(f"{text!r} is not finite")
    if Fraction(e) < q:
        e = math.nextafter(e, math.inf)
    return e


def _int_at_least(lo: int):
    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if v < lo:
            raise argparse.ArgumentTypeError(f"{text!r}: must be >= {lo}")
        return v
    parse.__name__ = f"int>={lo}"
    return parse


def _known_certifier(name: str) -> str:
    from .registry import CERTIFIERS
    if name not in CERTIFIERS:
        raise argparse.ArgumentTypeError(f"unknown certifier {name!r}; known: {', '.join(sorted(CERTIFIERS))}")
    return name


def _parser(json_errors: bool = False) -> argparse.ArgumentParser:
    from deqtheory.cli import OneLineParser

    p = OneLineParser(prog="deqtheory-train", description=__doc__.split("\n\n")[0], json_errors=json_errors)
    from deqtheory import __version__
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__} (deqtheory {__version__})")
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="train a config (resumable)")
    r.add_argument("config", help="a JSON/TOML config file or a bundled config's name (deqtheory-train list)")
    r.add_argument("--out", default=None, help="output directory (default runs/<config name>)")
    r.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.npz (an error if there is none)")
    r.add_argument("--epochs", type=_int_at_least(1), default=None, help="override the config's epochs")
    r.add_argument("--max-steps", type=_int_at_least(0), default=None, help="stop (with a checkpoint) once N optimizer steps have run in total, counting those before "
                        "--resume")
    r.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bars on stderr (default: the config's log.progress; when that is null, "
                        "on exactly when stderr is a terminal)")
    r.add_argument("--threads", type=_int_at_least(1), default=None, help="torch.set_num_threads (default: torch's choice)")
    r.add_argument("--device", default=None, help="torch device (default: cuda:LOCAL_RANK if available, else cpu)")
    c = sub.add_parser("certify", help="certify a checkpoint / model.npz on its test set")
    c.add_argument("checkpoint", help="RUN/model.npz or RUN/checkpoint.npz of deqtheory-train run")
    c.add_argument("--norm", default=None, choices=["2", "inf"],
                   help="threat model l2 or linf (default: the norm of the model file's config)")
    c.add_argument("--eps", required=True, type=parse_radius, nargs="+", metavar="E",
                   help="radii, decimals or fractions (36/255), finite and >= 0; each is rounded up to a float64 "
                        "so the certified ball contains the one asked for")
    c.add_argument("--certifier", default=None, type=_known_certifier,
                   help="registered certifier (default: the model's; deqtheory-train list names them)")
    c.add_argument("--max-samples", type=_int_at_least(1), default=None,
                   help="certify only the first N examples of the split (default: all of them)")
    c.add_argument("--split", default=None,
                   help="dataset split, used whole (default: the config's test split, restricted to the config's "
                        "data.test_subset when it sets one; the output says which)")
    c.add_argument("--json", nargs="?", const=True, default=None, metavar="OUT",
                   help="print the result as JSON on stdout (deprecated: --json OUT writes OUT; use --json-out)")
    c.add_argument("--json-out", default=None, metavar="OUT", help="write the result as JSON to OUT")
    c.add_argument("--plot", default=None, help="write a certified-accuracy-vs-ε PNG")
    c.add_argument("--witness", default=None,
                   help="write the proofs (constants' certificates, fixed points, the exported model) to CERT.npz; "
                        "re-check without torch: deqtheory verify-certification CERT.npz "
                        "(dense DEQ and conv l_inf certifiers)")
    c.add_argument("--threads", type=_int_at_least(1), default=None, help="torch.set_num_threads (default: torch's choice)")
    c.add_argument("--batch-size", type=_int_at_least(1), default=None,
                   help="examples per certifier batch (default: the certifier's); under torchrun the ranks share "
                        "these batches round-robin")
    c.add_argument("--device", default=None,
                   help="where the certifier computes (default cpu); float64 throughout, cuDNN off for the proved "
                        "convolutions (docs/certify.md); dense DEQ and conv l_inf certifiers")
    sub.add_parser("list", help="registered models, datasets, losses, certifiers and bundled configs")
    e = sub.add_parser("export", help="write a trained model as a deqtheory model file (deqtheory check/eval/convert)")
    e.add_argument("source", help="RUN_DIR or RUN/model.npz (or checkpoint.npz)")
    e.add_argument("-o", "--output", required=True, help="OUT.npz (deqtheory format, docs/formats.md)")
    e.add_argument("--json", action="store_true", help="print the summary as JSON on stdout")
    e.add_argument("--json-out", default=None, metavar="OUT", help="write the summary as JSON to OUT")
    return p


def main(argv: Optional[List[str]] = None) -> int:
    from deqtheory.cli import report_error

    argv = list(sys.argv[1:] if argv is None else argv)
    as_json = "--json" in argv
    args = _parser(as_json).parse_args(argv)
    try:
        return _run(args, as_json)
    except Exception as exc:  # noqa: BLE001 - typed errors of the commands, see _ERRORS
        code = _exit_code(exc)
        if code is None:
            raise
        return report_error(f"deqtheory-train {args.cmd}", str(exc), as_json=as_json, code=code)


def _exit_code(exc: BaseException) -> Optional[int]:
    """The exit code of a typed error (3: a dataset is not installed; 2: bad input), None for a bug."""
    from deqtheory.errors import DEQInputError

    from . import data as D
    from . import experiment as X

    if isinstance(exc, D.DatasetUnavailableError):
        return 3
    if isinstance(exc, (X.ConfigError, X.CheckpointError, DEQInputError)):
        return 2
    return None


def _json_target(args: argparse.Namespace) -> "tuple[bool, Optional[str]]":
    """(print JSON on stdout, write it to this path) from ``--json`` / ``--json-out`` (and the deprecated
    ``certify --json PATH``)."""
    j = getattr(args, "json", None)
    if isinstance(j, str):
        sys.stderr.write(f"deqtheory-train {args.cmd}: note: --json PATH is deprecated, use --json-out {j}\n")
        return False, j
    return bool(j), getattr(args, "json_out", None)


def _run(args: argparse.Namespace, as_json: bool) -> int:
    import torch
    from deqtheory.cli import report_error

    from . import data as D
    from . import experiment as X
    from . import registry as R
    from . import train as T

    if getattr(args, "threads", None):
        torch.set_num_threads(int(args.threads))
    if args.cmd == "export":
        from deqtheory.cli import emit_json

        from .experiment.export_file import export_file, format_summary
        summary = export_file(args.source, args.output)
        stdout, path = _json_target(args)
        emit_json(summary, stdout=stdout, path=path)
        if not stdout:
            sys.stdout.write(format_summary(summary) + "\n")
        return 0
    if args.cmd == "list":
        sys.stdout.write("models:      " + ", ".join(X.available_models()) + "\n")
        sys.stdout.write("datasets:    " + ", ".join(D.available_datasets()) + "\n")
        sys.stdout.write("losses:      " + ", ".join(sorted(R.LOSSES)) + "\n")
        sys.stdout.write("certifiers:  " + ", ".join(X.available_certifiers()) + "\n")
        sys.stdout.write("configs:     " + ", ".join(X.bundled_configs()) + "\n")
        return 0
    if args.cmd in ("run", "certify") and args.device:
        why = _device_problem(args.device)
        if why:
            return report_error(f"deqtheory-train {args.cmd}", f"--device {args.device}: {why}", as_json=as_json)
    if args.cmd == "run":
        cfg = X.load_config(args.config)
        out = args.out or str(pathlib.Path("runs") / cfg["name"])
        summary = X.run_experiment(cfg, out, resume=args.resume, epochs=args.epochs, max_steps=args.max_steps,
                                   progress=args.progress, device=args.device)
        if T.dist_info().is_main:
            sys.stdout.write(json.dumps(summary, sort_keys=True) + "\n")
            if summary.get("signal"):
                import shlex
                import signal as _signal
                cmd = ["deqtheory-train", "run", args.config, "--out", out, "--resume"]
                if args.epochs is not None:
                    cmd += ["--epochs", str(args.epochs)]
                sys.stderr.write(f"deqtheory-train: {_signal.Signals(summary['signal']).name} at step "
                                 f"{summary['global_step']}: checkpoint written to "
                                 f"{pathlib.Path(out) / 'checkpoint.npz'}; continue with:\n  "
                                 f"{shlex.join(cmd)}\n")
        if summary.get("signal"):
            return 128 + int(summary["signal"])
        return 0
    if args.cmd == "certify":
        model, meta = X.load_model_file(args.checkpoint)
        cfg = X.validate_config(meta["config"])
        dc = cfg["data"]
        # the config's certification norm when it configures a certification, else its training norm
        norm = args.norm or (cfg["certify"]["norm"] if cfg["certify"]["eps"] else cfg["norm"])
        split = args.split or dc["test_split"]
        ds = D.load_dataset(dc["dataset"], split, **dc["kwargs"])
        n_split = len(ds)
        if args.split is None:
            ds = ds.subset(dc["test_subset"])
        info = T.dist_info()
        if info.enabled:                   # torchrun: every rank certifies a shard, rank 0 reports
            T.init_distributed(info)
        try:
            res = X.certify_model(model, ds, certifier=args.certifier, norm=norm, eps=args.eps,
                                  max_samples=args.max_samples, witness_path=args.witness, device=args.device,
                                  dist=info, **({"batch_size": args.batch_size} if args.batch_size else {}))
        except ValueError as exc:          # the certifier refused the model / norm / radii
            return report_error("deqtheory-train certify", str(exc), as_json=as_json)
        finally:
            if info.enabled:
                import torch.distributed as tdist

                tdist.destroy_process_group()
        if res is None:                    # a rank > 0: its shard went to rank 0
            return 0
        res["checkpoint"] = str(args.checkpoint)
        res["split"] = split
        res["split_size"] = n_split
        res["data"] = X.describe_sample(dc["dataset"], split, res["n"], n_split,
                                        dc["test_subset"] if args.split is None else None, args.max_samples)
        stdout, path = _json_target(args)
        if stdout:
            from deqtheory.cli import emit_json

            emit_json(res, stdout=True, path=None)
        else:
            sys.stdout.write(X.format_table(res) + "\n")
        X.write_certify_outputs(res, pathlib.Path(path) if path else None,
                                 pathlib.Path(args.plot) if args.plot else None, cfg)
        return 0
    return 2  # pragma: no cover


def _device_problem(text: str) -> Optional[str]:
    """Why ``--device text`` cannot be used by this torch (``None`` if it can)."""
    import torch

    try:
        dev = torch.device(text)
    except RuntimeError as exc:
        return str(exc)
    if dev.type == "cuda" and not torch.cuda.is_available():
        return f"this torch ({torch.__version__}) has no usable CUDA device; use --device cpu"
    if dev.type == "cuda" and dev.index is not None and dev.index >= torch.cuda.device_count():
        return f"only {torch.cuda.device_count()} CUDA device(s)"
    if dev.type not in ("cpu", "cuda"):
        return f"device type {dev.type!r} is not supported (cpu or cuda)"
    return None


if __name__ == "__main__":
    sys.exit(main())
