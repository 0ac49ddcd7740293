"""The metrics log of a run (``metrics.jsonl``: one JSON record per line, ``kind`` = step | epoch | certify)."""
from __future__ import annotations

import json
import os
import pathlib
from typing import Any, Dict, List, Mapping

__all__ = ["MetricsLog", "read_metrics", "truncate_metrics"]


def truncate_metrics(path: pathlib.Path, step: int, epoch: int) -> None:
    """Keep the records of steps ≤ ``step`` and epoch records of epochs ≤ ``epoch`` (a killed run
    may have logged past its checkpoint) and drop a torn last line."""
    if not path.exists():
        return
    keep = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if int(rec.get("step", 0)) <= step and not (rec.get("kind") == "epoch" and rec.get("epoch", 0) > epoch):
            keep.append(json.dumps(rec, sort_keys=True))
    path.write_text("".join(k + "\n" for k in keep), encoding="utf-8")


class MetricsLog:
    """Append-only JSON-lines log (a no-op on non-main ranks)."""

    def __init__(self, path: pathlib.Path, enabled: bool) -> None:
        self.path = path
        self.enabled = enabled

    def write(self, rec: Mapping[str, Any]) -> None:
        if not self.enabled:
            return
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps(rec, sort_keys=True) + "\n")
            f.flush()


def read_metrics(path: "str | os.PathLike[str]") -> List[Dict[str, Any]]:
    """All records of a metrics.jsonl file."""
    out = []
    for line in pathlib.Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip():
            out.append(json.loads(line))
    return out
