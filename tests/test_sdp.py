"""Unit tests for deqtheory.sdp: LMIs (3), (4), (10) of havens2023, certificates, backends, files."""
from __future__ import annotations

import math

import numpy as np
import pytest

from deqtheory.certificates import Certificate, Status
from deqtheory.errors import DomainError, ModelFileError, NonFiniteError, ShapeError
from deqtheory.sdp import (BACKENDS, lipschitz_certificate, load_certificate, min_lipschitz,
                           save_certificate, sdp_wellposed)
from deqtheory.sdp import ipm, problems
from deqtheory.sdp.lmi import (lipschitz_block_matrix, lipschitz_schur_matrix, verify_lipschitz_witness,
                               verify_wellposed_witness, wellposed_matrix)


def mondeq(rng, n, m=0.3):
    """MonDEQ weight, havens2023 eq. (5): W = (1 − m)I − AᵀA + B − Bᵀ."""
    A = rng.standard_normal((n, n)) / np.sqrt(n)
    B = rng.standard_normal((n, n)) / np.sqrt(n)
    return (1 - m) * np.eye(n) - A.T @ A + B - B.T


def gmondeq(rng, n, m=0.3):
    """G-MonDEQ weight, havens2023 eq. (6): W = I − Φ(AᵀA + Bᵀ − B + mI); (3) holds with Γ = Φ⁻¹."""
    A = rng.standard_normal((n, n)) / np.sqrt(n)
    B = rng.standard_normal((n, n)) / np.sqrt(n)
    phi = np.exp(rng.uniform(-1.5, 1.5, n))
    return np.eye(n) - phi[:, None] * (A.T @ A + B.T - B + m * np.eye(n)), phi


@pytest.fixture
def problem(rng):
    n, d, p = 12, 4, 3
    W, _ = gmondeq(rng, n)
    return W, rng.standard_normal((n, d)), rng.standard_normal((p, n))


# ------------------------------------------------------------------------------ matrices, oracles

def test_block_matrix_schur_complement_is_eq4(problem, rng):
    """F(λ, L) ≻ 0 ⇔ (4): the Schur complement of the L·I blocks is the left side of (4)/(10)."""
    W, U, G = problem
    lam = rng.uniform(0.5, 2.0, W.shape[0])
    L = 7.0
    F, err = lipschitz_block_matrix(W, U, G, lam, L)
    n = W.shape[0]
    Lam = np.diag(lam)
    left = 2 * Lam - Lam @ W - W.T @ Lam - G.T @ G / L - Lam @ U @ U.T @ Lam / L  # printed (4)
    K = F[:n, n:]
    np.testing.assert_allclose(F[:n, :n] - K @ K.T / L, left, atol=1e-10)
    np.testing.assert_allclose(lipschitz_schur_matrix(W, U, G, lam, L), left, atol=1e-10)
    M, _ = wellposed_matrix(W, lam)
    np.testing.assert_allclose(M, 2 * Lam - Lam @ W - W.T @ Lam, atol=1e-13)
    assert 0 < err < 1e-12 * max(1.0, np.abs(F).sum())


@pytest.mark.parametrize("which", ["wellposed", "min_l", "strict"])
def test_structured_schur_matrix_matches_dense(which, rng):
    """H_ij = tr(A_i X A_j S⁻¹) assembled from the structure equals the dense definition."""
    n, d, p = 5, 3, 2
    W = rng.standard_normal((n, n))
    U = rng.standard_normal((n, d))
    G = rng.standard_normal((p, n))
    P = {"wellposed": lambda: problems.structured_wellposed(W),
         "min_l": lambda: problems.structured_min_l(W, U, G),
         "strict": lambda: problems.structured_strict(W, U, G, 2.0)}[which]()
    N = P.N
    X = rng.standard_normal((N, N))
    X = X @ X.T
    Y = rng.standard_normal((N, N))
    Y = Y @ Y.T
    np.testing.assert_allclose(ipm.schur_matrix(P, X, Y), ipm.schur_matrix_dense(P, X, Y), rtol=1e-10, atol=1e-10)


