"""Refusals of the social rules that clients act on, each with its stable code."""

from __future__ import annotations

from core.errors import DomainError, ErrorCode, FieldLike


class InvalidCredentials(DomainError):
    """Sign-in refused; a wrong password and an unknown email get this same answer."""

    def __init__(self) -> None:
        # The whole input is at fault: naming the email or the password would tell which one exists.
        super().__init__(ErrorCode.INVALID_CREDENTIALS, "The email or password is incorrect.", ())


class WrongPassword(DomainError):
    """A signed-in person confirmed a change with a password that is not theirs."""

    def __init__(self, field: FieldLike = "current_password"):
        super().__init__(ErrorCode.INVALID_CREDENTIALS, "The current password is incorrect.", field)


class InvalidResetToken(DomainError):
    """A password reset token that is unknown, already used or expired (not told apart)."""

    def __init__(self, field: FieldLike = "token"):
        super().__init__(
            ErrorCode.INVALID, "This reset link is invalid, used or expired; ask for a new one.", field
        )


class CannotFollowSelf(DomainError):
    def __init__(self, field: FieldLike = None):
        super().__init__(ErrorCode.CANNOT_FOLLOW_SELF, "You cannot follow yourself.", field)


class AlreadyReviewed(DomainError):
    """One review per person per product: `product_id` already has this author's review."""

    def __init__(self, product_id: int, field: FieldLike = None):
        super().__init__(
            ErrorCode.ALREADY_REVIEWED,
            "You have already reviewed this product; edit that review instead.",
            field,
        )
        self.product_id = product_id
