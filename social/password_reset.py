"""Password reset by email: a random single-use token, stored only as its SHA-256, expiring.

Asking always gets the same answer, whether or not an account has the address, so the form cannot be used
to find out who has an account. Completing it sets the password and ends every session of the account.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import UTC, datetime, timedelta

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from core.mail import Email
from core.validation import Checks
from models import PasswordReset, RevokedToken, User
from social.accounts import check_password, clean_email, void_password_resets
from social.errors import InvalidResetToken
from social.mail import enqueue_email, notify_outbox
from social.passwords import hash_password, in_password_thread

# 32 random bytes: guessing is hopeless, so a fast hash is enough to keep stored tokens useless.
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")
SUBJECT = "Reset your Vermilion password · 重置 Vermilion 密码"


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def reset_link(template: str, token: str) -> str:
    """The frontend's reset page for `token` (`VERMILION_PASSWORD_RESET_URL`, `{token}` replaced)."""
    return template.replace("{token}", token)


def reset_email(*, to: str, handle: str, link: str, ttl: timedelta) -> Email:
    minutes = int(ttl.total_seconds() // 60)
    body = (
        f"Someone (we hope you) asked to reset the password of @{handle} on Vermilion.\n\n"
        f"Choose a new password here within {minutes} minutes:\n{link}\n\n"
        "The link works once. If you did not ask, ignore this email: your password stays as it is.\n\n"
        f"有人（希望是你）申请重置 Vermilion 账号 @{handle} 的密码。"
        f"请在 {minutes} 分钟内打开上面的链接设置新密码；链接只能使用一次。"
        "如果不是你本人操作，请忽略本邮件，密码不会改变。\n"
    )
    return Email(to=to, subject=SUBJECT, body=body)


async def request_password_reset(
    *, email: str, link_template: str, ttl_seconds: int, now: datetime | None = None
) -> None:
    """Email a reset link when an account has this address; the same (empty) answer either way."""
    checks = Checks()
    address = clean_email(checks, "email", email)
    checks.done()
    user = await User.get_or_none(email=address)
    if user is None:
        return
    now = now or datetime.now(UTC)
    ttl = timedelta(seconds=ttl_seconds)
    token = secrets.token_urlsafe(32)
    async with in_transaction() as conn:
        # Spent and expired tokens are useless: forgetting them keeps the table small.
        await PasswordReset.filter(expires_at__lt=now).using_db(conn).delete()
        await PasswordReset.create(
            user_id=user.id, token_hash=token_digest(token), expires_at=now + ttl, using_db=conn
        )
        link = reset_link(link_template, token)
        await enqueue_email(
            reset_email(to=user.email, handle=user.handle, link=link, ttl=ttl), connection=conn
        )
    notify_outbox()


async def complete_password_reset(*, token: str, new_password: str, now: datetime | None = None) -> User:
    """Spend `token`: set the new password and end every session of its account."""
    checks = Checks()
    check_password(checks, "new_password", new_password)
    checks.done()
    now = now or datetime.now(UTC)
    token = token.strip()
    if not _TOKEN.match(token):
        raise InvalidResetToken()
    reset = await PasswordReset.get_or_none(token_hash=token_digest(token), used_at=None, expires_at__gt=now)
    if reset is None:
        raise InvalidResetToken()
    # Hashed after the token proved good (a made-up token costs no Argon2) and before the transaction.
    new_hash = await in_password_thread(hash_password, new_password)
    async with in_transaction():
        # Spent by a conditional update: of two uses at the same moment, one wins.
        if not await PasswordReset.filter(id=reset.id, used_at=None).update(used_at=now):
            raise InvalidResetToken()
        user_id: int = reset.user_id  # type: ignore[attr-defined]
        await User.filter(id=user_id).update(password_hash=new_hash, session_version=F("session_version") + 1)
        await RevokedToken.filter(user_id=user_id).delete()
        await void_password_resets(user_id=user_id)
    return await User.get(id=user_id)
