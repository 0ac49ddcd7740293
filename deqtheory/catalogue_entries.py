"""Printed statements of the theorem catalogue (plain data; no imports beyond the standard library).

One dict per numbered claim of the five papers (see ``deqtheory.theorems.PAPERS``), with keys

``id``          ``"<paper>:<label>"``;
``paper``       paper key (wei2022, li2022, havens2023, pabbaraju2021, jafarpour2022);
``label``       lower-case kind + number as printed (thm3.1, prop2.1, lemmaA.1, remark6.4.3, eq25, appC, ...);
                unnumbered claims the project implements get a section label (``sec4.param``, ``sec5.3``);
``title``       short name;
``statement``   the claim as printed, in plain text / Unicode math (OCR garbling repaired; where a formula
                was reconstructed from the proof this is said in the text);
``parts``       optional list of the separate directions / items;
``suspect``     possible misprints, sign/transpose inconsistencies, missing hypotheses, with the numeric
                evidence gathered while drafting (scratch experiments, not part of the test-suite);
``checkable``   algebra | model | statistical | asymptotic | definition;
``check_idea``  how a property test checks it (one test per direction for 'iff' claims);
``owner``       catalogue | sdp | conversion.

Conventions used in the statements (project-wide, see docs/conventions.md): W₊ = max(W, 0),
W₋ = min(W, 0), |W| entrywise, sym(A) = (A + Aᵀ)/2, Ŵ = [[W₊, W₋], [W₋, W₊]] acting on [z̄; z̲]
(upper first), σ = ReLU unless a paper states a general slope-restricted activation, 𝟙 = all-ones vector,
‖·‖₂ spectral norm, ‖·‖∞ max-row-sum norm, ≻ 0 means uᵀAu > 0 for all u ≠ 0 (A need not be symmetric).
The verdicts (holds / holds-as-corrected / ...) live in ``catalogue_results.py``, not here.
"""