# ------------------------------------------------------------------------------------------- (3)

@pytest.mark.parametrize("backend", BACKENDS)
def test_wellposed_gmondeq_certified_all_backends(backend, rng):
    W, phi = gmondeq(rng, 10)
    c = sdp_wellposed(W, backend=backend)
    assert isinstance(c, Certificate) and c.condition == "sdp_wellposed"
    assert c.status is Status.CERTIFIED and c.margin > 0
    assert np.isclose(np.sum(c.witness["gamma"]), W.shape[0])  # normalisation tr Γ = n
    v = c.verify(W=W)
    assert v.certified and v.margin > 0
    # the optimum is at least as good as the analytic witness Γ = Φ⁻¹ (rescaled to tr Γ = n)
    g = (1 / phi) * (W.shape[0] / np.sum(1 / phi))
    M, _ = wellposed_matrix(W, g)
    assert c.margin >= np.linalg.eigvalsh(M)[0] * (1 - 1e-6) - 1e-9


def test_wellposed_backends_agree(rng):
    W, _ = gmondeq(rng, 12)
    t = {b: sdp_wellposed(W, backend=b).residuals["t_solver"] for b in ("structured", "cvxopt", "clarabel")}
    assert max(t.values()) - min(t.values()) <= 1e-6 * max(abs(x) for x in t.values())


def test_wellposed_refuted_with_checkable_counter_witness():
    W = 2.0 * np.eye(3) + 0.1 * np.ones((3, 3))
    c = sdp_wellposed(W)
    assert c.status is Status.REFUTED and not c.certified
    V = c.witness["V"]
    assert np.all(np.diag((np.eye(3) - W) @ V @ V.T) < 0)  # the alternative of (3), dense
    assert c.verify(W=W).status is Status.REFUTED


def test_perturbed_wellposed_witness_not_certified(rng):
    W, _ = gmondeq(rng, 8)
    c = sdp_wellposed(W)
    g = np.array(c.witness["gamma"])
    bad = g.copy()
    bad[0] = -bad[0]
    assert not verify_wellposed_witness(W, bad).certified
    # a witness for W certifies nothing for a W that is not well-posed by (3)
    assert not c.verify(W=W + 3 * np.eye(8)).certified
    forged = c.replace(witness={"gamma": np.ones(8)})
    assert not forged.verify(W=2 * np.eye(8)).certified


def test_nonfinite_and_bad_input_raise():
    W = np.eye(3)
    W[0, 1] = np.nan
    with pytest.raises(NonFiniteError):
        sdp_wellposed(W)
    with pytest.raises(ShapeError):
        sdp_wellposed(np.ones((2, 3)))
    with pytest.raises(DomainError):
        sdp_wellposed(np.zeros((2, 2)), backend="mosek")
    with pytest.raises(ShapeError):
        min_lipschitz(np.zeros((3, 3)), np.ones((2, 1)), np.ones((1, 3)))
    with pytest.raises(ShapeError):
        lipschitz_certificate(np.zeros((3, 3)), np.ones((3, 1)), np.ones((1, 2)), 1.0)
    with pytest.raises(DomainError):
        lipschitz_certificate(np.zeros((3, 3)), np.ones((3, 1)), np.ones((1, 3)), -1.0)


# ------------------------------------------------------------------------------------- min L, (10)

def test_min_l_scalar_closed_form():
    """n = d = p = 1: (10) gives L* = |u||g|/(1 − w), the exact Lipschitz constant of
    x ↦ g·relu(ux)/(1 − w) (independent oracle: minimise (λu² + g²/λ)/(2(1−w)) by hand)."""
    for w, u, g in [(0.5, 2.0, 3.0), (-1.0, 0.5, -2.0), (0.9, 1.0, 1.0)]:
        c = min_lipschitz(np.array([[w]]), np.array([[u]]), np.array([[g]]))
        exact = abs(u * g) / (1 - w)
        assert c.certified
        assert exact <= c.witness["L"] <= exact * (1 + 1e-7)


