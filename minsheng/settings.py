"""One settings loader over ``configs/``.

``configs/base.yaml`` holds the defaults; the environment named by ``MINSHENG_ENV`` (``demo``,
``test``, ...) overlays ``configs/<env>.yaml``; ``MINSHENG_*`` environment variables win over
both (nested keys with ``__``, e.g. ``MINSHENG_EMBEDDER__KIND``). Nothing is read at import
time: call :func:`load_settings`.
"""

from __future__ import annotations

import os
from datetime import date, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from minsheng.channels.base import IngestLimits
from minsheng.domain import ChannelMapping, District, Taxonomy

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG_DIR = PROJECT_ROOT / "configs"


class DemoSettings(BaseModel):
    weeks: int = 8
    seed: int = 20261125
    start_week: str = "2026-W40"


class EmbedderSettings(BaseModel):
    kind: Literal["project", "pretrained"] = "project"
    path: str | None = None
    dim: int = 128


class ClassifierSettings(BaseModel):
    unknown_threshold: float = 0.35
    review_threshold: float = 0.6  # items less confident than this go to the review queue
    train_size: int = 6000
    seed: int = 7


class PipelineSettings(BaseModel):
    runner: str = "FnApiRunner"
    batch_size: int = 256


class StreamingSettings(BaseModel):
    inbox: Path = Path("data/inbox")
    poll_seconds: float = 2.0
    settle_seconds: float = 2.0  # a document is read once unmodified for this long


class MatchingSettings(BaseModel):
    registry: Path = Path("data/demo/supply.yaml")  # the supply registry, YAML or CSV
    config: str = "matching.yaml"                   # costs, priorities, fairness, travel: in config_dir


class IngestSettings(BaseModel):
    max_chars: int = 5000
    earliest: date = date(2000, 1, 1)
    future_tolerance_hours: int = 24

    def limits(self) -> IngestLimits:
        return IngestLimits(self.max_chars, self.earliest, timedelta(hours=self.future_tolerance_hours))


class QuerySettings(BaseModel):
    """The planners' read path (``warehouse.planner``): what one query may use."""

    memory_limit: str = "2GB"
    threads: int = 2
    timeout_seconds: float = 30.0
    max_rows: int = 100_000          # a larger answer is refused: aggregate or add a limit
    snapshot_parquet: bool = False   # also write each mart as data/snapshot-parquet/<mart>.parquet


class PrivacySettings(BaseModel):
    """Where residents' contacts live (``warehouse.contacts``) and the key that encrypts them.
    The key comes from ``MINSHENG_PRIVACY__CONTACTS_KEY`` or a key file, never from a YAML file
    in the repository."""

    contacts_db: Path | None = None       # default: <db folder>/private/<db name>.pii.duckdb
    contacts_key: SecretStr | None = None
    contacts_key_file: Path | None = None


def _deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def _read_yaml(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


class Settings(BaseSettings):
    """Resolved settings of one run. Relative paths are relative to the working directory."""

    model_config = SettingsConfigDict(env_prefix="MINSHENG_", env_nested_delimiter="__")

    env: str = "base"
    config_dir: Path = DEFAULT_CONFIG_DIR
    data_dir: Path = Path("data")
    db: Path = Path("data/minsheng.duckdb")
    report_dir: Path = Path("reports")
    model_dir: Path = Path("data/models")
    staging_dir: Path = Path("data/staging")
    demo: DemoSettings = Field(default_factory=DemoSettings)
    embedder: EmbedderSettings = Field(default_factory=EmbedderSettings)
    classifier: ClassifierSettings = Field(default_factory=ClassifierSettings)
    pipeline: PipelineSettings = Field(default_factory=PipelineSettings)
    streaming: StreamingSettings = Field(default_factory=StreamingSettings)
    matching: MatchingSettings = Field(default_factory=MatchingSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    query: QuerySettings = Field(default_factory=QuerySettings)
    privacy: PrivacySettings = Field(default_factory=PrivacySettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # init (explicit arguments) > MINSHENG_* env vars > yaml files
        return (init_settings, env_settings, _YamlSource(settings_cls))

    @cached_property
    def district(self) -> District:
        return District.model_validate(_read_yaml(self.config_dir / "district.yaml"))

    @cached_property
    def taxonomy(self) -> Taxonomy:
        return Taxonomy.model_validate(_read_yaml(self.config_dir / "taxonomy.yaml"))

    @cached_property
    def channels(self) -> dict[str, ChannelMapping]:
        """Each channel's field mapping (``configs/channels.yaml``), by channel name."""
        raw = _read_yaml(self.config_dir / "channels.yaml")
        return {name: ChannelMapping.model_validate(m or {}) for name, m in raw.items()}

    def mapping(self, channel: str) -> ChannelMapping:
        """The field mapping of ``channel``; a one-line error when the config has none."""
        try:
            return self.channels[channel]
        except KeyError:
            raise KeyError(f"{self.config_dir / 'channels.yaml'} has no mapping for channel "
                           f"{channel!r}: add one (see the README's channel section)") from None

    @property
    def userdict(self) -> Path:
        return self.config_dir / "jieba" / "userdict.txt"

    @property
    def stopwords(self) -> Path:
        return self.config_dir / "jieba" / "stopwords.txt"


class _YamlSource(PydanticBaseSettingsSource):
    """base.yaml overlaid with <MINSHENG_ENV>.yaml from the config directory."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        config_dir = Path(os.environ.get("MINSHENG_CONFIG_DIR", DEFAULT_CONFIG_DIR))
        env = os.environ.get("MINSHENG_ENV", "base")
        data = _read_yaml(config_dir / "base.yaml")
        if env != "base":
            overlay = config_dir / f"{env}.yaml"
            if not overlay.exists():
                raise FileNotFoundError(f"MINSHENG_ENV={env!r} but {overlay} does not exist")
            data = _deep_merge(data, _read_yaml(overlay))
        data.setdefault("env", env)
        data.setdefault("config_dir", str(config_dir))
        return data


def load_settings(**overrides: Any) -> Settings:
    """Load settings; keyword arguments (e.g. ``db=Path(...)``) win over files and env."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})
