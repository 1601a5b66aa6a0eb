"""
tryvoha: an open, self-hostable civil air-raid alert server.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
