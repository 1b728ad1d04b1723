"""Accounts: sign up and sign in."""

from __future__ import annotations

import re
from collections.abc import Sequence

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from core.errors import AlreadyExists, ErrorCode
from core.validation import Checks
from models import SearchKind, User
from search.documents import reindex
from social.engagement import create_default_board
from social.errors import InvalidCredentials
from social.passwords import hash_password, verify_password
from social.topics import clean_topic_names

HANDLE = re.compile(r"^[a-z0-9_]{3,30}$")
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
MIN_PASSWORD, MAX_PASSWORD = 8, 128
MAX_LANGUAGES, MAX_INTERESTS = 5, 20


async def sign_up(
    *,
    email: str,
    password: str,
    handle: str,
    display_name: str | None,
    languages: Sequence[str] = (),
    interests: Sequence[str] = (),
) -> User:
    """Create an account; every input problem is reported at once."""
    checks = Checks()
    email_clean = email.strip().casefold()
    if not EMAIL.match(email_clean) or len(email_clean) > 254:
        checks.fail("email", ErrorCode.INVALID, "Enter a valid email address.")
    if len(password) < MIN_PASSWORD:
        checks.fail("password", ErrorCode.TOO_SHORT, f"Passwords need at least {MIN_PASSWORD} characters.")
    elif len(password) > MAX_PASSWORD:
        checks.fail("password", ErrorCode.TOO_LONG, f"Passwords are limited to {MAX_PASSWORD} characters.")
    handle_clean = handle.strip().lstrip("@").casefold()
    if not HANDLE.match(handle_clean):
        checks.fail(
            "handle", ErrorCode.INVALID, "Handles are 3–30 characters: letters a–z, digits and underscores."
        )
    name = checks.text("display_name", display_name or handle_clean, max_length=50)
    langs = clean_languages(checks, languages)
    topics = clean_topic_names(checks, "interests", interests, maximum=MAX_INTERESTS)
    checks.done()

    taken = await User.filter(Q(email=email_clean) | Q(handle=handle_clean)).values_list("email", "handle")
    if any(email == email_clean for email, _ in taken):
        checks.fail("email", ErrorCode.ALREADY_EXISTS, "An account with this email already exists.")
    if any(handle == handle_clean for _, handle in taken):
        checks.fail("handle", ErrorCode.ALREADY_EXISTS, "This handle is taken.")
    checks.done()
    try:
        async with in_transaction():
            user = await User.create(
                email=email_clean,
                handle=handle_clean,
                display_name=name,
                password_hash=hash_password(password),
                languages=langs,
                interests=topics,
            )
            await create_default_board(user)
            await reindex(SearchKind.USER, [user.id])
            return user
    except IntegrityError as exc:  # a concurrent sign-up won the race for the email or handle
        raise AlreadyExists("This email or handle was just taken.", "handle") from exc


async def sign_in(*, email: str, password: str) -> User:
    """The account for these credentials; unknown email and wrong password look the same."""
    user = await User.get_or_none(email=email.strip().casefold())
    if not verify_password(user.password_hash if user else None, password) or user is None:
        raise InvalidCredentials()
    return user


async def update_profile(
    *,
    user_id: int,
    display_name: str | None = None,
    bio: str | None = None,
    avatar_url: str | None = None,
    languages: Sequence[str] | None = None,
    interests: Sequence[str] | None = None,
) -> User:
    """Change the fields given; an empty avatar URL removes the avatar."""
    checks = Checks()
    changes: dict[str, object] = {}
    if display_name is not None:
        changes["display_name"] = checks.text("display_name", display_name, max_length=50)
    if bio is not None:
        changes["bio"] = checks.text("bio", bio, max_length=500, min_length=0) or ""
    if avatar_url is not None:
        changes["avatar_url"] = checks.url("avatar_url", avatar_url) if avatar_url.strip() else None
    if languages is not None:
        changes["languages"] = clean_languages(checks, languages)
    if interests is not None:
        changes["interests"] = clean_topic_names(checks, "interests", interests, maximum=MAX_INTERESTS)
    checks.done()
    if changes:
        async with in_transaction():
            await User.filter(id=user_id).update(**changes)
            if "display_name" in changes or "bio" in changes:
                await reindex(SearchKind.USER, [user_id])
    return await User.get(id=user_id)


def clean_languages(checks: Checks, languages: Sequence[str]) -> list[str]:
    if not checks.count("languages", languages, maximum=MAX_LANGUAGES):
        return []
    result: list[str] = []
    for i, raw in enumerate(languages):
        code = raw.strip()
        if not LANGUAGE.match(code):
            checks.fail(("languages", i), ErrorCode.INVALID, f"'{raw[:20]}' is not a language code.")
        elif code not in result:
            result.append(code)
    return result
