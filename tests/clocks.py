"""A stand-in for the ``time`` module that tests move forward, patched into the modules whose
expiry they check (sessions, step-up, security lock)."""

import time


class Later:
    """``time`` as the patched module reads it: the real clock plus ``offset`` seconds; every
    other attribute is the real module's."""

    def __init__(self) -> None:
        self.offset = 0.0

    def time(self) -> float:
        return time.time() + self.offset

    def __getattr__(self, name: str):
        return getattr(time, name)
