"""
Wire formats of the alerts.in.ua and ukrainealarm APIs, so their clients can use tryvoha.

Everything here is plain data in, bytes or dicts out; the HTTP routes live in
`tryvoha.api.routes.compat_alerts_in_ua` and `tryvoha.api.routes.compat_ukrainealarm`.
"""

from __future__ import annotations
