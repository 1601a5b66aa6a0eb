"""
The alert history and the attacks register: importing the official sirens dataset and the
attacks file, the statistics over imported and live alerts, and their pictures
(docs/history.md).
"""

from __future__ import annotations
