"""The errors salesml raises on purpose: one root, specific subclasses."""

from __future__ import annotations


class SalesMLError(Exception):
    """Root of every error this package raises on purpose."""

    # The input setting that fixes the error ("mapping", "date_format", "decimal",
    # "encoding"): each face (the Data page, the CLI) names it in its own words.
    setting: str | None = None

    def __init__(self, *args: object, setting: str | None = None) -> None:
        super().__init__(*args)
        self.setting = setting


class ConfigError(SalesMLError, ValueError):
    """A setting (database URL, directory, limit) is missing or malformed."""


class DatabaseUnavailableError(SalesMLError, ConnectionError):
    """The configured database cannot be reached or opened."""


class DatabaseError(SalesMLError):
    """The database refused or failed an operation (a constraint, a value, a permission)."""


class DatabasePermissionError(DatabaseError, PermissionError):
    """The database account the server uses lacks a right (to insert, to sign in): lasting
    until an administrator grants it, unlike a busy or unreachable database."""


class DatabaseBusyError(DatabaseError):
    """Another writer held the database for too long, or the database gave up a deadlock."""


class FileFormatError(SalesMLError, ValueError):
    """The file cannot be read as a sales table (format, encoding, size, layout)."""


class SchemaError(SalesMLError, ValueError):
    """The input does not have the columns or types we need."""


class AmbiguousDateError(SchemaError):
    """The dates could be day-first or month-first and the data does not decide."""


class AmbiguousNumberError(SchemaError):
    """The numbers could use a decimal point or a decimal comma and the data does not decide."""


class NothingToLoadError(SalesMLError):
    """A file was read but no row of it was new and valid; the database is unchanged."""

    def __init__(self, message: str, summary: object | None = None) -> None:
        super().__init__(message)
        self.summary = summary


class AlreadyLoadedError(NothingToLoadError):
    """Every valid row of a file is in the database already: a repeat that adds nothing,
    which each face reports as a success that loaded nothing."""


class BatchNotFoundError(SalesMLError, LookupError):
    """No ingest batch has the given id."""


class ModelNotFoundError(SalesMLError, LookupError):
    """No saved model has the given id, or its file is missing."""


class RunNotFoundError(SalesMLError, LookupError):
    """No kept training run has this id."""


class RunUnreadableError(SalesMLError, ValueError):
    """A kept training run's stored document cannot be read back (damaged, or foreign)."""


class ModelTitleError(SchemaError):
    """A model's new title is empty, too long, or already names another model."""


class ModelIntegrityError(SalesMLError):
    """A saved model file was changed, corrupted, moved outside the model directory,
    or written by other library versions."""


class JobNotFoundError(SalesMLError, LookupError):
    """No training job has the given id (jobs live as long as the server process)."""


class TrainingFailedError(SalesMLError):
    """A training run in a worker process failed; the message says why."""


class QueueFullError(SalesMLError):
    """Too many trainings are waiting already; try again once some have finished."""


class AuthenticationError(SalesMLError):
    """No valid sign-in or API token; the message never says which part was wrong."""


class SignInThrottledError(AuthenticationError):
    """Too many failed sign-ins for a name or from a client; wait before trying again."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class SessionIdleError(AuthenticationError):
    """A kept browser session went unused for longer than the idle time; sign in again."""


class PermissionDeniedError(SalesMLError, PermissionError):
    """The signed-in user's role may not do this."""


class AccountError(SalesMLError, ValueError):
    """A user or token cannot be added or changed as asked (a taken name, a short password)."""


class AccountNotFoundError(SalesMLError, LookupError):
    """No user or token has the given name or id."""


class UserNameClashError(SalesMLError):
    """Stored users whose names differ only in case stop the schema upgrade that forbids
    them, until one is renamed."""
