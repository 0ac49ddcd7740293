"""The command-line conventions of issue 15 item 13 (docs/cli.md, "Conventions"): ``--json`` on stdout and
``--json-out PATH`` for both CLIs, errors as JSON with ``--json``, exit codes, ``--threads`` on
``deqtheory check``, one meaning per number column of the check table, vacuous bounds marked, and the
README's SLL example run as written (with the venv's ``deqtheory``)."""
from __future__ import annotations

import json
import pathlib
import shlex
import subprocess
import sys

import numpy as np
import pytest

from deqtheory import cli as dcli
from deqtheory import formats as fm
from deqtheory import report

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _run(main, argv, capsys):
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def mondeq(tmp_path):
    rng = np.random.default_rng(0)
    n = 4
    p = tmp_path / "m.npz"
    fm.save_model(p, fm.MonDEQNet(rng.normal(size=(n, n)) * 0.3, rng.normal(size=(n, n)) * 0.3, 0.5,
                                  rng.normal(size=(n, 3)), rng.normal(size=(2, n))))
    return p


def test_json_and_json_out_carry_the_same_object(mondeq, tmp_path, capsys):
    out_path = tmp_path / "new" / "dir" / "r.json"
    code, out, err = _run(dcli.main, ["check", mondeq, "--no-sdp", "--json", "--json-out", out_path], capsys)
    assert code == 0 and err == ""
    assert json.loads(out) == json.loads(out_path.read_text())
    code, out, _ = _run(dcli.main, ["check", mondeq, "--no-sdp", "--json-out", out_path], capsys)
    assert code == 0 and out.startswith("model ")          # the table on stdout, JSON in the file
    assert "conditions" in json.loads(out_path.read_text())


@pytest.mark.parametrize("argv, needle", [
    (["check", "{tmp}/missing.npz", "--json"], "no such file"),                 # a file error
    (["eval", "{model}", "{tmp}/missing.npy", "-o", "{tmp}/y.npy", "--json", "--tol", "nan"], "--tol"),  # usage
    (["check", "--json"], "required"),                                          # usage error
])
def test_errors_with_json_are_one_json_object_on_stdout_and_one_line_on_stderr(mondeq, tmp_path, capsys,
                                                                               argv, needle):
    argv = [a.format(tmp=tmp_path, model=mondeq) for a in argv]
    code, out, err = _run(dcli.main, argv, capsys)
    assert code == 2
    obj = json.loads(out)
    assert set(obj) == {"error", "exit"} and obj["exit"] == 2 and needle in obj["error"]
    assert len(err.strip().splitlines()) == 1 and err.startswith("deqtheory") and needle in err


def test_errors_without_json_leave_stdout_empty(tmp_path, capsys):
    code, out, err = _run(dcli.main, ["check", tmp_path / "missing.npz"], capsys)
    assert code == 2 and out == "" and err.startswith("deqtheory check: error:")


def test_train_cli_json_conventions(tmp_path, capsys):
    pytest.importorskip("torch")
    from deqtheory_train import cli as tcli

    code, out, err = _run(tcli.main, ["export", tmp_path / "missing", "-o", tmp_path / "o.npz", "--json"], capsys)
    assert code == 2 and json.loads(out)["exit"] == 2 and len(err.strip().splitlines()) == 1
    code, out, err = _run(tcli.main, ["certify", "x.npz", "--eps", "nan", "--json"], capsys)
    assert code == 2 and "nan" in json.loads(out)["error"] and len(err.strip().splitlines()) == 1
    # the old spelling certify --json PATH is kept: it means --json-out PATH, with a deprecation note
    args = tcli._parser().parse_args(["certify", "m.npz", "--eps", "0.1", "--json", "old.json"])
    assert tcli._json_target(args) == (False, "old.json")
    assert "deprecated" in capsys.readouterr().err
    args = tcli._parser().parse_args(["certify", "m.npz", "--eps", "0.1", "--json", "--json-out", "new.json"])
    assert tcli._json_target(args) == (True, "new.json")


def test_exit_code_3_is_the_missing_dataset_and_is_documented():
    pytest.importorskip("torch")
    from deqtheory_train import cli as tcli
    from deqtheory_train import data as D
    from deqtheory_train import experiment as X

    assert tcli._exit_code(D.DatasetUnavailableError("x")) == 3
    assert tcli._exit_code(X.ConfigError("x")) == 2 and tcli._exit_code(KeyError("bug")) is None
    doc = (ROOT / "docs" / "cli.md").read_text()
    for code in ("| 0 |", "| 1 |", "| 2 |", "| 3 |", "| 130 / 143 |"):
        assert code in doc


_THREADS_SCRIPT = """
import sys
import scipy.linalg  # noqa: F401  (scipy's own OpenBLAS, loaded)
from deqtheory import cli as dcli, report
seen = []
real = report.check_deq
report.check_deq = lambda *a, **k: seen.append(dcli.blas_threads()) or real(*a, **k)
assert dcli.set_blas_threads(2) and set(dcli.blas_threads()) == {2}, dcli.blas_threads()
assert dcli.main(["check", sys.argv[1], "--no-sdp"]) == 0
assert set(seen[-1]) == {1}, seen                  # during check: one thread (the default)
assert dcli.main(["check", sys.argv[1], "--no-sdp", "--threads", "3"]) == 0
assert set(seen[-1]) == {3}, seen
assert set(dcli.blas_threads()) == {2}, dcli.blas_threads()     # and the caller's setting is back
"""


