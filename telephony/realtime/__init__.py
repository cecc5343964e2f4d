"""The ORM code that writes and reads the rows Asterisk uses, one module per family.

Each family module has the same shape: build rows (pure, from our models) → write rows (inside
the caller's transaction) → read state. `telephony/asterisk/` knows Asterisk but not our
database; this package is where the two meet. See docs/architecture.md for which entry point
writes which rows.
"""
