"""The gate: nothing is timed until every variant answers without errors, and Vermilion and the raw
ceiling answer with the same JSON."""

from __future__ import annotations

from typing import Any

import orjson

# Keys whose values name objects or positions: renumbered by `normalise_ids` when asked.
ID_KEYS = frozenset({"id", "cursor", "endCursor", "startCursor"})


def has_errors(answer: Any) -> bool:
    """True for a top-level `errors` list, or a non-empty `errors` anywhere in `data` (a mutation's
    UserErrors): what the wrk script counts as `"errors":[{`."""
    if not isinstance(answer, dict):
        return True
    if answer.get("errors"):
        return True
    return _nested_errors(answer.get("data"))


def _nested_errors(value: Any) -> bool:
    if isinstance(value, dict):
        return any((k == "errors" and bool(v)) or _nested_errors(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_nested_errors(v) for v in value)
    return False


def normalise_ids(value: Any, seen: dict[str, str] | None = None) -> Any:
    """A copy with every id and cursor replaced by "#n", n counting distinct values in order of first
    appearance: two answers normalise equal when they name the same objects in the same places, whatever
    the ids look like."""
    seen = {} if seen is None else seen
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key in ID_KEYS and isinstance(item, str):
                out[key] = seen.setdefault(item, f"#{len(seen)}")
            else:
                out[key] = normalise_ids(item, seen)
        return out
    if isinstance(value, list):
        return [normalise_ids(item, seen) for item in value]
    return value


def first_difference(a: Any, b: Any, path: str = "$") -> str | None:
    """Where two JSON values first differ (key order counts), as a path with both sides; None when equal."""
    if isinstance(a, dict) and isinstance(b, dict):
        if list(a) != list(b):
            return f"{path}: keys {list(a)} != {list(b)}"
        for key in a:
            found = first_difference(a[key], b[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(a, list) and isinstance(b, list):
        for i, (x, y) in enumerate(zip(a, b, strict=False)):
            found = first_difference(x, y, f"{path}[{i}]")
            if found:
                return found
        return None if len(a) == len(b) else f"{path}: {len(a)} items != {len(b)}"
    if type(a) is not type(b) or a != b:
        return f"{path}: {a!r} != {b!r}"
    return None


def compare(ours: bytes, raw: bytes) -> dict[str, Any]:
    """How Vermilion's answer compares with the raw ceiling's: `identical` bytes, `equal` after
    normalising ids, and the first difference (after normalising) when not equal.

    Vermilion's top-level `extensions` (the query cost and the caller's rate-limit bucket, which the raw
    ceiling has no limiter to report) is set aside first, its size kept as `extensions_bytes`."""
    a, b = orjson.loads(ours), orjson.loads(raw)
    extensions = a.pop("extensions", None) if isinstance(a, dict) else None
    comparable = orjson.dumps(a) if extensions is not None else ours
    difference = first_difference(normalise_ids(a), normalise_ids(b))
    return {
        "identical": comparable == raw,
        "equal": difference is None,
        "difference": difference,
        "extensions_bytes": len(ours) - len(comparable),
    }


class GateRefused(Exception):
    """A variant answered with errors, or differently from the raw ceiling: timing it would mislead."""
