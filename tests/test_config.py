"""Settings: environment names as documented, secrets never shown."""

from __future__ import annotations

import pytest

from bot.config import load_settings
from bot.errors import ConfigError


def test_documented_variables_are_read(monkeypatch: pytest.MonkeyPatch, tmp_path):
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:secret-token")
    monkeypatch.setenv("TELEGRAM_API_BASE", "http://127.0.0.1:8081")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-secret")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:11434/v1")
    monkeypatch.setenv("COACH_LLM_MODEL", "llama3.1")
    monkeypatch.setenv("COACH_EMBEDDINGS", "hash")
    monkeypatch.setenv("COACH_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COACH_ALLOWED_USERS", "12, 34;56")
    monkeypatch.setenv("COACH_LOG_LEVEL", "DEBUG")
    settings = load_settings(env_file=None)
    assert settings.telegram.bot_token.get_secret_value() == "123:secret-token"
    assert settings.telegram.api_base == "http://127.0.0.1:8081"
    assert settings.llm.api_key.get_secret_value() == "sk-test-secret"
    assert settings.llm.base_url == "http://127.0.0.1:11434/v1"
    assert settings.llm.model == "llama3.1"
    assert settings.coach.embeddings == "hash"
    assert settings.coach.data_dir == tmp_path
    assert settings.coach.allowed_users == [12, 34, 56]
    assert settings.coach.log_level == "debug"


def test_secrets_do_not_appear_when_settings_are_printed(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:secret-token")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-secret")
    shown = repr(load_settings(env_file=None)) + str(load_settings(env_file=None).model_dump())
    assert "secret-token" not in shown
    assert "sk-test-secret" not in shown


def test_an_env_file_is_read(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("COACH_EMBEDDINGS=hash\nOPENAI_API_KEY=sk-from-file\n", "utf-8")
    settings = load_settings(env_file=env_file)
    assert settings.coach.embeddings == "hash"
    assert settings.llm.api_key.get_secret_value() == "sk-from-file"


def test_the_defaults_need_no_token_and_no_key():
    settings = load_settings(env_file=None)
    assert settings.telegram.bot_token is None
    assert settings.llm.api_key is None
    assert not settings.llm.configured


def test_a_wrong_value_names_the_variable(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("COACH_ALLOWED_USERS", "12,alice")
    with pytest.raises(ConfigError, match="COACH_ALLOWED_USERS"):
        load_settings(env_file=None)


def _setting_names() -> set[str]:
    """Every environment variable the settings read (prefix + field, or the field's alias)."""
    from bot.config import CoachSettings, LLMSettings, TelegramSettings  # noqa: PLC0415

    names = set()
    for section in (TelegramSettings, LLMSettings, CoachSettings):
        prefix = section.model_config.get("env_prefix", "")
        for name, field in section.model_fields.items():
            alias = field.validation_alias
            names |= set(alias.choices) if alias else {f"{prefix}{name}".upper()}  # type: ignore[union-attr]
    return names


def test_every_variable_the_compose_file_and_readme_name_is_one_the_bot_reads():
    import re  # noqa: PLC0415

    import yaml  # noqa: PLC0415

    from tests.conftest import REPO  # noqa: PLC0415

    compose_text = (REPO / "docker-compose.yml").read_text("utf-8")
    compose = yaml.safe_load(compose_text)
    assert compose["services"]["bot"]["command"] == ["run"]
    named = set(compose["services"]["bot"]["environment"])
    named |= set(re.findall(r"\b([A-Z][A-Z_]{3,})=", compose_text))
    readme = (REPO / "README.md").read_text("utf-8")
    named |= set(re.findall(r"^\| `([A-Z][A-Z_]+)`", readme, flags=re.MULTILINE))
    assert named, "the files name some variables"
    assert named <= _setting_names()