def test_min_l_diagonal_closed_form(rng):
    """Diagonal W, U, G: decoupled scalar problems, L* = max_i |u_i g_i|/(1 − w_i)."""
    n = 6
    w = rng.uniform(-1, 0.8, n)
    u = rng.uniform(0.2, 2, n)
    g = rng.uniform(0.2, 2, n)
    c = min_lipschitz(np.diag(w), np.diag(u), np.diag(g))
    exact = float(np.max(u * g / (1 - w)))
    assert c.certified and exact <= c.witness["L"] <= exact * (1 + 1e-6)


def test_min_l_backends_agree(problem):
    W, U, G = problem
    L = {}
    for b in BACKENDS:
        c = min_lipschitz(W, U, G, backend=b)
        assert c.status is Status.CERTIFIED, (b, c.message)
        assert c.verify(W=W, U=U, G=G).certified
        L[b] = c.witness["L"]
        assert c.stats["L_solver"] <= L[b] <= c.stats["L_solver"] * (1 + 1e-6)
    ref = L["structured"]
    for b in ("cvxopt", "clarabel"):
        assert abs(L[b] - ref) <= 1e-6 * ref, (b, L)
    assert abs(L["scs"] - ref) <= 1e-4 * ref
    assert L["structured"] >= 0


def test_min_l_records_wellposedness_source(problem, rng):
    W, U, G = problem
    c = min_lipschitz(W, U, G)
    assert c.witness["wellposed_condition"] == "sdp_wellposed" and "gamma" in c.witness
    Wm = mondeq(rng, 12)
    from deqtheory.linalg import check_monotone
    mono = check_monotone(Wm)
    assert mono.certified
    c2 = min_lipschitz(Wm, U, G, wellposed=mono)
    assert c2.certified and c2.witness["wellposed_condition"] == "monotone"
    assert c2.verify(W=Wm, U=U, G=G, wellposed=mono).certified


def test_perturbed_lipschitz_witness_not_certified(problem, rng):
    W, U, G = problem
    c = min_lipschitz(W, U, G)
    lam, L = np.array(c.witness["lam"]), float(c.witness["L"])
    assert verify_lipschitz_witness(W, U, G, lam, L, condition="l2_sdp").certified
    below = c.replace(witness={**dict(c.witness), "L": L * (1 - 1e-4)})
    assert not below.verify(W=W, U=U, G=G).certified
    noisy = c.replace(witness={**dict(c.witness), "lam": lam * np.exp(0.5 * rng.standard_normal(lam.shape))})
    assert not noisy.verify(W=W, U=U, G=G).certified
    assert not c.verify(W=W, U=U, G=2 * G).certified


def test_min_l_not_applicable_and_inconclusive(rng):
    W, _ = gmondeq(rng, 4)
    c = min_lipschitz(W, np.zeros((4, 2)), np.ones((1, 4)))
    assert c.status is Status.NOT_APPLICABLE and not c.certified
    c = min_lipschitz(2 * np.eye(3), np.ones((3, 1)), np.ones((1, 3)))
    assert c.status is Status.INCONCLUSIVE and not c.certified


@pytest.mark.parametrize("strict", [True, False])
def test_lipschitz_at_given_l(problem, strict):
    W, U, G = problem
    Ls = min_lipschitz(W, U, G).witness["L"]
    above = lipschitz_certificate(W, U, G, Ls * 1.01, strict=strict)
    assert above.certified and above.margin > 0
    assert above.condition == "lipschitz_lmi" and above.stats["lmi"] == ("(4)" if strict else "(10)")
    assert above.verify(W=W, U=U, G=G).certified
    if not strict:
        assert above.witness["wellposed_condition"] == "sdp_wellposed"
    below = lipschitz_certificate(W, U, G, Ls * 0.99, strict=strict)
    assert not below.certified and below.status is Status.REFUTED
    assert below.verify(W=W, U=U, G=G).status is Status.REFUTED


