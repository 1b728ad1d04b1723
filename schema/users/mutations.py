"""Mutations on accounts and follows."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated

import strawberry

from commerce.cart import merge_guest_cart, open_cart_of
from core.ids import decode_global_id, parse_uuid_global_id
from core.ratelimit import Action
from models import User
from schema.context import Info
from schema.errors import UserError, returns_errors
from schema.throttle import throttle
from schema.users.types import UserType
from social.accounts import change_password, sign_in, sign_up, update_profile
from social.engagement import follow_user, unfollow_user
from social.password_reset import complete_password_reset, request_password_reset
from social.sessions import sign_out
from social.tokens import issue_token

if TYPE_CHECKING:
    from schema.commerce.types import CartType

CartRef = Annotated["CartType", strawberry.lazy("schema.commerce.types")]


@strawberry.input
class SignUpInput:
    email: str
    password: str
    handle: str
    display_name: str | None = None
    languages: list[str] = strawberry.field(default_factory=list, description='e.g. ["zh", "en"]')
    interests: list[str] = strawberry.field(default_factory=list, description='Topic names, e.g. ["护肤"]')
    guest_cart_id: strawberry.ID | None = strawberry.field(
        default=None, description="A cart filled before signing up; it becomes the new account's cart."
    )


@strawberry.input
class SignInInput:
    email: str
    password: str
    guest_cart_id: strawberry.ID | None = strawberry.field(
        default=None, description="A cart filled while signed out; it is merged into the account's cart."
    )


@strawberry.input(description="Only the fields given change; an empty avatarUrl removes the avatar.")
class ViewerUpdateInput:
    display_name: str | None = None
    bio: str | None = None
    avatar_url: str | None = None
    languages: list[str] | None = None
    interests: list[str] | None = strawberry.field(default=None, description='Topic names, e.g. ["护肤"]')


@strawberry.type
class ViewerUpdatePayload:
    user: UserType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(description="A bearer token for `Authorization: Bearer <token>`, and who it belongs to.")
class AuthPayload:
    token: str | None = None
    user: UserType | None = None
    cart: CartRef | None = strawberry.field(
        default=None, description="The account's open cart after merging `guestCartId` into it."
    )
    errors: list[UserError] = strawberry.field(default_factory=list)


async def _with_guest_cart(payload: AuthPayload, user_id: int, guest_cart_id: str | None) -> AuthPayload:
    """Merge the guest cart into the account's (sign-in never fails because of a cart)."""
    from schema.commerce.types import cart_type

    if guest_cart_id is None:
        return payload
    parsed = parse_uuid_global_id(guest_cart_id)
    cart = (
        await merge_guest_cart(user_id=user_id, guest_cart_id=parsed[1])
        if parsed is not None and parsed[0] == "Cart"
        else await open_cart_of(user_id)
    )
    payload.cart = await cart_type(cart.id) if cart is not None else None
    return payload


@strawberry.type
class UserFollowPayload:
    user: UserType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class SignOutInput:
    everywhere: bool = strawberry.field(
        default=False, description="End every session of the account (all devices), not only this token's."
    )


@strawberry.type
class SignOutPayload:
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class ViewerPasswordChangeInput:
    current_password: str
    new_password: str


@strawberry.type(description="A fresh token for this device; every other session of the account has ended.")
class ViewerPasswordChangePayload:
    token: str | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class PasswordResetRequestInput:
    email: str


@strawberry.type(description="The same answer whether or not an account has the address.")
class PasswordResetRequestPayload:
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class PasswordResetCompleteInput:
    token: str = strawberry.field(description="The token from the reset link in the email.")
    new_password: str


@strawberry.type(description="The password is set and every session has ended: sign in with the new one.")
class PasswordResetCompletePayload:
    errors: list[UserError] = strawberry.field(default_factory=list)


def _token(info: Info, user: User) -> str:
    settings = info.context.settings
    return issue_token(
        user_id=user.id,
        session_version=user.session_version,
        secret_key=settings.secret_key,
        ttl_seconds=settings.token_ttl_seconds,
    )


def _auth(info: Info, user_id: int, user: User) -> AuthPayload:
    signed_in = UserType.from_row(user)
    signed_in.signing_in = True  # the payload shows the person as themselves: email, isViewer
    return AuthPayload(token=_token(info, user), user=signed_in)


