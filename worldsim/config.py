"""Configuration of a world model: one dataclass per component, and the named presets.

A checkpoint stores its :class:`ModelConfig` as JSON and rebuilds the model from it, so
every field that changes the weights' shapes or the model's behaviour lives here.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any


# The sections keep the names of the first model family (an autoencoder, latent dynamics
# and a flow-matching sampler), so that every checkpoint's config.json keeps its format.
@dataclass
class AutoencoderConfig:
    """The frames."""
    image_size: int = 64  # frames are image_size x image_size RGB


@dataclass
class DynamicsConfig:
    """The action space, the frames read and predicted, and the reward and termination heads."""
    action_nvec: tuple[int, ...] = (3, 3, 2, 9, 9, 2, 2, 10)  # choices per action component
    context: int = 4  # past frames the model reads
    chunk: int = 1  # frames predicted one by one per training window
    # the distinct rewards of the training data (e.g. 0 and 1); a dream gives the one nearest
    # the reward head's output. None: the head's raw output (too many values, or unknown)
    reward_values: tuple[float, ...] | None = None
    # the reward is a classification into this many classes, the ``reward_values`` (set
    # when the model is built from its data's; 0: a regression). See heads.EventHeads
    reward_classes: int = 0
    # with reward classes: added to the head's logits in dreams, log(natural share of each
    # class) - log(its share at the predicted frame in training). Event sampling
    # (``--event-share``) shows the head rewards far more often than play brings them, and
    # a head trained so pays a dream several times too often; this undoes that prior (Bayes'
    # rule for a shifted label prior). None: the head as trained.
    reward_logit_offsets: tuple[float, ...] | None = None

    @property
    def frames(self) -> int:
        return self.context + self.chunk


@dataclass
class FlowConfig:
    """The dream's sampling of the change latent."""
    sampling_steps: int = 2  # flow steps per dream frame (1 to 16)


@dataclass
class EditorConfig:
    """The copy-and-edit model (editor.py). Its model also reads the other sections:
    ``autoencoder.image_size``; ``dynamics``' action space, context and reward heads
    (``dynamics.chunk``: frames predicted one by one per training window, each from the
    model's own predictions before it); ``flow.sampling_steps`` for its latent."""
    features: int = 32  # channels of each frame's encoding (a quarter of the frame a side)
    width: int = 48  # channels of the convolutions at that size
    dim: int = 128  # token width of the transformer at half that size
    depth: int = 2  # transformer blocks
    heads: int = 4
    latent_channels: int = 0  # channels of the change latent per token (0: deterministic)
    prior_depth: int = 1  # transformer blocks of the latent's prior
    # weight of the adversarial loss on predicted frames (critic.py; 0: none, no critic)
    adversarial: float = 0.0
    # a third choice per pixel beside the moved previous frame and new content: the previous
    # frame's pixel where it was (a HUD over a turning picture, Crafter's player while the
    # map scrolls under it), which motion per grid cell cannot keep apart from its cell
    stay: bool = False
    # each grid cell's motion snaps to none or to the action's whole-frame motion, whichever
    # is nearer, before the previous frame is warped: for a world whose picture scrolls
    # rigidly (a tile map under a player who stays in the middle), where a cell unsure
    # whether the move happened otherwise hedges between the two (Crafter: 3 to 6 pixels
    # for a 7-pixel move) and the warp smears
    snap: bool = False


# fields of the first model family that configs of copy-and-edit models still carry (with
# values that do not matter to one): read and dropped
RETIRED = {
    "autoencoder": {"channels", "blocks_per_level", "latent_channels"},
    "dynamics": {"patch", "dim", "depth", "heads", "mlp_ratio", "steer_kernel", "action_kernels",
                 "event_heads"},
    "flow": {"context_noise", "train_context_noise", "forcing_fraction", "context_loss_weight",
             "action_dropout", "action_guidance"},
}


class RetiredModelError(ValueError):
    """A config of the first model family, which worldsim no longer builds."""


@dataclass
class ModelConfig:
    world: str = "voxel"  # the teacher the model learned (refuses data of another world)
    autoencoder: AutoencoderConfig = field(default_factory=AutoencoderConfig)
    dynamics: DynamicsConfig = field(default_factory=DynamicsConfig)
    flow: FlowConfig = field(default_factory=FlowConfig)
    editor: EditorConfig = field(default_factory=EditorConfig)  # the copy-and-edit model

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ModelConfig":
        """Rebuild from :meth:`to_dict`'s output (retired fields are dropped); unknown or
        missing fields are errors, and so is a model of the first family."""
        def build(kind, section, values):
            if not isinstance(values, dict):
                raise ValueError(f"the {section} section is not an object")
            values = {k: v for k, v in values.items() if k not in RETIRED.get(section, ())}
            names = {f.name for f in dataclasses.fields(kind)}
            unknown = set(values) - names
            if unknown:
                raise ValueError(f"{kind.__name__} has no field(s) {sorted(unknown)}")
            return kind(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})

        d = dict(d)
        if d.get("editor") is None and {"autoencoder", "dynamics", "flow"} <= set(d):
            raise RetiredModelError(
                "a model of an autoencoder and latent dynamics (presets tiny, cpu, gpu), a "
                "family worldsim has retired: only copy-and-edit models (presets edit, "
                "edit-det, edit-tiny) load. Train a new one with `worldsim train --preset edit`")
        try:
            parts = {name: build(kind, name, d.pop(name)) for name, kind in
                     (("autoencoder", AutoencoderConfig), ("dynamics", DynamicsConfig),
                      ("flow", FlowConfig), ("editor", EditorConfig))}
        except KeyError as exc:
            raise ValueError(f"model config lacks the {exc} section") from exc
        unknown = set(d) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ValueError(f"ModelConfig has no field(s) {sorted(unknown)}")
        return cls(**d, **parts)


def preset(name: str, world: str = "voxel", action_nvec=None, image_size: int = 64) -> ModelConfig:
    """A named preset for a world: ``edit`` (trained and played on two cores), ``edit-det``
    (the same without the change latent: a deterministic next-frame predictor),
    ``edit-tiny`` (tests)."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; expected one of {sorted(PRESETS)}")
    dyn, editor = PRESETS[name]
    cfg = ModelConfig(world=world, autoencoder=AutoencoderConfig(image_size=image_size),
                      dynamics=DynamicsConfig(**dyn), editor=EditorConfig(**editor))
    if action_nvec is not None:
        cfg.dynamics.action_nvec = tuple(int(n) for n in action_nvec)
    return cfg


EDIT_DYNAMICS = dict(context=4, chunk=2)
PRESETS: dict[str, tuple[dict, dict]] = {  # dynamics and editor
    "edit": (EDIT_DYNAMICS, dict(latent_channels=4, stay=True)),
    "edit-det": (EDIT_DYNAMICS, dict(latent_channels=0, stay=True)),
    "edit-tiny": (dict(context=2, chunk=2),
                  dict(features=8, width=16, dim=32, depth=1, heads=2, latent_channels=2,
                       stay=True)),
}
