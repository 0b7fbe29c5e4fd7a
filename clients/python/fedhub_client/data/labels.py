"""Matching class names to the model's labels (fedhub::label_key) and the CLASSES filter."""

from __future__ import annotations

from typing import List, Optional, Sequence

from ..errors import DataError


def label_key(name: str) -> str:
    """Lower case, ASCII letters and digits only, the part before a '/': ``T-shirt/top`` -> ``tshirt``."""
    return "".join(c.lower() for c in name.split("/", 1)[0] if c.isascii() and c.isalnum())


def find_label(labels: Sequence[str], name: str) -> int:
    """Index of ``name`` in ``labels`` by label_key, or -1."""
    key = label_key(name)
    for i, label in enumerate(labels):
        if label_key(label) == key:
            return i
    return -1


def read_labels_file(path: str) -> List[str]:
    """One name per line; surrounding whitespace trimmed, blank lines and '#' comments skipped."""
    try:
        with open(path, encoding="utf-8") as f:
            lines = [line.strip() for line in f]
    except OSError as e:
        raise DataError(f"cannot read label file '{path}': {e.strerror}") from e
    names = [line for line in lines if line and not line.startswith("#")]
    if not names:
        raise DataError(f"{path}: the label list is empty")
    return names


def _available(count: int, names: Sequence[str]) -> str:
    if not names:
        return f"class indices 0..{count - 1}"
    return "classes " + ", ".join(f"{i} '{n}'" for i, n in enumerate(names))


def _find_class(token: str, count: int, names: Sequence[str]) -> int:
    if names:
        if token in names:
            return list(names).index(token)
        i = find_label(names, token)
        if i >= 0 and label_key(token):
            return i
    if token.isdigit() and len(token) <= 9 and int(token) < count:
        return int(token)
    return -1


def select_classes(tokens: Sequence[str], count: int, names: Sequence[str], source: str) -> List[bool]:
    """Which source classes the CLASSES tokens keep (all when there are none); DataError naming unknown tokens."""
    keep = [not tokens] * count
    unknown = []
    for token in tokens:
        i = _find_class(token, count, names)
        if i < 0:
            unknown.append(token)
        else:
            keep[i] = True
    if unknown:
        hint = " (names need a labels file, --data-labels)" if not names else ""
        raise DataError(
            f"{source}: the class list names {', '.join(repr(t) for t in unknown)}, which the source does not have; "
            f"it has {_available(count, names)}{hint}"
        )
    return keep


def map_classes(
    count: int, names: Sequence[str], keep: Sequence[bool], model_labels: Sequence[str], source: str,
    names_from: Optional[str] = None,
) -> List[int]:
    """For every source class its model label (-1 when dropped): by name, or index to index without names."""
    to_model = [-1] * count
    missing = []
    for i in range(count):
        if not keep[i]:
            continue
        if not names:
            if i < len(model_labels):
                to_model[i] = i
            else:
                missing.append(str(i))
            continue
        label = find_label(model_labels, names[i])
        if label < 0:
            missing.append(names[i])
        else:
            to_model[i] = label
    if not missing:
        return to_model
    listed = ", ".join(repr(m) for m in missing)
    if not names:
        raise DataError(
            f"{source}: the source has {count} classes but the model only {len(model_labels)} labels, and without "
            f"class names class i is label i: classes {listed} have no label; give the class names in a labels "
            "file (--data-labels) or keep fewer classes with :CLASSES"
        )
    origin = f" (names from {names_from})" if names_from else ""
    raise DataError(
        f"{source}: classes {listed}{origin} are not among the model's labels ({', '.join(model_labels)}); "
        "rename them or leave them out with :CLASSES"
    )
