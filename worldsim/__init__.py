"""worldsim: a neural game engine.

A small action-conditioned video model learns a game from recorded play and then is the
game. This package is the model library; it never imports gymnasium or pygame (those live
in ``envs`` and ``demos``).
"""
__version__ = "0.1.0"
