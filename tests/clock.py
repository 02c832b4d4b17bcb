"""A controllable clock for the sign-in rules' tests."""

from __future__ import annotations

from datetime import datetime
from datetime import timedelta
from datetime import timezone

#: A fixed, millisecond-aligned starting instant.
START = datetime(2026, 3, 1, 12, 0, 0, tzinfo=timezone.utc)


class Clock:
    """Returns ``now``, which only moves when a test moves it (``advance``, ``set``)."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> datetime:
        """Move the clock forward by ``delta``; the new now."""
        self.now += delta
        return self.now

    def set(self, now: datetime) -> datetime:
        """Move the clock to ``now``; the new now."""
        self.now = now
        return now
