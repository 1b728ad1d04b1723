"""Accounts: sign up, sign in, profile and password changes.

Argon2 runs on the password pool (`social.passwords.in_password_thread`), never on the event loop and never
while a transaction is open: a transaction held for 0.4 s of hashing would hold its locks (and, on SQLite,
the whole database) that long.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from core.errors import AlreadyExists, DomainError, ErrorCode
from core.validation import Checks, strip_invisible
from media.attach import attachable, set_avatar
from models import Media, MediaKind, MediaUse, PasswordReset, SearchKind, User
from search.documents import reindex
from social.engagement import create_default_board
from social.errors import InvalidCredentials, WrongPassword
from social.passwords import hash_password, in_password_thread, verify_password
from social.sessions import is_suspended
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
    email_clean = clean_email(checks, "email", email)
    check_password(checks, "password", password)
    handle_clean = normalize_handle(handle)
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
    password_hash = await in_password_thread(hash_password, password)
    try:
        async with in_transaction():
            user = await User.create(
                email=email_clean,
                handle=handle_clean,
                display_name=name,
                password_hash=password_hash,
                languages=langs,
                interests=topics,
            )
            await create_default_board(user)
            await reindex(SearchKind.USER, [user.id])
            return user
    except IntegrityError as exc:  # a concurrent sign-up won the race for the email or handle
        raise AlreadyExists("This email or handle was just taken.", "handle") from exc


def normalize_handle(raw: str) -> str:
    """A handle as stored: without invisible characters (zero-width, bidi controls), surrounding
    whitespace or a leading @, case-folded. `@De\u200bmo` is `demo`."""
    return strip_invisible(raw).strip().lstrip("@").casefold()


def is_valid_handle(handle: str) -> bool:
    """True for a normalised handle of the allowed shape (so one that may name an account)."""
    return HANDLE.fullmatch(handle) is not None


async def sign_in(*, email: str, password: str) -> User:
    """The account for these credentials; unknown email and wrong password look the same. A suspended
    account is refused (SUSPENDED), and told so only once its password is verified."""
    user = await check_credentials(email=email, password=password)
    refuse_if_suspended(user)
    return user


async def check_credentials(*, email: str, password: str) -> User:
    """The account these credentials prove, whatever its state (a suspended person appeals with them)."""
    if len(email) > 1000 or len(password) > MAX_PASSWORD:
        raise InvalidCredentials()  # no account has such credentials: no query, no hashing
    user = await User.get_or_none(email=email.strip().casefold())
    matches = await in_password_thread(verify_password, user.password_hash if user else None, password)
    if not matches or user is None:
        raise InvalidCredentials()
    return user


# The end of a suspension "until lifted": far beyond any account's life.
UNTIL_LIFTED = datetime(9999, 12, 31, tzinfo=UTC)


class Suspended(DomainError):
    """Sign-in refused: the account is suspended, until when and why."""

    def __init__(self, until: datetime, reason: str) -> None:
        until = until.astimezone(UTC)
        when = (
            "until further notice" if until.year >= UNTIL_LIFTED.year else f"until {until:%Y-%m-%d %H:%M} UTC"
        )
        why = f": {reason}" if reason else ""
        super().__init__(
            ErrorCode.SUSPENDED,
            f"This account is suspended {when}{why}. "
            "To appeal, send appealCreate with your email and password.",
        )
        self.until = until
        self.reason = reason


def refuse_if_suspended(user: User) -> None:
    """SUSPENDED while the person's suspension lasts."""
    if is_suspended(user):
        assert user.suspended_until is not None
        raise Suspended(user.suspended_until, user.suspension_reason)


async def change_password(*, user_id: int, current_password: str, new_password: str) -> User:
    """Set a new password after confirming the current one; every session of the account ends (the
    returned row carries the new session version, for a fresh token on this device)."""
    checks = Checks()
    check_password(checks, "new_password", new_password)
    checks.done()
    user = await User.get(id=user_id)
    if not await in_password_thread(verify_password, user.password_hash, current_password):
        raise WrongPassword()
    new_hash = await in_password_thread(hash_password, new_password)
    # Conditional on the hash just verified: of two concurrent changes, the second is refused.
    async with in_transaction():
        changed = await User.filter(id=user_id, password_hash=user.password_hash).update(
            password_hash=new_hash, session_version=F("session_version") + 1
        )
        if not changed:
            raise WrongPassword()
        await void_password_resets(user_id=user_id)
    return await User.get(id=user_id)


async def void_password_resets(*, user_id: int) -> None:
    """Reset links sent before a password change stop working (within the caller's transaction)."""
    await PasswordReset.filter(user_id=user_id, used_at=None).update(used_at=datetime.now(UTC))


def check_password(checks: Checks, field: str, password: str) -> None:
    """A new password's length rules."""
    if len(password) < MIN_PASSWORD:
        checks.fail(field, ErrorCode.TOO_SHORT, f"Passwords need at least {MIN_PASSWORD} characters.")
    elif len(password) > MAX_PASSWORD:
        checks.fail(field, ErrorCode.TOO_LONG, f"Passwords are limited to {MAX_PASSWORD} characters.")


def clean_email(checks: Checks, field: str, email: str) -> str:
    """An email address as stored (case-folded), or a failure on `field`."""
    email_clean = email.strip().casefold()
    if len(email_clean) > 254 or not EMAIL.match(email_clean):
        checks.fail(field, ErrorCode.INVALID, "Enter a valid email address.")
    return email_clean


async def update_profile(
    *,
    user_id: int,
    display_name: str | None = None,
    bio: str | None = None,
    avatar_url: str | None = None,
    languages: Sequence[str] | None = None,
    interests: Sequence[str] | None = None,
    avatar_media_id: int | None = None,
    avatar_url_of: Callable[[Media], str | None] | None = None,
) -> User:
    """Change the fields given; an empty avatar URL removes the avatar. `avatar_media_id`: an uploaded
    picture (READY, the person's own) becomes the avatar, shown at `avatar_url_of(media)`; the uploaded
    avatar it replaces (or a URL replacing it) is released and its files deleted."""
    if avatar_media_id is not None and avatar_url is not None:
        raise DomainError(ErrorCode.INVALID, "Give avatarMediaId or avatarUrl, not both.", "avatar_media_id")
    avatar: Media | None = None
    if avatar_media_id is not None:
        (avatar,) = await attachable(
            user_id,
            [avatar_media_id],
            field="avatar_media_id",
            maximum=1,
            reattach=(MediaUse.AVATAR, user_id),
        )
        if avatar.kind is not MediaKind.IMAGE:
            raise DomainError(ErrorCode.INVALID, "An avatar is a picture.", "avatar_media_id")
    checks = Checks()
    changes: dict[str, object] = {}
    if avatar is not None:
        changes["avatar_url"] = avatar_url_of(avatar) if avatar_url_of else None
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
            if avatar is not None or avatar_url is not None:
                await set_avatar(user_id, avatar)
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
