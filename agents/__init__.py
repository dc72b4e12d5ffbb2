"""Agents that act in worlds: the human at the keyboard (more arrive with later issues)."""
