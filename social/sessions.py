"""Sessions: is a bearer token still good, and signing out (one device, or everywhere).

A token names its user, the user's session version when it was issued, and its own id (`social.tokens`).
It is live while the user exists (not suspended, not deleted), the version is still the user's, and the
token was not signed out on its own. Checking that is one statement per request, which also reads the
viewer's row (served again from the request's loader, so a request that shows the viewer pays nothing
more) and their blocks, mutes and filters (`social.blocks.safety_columns`).
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from functools import lru_cache

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from core.sql import dialect, fetch_all, model_from_row, select_list
from models import RevokedToken, User
from social.blocks import SafetyState, safety_columns, safety_state
from social.tokens import TokenClaims


@lru_cache(maxsize=2)
def _live_session_sql(database: str) -> str:
    # The viewer's blocks, mutes and filters come as extra columns: a signed-in request learns what to hide
    # from the statement it runs anyway. Built once per database: every signed-in request runs it.
    return (
        f"SELECT {select_list(User, 'u')}, {safety_columns(database)},"
        " EXISTS (SELECT 1 FROM revoked_tokens r WHERE r.id = $2) AS token_revoked"
        " FROM users u WHERE u.id = $1"
    )


def is_suspended(user: User, now: datetime | None = None) -> bool:
    """Whether the person is suspended now (or at `now`): their tokens are refused, their content withheld."""
    return user.suspended_until is not None and user.suspended_until > (now or datetime.now(UTC))


def is_out(user: User, now: datetime | None = None) -> bool:
    """Whether a person is out: suspended, or leaving (deletion asked for) or gone. Their content is
    withheld whatever its own state (safety/withholding.py) and their earnings are frozen (commerce)."""
    return is_suspended(user, now) or user.deletion_requested_at is not None or user.deleted_at is not None


async def session_user(claims: TokenClaims) -> tuple[User, SafetyState] | None:
    """The user of a token whose session is live, with their block, mute and filter state; None when
    signed out, superseded, suspended, or the user is gone."""
    rows = await fetch_all(_live_session_sql(dialect()), [claims.user_id, claims.token_id])
    if not rows or rows[0]["token_revoked"]:
        return None
    user: User = model_from_row(User, rows[0])
    if user.session_version != claims.session_version or user.deleted_at is not None or is_suspended(user):
        return None
    return user, safety_state(rows[0])


async def sign_out(*, claims: TokenClaims, everywhere: bool = False) -> None:
    """End the session of this token, or (`everywhere`) of every token of its user."""
    if everywhere:
        await end_all_sessions(user_id=claims.user_id)
        return
    now = datetime.now(UTC)
    # Tokens past their expiry are refused anyway: forgetting them keeps the table small.
    await RevokedToken.filter(expires_at__lt=now).delete()
    with contextlib.suppress(IntegrityError):  # signed out twice at the same moment: once is enough
        await RevokedToken.create(
            id=claims.token_id,
            user_id=claims.user_id,
            expires_at=datetime.fromtimestamp(claims.expires_at, UTC),
        )


async def end_all_sessions(*, user_id: int) -> None:
    """Every token of `user_id` stops working."""
    async with in_transaction():
        await User.filter(id=user_id).update(session_version=F("session_version") + 1)
        # The version already ends them; their one-by-one records are no longer needed.
        await RevokedToken.filter(user_id=user_id).delete()
