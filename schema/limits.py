"""Query protection (placeholder: completed by the protection work)."""

from __future__ import annotations

from typing import Any

from api.settings import Settings


def protection_extensions(settings: Settings) -> list[Any]:
    return []
