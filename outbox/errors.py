"""Error hierarchy shared by the engine, the gateway and the producers."""

from __future__ import annotations

from collections.abc import Iterable


class OutboxError(Exception):
    """Outbox error."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or (self.__doc__ or "").strip())


class ConfigError(OutboxError):
    """The configuration is invalid."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"invalid configuration ({len(self.problems)} problem(s)):\n{lines}")


class InvalidMessage(OutboxError):
    """The database refused the message (bad recipient, empty content or unknown type)."""


class DatabaseUnavailable(OutboxError):
    """The database cannot be reached."""


class SchemaNotReady(OutboxError):
    """The database schema is not at the migration head; run `make migrate`."""


class MigrationFailed(OutboxError):
    """The migration did not run; the database is as it was before."""


class NotFound(OutboxError):
    """No such outbox row."""
