"""The config: what can be configured (schema), where the file is and how it is read (load), and
how a TOML document is checked and turned into a Config (validate). Import from here."""

from rota.config.load import config_file, config_path, load_config
from rota.config.schema import (
    DEFAULT_CATEGORIES,
    DEFAULT_PROMPT,
    DEFAULT_TIERS,
    MIN_SESSIONS_DAYS,
    ArmConfig,
    BanditSettings,
    Config,
    GradingSettings,
    HarnessConfig,
    HealthSettings,
    PacingSettings,
    PoolConfig,
    QuotaSettings,
    RetentionSettings,
    Rule,
    RunSettings,
    ScheduleSettings,
    WorkspaceConfig,
)
from rota.config.validate import parse_config

__all__ = [
    "DEFAULT_CATEGORIES",
    "DEFAULT_PROMPT",
    "DEFAULT_TIERS",
    "MIN_SESSIONS_DAYS",
    "ArmConfig",
    "BanditSettings",
    "Config",
    "GradingSettings",
    "HarnessConfig",
    "HealthSettings",
    "PacingSettings",
    "PoolConfig",
    "QuotaSettings",
    "RetentionSettings",
    "Rule",
    "RunSettings",
    "ScheduleSettings",
    "WorkspaceConfig",
    "config_file",
    "config_path",
    "load_config",
    "parse_config",
]
