"""
Shipped scenario files (data): `common.toml` and one TOML file per night.
"""

from __future__ import annotations
