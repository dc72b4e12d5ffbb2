"""Training a world model on collected episodes (``worldsim train``).

- train.py: the command's flags, turned into a run (built new or resumed) and trained
- settings.py: each preset's schedule (steps, batch, learning rate, checkpoints)
- build.py: a new model from a preset and the data, or from a trained one (``--init``)
- resume.py: a run's exact state from its checkpoint; never a change of reward classes
- rewards.py: a reward head grown to more play's rewards (a new run from ``--init``)
- loop.py: the training steps, checkpoints, samples and the ways a run stops early
- losses.py, samples.py, distributed.py: the loss, sample videos, and ``torchrun``
"""
