"""Calling rules applied to leads: pure functions of the rows (no writes, no Asterisk)."""
