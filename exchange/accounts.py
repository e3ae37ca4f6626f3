"""Organisations, users and API keys: creating, authenticating, revoking."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from database import utcnow
from exchange.audit import record_event
from exchange.contacts import normalise_email
from exchange.errors import AuthenticationFailed, Conflict, InvalidInput, NotFound
from exchange.models import ApiKey, Organization, Role, User
from exchange.pagination import Page, paginate
from exchange.regions import validate_currency

KEY_PREFIX = "lx_"
# A key's last-used time is written at most this often, so hot keys don't serialise requests.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)

_hasher = PasswordHasher()


def hash_key(plaintext: str) -> str:
    """SHA-256 of a key: enough for 256 random bits, and cheap on every request."""
    return hashlib.sha256(plaintext.encode()).hexdigest()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(user: User, password: str) -> bool:
    """Check a password against the user's argon2 hash."""
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# Checked when no user has the e-mail, so a wrong address takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def authenticate_user(session: Session, email: str, password: str) -> User:
    """The active user with this e-mail and password, or AuthenticationFailed (one message)."""
    user = session.scalar(
        select(User)
        .options(joinedload(User.organization))
        .where(User.email == email.strip().lower())
    )
    if user is None:
        _hasher.verify(_DUMMY_HASH, "not-a-real-password")
    ok = user is not None and verify_password(user, password)
    if not ok or user is None or not user.is_active or not user.organization.is_active:
        raise AuthenticationFailed("Wrong e-mail or password.", code="invalid_login")
    user.last_login_at = utcnow()
    record_event(
        session,
        "user.login",
        organization=user.organization,
        actor=user.organization,
        target_type="user",
        target_id=user.id,
        data={"email": user.email},
    )
    return user


def create_organization(
    session: Session, name: str, role: Role | str, *, currency: str = "USD"
) -> Organization:
    """Create an organisation with a role; names are unique."""
    name = name.strip()
    if not name:
        raise InvalidInput("An organisation needs a name.", fields={"name": ["Must not be empty."]})
    try:
        role = Role(role)
    except ValueError:
        raise InvalidInput(
            f"Unknown role {role!r}.", fields={"role": [f"One of {', '.join(Role)}."]}
        ) from None
    if session.scalar(select(Organization.id).where(Organization.name == name)):
        raise Conflict(f"An organisation named {name!r} already exists.", code="name_taken")
    org = Organization(name=name, role=role, currency=validate_currency(currency))
    session.add(org)
    session.flush()
    return org


def create_user(session: Session, organization: Organization, email: str, password: str) -> User:
    """Add a login to an organisation, with an argon2 password hash."""
    normalised = normalise_email(email)
    if normalised.error:
        raise InvalidInput(normalised.error, fields={"email": [normalised.error]})
    if len(password) < 8:
        raise InvalidInput(
            "Passwords need at least 8 characters.", fields={"password": ["Too short."]}
        )
    if session.scalar(select(User.id).where(User.email == normalised.value)):
        raise Conflict(f"A user with email {normalised.value} exists.", code="email_taken")
    user = User(
        organization=organization, email=normalised.value, password_hash=hash_password(password)
    )
    session.add(user)
    session.flush()
    return user


def issue_api_key(
    session: Session,
    organization: Organization,
    *,
    name: str = "default",
    actor: Organization | None = None,
) -> tuple[ApiKey, str]:
    """Create a key; the plaintext is returned once and never stored."""
    plaintext = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(
        organization=organization,
        name=name.strip() or "default",
        prefix=plaintext[:11],
        key_hash=hash_key(plaintext),
    )
    session.add(key)
    session.flush()
    record_event(
        session,
        "api_key.created",
        organization=organization,
        actor=actor,
        target_type="api_key",
        target_id=key.id,
        data={"prefix": key.prefix, "name": key.name},
    )
    return key, plaintext


def revoke_api_key(
    session: Session, organization: Organization, key_id: int, *, actor: Organization | None = None
) -> ApiKey:
    """Revoke one of the organisation's keys; revoking twice is harmless."""
    key = session.scalar(
        select(ApiKey).where(ApiKey.id == key_id, ApiKey.organization_id == organization.id)
    )
    if key is None:
        raise NotFound(f"No API key {key_id}.")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        record_event(
            session,
            "api_key.revoked",
            organization=organization,
            actor=actor or organization,
            target_type="api_key",
            target_id=key.id,
            data={"prefix": key.prefix},
        )
        session.flush()
    return key


def authenticate_api_key(session: Session, plaintext: str) -> ApiKey:
    """Find the live key for a bearer token, or raise AuthenticationFailed."""
    if not plaintext.startswith(KEY_PREFIX) or len(plaintext) > 128:
        raise AuthenticationFailed("The API key is not valid.", code="invalid_api_key")
    key = session.scalar(
        select(ApiKey)
        .options(joinedload(ApiKey.organization))
        .where(ApiKey.key_hash == hash_key(plaintext))
    )
    if key is None:
        raise AuthenticationFailed("The API key is not valid.", code="invalid_api_key")
    if key.revoked_at is not None:
        raise AuthenticationFailed("The API key has been revoked.", code="revoked_api_key")
    if not key.organization.is_active:
        raise AuthenticationFailed("The organisation is suspended.", code="organization_inactive")
    return key


def needs_touch(key: ApiKey, now: dt.datetime | None = None) -> bool:
    """Whether the key's last-used time is stale enough to write again."""
    now = now or utcnow()
    return key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION


def list_api_keys(
    session: Session, organization: Organization, *, limit: int, cursor: str | None = None
) -> Page[ApiKey]:
    """The organisation's keys, newest first (revoked ones included, marked)."""
    stmt = select(ApiKey).where(ApiKey.organization_id == organization.id)
    return paginate(session, stmt, ApiKey.id, limit=limit, cursor=cursor)
