"""What every task of a run is handed: the run's settings and its warehouse, built once."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from minsheng.settings import Settings, load_settings
from warehouse.resource import Warehouse


@dataclass(frozen=True)
class RunContext:
    """The settings of one run and the warehouse resource over their ``db``."""

    settings: Settings
    warehouse: Warehouse

    @classmethod
    def load(cls, db: str | Path | None = None) -> RunContext:
        """Settings from ``configs/`` and the environment (``db`` wins over both)."""
        s = load_settings(db=Path(db) if db else None)
        return cls(s, Warehouse.from_settings(s))

    def __repr__(self) -> str:  # Prefect logs task inputs by repr: keep it short
        return f"RunContext(env={self.settings.env!r}, db={str(self.settings.db)!r})"
