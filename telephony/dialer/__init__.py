"""The autodialer engine: pacing (pure), the worker's single step, agent sessions."""
