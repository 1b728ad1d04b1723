"""Topic families: names that mean one thing to a reader (健身, fitness, gym), whatever the language.

Search finds each name by the others (search/concepts.py), and the feed counts a family as one interest,
one topic for its diversity rules and one name in its reasons (feed/ranking.py). The families are data: the
table `topic_aliases`, first filled from search/data/topic_families.txt by migration 0013 and edited by
admins with `vermilion topics alias` / `vermilion topics unalias`. Each process keeps them in memory and
reads them again at most every RELOAD_SECONDS, so an admin's change reaches every worker within that.
"""

from __future__ import annotations

import time
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from tortoise.backends.base.client import BaseDBAsyncClient

from core.sql import fetch_all
from core.validation import strip_invisible

SEED_FILE = Path(__file__).parent / "data" / "topic_families.txt"
RELOAD_SECONDS = 60.0
MAX_NAME_LENGTH = 64  # a topic name's


def normalize_name(raw: str) -> str:
    """A topic name as topics store it: NFKC, case-folded, without invisible characters, leading '#'s and
    runs of whitespace ("#护肤", "＃护肤" and "护\u200b肤" are one name; "Skin  Care" is "skin care")."""
    text = strip_invisible(unicodedata.normalize("NFKC", raw)).strip()
    text = text.lstrip("#").strip()
    return " ".join(text.casefold().split())


@dataclass(frozen=True)
class Families:
    """Each name's family key, and each family's names (its key first)."""

    by_name: Mapping[str, str] = field(default_factory=dict)
    members: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def family(self, name: str) -> str:
        """The family a topic name belongs to: its key, or the name itself when it has no family."""
        return self.by_name.get(name, name)

    def names(self, name: str) -> tuple[str, ...]:
        """Every name of `name`'s family (the key first), or just `name`."""
        key = self.by_name.get(name)
        return self.members[key] if key is not None else (name,)

    @classmethod
    def of(cls, pairs: Iterable[tuple[str, str]]) -> Families:
        """From (name, family key) pairs; a key is a name of its own family."""
        by_name: dict[str, str] = {}
        for name, key in pairs:
            by_name.setdefault(key, key)
            by_name[name] = key
        members: dict[str, list[str]] = {}
        for name, key in sorted(by_name.items(), key=lambda item: (item[0] != item[1], item[0])):
            members.setdefault(key, []).append(name)
        return cls(by_name, {key: tuple(names) for key, names in members.items()})


def read_seed_file(path: Path = SEED_FILE) -> list[list[str]]:
    """The families the app ships with: each a list of names, its key first."""
    found: list[list[str]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        names = [normalize_name(n) for n in line.split("|")]
        found.append(list(dict.fromkeys(n for n in names if n)))
    return found


async def install_seed_families(connection: BaseDBAsyncClient | None = None) -> int:
    """Write the shipped families into `topic_aliases` (names already there keep their family); how many
    names were added. Migration 0013 runs it."""
    known = {r["name"] for r in await fetch_all("SELECT name FROM topic_aliases", (), connection)}
    now = datetime.now(UTC)
    added = 0
    for names in read_seed_file():
        for name in names:
            if name in known:
                continue
            known.add(name)
            await fetch_all(
                "INSERT INTO topic_aliases (name, family, created_at) VALUES ($1, $2, $3)",
                [name, names[0], now],
                connection,
            )
            added += 1
    return added


async def load_families(connection: BaseDBAsyncClient | None = None) -> Families:
    """Every family, from the table (one statement)."""
    rows = await fetch_all("SELECT name, family FROM topic_aliases", (), connection)
    return Families.of((r["name"], r["family"]) for r in rows)


class FamilyCache:
    """The families as this process last read them, read again when older than RELOAD_SECONDS."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._families = Families()
        self._read_at: float | None = None

    async def get(self) -> Families:
        now = self._clock()
        if self._read_at is None or now - self._read_at >= RELOAD_SECONDS:
            self._families = await load_families()
            self._read_at = now
        return self._families

    def current(self) -> Families:
        """The families last read (empty before the first `get`), for code that cannot wait."""
        return self._families

    def invalidate(self) -> None:
        self._read_at = None


families = FamilyCache()


class AliasError(ValueError):
    """A name an admin gave cannot be an alias (empty or too long once normalised)."""


def _clean(raw: str) -> str:
    name = normalize_name(raw)
    if not name or len(name) > MAX_NAME_LENGTH:
        raise AliasError(f"{raw[:80]!r} is not a topic name: 1–{MAX_NAME_LENGTH} characters once normalised.")
    return name


async def set_alias(name: str, family: str) -> tuple[str, str]:
    """Put `name` in the family keyed `family` (a new family when no name has that key yet; the key becomes
    a name of its own family). A name already in another family moves. Returns (name, family key)."""
    name, key = _clean(name), _clean(family)
    existing = await fetch_all("SELECT family FROM topic_aliases WHERE name = $1", [key])
    if existing:  # `family` is a name already in a family: join that family
        key = existing[0]["family"]
    now = datetime.now(UTC)
    for member in dict.fromkeys([key, name]):
        await fetch_all(
            "INSERT INTO topic_aliases (name, family, created_at) VALUES ($1, $2, $3)"
            " ON CONFLICT (name) DO UPDATE SET family = excluded.family",
            [member, key, now],
        )
    families.invalidate()
    return name, key


async def remove_alias(name: str) -> bool:
    """Take `name` out of its family; whether it was in one. Removing a family's key dissolves the family
    when only the key is left."""
    name = _clean(name)
    rows = await fetch_all("DELETE FROM topic_aliases WHERE name = $1 RETURNING family", [name])
    if rows:
        key = rows[0]["family"]
        left = await fetch_all("SELECT name FROM topic_aliases WHERE family = $1", [key])
        if [r["name"] for r in left] == [key]:
            await fetch_all("DELETE FROM topic_aliases WHERE name = $1", [key])
    families.invalidate()
    return bool(rows)
