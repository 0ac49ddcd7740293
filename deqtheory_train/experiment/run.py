r"""The training run loop (:func:`run_experiment`): data, model, optimizer, schedules, the step loop
with checkpoints / metrics / plots, the final evaluation, ``model.npz`` and the optional
certification at the end. Under ``torchrun`` (WORLD_SIZE > 1) it runs DDP; only rank 0 writes files."""
from __future__ import annotations

import json
import os
import pathlib
import random
import time
import warnings
from typing import Any, Dict, Mapping, Optional, Tuple

import numpy as np
import torch

from deqtheory.io import atomic_write
from deqtheory.certificates import MessageEnum

from .. import data as D
from .. import train as T
from ..errors import CheckpointError, ConfigError
from ..registry import get_loss
from .certification import DEVICE_CERTIFIERS, certify_model, describe_sample, write_certify_outputs
from .checkpoint import (build_model_from_config, load_checkpoint, load_model_arrays, model_arrays, rank_rng_prefix,
                         rng_state, save_checkpoint, set_rng_state, state_to_tree, tree_to_state)
from .config import config_fingerprint, validate_config
from .metrics import MetricsLog, read_metrics, truncate_metrics

__all__ = ["RunStatus", "run_experiment", "progress_enabled", "HANG_ENV"]

HANG_ENV = "DEQTHEORY_TRAIN_TEST_HANG_AFTER_STEP"   # fault injection for the kill/resume test
HIDE_ENV = "DEQTHEORY_TRAIN_TEST_HIDE_CHECKPOINT_FROM_RANK"   # fault injection: that rank cannot see checkpoint.npz


class RunStatus(MessageEnum):
    """How :func:`run_experiment` ended. ``value`` is the machine name (``summary.json``), ``message``
    the human one."""

    FINISHED = ("finished", "all epochs ran; the model, the final test metrics (and certification) are written")
    STOPPED = ("stopped", "stopped early at max_steps; a checkpoint is written, --resume continues it")
    INTERRUPTED = ("interrupted", "stopped by SIGINT/SIGTERM after the current step; a checkpoint is written, "
                                  "--resume continues it")


_SIGTERM = 15   # signal.SIGTERM on every POSIX system


class _StopSignals:
    """While active, SIGINT and SIGTERM only set :attr:`signum` (the run loop checkpoints and stops
    after the current step); a second signal gets the previous handler (Ctrl-C twice: the usual
    KeyboardInterrupt). Installed only in the main thread; the old handlers come back on exit."""

    SIGNALS = ("SIGINT", "SIGTERM")

    def __init__(self) -> None:
        self.signum = 0
        self._old: Dict[int, Any] = {}

    def _handle(self, signum: int, frame: Any) -> None:
        self.signum = signum
        import signal
        for s, h in self._old.items():
            signal.signal(s, h)

    def __enter__(self) -> "_StopSignals":
        import signal
        import threading
        if threading.current_thread() is threading.main_thread():
            for name in self.SIGNALS:
                s = getattr(signal, name)
                self._old[s] = signal.signal(s, self._handle)
        return self

    def __exit__(self, *exc: Any) -> None:
        import signal
        for s, h in self._old.items():
            signal.signal(s, h)
        self._old = {}


def progress_enabled(option: Optional[bool], configured: Optional[bool], stream: Any = None) -> bool:
    """Whether to draw progress bars: the ``--progress/--no-progress`` option if given, else the
    config's ``log.progress`` if it is true/false, else (``null``, the default and every bundled
    config's value) whether ``stream`` (default ``sys.stderr``, where tqdm draws) is a terminal —
    bars for an interactive run, none in a log file or a scheduler's output."""
    import sys
    if option is not None:
        return bool(option)
    if configured is not None:
        return bool(configured)
    s = sys.stderr if stream is None else stream
    try:
        return bool(s.isatty())
    except (AttributeError, ValueError):
        return False


def _write_json(path: pathlib.Path, obj: Any) -> None:
    text = (json.dumps(obj, indent=2, sort_keys=True) + "\n").encode("utf-8")
    atomic_write(path, lambda fh: fh.write(text))


def _load_data(cfg: Mapping[str, Any]) -> Tuple[D.ArrayDataset, D.ArrayDataset, int]:
    """(training subset, test subset, size of the whole test split)."""
    dc = cfg["data"]
    tr = D.load_dataset(dc["dataset"], dc["train_split"], **dc["kwargs"]).subset(dc["train_subset"])
    te_all = D.load_dataset(dc["dataset"], dc["test_split"], **dc["kwargs"])
    return tr, te_all.subset(dc["test_subset"]), len(te_all)


