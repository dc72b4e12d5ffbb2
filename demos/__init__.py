"""Programs a person runs: the pygame player (and, later, the recorder)."""
