"""The world model: the copy-and-edit editor (``editor``), the first version's latent
autoencoder and spacetime transformer (``autoencoder``, ``dynamics``, ``sampler``,
``flow``), the layers they share, and :class:`WorldModel`, which holds them."""
from worldsim.model.world import WorldModel

__all__ = ["WorldModel"]
