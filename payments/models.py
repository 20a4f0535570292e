"""Models for payments; filled in by its issue."""
