"""Parsing a data source string ``KIND:PATH[:CLASSES]`` (PATH is everything between the first and last ':')."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import List

from ..errors import DataError

KINDS = ("idx", "cifar", "folder")


@dataclass
class SourceSpec:
    kind: str
    path: str
    classes: List[str] = field(default_factory=list)  # empty: every class
    text: str = ""  # the source string, for messages


def parse_source(source: str) -> SourceSpec:
    """Splits a source string; DataError for a missing or unknown kind, an empty path or an empty class entry."""
    kind, sep, rest = source.partition(":")
    if not sep or not kind:
        raise DataError(f"data source '{source}' needs a kind: idx:PREFIX[:CLASSES] or folder:DIR[:CLASSES]")
    if kind not in KINDS:
        raise DataError(f"data source '{source}': unknown kind '{kind}' (use idx, cifar or folder)")
    path, classes = rest, []
    if ":" in rest:
        path, _, tail = rest.rpartition(":")
        if tail.strip():
            classes = [t.strip() for t in tail.split(",")]
            if any(not t for t in classes):
                raise DataError(f"data source '{source}': the class list has an empty entry")
    if not path:
        raise DataError(f"data source '{source}' has an empty path")
    return SourceSpec(kind, path, classes, source)