def _plot_curves(out: pathlib.Path, cfg: Mapping[str, Any]) -> None:
    from ..plots import plot_training_curves
    plot_training_curves(read_metrics(out / "metrics.jsonl"), out / "curves.png", title=cfg["name"])


def _seed_all(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def run_experiment(cfg: Mapping[str, Any], out_dir: "str | os.PathLike[str]", *, resume: bool = False,
                   epochs: Optional[int] = None, max_steps: Optional[int] = None,
                   progress: Optional[bool] = None, device: Optional[str] = None) -> Dict[str, Any]:
    """Train ``cfg`` into ``out_dir`` (``checkpoint.npz``, ``metrics.jsonl``, ``config.json``,
    ``model.npz``, ``curves.png``, ``summary.json``; ``certify.json``/``certify.png`` if
    ``certify.at_end``). Under ``torchrun`` (WORLD_SIZE > 1) runs DDP; only rank 0 writes files.

    ``resume``: continue from ``out_dir/checkpoint.npz`` exactly (model, Adam moments, RNG states,
    epoch/step counters, epoch accumulators; data order is a function of (seed, epoch)); the config
    must match the checkpoint's except for ``epochs``/``log``/``certify``/``paper``/``notes``.
    ``max_steps``: stop (with a checkpoint) once ``max_steps`` optimizer steps have run in total,
    counting those before a resume (resuming at step 3 with ``max_steps=3`` runs none).
    Checkpoints: every ``checkpoint.every_steps`` steps, every ``checkpoint.every_minutes`` of
    wall time (default 10), at every epoch end, and on SIGINT/SIGTERM — the run then finishes the
    current step, checkpoints and returns with status ``interrupted`` and ``summary["signal"]``.
    Returns the summary dict (final test metrics, steps, status)."""
    with _StopSignals() as stop:
        try:
            return _run(cfg, out_dir, resume=resume, epochs=epochs, max_steps=max_steps, progress=progress,
                        device=device, stop=stop)
        except BaseException:
            # a collective error (every rank raises together, e.g. _agree_on_checkpoint): tear the process
            # group down before the interpreter exits, or gloo/nccl threads abort the process (SIGABRT)
            import torch.distributed as dist
            if dist.is_available() and dist.is_initialized():
                dist.destroy_process_group()
            raise


def _agree_on_checkpoint(ckpt_path: pathlib.Path, resume: bool, info: "T.DistInfo", dev: torch.device) -> None:
    """Every rank must see the same thing at ``ckpt_path`` before anything is loaded (a rank on a node
    without the shared directory would otherwise start at step 0 while the others resume, and the job
    hangs): the check is a collective, so all ranks raise the same :class:`CheckpointError` together."""
    hidden = os.environ.get(HIDE_ENV)
    seen = ckpt_path.exists() and not (hidden is not None and int(hidden) == info.rank)
    flags = [row[0] > 0 for row in T.all_gather_floats([float(seen)], info, dev)]
    blind = [r for r, f in enumerate(flags) if not f]
    if resume and blind:
        if len(blind) == len(flags):
            raise CheckpointError(f"--resume: {ckpt_path} does not exist (run without --resume to start fresh)")
        raise CheckpointError(f"--resume: rank(s) {blind} of {len(flags)} cannot see {ckpt_path} (the other ranks "
                              "can): every rank needs the same output directory (a shared filesystem)")
    if not resume and any(flags):
        raise CheckpointError(f"{ckpt_path} exists: pass --resume to continue it or choose another --out")


def _agree_on_step(ckpt_path: pathlib.Path, where: Tuple[int, int, int], info: "T.DistInfo",
                   dev: torch.device) -> None:
    """All ranks loaded the same (epoch, step in epoch, global step), or all raise."""
    rows = T.all_gather_floats([float(v) for v in where], info, dev)
    if any(r != rows[0] for r in rows):
        got = {r: tuple(int(v) for v in row) for r, row in enumerate(rows)}
        raise CheckpointError(f"--resume: the ranks loaded different checkpoints from {ckpt_path} "
                              f"((epoch, step in epoch, global step) by rank: {got})")


def _restore_rng(meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray], info: "T.DistInfo", where: str) -> None:
    """Each rank restores its own RNG state; a checkpoint from another world size (or one written before
    per-rank states were saved) gives ranks > 0 rank 0's state, with a warning."""
    ranks = meta.get("rng_ranks") or {}
    if info.rank == 0:
        set_rng_state(meta["rng"], arrays)
    elif str(info.rank) in ranks:
        set_rng_state(ranks[str(info.rank)], arrays, rank_rng_prefix(info.rank))
    else:
        warnings.warn(f"{where}: no RNG state saved for rank {info.rank} (checkpoint world size "
                      f"{meta.get('world_size', 1)}, now {info.world_size}): using rank 0's", RuntimeWarning)
        set_rng_state(meta["rng"], arrays)


