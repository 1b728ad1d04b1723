"""Bearer tokens: signed, expiring JWTs (HS256) naming a user, their session version and the token itself.

A token is only as good as its claims are strict: anything that is not exactly what `issue_token` writes
(a user id within the database's integer range, a small version, a short random id) is refused here, so a
forged-looking `sub` of 10^20 or of garbage never reaches the database.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass

import jwt

_ALGORITHM = "HS256"
_AUDIENCE = "vermilion"
# Users have int4 keys; a version is bumped once per sign-out-everywhere or password change.
MAX_ID = 2**31 - 1
_DIGITS = re.compile(r"^[1-9][0-9]{0,9}$")
_TOKEN_ID = re.compile(r"^[A-Za-z0-9_-]{16,32}$")


@dataclass(frozen=True)
class TokenClaims:
    """What a valid token says: whose it is, which session version it belongs to, and its own id."""

    user_id: int
    session_version: int
    token_id: str
    expires_at: int  # Unix time


def issue_token(
    *,
    user_id: int,
    secret_key: str,
    ttl_seconds: int,
    session_version: int = 0,
    now: float | None = None,
) -> str:
    """A token for `user_id` at `session_version` (a new account's is 0), valid for `ttl_seconds`."""
    issued = int(now if now is not None else time.time())
    claims = {
        "sub": str(user_id),
        "ver": session_version,
        "jti": secrets.token_urlsafe(16),
        "iat": issued,
        "exp": issued + ttl_seconds,
        "aud": _AUDIENCE,
    }
    return jwt.encode(claims, secret_key, algorithm=_ALGORITHM)


def read_claims(token: str, *, secret_key: str) -> TokenClaims | None:
    """The claims of a well-formed, correctly signed, unexpired token; None for anything else.

    Whether the session is still live (not signed out, its user not gone) is `social.sessions`' question."""
    if len(token) > 1024:
        return None
    try:
        claims = jwt.decode(
            token,
            secret_key,
            algorithms=[_ALGORITHM],
            audience=_AUDIENCE,
            options={"require": ["sub", "exp", "jti", "ver"]},
        )
    except jwt.PyJWTError:
        return None
    sub, version, token_id, expires = claims["sub"], claims["ver"], claims["jti"], claims["exp"]
    if not (isinstance(sub, str) and _DIGITS.match(sub) and int(sub) <= MAX_ID):
        return None
    if not (type(version) is int and 0 <= version <= MAX_ID):
        return None
    if not (isinstance(token_id, str) and _TOKEN_ID.match(token_id)) or type(expires) is not int:
        return None
    return TokenClaims(user_id=int(sub), session_version=version, token_id=token_id, expires_at=expires)


def read_token(token: str, *, secret_key: str) -> int | None:
    """The user id of a well-formed, unexpired token; None for anything else."""
    claims = read_claims(token, secret_key=secret_key)
    return claims.user_id if claims else None