ENTRIES = [
    # =====================================================================================
    # wei2022 — Wei & Kolter, IBP-MonDEQ (file 000)
    # =====================================================================================
    {
        "id": "wei2022:prop2.1",
        "paper": "wei2022",
        "label": "prop2.1",
        "title": "MonDEQ fixed point exists and is unique when I − W ≻ 0 (Winston & Kolter)",
        "statement": (
            "Suppose W ∈ ℝ^{h×h} satisfies that I − W is positive definite, i.e. uᵀ(I − W)u > 0 for all "
            "u ≠ 0 (W need not be symmetric). Then for every v(x) ∈ ℝ^h a solution z* of "
            "z* = σ(Wz* + v(x)) (2.4), σ = ReLU, exists and is unique. Winston & Kolter (2020) guarantee "
            "I − W ≻ 0 with the unconstrained parameterization W = (1 − m)I − AAᵀ + B − Bᵀ, m > 0."
        ),
        "suspect": (
            "Printed parameterization uses AAᵀ whereas havens2023 eq.(5) and pabbaraju2021 use AᵀA: the same set "
            "of W (A ↦ Aᵀ), but weight conversions between codebases must not mix the two. Hypothesis only needs "
            "λ_min(sym(I − W)) > 0; the MonDEQ parameterization gives I − W ⪰ mI."
        ),
        "checkable": "model",
        "check_idea": (
            "Sample W = (1−m)I − AAᵀ + B − Bᵀ, solve z = relu(Wz + v) by two independent methods (forward–backward "
            "with α < 2m/‖I−W‖₂², Peaceman–Rachford) from different starts; assert residual ≈ 0 and agreement "
            "(uniqueness). Hypothesis is not vacuous: W = [[0,2],[2,0]], v = (−1,−1) (I − W indefinite) has the two "
            "fixed points (0,0) and (1,1)."
        ),
        "owner": "catalogue",
    },
    {
        "id": "wei2022:eq3.3",
        "paper": "wei2022",
        "label": "eq3.3",
        "title": "IBP fixed-point equation (upper bound first)",
        "statement": (
            "[z̄*; z̲*] = σ( [[W₊, W₋], [W₋, W₊]] [z̄*; z̲*] + [v̄; v̲] ) with W₊ = max{W, 0}, W₋ = min{W, 0}; "
            "Ŵ ≜ [[W₊, W₋], [W₋, W₊]] ∈ ℝ^{2h×2h}. It is the limit of IBP (2.3) applied to the unrolled network "
            "z_k = σ(Wz_{k−1} + v) (3.1)–(3.2). (3.6) couples it with z* = σ(Wz* + v(x)) and v̄(x, ε), v̲(x, ε) "
            "interval bounds on v(x)."
        ),
        "suspect": (
            "Ordering convention: wei2022 stacks [upper; lower] whereas jafarpour2022 (6) stacks [lower; upper]; "
            "the project fixes upper first for Ŵ."
        ),
        "checkable": "definition",
        "check_idea": (
            "Definition only; tests of prop3.2/thm3.1 use it. Unit check: one IBP step (2.3) on an affine layer "
            "equals the dense interval-arithmetic bound max/min over the 2^h box corners for small h."
        ),
        "owner": "catalogue",
    },
    {
        "id": "wei2022:thm3.1",
        "paper": "wei2022",
        "label": "thm3.1",
        "title": "I − Ŵ ≻ 0 iff W = D^{-1/2} M D^{-1/2} with D_ii > ((|M|𝟙)_i + (|M|ᵀ𝟙)_i)/2",
        "statement": (
            "In the setting above, I_{2h×2h} − Ŵ ≻ 0 if and only if W is parameterized as W = D^{-1/2} M D^{-1/2} "
            "(3.4), where D, M ∈ ℝ^{h×h} and D is a diagonal matrix satisfying "
            "D_ii > ((|M|𝟙)_i + (|M|ᵀ𝟙)_i)/2 (|M| entrywise absolute value). Thus, for W parameterized by (3.4), "
            "unique solutions z*, z̄*, z̲* to the standard (2.4) and IBP (3.6) equilibrium equations exist for all "
            "v, v̄, v̲ ∈ ℝ^h."
        ),
        "parts": [
            "(⇐) W = D^{-1/2}MD^{-1/2} with D_ii > ((|M|𝟙)_i + (|M|ᵀ𝟙)_i)/2 ⇒ I − sym|W| = D^{-1/2}(D − sym|M|)D^{-1/2} "
            "with D − sym|M| symmetric strictly diagonally dominant ⇒ I − |W| ≻ 0 ⇒ (Lemma 3.4) I_{2h} − Ŵ ≻ 0.",
            "(⇒) I_{2h} − Ŵ ≻ 0 ⇒ ∃ positive diagonal E with E(I − sym|W|)E SDD (M-matrix theory); D = E², "
            "M = D^{1/2} W D^{1/2} satisfy (3.4).",
            "(consequence) unique z*, z̄*, z̲* for (2.4) and (3.6) for all v, v̄, v̲.",
        ],
        "suspect": (
            "Sentence before the theorem reads 'the class of W for which I_{2h×2h} − W is PD' — should be Ŵ. "
            "Proof of (⇒) calls a nonsingular M-matrix 'a matrix with negative off-diagonal entries' — should be "
            "non-positive. The iff is equivalent to λ_max(sym|W|) < 1 (Lemma 3.4). Constructive witness for (⇒) "
            "checked numerically: x = Perron vector of sym|W|, D = diag(x²), M = D^{1/2}WD^{1/2} gives "
            "((|M|𝟙 + |M|ᵀ𝟙)/2)_i = λ_max(sym|W|)·x_i² < D_ii."
        ),
        "checkable": "algebra",
        "check_idea": (
            "(⇐) random M, D_ii = ((|M|𝟙 + |M|ᵀ𝟙)/2)_i + δ_i (δ_i > 0): assert λ_min(sym(I_{2h} − Ŵ)) > 0 by dense "
            "eigvalsh (and verified_pd). (⇒) random W scaled so λ_max(sym|W|) < 1 (not of the form by "
            "construction): build D = diag(x²) from the Perron vector x of sym|W| (perturb |W| by a tiny positive "
            "matrix if reducible), M = D^{1/2}WD^{1/2}; assert W = D^{-1/2}MD^{-1/2} and the strict D inequality. "
            "Negative: W with λ_max(sym|W|) ≥ 1 has λ_min(sym(I − Ŵ)) ≤ 0. Consequence: solve (2.4)/(3.6) twice "
            "from different starts and compare."
        ),
        "owner": "catalogue",
    },
    {
        "id": "wei2022:prop3.2",
        "paper": "wei2022",
        "label": "prop3.2",
        "title": "IBP fixed point gives valid interval bounds on z*(v)",
        "statement": (
            "In the setting above, suppose Ŵ satisfies I_{2h×2h} − Ŵ ≻ 0, so that unique fixed-point solutions z̄*, z̲* "
            "to (3.3) always exist. Define z*(v) by z*(v) = σ(Wz*(v) + v). Then for any v̲ ≤ v̄ and all i, "
            "(z̲*)_i ≤ min_{v̲≤v≤v̄} (z*(v))_i ≤ max_{v̲≤v≤v̄} (z*(v))_i ≤ (z̄*)_i   (3.5)."
        ),
        "suspect": (
            "None in the statement. Proof relies on the damped iteration (A.1) converging for some 0 < α ≤ 1 "
            "(Winston & Kolter) and on monotonicity of σ; an implementation that stops at an approximate fixed point "
            "must widen the box by a residual-based error bound (FACTS.md) before claiming containment."
        ),
        "checkable": "model",
        "check_idea": (
            "W with λ_max(sym|W|) < 1 (e.g. sec4.param), random v̲ ≤ v̄; solve (3.3) accurately; sample v uniformly "
            "in the box and at its corners, solve z*(v) independently, assert z̲* − tol ≤ z*(v) ≤ z̄* + tol with tol "
            "from solver residuals. Also z̄* ≥ z̲*, and v̲ = v̄ gives z̄* = z̲* = z*(v)."
        ),
        "owner": "catalogue",
    },
    {
        "id": "wei2022:thm3.3",
        "paper": "wei2022",
        "label": "thm3.3",
        "title": "∃Λ ≻ 0 diagonal with Λ − Λ|W| ≻ 0 iff W = Γ D^{-1/2} M D^{-1/2} Γ^{-1}",
        "statement": (
            "For weight matrix W, ∃Λ ∈ 𝔻₊^{h×h} (positive diagonal) such that Λ − Λ|W| ≻ 0 if and only if W can be "
            "parameterized as W = Γ D^{-1/2} M D^{-1/2} Γ^{-1} (3.7) for some Γ, D ∈ 𝔻₊^{h×h} with D satisfying "
            "D_ii > ((|M|𝟙)_i + (|M|ᵀ𝟙)_i)/2. For W parameterized by (3.7): 1) unique solutions z*, z̄*, z̲* to (3.6) "
            "exist for all v, v̄, v̲ ∈ ℝ^h, and 2) z̄*, z̲* are upper and lower interval bounds on z* in the sense of "
            "Proposition 3.2."
        ),
        "parts": [
            "(⇐) W of form (3.7) ⇒ with Λ = Γ^{-2}: Λ − Λ|W| = Γ^{-1}(I − D^{-1/2}|M|D^{-1/2})Γ^{-1} ≻ 0 (and likewise Λ − ΛW ≻ 0).",
            "(⇒) Λ − Λ|W| ≻ 0 ⇒ I − Λ^{1/2}|W|Λ^{-1/2} ≻ 0 ⇒ (Thm 3.1) Λ^{1/2}WΛ^{-1/2} = D^{-1/2}MD^{-1/2}; Γ = Λ^{-1/2}.",
            "(consequence 1) unique fixed points of (2.4) and (3.3) (via Revay et al. Thm 1 with Λ and Λ̂ = blkdiag(Λ, Λ)).",
            "(consequence 2) valid interval bounds (proof via Lemma A.1 iteration (A.9)).",
        ],
        "suspect": (
            "Statement omits the index: 'D_{i,i} > (|M|𝟙 + |M|ᵀ𝟙)/2' means the i-th entry. Proof of (⇒) writes "
            "Λ^{1/2}WΛ^{-1/2} = D^{1/2}MD^{1/2}; must be D^{-1/2}MD^{-1/2}. Well-posedness of (3.3) applies Lemma 3.4 to "
            "the similarity-transformed Λ^{1/2}WΛ^{-1/2} (valid: the lift commutes with positive diagonal similarity). "
            "Not stated but true and useful for tests: the class equals {W : ρ(|W|) < 1} (diagonal stability of the "
            "M-matrix I − |W|). Numeric: W = [[0,3],[0.1,0]] has λ_max(sym|W|) = 1.55 (outside Thm 3.1) but "
            "ρ(|W|) = 0.548; Λ = diag(y/x) from left/right Perron vectors gives λ_min(sym(Λ − Λ|W|)) = 0.127 > 0."
        ),
        "checkable": "algebra",
        "check_idea": (
            "(⇐) random M, D as in thm3.1, Γ positive diagonal: assert λ_min(sym(Γ^{-2} − Γ^{-2}|W|)) > 0. "
            "(⇒) random W with ρ(|W|) < 1 but λ_max(sym|W|) > 1: Λ = diag(y_i/x_i) (left/right Perron vectors of |W|), "
            "assert Λ − Λ|W| ≻ 0, then Γ = Λ^{-1/2} and (D, M) from thm3.1's witness on Λ^{1/2}WΛ^{-1/2}; assert "
            "W reconstructed. Negative: ρ(|W|) ≥ 1 ⇒ no Λ exists (I − |W| would be a nonsingular M-matrix); witness W = [[0,2],[1,0]] "
            "(ρ(|W|) = √2). Consequences: fixed points unique and bounds contain sampled z*(v)."
        ),
        "owner": "catalogue",
    },
    {
        "id": "wei2022:lemma3.4",
        "paper": "wei2022",
        "label": "lemma3.4",
        "title": "Spectrum of sym(Ŵ) ⊆ spec(sym W) ∪ spec(sym|W|); I − Ŵ ≻ 0 ⇔ I − |W| ≻ 0",
        "statement": (
            "All eigenvalues of (Ŵ + Ŵᵀ)/2 are either eigenvalues of (W + Wᵀ)/2 or of (|W| + |W|ᵀ)/2. As a direct "
            "consequence, I_{2h×2h} − Ŵ ≻ 0 ⇔ I_{h×h} − |W| ≻ 0 (3.8). (Text after the lemma, proved in App. A:) "
            "λ_max((|W| + |W|ᵀ)/2) ≥ λ_max((W + Wᵀ)/2), so I − |W| ≻ 0 is stricter than I − W ≻ 0."
        ),
        "parts": [
            "(spectrum) eig(sym Ŵ) ⊆ eig(sym W) ∪ eig(sym|W|) (in fact equal as multisets).",
            "(⇒ of 3.8) I_{2h} − Ŵ ≻ 0 ⇒ I_h − |W| ≻ 0.",
            "(⇐ of 3.8) I_h − |W| ≻ 0 ⇒ I_{2h} − Ŵ ≻ 0.",
            "(comparison) λ_max(sym|W|) ≥ λ_max(sym W).",
        ],
        "suspect": (
            "Proof writes 'Ŵ = [[A, B], [B, A]]' with A = sym(W₊), B = sym(W₋): that block matrix is sym(Ŵ), not Ŵ. "
            "Numeric: for random 5×5 W the sorted spectrum of sym(Ŵ) equals spec(sym W) ∪ spec(sym|W|) to 1e-15."
        ),
        "checkable": "algebra",
        "check_idea": (
            "Random W (Hypothesis seeds): compare sorted eigvalsh(sym Ŵ) with sorted concatenation (multiset equality). "
            "(⇒)/(⇐): sample W near the boundary (scale so λ_max(sym|W|) = 1 ± δ) and check both sides agree. "
            "Comparison: λ_max(sym|W|) − λ_max(sym W) ≥ −tol; equality witness W ≥ 0."
        ),
        "owner": "catalogue",
    },
    {
        "id": "wei2022:claim3.5",
        "paper": "wei2022",
        "label": "claim3.5",
        "title": "Eigenvalues of [[A, B], [B, A]] are eigenvalues of A + B or A − B",
        "statement": (
            "Let M ∈ ℝ^{2h×2h} be any matrix of the form M = [[A, B], [B, A]], A, B ∈ ℝ^{h×h}. Then all eigenvalues "
            "of M are either eigenvalues of A + B or A − B."
        ),
        "suspect": (
            "None (true, and stronger: M is orthogonally similar to blkdiag(A + B, A − B) via (1/√2)[[I, I], [I, −I]], "
            "so spec(M) = spec(A + B) ∪ spec(A − B) with multiplicities). Applied to Ŵ itself (A = W₊, B = W₋): "
            "spec(Ŵ) = spec(W) ∪ spec(|W|) — checked numerically (complex spectra, random 5×5)."
        ),
        "checkable": "algebra",
        "check_idea": (
            "Random (non-symmetric) A, B: sorted complex eigenvalues of M equal the union for A ± B (match by "
            "Hungarian assignment, tol ~ 1e-8·‖M‖); also Q M Qᵀ = blkdiag(A+B, A−B) for Q = (1/√2)[[I,I],[I,−I]]."
        ),
        "owner": "catalogue",
    },
    {
        "id": "wei2022:sec3.1.specrad",
        "paper": "wei2022",
        "label": "sec3.1.specrad",
        "title": "Spectral radius of Ŵ is at least that of W",
        "statement": (
            "(§3.1, before Thm 3.1) 'this failure occurs because the spectral radius of Ŵ is always larger than that of "
            "W (see Lemma 3.4), so repeated application of (3.2) diverges.'"
        ),
        "suspect": (
            "'always larger' should be '≥': by Claim 3.5, spec(Ŵ) = spec(W) ∪ spec(|W|) so ρ(Ŵ) = ρ(|W|) ≥ ρ(W), with "
            "equality e.g. for W ≥ 0 entrywise. Also Lemma 3.4 concerns sym parts, not spectral radii."
        ),
        "checkable": "algebra",
        "check_idea": (
            "Random W: assert ρ(Ŵ) = ρ(|W|) (to tol) and ρ(|W|) ≥ ρ(W) − tol; equality witness W ≥ 0; strict witness "
            "W = [[1,−1],[1,1]]/2 (ρ(W) = 1/√2 < ρ(|W|) = 1)."
        ),
        "owner": "catalogue",
    },
    {
        "id": "wei2022:example3.6",
        "paper": "wei2022",
        "label": "example3.6",
        "title": "A W satisfying (3.4) with ‖W‖_op = 1.9",
        "statement": (
            "The choice W = [[0, 1.9], [0.05, 0]] satisfies the parameterization (3.4) with ‖W‖_op = 1.9: set M = W and "
            "D = I_{2×2}, so W = D^{-1/2}MD^{-1/2}."
        ),
        "suspect": (
            "None. Numeric: ‖W‖₂ = 1.9, ((|M|𝟙 + |M|ᵀ𝟙)/2) = (0.975, 0.975) < 1 = D_ii, λ_max(sym|W|) = 0.975."
        ),
        "checkable": "algebra",
        "check_idea": (
            "Exact reference problem: assert ‖W‖₂ = 1.9 (svd), D-inequality strict with margin 0.025, and "
            "I − Ŵ ≻ 0 with λ_min(sym(I − Ŵ)) = 0.025."
        ),
        "owner": "catalogue",
    },
    {
        "id": "wei2022:sec3.3.rownorm",
        "paper": "wei2022",
        "label": "sec3.3.rownorm",
        "title": "W = D⁻¹M with D_ii ≥ (|M|𝟙)_i 'implies ‖W‖_op ≤ 1'",
        "statement": (
            "(§3.3, after Example 3.6) The parameterization W = D⁻¹M, where D satisfies D_ii ≥ (|M|𝟙)_i, does imply "
            "‖W‖_op ≤ 1."
        ),
        "suspect": (
            "False for the ℓ₂ operator norm used elsewhere in the section (‖W‖_op = 1.9 in Example 3.6 is the spectral "
            "norm); true for ‖·‖∞ (max row sum). Counterexample: M = [[1,0],[1,0]], D = I (row sums 1): ‖W‖∞ = 1 but "
            "‖W‖₂ = √2 ≈ 1.414. Corrected: ‖D⁻¹M‖∞ ≤ 1 (hence ρ(W) ≤ 1), ‖D⁻¹M‖₂ ≤ √h."
        ),
        "checkable": "algebra",
        "check_idea": (
            "Random M, D_ii = (|M|𝟙)_i: assert ‖D⁻¹M‖∞ ≤ 1 + tol and ‖D⁻¹M‖₂ ≤ √h; the fixed counterexample shows "
            "‖·‖₂ ≤ 1 fails as printed."
        ),
        "owner": "catalogue",
    },
    {
        "id": "wei2022:prop3.7",
        "paper": "wei2022",
        "label": "prop3.7",
        "title": "Every explicit ReLU net is a single IBP-MonDEQ layer with W in the (3.7) class",
        "statement": (
            "Consider explicit nets z_L(x) = σ(A_L σ(A_{L−1} ⋯ σ(A_1 x) ⋯)) (3.10), z_L : ℝ^d → ℝ^h, A_i ∈ ℝ^{h×h}. "
            "There is a DEQ layer z* : ℝ^d → ℝ^{Lh}, z*(x) = σ(Wz*(x) + Bx), W, B ∈ ℝ^{Lh×Lh}, such that W obeys the "
            "parameterization of Theorem 3.3 and the last h coordinates satisfy (z*(x))_{(L−1)h:Lh} = z_L(x) ∀x. "
            "Construction (App. A): B = [A_1; 0; …; 0], M block-subdiagonal with blocks A_2, …, A_L (A.11), "
            "Γ = blkdiag(γ_i I), D = blkdiag(β_i I) with β_1 > max_j (|A_2|ᵀ𝟙)_j/2, β_L > max_j (|A_L|𝟙)_j/2, "
            "β_i > max_j ((|A_i|𝟙 + |A_{i+1}|ᵀ𝟙))_j/2, and γ chosen so that W = M."
        ),
        "suspect": (
            "Dimensions: A_1 must be h×d (z_L : ℝ^d → ℝ^h) and B ∈ ℝ^{Lh×d}, not ℝ^{Lh×Lh}, unless d = h. "
            "Proof's scaling condition 'γ_i β_i^{-1/2} β_{i−1}^{-1} γ_{i−1}^{-1} = 1' should read β_{i−1}^{-1/2} "
            "(from (A.13)). W is strictly block-lower-triangular (nilpotent, ρ(|W|) = 0), consistent with the "
            "ρ(|W|) < 1 characterization of the (3.7) class."
        ),
        "checkable": "model",
        "check_idea": (
            "Random A_1 (h×d), A_2..A_L (h×h): build W = M and B, solve the DEQ (exact by L forward sweeps or any "
            "solver), compare last block with the explicit forward pass; construct β_i, γ_i per App. A and assert "
            "ΓD^{-1/2}MD^{-1/2}Γ^{-1} = W and the D-inequalities; also Λ = Γ^{-2} gives Λ − Λ|W| ≻ 0."
        ),
        "owner": "catalogue",
    },
    {
        "id": "wei2022:lemmaA.1",
        "paper": "wei2022",
        "label": "lemmaA.1",
        "title": "Λ-preconditioned damped iteration converges to z* when Λ − ΛW ≻ 0",
        "statement": (
            "In the setting of Theorem 3.3, suppose W satisfies Λ − ΛW ≻ 0 for some Λ ∈ 𝔻₊^{h×h}. Then there exists "
            "0 < α ≤ 1 such that the iteration z_k = σ((I − αΛ)z_{k−1} + αΛ(Wz_{k−1} + v)) (A.3) converges, with "
            "lim z_k = z*, the solution of z* = σ(Wz* + v)."
        ),
        "suspect": (
            "'I − α(Λ − ΛW) is contractive for sufficiently small α' is in the ℓ₂ norm and needs "
            "α < 2λ_min(sym(Λ − ΛW))/‖Λ − ΛW‖₂² (the paper gives no explicit α). The fixed-point identity (A.4) uses "
            "that Λ is diagonal and σ = ReLU (coordinatewise positive scaling commutes with the active set)."
        ),
        "checkable": "model",
        "check_idea": (
            "W from the (3.7) class with Λ = Γ^{-2}; α = λ_min(sym(Λ − ΛW))/‖Λ − ΛW‖₂²; assert "
            "‖I − α(Λ − ΛW)‖₂ < 1, iterate (A.3) and compare the limit with z* from an independent solver; check "
            "that z* is a fixed point of (A.3) for every α (identity A.4)."
        ),
        "owner": "catalogue",
    },
    {
        "id": "wei2022:sec4.param",
        "paper": "wei2022",
        "label": "sec4.param",
        "title": "Training parameterization D = diag((|M| + |M|ᵀ)𝟙 / (2(1 − m))) and Γ = diag(((γ−1)/γ)·sigmoid(β) + 1/γ)",
        "statement": (
            "(§4) To enforce (3.4): W = D^{-1/2}MD^{-1/2}, M the only trainable parameter, "
            "D = diag((|M| + |M|ᵀ)𝟙 / (2(1 − m))), m ∈ (0, 1) a hyperparameter (smaller m: more expressive, slower "
            "solver convergence). For (3.7): Γ = diag(((γ − 1)/γ)·sigmoid(β) + 1/γ), γ > 1 scalar, β ∈ ℝ^h trainable; "
            "'this enforces that the condition number of Γ is bounded by γ'. (App. B) m = 0.1 (DEQ-3), 0.5 (DEQ-7), "
            "γ = 3, warm-up m_current = m + (0.99 − m)(1 − ε_current/ε_train)."
        ),
        "parts": [
            "D_ii = ((|M|𝟙 + |M|ᵀ𝟙)/2)_i/(1 − m) > ((|M|𝟙 + |M|ᵀ𝟙)/2)_i, so W satisfies (3.4).",
            "Sharper (not printed): λ_max(sym|W|) = 1 − m exactly (D^{1/2}𝟙 is a positive eigenvector of "
            "D^{-1/2}sym|M|D^{-1/2} with eigenvalue 1 − m), hence I − Ŵ ⪰ mI and I − W ⪰ mI.",
            "Γ_ii ∈ (1/γ, 1) so cond(Γ) < γ.",
        ],
        "suspect": (
            "Missing hypothesis: if row i and column i of M are zero then D_ii = 0 and D^{-1/2} is undefined (numeric: "
            "zeroed row/col 2 gives d = (3.27, 3.21, 0, 4.34)); implementations need a floor/ε. The strict inequality "
            "also needs ((|M|𝟙 + |M|ᵀ𝟙))_i > 0. Numeric: m = 0.1 → λ_max(sym|W|) = 0.9000000000000 and "
            "λ_min(sym(I − Ŵ)) = 0.1 = m exactly (m = 0.5 likewise), so tests must allow equality (FACTS.md)."
        ),
        "checkable": "algebra",
        "check_idea": (
            "Random M with nonzero rows/cols, m ∈ (0,1): assert λ_max(sym|W|) = 1 − m to ~1e-12·h, "
            "λ_min(sym(I − Ŵ)) = m, D-inequality strict; M with a zero row+column must raise a typed error (or use "
            "the documented floor); Γ from arbitrary β (incl. ±large) has entries in [1/γ, 1] and cond ≤ γ."
        ),
        "owner": "catalogue",
    },
    {
        "id": "wei2022:sec3.conv.lift",
        "paper": "wei2022",
        "label": "sec3.conv.lift",
        "title": "[project's own claim] Conv IBP lift: λ_max(sym|W|) = λ_max(sym A), A = Σ_taps |K|",
        "statement": (
            "Not printed in the paper; the project's own claim in the setting of §3 (Thm 3.1, Lemma 3.4) for the "
            "convolutional IBP-MonDEQ (App. B, DEQ-3/DEQ-7) with circular padding. Let W be the circular "
            "cross-correlation with kernel K (c, c, k, k) on the N×N grid, k ≤ N, n = cN², and A[o, i] = "
            "Σ_taps |K[o, i, ·, ·]| (c × c, A ≥ 0). (1) |W| (entrywise, n × n) is the circular convolution with |K|, "
            "and |W| maps a channel-constant vector (v_c at every pixel) to (Av)_c at every pixel. (2) The "
            "per-frequency blocks B(ω) of sym|W| satisfy |B(ω)| ≤ B(0) = sym(A) entrywise, so "
            "λ_max(sym|W|) = ρ(sym|W|) = λ_max(sym A) (attained by the channel-constant lift of the Perron vector "
            "of sym A). Hence sym(I − |W|) ⪰ mI with m = 1 − λ_max(sym A), and by Lemma 3.4 the IBP lift Ŵ = "
            "[[W₊, W₋], [W₋, W₊]] satisfies sym(I₂ₙ − Ŵ) ⪰ mI (and sym(I − W) ⪰ mI). For any A_up ≥ A entrywise, "
            "λ_max(sym A) ≤ λ_max(sym A_up), so a verified sym(I − A_up) ⪰ mI proves the claim matrix-free."
        ),
        "parts": [
            "(abs) |W| = conv(|K|) for k ≤ N; |W|·lift(v) = lift(Av).",
            "(spectrum) λ_max(sym|W|) = λ_max(sym A) on every grid N ≥ k.",
            "(lift) sym(I₂ₙ − Ŵ) ⪰ (1 − λ_max(sym A)) I and sym(I − W) ⪰ (1 − λ_max(sym A)) I.",
        ],
        "suspect": (
            "k > N breaks (1): taps alias and |W| ≠ conv(|K|) (|a + b| ≤ |a| + |b|); the library refuses k > N."
        ),
        "checkable": "algebra",
        "check_idea": (
            "Small c, N, k (k = 1..N, odd and even, N = k): materialise W with circulant.conv_matrix, compare |W| "
            "with conv_matrix(|K|), lifts of constant vectors with A v, eigvalsh(sym|W|)[-1] with "
            "eigvalsh(sym A)[-1] and λ_min(sym(I − Ŵ)) with 1 − λ_max(sym A); the certificate conv_ibp_monotone "
            "is CERTIFIED below and REFUTED above λ_max(sym A) = 1."
        ),
        "owner": "catalogue",
    },
    {
        "id": "wei2022:sec3.conv.param",
        "paper": "wei2022",
        "label": "sec3.conv.param",
        "title": "[project's own claim] Per-channel D keeps W = D^{-1/2}MD^{-1/2} a convolution with λ_max(sym|W|) < 1 − m",
        "statement": (
            "Not printed in the paper; the project's own claim for eq. (3.4) / (3.7) with §4's m on a convolutional "
            "M (c, c, k, k), k ≤ N. With A_M = Σ_taps |M|, r = (A_M𝟙 + A_Mᵀ𝟙)/2, d = r/(1 − m) + s (s > 0 per "
            "channel) and W[o, i, ·, ·] = M[o, i, ·, ·]/√(d_o d_i), the n × n matrix of W is D̃^{-1/2}M̃D̃^{-1/2} "
            "(D̃ = d repeated over pixels, M̃ the matrix of M): W is again a circular convolution, "
            "A_W = D^{-1/2}A_MD^{-1/2}, and λ_max(sym|W|) = λ_max(sym A_W) < 1 − m (Thm 3.1's diagonal-dominance "
            "argument on the c × c matrix, then wei2022:sec3.conv.lift). The Γ-variant W[o, i] = Γ_o W'[o, i]/Γ_i "
            "(Γ per channel, eq. 3.7) has A_W = ΓA_{W'}Γ⁻¹, hence ρ(|W|) = ρ(A_W) = ρ(A_{W'}) < 1 − m."
        ),
        "suspect": "",
        "checkable": "algebra",
        "check_idea": (
            "Random M, slack, β: the kernel from the parametrization materialises (conv_matrix) to the dense "
            "D̃^{-1/2}M̃D̃^{-1/2} (and ΓD̃… for the Γ-variant); λ_max(sym|W|) < 1 − m by eigvalsh; ρ(|W|) < 1 − m "
            "for the Γ-variant."
        ),
        "owner": "catalogue",
    },
    {
        "id": "wei2022:sec3.conv.contraction",
        "paper": "wei2022",
        "label": "sec3.conv.contraction",
        "title": "[project's own claim] Conv IBP lift is a weighted-ℓ∞ contraction when Aη ≤ μη, μ < 1",
        "statement": (
            "Not printed in the paper; the project's own claim (jafarpour2022 Thm 5.1 applied to the conv IBP lift). "
            "With W, K, A as in wei2022:sec3.conv.lift: if η ∈ ℝᶜ, η > 0, Aη ≤ μη and μ < 1, then with η̃ the "
            "per-pixel expansion of η, ‖W‖_{∞,[η̃]⁻¹} ≤ ‖|W|‖_{∞,[η̃]⁻¹} = max_c (Aη)_c/η_c ≤ μ and "
            "‖|Ŵ|‖_{∞,[η̃;η̃]⁻¹} ≤ μ, so μ_{∞,[η̃]⁻¹}(Ŵ) ≤ μ < 1: the lifted fixed point is unique, "
            "z ↦ ReLU(Ŵz + v̂) is a μ-contraction and ‖ẑ − z*‖_{∞,[η̃]⁻¹} ≤ ‖r‖_{∞,[η̃]⁻¹}/(1 − μ) for "
            "r = ẑ − ReLU(Ŵẑ + v̂). Since ρ(A) ≤ λ_max(sym A) for A ≥ 0, such η exists whenever "
            "wei2022:sec3.conv.lift gives m > 0, and also for the Γ-variant."
        ),
        "suspect": "",
        "checkable": "algebra",
        "check_idea": (
            "Materialise W and Ŵ (small c, N, k): ‖|W|‖_{∞,η̃} and ‖|Ŵ|‖_{∞,[η̃;η̃]} equal max_c (Aη)_c/η_c and are "
            "≤ the certified μ; iterate the lifted map and check ‖ẑ − z*‖ ≤ ‖r‖/(1 − μ); ρ(A) ≤ λ_max(sym A); "
            "the certificate is REFUTED when ρ(A) ≥ 1 and its verifier refuses a perturbed η or μ."
        ),
        "owner": "catalogue",
    },
    {
        "id": "wei2022:eq2.3.conv",
        "paper": "wei2022",
        "label": "eq2.3.conv",
        "title": "[project's own claim] Interval rule (2.3) for a convolution, computed in float64, contains the exact box",
        "statement": (
            "Not printed in the paper; the project's own claim behind the matrix-free certifier (torch, "
            "certify/conv_blocks.py) and its numpy re-check (conv_certificate.conv_box) of the convolutional "
            "models (App. B, DEQ-3/DEQ-7). wei2022 eq. (2.3) for y = K ⋆ x + b (cross-correlation, zero or circular "
            "padding, any stride) over the box [x̲, x̄]: y ∈ [K₊⋆x̲ + K₋⋆x̄ + b, K₊⋆x̄ + K₋⋆x̲ + b]. Computed by direct "
            "convolution in IEEE binary64 (each output a float sum of at most T = c_in k_h k_w products, any "
            "summation order), the float bounds moved outward by INFLATE·γ_{2T+2}(|K| ⋆ max(|x̲|, |x̄|) + |b|) + "
            "2⁻¹⁰⁰⁰ and one ulp contain the exact box of the stored float64 values (Higham Thm 3.4 / the γ_k model "
            "of deqtheory.verified; INFLATE = 1 + 10⁻⁶ covers the rounding of the float |K| ⋆ max(|x̲|,|x̄|))."
        ),
        "suspect": "",
        "checkable": "algebra",
        "check_idea": (
            "Random kernels, biases and boxes with magnitudes 1e-8…1e8 and mixed signs (so float sums cancel), zero "
            "and circular padding, strides 1 and 2, degenerate and wide boxes: the float box contains the exact "
            "[min, max] of every output computed in Fractions; removing the allowance makes cases fail "
            "(tests/test_conv_blocks.py)."
        ),
        "owner": "catalogue",
    },
    # =====================================================================================
    # li2022 — Li, Wang & Lin, CerDEQ (file 001)
    # =====================================================================================
    {
        "id": "li2022:eq5",
        "paper": "li2022",
        "label": "eq5",
        "title": "Adjoint DEQ (interval fixed point with input injection)",
        "statement": (
            "[z̄*; z̲*] = σ( [[W₊, W₋], [W₋, W₊]] [z̄*; z̲*] + [U₊x̄ + U₋x̲ + b; U₊x̄ + U₋x̲ + b] ) (5), the limit of the "
            "IBP-unrolled iteration (4) started at (z̄⁽⁰⁾, z̲⁽⁰⁾) = (0, 0)."
        ),
        "suspect": (
            "Misprint: the lower input is printed identical to the upper one; it must be U₋x̄ + U₊x̲ + b (as in App. A, "
            "h̲ after eq. (10)). With the printed input, uniqueness forces z̲* = z̄* = z*(input h̄), not a bound: "
            "numeric (5×5, ‖|W|‖₂ = 0.5, ε = 0.3) max box violation 0.566 for printed vs 0 for corrected. "
            "Eq. (4) also has z^{(k+1)} on the right-hand side (should be z^{(k)}) and the same lower-input misprint."
        ),
        "checkable": "model",
        "check_idea": (
            "Implement the corrected input; property test = prop3.1. Regression test: the printed input violates "
            "containment on a fixed seed (documented counterexample)."
        ),
        "owner": "catalogue",
    },
    {
        "id": "li2022:prop3.1",
        "paper": "li2022",
        "label": "prop3.1",
        "title": "Adjoint DEQ bounds the DEQ output when ‖Ŵ‖₂ < 1",
        "statement": (
            "If the fusion weight matrix of the adjoint DEQ (5) satisfies ‖[[W₊, W₋], [W₋, W₊]]‖₂ < 1, then its output "
            "z̄*, z̲* are the upper and lower bound of the original DEQ z* = σ(Wz* + Ux + b) w.r.t. perturbations of x: "
            "z̲* ≤ min_{x̲≤x≤x̄} z*(x), z̄* ≥ max_{x̲≤x≤x̄} z*(x)."
        ),
        "suspect": (
            "OCR: 'min_{x ≤ x ≤ x̄}' is min over x̲ ≤ x ≤ x̄. Requires the corrected lower input of eq5. The hypothesis "
            "‖Ŵ‖₂ = ‖|W|‖₂ < 1 (prop3.2) implies λ_max(sym|W|) < 1 and ρ(|W|) < 1, i.e. it is strictly stronger than "
            "wei2022 thm3.1/thm3.3; both iterations (original and adjoint) are ℓ₂-contractions, which the proof uses."
        ),
        "checkable": "model",
        "check_idea": (
            "W scaled so ‖|W|‖₂ ≤ 0.9 (verified upper bound), random U, b, box; solve adjoint DEQ by iteration from 0; "
            "sample x in the box (uniform + corners), solve z*(x), assert containment with residual-based slack; "
            "also check the iterates z̲⁽ᵏ⁾ ≤ z⁽ᵏ⁾(x) ≤ z̄⁽ᵏ⁾ for all k (the proof's invariant)."
        ),
        "owner": "catalogue",
    },
    {
        "id": "li2022:prop3.2",
        "paper": "li2022",
        "label": "prop3.2",
        "title": "‖[[W₊, W₋], [W₋, W₊]]‖₂ = max(‖W‖₂, ‖|W|‖₂) = ‖|W|‖₂",
        "statement": (
            "For any matrix W: ‖[[W₊, W₋], [W₋, W₊]]‖₂ = max(‖W‖₂, ‖Wᵀ‖₂), 'where |W| is the matrix whose entries are "
            "the absolute values of W'. [printed; see suspect]"
        ),
        "suspect": (
            "Printed right side max(‖W‖₂, ‖Wᵀ‖₂) = ‖W‖₂ is wrong (and the trailing 'where |W| …' shows the intended "
            "term). Corrected: ‖Ŵ‖₂ = max(‖W‖₂, ‖|W|‖₂) = ‖|W|‖₂ (W rectangular allowed). Proof's intermediate "
            "product (I I; I −I)Ŵ = [[W, W], [|W|, |W|]] should be [[W, W], [|W|, −|W|]]. Numeric: 5×5 Gaussian W: "
            "‖Ŵ‖₂ = 4.2451 = ‖|W|‖₂ while ‖W‖₂ = 3.6015; 3×7: 3.9125 = ‖|W|‖₂ vs ‖W‖₂ = 2.9284."
        ),
        "checkable": "algebra",
        "check_idea": (
            "Random rectangular W: assert ‖Ŵ‖₂ = ‖|W|‖₂ (svd, rel tol 1e-12) and ≥ ‖W‖₂; assert "
            "Q₁ Ŵ Q₂ = blkdiag(W, |W|) with Q = (1/√2)[[I,I],[I,−I]]; the printed form fails on the 5×5 seed."
        ),
        "owner": "catalogue",
    },
    {
        "id": "li2022:lemma3.3",
        "paper": "li2022",
        "label": "lemma3.3",
        "title": "Order-2 Björck orthogonalization converges to the nearest orthonormal matrix",
        "statement": (
            "(Björck & Bowie 1971) A_{k+1} = (15/8)A_k − (5/4)A_k(A_kᵀA_k) + (3/8)A_k(A_kᵀA_k)(A_kᵀA_k) (6)–(7), "
            "A_0 = Wᵀ. If ‖I − WWᵀ‖₂ < 1 then lim A_k = P, the solution of min_{QᵀQ = I_m} ‖Q − Wᵀ‖_F with "
            "Q, Wᵀ ∈ ℝ^{n×m}, m ≤ n; i.e. P is the nearest orthogonal matrix to Wᵀ (A_Kᵀ approximates W after K steps)."
        ),
        "suspect": (
            "'calculated by Eqn (7)' refers to the two-line formula (6)–(7). Hypothesis implies W has full row rank "
            "(σ_min(W) > 0) and σ_max(W) < √2. CerDEQ uses only K = 5 steps, so the result is only approximately "
            "orthogonal — any certificate built on it must use the actual ‖|W|‖₂. Numeric: W (3×6) scaled by "
            "√(mn)‖W‖_max has ‖I − WWᵀ‖₂ = 0.995 and 60 steps reach the polar factor UVᵀ to 7e-16."
        ),
        "checkable": "algebra",
        "check_idea": (
            "Random W scaled into the hypothesis; iterate until stationary; compare with polar factor from svd "
            "(U Vᵀ of Wᵀ) and check QᵀQ = I; singular values follow the scalar map g(s) = s(15/8 − 5/4 s² + 3/8 s⁴) "
            "(monotone convergence to 1 on (0, √2))."
        ),
        "owner": "catalogue",
    },
    {
        "id": "li2022:sec3.3.ineq",
        "paper": "li2022",
        "label": "sec3.3.ineq",
        "title": "σ_max(W) ≤ √(mn)·‖W‖_max",
        "statement": (
            "σ_max ≤ √(mn)‖W‖_max, where σ_max is the largest singular value of W ∈ ℝ^{m×n} and ‖W‖_max its largest "
            "absolute entry (used as the pre-Björck scaling factor so that all singular values are ≤ 1)."
        ),
        "suspect": (
            "None (‖W‖₂ ≤ ‖W‖_F ≤ √(mn)‖W‖_max; tight for rank-one matrices with equal-magnitude entries, e.g. all-ones). "
            "Note: scaling to σ_max ≤ 1 does not by itself give the Björck hypothesis ‖I − WWᵀ‖₂ < 1 (needs σ_min > 0)."
        ),
        "checkable": "algebra",
        "check_idea": "Random rectangular W: assert ‖W‖₂ ≤ √(mn)·max|W_ij|·(1 + 1e-12); equality for the all-ones matrix.",
        "owner": "catalogue",
    },
    {
        "id": "li2022:prop3.4",
        "paper": "li2022",
        "label": "prop3.4",
        "title": "1 ≤ ‖Ô‖₂ ≤ √m ≤ √n for row-orthonormal O",
        "statement": (
            "For a matrix O ∈ ℝ^{m×n} with OOᵀ = I_m, m ≤ n: 1 ≤ ‖[[O₊, O₋], [O₋, O₊]]‖₂ ≤ √m ≤ √n."
        ),
        "suspect": (
            "Proof relies on the corrected prop3.2 (‖Ô‖₂ = ‖|O|‖₂ ≤ ‖|O|‖_F = ‖O‖_F = √m); it says 'since m < n' where "
            "m ≤ n is meant. Both bounds are attained: lower by permutation-like O, upper by square Hadamard O "
            "(numeric: O = H₄/2 gives ‖Ô‖₂ = 2 = √m)."
        ),
        "checkable": "algebra",
        "check_idea": (
            "Random row-orthonormal O (QR of a Gaussian), m ≤ n: assert 1 − tol ≤ ‖Ô‖₂ ≤ √m + tol; equality witnesses "
            "O = [I_m 0] (value 1) and normalized Hadamard (value √m)."
        ),
        "owner": "catalogue",
    },
    {
        "id": "li2022:sec3.3.scaling",
        "paper": "li2022",
        "label": "sec3.3.scaling",
        "title": "Scaling the orthogonalized weight by 1/√n ensures the adjoint DEQ converges",
        "statement": (
            "(§3.3, after Prop 3.4) 'For convenience, we scale the weight matrix by √n to ensure adjoint DEQ's "
            "convergence and Eqn (8)': W = O/√n with O row-orthonormal, m, n = out/in channels × kernel size, m ≤ n."
        ),
        "suspect": (
            "Prop 3.4 gives ‖(O/√n)^‖₂ ≤ √(m/n) ≤ 1, not < 1 as Prop 3.1 requires: equality is attained when m = n and "
            "|O| is a multiple of the all-ones matrix (Hadamard). Numeric: O = H₄/2, W = O/2 gives ‖Ŵ‖₂ = 1.0000000000000002 "
            "— no contraction. Moreover after K = 5 Björck steps O is only approximately orthonormal. A sound "
            "implementation must check ‖|W|‖₂ < 1 with a verified upper bound (or scale by a factor < 1/√n)."
        ),
        "checkable": "algebra",
        "check_idea": (
            "For random row-orthonormal O: ‖(O/√n)^‖₂ ≤ √(m/n) + tol; Hadamard witness shows equality 1; the library "
            "certificate (spectrum.check_adjoint_contractive) must report margin ≤ 0 (not CERTIFIED) on it."
        ),
        "owner": "catalogue",
    },
    {
        "id": "li2022:sec3.3.conv",
        "paper": "li2022",
        "label": "sec3.3.conv",
        "title": "Conv reading of the 1/√n scaling: the conv operator of O/√n has ‖·‖∞ ≤ 1",
        "statement": (
            "(§3.3 with Prop 3.5's eq. (32), read for a convolution: 'm, n denote output channel number and input "
            "channel number multiplying the kernel size') Let O ∈ ℝ^{c×n}, n = c·k², have orthonormal rows, K the "
            "(c, c, k, k) kernel of O/√n and W_K its circular convolution on an N × N grid with k ≤ N. Every row of "
            "W_K holds exactly the taps of one row of O/√n, so ‖W_K‖∞ = ‖|W_K|‖∞ = max_i Σ_j |O_ij|/√n ≤ 1 (row ℓ1 "
            "≤ √n row ℓ2, eq. 32), and the IBP lift Ŵ = [[W₊, W₋], [W₋, W₊]] has ‖|Ŵ|‖∞ ≤ 1: the adjoint DEQ is "
            "non-expansive in ℓ∞."
        ),
        "suspect": (
            "≤ 1, not < 1: a row with all |O_ij| = 1/√n (c = 1, k = 2, O = [1, 1, 1, 1]/2; or rows of a normalised "
            "Hadamard matrix) attains ‖W_K‖∞ = 1, so no contraction follows from the construction and the ℓ∞ "
            "certifier must prove μ < 1 on the computed kernel (conv_ibp.conv_abs_contraction, the Perron bound of "
            "Σ_taps|K|), e.g. after the §3.5 channel scale s < 1. After K = 5 Björck steps the rows are only "
            "near-orthonormal (their norms shrink, never grow: p maps [0, 1] into itself)."
        ),
        "checkable": "algebra",
        "check_idea": (
            "Random row-orthonormal O (QR), several c, k, N ≥ k: materialise W_K (circulant.conv_matrix) and compare "
            "its ℓ∞ norm, that of |W_K| and of the IBP lift with the row ℓ1 of O/√n (equal, ≤ 1); the Björck "
            "kernel of deqtheory (conv_cerdeq_kernel) likewise; tight witnesses (all-equal row, Hadamard rows) attain "
            "1 and conv_abs_contraction does not certify them, while 0.99·K is certified."
        ),
        "owner": "catalogue",
    },
    {
        "id": "li2022:prop3.5",
        "paper": "li2022",
        "label": "prop3.5",
        "title": "DEQ-specific IBP initialization: bound-width gain ≤ n_u E|U| / (2 − √n‖W‖₂)",
        "statement": (
            "If each element of U is initialized i.i.d. N(0, σ²) and W is row-orthogonal with ‖W‖₂ ≤ 1/√n, then "
            "E[Δ_out]/E[Δ_in] ≤ n_u E(|U|)/(2 − √n‖W‖₂) ≤ n_u E(|U|) (8), with U ∈ ℝ^{m×n_u}, W ∈ ℝ^{m×n}, Δ_in, Δ_out "
            "the input and output interval widths of the adjoint DEQ. Since E|U| = √(2/π)σ, the paper recommends "
            "σ = √π/√(2n_u) 'to make the difference of gain less than 1'."
        ),
        "suspect": (
            "(i) Proof uses E[σ(ḡ) − σ(g̲)] = ½E[ḡ − g̲] (26) and identical distribution of coordinates — heuristics from "
            "Shi et al., so (8) is not a rigorous bound. (ii) With the printed σ = √π/√(2n_u): n_u E|U| = √n_u "
            "(= 1, 4, 28 for n_u = 1, 16, 784), not ≤ 1; σ = √π/(√2·n_u) gives n_u E|U| = 1 exactly (the square root "
            "is likely misplaced). (iii) The geometric sum (34) has exponent 2^{k−2} where 2^{k−1} is meant (the limit "
            "(36) is right). The proof treats m = n (linear/1×1 case)."
        ),
        "checkable": "statistical",
        "check_idea": (
            "Monte Carlo: W = O/√n (O random orthogonal), U ~ N(0, σ²), random centre x and width ε; compute adjoint-DEQ "
            "widths; estimate E[Δ_out]/E[Δ_in] over seeds and compare with n_u E|U|/(2 − √n‖W‖₂) (report, do not "
            "assert beyond a loose factor since (26) is heuristic); exact check that σ = √π/(√2 n_u) gives n_u√(2/π)σ = 1."
        ),
        "owner": "catalogue",
    },
    {
        "id": "li2022:sec3.6.loss",
        "paper": "li2022",
        "label": "sec3.6.loss",
        "title": "CerDEQ certified training objective",
        "statement": (
            "ℒ = (1/(1 + λ_n))(ℒ_c + λ_n ℒ_n) + λ(ℒ_t + ℒ_r), ℒ_c = L̄_ε(f_θ, x, y) ≥ max_{‖δ‖≤ε} L(f_θ(x + δ), y) (9), "
            "ℒ_n natural loss, ℒ_t, ℒ_r the tightness and ReLU regularizers of Shi et al.; λ = λ_0(1 − ε_now/ε) only "
            "during warm-up (App. E: λ_n = 0.25, λ_0 ∈ {0.5, 0.75, 1.25})."
        ),
        "suspect": "Definition; ‖δ‖ in (9) is ‖δ‖∞ (ℓ∞ setting of the paper).",
        "checkable": "definition",
        "check_idea": "Definition only: ℒ_c computed from adjoint-DEQ margins upper-bounds the PGD-attacked loss on small models.",
        "owner": "catalogue",
    },
    # =====================================================================================
    # pabbaraju2021 — Pabbaraju, Winston & Kolter (file 003)
    # =====================================================================================
    {
        "id": "pabbaraju2021:prop1",
        "paper": "pabbaraju2021",
        "label": "prop1",
        "title": "Lipschitz constant of the averaged operator T = I − α(I − W)",
        "statement": (
            "For the monDEQ with I − W ⪰ mI and T := I − α(I − W): L[T] ≤ √(1 − 2αm + α²L[I − W]²), where "
            "L[I − W] = ‖I − W‖₂. This implies that for α ∈ (0, 2m/L[I − W]²), L[T] < 1. [OCR garbled: the α-range "
            "reconstructed from the proof.]"
        ),
        "suspect": (
            "§2 says I − α(I − W) is 'contractive for any 0 < α ≤ 2m/L²'; at α = 2m/L² the bound only gives L[T] ≤ 1. "
            "Witness: W = (1 − m)I ⇒ L[I − W] = m, α = 2/m ⇒ T = −I, L[T] = 1 (not contractive). The open interval in "
            "Prop 1's corollary is right."
        ),
        "checkable": "algebra",
        "check_idea": (
            "Random MonDEQ W, α ∈ (0, 2m/‖I−W‖²): assert ‖I − α(I−W)‖₂ ≤ √(1 − 2αm + α²‖I−W‖²) + tol and < 1; "
            "boundary witness W = (1−m)I, α = 2/m gives exactly 1."
        ),
        "owner": "catalogue",
    },
    {
        "id": "pabbaraju2021:thm1",
        "paper": "pabbaraju2021",
        "label": "thm1",
        "title": "monDEQ input–output Lipschitz bound ‖U‖₂/m (x → z)",
        "statement": (
            "Let f(x) = z* be the output of the monDEQ z* = σ(Wz* + Ux + b), σ = ReLU, I − W ⪰ mI. For any x, y ∈ ℝⁿ: "
            "‖f(x) − f(y)‖₂ ≤ (‖U‖₂/m)‖x − y‖₂, i.e. L[f] ≤ ‖U‖₂/m."
        ),
        "suspect": (
            "Proof (limit α → 0 of unrolled forward–backward) uses that the ReLU prox does not depend on α; the bound "
            "itself holds for every activation slope-restricted in [0, 1] (havens2023 thm3.1 with Λ = I/‖U‖₂, "
            "L = ‖U‖₂/m). Numeric: over 2000 random MonDEQs and slope matrices D ∈ [0,1]^h, "
            "max ‖(I − DW)⁻¹DU‖₂/(‖U‖₂/m) = 0.65. For the logits add ‖W_o‖₂ (x → y bound ‖W_o‖₂‖U‖₂/m)."
        ),
        "checkable": "model",
        "check_idea": (
            "Random MonDEQ (A, B, U, m): (a) Jacobian bound: for random diagonal D ∈ [0,1], ‖(I − DW)⁻¹DU‖₂ ≤ ‖U‖₂/m; "
            "(b) solve fixed points for random pairs x, y and assert ‖f(x) − f(y)‖ ≤ ‖U‖/m·‖x − y‖ + residual slack; "
            "near-tight witness: W = (1−m)I, U = I, b = 0, x ≥ 0 gives ratio 1/m."
        ),
        "owner": "catalogue",
    },
    {
        "id": "pabbaraju2021:prop2",
        "paper": "pabbaraju2021",
        "label": "prop2",
        "title": "Norm bound on forward–backward iterates (appendix B)",
        "statement": (
            "Let f_k(W, U, b) be the k-th forward–backward iterate of the monDEQ (started at 0) on a fixed input x and "
            "T(W) = (1 − α)I + αW. Then ‖f_k(W, U, b)‖₂ ≤ α‖Ux + b‖₂/(1 − L[T(W)]). (Letting α → 0: "
            "‖z*‖₂ ≤ ‖Ux + b‖₂/m.)"
        ),
        "suspect": "None (requires α in the Prop 1 range so that L[T] < 1).",
        "checkable": "model",
        "check_idea": (
            "Random MonDEQ, α in range: run FB from 0, assert every iterate satisfies the bound; solve z* and assert "
            "‖z*‖ ≤ ‖Ux + b‖/m (+ residual slack)."
        ),
        "owner": "catalogue",
    },
    {
        "id": "pabbaraju2021:thm2",
        "paper": "pabbaraju2021",
        "label": "thm2",
        "title": "monDEQ weight-perturbation bound",
        "statement": (
            "Let I − W ⪰ mI and I − W̃ ⪰ m̃I. The change in the output of the monDEQ on perturbing weights and biases "
            "from (W, U, b) to (W̃, Ũ, b̃) is bounded by ‖f(W̃, Ũ, b̃) − f(W, U, b)‖₂ ≤ "
            "‖W − W̃‖₂‖Ux + b‖₂/(m m̃) + (‖(U − Ũ)x‖₂ + ‖b − b̃‖₂)/m̃. [OCR garbled: tildes lost; which monotonicity "
            "parameter goes where is reconstructed from the proof in App. B.]"
        ),
        "suspect": (
            "OCR dropped all tildes. From the proof: ‖f_{k−1}(W, U, b)‖ is bounded via T(W) (→ 1/m) and the error "
            "recursion contracts with T(W̃) (→ 1/m̃). Numeric (MonDEQ h = 6, m = m̃ = 0.5, 0.05-perturbations of "
            "A, B, U, b, 50 inputs): max LHS/RHS = 0.04 (valid, loose)."
        ),
        "checkable": "model",
        "check_idea": (
            "Random MonDEQ pairs (perturb A, B, U, b; m, m̃ from the parameterization); solve both fixed points "
            "accurately; assert LHS ≤ RHS + residual slack; also with W̃ = W, Ũ = U, b̃ = b the RHS is 0 and LHS ≈ 0."
        ),
        "owner": "catalogue",
    },
    {
        "id": "pabbaraju2021:lemma1",
        "paper": "pabbaraju2021",
        "label": "lemma1",
        "title": "Deterministic PAC-Bayes margin bound (Neyshabur et al. 2018, Lemma 1)",
        "statement": (
            "Let f_w be any predictor with parameters w and P any data-independent distribution on parameters. For "
            "any δ, γ > 0, with probability ≥ 1 − δ over a training set of size M, for any w and any random "
            "perturbation u with P[max_x ‖f_{w+u}(x) − f_w(x)‖∞ < γ/4] ≥ 1/2: "
            "L_0(f_w) ≤ L̂_γ(f_w) + 4√((KL(w + u ‖ P) + ln(6M/δ))/(M − 1)). [OCR garbled: reconstructed from "
            "Neyshabur et al. and the 'ln 6M/δ' used later in the proof.]"
        ),
        "suspect": "Cited result; OCR of the bound is unreadable, reconstructed.",
        "checkable": "statistical",
        "check_idea": "Not checkable as a property; only the perturbation premise P[...] ≥ 1/2 can be Monte-Carlo estimated for a given σ.",
        "owner": "catalogue",
    },
    {
        "id": "pabbaraju2021:thm3",
        "paper": "pabbaraju2021",
        "label": "thm3",
        "title": "PAC-Bayes generalization bound for monDEQ (no depth term)",
        "statement": (
            "Monitored model f_o(x) = W_o f(x) + b_o, ‖x‖₂ ≤ B, hidden width h, training-set size M, "
            "β := max{‖U‖₂, ‖A‖₂, ‖b‖₂, ‖W_o‖₂}, Σ‖W•‖²_F = ‖A‖²_F + ‖B‖²_F + ‖U‖²_F + ‖b‖²_F + ‖W_o‖²_F + ‖b_o‖²_F. "
            "For any δ, γ > 0, with probability ≥ 1 − δ over the training set: "
            "L_0(f_o) ≤ L̂_γ(f_o) + O( √( [h ln(h) (β³(B + 1) + mβ(B + 1) + m²)² Σ‖W•‖²_F]/(γ² m⁴ M) + ln(M/δ)/M ) ). "
            "[OCR garbled: the bracket reconstructed from the KL bound at the end of App. C; constants c₁, c₃ dropped.]"
        ),
        "suspect": (
            "Proof bounds ‖Δ_W‖₂ = ‖AᵀΔ_A + Δ_AᵀA + Δ_AᵀΔ_A + Δ_B − Δ_Bᵀ‖₂ by 2‖A‖‖Δ_A‖ + ‖Δ_A‖², dropping the "
            "2‖Δ_B‖₂ term (App. E keeps it); β does not include ‖B‖₂. The corrected bound adds 2ω to ‖Δ_W‖ "
            "(changes constants only). The Gaussian tail P[‖Δ‖₂ > t] ≤ 2h e^{−t²/(2hσ²)} and ω = σ√(2h ln(24h)) (6-way union bound) are "
            "checkable by Monte Carlo."
        ),
        "checkable": "statistical",
        "check_idea": (
            "Monte Carlo only: (a) empirical P[‖Δ‖₂ > ω] ≤ 1/12 per matrix for Gaussian h×h perturbations; (b) with "
            "σ from the proof, P[max_x ‖f_o perturbed − f_o‖∞ < γ/4] ≥ 1/2 over a finite input set on a small "
            "monDEQ. The bound itself is not asserted."
        ),
        "owner": "catalogue",
    },
    {
        "id": "pabbaraju2021:sec5.3",
        "paper": "pabbaraju2021",
        "label": "sec5.3",
        "title": "ℓ₂ margin certificate from a Lipschitz bound",
        "statement": (
            "For any x′ with ‖x − x′‖₂ ≤ ε: ‖f(x) − f(x′)‖∞ ≤ ‖f(x) − f(x′)‖₂ ≤ L‖x − x′‖₂ ≤ Lε. With "
            "margin(x) = f(x)_y − max_{i≠y} f(x)_i, if 2Lε ≤ margin(x) the classifier is certified robust at x within "
            "the ℓ₂ ball of radius ε. [OCR garbled: printed 'if L ≤ 2margin(x)' with ε lost; reconstructed from the "
            "chain of inequalities.]"
        ),
        "suspect": (
            "Equality 2Lε = margin(x) only guarantees a tie (f_y ≥ f_j), so certification needs the strict inequality. "
            "Sharper valid certificate: √2·Lε < margin(x) (each pairwise difference (e_y − e_j)ᵀΔf has ℓ₂ gain √2) — "
            "the protocol used by havens2023/SLL (FACTS.md). L must be the Lipschitz constant of the logit map "
            "(‖W_o‖₂‖U‖₂/m for a monDEQ with linear head), w.r.t. the same input normalization as ε."
        ),
        "checkable": "model",
        "check_idea": (
            "Small model with known L: for points certified by margin > 2Lε (and by > √2Lε), run a projected-gradient "
            "attack / dense sampling on the ε-sphere and assert the label never changes; construct a linear model "
            "where √2Lε = margin is attained to show the √2 certificate is tight and equality is not enough."
        ),
        "owner": "catalogue",
    },
    {
        "id": "pabbaraju2021:appD1",
        "paper": "pabbaraju2021",
        "label": "appD1",
        "title": "Unrolled forward–backward iterations as a depth-k network",
        "statement": (
            "One FB step computes z^{(i+1)} = σ(((1 − α)I + αW)z^{(i)} + α(Ux + b)). k steps are the depth-k network on "
            "[z; x] with layers W_u = [[(1 − α)I + αW, αU], [0, I]] (first layer W_1 = [αU; I]), ReLU applied only to "
            "the z-coordinates, output f_o = W_f [z; x] + b_o with W_f = [W_o, 0]."
        ),
        "suspect": "Matrices are partially lost in the OCR; reconstructed from the stated iteration.",
        "checkable": "algebra",
        "check_idea": "Random monDEQ: run k FB steps directly and via the unrolled network; assert identical outputs.",
        "owner": "catalogue",
    },
    {
        "id": "pabbaraju2021:appD2",
        "paper": "pabbaraju2021",
        "label": "appD2",
        "title": "Unrolled Peaceman–Rachford iterations as a depth-k network",
        "statement": (
            "With V = (I + α(I − W))⁻¹, one PR step computes u^{(i+1)} = u^{(i)} − 2z^{(i)} + 4Vz^{(i)} − 2Vu^{(i)} + "
            "2αVUx + 2αVb, z^{(i+1)} = σ(u^{(i+1)}); k steps form a depth-k network on [u; z; x] with ReLU only on z."
        ),
        "suspect": (
            "Consistent with the standard MonDEQ PR splitting (u^{k+1/2} = 2z^k − u^k, z^{k+1/2} = V(u^{k+1/2} + αUx + αb), "
            "u^{k+1} = 2z^{k+1/2} − u^{k+1/2}); block matrices are garbled in the OCR."
        ),
        "checkable": "algebra",
        "check_idea": (
            "Random monDEQ: iterate the printed u/z recursion and the 4-line PR splitting; assert equal iterates and "
            "convergence to z* = σ(Wz* + Ux + b) for any α > 0."
        ),
        "owner": "catalogue",
    },
    # =====================================================================================
    # havens2023 — Havens et al., LBEN connections (file 002)
    # =====================================================================================
    {
        "id": "havens2023:eq2",
        "paper": "havens2023",
        "label": "eq2",
        "title": "LBEN parameterization as printed in the introduction (skew term S − Sᵀ)",
        "statement": (
            "W = I − Ψ((GᵀG + Ψ⁻¹UUᵀΨ⁻¹)/(2L) + VᵀV + S − Sᵀ + εI) (2), Ψ diagonal positive definite, (V, S) free."
        ),
        "suspect": (
            "Skew-term sign differs from eq. (7) (Sᵀ − S). Harmless as a set of W (S ↦ Sᵀ), but conversion formulas "
            "depend on it: thm3.2/thm3.4 (S = B/‖U‖) are correct for eq. (7); thm3.5, appD1, appD2 (S = M/2) are "
            "correct only for eq. (2) — under eq. (7) they need S = −M/2 (equivalently Mᵀ/2). Project convention: eq. (7)."
        ),
        "checkable": "definition",
        "check_idea": "Definition; see the conversion entries for the numeric sign checks.",
        "owner": "conversion",
    },
    {
        "id": "havens2023:prop2.1",
        "paper": "havens2023",
        "label": "prop2.1",
        "title": "Well-posedness LMI 2Γ − ΓW − WᵀΓ ≻ 0 (Revay et al. Thm 1)",
        "statement": (
            "Consider the DEQ (1) z = σ(Wz + Ux + b_z), y = Gz + b_y with σ slope-restricted on [0, 1]. If there exists a "
            "positive definite diagonal Γ with 2Γ − ΓW − WᵀΓ ≻ 0 (3), then the DEQ is well-posed and has a finite "
            "Lipschitz bound from x to y."
        ),
        "suspect": (
            "None. (3) is the same as wei2022's 'Λ − ΛW ≻ 0' (Γ = Λ) and, with Γ = I, MonDEQ's I − W ≻ 0."
        ),
        "checkable": "model",
        "check_idea": (
            "Generate W with a known Γ (e.g. G-MonDEQ (6) with Γ = Φ⁻¹, or W = I − Γ⁻¹(P + S), P ≻ 0, S skew); solve "
            "fixed points by two methods/starts (PR with Λ-weighted resolvent) and assert uniqueness; empirical Lipschitz "
            "ratio finite and ≤ the bound obtained from the Schur form. Negative witness: W = [[0,2],[2,0]] (no Γ, two "
            "fixed points)."
        ),
        "owner": "catalogue",
    },
    {
        "id": "havens2023:prop2.2",
        "paper": "havens2023",
        "label": "prop2.2",
        "title": "Strict Lipschitz LMI (4) ⇒ well-posed and L-Lipschitz (Revay et al. Thm 2)",
        "statement": (
            "Consider the DEQ (1) with σ slope-restricted on [0, 1]. If there exists a positive definite diagonal Λ with "
            "2Λ − ΛW − WᵀΛ − (1/L)GᵀG − (1/L)ΛUUᵀΛ ≻ 0 (4), then the DEQ (1) is well-posed and L-Lipschitz from x to y."
        ),
        "suspect": "None.",
        "checkable": "model",
        "check_idea": (
            "Sample LBEN (7) with ε > 0 (then (4) holds with Λ = Ψ⁻¹ and LHS = 2VᵀV + 2εI); solve fixed points, "
            "assert uniqueness and ‖Δy‖ ≤ L‖Δx‖ on random pairs (ReLU and a non-ReLU slope-[0,1] activation)."
        ),
        "owner": "catalogue",
    },
    {
        "id": "havens2023:sec2.2.schur",
        "paper": "havens2023",
        "label": "sec2.2.schur",
        "title": "(4)/(10) convexified by Schur complement into an SDP in (Λ, L)",
        "statement": (
            "For given (W, U, G) condition (4) is bilinear in Λ, but 'one can easily convexify (4) into an SDP form using "
            "the Schur complement lemma': (4) ⇔ [[2Λ − ΛW − WᵀΛ − (1/L)GᵀG, ΛU], [UᵀΛ, L·I]] ≻ 0 (and the non-strict "
            "version for (10)); equivalently the 3-block form [[2Λ − ΛW − WᵀΛ, ΛU, Gᵀ], [UᵀΛ, L·I, 0], [G, 0, L·I]] ⪰ 0, "
            "jointly linear in (Λ, L)."
        ),
        "suspect": (
            "B.1 uses the off-diagonal −ΛU (sign irrelevant for the Schur complement). For the non-strict case the Schur "
            "equivalence needs L > 0. The 3-block form is from FACTS.md, not the paper."
        ),
        "checkable": "algebra",
        "check_idea": (
            "Random (W, U, G, Λ, L): λ_min of the Schur-form matrix > 0 iff λ_min of (4) > 0 (compare signs, both "
            "directions, including near-boundary L); SDP minimal L equals the L at which λ_min of (10) hits 0 for fixed Λ."
        ),
        "owner": "sdp",
    },
    {
        "id": "havens2023:eq5",
        "paper": "havens2023",
        "label": "eq5",
        "title": "MonDEQ W = (1 − m)I − AᵀA + B − Bᵀ: well-posed and ‖U‖₂‖G‖₂/m-Lipschitz",
        "statement": (
            "W = (1 − m)I − AᵀA + B − Bᵀ (5), m > 0, (A, B) free: the DEQ (1) is well-posed and (Pabbaraju et al.) "
            "‖U‖₂/m-Lipschitz from x to z, hence ‖U‖₂‖G‖₂/m-Lipschitz from x to y; with G = I, ‖U‖₂ ≤ m gives 1-Lipschitz."
        ),
        "suspect": "Skew part of I − W is Bᵀ − B (project convention).",
        "checkable": "model",
        "check_idea": "As pabbaraju2021:thm1, plus the x → y bound with a random G.",
        "owner": "catalogue",
    },
    {
        "id": "havens2023:eq6",
        "paper": "havens2023",
        "label": "eq6",
        "title": "G-MonDEQ W = I − Φ(AᵀA + Bᵀ − B + mI) satisfies (3) with Γ = Φ⁻¹",
        "statement": (
            "W = I − Φ(AᵀA + Bᵀ − B + mI) (6), Φ positive definite diagonal: (3) holds with Γ = Φ⁻¹ and then the left "
            "side of (3) equals 2AᵀA + 2mI ≻ 0, so the model is well-posed; MonDEQ is the case Φ = I."
        ),
        "suspect": "None (identity checked symbolically: skew terms cancel).",
        "checkable": "algebra",
        "check_idea": "Random (A, B, Φ, m): assert 2Φ⁻¹ − Φ⁻¹W − WᵀΦ⁻¹ = 2AᵀA + 2mI to rounding.",
        "owner": "catalogue",
    },
    {
        "id": "havens2023:eq7",
        "paper": "havens2023",
        "label": "eq7",
        "title": "LBEN W = I − Ψ(GᵀG/(2L) + Ψ⁻¹UUᵀΨ⁻¹/(2L) + VᵀV + Sᵀ − S + εI) satisfies (4) with Λ = Ψ⁻¹",
        "statement": (
            "W = I − Ψ((1/(2L))GᵀG + (1/(2L))Ψ⁻¹UUᵀΨ⁻¹ + VᵀV + Sᵀ − S + εI) (7), free (G, U, V, S), Ψ ≻ 0 diagonal, "
            "ε > 0: the DEQ is well-posed and L-Lipschitz; (4) holds with Λ = Ψ⁻¹ and its left side becomes 2VᵀV + 2εI ≻ 0."
        ),
        "suspect": (
            "Project sign convention. With ε = 0 (as in all conversions of §3 and App. D) the left side 2VᵀV is only PSD: "
            "well-posedness then does not follow from Prop 2.2 and must come from elsewhere (monotone or feed-forward "
            "structure, or Prop 2.1 with Γ = Ψ⁻¹, whose LHS GᵀG/L + Ψ⁻¹UUᵀΨ⁻¹/L + 2VᵀV must then be ≻ 0) — relevant "
            "when fine-tuning from an ε = 0 initialization."
        ),
        "checkable": "algebra",
        "check_idea": (
            "Random (G, U, V, S, Ψ, ε, L): assert LHS of (4) with Λ = Ψ⁻¹ equals 2VᵀV + 2εI; model test of prop2.2 on "
            "the same samples."
        ),
        "owner": "catalogue",
    },
    {
        "id": "havens2023:eq8",
        "paper": "havens2023",
        "label": "eq8",
        "title": "AOL rescaling D = diag(Σ_j |W̃ᵀW̃|_ij)^{-1/2} gives ‖W̃D‖₂ ≤ 1",
        "statement": (
            "AOL: W_n = W̃_n D_n with D_n = diag(Σ_j |W̃_nᵀW̃_n|_ij)^{-1/2} (8) ensures ‖W_n‖₂ ≤ 1 (footnote 2: if the "
            "i-th sum is 0, the (i, i) entry of D_n is set to 0)."
        ),
        "suspect": "None. Numeric: four random layers give ‖W̃D‖₂ ∈ {1.0, 0.996, 0.922, 1.0}.",
        "checkable": "algebra",
        "check_idea": "Random W̃ (incl. zero columns): assert ‖W̃D‖₂ ≤ 1 + tol (equivalently DW̃ᵀW̃D ⪯ I).",
        "owner": "catalogue",
    },
    {
        "id": "havens2023:eq9",
        "paper": "havens2023",
        "label": "eq9",
        "title": "SLL: T = diag(Σ_j |WᵀW|_ij q_j/q_i) satisfies WᵀW ⪯ T; residual layer x − 2WT⁻¹σ(Wᵀx + b) is 1-Lipschitz",
        "statement": (
            "(§2.4) The residual network x_{n+1} = x_n − 2W_nT_n⁻¹σ(W_nᵀx_n + b_n), y = x_N is 1-Lipschitz given "
            "W_nᵀW_n ⪯ T_n (Araujo et al.). CPL: T_n = ‖W_n‖₂²I. SLL: T_n = diag(Σ_j |W_nᵀW_n|_ij q_j^{(n)}/q_i^{(n)}) (9), "
            "q^{(n)} > 0 free."
        ),
        "parts": [
            "(eq. 9) W_nᵀW_n ⪯ T_n for every q > 0.",
            "(residual layer) T_n ⪰ W_nᵀW_n ⇒ x ↦ x − 2W_nT_n⁻¹σ(W_nᵀx + b) is 1-Lipschitz for σ slope-restricted on [0, 1].",
        ],
        "suspect": "None. Numeric: 500 random (W, q): min eigenvalue of T − WᵀW ≥ −4e-16·max T.",
        "checkable": "algebra",
        "check_idea": (
            "Random W, q: λ_min(T − WᵀW) ≥ −tol; layer Lipschitz: for random D ∈ [0,1] diag, ‖I − 2WT⁻¹DWᵀ‖₂ ≤ 1 + tol; "
            "and sampled pairs through the network."
        ),
        "owner": "catalogue",
    },
    {
        "id": "havens2023:sec2.4.sandwich",
        "paper": "havens2023",
        "label": "sec2.4.sandwich",
        "title": "Sandwich network is L-Lipschitz",
        "statement": (
            "x_0 = √L x, x_{n+1} = √2 A_nᵀΦ_nσ(√2Φ_n⁻¹B_nx_n + b_n), y = √L B_Nx_N + b_N with A_nA_nᵀ + B_nB_nᵀ = I, "
            "B_NᵀB_N = I and Φ_n a free diagonal matrix with non-negative entries: the network is L-Lipschitz (Wang & "
            "Manchester)."
        ),
        "suspect": (
            "Φ_n must be positive (Φ_n⁻¹ appears), not merely non-negative; App. D.2 calls it Ψ_n once. Numeric: random "
            "3-layer instance with L = 2: empirical Lipschitz 0.97 ≤ 2."
        ),
        "checkable": "model",
        "check_idea": (
            "Random semi-orthogonal [A_n B_n] (QR), positive Φ_n: sampled pairs and Jacobians (random ReLU patterns) have "
            "gain ≤ L; with σ = identity and specific choices the gain reaches L (tightness witness)."
        ),
        "owner": "catalogue",
    },
    {
        "id": "havens2023:thm3.1",
        "paper": "havens2023",
        "label": "thm3.1",
        "title": "Non-strict LMI (10) + well-posedness ⇒ L-Lipschitz",
        "statement": (
            "Suppose the DEQ (1) is well-posed and σ is slope-restricted on [0, 1]. If there exists a positive definite "
            "diagonal Λ such that 2Λ − ΛW − WᵀΛ − (1/L)GᵀG − (1/L)ΛUUᵀΛ ⪰ 0 (10), then the DEQ (1) is L-Lipschitz "
            "from x to y."
        ),
        "suspect": (
            "Proof B.1 multiplies by [Δ_xᵀ Δ_zᵀ] where [Δ_zᵀ Δ_xᵀ] matches the block order; (19)–(20) are otherwise "
            "right. Well-posedness is a genuine extra hypothesis (it is what the strict LMI provided). Also valid for a "
            "mixed activation (identity on some coordinates, footnote 3)."
        ),
        "checkable": "model",
        "check_idea": (
            "Instances where (10) holds with equality-type singular LHS (MonDEQ with Λ = I/‖U‖, L = ‖U‖/m; SLL with (15)): "
            "solve fixed points, assert ‖Δy‖ ≤ L‖Δx‖ + slack on random pairs and via Jacobians (I − DW)⁻¹DU for random "
            "D ∈ [0,1]; assert λ_min(LHS(10)) ≥ −tol at L and < 0 at L(1 − δ) where the instance is tight."
        ),
        "owner": "catalogue",
    },
    {
        "id": "havens2023:sec3.1",
        "paper": "havens2023",
        "label": "sec3.1",
        "title": "Trivial MonDEQ → LBEN reparameterization (Revay et al. Remark 2) does not preserve ‖U‖₂/m",
        "statement": (
            "As mentioned in [35, Remark 2], any MonDEQ immediately leads to an LBEN for sufficiently large L. However "
            "this trivial reparameterization does not preserve the prescribed Lipschitz constant ‖U‖₂/m; 'in contrast, "
            "it can be arbitrarily large.' Fix: (10) holds with G = I, Λ = I/‖U‖₂, L = ‖U‖₂/m, LHS = "
            "(2/‖U‖₂)AᵀA + (1/L)(I − UUᵀ/‖U‖₂²) ⪰ 0, recovering Pabbaraju's bound."
        ),
        "parts": [
            "(issue) with Λ = I (Ψ = I) the smallest L making (4)/(10) feasible is λ_max((2mI + 2AᵀA)^{-1/2}(I + UUᵀ)(2mI + 2AᵀA)^{-1/2}), unbounded relative to ‖U‖₂/m.",
            "(fix) Λ = I/‖U‖₂, L = ‖U‖₂/m makes (10) hold: LHS = (2/‖U‖₂)AᵀA + (1/L)(I − UUᵀ/‖U‖₂²).",
        ],
        "suspect": (
            "What 'the trivial reparameterization' is must be fixed by the project: interpreted as Λ = Ψ = I (with Λ = λI "
            "optimized over λ it recovers ‖U‖/m). Numeric witness (A = 0, U = mI, G = I): L(Λ = I) = (1 + m²)/(2m) = "
            "1.0, 5.05, 50.005 for m = 1, 0.1, 0.01 while ‖U‖₂/m = 1."
        ),
        "checkable": "algebra",
        "check_idea": (
            "Witness family A = 0, U = mI: assert L(Λ = I) = (1 + m²)/(2m) → ∞ as m → 0 while ‖U‖/m = 1; fix: random "
            "(A, B, U) assert λ_min(LHS(10)) ≥ −tol with Λ = I/‖U‖, L = ‖U‖/m and the displayed closed form."
        ),
        "owner": "conversion",
    },
    {
        "id": "havens2023:thm3.2",
        "paper": "havens2023",
        "label": "thm3.2",
        "title": "1-Lipschitz MonDEQ → LBEN with Ψ = ‖U‖₂I, S = B/‖U‖₂, ε = 0",
        "statement": (
            "Given a 1-Lipschitz MonDEQ with (A, B, U), ‖U‖₂ ≤ m, the choice Ψ = ‖U‖₂I, G = I, S = B/‖U‖₂, ε = 0, "
            "VᵀV = (m/‖U‖₂ − 1/2)I + AᵀA/‖U‖₂ − UUᵀ/(2‖U‖₂²) ⪰ 0 (11)–(12), with the same U, gives a valid 1-Lipschitz "
            "LBEN (L = 1) generating the same input–output map."
        ),
        "suspect": (
            "Correct under eq. (7) (skew Sᵀ − S); with eq. (2)'s S − Sᵀ it would need S = −B/‖U‖₂. Numeric (n = 6, "
            "m = 0.7): W_LBEN − W_MonDEQ = 2.6e-15 with S = +B/‖U‖, 3.47 with S = −B/‖U‖; λ_min(VᵀV) = 0.349. "
            "Missing hypothesis: U ≠ 0 (division by ‖U‖₂). Preserves the prescription L = 1, not the possibly smaller "
            "‖U‖₂/m."
        ),
        "checkable": "algebra",
        "check_idea": (
            "Random (A, B, U) with ‖U‖ ≤ m: assert VᵀV ⪰ 0 (verified, margin ≥ 1/2·λ_min(I − UUᵀ/‖U‖²)), V via "
            "eigh-with-clipping factor, W from (7) equals (5) to rounding; model check: same fixed points / outputs."
        ),
        "owner": "conversion",
    },
    {
        "id": "havens2023:thm3.3",
        "paper": "havens2023",
        "label": "thm3.3",
        "title": "G-MonDEQ is ‖Φ⁻¹U‖₂/m-Lipschitz (x → z)",
        "statement": (
            "Consider the G-MonDEQ parameterization (6). It gives a mapping which is ‖Φ⁻¹U‖₂/m-Lipschitz from x to z. "
            "(Proof: (10) holds with G = I, Λ = Φ⁻¹/‖Φ⁻¹U‖₂, L = ‖Φ⁻¹U‖₂/m; LHS = (2/‖Φ⁻¹U‖₂)AᵀA + "
            "(1/L)(I − Φ⁻¹UUᵀΦ⁻¹/‖Φ⁻¹U‖₂²).)"
        ),
        "suspect": (
            "None. Numeric (n = 6): LHS(10) λ_min = 1.18 > 0 at L = 0.8; empirical Lipschitz of the solved model 0.27 ≤ 0.8. "
            "Needs U ≠ 0."
        ),
        "checkable": "model",
        "check_idea": (
            "Random (Φ, A, B, U, m): assert the closed-form LHS identity and PSD; solve fixed points (PR with "
            "Λ-weighted resolvent or FB on Φ⁻¹-monotone operator) and assert ‖Δz‖ ≤ ‖Φ⁻¹U‖/m·‖Δx‖; Jacobian form for "
            "random slope matrices."
        ),
        "owner": "catalogue",
    },
    {
        "id": "havens2023:thm3.4",
        "paper": "havens2023",
        "label": "thm3.4",
        "title": "1-Lipschitz G-MonDEQ → LBEN with Ψ = ‖Φ⁻¹U‖₂Φ, S = B/‖Φ⁻¹U‖₂, ε = 0",
        "statement": (
            "Given a 1-Lipschitz G-MonDEQ with (Φ, A, B, U), ‖Φ⁻¹U‖₂ ≤ m, the choice Ψ = ‖Φ⁻¹U‖₂Φ, G = I, "
            "S = B/‖Φ⁻¹U‖₂, ε = 0, VᵀV = (m/‖Φ⁻¹U‖₂ − 1/2)I + AᵀA/‖Φ⁻¹U‖₂ − Φ⁻¹UUᵀΦ⁻¹/(2‖Φ⁻¹U‖₂²) ⪰ 0, with the same "
            "U, gives a valid 1-Lipschitz LBEN generating exactly the same input–output map."
        ),
        "suspect": (
            "Correct under eq. (7). Numeric (n = 6, ‖Φ⁻¹U‖ = 0.8m): W_LBEN − W_GMonDEQ = 3.6e-15, λ_min(VᵀV) = 0.73. "
            "Proof 'omitted'; it is the same substitution as Thm 3.2."
        ),
        "checkable": "algebra",
        "check_idea": "As thm3.2 with random positive Φ.",
        "owner": "conversion",
    },
    {
        "id": "havens2023:eq14",
        "paper": "havens2023",
        "label": "eq14",
        "title": "SLL network written as a DEQ (block lower-triangular W, mixed activation)",
        "statement": (
            "With x̃_0 = x, x̃_{n+1} = σ(W_nᵀ(x̃_0 − Σ_{k=0}^{n−1} 2W_kT_k⁻¹x̃_{k+1}) + b_n), y = x̃_0 − Σ_{k=0}^{N−1} "
            "2W_kT_k⁻¹x̃_{k+1} (13): z = [x̃_0; …; x̃_N], φ = [id, σ, …, σ], U = [I; 0; …; 0], "
            "G = [I, −2W_0T_0⁻¹, …, −2W_{N−1}T_{N−1}⁻¹] and W with block row n+1 = [W_nᵀ, −2W_nᵀW_0T_0⁻¹, …, "
            "−2W_nᵀW_{n−1}T_{n−1}⁻¹, 0, …] (14)."
        ),
        "suspect": (
            "Index slips: (13) says n ∈ {1, …, N−1} and 'x̃_{n+1} (n ≥ 1)' — should be n ∈ {0, …, N−1}; "
            "z = [x̃_0, …, x̃_l] should end at x̃_N. The first block uses the identity activation, so the DEQ is not a "
            "plain ReLU DEQ (the project's DEQ class must support a per-coordinate identity mask or split x = σ(x) − σ(−x)). "
            "Numeric: DEQ output with (14) equals the SLL forward pass (N = 3)."
        ),
        "checkable": "algebra",
        "check_idea": "Random SLL (W_n, q_n, b_n): N+1 forward sweeps of the DEQ reproduce the explicit SLL output exactly.",
        "owner": "conversion",
    },
    {
        "id": "havens2023:appC",
        "paper": "havens2023",
        "label": "appC",
        "title": "SLL satisfies (10) with L = 1 and Λ = blkdiag(I, 2T_0⁻¹, …, 2T_{N−1}⁻¹)",
        "statement": (
            "With W, U, G from (14) and Λ = blkdiag(I, 2T_0⁻¹, …, 2T_{N−1}⁻¹) (15), L = 1, all off-diagonal blocks of the "
            "left side of (10) cancel, leaving blkdiag(0, 2T_0⁻¹ − 2T_0⁻¹W_0ᵀW_0T_0⁻¹, …, 2T_{N−1}⁻¹ − "
            "2T_{N−1}⁻¹W_{N−1}ᵀW_{N−1}T_{N−1}⁻¹) (21), which is ⪰ 0 because W_nᵀW_n ⪯ T_n. Hence (10) is feasible and "
            "SLL is 1-Lipschitz by Theorem 3.1."
        ),
        "suspect": (
            "Factor 2: with Λ as in (15) the diagonal blocks of LHS(10) are 4T_n⁻¹ − 4T_n⁻¹W_nᵀW_nT_n⁻¹ (since 2Λ "
            "contributes 4T_n⁻¹); the printed (21) is ½·LHS(10) = sym(M) = VᵀV of eq. (16). Conclusion (PSD) unaffected. "
            "Numeric (N = 3): off-diagonal blocks 0 and (0,0) block 0 exactly; each diagonal block equals 4T⁻¹ − 4T⁻¹WᵀWT⁻¹ "
            "(not 2T⁻¹ − …); LHS λ_min = 0 (singular, as expected)."
        ),
        "checkable": "algebra",
        "check_idea": (
            "Random SLL: assemble LHS(10) densely; assert off-diagonal blocks vanish, (0,0) block = 0, diagonal blocks = "
            "4T⁻¹ − 4T⁻¹WᵀWT⁻¹, and λ_min ≥ −tol (verified PSD with shift)."
        ),
        "owner": "conversion",
    },
    {
        "id": "havens2023:thm3.5",
        "paper": "havens2023",
        "label": "thm3.5",
        "title": "SLL → LBEN: Ψ = Λ⁻¹, VᵀV = ½(M + Mᵀ), S = ½M, ε = 0",
        "statement": (
            "Given any SLL structure {W_n, T_n} with W_nᵀW_n ⪯ T_n, the input–output map x → y is exactly recovered by "
            "LBEN with Ψ = Λ⁻¹ (15), G = [I, −2W_0T_0⁻¹, …, −2W_{N−1}T_{N−1}⁻¹], U = [I, 0, …, 0]ᵀ, "
            "VᵀV = ½(M + Mᵀ), S = ½M, ε = 0, where M = Λ(I − W) − ½(GᵀG + ΛUUᵀΛ) and W is (14). Also Ψ = diag(exp(d_i)) "
            "gives unconstrained fine-tuning variables."
        ),
        "suspect": (
            "Sign: under the project's eq. (7) (skew term Sᵀ − S) the printed S = ½M reconstructs W only if M is "
            "symmetric, which it is not (Λ(I − W) is block-triangular). Correct: S = −½M (≡ ½Mᵀ); S = ½M is right for "
            "eq. (2)'s S − Sᵀ. Numeric (N = 3): ‖W_LBEN − W_SLL‖_max = 2.44 with S = M/2, 3.2e-15 with S = −M/2 or Mᵀ/2. "
            "½(M + Mᵀ) has an exactly zero leading block (ε must be 0; use eigh with clipping, not sqrtm). The LBEN "
            "needs the identity activation on block 0. ε = 0 ⇒ only the non-strict (10): well-posedness after fine-tuning "
            "is not guaranteed by Prop 2.2."
        ),
        "checkable": "algebra",
        "check_idea": (
            "Random SLL (q-weighted T): compute M, VᵀV = sym(M) (assert PSD, block-diagonal (16)), V by clipped eigh, "
            "S per project sign; assert (7) reproduces (14) to rounding and DEQ outputs equal SLL outputs; regression "
            "test documents that the printed S = M/2 fails under eq. (7)."
        ),
        "owner": "conversion",
    },
    {
        "id": "havens2023:eq16",
        "paper": "havens2023",
        "label": "eq16",
        "title": "VᵀV for SLL → LBEN is block-diagonal: (VᵀV)_nn = 2T_n⁻¹ − 2T_n⁻¹W_nᵀW_nT_n⁻¹",
        "statement": (
            "The expression for VᵀV in Thm 3.5 is block-diagonal with a leading zero block and remaining blocks "
            "(VᵀV)_nn = 2T_n⁻¹ − 2T_n⁻¹W_nᵀW_nT_n⁻¹ (16) for n ∈ {1, …, N−1}; obviously PSD. The reparameterization "
            "works for SLL and CPL (T_n = ‖W_n‖₂²I)."
        ),
        "suspect": (
            "Index range should be n ∈ {0, …, N−1} (one block per SLL layer, N blocks after the zero block). Formula "
            "itself verified: sym(M) blocks equal 2T_n⁻¹ − 2T_n⁻¹W_nᵀW_nT_n⁻¹ (N = 3, all blocks) — i.e. (16) is right and "
            "(21) is off by the factor 2 noted in appC."
        ),
        "checkable": "algebra",
        "check_idea": "Random SLL and CPL: assert sym(M) equals blkdiag(0, (16) blocks) to rounding and each block is PSD.",
        "owner": "conversion",
    },
    {
        "id": "havens2023:appA",
        "paper": "havens2023",
        "label": "appA",
        "title": "Parameterizing 1-Lipschitz (G-)MonDEQ",
        "statement": (
            "MonDEQ is ‖U‖₂/m-Lipschitz; U = mP with P orthogonal makes it 1-Lipschitz. G-MonDEQ is ‖Φ⁻¹U‖₂/m-Lipschitz; "
            "to keep a bound L one may enforce Φ_ii ≥ 1/(Lm) and UᵀU ⪯ I."
        ),
        "suspect": (
            "None: ‖Φ⁻¹U‖₂ ≤ ‖Φ⁻¹‖₂‖U‖₂ ≤ Lm·1. (P 'orthogonal' must be semi-orthogonal if U is rectangular.)"
        ),
        "checkable": "algebra",
        "check_idea": "Random Φ with Φ_ii ≥ 1/(Lm), U with ‖U‖ ≤ 1: assert ‖Φ⁻¹U‖₂/m ≤ L; U = mP: ‖U‖₂/m = 1.",
        "owner": "catalogue",
    },
    {
        "id": "havens2023:appD1",
        "paper": "havens2023",
        "label": "appD1",
        "title": "AOL network → LBEN with Λ = Ψ = I, L = 1",
        "statement": (
            "For the AOL network x_{j+1} = φ(W_jD_jx_j + b_j), f(x) = W_lD_lx_l + b_l (D_j from (8)), the DEQ with "
            "z = [x_1; …; x_l], U = [(W_0D_0)ᵀ, 0, …]ᵀ, G = [0, …, W_lD_l], W block-subdiagonal with blocks W_jD_j "
            "satisfies the non-strict condition (10) with Λ = I, L = 1; defining M and S as in Thm 3.5, "
            "VᵀV = ½(M + Mᵀ) ⪰ 0, and with Ψ = I the LBEN parameterization (7) recovers W."
        ),
        "suspect": (
            "Same sign issue as thm3.5: under eq. (7) S must be −½M. Numeric (4 AOL layers): LHS(10) λ_min = 0.313 ≥ 0; "
            "‖W_LBEN − W‖_max = 0.68 with S = M/2, 1.8e-15 with S = −M/2. ε = 0 implied."
        ),
        "checkable": "algebra",
        "check_idea": (
            "Random AOL stack: assert LHS(10) ⪰ 0 with Λ = I (proof: 2z_{j+1}ᵀA_jz_j ≤ ‖z_{j+1}‖² + ‖z_j‖² with ‖A_j‖ ≤ 1), "
            "reconstruct W from (7) with project sign, and equal DEQ/AOL outputs."
        ),
        "owner": "conversion",
    },
    {
        "id": "havens2023:appD2",
        "paper": "havens2023",
        "label": "appD2",
        "title": "Sandwich network → LBEN with Λ = diag(Φ_0², …, Φ_{N−1}²)",
        "statement": (
            "Rewriting Sandwich as y_{n+1} = σ(2Φ_n⁻¹B_nA_{n−1}ᵀΦ_{n−1}y_n + b_n), output √(2L)B_NA_{N−1}ᵀΦ_{N−1}y_N + b_N, "
            "the DEQ has z = [y_1; …; y_N], U = [(√(2L)Φ_0⁻¹B_0)ᵀ, 0, …]ᵀ, G = [0, …, √(2L)B_NA_{N−1}ᵀΦ_{N−1}], "
            "W block-subdiagonal with blocks 2Φ_n⁻¹B_nA_{n−1}ᵀΦ_{n−1} (22). Any Sandwich network is exactly recovered by "
            "LBEN with Λ = diag(Φ_0², …, Φ_{N−1}²), Ψ = Λ⁻¹, VᵀV = ½(M + Mᵀ), S = ½M, ε = 0, "
            "M = Λ(I − W) − (1/(2L))(GᵀG + ΛUUᵀΛ)."
        ),
        "suspect": (
            "Sign: S = ½M fails under eq. (7); S = −½M works (numeric, N = 3, L = 2: ‖W_LBEN − W‖_max = 1.95 vs 4.4e-16). "
            "Φ_n must be positive (text says non-negative and once calls it Ψ_n). sym(M) ⪰ 0 verified (λ_min = −1e-15). "
            "DEQ rewrite verified: DEQ output = Sandwich output."
        ),
        "checkable": "algebra",
        "check_idea": (
            "Random semi-orthogonal [A_n B_n], positive Φ_n, B_N with orthonormal columns: assert DEQ (22) reproduces the "
            "Sandwich forward pass, sym(M) ⪰ 0, and (7) with project-sign S reconstructs W."
        ),
        "owner": "conversion",
    },
    {
        "id": "havens2023:eq23",
        "paper": "havens2023",
        "label": "eq23",
        "title": "Closed-form V for the Sandwich → LBEN conversion",
        "statement": (
            "V has the analytical form V = [[A_0ᵀΦ_0, B_1ᵀΦ_1, 0, …], [0, A_1ᵀΦ_1, B_2ᵀΦ_2, …], …, "
            "[…, A_{N−1}ᵀΦ_{N−1}, B_NᵀΦ_N]] (23) (block upper-bidiagonal)."
        ),
        "suspect": (
            "As printed VᵀV ≠ ½(M + Mᵀ): the last block row references Φ_N (undefined; z has only N blocks) and the sign "
            "of the B-blocks is wrong. Derived: sym(M)_00 = Φ_0A_0A_0ᵀΦ_0, sym(M)_nn = Φ_n² (0 < n < N−1), "
            "sym(M)_{N−1,N−1} = Φ_{N−1}B_{N−1}B_{N−1}ᵀΦ_{N−1}, sym(M)_{n,n−1} = −Φ_nB_nA_{n−1}ᵀΦ_{n−1}. Corrected: "
            "V has N − 1 block rows r = 0, …, N−2 with blocks A_rᵀΦ_r (column r) and −B_{r+1}ᵀΦ_{r+1} (column r+1). "
            "Numeric (N = 3, L = 2): printed form (last column dropped) ‖VᵀV − sym M‖_max = 2.24; corrected 1.3e-15. "
            "(N = 1: V is empty and sym(M) = 0.)"
        ),
        "checkable": "algebra",
        "check_idea": (
            "Random Sandwich instance: assert corrected V satisfies VᵀV = sym(M) to rounding (dense oracle) and that the "
            "printed V fails on the fixed seed."
        ),
        "owner": "conversion",
    },
    {
        "id": "havens2023:sec4.1",
        "paper": "havens2023",
        "label": "sec4.1",
        "title": "Convolutional LBEN: ½(M + Mᵀ) stays a circular convolution; V from per-frequency square roots",
        "statement": (
            "Circular-padded convolutions are closed under sum, product and inverse, hence all operations forming M "
            "preserve the convolution structure and ½(M + Mᵀ) is a circular convolution; V is found as its matrix square "
            "root via the block-diagonalization of circular convolutions. The inverse or square root of a 3×3-kernel "
            "convolution on an n×n input is a convolution with an n×n kernel."
        ),
        "suspect": (
            "Closure holds for circular convolutions with equal grid size; transposes correspond to flipped, "
            "channel-permuted kernels (conjugate per frequency). Per-frequency PSD square roots with Hermitian eigh give "
            "real kernels only if the conjugate-symmetric frequencies are treated consistently (FACTS.md)."
        ),
        "checkable": "algebra",
        "check_idea": (
            "Small multi-channel circular convs: dense M vs per-frequency computation; assert sym(M) is block-circulant, "
            "per-frequency sqrt gives a real kernel whose dense VᵀV equals dense sym(M)."
        ),
        "owner": "conversion",
    },
    {
        "id": "havens2023:eq25",
        "paper": "havens2023",
        "label": "eq25",
        "title": "FFT block-diagonalization of a multi-channel circular convolution",
        "statement": (
            "For a doubly-block circulant W ∈ ℝ^{c_out n² × c_in n²} with kernel K ∈ ℝ^{c_out×c_in×n×n}: "
            "W = (I_{c_out} ⊗ F_n) S_{c_out} D̂ S_{c_in}ᵀ (I_{c_in} ⊗ F_n⁻¹) (25), S permutations, F_n = U_n ⊗ U_n, U_n a "
            "Fourier basis matrix, D̂ block-diagonal with n² blocks of size c_out × c_in, "
            "D̂ = S_{c_out}ᵀ [F_n vec(K_{i,j})]_{i,j} S_{c_in}. 'We may compute the inverse or square root of W … by "
            "performing these operations only on the n diagonal blocks.' Context (24): W vec(x) = vec(K ⋆ x), "
            "W = blkcirc(K_0, …, K_{n−1}), K_i = circ(K_{i,:})."
        ),
        "suspect": (
            "(i) The (i, j) entry of the bracket must be read as diag(F_n vec(K_{i,j})) (a vector cannot be a block). "
            "(ii) 'the n diagonal blocks' should be n² blocks. (iii) Convention-dependent: with unnormalized DFT U_n, "
            "W = F D̂ F⁻¹ with D̂ = diag(F vec K) holds exactly for circular cross-correlation (PyTorch conv2d), while true "
            "convolution (24) needs W = F⁻¹D̂F; with unitary U_n the eigenvalues are n·F vec K. Numeric (n = 4): "
            "unnormalized+xcorr: F D F⁻¹ = W ✓; unnormalized+conv: F⁻¹ D F = W ✓, F D F⁻¹ ≠ W; unitary: neither. "
            "Multi-channel ‖W‖₂ = max_ω σ_max(K̂(ω)) = 10.1847 (dense = FFT)."
        ),
        "checkable": "algebra",
        "check_idea": (
            "Dense oracle: materialize W for random K (both conv conventions), compare with the FFT factorization in the "
            "project's declared convention; per-frequency inverse/sqrt/spectral norm equal dense results; adjointness "
            "⟨y, Wx⟩ = ⟨Wᵀy, x⟩."
        ),
        "owner": "conversion",
    },
    # =====================================================================================
    # jafarpour2022 — Jafarpour et al., non-Euclidean contraction (file 004)
    # =====================================================================================
    {
        "id": "jafarpour2022:sec3.defs",
        "paper": "jafarpour2022",
        "label": "sec3.defs",
        "title": "Weighted ℓ∞ norm/measure and Metzler split",
        "statement": (
            "[B]⁺ = max(B, 0), [B]⁻ = min(B, 0). Metzler part ⌈A⌉^Mzl: (⌈A⌉^Mzl)_ij = A_ij if A_ij ≥ 0 or i = j, else 0; "
            "non-Metzler part ⌊A⌋^Mzl = A − ⌈A⌉^Mzl. ‖x‖_{∞,[η]⁻¹} = max_i |x_i|/η_i; "
            "μ_{∞,[η]⁻¹}(A) = max_i (A_ii + Σ_{j≠i} (η_j/η_i)|A_ij|); μ₂(A) = ½λ_max(A + Aᵀ); α-average map "
            "F_α(x, u) = (1 − α)x + αF(x, u), α ∈ (0, 1]."
        ),
        "suspect": (
            "Consistency: μ_{∞,[η]⁻¹}(A) = μ∞([η]⁻¹A[η]) is the measure induced by ‖x‖_{∞,[η]⁻¹} — this fixes the "
            "direction of η in eq12. The Metzler split keeps the whole diagonal in ⌈A⌉ (differs from W₊/W₋ on the "
            "diagonal). The inclusion-function definition item 2 'F̲(x, x) = F(x, x) = f(x)' should read F̲(x, x) = "
            "F̄(x, x) = f(x)."
        ),
        "checkable": "definition",
        "check_idea": (
            "μ equals lim_{h↓0}(‖I + hA‖ − 1)/h in the weighted norm (finite difference); ⌈A⌉ + ⌊A⌋ = A, ⌈A⌉ Metzler, "
            "⌊A⌋ ≤ 0 with zero diagonal."
        ),
        "owner": "catalogue",
    },
    {
        "id": "jafarpour2022:eq1",
        "paper": "jafarpour2022",
        "label": "eq1",
        "title": "An inclusion function encloses the image of a box",
        "statement": "If F is an inclusion function for f then f([x, x̂]) ⊆ [F̲(x, x̂), F̄(x, x̂)] for all x ≤ x̂ (1).",
        "suspect": "None (follows from items 1–2 of the definition with corrected item 2).",
        "checkable": "model",
        "check_idea": "For the embedded-network inclusion function (thm6.3) sample points in boxes and assert enclosure.",
        "owner": "catalogue",
    },
    {
        "id": "jafarpour2022:thm4.1",
        "paper": "jafarpour2022",
        "label": "thm4.1",
        "title": "Tight inclusion function is at least as sharp as the ℓ∞ Lipschitz box",
        "statement": (
            "Let f : ℝ^r → ℝ^q be continuous and F = [F̲; F̄] its tight inclusion function (3). Then for every x̲ ≤ x̄: "
            "‖F̄(x̲, x̄) − F̲(x̲, x̄)‖∞ ≤ Lip_∞^{[x̲, x̄]}(f)‖x̲ − x̄‖∞."
        ),
        "suspect": "Proof indexes i ∈ {1, …, k}; should be {1, …, q}. (3) says i ∈ {1, …, n}; should be q.",
        "checkable": "model",
        "check_idea": (
            "f linear (f(x) = Ax + c): tight inclusion width = |A|(x̄ − x̲), Lip∞ = ‖A‖∞ — assert inequality (equality "
            "for cubes); small DEQ with r = 1 or 2: tight inclusion by dense grid (+ Lipschitz slack) vs Thm 6.1 bound."
        ),
        "owner": "catalogue",
    },
    {
        "id": "jafarpour2022:thm5.1",
        "paper": "jafarpour2022",
        "label": "thm5.1",
        "title": "μ_{∞,[η]⁻¹}(W) < 1 ⇒ well-posed; α-average iteration contracts for α ≤ 1/(1 − min_i [W_ii]⁻)",
        "statement": (
            "Consider the implicit network (4) z = Φ(Wz + Ux + b), y = Cz + c, each φ_i weakly increasing and "
            "non-expansive. Given η ∈ ℝⁿ_{>0}, if μ_{∞,[η]⁻¹}(W) < 1 then: 1. the fixed-point equation (4) is well-posed "
            "(unique fixed point); 2. for every α ∈ (0, (1 − min_i [W_ii]⁻)⁻¹] the α-average iteration z^{k+1} = N_α(z^k) "
            "is contracting w.r.t. ‖·‖_{∞,[η]⁻¹} and converges to the unique fixed point."
        ),
        "parts": [
            "1. existence and uniqueness of the fixed point.",
            "2. contraction of N_α in ‖·‖_{∞,[η]⁻¹} for α ∈ (0, 1/(1 − min_i min(W_ii, 0))] (rate ≤ 1 − α(1 − μ⁺), derived).",
        ],
        "suspect": (
            "Contraction factor not printed; the argument gives ≤ 1 − α(1 − max(μ, 0)) (requires 1 − α + αd_iW_ii ≥ 0, "
            "which is exactly the α bound). Numeric (n = 8, μ = 0.5, strongly negative diagonal, ρ(|W|) = 6.6): observed "
            "ratios 0.62, 0.74, 0.37 ≤ 1 − α(1 − μ⁺) = 0.924."
        ),
        "checkable": "model",
        "check_idea": (
            "W with μ_{∞,[η]⁻¹}(W) < 1 (incl. negative diagonals, ρ(|W|) > 1): pairs z₁, z₂ → ratio of weighted norms "
            "≤ 1 − α(1 − μ⁺); iteration converges to the same point from different starts; fixed point residual ≈ 0. "
            "Negative: α slightly above the bound with very negative W_ii can fail to contract."
        ),
        "owner": "catalogue",
    },
    {
        "id": "jafarpour2022:remark5.2",
        "paper": "jafarpour2022",
        "label": "remark5.2",
        "title": "Comparison with λ_pf(|W|) < 1, ‖W‖∞ < 1 and μ₂(W) ≤ γ",
        "statement": (
            "1. (El Ghaoui et al.) well-posedness condition λ_pf(|W|) < 1; Theorem 5.1(1) is less conservative than "
            "λ_pf(|W|) < 1 and its convex relaxation ‖W‖∞ < 1. 2. (Winston & Kolter) I_n − ½(W + Wᵀ) ⪰ (1 − γ)I_n ⇔ "
            "μ₂(W) ≤ γ, so the framework is the non-Euclidean version of the monotone-operator setting."
        ),
        "parts": [
            "1. {W : λ_pf(|W|) < 1} ⊆ {W : ∃η > 0, μ_{∞,[η]⁻¹}(W) < 1} (strict inclusion), and ‖W‖∞ < 1 ⇒ λ_pf(|W|) < 1.",
            "2. I − sym(W) ⪰ (1 − γ)I ⇔ μ₂(W) ≤ γ.",
        ],
        "suspect": (
            "Part 1 is true: η = Perron vector of |W| gives μ_{∞,[η]⁻¹}(W) ≤ ‖|W|‖_{∞,[η]⁻¹} = λ_pf(|W|) (numeric: 0.900 "
            "for λ_pf = 0.9 while ‖W‖∞ = 1.35); strictness witness W = −2I (μ = −2, λ_pf = 2). Relation to wei2022: "
            "ρ(|W|) < 1 is exactly the wei2022 thm3.3 class. Part 2 is immediate."
        ),
        "checkable": "algebra",
        "check_idea": (
            "(1) random W scaled to λ_pf(|W|) < 1: with η the Perron vector (perturbed if reducible) assert μ < 1; "
            "witness −2I; ‖W‖∞ < 1 ⇒ λ_pf(|W|) ≤ ‖W‖∞. (2) random W, γ: compare λ_min(I − sym W) − (1 − γ) and γ − μ₂(W) "
            "(same sign)."
        ),
        "owner": "catalogue",
    },
    {
        "id": "jafarpour2022:thm6.1",
        "paper": "jafarpour2022",
        "label": "thm6.1",
        "title": "ℓ∞ input–output Lipschitz bound (η_max/η_min)‖U‖∞‖C‖∞/(1 − μ⁺)",
        "statement": (
            "Consider (4) with input–output map f_N(x) = Cz*_x + c (5). Let η ∈ ℝⁿ_{>0} be such that μ_{∞,[η]⁻¹}(W) < 1. "
            "1. Lip∞(f_N) ≤ (η_max/η_min)·‖U‖∞‖C‖∞/(1 − μ_{∞,[η]⁻¹}(W)⁺). 2. For every x, x′, with "
            "ξ := (η_max/η_min)‖U‖∞‖C‖∞‖x − x′‖∞/(1 − μ⁺): f_N(x′) ∈ [f_N(x) − ξ𝟙_q, f_N(x) + ξ𝟙_q]."
        ),
        "parts": ["1. Lipschitz bound.", "2. box containment f_N(x′) ∈ f_N(x) ± ξ𝟙."],
        "suspect": (
            "None; a sharper bound with the same proof is ‖C[η]‖∞‖[η]⁻¹U‖∞/(1 − μ⁺) (numeric: 94.8 vs printed 143.6, "
            "empirical 1.63 on a random 8-neuron model)."
        ),
        "checkable": "model",
        "check_idea": (
            "Random W with μ < 1, U, C: estimate Lip∞ from solved fixed points at random pairs and Jacobians "
            "C(I − DW)⁻¹DU for random slope matrices D ∈ [0,1]; assert ≤ sharper ≤ printed bound; part 2 on sampled x′."
        ),
        "owner": "catalogue",
    },
    {
        "id": "jafarpour2022:remark6.2",
        "paper": "jafarpour2022",
        "label": "remark6.2",
        "title": "Comparison with El Ghaoui's ‖U‖∞‖C‖∞/(1 − ‖W‖∞) and Pabbaraju's ℓ₂ bound",
        "statement": (
            "1. (El Ghaoui et al.) Lip∞(f_N) ≤ ‖U‖∞‖C‖∞/(1 − ‖W‖∞); since μ∞(W) ≤ ‖W‖∞, Theorem 6.1(1) is sharper. "
            "2. (Pabbaraju et al.) ℓ₂ input–output bounds are restricted to ReLU activations and cannot be extended to "
            "more general activation functions."
        ),
        "parts": [
            "1. with η = 𝟙: 1/(1 − μ∞(W)⁺) ≤ 1/(1 − ‖W‖∞) whenever ‖W‖∞ < 1.",
            "2. Pabbaraju's ℓ₂ bound is ReLU-only.",
        ],
        "suspect": (
            "Part 2 is contradicted by havens2023 thm3.1: the bound ‖U‖₂/m holds for every activation slope-restricted "
            "on [0, 1] (Λ = I/‖U‖₂, L = ‖U‖₂/m in (10)); only Pabbaraju's proof (α → 0 with the α-independent ReLU prox) "
            "is ReLU-specific. Numeric: 2000 random MonDEQs × slope matrices D ∈ [0,1]: max ‖(I − DW)⁻¹DU‖₂·m/‖U‖₂ = 0.65."
        ),
        "checkable": "algebra",
        "check_idea": (
            "(1) random W with ‖W‖∞ < 1: assert μ∞(W)⁺ ≤ ‖W‖∞. (2) test pabbaraju2021:thm1 with tanh/sigmoid-type "
            "slope matrices (Jacobian form) — the bound holds, refuting the 'cannot be extended' claim as a statement "
            "about the bound."
        ),
        "owner": "catalogue",
    },
    {
        "id": "jafarpour2022:eq6",
        "paper": "jafarpour2022",
        "label": "eq6",
        "title": "Embedded implicit network (Metzler split), lower bound first",
        "statement": (
            "[z̲; z̄] = [Φ(⌈W⌉^Mzl z̲ + ⌊W⌋^Mzl z̄ + [U]⁺x̲ + [U]⁻x̄ + b); Φ(⌈W⌉^Mzl z̄ + ⌊W⌋^Mzl z̲ + [U]⁺x̄ + [U]⁻x̲ + b)], "
            "[y̲; ȳ] = [[C]⁺, [C]⁻; [C]⁻, [C]⁺][z̲; z̄] + [c; c] (6); N^E(z, ẑ, x, x̂) := Φ(⌈W⌉z + ⌊W⌋ẑ + [U]⁺x + [U]⁻x̂ + b)."
        ),
        "suspect": (
            "Misprint: the left side is printed [x̲; x̄] and the output map multiplies [x̲; x̄]; both should be [z̲; z̄]. "
            "Ordering is lower-first (wei2022 is upper-first). The μ∞ condition of the embedded Jacobian with weight "
            "η ⊗ 𝟙₂ equals μ_{∞,[η]⁻¹}(W) (diagonal stays in the Metzler part), which is why Theorem 5.1's condition "
            "suffices."
        ),
        "checkable": "definition",
        "check_idea": "Definition; see thm6.3. Unit check: with W = 0 it reduces to exact interval arithmetic for an affine+monotone layer.",
        "owner": "catalogue",
    },
    {
        "id": "jafarpour2022:thm6.3",
        "paper": "jafarpour2022",
        "label": "thm6.3",
        "title": "Embedded network fixed point gives an inclusion function (box) for f_N",
        "statement": (
            "Consider (4). Let η ∈ ℝⁿ_{>0} with μ_{∞,[η]⁻¹}(W) < 1. Then for α ∈ (0, (1 − min_i (W_ii)⁻)⁻¹]: "
            "1. the α-average iterations [z̲^{k+1}; z̄^{k+1}] = [N^E_α(z̲^k, z̄^k, x̲, x̄); N^E_α(z̄^k, z̲^k, x̄, x̲)] are "
            "contracting w.r.t. ‖·‖_{∞, I₂⊗[η]⁻¹} and converge to the unique fixed point [z̲*; z̄*] of (6); 2. the "
            "α-average iterations z^{k+1} = N_α(z^k, x) are contracting w.r.t. ‖·‖_{∞,[η]⁻¹} and converge to the unique "
            "fixed point z* ∈ [z̲*, z̄*] of (4); 3. the tight inclusion function F_N of f_N satisfies "
            "F̲_N(x̲, x̄) ≥ [C]⁺z̲* + [C]⁻z̄* + c =: G̲_N(x̲, x̄) and F̄_N(x̲, x̄) ≤ [C]⁺z̄* + [C]⁻z̲* + c =: Ḡ_N(x̲, x̄); "
            "4. for every x ∈ [x̲, x̄], f_N(x) ∈ [G̲_N(x̲, x̄), Ḡ_N(x̲, x̄)]."
        ),
        "parts": [
            "1. embedded iteration contracts (weight I₂ ⊗ [η]⁻¹) and converges.",
            "2. original iteration contracts; z* ∈ [z̲*, z̄*] (for x ∈ [x̲, x̄]).",
            "3. G_N brackets the tight inclusion function.",
            "4. f_N(x) ∈ [G̲_N, Ḡ_N] for x ∈ [x̲, x̄].",
        ],
        "suspect": (
            "Item 2 omits 'for x ∈ [x̲, x̄]'. Numeric (n = 8, μ = 0.5, ρ(|W|) = 6.6, ε = 0.2): 500 sampled fixed points all "
            "inside [z̲*, z̄*]; box width 0.077 (Metzler) vs 2.06 for the IBP split on the same W."
        ),
        "checkable": "model",
        "check_idea": (
            "W with μ < 1 incl. negative diagonals; solve (6) by the α-average iteration; sample x in the box (uniform + "
            "corners), solve z*, assert z̲* ≤ z* ≤ z̄* and G̲ ≤ Cz* + c ≤ Ḡ with residual slack; contraction ratio of the "
            "embedded map in I₂ ⊗ [η]⁻¹ ≤ 1 − α(1 − μ⁺)."
        ),
        "owner": "catalogue",
    },
    {
        "id": "jafarpour2022:remark6.4.1",
        "paper": "jafarpour2022",
        "label": "remark6.4.1",
        "title": "α-average maps are forward-Euler steps of contracting ODEs",
        "statement": (
            "N^E_α (resp. N_α) is the forward Euler discretization with step α of d/dt[x̲; x̄] = −[x̲; x̄] + "
            "[N^E(x̲, x̄, u̲, ū); N^E(x̄, x̲, ū, u̲)] (resp. dx/dt = −x + N(x, u)); μ_{∞,[η]⁻¹}(W) < 1 makes these systems "
            "contracting w.r.t. ‖·‖_{∞,[η]⁻¹}."
        ),
        "suspect": "None (the ODE's one-sided Lipschitz constant is −1 + μ⁺ < 0).",
        "checkable": "algebra",
        "check_idea": "Assert z + α(−z + N(z)) = N_α(z) exactly; contraction rate of the ODE via matrix measure of −I + DW ≤ −(1 − μ⁺).",
        "owner": "catalogue",
    },
    {
        "id": "jafarpour2022:remark6.4.2",
        "paper": "jafarpour2022",
        "label": "remark6.4.2",
        "title": "Box bounds cost two forward passes",
        "statement": "In evaluation time, computing the ℓ∞-norm box bounds on the output is equivalent to two forward passes of the original implicit network.",
        "suspect": "Per iteration the embedded map needs two n-dimensional evaluations with split weights (four matvecs); iteration counts may differ from the nominal network.",
        "checkable": "asymptotic",
        "check_idea": "Count matvecs per embedded iteration (= 2× nominal with the split matrices precomputed); report iteration counts, no assertion on wall time.",
        "owner": "catalogue",
    },
    {
        "id": "jafarpour2022:remark6.4.3",
        "paper": "jafarpour2022",
        "label": "remark6.4.3",
        "title": "Feed-forward nets are implicit nets with μ < 1 for η = (δ, δ², …, δ^k); embedded fixed point = IBP",
        "statement": (
            "Implicit networks contain feed-forward networks: a k-layer fully-connected network with n neurons per "
            "layer has an implicit representation with block upper-diagonal W ∈ ℝ^{kn×kn} (El Ghaoui et al. §3.2). For "
            "small enough δ > 0 and η = (δ, δ², …, δ^k)ᵀ, μ_{∞,[η]⁻¹⊗I_n}(W) < 1. Then the fixed point of the embedded "
            "network (6) is unique, computable by back-substitution, and corresponds exactly to IBP (Gowal et al.)."
        ),
        "suspect": (
            "The weight should be η ⊗ 𝟙_n (printed '[η]⁻¹ ⊗ I_n'). The direction of η matters: η = (δ, …, δ^k) works "
            "for strictly block-upper-triangular W (row block i only reads blocks j > i, factor δ^{j−i}); for the "
            "block-lower-triangular convention (wei2022 prop3.7, havens2023 eq14) use η = (δ^k, …, δ). 'Exactly IBP' "
            "needs zero diagonal blocks (then ⌈W⌉ = W₊, ⌊W⌋ = W₋)."
        ),
        "checkable": "algebra",
        "check_idea": (
            "Random feed-forward net embedded as block-triangular W: assert μ_{∞,η⊗𝟙}(W) < 1 for δ small (and compute "
            "the threshold), embedded fixed point equals layer-by-layer IBP bounds exactly."
        ),
        "owner": "catalogue",
    },
    {
        "id": "jafarpour2022:remark6.4.4",
        "paper": "jafarpour2022",
        "label": "remark6.4.4",
        "title": "μ < 1 does not make the IBP (W₊/W₋) fixed point well-posed; the Metzler box is tighter",
        "statement": (
            "For Wei & Kolter's fixed point [z̲; z̄] = [Φ([W]⁺z̲ + [W]⁻z̄ + [U]⁺x̲ + [U]⁻x̄ + b); Φ([W]⁺z̄ + [W]⁻z̲ + "
            "[U]⁺x̄ + [U]⁻x̲ + b)], y-bounds as in (6): the condition μ_{∞,[η]⁻¹}(W) < 1 of Theorem 6.3 does not, in "
            "general, ensure its well-posedness. Since ⌈W⌉^Mzl ≤ [W]⁺ and [W]⁻ ≤ ⌊W⌋^Mzl, compared with G_N of "
            "Theorem 6.3(3) this iteration gives a more conservative estimate of reachable sets."
        ),
        "parts": [
            "1. μ_{∞,[η]⁻¹}(W) < 1 does not imply well-posedness of the IBP fixed point.",
            "2. ⌈W⌉^Mzl ≤ W₊ and W₋ ≤ ⌊W⌋^Mzl entrywise.",
            "3. When both are well-posed, the IBP box contains the Metzler box.",
        ],
        "suspect": (
            "OCR/misprints: '[U]⁻ū' should be [U]⁻x̄; left side printed [x̲; x̄] should be [z̲; z̄]. Witness for part 1 "
            "(checked): n = 1, W = −2, v̲ = v̄ = 1 (U = 0, b = 1): μ = −2 < 1 but the IBP system z̄ = σ(−2z̲ + 1), "
            "z̲ = σ(−2z̄ + 1) has three fixed points (1/3, 1/3), (1, 0), (0, 1) — the last an inverted 'box'; the "
            "Metzler system has the unique point 1/3. Part 3: numeric (n = 8) IBP width 2.06 ⊇ Metzler 0.077."
        ),
        "checkable": "model",
        "check_idea": (
            "Part 1: the n = 1 witness (enumerate fixed points exactly). Part 2: random W entrywise. Part 3: W with "
            "ρ(|W|) < 1 (both well-posed): assert IBP lower ≤ Metzler lower and Metzler upper ≤ IBP upper."
        ),
        "owner": "catalogue",
    },
    {
        "id": "jafarpour2022:eq8",
        "paper": "jafarpour2022",
        "label": "eq8",
        "title": "Lipschitz training relaxation of the robust loss",
        "statement": (
            "'Since the cross-entropy loss is convex, there exists λ > 0 such that ℒ(f_N(x^l), ŷ^l) ≤ ℒ(f_N(x̂^l), ŷ^l) + "
            "λ Lip∞(f_N)'; with Theorem 6.1(1) this gives the Lipschitz training problem (8): min Σ_l ℒ(f_N(x̂^l), ŷ^l) + "
            "λ(η_max/η_min)‖U‖∞‖C‖∞/(1 − μ_{∞,[η]⁻¹}(W)⁺) s.t. fixed-point constraints and μ_{∞,[η]⁻¹}(W) ≤ γ, γ < 1."
        ),
        "suspect": (
            "Justification is off: convexity is irrelevant; the inequality holds because CE(·, y) is 2-Lipschitz w.r.t. "
            "‖·‖∞ on logits (‖softmax − e_y‖₁ ≤ 2), so λ = 2ε works for x^l ∈ x̂^l ± ε𝟙."
        ),
        "checkable": "model",
        "check_idea": "Random logits z, perturbation ‖δ‖∞ ≤ ξ: assert CE(z + δ, y) ≤ CE(z, y) + 2ξ; hence the (8) penalty with λ = 2ε upper-bounds the robust loss.",
        "owner": "catalogue",
    },
    {
        "id": "jafarpour2022:eq10",
        "paper": "jafarpour2022",
        "label": "eq10",
        "title": "Lower bound on the relative classifier variable",
        "statement": (
            "m^x(x′) = f_N(x′)_i𝟙_q − f_N(x′) (9) (i the correct label of x), m^x(x′) = T^x C z*_{x′} + T^x c; "
            "m̲^x(x̲, x̄) = [T^xC]⁺z̲* + [T^xC]⁻z̄* + T^x c (10) is a lower bound for m^x(x′) for x′ ∈ [x̲, x̄]."
        ),
        "suspect": (
            "'m^x(x′)_j > 0 ∀j ≠ i iff x′ is labeled the same as x' — means labeled i (ties excluded). Folding T^xC "
            "before splitting (elision of the last layer) is what makes (10) tighter than bounding logits separately."
        ),
        "checkable": "model",
        "check_idea": "Solve (6) for a box; sample x′; assert m̲ ≤ T^x(Cz*_{x′} + c); compare with the looser bound from [y̲, ȳ] (must be ≤).",
        "owner": "catalogue",
    },
    {
        "id": "jafarpour2022:eq11",
        "paper": "jafarpour2022",
        "label": "eq11",
        "title": "Inclusion-function training objective",
        "statement": (
            "min Σ_l (1 − κ)ℒ(f_N(x̂^l), ŷ^l) + κℒ(−m̲^l, ŷ^l) subject to the embedded fixed point [z̲^l; z̄^l] (N^E), "
            "m̲^l = [T^lC]⁺z̲^l + [T^lC]⁻z̄^l + T^lc, z^l = N(z^l, x̂^l), μ_{∞,[η]⁻¹}(W) ≤ γ (11); uses "
            "ℒ(f_N(x^l), ŷ^l) ≤ ℒ(−m̲^l, ŷ^l) for all x^l ∈ [x̲^l, x̄^l] (Wong & Kolter Thm 2)."
        ),
        "suspect": "Definition; the bound ℒ(f_N(x)) ≤ ℒ(−m̲) uses that CE is invariant to shifts and monotone in the margins.",
        "checkable": "model",
        "check_idea": "Random model/box: assert CE(f_N(x′), i) ≤ CE(−m̲, i) for sampled x′ in the box.",
        "owner": "catalogue",
    },
    {
        "id": "jafarpour2022:eq12",
        "paper": "jafarpour2022",
        "label": "eq12",
        "title": "Unconstrained parameterization W = [η]⁻¹T[η] − diag(|T|𝟙) + γI giving μ_{∞,[η]⁻¹}(W) ≤ γ",
        "statement": (
            "The constraint μ_{∞,[η]⁻¹}(W) ≤ γ can be removed with W = [η]⁻¹T[η] − diag(|T|𝟙_n) + γI_n (12), "
            "T ∈ ℝ^{n×n} unconstrained."
        ),
        "suspect": (
            "With the paper's own μ_{∞,[η]⁻¹}(A) = max_i A_ii + Σ_{j≠i}(η_j/η_i)|A_ij|, the printed form gives "
            "off-diagonal terms (η_j/η_i)²|T_ij| that diag(|T|𝟙) does not cancel. Corrected: W = [η]T[η]⁻¹ − "
            "diag(|T|𝟙) + γI, for which [η]⁻¹W[η] = T − diag(|T|𝟙) + γI and μ = max_i(T_ii − |T_ii|) + γ ≤ γ. "
            "(The printed form is right for the reciprocal weight, μ_{∞,[η]}.) Numeric (n = 6, γ = 0.3, η ∈ [0.2, 5]): "
            "printed μ = 11.6, 60.8, 12.6; corrected μ = 0.300 in all three trials."
        ),
        "checkable": "algebra",
        "check_idea": (
            "Random T, η, γ: corrected form satisfies μ_{∞,[η]⁻¹}(W) ≤ γ (equality when some T_ii ≥ 0); printed form "
            "fails on the fixed seed; every W with μ ≤ γ is reachable (T = [η]⁻¹(W − γI)[η] off-diagonal, adjust diagonal)."
        ),
        "owner": "catalogue",
    },
    {
        "id": "jafarpour2022:eq12.conv",
        "paper": "jafarpour2022",
        "label": "eq12.conv",
        "title": "[project's own claim] Conv NEMON: eq. (12) (corrected) with a conv T and per-channel η is a conv W with μ ≤ γ",
        "statement": (
            "Not printed in the paper; the project's own claim for the corrected eq. (12) (jafarpour2022:eq12) with "
            "a circular convolution T of kernel K_T (c, c, k, k), k ≤ N, η > 0 per channel (η̃ = η per pixel), γ < 1. "
            "W = [η̃]T̃[η̃]⁻¹ − diag(|T̃|𝟙) + γI is the circular convolution with kernel K_W[o, i, t] = η_o K_T[o, i, t]/η_i, "
            "except the origin tap t₀ = ((k − 1)//2, (k − 1)//2) of K_W[c, c], which is K_T[c, c, t₀] − "
            "Σ_{i,t}|K_T[c, i, t]| + γ (k ≤ N: the taps do not alias, so every pixel row of channel c of T̃ has "
            "absolute mass Σ_{i,t}|K_T[c, i, t]|). Hence μ_{∞,[η̃]⁻¹}(W) = γ + max_c (K_T[c, c, t₀] − |K_T[c, c, t₀]|) ≤ γ."
        ),
        "suspect": "k > N: taps alias, the row mass of T̃ can be smaller than Σ|K_T| and the diagonal term no longer "
                   "cancels it exactly; the library refuses k > N.",
        "checkable": "algebra",
        "check_idea": (
            "Random K_T, η, γ (small c, N, k = 1..N): the kernel of ConvNonEuclidean materialises (conv_matrix) to the "
            "dense corrected (12) on T̃, η̃; μ_{∞,[η̃]⁻¹}(W) of the dense matrix is ≤ γ and equals γ + max_c 2 min(T_cc0, 0)."
        ),
        "owner": "catalogue",
    },
    {
        "id": "jafarpour2022:thm6.3.conv",
        "paper": "jafarpour2022",
        "label": "thm6.3.conv",
        "title": "[project's own claim] μ∞ of a conv W and of its Metzler lift from the c × c Metzler mass",
        "statement": (
            "Not printed in the paper; the project's own matrix-free form of Thm 5.1 / Thm 6.3 for a circular "
            "convolution W with kernel K (c, c, k, k), k ≤ N. Let A_M[c, c] = K[c, c, t₀] + Σ_{t≠t₀}|K[c, c, t]| "
            "(signed origin tap) and A_M[o, i] = Σ_t |K[o, i, t]| (o ≠ i). For η > 0 per channel, "
            "μ_{∞,[η̃]⁻¹}(W) = max_c (A_M η)_c/η_c, with equality (every pixel row of channel c has exactly these "
            "weighted sums). The embedded network's lift (eq. 6) Ŵ = [[⌈W⌉ᴹ, ⌊W⌋ᴹ], [⌊W⌋ᴹ, ⌈W⌉ᴹ]] is the 2c-channel "
            "circular conv with kernel [[A, B], [B, A]], B = the negative taps except the origin taps of K[c, c], "
            "A = K − B, and μ_{∞,[η̃;η̃]⁻¹}(Ŵ) = max_c (A_M η)_c/η_c as well. For any A_up ≥ A_M entrywise, "
            "max_c (A_up η)_c/η_c bounds both: μ < 1 proves the DEQ and the embedded network well posed and the "
            "α-averaged iteration (α ≤ 1/(1 − min_c min(K[c, c, t₀], 0))) a contraction (Thm 5.1), so the embedded "
            "box contains z*(v) on the input box (Thm 6.3)."
        ),
        "suspect": "k > N breaks the tap-to-entry correspondence (taps alias); the library refuses k > N.",
        "checkable": "algebra",
        "check_idea": (
            "Small c, N, k (k = 1..N, odd and even): materialise W and the lift kernel with conv_matrix; the lift equals "
            "intervals.metzler_lift(W) exactly; linalg.mu_inf of W and of the lift with [η̃; η̃] equal "
            "max_c (A_M η)_c/η_c and are ≤ the certified μ; metzler_mass_upper ≥ exact rational A_M; the verifier "
            "refuses a perturbed η and a smaller recorded μ."
        ),
        "owner": "catalogue",
    },
    {
        "id": "jafarpour2022:eq13",
        "paper": "jafarpour2022",
        "label": "eq13",
        "title": "ℓ∞ Lipschitz margin certificate",
        "statement": (
            "For (4) with μ_{∞,[η]⁻¹}(W) < 1: if f_N(x)_i − max_{j≠i} f_N(x)_j − 2(η_max/η_min)‖U‖∞‖C‖∞ε/(1 − μ⁺) ≥ 0 "
            "(13), the network is certified adversarially robust with radius ε at x (Theorem 6.1(2))."
        ),
        "suspect": (
            "With '≥ 0' a tie (f_i = f_j at a perturbed input) is allowed; for an unambiguous label use > 0. Also the "
            "certified-robustness definition of §8 is printed with max_{v∈ℝ^r} — it must be a minimum over x′ with "
            "‖x − x′‖∞ ≤ ε (see sec8.def)."
        ),
        "checkable": "model",
        "check_idea": (
            "Random small model: for points where (13) > 0, sample/attack the ε-box (PGD on the solved DEQ, corners) and "
            "assert the predicted label never changes; certified set by (13) ⊆ set certified by (14) is not guaranteed, "
            "so compare only soundness."
        ),
        "owner": "catalogue",
    },
    {
        "id": "jafarpour2022:eq14",
        "paper": "jafarpour2022",
        "label": "eq14",
        "title": "Inclusion-function (embedded network) certificate",
        "statement": (
            "For (4) with μ_{∞,[η]⁻¹}(W) < 1 and i the correct label of x: if min_{j≠i} m̲^x_j(x − ε𝟙_r, x + ε𝟙_r) ≥ 0 (14), "
            "the network is certified adversarially robust with radius ε."
        ),
        "suspect": "Same tie issue as eq13 (use > 0). Sound only with the fixed point of (6) computed to a residual-based error bound.",
        "checkable": "model",
        "check_idea": "As eq13 with m̲ from (10): points with (14) > 0 must survive attacks/corner sampling of the ε-box; report (13) vs (14) certified fractions (no ordering is claimed).",
        "owner": "catalogue",
    },
    {
        "id": "jafarpour2022:sec8.def",
        "paper": "jafarpour2022",
        "label": "sec8.def",
        "title": "Definition of certified adversarial robustness",
        "statement": (
            "The implicit network (4) is certified adversarially robust with radius ε at input x if "
            "max_{v∈ℝ^r} { f_N(x′)_i − max_{j≠i} f_N(x′)_j | ‖x − x′‖∞ ≤ ε, i is the correct label of x } ≥ 0."
        ),
        "suspect": (
            "Misprint: must be the minimum over x′ ∈ ℝ^r with ‖x − x′‖∞ ≤ ε (the printed 'max_{v}' ranges over an "
            "unused variable and would certify any point whose ε-ball contains one correctly classified input); '≥ 0' "
            "admits ties."
        ),
        "checkable": "definition",
        "check_idea": "Definition; certificates eq13/eq14 are tested against attacks under the min-form definition.",
        "owner": "catalogue",
    },
    {
        "id": "havens2023:eq15",
        "paper": "havens2023",
        "label": "eq15",
        "title": "Analytic multiplier for SLL in (10)",
        "statement": "Λ = blkdiag(I, 2T_0⁻¹, …, 2T_{N−1}⁻¹) (15) makes (10) feasible with L = 1 for the SLL DEQ form (14).",
        "suspect": "",
        "checkable": "algebra",
        "check_idea": "Random SLL stacks: the left side of (10) with Λ from (15) and L = 1 has a proved λ_min ≥ −(rounding allowance).",
        "owner": "conversion",
    },
    {
        "id": "havens2023:eq21",
        "paper": "havens2023",
        "label": "eq21",
        "title": "Block-diagonal reduction of (10) for SLL",
        "statement": (
            "Plugging W, G, U (14) and Λ (15) into (10) with L = 1, all off-diagonal blocks cancel, leaving "
            "blkdiag(0, 2T_0⁻¹ − 2T_0⁻¹W_0ᵀW_0T_0⁻¹, …, 2T_{N−1}⁻¹ − 2T_{N−1}⁻¹W_{N−1}ᵀW_{N−1}T_{N−1}⁻¹) (21)."
        ),
        "suspect": "Factor: 2Λ contributes 4T⁻¹ and GᵀG contributes 4T⁻¹WᵀWT⁻¹, so the blocks should be 4T⁻¹ − 4T⁻¹WᵀWT⁻¹.",
        "checkable": "algebra",
        "check_idea": "Dense computation of the left side of (10) against the printed and the corrected block diagonal.",
        "owner": "conversion",
    },
    {
        "id": "havens2023:eq22",
        "paper": "havens2023",
        "label": "eq22",
        "title": "Sandwich network written as a DEQ",
        "statement": (
            "y_0 = √L x, y_{n+1} = σ(2Φ_n⁻¹B_nA_{n−1}ᵀΦ_{n−1}y_n + b_n), output √(2L)B_NA_{N−1}ᵀΦ_{N−1}y_N + b_N; the DEQ with "
            "z = [y_1; …; y_N], U = [(√(2L)Φ_0⁻¹B_0)ᵀ, …, 0]ᵀ, G = [0, …, √(2L)B_NA_{N−1}ᵀΦ_{N−1}], b_y = b_N and W block "
            "sub-diagonal with blocks 2Φ_n⁻¹B_nA_{n−1}ᵀΦ_{n−1} (22) reproduces the Sandwich network."
        ),
        "suspect": "",
        "checkable": "algebra",
        "check_idea": "Random Sandwich nets: block forward substitution of the DEQ (22) equals the explicit network to 1e-12.",
        "owner": "conversion",
    },
    {
        "id": "pabbaraju2021:eq3",
        "paper": "pabbaraju2021",
        "label": "eq3",
        "title": "Forward–backward iteration converges for 0 < α ≤ 2m/L²",
        "statement": (
            "The forward–backward iteration z^{k+1} = σ(z^k − α((I − W)z^k − (Ux + b))) (3) converges to the unique fixed "
            "point since I − α(I − W) is contractive for any 0 < α ≤ 2m/L², L = ‖I − W‖₂."
        ),
        "suspect": "At the endpoint α = 2m/L² Prop 1 only gives Lipschitz constant 1: W = (1 − m)I, α = 2/m gives T = −I.",
        "checkable": "model",
        "check_idea": "Random monotone W: FB with α < 2m/L² reaches the dense-oracle fixed point; at the endpoint a witness cycles.",
        "owner": "catalogue",
    },
    {
        "id": "havens2023:appE.symmetry",
        "paper": "havens2023",
        "label": "appE.symmetry",
        "title": "[project's own claim] Exact symmetry reduction of (10) for circular-convolution DEQs",
        "statement": (
            "Not printed in the paper; the project's own claim in the setting of App. E: when W, U, G are multi-channel "
            "circular convolutions on an N×N grid, restricting Λ in (10) to be constant over pixels within each channel "
            "loses nothing (averaging a feasible Λ over the translation group stays feasible, since the LMI set is convex "
            "and shift-invariant), and the unitary 2-D DFT splits the LMI into N² Hermitian blocks of size "
            "c_hidden + c_in + c_out coupled only through the channel multipliers and L (conjugate frequencies give "
            "conjugate blocks). Hence the reduced minimal L equals the dense minimal L."
        ),
        "suspect": "",
        "checkable": "algebra",
        "check_idea": "Small grids: reduced L* (per-frequency blocks) equals the dense cvxpy L* to 1e-6.",
        "owner": "sdp",
    },
    {
        "id": "havens2023:dag.lben",
        "paper": "havens2023",
        "label": "dag.lben",
        "title": "[project's own claim] DAG-LBEN: block strictly lower W with an analytic witness Λ for (4)",
        "statement": (
            "Not printed in the paper; the project's own claim in the setting of §2.3 (LBEN, eq. 7) and (4)/(10). "
            "Split the state into consecutive blocks I_0, …, I_K; lowblk(A) keeps the blocks of A strictly below the "
            "block diagonal, blkdiag(A) the diagonal blocks. Given G (p×n), Ũ (n×d), V (k×n), L > 0, ε ≥ 0 and "
            "weights q > 0, let Q = (GᵀG + ŨŨᵀ)/L, P = Q/2 + VᵀV + εI, λ_i = Σ_{j∈I_k} |P_ij| q_j/q_i for i ∈ I_k "
            "(scaled Gershgorin / AOL bound, so D = Λ − blkdiag(P) ⪰ 0, Λ = diag(λ)), W = −2Λ⁻¹lowblk(P), "
            "U = Λ⁻¹Ũ. Then M = Λ(I − W) = Λ + 2·lowblk(P) has sym(M) = P + D ⪰ P, hence "
            "2Λ − ΛW − WᵀΛ − (GᵀG + ΛUUᵀΛ)/L = 2(VᵀV + εI) + 2D ⪰ 2εI: (4)/(10) holds with witness Λ, so "
            "z = φ(Wz + Ux + b), y = Gz is well posed and L-Lipschitz from x to y for per-coordinate activations "
            "with slopes in [0, 1] (ReLU, identity), and W is nilpotent (block strictly lower), so the fixed point "
            "is computed exactly by one block forward substitution. Equivalently W is the eq. (7) LBEN with "
            "Ψ = Λ⁻¹, the same G, U = Λ⁻¹Ũ, V' = [V; D^{1/2}] and S = −lowblk(P)."
        ),
        "suspect": "",
        "checkable": "algebra",
        "check_idea": (
            "Random G, Ũ, V, blocks, L, ε, q: (a) W is block strictly lower; (b) LBEN eq. (7) forward of the "
            "equivalent parameters equals W to rounding; (c) the left side of (4) with witness λ (lben_lhs) is "
            "proved ⪰ 2εI − tol by the verified Cholesky test, and equals 2(VᵀV + εI) + 2D. Unit tests add the "
            "exact block-forward-substitution Lipschitz check, a negative control (λ halved on one block fails) "
            "and the per-channel λ of circular convolutions."
        ),
        "owner": "catalogue",
    },
    # =====================================================================================
    # issue 16: claims numbered or used by a proof that had no entry
    # =====================================================================================
    {
        "id": "li2022:eq26",
        "paper": "li2022",
        "label": "eq26",
        "title": "ReLU half-width identity (used by the Prop 3.5 proof)",
        "statement": (
            "App. (proof of Prop 3.5), quoting Shi et al. (2021): for the bounds ḡ, g̲ of a linear layer, "
            "E[σ(ḡ) − σ(g̲)] = ½E[ḡ − g̲] (26), σ the ReLU; applied to every iteration of the adjoint DEQ in (27)–(30)."
        ),
        "suspect": "Exact only when the pre-activation centre (ḡ + g̲)/2 is symmetric about 0; Prop 3.5 breaks where it does not.",
        "checkable": "algebra",
        "check_idea": (
            "Antithetic identity σ(c + r) − σ(c − r) + σ(−c + r) − σ(−c − r) = 2r: exact for symmetric centres; "
            "shifted centres move the ratio towards 0 or 1."
        ),
        "owner": "catalogue",
    },
    {
        "id": "li2022:eq32",
        "paper": "li2022",
        "label": "eq32",
        "title": "‖A‖∞ ≤ √n‖A‖₂ (used by the Prop 3.5 proof)",
        "statement": "Σ_{j}|A_ij| ≤ max_i Σ_j |A_ij| = ‖A‖∞ ≤ √n‖A‖₂ (32), A ∈ ℝ^{m×n}.",
        "suspect": "",
        "checkable": "algebra",
        "check_idea": "Random A of every shape; a single ±1 row attains it; √m in place of √n fails.",
        "owner": "catalogue",
    },
    {
        "id": "li2022:sec3.2.contractive",
        "paper": "li2022",
        "label": "sec3.2.contractive",
        "title": "The DEQ layer (1) is contractive if ‖W‖₂ < 1",
        "statement": (
            "§3.2: 'The convergence of a DEQ layer can be ensured by constraining its weight matrix's spectral norm "
            "since a DEQ layer like Eqn (1) is contractive if ‖W‖₂ < 1.'"
        ),
        "suspect": "",
        "checkable": "algebra",
        "check_idea": "Pairs z₁, z₂: ‖F(z₁) − F(z₂)‖ ≤ ‖W‖₂‖z₁ − z₂‖, attained along the top singular vector with all units active.",
        "owner": "catalogue",
    },
    {
        "id": "li2022:sec3.7.item1",
        "paper": "li2022",
        "label": "sec3.7.item1",
        "title": "CerDEQ's orthogonalisation suits IBP-MonDEQ's convergence condition",
        "statement": (
            "§3.7 item 1: 'Our orthogonalization and normalization can suit their [IBP-MonDEQ's, wei2022 Thm 3.1] "
            "convergence condition but their parameterization can not make the weights to be orthogonal.'"
        ),
        "suspect": "With W = O/√n only I − |W| ⪰ 0 follows (the same boundary problem as li2022:sec3.3.scaling).",
        "checkable": "algebra",
        "check_idea": "λ_max(sym|O/√n|) ≤ 1 for random orthogonal O; O = H₄/2 attains 1 and is not certified; 0.99·W is.",
        "owner": "catalogue",
    },
    {
        "id": "pabbaraju2021:appE",
        "paper": "pabbaraju2021",
        "label": "appE",
        "title": "Generalisation bound of the unrolled monDEQ",
        "statement": (
            "App. E: unroll d forward–backward steps with layer weights W_u = [[I − α(I − W), αU], [0, I]] (no bias) "
            "and output [W_o, 0]; with perturbations ΔA, ΔB, ΔU, ΔW_o ~ N(0, σ²I) bounded by ω = σ√(2h ln 16h) with "
            "probability ≥ ½: ‖ΔW‖₂ ≤ ‖ΔA‖₂² + 2‖ΔA‖₂‖A‖₂ + 2‖ΔB‖₂ and ‖ΔW_u‖₂ ≤ α(‖ΔA‖² + 2‖ΔA‖‖A‖ + 2‖ΔB‖ + ‖ΔU‖), "
            "then (Neyshabur et al. 2018, Lemma 2) |f_{W_u+ΔW_u} − f_{W_u}| ≤ eBβ̃^{d−1}((d − 1)‖ΔW_u‖ + ‖ΔW_o‖) and, "
            "with Lemma 1, L₀(f) ≤ L_γ(f) + O(√((B²β^{2d−2}((d − 1)α(dβ + 2β + 3) + 1)² h ln h Σ‖W‖_F² + ln(dM/δ))/(γ²M)))."
        ),
        "suspect": "Its ‖ΔW‖ bound keeps the 2‖ΔB‖ term that the Thm 3 proof (App. C) drops.",
        "checkable": "statistical",
        "check_idea": "The two perturbation steps on random draws and on witnesses that attain them; the Thm 3 step as a mutant.",
        "owner": "catalogue",
    },
    {
        "id": "pabbaraju2021:sec3.2",
        "paper": "pabbaraju2021",
        "label": "sec3.2",
        "title": "Perturbing A and B keeps the monotonicity parameter m",
        "statement": (
            "§3.2, after Thm 2: the bound 'can also be adapted to perturbations on A and B in the typical monDEQ "
            "parameterization, which leads to a perturbed network that will necessarily still have the same "
            "monotonicity parameter m as the original'."
        ),
        "suspect": "",
        "checkable": "algebra",
        "check_idea": "sym(I − W̃) = mI + ÃᵀÃ ⪰ mI for any (Ã, B̃); equality when Ã is rank deficient.",
        "owner": "catalogue",
    },
    {
        "id": "jafarpour2022:eq2",
        "paper": "jafarpour2022",
        "label": "eq2",
        "title": "Lip∞ is the supremum of ‖Df‖∞ over differentiable points",
        "statement": (
            "§4: with Ω = {x ∈ ℝʳ | ∂f/∂x exists} (ℝʳ \\ Ω has measure zero by Rademacher's theorem), "
            "Lip∞(f) = sup_{x∈Ω} ‖Df(x)‖∞ (2)."
        ),
        "suspect": "",
        "checkable": "model",
        "check_idea": (
            "(≥) difference quotient on a proved constant-pattern cube equals ‖Df(x)‖∞; (≤) every difference quotient "
            "≤ max over all activation patterns of ‖Df‖∞."
        ),
        "owner": "catalogue",
    },
    {
        "id": "jafarpour2022:eq3",
        "paper": "jafarpour2022",
        "label": "eq3",
        "title": "The tight inclusion function is the coordinatewise min/max",
        "statement": (
            "§4: if F = [F̲; F̄] is the tight inclusion function of f (contained in every other inclusion function), "
            "then for every i, F̲_i(x̲, x̄) = min_{z∈[x̲,x̄]} f_i(z), F̄_i(x̲, x̄) = max_{z∈[x̲,x̄]} f_i(z) (3) "
            "(the proof prints i ∈ {1, …, n}; it is i ∈ {1, …, q}). Used in Thm 4.1's statement and proof."
        ),
        "suspect": "Index range n for q (typo).",
        "checkable": "model",
        "check_idea": "On a DEQ cube with a proved constant activation pattern: vertex min/max contains f and lies in the Thm 6.3 box.",
        "owner": "catalogue",
    },
]
