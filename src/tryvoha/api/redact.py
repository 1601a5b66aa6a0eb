"""
Keys in URLs kept out of the access log: `?access_token=` (native reads from browsers) and
alerts.in.ua's `?token=`. A log line is read by more people than a key should be.
"""

from __future__ import annotations

import logging
import re

ACCESS_LOGGER = "uvicorn.access"

_KEY_IN_QUERY = re.compile(r"([?&](?:access_token|token)=)[^&#\s]*", re.IGNORECASE)


def redact_keys(target: str) -> str:
    """*target* (a path with its query) with every key's value replaced by `***`."""
    return _KEY_IN_QUERY.sub(r"\1***", target)


class RedactKeys(logging.Filter):
    """Rewrites uvicorn's access records: `(client, method, path, version, status)`."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], redact_keys(args[2]), *args[3:])
        return True


def install_redaction() -> None:
    """Add the filter to uvicorn's access logger, once per process."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, RedactKeys) for f in logger.filters):
        logger.addFilter(RedactKeys())