def test_threads_flag_sets_every_loaded_openblas(mondeq, capsys):
    """In a fresh process (the libraries a ``deqtheory`` command loads: numpy's and scipy's OpenBLAS; an
    earlier test of this process may have loaded CVXOPT's, whose OpenBLAS is built for one thread)."""
    assert dcli.build_parser().parse_args(["check", "m.npz"]).threads == 1       # the default
    for bad in ("0", "-1", "nan", "x"):
        code, _, err = _run(dcli.main, ["check", mondeq, "--threads", bad], capsys)
        assert code == 2 and len(err.strip().splitlines()) == 1
    done = subprocess.run([sys.executable, "-c", _THREADS_SCRIPT, mondeq], capture_output=True, timeout=120,
                          cwd=pathlib.Path(__file__).resolve().parents[1])
    assert done.returncode == 0, done.stderr.decode()[-2000:]


def test_check_table_has_one_meaning_per_number_column(mondeq, capsys):
    code, out, _ = _run(dcli.main, ["check", mondeq], capsys)
    assert code == 0
    lines = out.splitlines()
    head_c = next(ln for ln in lines if ln.split()[:1] == ["condition"])
    head_l = next(ln for ln in lines if ln.strip().startswith("lipschitz bound"))
    assert head_c.split()[2] == "slack" and head_l.split()[3] == "L" and "margin" not in head_c + head_l
    assert any(ln.strip().startswith("(slack = ") for ln in lines)
    assert any(ln.strip().startswith("(L = ") for ln in lines)
    for ln in lines[lines.index(head_l) + 1:]:
        if ln.split()[:1] and ln.split()[0] in ("l2_analytic", "l2_sdp", "linf"):
            L = float(ln.split()[2])
            assert "[uses:" in ln and (L == float("inf") or L > 0)


def test_vacuous_bounds_are_marked(tmp_path, capsys):
    """W = (1 − 1e-9) I: mu_inf is certified with slack 1e-9, so the linf bound is ≈ 1e9 > 2^24."""
    p = tmp_path / "v.npz"
    fm.save_model(p, {"W": (1 - 1e-9) * np.eye(3), "U": np.eye(3), "G": np.eye(3)})
    code, out, _ = _run(dcli.main, ["check", p, "--no-sdp", "--json"], capsys)
    d = json.loads(out)["lipschitz"]
    assert d["linf"]["status"] == "certified" and d["linf"]["L"] > report.VACUOUS_L and d["linf"]["vacuous"] is True
    code, out, _ = _run(dcli.main, ["check", p, "--no-sdp"], capsys)
    row = next(ln for ln in out.splitlines() if ln.split()[:1] == ["linf"])
    assert "VACUOUS (L > 2^24)" in row
    assert not report.is_vacuous(2.0 ** 24) and report.is_vacuous(2.0 ** 24 * (1 + 2 ** -52))
    assert not report.is_vacuous(float("inf"))          # inf is "no bound", reported as inconclusive


def test_small_bounds_are_not_marked(mondeq, capsys):
    code, out, _ = _run(dcli.main, ["check", mondeq, "--no-sdp", "--json"], capsys)
    assert all(v.get("vacuous") is False for v in json.loads(out)["lipschitz"].values())


def _readme_sll_block() -> str:
    text = (ROOT / "README.md").read_text()
    sec = text[text.index("## Converting an SLL into an LBEN"):]
    return sec[sec.index("```bash") + len("```bash"):].split("```", 1)[0]


def test_readme_sll_example_runs_as_written(tmp_path):
    """Every command of the README's SLL block uses the venv (``.venv/bin/...``); run here with this
    interpreter in place of ``.venv/bin/python`` and ``python -m deqtheory.cli`` for ``.venv/bin/deqtheory``."""
    cmds, acc = [], ""
    for line in _readme_sll_block().strip().splitlines():
        acc += line + "\n"
        try:
            cmds.append(shlex.split(acc, comments=True))
            acc = ""
        except ValueError:                   # an open quote: the command goes on (python -c "...")
            continue
    assert acc == "" and len(cmds) >= 5 and all(c[0].startswith(".venv/bin/") for c in cmds), cmds
    for argv in cmds:
        exe = {".venv/bin/python": [sys.executable], ".venv/bin/deqtheory": [sys.executable, "-m", "deqtheory.cli"]}[argv[0]]
        r = subprocess.run(exe + argv[1:], cwd=tmp_path, capture_output=True, text=True, timeout=300,
                           env={"PYTHONPATH": str(ROOT), "OPENBLAS_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"})
        assert r.returncode == 0, (argv, r.stderr)
    y_sll, y_lben = np.load(tmp_path / "y_sll.npy"), np.load(tmp_path / "y_lben.npy")
    assert np.max(np.abs(y_sll - y_lben)) <= 1e-14 * max(1.0, float(np.max(np.abs(y_sll))))


def test_an_output_path_that_is_a_directory_is_one_line_exit_2(mondeq, tmp_path, capsys):
    x = tmp_path / "x.npy"
    np.save(x, np.ones((2, 3)))
    (tmp_path / "out").mkdir()
    for argv in (["eval", mondeq, x, "-o", tmp_path / "out"], ["check", mondeq, "--no-sdp", "--json-out", tmp_path / "out"]):
        code, out, err = _run(dcli.main, argv, capsys)
        assert code == 2 and len(err.strip().splitlines()) == 1 and "out" in err, err
