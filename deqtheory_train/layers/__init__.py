"""DEQ layers in torch (each exports to :mod:`deqtheory` for certification).

Dense layers: :mod:`.dense`. Other layer modules are re-exported by appending one
``from .<module> import *  # noqa: F401,F403`` line each (every module defines its own ``__all__``).
"""
from .dense import *  # noqa: F401,F403
from .explicit import *  # noqa: F401,F403
from .conv import *  # noqa: F401,F403
from .conv_dag import *  # noqa: F401,F403
from .conv_linf import *  # noqa: F401,F403
from .conv_nemon import *  # noqa: F401,F403
from .conv_cerdeq import *  # noqa: F401,F403
