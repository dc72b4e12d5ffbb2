"""Evaluation: the figures a dream is measured by (``metrics``) and the inverse-dynamics
judge of action following (``judge``)."""
