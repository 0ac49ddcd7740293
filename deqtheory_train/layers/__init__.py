from .dense import *  # noqa: F401,F403