@pytest.mark.theorem("havens2023:thm3.3")
def test_gmondeq_analytic_witness_thm33(rng):
    """havens2023 Thm 3.3: G-MonDEQ (6) with G = I satisfies (10) with Λ = Φ⁻¹/‖Φ⁻¹U‖₂ and
    L = ‖Φ⁻¹U‖₂/m; at L(1 + 1e-6) the same Λ makes F strictly PD (proved)."""
    n, d, m = 8, 3, 0.4
    W, phi = gmondeq(rng, n, m)
    U = rng.standard_normal((n, d))
    G = np.eye(n)
    s = np.linalg.norm(U / phi[:, None], 2)
    lam = (1 / phi) / s
    L = s / m
    c = lipschitz_certificate(W, U, G, L * (1 + 1e-6), strict=False, lam=lam)
    assert c.certified
    assert min_lipschitz(W, U, G).witness["L"] <= L * (1 + 1e-6)


def test_solver_crash_is_solver_error(problem, monkeypatch):
    W, U, G = problem

    def boom(*a, **k):
        raise np.linalg.LinAlgError("simulated crash")

    monkeypatch.setattr(ipm, "solve_structured", boom)
    for c in (sdp_wellposed(W), min_lipschitz(W, U, G, fallback=False), lipschitz_certificate(W, U, G, 100.0)):
        assert c.status is Status.SOLVER_ERROR and not c.certified
    # with the fallback (default) the crash is recorded and another backend proves the L
    c = min_lipschitz(W, U, G)
    assert c.certified and c.verify(W=W, U=U, G=G).certified
    assert c.stats["attempts"][0]["backend"] == "structured" and c.stats["attempts"][0]["outcome"] == "error"


def test_cvxpy_crash_is_solver_error(problem, monkeypatch):
    import cvxpy as cp
    W, U, G = problem

    def boom(self, *a, **k):
        raise cp.error.SolverError("simulated crash")

    monkeypatch.setattr(cp.Problem, "solve", boom)
    c = sdp_wellposed(W, backend="clarabel")
    assert c.status is Status.SOLVER_ERROR and not c.certified


def test_certificate_is_not_a_bool(problem):
    W, U, G = problem
    with pytest.raises(TypeError):
        bool(sdp_wellposed(W))


# --------------------------------------------------------------------------------------- files

def test_save_load_roundtrip(problem, tmp_path):
    W, U, G = problem
    c = min_lipschitz(W, U, G)
    path = tmp_path / "cert.npz"
    save_certificate(path, c)
    c2 = load_certificate(path)
    assert c2.condition == c.condition and c2.status is c.status and c2.margin == c.margin
    np.testing.assert_array_equal(c2.witness["lam"], c.witness["lam"])
    np.testing.assert_array_equal(c2.witness["gamma"], c.witness["gamma"])
    assert c2.witness["L"] == c.witness["L"]
    assert c2.witness["wellposed_condition"] == "sdp_wellposed"
    assert c2.verify(W=W, U=U, G=G).certified
    with np.load(path, allow_pickle=False) as f:  # no pickles anywhere
        assert set(f.files) == {"meta", "witness.lam", "witness.gamma"}
    ref = sdp_wellposed(2 * np.eye(3))
    save_certificate(tmp_path / "r.npz", ref)
    assert load_certificate(tmp_path / "r.npz").verify(W=2 * np.eye(3)).status is Status.REFUTED


