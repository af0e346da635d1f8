"""Prompt templates are files next to this module; code only fills them in."""

from __future__ import annotations

from functools import cache
from pathlib import Path

PROMPTS_DIR = Path(__file__).resolve().parent


@cache
def load_prompt(name: str) -> str:
    """The text of prompts/<name>.md, with {placeholders} for str.format (read once a
    process: every draft uses the same few)."""
    return (PROMPTS_DIR / f"{name}.md").read_text(encoding="utf-8")


def render_prompt(name: str, **values: object) -> str:
    return load_prompt(name).format(**values)
