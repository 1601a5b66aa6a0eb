"""
Shelters: places to go during an alert, imported from GeoJSON and found by distance.
"""

from __future__ import annotations
