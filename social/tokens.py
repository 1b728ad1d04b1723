"""Bearer tokens: signed, expiring JWTs (HS256) naming a user id."""

from __future__ import annotations

import time

import jwt

_ALGORITHM = "HS256"
_AUDIENCE = "vermilion"


def issue_token(*, user_id: int, secret_key: str, ttl_seconds: int, now: float | None = None) -> str:
    issued = int(now if now is not None else time.time())
    claims = {"sub": str(user_id), "iat": issued, "exp": issued + ttl_seconds, "aud": _AUDIENCE}
    return jwt.encode(claims, secret_key, algorithm=_ALGORITHM)


def read_token(token: str, *, secret_key: str) -> int | None:
    """The user id of a valid, unexpired token; None for anything else."""
    try:
        claims = jwt.decode(token, secret_key, algorithms=[_ALGORITHM], audience=_AUDIENCE)
        return int(claims["sub"])
    except (jwt.PyJWTError, KeyError, ValueError):
        return None
