"""deqtheory — the mathematics of certifiably robust deep equilibrium models.

z = σ(Wz + Ux + b), y = Gz + b_y, σ = ReLU. See docs/ for conventions and the theorem catalogue.
"""
from .errors import (DEQInputError, ShapeError, NonFiniteError, DTypeError, EmptyArrayError,
                     DomainError, ModelFileError, DEQLinAlgError, IllConditionedWarning,
                     ConvergenceWarning)
from .certificates import Status, Certificate
from .verified import verified_pd

__version__ = "0.1.0"

__all__ = ["DEQInputError", "ShapeError", "NonFiniteError", "DTypeError", "EmptyArrayError",
           "DomainError", "ModelFileError", "DEQLinAlgError", "IllConditionedWarning",
           "ConvergenceWarning", "Status", "Certificate", "verified_pd", "__version__"]
