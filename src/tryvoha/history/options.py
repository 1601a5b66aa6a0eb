"""
The choices a statistics question offers, as wire values; light to import, so the command
line can offer them without loading the statistics themselves.
"""

from __future__ import annotations

from enum import StrEnum

BEST = "best"
"""Source setting: one source per moment, by precedence (see `dataset`)."""
ALL = "all"
"""Source setting: the union of every source."""


class Bin(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


class RankBy(StrEnum):
    TOTAL = "total_seconds"
    COUNT = "count"
    LONGEST = "longest_seconds"
    NIGHTS = "nights_with_alerts"


class NightOrder(StrEnum):
    DATE = "date"
    LONGEST = "longest"


class Lang(StrEnum):
    UK = "uk"
    EN = "en"


class PlotKind(StrEnum):
    TIMELINE = "timeline"
    MONTHLY = "monthly"
    HOURLY = "hourly"
    CHOROPLETH = "choropleth"
