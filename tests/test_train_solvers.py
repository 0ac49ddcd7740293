"""deqtheory_train.solvers: fixed points against deqtheory.solvers (numpy oracle), implicit gradients
against finite differences (gradcheck) and unrolled solves, honest statuses, float32, device-agnostic."""
from __future__ import annotations

import pathlib

import numpy as np
import pytest
import torch

from deqtheory import solvers as ds
from deqtheory.errors import DomainError
from deqtheory_train import solvers as S

torch.set_num_threads(1)


def _mondeq(n, m=0.5, seed=0):
    rng = np.random.default_rng(seed)
    A, B = rng.standard_normal((2, n, n)) / np.sqrt(n)
    return (1 - m) * np.eye(n) - A.T @ A + B - B.T


def _t(a, dtype=torch.float64):
    return torch.tensor(np.array(a, dtype=np.float64), dtype=dtype)


@pytest.mark.theorem("pabbaraju2021:prop1")
@pytest.mark.parametrize("mask", [False, True])
def test_all_methods_reach_the_deqtheory_fixed_point(mask):
    n = 7
    W = _mondeq(n)
    V = np.random.default_rng(1).standard_normal((5, n))
    im = np.zeros(n, dtype=bool)
    if mask:
        im[[1, 4]] = True
    ref = ds.solve_injection(W, V, method="pr", tol=1e-13, identity_mask=im if mask else None)
    assert ref.converged
    for method in S.F_SOLVERS:
        z, st = S.fixed_point(_t(W), _t(V), f_solver=method, f_tol=1e-12, f_stop_mode="abs", f_max_iter=5000,
                              identity_mask=torch.tensor(im) if mask else None)
        assert st.status is S.SolverStatus.CONVERGED, (method, st.message)
        assert st.residual <= 1e-12
        assert np.max(np.abs(z.numpy() - ref.z)) <= 1e-10, method


def test_residual_and_status_are_recomputed_for_the_returned_z():
    n = 6
    W, V = _t(_mondeq(n)), _t(np.random.default_rng(2).standard_normal((3, n)))
    z, st = S.fixed_point(W, V, f_solver="pr", f_tol=1e-8, f_stop_mode="abs")
    assert st.residual == pytest.approx(S.fixed_point_residual(W, V, z), rel=1e-12)
    z, st = S.fixed_point(W, V, f_solver="pr", f_tol=1e-6, f_stop_mode="rel")
    assert st.converged and st.rel_residual <= 1e-6
    assert st.rel_residual == pytest.approx(S.fixed_point_residual(W, V, z, stop_mode="rel"), rel=1e-12)
    z, st = S.fixed_point(W, V, f_solver="pr", f_tol=1e-14, f_max_iter=3, f_stop_mode="abs")
    assert st.status is S.SolverStatus.MAX_ITERATIONS and st.iterations == 3 and st.residual > 1e-14
    assert len(st.history) == 4


def test_fb_precondition_and_honest_failures():
    n = 5
    W = _t(1.5 * np.eye(n))                       # I − W = −0.5 I: not monotone
    V = _t(np.ones((2, n)))
    z, st = S.fixed_point(W, V, f_solver="fb")
    assert st.status is S.SolverStatus.NOT_MONOTONE and st.iterations == 0
    assert torch.equal(z, torch.zeros_like(V))
    # fixed-point iteration z ← relu(1.5 z + 1) diverges: reported, not hidden
    z, st = S.fixed_point(W, V, f_solver="alpha_avg", alpha=1.0, f_max_iter=200, f_stop_mode="abs")
    assert st.status in (S.SolverStatus.DIVERGED, S.SolverStatus.NONFINITE, S.SolverStatus.MAX_ITERATIONS)
    assert not st.converged and st.residual > 1.0
    z, st = S.fixed_point(W, V, f_solver="anderson", f_max_iter=50, f_stop_mode="abs")
    # Anderson has no guarantee; whatever it returns, the reported residual is that of z
    assert st.residual == pytest.approx(S.fixed_point_residual(W, V, z), rel=1e-9)
    assert st.converged == (st.residual <= st.tol)


