"""One settings loader over a district's config folder.

A district is a folder (``minsheng init DIR`` writes a starter): ``district.yaml``,
``taxonomy.yaml``, ``channels.yaml``, ``supply.yaml``, ``matching.yaml``, ``base.yaml``,
``jieba/``. The folder is ``MINSHENG_CONFIG_DIR`` (the CLI's ``--config-dir``), else
``configs/`` in the working directory, else the packaged defaults (the demo district, shipped
as package data). A file the folder lacks comes from the packaged defaults
(:meth:`Settings.config_file`; ``minsheng validate`` says which).

Settings are the packaged ``base.yaml``, overlaid with the folder's ``base.yaml``, then with
``<MINSHENG_ENV>.yaml`` (``demo``, ``test``, ...); ``MINSHENG_*`` environment variables win over
all (nested keys with ``__``, e.g. ``MINSHENG_EMBEDDER__KIND``). Nothing is read at import
time: call :func:`load_settings`.
"""

from __future__ import annotations

import os
from datetime import date, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from minsheng.channels.base import IngestLimits
from minsheng.domain import ChannelMapping, District, Taxonomy

def packaged_config_dir() -> Path:
    """The defaults that ship with minsheng (the ``configs`` package: the demo district)."""
    from importlib import resources

    return Path(str(resources.files("configs")))


def find_config_dir(explicit: str | Path | None = None) -> Path:
    """The district's config folder: ``explicit`` (or ``MINSHENG_CONFIG_DIR``), else
    ``./configs`` if there is one, else the packaged defaults."""
    chosen = explicit or os.environ.get("MINSHENG_CONFIG_DIR") or None
    if chosen:
        path = Path(chosen)
        if not path.is_dir():
            raise FileNotFoundError(f"config folder {path} does not exist: create it with `minsheng init {path}`")
        return path
    local = Path("configs").resolve()
    return local if local.is_dir() else packaged_config_dir()


DEFAULT_CONFIG_DIR = packaged_config_dir()


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
    registry: Path | None = None   # the supply registry, YAML or CSV; none: supply.yaml in the config folder
    config: str = "matching.yaml"  # costs, priorities, fairness, travel: in the config folder


class IngestSettings(BaseModel):
    max_chars: int = 5000
    earliest: date = date(2000, 1, 1)
    future_tolerance_hours: int = 24
    #: a file with a larger share of its rows quarantined fails its run (the rows still load)
    fail_quarantine_share: float = Field(0.5, ge=0, le=1)
    #: where `ingest-dropbox` looks for new exports, laid out as `minsheng generate` writes
    dropbox: Path = Path("data/dropbox")

    def limits(self) -> IngestLimits:
        return IngestLimits(self.max_chars, self.earliest, timedelta(hours=self.future_tolerance_hours))


class ScheduleSettings(BaseModel):
    """When the deployments of `minsheng serve` run (the district's own clock)."""

    timezone: str = "Asia/Shanghai"
    dropbox_minutes: float = Field(15, gt=0)     # ingest-dropbox: every so many minutes
    stream_check_minutes: float = Field(1, gt=0)  # stream: restarted within this if it died
    nightly: str = "0 2 * * *"                    # process + match + checks (cron)
    weekly_report: str = "0 8 * * 1"              # Monday 08:00: the ISO week that just ended


class NotifySettings(BaseModel):
    """Where a failed or crashed run is announced (a JSON POST); none: nowhere."""

    webhook_url: str | None = None
    timeout_seconds: float = 10.0

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
    #: the secret of user pseudonyms (HMAC-SHA256): MINSHENG_PRIVACY__PSEUDONYM_KEY, else the
    #: key file, generated on first use (default: <db folder>/private/pseudonym.key, mode 0600)
    pseudonym_key: SecretStr | None = None
    pseudonym_key_file: Path | None = None


class WebUser(BaseModel):
    """One workbench account: ``role`` planner (read, what-if) or data (also the review queue);
    ``password_hash`` from ``minsheng web hash-password`` (argon2), never the password."""

    model_config = {"extra": "forbid"}
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.@-]+$")
    role: Literal["planner", "data"] = "planner"
    password_hash: SecretStr


