"""DreamConfig: how a dream runs, in one frozen object checked once.

Every way of dreaming takes it whole: :class:`worldsim.simulator.WorldSimulator`, the
Gymnasium envs (``envs/dream.py``), PPO in the dream (``agents/ppo.py``) and the player
(``demos/play.py``). The commands build it from their flags with :func:`add_dream_options`
and :func:`dream_config`::

    config = DreamConfig(sampling_steps=2, precision="bf16")
    sim = WorldSimulator(model, batch_size=256, config=config)

A setting left at ``None`` is the model's own (from its checkpoint), resolved where the
model is known. A bad value is a ValueError that names the setting and what it may be.
"""
from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass

PRECISIONS = ("auto", "fp32", "bf16")


@dataclass(frozen=True)
class DreamConfig:
    """The settings of a dream; ``None`` means the model's own.

    ``device``: where the model runs (``cpu``, ``cuda``, ``cuda:N``, ``auto``; None: where
    the model already is, the CPU for one read from a checkpoint). ``sampling_steps``: flow
    steps per frame for the change latent (fewer is faster). ``precision``: ``auto`` (bf16
    on CUDA and on CPUs that compute it natively; else fp32), ``fp32`` or ``bf16``.
    ``snap_rewards``:
    pay the training data's reward nearest the reward head's output (a classifying head's
    likeliest) rather than the output itself (its expected reward). ``compile``: run the
    model through ``torch.compile`` (faster steps after a compile at the first ones).
    """

    device: str | None = None
    sampling_steps: int | None = None
    precision: str = "auto"
    snap_rewards: bool = True
    compile: bool = False

    def __post_init__(self):
        set_ = object.__setattr__  # (frozen: the checked values are stored once, here)
        if self.device is not None:
            set_(self, "device", _device_name(self.device))
        if self.sampling_steps is not None:
            steps = self.sampling_steps
            if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
                raise ValueError(f"sampling_steps must be a whole number of at least 1 (or "
                                 f"None: the model's own), got {steps!r}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, "
                             f"got {self.precision!r}")
        for name in ("snap_rewards", "compile"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be True or False, got {getattr(self, name)!r}")

    def replace(self, **changes) -> "DreamConfig":
        """A copy with ``changes``, checked like a new one; an unknown name is a TypeError
        that lists the settings."""
        return dataclasses.replace(self, **_known(changes))

    @classmethod
    def build(cls, config: "DreamConfig | None" = None, **settings) -> "DreamConfig":
        """``config`` (default: all defaults) with ``settings`` (DreamConfig fields given as
        keywords, as ``gymnasium.make`` passes them) applied over it."""
        if config is not None and not isinstance(config, cls):
            raise TypeError(f"config must be a DreamConfig, got {type(config).__name__}")
        return (config or cls()).replace(**settings) if settings else (config or cls())


FIELDS = tuple(f.name for f in dataclasses.fields(DreamConfig))


def _known(settings: dict) -> dict:
    unknown = sorted(set(settings) - set(FIELDS))
    if unknown:
        raise TypeError(f"unknown dream setting {unknown[0]!r}; the settings are "
                        f"{', '.join(FIELDS)}")
    return settings


def _device_name(device) -> str:
    """``device`` (a name or a torch.device) as a name torch parses, else a ValueError.
    Whether this machine has it is checked where the model is loaded."""
    name = str(device)
    if name == "auto":
        return name
    import torch

    try:
        return str(torch.device(name))
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"device must be cpu, cuda, cuda:N or auto, got {name!r}") from exc


# ------------------------------------------------------------------------------ command line
DEFAULTS_DEST = "dream_defaults"  # where the parser keeps its dream flags' defaults


def add_dream_options(parser: argparse.ArgumentParser,
                      device_help: str = "where the dream model runs (default: cpu)",
                      training: bool = False):
    """The dream's flags, as one argument group of ``parser``: the model, its start
    contexts and the DreamConfig settings; with ``training`` (an agent that learns in
    dreams), a cap on a dream's length and the rewards it is paid. Returns the group."""
    g = parser.add_argument_group(
        "dream", "the model that dreams and how it runs; unset settings are the model's own")
    actions = []

    def add(*flags, **kwargs):
        actions.append(g.add_argument(*flags, **kwargs))

    add("--checkpoint", default=None, metavar="DIR",
        help="a model folder from `worldsim train` (default: the bundled model)")
    add("--device", default="cpu", help=device_help)
    add("--dream-starts", nargs="+", default=None, metavar="DATA",
        help="folders of recorded play to start dreams from (default: the checkpoint's "
             "start contexts)")
    if training:
        add("--dream-horizon", type=int, default=None, metavar="N",
            help="end each dream after N steps (default: a real episode's length)")
        add("--raw-rewards", action="store_true",
            help="pay the reward head's own output, not the nearest of the game's rewards")
    add("--sampling-steps", type=int, default=None, metavar="N",
        help="flow steps per dream frame for the change latent; fewer is faster")
    add("--precision", default="auto", choices=PRECISIONS,
        help="the dream's arithmetic; auto (the default) is bf16 on CUDA and where this "
             "CPU computes bf16 natively and it pays, else fp32")
    add("--compile", action="store_true",
        help="compile the model with torch.compile: faster frames after a compile of "
             "about a minute (seconds once cached)")
    parser.set_defaults(**{DEFAULTS_DEST: {a.dest: a.default for a in actions
                                           if a.dest != "device"}})
    return g


def dream_config(args: argparse.Namespace) -> DreamConfig:
    """The DreamConfig of parsed flags (from :func:`add_dream_options`)."""
    return DreamConfig(device=args.device, sampling_steps=args.sampling_steps,
                       precision=args.precision, compile=args.compile,
                       snap_rewards=not getattr(args, "raw_rewards", False))


def dream_flags_given(args: argparse.Namespace) -> list[str]:
    """The dream flags given on the command line, as they are spelled there (``--device``
    is not one: it also places what runs beside a dream)."""
    defaults = getattr(args, DEFAULTS_DEST)
    return ["--" + dest.replace("_", "-") for dest, default in defaults.items()
            if getattr(args, dest) != default]


def refuse_dream_flags(args: argparse.Namespace, command: str, dreaming: str) -> None:
    """A SystemExit (``worldsim COMMAND: --flag is for DREAMING``) when dream flags were
    given to a run that does not dream; ``dreaming`` says what does (``--in dream``)."""
    given = dream_flags_given(args)
    if given:
        raise SystemExit(f"worldsim {command}: {', '.join(given)} "
                         f"{'is' if len(given) == 1 else 'are'} for {dreaming}")
