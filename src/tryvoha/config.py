"""
Settings from `TRYVOHA_*` environment variables; command-line flags override them.
"""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TRYVOHA_", extra="ignore")

    database_url: str = "sqlite:///./var/tryvoha.db"
    bus_url: str = "memory://"
    mqtt_url: str | None = None
    cap_key: str | None = None
    cap_cert: str | None = None
    host: str = "127.0.0.1"
    port: int = 8080
    regions_dir: str | None = None
    """A directory written by `tryvoha regions import`; the bundled Ukraine when unset."""
    max_body_bytes: int = 256 * 1024
    public_read: bool = True
    """Reads (alerts, regions, streams) need no token; writes always do."""
    compat_keyless: bool = False
    compat_rate_per_minute: float = 120.0
    """Requests per minute per token on the alerts.in.ua/ukrainealarm APIs (never native)."""
    compat_rate_burst: int = 120
    compat_history_per_minute: float = 10.0
    compat_history_burst: int = 10
    webhook_allow_private: bool = False
    """Allow webhook URLs on loopback and private networks (link-local never, unless below)."""
    webhook_allow_link_local: bool = False
    webhook_concurrency: int = 64
    webhook_timeout_seconds: float = 10.0
    webhook_retry_base_seconds: float = 1.0
    webhook_retry_cap_seconds: float = 600.0
    webhook_retry_hours: float = 24.0
    webhook_max_per_owner: int = 100
    mqtt_topic_prefix: str = "tryvoha"
    stream_heartbeat_s: float = 15.0
    """Seconds between SSE comment heartbeats and WebSocket pings."""
    stream_buffer_events: int = 4096
    """Events a slow stream connection may fall behind before it is closed (it resumes)."""
    engine_config: str | None = None
    """A warning-engine parameter file (TOML); the shipped `data/engine.toml` when unset."""
    public_url: str | None = None
    """The URL people reach this server at, for links in CAP and feeds."""
