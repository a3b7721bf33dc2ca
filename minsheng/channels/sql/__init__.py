"""SQL of the channels' bulk readers: validation and masking of staged exports."""

from __future__ import annotations

from importlib import resources


def channel_sql(name: str) -> str:
    """The text of ``<name>.sql`` beside this module."""
    return resources.files(__package__).joinpath(f"{name}.sql").read_text(encoding="utf-8")
