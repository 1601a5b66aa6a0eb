"""
Prometheus metrics of webhook and MQTT delivery, registered on the app's registry.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class WebhookMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.deliveries = Counter(
            "tryvoha_webhook_deliveries_total",
            "Webhook requests by result: delivered (2xx) or failed",
            ["result"],
            registry=registry,
        )
        self.retries = Counter(
            "tryvoha_webhook_retries_total",
            "Failed webhook requests that will be tried again",
            registry=registry,
        )
        self.dead_letters = Counter(
            "tryvoha_webhook_dead_letters_total",
            "Events given up on after their retry budget",
            registry=registry,
        )
        self.latency = Histogram(
            "tryvoha_webhook_delivery_seconds",
            "From an event's commit to its acknowledgement by a receiver",
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0, 60.0, 600.0, 3600.0, 86400.0),
            registry=registry,
        )
        self.subscriptions = Gauge(
            "tryvoha_webhook_subscriptions",
            "Webhook subscriptions being delivered",
            registry=registry,
        )
        self.failing = Gauge(
            "tryvoha_webhook_failing_subscriptions",
            "Webhook subscriptions whose last request failed",
            registry=registry,
        )


class MqttMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.publishes = Counter(
            "tryvoha_mqtt_publishes_total",
            "MQTT messages acknowledged by the broker, by kind: event or status",
            ["kind"],
            registry=registry,
        )
        self.connected = Gauge(
            "tryvoha_mqtt_connected", "1 while connected to the MQTT broker", registry=registry
        )
        self.connects = Counter(
            "tryvoha_mqtt_connects_total",
            "Connections made to the MQTT broker, the first included",
            registry=registry,
        )
        self.connect_failures = Counter(
            "tryvoha_mqtt_connection_failures_total",
            "Failed connection attempts and dropped connections",
            registry=registry,
        )
