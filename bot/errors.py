"""Errors of the application layer; like the knowledge layer's, each message is for the seller."""


class CoachError(Exception):
    """Base of the application's seller-facing errors."""


class ConfigError(CoachError):
    """A setting is missing or has a value we cannot use."""


class InputError(CoachError):
    """Text or a file given on the command line cannot be used."""


class LLMUnavailableError(CoachError):
    """The LLM service gave no usable answer (timeout, error, refusal, unparsable output); the
    engine falls back to the offline draft."""