def _run(cfg: Mapping[str, Any], out_dir: "str | os.PathLike[str]", *, resume: bool, epochs: Optional[int],
         max_steps: Optional[int], progress: Optional[bool], device: Optional[str], stop: _StopSignals) -> Dict[str, Any]:
    cfg = validate_config(cfg)
    if epochs is not None:
        if epochs < 1:
            raise ConfigError("epochs: >= 1")
        cfg["epochs"] = int(epochs)
    info = T.dist_info()
    dev = torch.device(device) if device else T.init_distributed(info)
    if device and info.enabled:
        T.init_distributed(info)
    dtype = getattr(torch, cfg["dtype"])
    out = pathlib.Path(out_dir)
    ckpt_path = out / "checkpoint.npz"
    if info.is_main:
        out.mkdir(parents=True, exist_ok=True)
    _agree_on_checkpoint(ckpt_path, resume, info, dev)

    _seed_all(cfg["seed"])
    train_ds, test_ds, n_test_split = _load_data(cfg)
    model = build_model_from_config(cfg, train_ds.input_shape, train_ds.num_classes)
    model.to(device=dev, dtype=dtype)
    opt = T.build_optimizer(model.parameters(), cfg["optimizer"]["name"], lr=cfg["optimizer"]["lr"],
                            betas=cfg["optimizer"]["betas"], weight_decay=cfg["optimizer"]["weight_decay"],
                            eps=cfg["optimizer"]["eps"], momentum=cfg["optimizer"]["momentum"],
                            nesterov=cfg["optimizer"]["nesterov"])
    B = cfg["data"]["batch_size"]
    if B % info.world_size:
        raise ConfigError(f"data.batch_size {B} must be divisible by the number of processes {info.world_size}")
    spe = len(train_ds) // B
    if spe < 1:
        raise ConfigError(f"data.batch_size {B} exceeds the training set size {len(train_ds)}")
    sc = cfg["schedule"]
    lr_at = T.LRSchedule(cfg["optimizer"]["lr"], sc["name"], spe, cfg["epochs"] * spe, tuple(sc["milestones"]),
                         sc["gamma"], sc["warmup_epochs"], sc["start_factor"], sc["end_factor"])
    eps_at = T.Ramp(**cfg["eps_schedule"])
    kappa_at = T.Ramp(**cfg["kappa_schedule"])
    loss_fn = get_loss(cfg["loss"]["name"])

    epoch, step_in_epoch, gstep = 0, 0, 0
    acc = {"loss_sum": 0.0, "correct": 0.0, "count": 0.0}
    if resume:
        arrays, meta = load_checkpoint(ckpt_path)
        if meta.get("fingerprint") != config_fingerprint(cfg):
            raise CheckpointError(f"{ckpt_path}: written by a different config (only epochs/log/certify/"
                                  "paper/notes may change on --resume)")
        load_model_arrays(model, arrays, str(ckpt_path))
        opt.load_state_dict(tree_to_state(meta["optimizer"], arrays))
        _restore_rng(meta, arrays, info, str(ckpt_path))
        epoch, step_in_epoch, gstep = meta["epoch"], meta["step_in_epoch"], meta["global_step"]
        _agree_on_step(ckpt_path, (epoch, step_in_epoch, gstep), info, dev)
        acc = dict(meta["epoch_accumulators"])
        if info.is_main:
            truncate_metrics(out / "metrics.jsonl", gstep, epoch)
    if info.enabled:
        from torch.nn.parallel import DistributedDataParallel as DDP
        model = DDP(model, device_ids=[dev.index] if dev.type == "cuda" else None)
    base = T.unwrap(model)
    if info.is_main:
        _write_json(out / "config.json", cfg)
    log = MetricsLog(out / "metrics.jsonl", info.is_main)
    show = progress_enabled(progress, cfg["log"]["progress"])
    hang_after = int(os.environ.get(HANG_ENV, "0") or 0)

    last_ckpt = [time.monotonic()]
    ck_seconds = 60.0 * float(cfg["checkpoint"]["every_minutes"])

    def checkpoint(ep: int, sie: int) -> None:
        """A collective (every rank calls it at the same step): each rank's RNG state is gathered, rank 0
        writes the file."""
        mine: Dict[str, np.ndarray] = {}
        rmeta = rng_state(mine, rank_rng_prefix(info.rank))
        gathered = T.gather_to_main((rmeta, mine), info)
        last_ckpt[0] = time.monotonic()
        if not info.is_main:
            return
        arrays: Dict[str, np.ndarray] = model_arrays(base)
        for _, a in gathered or []:
            arrays.update(a)
        meta = {"format": "deqtheory_train.checkpoint/1", "config": cfg, "fingerprint": config_fingerprint(cfg),
                "epoch": ep, "step_in_epoch": sie, "global_step": gstep, "epoch_accumulators": acc,
                "optimizer": state_to_tree(opt.state_dict(), arrays, "optim"), "rng": rmeta,
                "input_shape": list(train_ds.input_shape), "num_classes": train_ds.num_classes,
                "world_size": info.world_size, "torch": torch.__version__}
        if info.enabled:
            meta["rng_ranks"] = {str(r): m for r, (m, _) in enumerate(gathered or []) if r > 0}
        save_checkpoint(ckpt_path, arrays, meta)

    resident = cfg["data"]["device_resident"]
    train_x, train_y = D.to_device_arrays(train_ds, dev, dtype, resident)
    test_x, test_y = D.to_device_arrays(test_ds, dev, dtype, resident)
    augment = cfg["data"]["augment"]

    from tqdm import tqdm
    t0 = time.time()
    stopped = max_steps is not None and gstep >= max_steps and epoch < cfg["epochs"]
    signum = sig = 0
    last_eval: Dict[str, float] = {}
    while epoch < cfg["epochs"] and not stopped:
        perm = D.epoch_permutation(len(train_ds), cfg["seed"], epoch)
        bar = tqdm(total=spe, initial=step_in_epoch, desc=f"epoch {epoch + 1}/{cfg['epochs']}",
                   disable=not (show and info.is_main), leave=False, dynamic_ncols=True)
        for i, idx in D.batch_indices(perm, B, rank=info.rank, world_size=info.world_size, start=step_in_epoch):
            t = gstep / spe
            lr = lr_at(gstep)
            T.set_lr(opt, lr)
            ctx = T.LossContext(eps=eps_at(t), kappa=kappa_at(t), epoch=t, step=gstep, norm=cfg["norm"])
            xb, yb = D.take_batch(train_x, train_y, idx, dev, dtype)
            if augment:
                xb = D.augment_batch(xb, **augment, generator=D.augment_generator(cfg["seed"], info.rank, gstep, dev))
            st = T.train_step(model, opt, loss_fn, cfg["loss"]["kwargs"], xb, yb, ctx, grad_clip=cfg["grad_clip"])
            # the stop flag and the "checkpoint time is up" flag travel with the sums so that every DDP
            # rank stops / checkpoints after the same step (each rank has its own clock)
            due = float(ck_seconds > 0 and time.monotonic() - last_ckpt[0] >= ck_seconds)
            ls, cor, cnt, sig, due = T.all_reduce_sum([st["loss_sum"], st["correct"], st["count"], stop.signum, due],
                                                      info, dev)
            acc = {"loss_sum": acc["loss_sum"] + ls, "correct": acc["correct"] + cor, "count": acc["count"] + cnt}
            gstep += 1
            step_in_epoch = i + 1
            post = {"loss": f"{ls / cnt:.4f}", "acc": f"{cor / cnt:.3f}"}
            if ctx.eps:
                post["eps"] = f"{ctx.eps:.4g}"
            if "fp_iters" in st:
                post["fp_it"] = f"{st['fp_iters']:.0f}"
            bar.set_postfix(post, refresh=False)
            bar.update(1)
            every = cfg["log"]["every_steps"]
            if every and gstep % every == 0:
                rec = {"kind": "step", "step": gstep, "epoch": t, "lr": lr, "eps": ctx.eps, "kappa": ctx.kappa,
                       "loss": ls / cnt, "acc": cor / cnt}
                rec.update({k: st[k] for k in ("fp_iters", "fp_residual", "bw_iters", "grad_norm") if k in st})
                log.write(rec)
            ck = cfg["checkpoint"]["every_steps"]
            timed = due > 0
            if (((ck and gstep % ck == 0) or timed) and step_in_epoch < spe) or (max_steps is not None and gstep >= max_steps):
                checkpoint(epoch, step_in_epoch)
            if hang_after and gstep == hang_after and info.is_main:
                (out / "HANG").write_text(str(gstep))
                while not stop.signum:  # fault injection: wait to be killed or interrupted (tests only)
                    time.sleep(0.05)
                sig = sig or stop.signum
            if sig and step_in_epoch < spe:
                signum = int(stop.signum) or _SIGTERM   # a rank that got no signal itself stops as if SIGTERMed
                checkpoint(epoch, step_in_epoch)
                stopped = True
                break
            if max_steps is not None and gstep >= max_steps and step_in_epoch < spe:
                stopped = True
                break
        bar.close()
        if stopped:
            break
        epoch += 1
        step_in_epoch = 0
        rec = {"kind": "epoch", "epoch": epoch, "step": gstep, "lr": lr_at(max(gstep - 1, 0)),
               "eps": eps_at(gstep / spe), "kappa": kappa_at(gstep / spe),
               "train_loss": acc["loss_sum"] / max(acc["count"], 1.0),
               "train_acc": acc["correct"] / max(acc["count"], 1.0), "wall_time": time.time() - t0}
        if epoch % cfg["eval"]["every_epochs"] == 0 or epoch == cfg["epochs"]:
            last_eval = T.evaluate(base, test_x, test_y, batch_size=cfg["data"]["eval_batch_size"],
                                   device=dev, info=info, dtype=dtype)
            rec.update({"test_loss": last_eval["loss"], "test_acc": last_eval["acc"]})
            if "fp_iters" in last_eval:
                rec["test_fp_iters"] = last_eval["fp_iters"]
        log.write(rec)
        acc = {"loss_sum": 0.0, "correct": 0.0, "count": 0.0}
        checkpoint(epoch, 0)
        if max_steps is not None and gstep >= max_steps:
            stopped = epoch < cfg["epochs"]
        if (sig or stop.signum) and epoch < cfg["epochs"]:   # a signal in the epoch's last step or evaluation
            signum, stopped = int(stop.signum) or _SIGTERM, True
        pe = cfg["log"]["plot_every_epochs"]
        if info.is_main and pe and epoch % pe == 0:
            _plot_curves(out, cfg)

    if info.is_main and (out / "metrics.jsonl").exists():
        _plot_curves(out, cfg)
    status = RunStatus.INTERRUPTED if signum else RunStatus.STOPPED if stopped else RunStatus.FINISHED
    summary: Dict[str, Any] = {"name": cfg["name"], "status": status.value,
                               "epoch": epoch, "global_step": gstep, "world_size": info.world_size}
    if signum:
        summary["signal"] = signum
    if not stopped:
        if not last_eval:
            last_eval = T.evaluate(base, test_x, test_y, batch_size=cfg["data"]["eval_batch_size"],
                                   device=dev, info=info, dtype=dtype)
        summary.update({"test_loss": last_eval["loss"], "test_acc": last_eval["acc"]})
        if info.is_main:
            meta = {"format": "deqtheory_train.model/1", "config": cfg, "input_shape": list(train_ds.input_shape),
                    "num_classes": train_ds.num_classes, "global_step": gstep, "epoch": epoch}
            save_checkpoint(out / "model.npz", model_arrays(base), meta)
        ce = cfg["certify"]
        if ce["at_end"] and ce["eps"]:
            # every rank certifies its shard of the batches (no rank idles at a barrier); rank 0 gathers.
            # A device certifier runs where the model trained (each rank's own GPU), the others on the CPU.
            cname = ce["certifier"] or getattr(base, "default_certifier", None)
            res = certify_model(base, test_ds, certifier=ce["certifier"], norm=ce["norm"], eps=ce["eps"],
                                max_samples=ce["max_samples"], dist=info,
                                device=dev if cname in DEVICE_CERTIFIERS else None, **ce["kwargs"])
            if res is not None:
                res["split"], res["split_size"] = cfg["data"]["test_split"], n_test_split
                res["data"] = describe_sample(cfg["data"]["dataset"], res["split"], res["n"], n_test_split,
                                              cfg["data"]["test_subset"], ce["max_samples"])
                write_certify_outputs(res, out / "certify.json", out / "certify.png", cfg)
                summary["certified_accuracy"] = res["certified_accuracy"]
                log.write({"kind": "certify", "step": gstep, **{k: res[k] for k in ("norm", "eps", "certified_accuracy", "clean_accuracy")}})
    if info.is_main:
        _write_json(out / "summary.json", summary)
    if info.enabled:
        import torch.distributed as dist
        dist.barrier()
    return summary
