"""The exceptions of fedhub_client: each message names what is wrong and what to do."""


class FedhubError(Exception):
    """Base class of every error this package raises on purpose."""


class FormatError(FedhubError):
    """A model package or contribution file that is not what the hub writes (frame, header, sizes, hash)."""


class ArchitectureError(FedhubError):
    """An architecture or recipe JSON this client cannot build or train."""


class DataError(FedhubError):
    """A data source (--data) that cannot be read or does not fit the model."""


class HubError(FedhubError):
    """A request the hub refused (its JSON error), or a hub that could not be reached.

    ``code`` is the hub's error code (``stale``, ``duplicate``, ``unauthorized``,
    ``unknown_model``, ...) or ``unavailable`` when no answer came; ``status``
    is the HTTP status (0 when there was none).
    """

    def __init__(self, code: str, message: str, status: int = 0):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