def test_fb_at_the_default_step_and_forced_step():
    n = 6
    W = _t(_mondeq(n, m=0.3, seed=5))
    V = _t(np.random.default_rng(5).standard_normal((2, n)))
    _, st = S.fixed_point(W, V, f_solver="fb", f_tol=1e-10, f_stop_mode="abs", f_max_iter=20000)
    op = S.DenseOperator(W)
    assert st.converged and st.alpha == pytest.approx(op.m / op.L ** 2)
    with pytest.raises(DomainError):
        S.fixed_point(W, V, f_solver="fb", alpha=-1.0)
    with pytest.raises(DomainError):
        S.fixed_point(W, V, f_solver="newton")


def test_user_resolvent_operator_equals_dense():
    n = 6
    W = _t(_mondeq(n, seed=3))
    V = _t(np.random.default_rng(3).standard_normal((4, n)))

    def resolvent(alpha):
        M = torch.eye(n, dtype=W.dtype) + alpha * (torch.eye(n, dtype=W.dtype) - W)
        return (lambda u: torch.linalg.solve(M, u.T).T), (lambda u: torch.linalg.solve(M.T, u.T).T)

    op = S.LinearOperator(lambda z: z @ W.T, lambda g: g @ W, resolvent=resolvent, L=1.0)
    z1, s1 = S.fixed_point(op, V, f_tol=1e-12, f_stop_mode="abs")
    z2, s2 = S.fixed_point(W, V, f_tol=1e-12, f_stop_mode="abs", alpha=1.0)
    assert s1.converged and s2.converged
    assert torch.allclose(z1, z2, atol=1e-10)
    with pytest.raises(DomainError):
        S.fixed_point(S.LinearOperator(op.matvec, op.rmatvec), V, f_solver="pr")


def _loss_fn(method, bmethod, grad="implicit", steps=5, tau=0.5, mask=None):
    def f(A, B, V):
        n = B.shape[0]
        W = 0.5 * torch.eye(n, dtype=A.dtype) - A.T @ A + B - B.T
        z, info = S.deq_solve(W, V, f_solver=method, b_solver=bmethod, f_tol=1e-13, f_stop_mode="abs",
                              f_max_iter=20000, grad=grad, phantom_steps=steps, phantom_tau=tau,
                              identity_mask=mask)
        return z
    return f


def _inputs(n=4, batch=2, seed=0):
    rng = np.random.default_rng(seed)
    A = _t(rng.standard_normal((n, n)) / n).requires_grad_()
    B = _t(rng.standard_normal((n, n)) / n).requires_grad_()
    V = _t(rng.standard_normal((batch, n))).requires_grad_()
    return A, B, V


@pytest.mark.parametrize("method,bmethod", [("pr", "pr"), ("fb", "fb"), ("pr", "alpha_avg"), ("anderson", "anderson")])
def test_implicit_gradient_gradcheck(method, bmethod):
    assert torch.autograd.gradcheck(_loss_fn(method, bmethod), _inputs(), eps=1e-6, atol=1e-6, rtol=1e-5)


def test_implicit_gradient_gradcheck_with_identity_mask():
    mask = torch.tensor([True, False, False, True])
    assert torch.autograd.gradcheck(_loss_fn("pr", "pr", mask=mask), _inputs(seed=4), eps=1e-6, atol=1e-6, rtol=1e-5)


