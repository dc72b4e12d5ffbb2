"""The world model: the copy-and-edit model (``editor``), its reward and termination heads
(``heads``), the layers it is built of (``layers``), the noise its dreams draw
(``noise``), and :class:`WorldModel`, which holds it."""
from worldsim.model.world import WorldModel

__all__ = ["WorldModel"]
