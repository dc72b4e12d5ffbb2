"""Training a world model on collected episodes (``worldsim train``)."""