@strawberry.type
class UserMutation:
    @strawberry.mutation(description="Create an account and sign in.")
    @returns_errors
    async def sign_up(self, info: Info, input: SignUpInput) -> AuthPayload:
        await throttle(info, Action.SIGN_UP)
        user = await sign_up(
            email=input.email,
            password=input.password,
            handle=input.handle,
            display_name=input.display_name,
            languages=input.languages,
            interests=input.interests,
        )
        return await _with_guest_cart(_auth(info, user.id, user), user.id, input.guest_cart_id)

    @strawberry.mutation(description="Exchange email and password for a bearer token.")
    @returns_errors
    async def sign_in(self, info: Info, input: SignInInput) -> AuthPayload:
        await throttle(info, Action.SIGN_IN, email=input.email)
        user = await sign_in(email=input.email, password=input.password)
        return await _with_guest_cart(_auth(info, user.id, user), user.id, input.guest_cart_id)

    @strawberry.mutation(
        description="End this token's session, or with `everywhere` every session of the account; a token "
        "of an ended session is refused with UNAUTHENTICATED (HTTP 401)."
    )
    @returns_errors
    async def sign_out(self, info: Info, input: SignOutInput | None = None) -> SignOutPayload:
        await sign_out(claims=info.context.require_session(), everywhere=bool(input and input.everywhere))
        return SignOutPayload()

    @strawberry.mutation(
        description="Change your password; every other session ends and this device gets a fresh token."
    )
    @returns_errors
    async def viewer_password_change(
        self, info: Info, input: ViewerPasswordChangeInput
    ) -> ViewerPasswordChangePayload:
        user = await change_password(
            user_id=info.context.require_viewer_id(),
            current_password=input.current_password,
            new_password=input.new_password,
        )
        info.context.loaders.user_by_id.clear(user.id)
        return ViewerPasswordChangePayload(token=_token(info, user))

    @strawberry.mutation(
        description="Email a single-use link to reset the password (valid 1 hour by default); the answer is "
        "the same whether or not an account has the address."
    )
    @returns_errors
    async def password_reset_request(
        self, info: Info, input: PasswordResetRequestInput
    ) -> PasswordResetRequestPayload:
        await throttle(info, Action.PASSWORD_RESET, email=input.email)
        settings = info.context.settings
        await request_password_reset(
            email=input.email,
            link_template=settings.password_reset_url,
            ttl_seconds=settings.password_reset_ttl_seconds,
        )
        return PasswordResetRequestPayload()

    @strawberry.mutation(
        description="Set a new password with the token from the reset email; ends every session."
    )
    @returns_errors
    async def password_reset_complete(
        self, info: Info, input: PasswordResetCompleteInput
    ) -> PasswordResetCompletePayload:
        await complete_password_reset(token=input.token, new_password=input.new_password)
        return PasswordResetCompletePayload()

    @strawberry.mutation(description="Edit your own profile.")
    @returns_errors
    async def viewer_update(self, info: Info, input: ViewerUpdateInput) -> ViewerUpdatePayload:
        user = await update_profile(
            user_id=info.context.require_viewer_id(),
            display_name=input.display_name,
            bio=input.bio,
            avatar_url=input.avatar_url,
            languages=input.languages,
            interests=input.interests,
        )
        return ViewerUpdatePayload(user=await _fresh_user(info, user.id))

    @strawberry.mutation
    @returns_errors
    async def user_follow(self, info: Info, user_id: strawberry.ID) -> UserFollowPayload:
        return await _change_follow(info, user_id, follow_user)

    @strawberry.mutation
    @returns_errors
    async def user_unfollow(self, info: Info, user_id: strawberry.ID) -> UserFollowPayload:
        return await _change_follow(info, user_id, unfollow_user)


async def _change_follow(
    info: Info, user_id: strawberry.ID, rule: Callable[..., Awaitable[User]]
) -> UserFollowPayload:
    """Follow or unfollow (`rule`), then answer with the followee's fresh counts."""
    viewer = info.context.require_viewer_id()
    followee = decode_global_id(user_id, "User", "user_id")
    user = await rule(follower_id=viewer, followee_id=followee)
    info.context.loaders.viewer_follows.clear(followee)
    return UserFollowPayload(user=await _fresh_user(info, user.id))


async def _fresh_user(info: Info, user_id: int) -> UserType:
    """The user re-read after a write, so counters in the payload are current."""
    loader = info.context.loaders.user_by_id
    loader.clear(user_id)
    if info.context.viewer_id is not None:
        loader.clear(info.context.viewer_id)
    return UserType.from_row(await loader.load(user_id))
