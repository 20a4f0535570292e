"""Models for transactions; filled in by its issue."""