def test_load_rejects_bad_files(tmp_path):
    p = tmp_path / "x.npz"
    np.savez(p, a=np.ones(2))
    with pytest.raises(ModelFileError):
        load_certificate(p)
    np.savez(p, meta=np.asarray('{"format": "other"}'))
    with pytest.raises(ModelFileError):
        load_certificate(p)
    q = tmp_path / "y.npz"
    q.write_bytes(b"not a zip")
    with pytest.raises(ModelFileError):
        load_certificate(q)


def test_nonfinite_margin_roundtrip(tmp_path):
    c = Certificate("l2_sdp", Status.INCONCLUSIVE, margin=-math.inf, witness={"L": 2.0}, message="x")
    save_certificate(tmp_path / "c.npz", c)
    c2 = load_certificate(tmp_path / "c.npz")
    assert c2.margin == -math.inf and c2.witness["L"] == 2.0


# ------------------------------------------------------------------ fast paths vs dense oracles

def test_lanczos_step_length_matches_exact(rng):
    """The Lanczos step length (large-N path) agrees with the exact eigenvalue (dense oracle) and
    never exceeds the exact maximal step by more than the damping can absorb."""
    for N in (20, 40, 450):   # explicit exact (N ≤ 30) and Lanczos-operator paths
        A = rng.standard_normal((N, N))
        S = A @ A.T / N + 0.1 * np.eye(N)
        Lc = np.linalg.cholesky(S)
        D = rng.standard_normal((N, N))
        D = D + D.T
        T = np.linalg.solve(Lc, np.linalg.solve(Lc, D).T)
        exact = -1.0 / np.linalg.eigvalsh(0.5 * (T + T.T))[0]
        approx = ipm._max_step(Lc, D)
        assert approx <= exact * (1 + 1e-6)
        assert approx >= 0.5 * exact


def test_chol_inverse_matches_inverse(rng):
    for N in (20, 410):
        A = rng.standard_normal((N, N))
        S = A @ A.T + N * np.eye(N)
        Y = ipm._chol_inverse(np.linalg.cholesky(S))
        np.testing.assert_allclose(Y @ S, np.eye(N), atol=1e-10)
        assert np.array_equal(Y, Y.T)


def test_verification_uses_at_most_two_factorizations(rng):
    """verify() proves F ≻ 0 with ≤ 2 O(N³) factorizations (Lanczos path for N > 96), and its margin
    is a true lower bound on λ_min(F) (dense eigvalsh oracle), within 1 % of it."""
    from deqtheory.sdp.lmi import verified_pd_two
    n, d, p = 90, 20, 5   # N = 115 > 96: Cholesky + Lanczos + verified Cholesky
    W, _ = gmondeq(rng, n)
    U = rng.standard_normal((n, d)) / np.sqrt(n)
    G = rng.standard_normal((p, n)) / np.sqrt(n)
    c = min_lipschitz(W, U, G)
    assert c.certified
    v = c.verify(W=W, U=U, G=G)
    assert v.certified and v.stats["factorizations"] <= 2
    F, err = lipschitz_block_matrix(W, U, G, c.witness["lam"], c.witness["L"] * 1.01)
    pd = verified_pd_two(F, abs_err=err)
    lmin = np.linalg.eigvalsh(F)[0]
    assert pd.certified and pd.stats["factorizations"] == 2
    assert 0.99 * lmin <= pd.margin <= lmin
    # indefinite: not certified, one factorization only
    bad = verified_pd_two(F - 2 * lmin * np.eye(F.shape[0]), abs_err=err)
    assert not bad.certified and bad.stats["factorizations"] == 1


def test_structured_large_n_lanczos_path_agrees_with_cvxopt(rng):
    """n = 100 exercises the Lanczos step lengths and the potri-free inverse; L agrees with CVXOPT."""
    n = 100
    W = mondeq(rng, n)
    U = rng.standard_normal((n, 4)) / np.sqrt(n)
    G = rng.standard_normal((3, n)) / np.sqrt(n)
    from deqtheory.linalg import check_monotone
    mono = check_monotone(W)
    a = min_lipschitz(W, U, G, wellposed=mono)
    b = min_lipschitz(W, U, G, backend="cvxopt", wellposed=mono)
    assert a.certified and b.certified
    assert a.witness["wellposed_condition"] == "monotone"
    assert abs(a.witness["L"] - b.witness["L"]) <= 1e-6 * b.witness["L"]


