"""Mutations on accounts and follows."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated

import strawberry

from commerce.cart import merge_guest_cart, open_cart_of
from core.ids import decode_global_id, parse_uuid_global_id
from core.ratelimit import Action
from models import Media, MediaVariant, User
from safety.deletion import cancel_deletion
from schema.context import Info
from schema.errors import UserError, payload_errors, returns_errors
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


@strawberry.input(description="A new account: how to sign in, the public handle and onboarding choices.")
class SignUpInput:
    email: str = strawberry.field(
        description="For signing in and receipts; unique (case-insensitive), never shown to others."
    )
    password: str = strawberry.field(description="8–128 characters.")
    handle: str = strawberry.field(
        description="The unique public name: 3–30 characters, letters a–z, digits and _; case and a leading "
        "@ are ignored."
    )
    display_name: str | None = strawberry.field(
        default=None, description="The name shown on the profile, 1–50 characters; the handle when omitted."
    )
    languages: list[str] = strawberry.field(
        default_factory=list,
        description='Languages the person reads, best first, e.g. ["zh", "en"] (up to 5 codes).',
    )
    interests: list[str] = strawberry.field(
        default_factory=list,
        description='Topic names that seed the discovery feed, e.g. ["护肤"] (up to 20, 1–64 characters '
        "each).",
    )
    guest_cart_id: strawberry.ID | None = strawberry.field(
        default=None, description="A cart filled before signing up; it becomes the new account's cart."
    )


@strawberry.input(description="Credentials for signing in, and a guest cart to keep.")
class SignInInput:
    email: str = strawberry.field(description="The account's email address (case-insensitive).")
    password: str = strawberry.field(description="The account's password.")
    guest_cart_id: strawberry.ID | None = strawberry.field(
        default=None, description="A cart filled while signed out; it is merged into the account's cart."
    )


@strawberry.input(description="Only the fields given change; an empty avatarUrl removes the avatar.")
class ViewerUpdateInput:
    display_name: str | None = strawberry.field(
        default=None, description="The name shown on the profile, 1–50 characters."
    )
    bio: str | None = strawberry.field(default=None, description="Profile text, up to 500 characters.")
    avatar_url: str | None = strawberry.field(
        default=None,
        description='The http(s) URL of the profile picture (up to 2048 characters); "" removes it.',
    )
    avatar_media_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="An uploaded picture (mediaUploadCreate; READY, your own) as the profile picture: "
        "`avatarUrl` becomes its THUMBNAIL. The uploaded picture it replaces is deleted.",
    )
    languages: list[str] | None = strawberry.field(
        default=None,
        description='Languages you read, best first, e.g. ["zh", "en"] (up to 5); replaces the list.',
    )
    interests: list[str] | None = strawberry.field(
        default=None, description='Topic names, e.g. ["护肤"] (up to 20); replaces the list.'
    )


def _avatar_url_of(info: Info) -> Callable[[Media], str | None] | None:
    services = info.context.media
    if services is None:
        return None
    return lambda media: services.public_url(media, MediaVariant.THUMBNAIL.value)


@strawberry.type(description="The result of viewerUpdate.")
class ViewerUpdatePayload:
    user: UserType | None = strawberry.field(
        default=None, description="Your profile as it is now; null when the update was refused."
    )
    errors: list[UserError] = payload_errors()


@strawberry.type(description="A bearer token for `Authorization: Bearer <token>`, and who it belongs to.")
class AuthPayload:
    token: str | None = strawberry.field(
        default=None,
        description="Send it as `Authorization: Bearer <token>` on every request (WebSocket: in the "
        "connection_init payload). Valid 7 days by default, until signed out or the password changes; "
        "null when refused.",
    )
    user: UserType | None = strawberry.field(
        default=None, description="The person signed in, seen as themselves (email set); null when refused."
    )
    cart: CartRef | None = strawberry.field(
        default=None,
        description="The account's open cart after merging `guestCartId` into it; null when no "
        "`guestCartId` was sent or the account has no open cart.",
    )
    deletion_cancelled: bool = strawberry.field(
        default=False,
        description="True when this sign-in cancelled the account's deletion (asked for with viewerDelete "
        "within the last 30 days): tell the person their account and content are back.",
    )
    errors: list[UserError] = payload_errors()


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


@strawberry.type(description="The result of userFollow and userUnfollow.")
class UserFollowPayload:
    user: UserType | None = strawberry.field(
        default=None,
        description="The person followed or unfollowed, with fresh counts and `viewerIsFollowing`; null when "
        "refused.",
    )
    errors: list[UserError] = payload_errors()


@strawberry.input(description="Which sessions signOut ends.")
class SignOutInput:
    everywhere: bool = strawberry.field(
        default=False, description="End every session of the account (all devices), not only this token's."
    )


@strawberry.type(description="The result of signOut: once `errors` is empty, drop the token.")
class SignOutPayload:
    errors: list[UserError] = payload_errors()


@strawberry.input(description="The current password, to confirm, and the new one.")
class ViewerPasswordChangeInput:
    current_password: str = strawberry.field(
        description="The password now; a wrong one is INVALID_CREDENTIALS."
    )
    new_password: str = strawberry.field(description="8–128 characters.")


@strawberry.type(description="A fresh token for this device; every other session of the account has ended.")
class ViewerPasswordChangePayload:
    token: str | None = strawberry.field(
        default=None,
        description="The new bearer token for this device: replace the old one, which no longer works. "
        "Null when refused.",
    )
    errors: list[UserError] = payload_errors()


@strawberry.input(description="Whose password to reset.")
class PasswordResetRequestInput:
    email: str = strawberry.field(
        description="The account's email address; the link is sent there when an account has it."
    )


@strawberry.type(description="The same answer whether or not an account has the address.")
class PasswordResetRequestPayload:
    errors: list[UserError] = payload_errors()


@strawberry.input(description="The token from the reset email, and the new password.")
class PasswordResetCompleteInput:
    token: str = strawberry.field(
        description="The token from the reset link in the email; used, expired or unknown ones are INVALID."
    )
    new_password: str = strawberry.field(description="8–128 characters.")


@strawberry.type(description="The password is set and every session has ended: sign in with the new one.")
class PasswordResetCompletePayload:
    errors: list[UserError] = payload_errors()


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
    @strawberry.mutation(
        description="Create an account and sign in: the payload carries the bearer token. Every input "
        "problem is reported at once; a taken email or handle is ALREADY_EXISTS."
    )
    @returns_errors
    async def sign_up(
        self, info: Info, input: Annotated[SignUpInput, strawberry.argument(description="The new account.")]
    ) -> AuthPayload:
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

    @strawberry.mutation(
        description="Exchange email and password for a bearer token; a wrong email or password is "
        "INVALID_CREDENTIALS (never told apart)."
    )
    @returns_errors
    async def sign_in(
        self, info: Info, input: Annotated[SignInInput, strawberry.argument(description="The credentials.")]
    ) -> AuthPayload:
        await throttle(info, Action.SIGN_IN, email=input.email)
        user = await sign_in(email=input.email, password=input.password)
        cancelled = await cancel_deletion(user)
        payload = _auth(info, user.id, user)
        payload.deletion_cancelled = cancelled
        return await _with_guest_cart(payload, user.id, input.guest_cart_id)

    @strawberry.mutation(
        description="End this token's session, or with `everywhere` every session of the account; a token "
        "of an ended session is refused with UNAUTHENTICATED (HTTP 401)."
    )
    @returns_errors
    async def sign_out(
        self,
        info: Info,
        input: Annotated[
            SignOutInput | None,
            strawberry.argument(description="Which sessions to end; omit to end only this token's."),
        ] = None,
    ) -> SignOutPayload:
        await sign_out(claims=info.context.require_session(), everywhere=bool(input and input.everywhere))
        return SignOutPayload()

    @strawberry.mutation(
        description="Change your password; every other session ends and this device gets a fresh token."
    )
    @returns_errors
    async def viewer_password_change(
        self,
        info: Info,
        input: Annotated[
            ViewerPasswordChangeInput, strawberry.argument(description="The current and the new password.")
        ],
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
        self,
        info: Info,
        input: Annotated[
            PasswordResetRequestInput, strawberry.argument(description="Whose password to reset.")
        ],
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
        self,
        info: Info,
        input: Annotated[
            PasswordResetCompleteInput,
            strawberry.argument(description="The reset token and the new password."),
        ],
    ) -> PasswordResetCompletePayload:
        await complete_password_reset(token=input.token, new_password=input.new_password)
        return PasswordResetCompletePayload()

    @strawberry.mutation(description="Edit your own profile.")
    @returns_errors
    async def viewer_update(
        self,
        info: Info,
        input: Annotated[ViewerUpdateInput, strawberry.argument(description="The fields to change.")],
    ) -> ViewerUpdatePayload:
        user = await update_profile(
            user_id=info.context.require_viewer_id(),
            display_name=input.display_name,
            bio=input.bio,
            avatar_url=input.avatar_url,
            languages=input.languages,
            interests=input.interests,
            avatar_media_id=(
                decode_global_id(input.avatar_media_id, "Media", "avatar_media_id")
                if input.avatar_media_id is not None
                else None
            ),
            avatar_url_of=_avatar_url_of(info),
        )
        return ViewerUpdatePayload(user=await _fresh_user(info, user.id))

    @strawberry.mutation(
        description="Follow a person: their notes join your followingFeed. Following twice counts once; "
        "yourself is CANNOT_FOLLOW_SELF."
    )
    @returns_errors
    async def user_follow(
        self,
        info: Info,
        user_id: Annotated[strawberry.ID, strawberry.argument(description="The User id of the person.")],
    ) -> UserFollowPayload:
        return await _change_follow(info, user_id, follow_user)

    @strawberry.mutation(description="Stop following a person; a no-op when you do not follow them.")
    @returns_errors
    async def user_unfollow(
        self,
        info: Info,
        user_id: Annotated[strawberry.ID, strawberry.argument(description="The User id of the person.")],
    ) -> UserFollowPayload:
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