def test_implicit_gradient_equals_unrolled_and_phantom_converges_to_it():
    A, B, V = _inputs(n=5, batch=3, seed=2)
    w = _t(np.random.default_rng(9).standard_normal((3, 5)))

    def grads(z):
        return torch.autograd.grad((z * w).sum(), (A, B, V))

    g_imp = grads(_loss_fn("pr", "pr")(A, B, V))
    # unrolled: differentiate 3000 FB steps with autograd
    n = 5
    W = 0.5 * torch.eye(n, dtype=A.dtype) - A.T @ A + B - B.T
    op = S.DenseOperator(W)
    alpha = op.m / op.L ** 2
    z = torch.zeros_like(V)
    for _ in range(3000):
        z = torch.relu((1 - alpha) * z + alpha * (z @ W.T + V))
    g_unr = grads(z)
    for a, b in zip(g_imp, g_unr):
        assert torch.allclose(a, b, atol=1e-8, rtol=1e-7)
    g_ph = grads(_loss_fn("pr", "pr", grad="phantom", steps=400, tau=0.5)(A, B, V))
    for a, b in zip(g_imp, g_ph):
        assert torch.allclose(a, b, atol=1e-8, rtol=1e-7)
    g_ph1 = grads(_loss_fn("pr", "pr", grad="phantom", steps=1, tau=0.5)(A, B, V))
    assert max(float((a - b).abs().max()) for a, b in zip(g_imp, g_ph1)) > 1e-3   # 1 step is not the IFT gradient


def test_backward_statistics_are_recorded():
    A, B, V = _inputs(seed=6)
    n = 4
    W = 0.5 * torch.eye(n, dtype=A.dtype) - A.T @ A + B - B.T
    z, info = S.deq_solve(W, V, f_tol=1e-10, b_tol=1e-11, f_stop_mode="abs", b_solver="fb")
    assert info.forward.converged and info.backward is None
    z.sum().backward()
    assert info.backward is not None and info.backward.converged and info.backward.method == "fb"
    assert info.backward.residual <= 1e-11
    with torch.no_grad():
        z2, info2 = S.deq_solve(W, V)
    assert not z2.requires_grad and info2.backward is None


def test_float32_works_and_keeps_dtype():
    n = 8
    W = _t(_mondeq(n, seed=7), torch.float32).requires_grad_()
    V = _t(np.random.default_rng(7).standard_normal((4, n)), torch.float32)
    for method in S.F_SOLVERS:
        z, info = S.deq_solve(W, V, f_solver=method, f_tol=1e-5, f_stop_mode="rel", f_max_iter=3000)
        assert z.dtype == torch.float32 and info.forward.converged, (method, info.forward.message)
        z.sum().backward()
        assert W.grad.dtype == torch.float32 and info.backward.converged
        W.grad = None
    ref = ds.solve_injection(W.detach().double().numpy(), V.double().numpy(), method="pr", tol=1e-12)
    z, _ = S.fixed_point(W, V, f_tol=1e-6)
    assert np.max(np.abs(z.numpy() - ref.z)) <= 1e-4


def test_source_is_device_agnostic():
    """No hard-coded devices: the modules never call .cuda()/.cpu() nor name a cuda device."""
    root = pathlib.Path(S.__file__).parent
    for f in [root / "solvers.py", root / "parametrize.py", root / "layers" / "dense.py"]:
        src = f.read_text()
        for bad in (".cuda(", "'cuda'", '"cuda"', ".cpu()"):
            assert bad not in src, (f.name, bad)
    # tensors created inside follow v's device (meta device: no data, shapes/devices only)
    W = torch.eye(3, device="meta") * 0.5
    op = S.as_operator(W)
    assert op.matvec(torch.zeros(2, 3, device="meta")).device.type == "meta"


def test_bad_arguments_raise():
    W = _t(_mondeq(3))
    V = _t(np.ones((2, 3)))
    with pytest.raises(DomainError):
        S.fixed_point(W, V, f_tol=0.0)
    with pytest.raises(DomainError):
        S.fixed_point(W, V, f_stop_mode="weird")
    with pytest.raises(DomainError):
        S.deq_solve(W, V, grad="unrolled")
    with pytest.raises(ValueError):
        S.fixed_point(W, V, identity_mask=torch.ones(4, dtype=torch.bool))
    with pytest.raises(ValueError):
        S.as_operator(torch.ones(2, 3))


