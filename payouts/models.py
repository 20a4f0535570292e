"""Models for payouts; filled in by its issue."""
