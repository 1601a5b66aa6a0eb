"""
Prometheus metrics, one registry per app so that several apps can live in one process.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.http_requests = Counter(
            "tryvoha_http_requests_total",
            "HTTP requests answered, by method and status class",
            ["method", "status"],
            registry=self.registry,
        )
        self.commands = Counter(
            "tryvoha_commands_total",
            "Alert commands by kind and result",
            ["command", "result"],
            registry=self.registry,
        )
        self.command_seconds = Histogram(
            "tryvoha_command_seconds",
            "From a command's arrival to its durable acknowledgement",
            buckets=(0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
            registry=self.registry,
        )
        self.events = Counter(
            "tryvoha_events_total",
            "Events committed to the log by this process",
            ["kind"],
            registry=self.registry,
        )
        self.last_seq = Gauge(
            "tryvoha_last_seq", "Sequence number of the newest event", registry=self.registry
        )
        self.active_alerts = Gauge(
            "tryvoha_active_alerts", "Alerts active now", registry=self.registry
        )
