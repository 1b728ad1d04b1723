"""Password hashing rules that no request shows: the unknown-email path costs what a real check costs."""

from __future__ import annotations

from argon2 import extract_parameters
from argon2.profiles import get_default_parameters

from social import passwords


def test_the_dummy_hash_has_the_hashers_parameters_so_unknown_emails_take_as_long() -> None:
    # A real account's hash and the dummy one are verified with the same cost, whatever the defaults.
    real = extract_parameters(passwords.hash_password("s3cret-enough"))
    dummy = extract_parameters(passwords._DUMMY_HASH)

    assert dummy == real
    assert real.memory_cost == get_default_parameters().memory_cost


def test_verifying_against_no_hash_is_false_even_for_the_dummys_password() -> None:
    assert passwords.verify_password(None, "vermilion-timing-equaliser") is False
    assert passwords.verify_password(passwords.hash_password("right"), "right") is True