class WebSettings(BaseModel):
    """The planners' workbench (``minsheng web``). The session secret comes from
    ``MINSHENG_WEB__SECRET_KEY`` or the key file (made on first start), never a YAML file in the
    repository."""

    host: str = "127.0.0.1"          # localhost only; put a reverse proxy in front for the office
    port: int = Field(8000, ge=1, le=65535)
    users: list[WebUser] = Field(default_factory=list)
    secret_key: SecretStr | None = None
    secret_key_file: Path | None = None   # default: <data_dir>/private/web-secret.key
    session_hours: float = Field(12, gt=0)
    https_only: bool = False         # mark the cookie Secure (behind a TLS proxy)
    root_path: str = ""              # the path prefix the reverse proxy serves the app under
    login_failures: int = Field(5, ge=1)           # wrong passwords in a row that lock a name...
    login_lockout_minutes: float = Field(15, gt=0)  # ...for this long


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
    schedules: ScheduleSettings = Field(default_factory=ScheduleSettings)
    notify: NotifySettings = Field(default_factory=NotifySettings)
    web: WebSettings = Field(default_factory=WebSettings)
    #: hot-issue assignment (models.issues.IssueConfig) and heat (models.heat.HeatConfig)
    issues: dict[str, Any] = Field(default_factory=dict)
    heat: dict[str, Any] = Field(default_factory=dict)

    @field_validator("config_dir", mode="before")
    @classmethod
    def _found(cls, value: Any) -> Any:
        # an empty MINSHENG_CONFIG_DIR means "not set": ./configs, else the packaged defaults
        return find_config_dir(None) if value in ("", None) else value

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

    def pseudonym_key(self) -> bytes:
        """The key of user pseudonyms (``minsheng.pii.user_pseudonym``); made on first use."""
        from minsheng.pii import load_pseudonym_key

        p = self.privacy
        secret = p.pseudonym_key.get_secret_value() if p.pseudonym_key is not None else None
        return load_pseudonym_key(secret, p.pseudonym_key_file or Path(self.db).parent / "private" / "pseudonym.key")

    def config_file(self, name: str) -> Path:
        """``name`` in the district's config folder, or the packaged default if it has none."""
        own = self.config_dir / name
        return own if own.exists() else packaged_config_dir() / name

    @cached_property
    def district(self) -> District:
        return District.model_validate(_read_yaml(self.config_file("district.yaml")))

    @cached_property
    def taxonomy(self) -> Taxonomy:
        return Taxonomy.model_validate(_read_yaml(self.config_file("taxonomy.yaml")))

    @cached_property
    def channels(self) -> dict[str, ChannelMapping]:
        """Each channel's field mapping (``channels.yaml``), by channel name."""
        raw = _read_yaml(self.config_file("channels.yaml"))
        return {name: ChannelMapping.model_validate(m or {}) for name, m in raw.items()}

    def mapping(self, channel: str) -> ChannelMapping:
        """The field mapping of ``channel``; a one-line error when the config has none."""
        try:
            return self.channels[channel]
        except KeyError:
            raise KeyError(f"{self.config_file('channels.yaml')} has no mapping for channel "
                           f"{channel!r}: add one (see the README's channel section)") from None

    @property
    def registry(self) -> Path:
        """The supply registry: ``matching.registry``, else ``supply.yaml`` in the config folder."""
        if self.matching.registry is not None:
            return self.matching.registry
        own = self.config_dir / "supply.yaml"
        if not own.exists():
            raise FileNotFoundError(f"no supply registry: put supply.yaml in {self.config_dir} "
                                    "(`minsheng init` writes a starter) or set matching.registry")
        return own

    @property
    def matching_config(self) -> Path:
        return self.config_file(self.matching.config)

    @property
    def userdict(self) -> Path:
        """The segmenter's user dictionary: the config folder's ``jieba/userdict.txt`` plus
        every name of the district's gazetteer (communities, aliases, places), so that jieba
        never splits them. Written once per content under ``data_dir/jieba/``."""
        import hashlib

        base = self.config_file("jieba/userdict.txt").read_text(encoding="utf-8")
        names = sorted({n.replace(" ", "") for n in self.district.gazetteer() if len(n) >= 2})
        text = base.rstrip("\n") + "\n" + "".join(f"{n} 2000 ns\n" for n in names)
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
        path = self.data_dir / "jieba" / f"userdict-{digest}.txt"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, path)
        return path

    @property
    def stopwords(self) -> Path:
        return self.config_file("jieba/stopwords.txt")


class _YamlSource(PydanticBaseSettingsSource):
    """The packaged base.yaml, overlaid with the config folder's base.yaml, then with
    <MINSHENG_ENV>.yaml (from the folder, else packaged)."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        config_dir = find_config_dir()
        packaged = packaged_config_dir()
        env = os.environ.get("MINSHENG_ENV", "base")
        data = _read_yaml(packaged / "base.yaml")
        if config_dir.resolve() != packaged.resolve():
            data = _deep_merge(data, _read_yaml(config_dir / "base.yaml"))
        if env != "base":
            overlay = next((d / f"{env}.yaml" for d in (config_dir, packaged) if (d / f"{env}.yaml").exists()), None)
            if overlay is None:
                raise FileNotFoundError(f"MINSHENG_ENV={env!r} but there is no {env}.yaml in {config_dir}")
            data = _deep_merge(data, _read_yaml(overlay))
        data.setdefault("env", env)
        data.setdefault("config_dir", str(config_dir))
        return data


def load_settings(**overrides: Any) -> Settings:
    """Load settings; keyword arguments (e.g. ``db=Path(...)``) win over files and env."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})
