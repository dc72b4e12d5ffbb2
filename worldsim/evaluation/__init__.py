"""Evaluation of a world model against held-out play of its game, one idea per module:

- ``facts``: what the evaluation must know about a game (HUD, no-op, motions, still
  scenes), which the games fill in (``envs/facts.py``);
- ``metrics``: image figures (PSNR of the pooled error, SSIM, changed pixels, edges, shift);
- ``dreams``: teacher-forced steps and open-loop rollouts from real contexts;
- ``fidelity``, ``motion``, ``hud``, ``heads``, ``hold``, ``long``: the figures
  of each section; ``judge`` and ``following``: the inverse-dynamics judge of actions;
- ``held_out``: the sections of one held-out folder; ``run``: a whole evaluation;
- ``report`` and ``plots``: the JSON, the markdown summary and the pictures.
"""
