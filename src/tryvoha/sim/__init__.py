"""
The simulator and scoring: seeded nights of threats, the surveillance feed they give,
and how well a warning policy served the areas they reached (docs/engine.md).
"""

from __future__ import annotations
