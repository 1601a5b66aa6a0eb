"""Keys given in URLs never reach the access log."""

from __future__ import annotations

import logging

import pytest

from tryvoha.api.redact import ACCESS_LOGGER, RedactKeys, install_redaction, redact_keys


@pytest.mark.parametrize(
    ("target", "logged"),
    [
        ("/api/stream?access_token=tv_1&after=3", "/api/stream?access_token=***&after=3"),
        ("/v1/alerts/active.json?token=abc", "/v1/alerts/active.json?token=***"),
        ("/x?a=1&TOKEN=abc#frag", "/x?a=1&TOKEN=***#frag"),
        ("/x?mytoken=abc", "/x?mytoken=abc"),
        ("/api/alerts/active", "/api/alerts/active"),
    ],
)  # fmt: skip
def test_key_values_are_replaced(target: str, logged: str) -> None:
    assert redact_keys(target) == logged


def test_uvicorn_access_records_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    install_redaction()
    install_redaction()
    logger = logging.getLogger(ACCESS_LOGGER)
    assert sum(isinstance(f, RedactKeys) for f in logger.filters) == 1
    with caplog.at_level(logging.INFO, logger=ACCESS_LOGGER):
        logger.info(
            '%s - "%s %s HTTP/%s" %d',
            "127.0.0.1:5",
            "GET",
            "/api/stream?access_token=tv_x",
            "1.1",
            200,
        )
    assert caplog.messages == ['127.0.0.1:5 - "GET /api/stream?access_token=*** HTTP/1.1" 200']
