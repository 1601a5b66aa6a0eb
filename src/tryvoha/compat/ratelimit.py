"""
Per-key token buckets for the compatible APIs (never applied to the native API).

A bucket holds up to `burst` requests and refills at `per_minute`; time comes in as a
monotonic `now` in seconds, so the limiter itself reads no clock.
"""

from __future__ import annotations

from dataclasses import dataclass

from tryvoha.config import Settings


@dataclass(frozen=True, slots=True)
class Rate:
    per_minute: float
    burst: int

    def __post_init__(self) -> None:
        if self.per_minute <= 0 or self.burst < 1:
            raise ValueError(f"a rate needs per_minute > 0 and burst >= 1, not {self}")


@dataclass(frozen=True, slots=True)
class CompatLimits:
    """
    The defaults leave room for Home Assistant (one request per region every 10 s), LED maps
    polling every few seconds and the official clients' double requests; history, which
    scans the log, is held tighter, as the original services do.
    """

    requests: Rate = Rate(per_minute=120, burst=120)
    history: Rate = Rate(per_minute=10, burst=10)

    @classmethod
    def from_settings(cls, settings: Settings) -> CompatLimits:
        """
        From `TRYVOHA_COMPAT_RATE_PER_MINUTE`, `..._RATE_BURST`, `..._HISTORY_PER_MINUTE`
        and `..._HISTORY_BURST`.
        """
        return cls(
            requests=Rate(settings.compat_rate_per_minute, settings.compat_rate_burst),
            history=Rate(settings.compat_history_per_minute, settings.compat_history_burst),
        )


class RateLimiter:
    """
    Token buckets by key; full (idle) buckets are forgotten once there are too many keys.
    """

    __slots__ = ("_buckets", "_max_keys", "_per_second", "rate")

    def __init__(self, rate: Rate, max_keys: int = 100_000) -> None:
        self.rate = rate
        self._per_second = rate.per_minute / 60.0
        self._max_keys = max_keys
        self._buckets: dict[str, tuple[float, float]] = {}

    def allow(self, key: str, now: float) -> bool:
        """Take one request from *key*'s bucket; False when it is empty."""
        tokens, stamp = self._buckets.get(key, (float(self.rate.burst), now))
        tokens = min(float(self.rate.burst), tokens + (now - stamp) * self._per_second)
        allowed = tokens >= 1.0
        if allowed:
            tokens -= 1.0
        if key not in self._buckets and len(self._buckets) >= self._max_keys:
            self._forget_idle(now)
        self._buckets[key] = (tokens, now)
        return allowed

    def retry_after(self, key: str, now: float) -> int:
        """Whole seconds until *key* may make its next request."""
        tokens, stamp = self._buckets.get(key, (float(self.rate.burst), now))
        tokens = min(float(self.rate.burst), tokens + (now - stamp) * self._per_second)
        missing = max(0.0, 1.0 - tokens)
        return max(1, int(missing / self._per_second + 0.999))

    def __len__(self) -> int:
        return len(self._buckets)

    def _forget_idle(self, now: float) -> None:
        burst = float(self.rate.burst)
        full = [
            key
            for key, (tokens, stamp) in self._buckets.items()
            if tokens + (now - stamp) * self._per_second >= burst
        ]
        for key in full:
            del self._buckets[key]
        if len(self._buckets) >= self._max_keys:
            # Everyone is busy: drop the oldest half rather than grow without bound.
            by_age = sorted(self._buckets, key=lambda k: self._buckets[k][1])
            for key in by_age[: len(by_age) // 2 + 1]:
                del self._buckets[key]
