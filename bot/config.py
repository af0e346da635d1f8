"""Settings from environment variables and an optional ``.env`` file.

Sections mirror who uses them (Telegram, the LLM service, the coach itself). Secrets are
``SecretStr``: they print as '**********' in logs, reprs and tracebacks.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, BaseModel, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.errors import ConfigError
from knowledge.embeddings import Backend


def default_data_dir() -> Path:
    """Where the index and the bot's database live unless COACH_DATA_DIR says otherwise."""
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "complaint-coach"


class _Section(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")


class TelegramSettings(_Section):
    model_config = SettingsConfigDict(env_prefix="TELEGRAM_")

    bot_token: SecretStr | None = None
    # A self-hosted Bot API server (or the test suite's fake); None means api.telegram.org.
    api_base: str | None = None
    # Checked on every webhook call (Telegram sends it back in a header); set the same value on
    # every replica. Unused with long polling.
    webhook_secret: SecretStr | None = None


class LLMSettings(_Section):
    model_config = SettingsConfigDict(env_prefix="OPENAI_")

    api_key: SecretStr | None = None
    # Any OpenAI-compatible server: Ollama, vLLM, llama.cpp's server, LM Studio.
    base_url: str | None = None
    model: str = Field("gpt-4o-mini", validation_alias=AliasChoices("COACH_LLM_MODEL"))
    embedding_model: str = Field(
        "text-embedding-3-small", validation_alias=AliasChoices("COACH_EMBEDDING_MODEL")
    )
    # Seconds one call may take before the offline draft is shown instead.
    timeout: float = Field(30.0, gt=0, validation_alias=AliasChoices("COACH_LLM_TIMEOUT"))
    max_retries: int = Field(2, ge=0, le=5, validation_alias=AliasChoices("COACH_LLM_RETRIES"))
    # json_schema for OpenAI; many local servers only support function_calling.
    structured_method: Literal["json_schema", "function_calling", "json_mode"] = Field(
        "json_schema", validation_alias=AliasChoices("COACH_LLM_METHOD")
    )

    @property
    def configured(self) -> bool:
        return self.api_key is not None or self.base_url is not None


class CoachSettings(_Section):
    model_config = SettingsConfigDict(env_prefix="COACH_")

    # hash: same retrieval quality as e5 on the labelled reviews, five times faster, no model in
    # memory (see README, Figures). e5 stays one setting away for semantic search of your files.
    embeddings: Backend = "hash"
    data_dir: Path = Field(default_factory=default_data_dir)
    allowed_users: Annotated[list[int], NoDecode] = Field(default_factory=list)
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    # Per-user limits on drafts when the bot is open to everyone (no allowlist).
    rate_per_minute: int = Field(10, ge=1)
    rate_per_day: int = Field(200, ge=1)
    # Conversation state shared by replicas; memory when unset. Secret: the URL may hold a password.
    redis_url: SecretStr | None = Field(None, validation_alias=AliasChoices("REDIS_URL"))

    @field_validator("allowed_users", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        # "123, 456" in the environment; a list when built in code.
        if isinstance(value, str):
            return [part for part in value.replace(";", ",").split(",") if part.strip()]
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value


class Settings(BaseModel):
    telegram: TelegramSettings
    llm: LLMSettings
    coach: CoachSettings


def _section(cls: type[_Section], env_file: Path | None) -> _Section:
    try:
        return cls(_env_file=env_file)  # type: ignore[call-arg]
    except ValidationError as error:
        problem = error.errors()[0]
        field = str(problem["loc"][0])
        # Aliased fields report their variable name already; others need the section's prefix.
        name = field if field.isupper() else f"{cls.model_config.get('env_prefix', '')}{field}"
        raise ConfigError(f"setting {name.upper()} is not valid: {problem['msg']}") from error


def load_settings(env_file: Path | None = Path(".env")) -> Settings:
    """Read every section; a bad value becomes one sentence naming the variable."""
    return Settings(
        telegram=_section(TelegramSettings, env_file),  # type: ignore[arg-type]
        llm=_section(LLMSettings, env_file),  # type: ignore[arg-type]
        coach=_section(CoachSettings, env_file),  # type: ignore[arg-type]
    )
