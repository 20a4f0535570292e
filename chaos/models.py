"""Models for chaos; filled in by its issue."""
