"""
A real `tryvoha serve` with a signing key: the feed and a signed message over HTTP, checked
by `tryvoha cap verify`.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from lxml import etree

from tests.cap.chains import write_keypair
from tests.servers import running_server
from tryvoha.cli import main
from tryvoha.core.auth import Role
from tryvoha.storage.sqlite import SQLiteStore
from tryvoha.tokens import create_token

pytestmark = pytest.mark.slow
ATOM = "{http://www.w3.org/2005/Atom}"


def test_a_served_message_verifies_with_the_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key, cert = write_keypair(tmp_path, "rsa", "127.0.0.1")
    store = SQLiteStore(tmp_path / "e2e.db")
    store.migrate()
    token = create_token(store, name="duty", role=Role.OPERATOR)
    store.close()
    env = {"TRYVOHA_CAP_KEY": str(key), "TRYVOHA_CAP_CERT": str(cert)}
    with running_server(f"sqlite:///{tmp_path / 'e2e.db'}", env=env) as server:
        raised = httpx.post(
            f"{server.url}/api/alerts",
            json={"regions": ["31"], "type": "air_raid"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        assert raised.status_code == 201, raised.text
        feed = httpx.get(f"{server.url}/cap/feed.atom", timeout=10)
        assert feed.status_code == 200
        link = etree.fromstring(feed.content).find(f"{ATOM}entry/{ATOM}link")
        assert link is not None
        href = link.get("href") or ""
        assert href.startswith(f"{server.url}/cap/alerts/127.0.0.1:")
        message = httpx.get(href, timeout=10)
        assert message.headers["content-type"] == "application/cap+xml"
    path = tmp_path / "message.xml"
    path.write_bytes(message.content)
    args = ["cap", "verify", str(path), "--cert", str(cert), "--require-signature", "--strict"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "signature: valid (RSA-SHA256), signed by the given certificate" in out
    path.write_bytes(message.content.replace(b"Shelter", b"Monitor", 1))
    assert main(args) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "digest mismatch" in err
