"""Weight parametrizations of certifiably robust DEQs, one contract for all (see :mod:`.base`).

=====================  ==========================================================  =========================
class                  W(params)                                                   set / defining condition
=====================  ==========================================================  =========================
MonDEQ(m)              (1−m)I − AᵀA + B − Bᵀ  (havens2023 eq. 5)                    sym(I − W) ⪰ mI
GMonDEQ(m)             I − Φ(AᵀA + Bᵀ − B + mI)  (havens2023 eq. 6)                 (3) with Γ = Φ⁻¹
LBEN(L, eps)           I − Ψ(GᵀG/2L + Ψ⁻¹UUᵀΨ⁻¹/2L + VᵀV + Sᵀ − S + εI)  (eq. 7)     (4) with Λ = Ψ⁻¹
IBPMonDEQ(m)           D^{-1/2} M D^{-1/2}  (wei2022 eq. 3.4, Thm 3.1, §4)          sym(I − |W|) ≻ mI
IBPMonDEQGamma(m, γ)   Γ D^{-1/2} M D^{-1/2} Γ⁻¹  (wei2022 eq. 3.7, Thm 3.3, §4)    Λ((1−m)I − |W|) ≻ 0, Λ = Γ⁻²
NonEuclidean(γ)        [η]T[η]⁻¹ − diag(|T|𝟙) + γI  (jafarpour2022 eq. 12, corr.)  μ∞,[η]⁻¹(W) ≤ γ
CerDEQ(K)              Björck_K(V/(n‖V‖_max))/√n  (li2022 §3.3, eqs. 6–7)          √n W near-orthogonal
dag_lben(G, Ũ, V, …)   −2Λ⁻¹lowblk(Q/2 + VᵀV + εI), Λ: AOL sums                    (4) with Λ; W block strictly lower
=====================  ==========================================================  =========================
"""
from .base import OutsideSetError, Parametrization, Params
from .mondeq import MonDEQ, MonDEQParams
from .gmondeq import GMonDEQ, GMonDEQParams
from .lben import LBEN, LBENParams
from .ibp import IBPMonDEQ, IBPMonDEQParams, IBPMonDEQGamma, IBPMonDEQGammaParams, row_col_mass
from .noneuclidean import NonEuclidean, NonEuclideanParams, eq12_as_printed
from .cerdeq import CerDEQ, CerDEQParams, bjorck_order2, bjorck_poly
from .dag_lben import DAGLBEN, block_strictly_lower, dag_lben, dag_lben_to_lben_params, is_block_strictly_lower

__all__ = ["OutsideSetError", "Parametrization", "Params",
           "MonDEQ", "MonDEQParams", "GMonDEQ", "GMonDEQParams", "LBEN", "LBENParams",
           "IBPMonDEQ", "IBPMonDEQParams", "IBPMonDEQGamma", "IBPMonDEQGammaParams", "row_col_mass",
           "NonEuclidean", "NonEuclideanParams", "eq12_as_printed",
           "CerDEQ", "CerDEQParams", "bjorck_order2", "bjorck_poly",
           "DAGLBEN", "dag_lben", "dag_lben_to_lben_params", "block_strictly_lower", "is_block_strictly_lower",
           "FAMILIES"]

#: default instances used by the contract test and the docs
FAMILIES = {
    "mondeq": lambda: MonDEQ(m=0.5),
    "gmondeq": lambda: GMonDEQ(m=0.5),
    "lben": lambda: LBEN(L=2.0, eps=0.1),
    "ibp_mondeq": lambda: IBPMonDEQ(m=0.1),
    "ibp_mondeq_m0": lambda: IBPMonDEQ(m=0.0),
    "ibp_mondeq_gamma": lambda: IBPMonDEQGamma(m=0.1, gamma=3.0),
    "noneuclidean": lambda: NonEuclidean(gamma=0.0),
    "cerdeq": lambda: CerDEQ(n_iter=30),
}