class _CountingOp(S.LinearOperator):
    """A dense operator that counts its mat-vecs (to see which iterations evaluated F)."""

    def __init__(self, W):
        self.count = 0
        dense = S.as_operator(W)

        def mv(z):
            self.count += 1
            return dense.matvec(z)

        super().__init__(mv, dense.rmatvec, resolvent=dense.resolvent, m=dense.m, L=dense.L)


@pytest.mark.parametrize("method", S.F_SOLVERS)
def test_checking_every_k_iterations_keeps_the_answer_and_status(method):
    """check_every = k: the stopping quantity only at iterations k, 2k, … and the last (issue 14: no
    host sync per iteration on a GPU); the returned z still satisfies the tolerance, recomputed."""
    n = 9
    W, V = _t(_mondeq(n, seed=3)), _t(np.random.default_rng(4).standard_normal((4, n)))
    z1, s1 = S.fixed_point(W, V, f_solver=method, f_tol=1e-9, f_stop_mode="abs", f_max_iter=4000, check_every=1)
    z5, s5 = S.fixed_point(W, V, f_solver=method, f_tol=1e-9, f_stop_mode="abs", f_max_iter=4000, check_every=5)
    assert s1.converged and s5.converged, (s1.message, s5.message)
    assert s5.iterations % 5 == 0 and s1.iterations <= s5.iterations < s1.iterations + 5
    assert len(s5.history) == s5.iterations // 5 + 1
    assert s5.residual == pytest.approx(S.fixed_point_residual(W, V, z5), rel=1e-12) and s5.residual <= 1e-9
    assert torch.max(torch.abs(z1 - z5)) <= 1e-7
    # an unconverged solve still checks the last iteration
    _, s = S.fixed_point(W, V, f_solver=method, f_tol=1e-15, f_stop_mode="abs", f_max_iter=7, check_every=5)
    assert s.iterations == 7 and len(s.history) == 3 and not s.converged


def test_pr_skips_the_residual_mat_vec_on_unchecked_iterations():
    n = 6
    W, V = _t(_mondeq(n, seed=5)), _t(np.random.default_rng(6).standard_normal((2, n)))
    op1, op4 = _CountingOp(W), _CountingOp(W)
    _, s1 = S.fixed_point(op1, V, f_solver="pr", f_tol=1e-15, f_stop_mode="abs", f_max_iter=40, check_every=1)
    _, s4 = S.fixed_point(op4, V, f_solver="pr", f_tol=1e-15, f_stop_mode="abs", f_max_iter=40, check_every=4)
    # F(z) once per checked iteration, plus the initial and final evaluations
    assert op1.count - op4.count == 40 - 10


def test_check_every_auto_and_bad_values():
    assert S.resolve_check_every("auto", torch.device("cpu")) == 1
    assert S.resolve_check_every("auto", torch.device("meta")) == 8
    assert S.resolve_check_every(3, torch.device("cpu")) == 3
    for bad in (0, -1, 2.5, True, "fast"):
        with pytest.raises(DomainError, match="check_every"):
            S.resolve_check_every(bad, torch.device("cpu"))


def test_solves_run_without_tf32_and_restore_the_setting():
    """TF32 is off inside every solve (float32 cuBLAS/cuDNN in IEEE arithmetic) and the caller's
    setting is restored afterwards; allow_tf32=True leaves it on."""
    seen = []
    W = _t(_mondeq(4))

    def mv(z):
        seen.append((torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32))
        return z @ W.T

    op = S.LinearOperator(mv, lambda z: z @ W, resolvent=S.as_operator(W).resolvent, L=S.as_operator(W).L)
    old = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32)
    try:
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
        S.fixed_point(op, _t(np.ones((1, 4))), f_max_iter=3)
        assert seen and all(s == (False, False) for s in seen)
        assert (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32) == (True, True)
        seen.clear()
        S.fixed_point(op, _t(np.ones((1, 4))), f_max_iter=3, allow_tf32=True)
        assert all(s == (True, True) for s in seen)
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = old
