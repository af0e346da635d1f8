"""Errors of the application layer; like the knowledge layer's, each message is for the seller."""


class CoachError(Exception):
    """Base of the application's seller-facing errors."""


class ConfigError(CoachError):
    """A setting is missing or has a value we cannot use."""


class MissingTokenError(ConfigError):
    """No Telegram bot token: says where to get one and how to try the product without it."""

    def __init__(self) -> None:
        super().__init__(
            "TELEGRAM_BOT_TOKEN is not set. Create a bot with @BotFather in Telegram (/newbot), "
            "then run: TELEGRAM_BOT_TOKEN=<token> complaint-coach run. To try it without "
            'Telegram: complaint-coach draft "the review text"'
        )


class InputError(CoachError):
    """Text or a file given on the command line cannot be used."""


class LLMUnavailableError(CoachError):
    """The LLM service gave no usable answer (timeout, error, refusal, unparsable output); the
    engine falls back to the offline draft."""
