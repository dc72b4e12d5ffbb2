"""Configuration of a world model: one dataclass per component, and the named presets.

A checkpoint stores its :class:`ModelConfig` as JSON and rebuilds the model from it, so
every field that changes the weights' shapes or the model's behaviour lives here.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any


@dataclass
class AutoencoderConfig:
    image_size: int = 64  # frames are image_size x image_size RGB
    channels: tuple[int, ...] = (32, 64, 128)  # conv widths per level; each level after the first halves the resolution
    blocks_per_level: int = 1  # residual blocks at each level, encoder and decoder alike
    latent_channels: int = 4  # channels of the latent grid

    @property
    def downsample(self) -> int:
        return 2 ** (len(self.channels) - 1)

    @property
    def latent_size(self) -> int:
        return self.image_size // self.downsample


@dataclass
class DynamicsConfig:
    action_nvec: tuple[int, ...] = (3, 3, 2, 9, 9, 2, 2, 10)  # choices per action component
    context: int = 4  # past frames the model reads
    chunk: int = 1  # new frames it predicts at once
    patch: int = 2  # latent pixels per side of one token
    dim: int = 256  # token width
    depth: int = 6  # transformer blocks (each: spatial attention, temporal attention, MLP)
    heads: int = 4  # attention heads
    mlp_ratio: float = 4.0  # MLP hidden width over token width
    steer_kernel: int = 0  # kernel size of each block's action-steered convolution (0: none)
    action_kernels: bool = False  # steered convolutions also look up kernels per action value (learns direction; see layers.SteeredConv)
    # the distinct rewards of the training data (e.g. 0 and 1); a dream gives the one nearest
    # the reward head's output. None: the head's raw output (too many values, or unknown)
    reward_values: tuple[float, ...] | None = None
    # how reward and termination are read from a frame's final tokens. "attention": each
    # head pools the tokens with its own learned attention and reads them with an MLP;
    # "linear": the tokens' mean, one linear layer each, the reward a regression (configs
    # saved before this field are read as "linear"). See dynamics.EventHeads.
    event_heads: str = "attention"
    # with "attention" heads: the reward is a classification into this many classes, the
    # ``reward_values`` (set when the model is built from its data's; 0: a regression)
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
    sampling_steps: int = 2  # Euler steps per generated frame (1 to 4)
    context_noise: float = 0.1  # noise level given to context frames when sampling
    train_context_noise: float = 0.3  # context noise levels are drawn from [0, this] in training
    forcing_fraction: float = 0.5  # share of training windows with every frame's level independent (diffusion forcing)
    context_loss_weight: float = 0.0  # weight of the context frames' velocity loss beside the predicted chunk's (1.0: every frame alike)
    action_dropout: float = 0.0  # share of frames trained with their action hidden, so the model also predicts without it
    action_guidance: float = 1.0  # sampling: v = v_none + g (v_action - v_none); 1 reads the action as trained (needs action_dropout > 0 to be other than 1)


@dataclass
class EditorConfig:
    """The copy-and-edit model (editor.py). Its model also reads from the other sections:
    ``autoencoder.image_size``; ``dynamics``' action space, context, reward values and
    event heads (``dynamics.chunk``: frames predicted one by one per training window, each
    from the model's own predictions before it); ``flow.sampling_steps`` for its latent."""
    features: int = 32  # channels of each frame's encoding (a quarter of the frame a side)
    width: int = 48  # channels of the convolutions at that size
    dim: int = 128  # token width of the transformer at half that size
    depth: int = 2  # transformer blocks
    heads: int = 4
    latent_channels: int = 0  # channels of the change latent per token (0: deterministic)
    prior_depth: int = 1  # transformer blocks of the latent's prior


@dataclass
class ModelConfig:
    world: str = "voxel"  # the teacher the model learned (refuses data of another world)
    autoencoder: AutoencoderConfig = field(default_factory=AutoencoderConfig)
    dynamics: DynamicsConfig = field(default_factory=DynamicsConfig)
    flow: FlowConfig = field(default_factory=FlowConfig)
    # set: a copy-and-edit model (editor.py) instead of the autoencoder and latent dynamics
    editor: EditorConfig | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ModelConfig":
        """Rebuild from :meth:`to_dict`'s output; unknown or missing fields are errors."""
        def build(kind, values):
            names = {f.name for f in dataclasses.fields(kind)}
            unknown = set(values) - names
            if unknown:
                raise ValueError(f"{kind.__name__} has no field(s) {sorted(unknown)}")
            return kind(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})

        d = dict(d)
        if isinstance(d.get("flow"), dict):  # saved before the field: every frame's loss alike
            d["flow"] = {"context_loss_weight": 1.0, **d["flow"]}
        if isinstance(d.get("dynamics"), dict):  # saved before the field: linear event heads
            d["dynamics"] = {"event_heads": "linear", **d["dynamics"]}
        try:
            parts = {"autoencoder": build(AutoencoderConfig, d.pop("autoencoder")),
                     "dynamics": build(DynamicsConfig, d.pop("dynamics")),
                     "flow": build(FlowConfig, d.pop("flow"))}
            editor = d.pop("editor", None)
            parts["editor"] = None if editor is None else build(EditorConfig, editor)
        except KeyError as exc:
            raise ValueError(f"model config lacks the {exc} section") from exc
        unknown = set(d) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ValueError(f"ModelConfig has no field(s) {sorted(unknown)}")
        return cls(**d, **parts)


def preset(name: str, world: str = "voxel", action_nvec=None, image_size: int = 64) -> ModelConfig:
    """A named preset for a world. Copy-and-edit models (editor.py): ``edit`` (trained and
    played on two cores), ``edit-det`` (the same without the change latent: a deterministic
    next-frame predictor), ``edit-tiny`` (tests). Autoencoder and latent dynamics:
    ``tiny`` (tests), ``cpu`` (two cores), ``gpu`` (larger, trained on one GPU)."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; expected one of {sorted(PRESETS)}")
    ae, dyn, *editor = PRESETS[name]
    cfg = ModelConfig(world=world, autoencoder=AutoencoderConfig(image_size=image_size, **ae),
                      dynamics=DynamicsConfig(**dyn),
                      editor=EditorConfig(**editor[0]) if editor else None)
    if action_nvec is not None:
        cfg.dynamics.action_nvec = tuple(int(n) for n in action_nvec)
    return cfg


EDIT_DYNAMICS = dict(context=4, chunk=2)
PRESETS: dict[str, tuple] = {  # autoencoder, dynamics and (copy-and-edit models) editor
    "edit": ({}, EDIT_DYNAMICS, dict(latent_channels=4)),
    "edit-det": ({}, EDIT_DYNAMICS, dict(latent_channels=0)),
    "edit-tiny": ({}, dict(context=2, chunk=2),
                  dict(features=8, width=16, dim=32, depth=1, heads=2, latent_channels=2)),
    "tiny": (dict(channels=(8, 16, 16), latent_channels=4),
             dict(dim=32, depth=2, heads=2, context=2, steer_kernel=3,
                  action_kernels=True)),
    # sized so that one frame (2 denoising passes + decode) takes under 33 ms on 2 cores
    "cpu": (dict(channels=(24, 48, 96), latent_channels=8),
            dict(dim=192, depth=5, heads=3, context=4, steer_kernel=5,
                 action_kernels=True)),
    "gpu": (dict(channels=(64, 128, 256), blocks_per_level=2, latent_channels=8),
            dict(dim=384, depth=12, heads=6, context=8, steer_kernel=5,
                 action_kernels=True)),
}
