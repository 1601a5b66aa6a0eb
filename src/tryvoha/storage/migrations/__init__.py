"""
The Alembic environment of the durable stores; run it through `tryvoha.storage.migrate`.
"""

from __future__ import annotations
