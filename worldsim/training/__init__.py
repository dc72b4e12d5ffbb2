"""Training a world model on collected episodes (``worldsim train``) and changing a trained
model's architecture (``worldsim migrate``).

- train.py: the command's flags, turned into a run (built new or resumed) and trained
- settings.py: each preset's schedule (steps, batch, learning rate, checkpoints)
- build.py: a new model from a preset and the data, or from a trained one (``--init``)
- resume.py: a run's exact state from its checkpoint; never an architecture change
- migrate.py: architecture changes, each written as a new checkpoint
- loop.py: the phases, checkpoints, samples and the ways a run stops early
- losses.py, samples.py, distributed.py: the phases' losses, sample images and videos,
  and ``torchrun``
"""
