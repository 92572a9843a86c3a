"""Turning posts into an issue; per-subscriber content."""
