"""Errors of the knowledge layer.

Each carries one sentence a seller can act on; the faces (CLI, Telegram) show it as is and never a
traceback.
"""


class KnowledgeError(Exception):
    """Base of every knowledge-layer error; its message is meant for the seller."""


class EmptyTextError(KnowledgeError):
    """A query or a document has no text to work with."""


class SourceNotFoundError(KnowledgeError):
    """A path given to ingest does not exist."""


class UnreadableFileError(KnowledgeError):
    """A file is binary, not UTF-8, or has no readable text."""


class IndexUnavailableError(KnowledgeError):
    """The index directory is corrupt, locked by another process, or not writable."""


class CardFormatError(KnowledgeError):
    """A card file does not follow the card schema."""
