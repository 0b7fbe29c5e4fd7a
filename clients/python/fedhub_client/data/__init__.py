"""Local data for training: the ``--data`` sources of docs/models.md (``idx:`` and ``folder:``),
converted to the model's input shape and labelled with the model's labels."""

from .dataset import Dataset, load_data  # noqa: F401

__all__ = ["Dataset", "load_data"]