# ------------------------------------------------------------------- REFUTED for (4)/(10) at L

@pytest.mark.parametrize("backend", ["structured", "clarabel"])
def test_lipschitz_refuted_below_optimum_dense_oracle(problem, backend, rng):
    """Below the minimal L of (10) the dual matrix Z = VVᵀ refutes (10): checked densely —
    ⟨F(λ, L), Z⟩ < 0 for the optimal λ* and random λ in the box of lmi.lambda_box (which contains
    every feasible λ: λ* at L* lies in it)."""
    from deqtheory.sdp.lmi import lambda_box
    W, U, G = problem
    opt = min_lipschitz(W, U, G)
    Ls, lam_star = opt.witness["L"], opt.witness["lam"]
    assert np.all(lam_star <= lambda_box(W, U, Ls))
    L = 0.95 * Ls
    c = lipschitz_certificate(W, U, G, L, backend=backend)
    assert c.status is Status.REFUTED and not c.certified and c.condition == "lipschitz_lmi"
    assert c.verify(W=W, U=U, G=G).status is Status.REFUTED
    V = c.witness["V"]
    Z = V @ V.T
    box = lambda_box(W, U, L)
    for lam in [lam_star, *(box * rng.uniform(0, 1, box.shape) for _ in range(20))]:
        F, _ = lipschitz_block_matrix(W, U, G, lam, L)
        assert np.sum(F * Z) < 0
    # the same witness refutes nothing at an L where (10) is feasible
    above = c.replace(witness={**dict(c.witness), "L": 1.01 * Ls})
    assert above.verify(W=W, U=U, G=G).status is not Status.REFUTED
    # a random witness refutes nothing
    forged = c.replace(witness={**dict(c.witness), "V": rng.standard_normal(V.shape)})
    assert forged.verify(W=W, U=U, G=G).status is not Status.REFUTED


def test_lipschitz_refutation_needs_bounded_multipliers():
    """A zero row of U leaves λ_i unbounded (box = ∞): a witness with ⟨C_L, Z⟩ < 0 but ⟨A_i, Z⟩ > 0
    for that i is rejected; with U_i ≠ 0 the box is finite and the same witness is a valid refutation
    (W = I/2: y = 2 relu(Ux), true Lipschitz constant 2‖U‖ = 20.1 > L = 1)."""
    from deqtheory.sdp.lmi import lambda_box, verify_lipschitz_refutation
    W = np.diag([0.5, 0.5])
    G = np.eye(2)
    V = np.zeros((5, 1))
    V[1, 0] = 1.0      # ⟨A_2, Z⟩ = 2(1 − W_22) = 1 > 0
    V[4, 0] = -0.5     # ⟨C_L, Z⟩ = 2·G_22·V_2·V_5 + L·V_5² = −1 + 0.25 < 0
    U0 = np.array([[1.0], [0.0]])
    assert np.isinf(lambda_box(W, U0, 1.0)[1])
    assert verify_lipschitz_refutation(W, U0, G, 1.0, V, condition="lipschitz_strict").status is Status.INCONCLUSIVE
    U1 = np.array([[1.0], [10.0]])
    box = lambda_box(W, U1, 1.0)
    assert np.all(np.isfinite(box))
    assert verify_lipschitz_refutation(W, U1, G, 1.0, V, condition="lipschitz_strict").status is Status.REFUTED
    for lam in (box, 0.5 * box, np.array([box[0], 0.0])):   # dense oracle on the box corners
        F, _ = lipschitz_block_matrix(W, U1, G, lam, 1.0)
        assert np.sum(F * (V @ V.T)) < 0
