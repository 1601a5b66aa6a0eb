"""
Importing the official sirens dataset: read, drop what is already stored, write, and account
for every row.

The summary's counts add up to the rows read: imported + duplicates + rejected. A duplicate is
a row whose (source, region, type, start, finish) is already stored, or appears earlier in the
same file; importing the same file twice therefore imports nothing the second time.
"""

from __future__ import annotations

import time
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import pandas as pd

from tryvoha.history.repository import HistoryRepository
from tryvoha.history.sirens import AIR_RAID, Rejection, read_sirens

SIRENS = "sirens"
ATTACKS = "attacks"


class ProgressSink(Protocol):
    def stage(self, description: str, total: int | None) -> None:
        """A new stage of *total* steps (None when unknown) begins."""

    def advance(self, amount: int) -> None: ...


class NoProgress:
    def stage(self, description: str, total: int | None) -> None:
        pass

    def advance(self, amount: int) -> None:
        pass


@dataclass(frozen=True, slots=True)
class ImportSummary:
    file: str
    kind: str
    source: str
    unit: str
    rows_read: int
    imported: int
    duplicates: int
    rejected: tuple[Rejection, ...]
    revised: int = 0
    repaired: tuple[Rejection, ...] = ()
    notes: tuple[str, ...] = field(default=())

    @property
    def accounted(self) -> int:
        return self.imported + self.duplicates + self.revised + len(self.rejected)

    def describe(self) -> list[str]:
        """The summary as lines for people; rejections one per line with their place."""
        lines = [
            f"{self.file}: {self.rows_read} rows read ({self.source})",
            f"  imported:   {self.imported}",
            f"  duplicates: {self.duplicates} (already stored or repeated in the file)",
        ]
        if self.kind == ATTACKS:
            lines.append(f"  revised:    {self.revised} (changed upstream; stored row updated)")
        lines.append(f"  rejected:   {len(self.rejected)}")
        lines += [f"    {self.unit} {r.line}: {r.reason}" for r in self.rejected[:50]]
        if len(self.rejected) > 50:
            lines.append(f"    ... and {len(self.rejected) - 50} more (see --rejects FILE)")
        if self.repaired:
            lines.append(f"  repaired:   {len(self.repaired)} (imported)")
            lines += [f"    {self.unit} {r.line}: {r.reason}" for r in self.repaired[:50]]
        lines += [f"  note: {note}" for note in self.notes]
        return lines

    def write_rejections(self, path: Path) -> None:
        """All rejections as CSV: the place in the file and the reason."""
        frame = pd.DataFrame(
            {
                self.unit: [r.line for r in self.rejected],
                "reason": [r.reason for r in self.rejected],
            }
        )
        frame.to_csv(path, index=False)


def import_sirens(
    repository: HistoryRepository,
    path: Path,
    *,
    known_regions: Collection[str] | None = None,
    progress: ProgressSink | None = None,
    now_ms: int | None = None,
) -> ImportSummary:
    """
    Import an official sirens CSV or the derived parquet into *repository*.
    """
    progress = progress or NoProgress()
    progress.stage(f"reading {path.name}", None)
    parsed = read_sirens(path, known_regions)
    rows = parsed.rows
    progress.stage("checking for duplicates", None)
    key = ["region_id", "started_ms", "finished_ms"]
    repeated = rows.duplicated(key)
    rows = rows[~repeated]
    stored = repository.alert_keys(parsed.source)
    stored = stored[stored["type"] == AIR_RAID]
    existing = pd.MultiIndex.from_frame(stored[key]) if len(stored) else None
    if existing is not None:
        known = pd.MultiIndex.from_frame(rows[key]).isin(existing)
        new = rows[~known]
    else:
        new = rows
    duplicates = int(repeated.sum()) + len(rows) - len(new)
    records = pd.DataFrame(
        {
            "source": parsed.source,
            "region_id": new["region_id"],
            "type": AIR_RAID,
            "started_ms": new["started_ms"],
            "finished_ms": new["finished_ms"],
            "subalerts": new["subalerts"].astype(object).where(new["subalerts"] > 0, None),
        }
    )
    summary = ImportSummary(
        file=path.name,
        kind=SIRENS,
        source=parsed.source,
        unit=parsed.unit,
        rows_read=parsed.rows_read,
        imported=len(records),
        duplicates=duplicates,
        rejected=tuple(parsed.rejected),
        repaired=tuple(parsed.repaired),
    )
    progress.stage(f"writing {len(records)} intervals", len(records))
    repository.add_alerts(records, import_record(summary, now_ms), progress.advance)
    return summary


def import_record(summary: ImportSummary, now_ms: int | None) -> dict[str, object]:
    return {
        "kind": summary.kind,
        "source": summary.source,
        "file_name": summary.file,
        "imported_ms": now_ms if now_ms is not None else int(time.time() * 1000),
        "rows_read": summary.rows_read,
        "imported": summary.imported,
        "duplicates": summary.duplicates,
        "revised": summary.revised,
        "rejected": len(summary.rejected),
    }
