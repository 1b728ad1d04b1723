"""The demo world's clock: generated against the fixed `BASE_TIME`, written as of the day it is seeded.

The world is always built the same way (same rows, ids and seconds since BASE_TIME), then every moment
written is moved by a whole number of days so that the world's "now" is UTC midnight of the seeding day.
A fixed BASE_TIME alone made the demo age: a week after it the discovery feed's fresh pools (new
creators' notes of the last 14 days, trending of the last 3) were empty.

Whole days, not "now rounded to the hour": every moment keeps its time of day, one day's seed is the same
rows whenever in that day it runs (`vermilion seed --as-of DAY` repeats it), and midnight already
passed, so nothing seeded is dated after the wall clock and rows the server writes later stay newer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from demo.world import BASE_TIME


@dataclass(frozen=True)
class DemoClock:
    """Moves the world's moments `days` whole days on from BASE_TIME (0: the world as generated)."""

    days: int = 0

    @classmethod
    def as_of(cls, day: date | None = None) -> DemoClock:
        """The clock whose `now` is UTC midnight starting `day` (default: today in UTC)."""
        day = day or datetime.now(UTC).date()
        return cls((day - BASE_TIME.date()).days)

    @property
    def now(self) -> datetime:
        """The world's present: its newest moment is just before it."""
        return self.moved(BASE_TIME)

    @property
    def day(self) -> date:
        return self.now.date()

    def at(self, ts: int) -> datetime:
        """A world timestamp (whole seconds since the epoch, against BASE_TIME) as the aware UTC datetime
        written."""
        return self.moved(datetime.fromtimestamp(ts, tz=UTC))

    def moved(self, moment: datetime) -> datetime:
        """A moment stated against BASE_TIME (a date in the demo's code), on this clock."""
        return moment + timedelta(days=self.days)
