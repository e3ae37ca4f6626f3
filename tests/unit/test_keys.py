from __future__ import annotations

import datetime as dt

from exchange.accounts import KEY_PREFIX, hash_key, hash_password, needs_touch
from exchange.models import ApiKey, User


def test_key_hash_is_sha256_hex() -> None:
    digest = hash_key("lx_example")
    assert len(digest) == 64
    assert digest != hash_key("lx_example2")


def test_passwords_are_argon2_and_verify() -> None:
    from exchange.accounts import verify_password

    user = User(email="a@example.com", password_hash=hash_password("correct horse"))
    assert user.password_hash.startswith("$argon2id$")
    assert verify_password(user, "correct horse")
    assert not verify_password(user, "wrong horse")
    assert not verify_password(User(password_hash="not-a-hash"), "x")


def test_last_used_is_written_at_most_once_a_minute() -> None:
    now = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)
    key = ApiKey(prefix=KEY_PREFIX)
    assert needs_touch(key, now)
    key.last_used_at = now - dt.timedelta(seconds=30)
    assert not needs_touch(key, now)
    key.last_used_at = now - dt.timedelta(seconds=61)
    assert needs_touch(key, now)


def test_user_offers_what_flask_login_needs() -> None:
    user = User(id=7, email="a@example.com", password_hash="x", is_active=True)
    assert (user.get_id(), user.is_authenticated, user.is_anonymous, user.is_active) == (
        "7",
        True,
        False,
        True,
    )
