"""Notification preferences per person, type and channel; marketing consent; unsubscribe tokens.

Rules:

* A channel is on for a type when the person said so, else when it is one of the type's
  default channels for the audience.
* A type's ``locked`` channels (security notices by email) stay on whatever is stored.
* Marketing goes out only with a current consent record (granted, not withdrawn), in
  addition to the channel being on; every marketing email carries a signed one-click
  unsubscribe link (RFC 8058).

Functions flush, never commit.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert

from app.extensions import db
from app.identity.service import TokenError, make_token, read_token
from app.notifications import registry
from app.notifications.center_models import MarketingConsent, NotificationPreference
from app.timeutil import utcnow

UNSUBSCRIBE_PURPOSE = "notify-unsubscribe"
#: One-click links keep working for a year and a bit (old newsletters get clicked).
UNSUBSCRIBE_MAX_AGE = 400 * 24 * 3600


def stored_choices(user_id: uuid.UUID) -> dict[tuple[str, str], bool]:
    """The person's explicit choices: ``(type, channel) -> enabled``."""
    rows = db.session.execute(sa.select(NotificationPreference.type, NotificationPreference.channel,
                                        NotificationPreference.enabled)
                              .where(NotificationPreference.user_id == user_id))
    return {(t, c): e for t, c, e in rows}


def channel_enabled(user_id: uuid.UUID, type_key: str, channel: str, audience: str,
                    choices: dict[tuple[str, str], bool] | None = None) -> bool:
    """Whether ``channel`` is on for ``type_key`` for this person (locked channels are always on).

    ``choices`` may be passed to avoid re-reading :func:`stored_choices`.

    Raises:
        registry.UnknownNotificationType: unknown type.
    """
    nt = registry.get(type_key)
    if channel in nt.locked and channel in nt.default_channels(audience):
        return True
    choices = stored_choices(user_id) if choices is None else choices
    explicit = choices.get((type_key, channel))
    if explicit is not None:
        return explicit
    return channel in nt.default_channels(audience)


def enabled_channels(user_id: uuid.UUID, type_key: str, audience: str) -> list[str]:
    """The channels ``type_key`` reaches this person on, in :data:`registry.CHANNELS` order."""
    choices = stored_choices(user_id)
    return [c for c in registry.CHANNELS if channel_enabled(user_id, type_key, c, audience, choices)]


def set_preference(user_id: uuid.UUID, type_key: str, channel: str, enabled: bool) -> None:
    """Store the person's choice (upsert); a locked channel cannot be switched off.

    Raises:
        registry.UnknownNotificationType: unknown type.
        ValueError: unknown channel.
    """
    nt = registry.get(type_key)
    if channel not in registry.CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    if channel in nt.locked and not enabled:
        enabled = True
    stmt = pg_insert(NotificationPreference).values(user_id=user_id, type=type_key, channel=channel,
                                                    enabled=enabled, updated_at=utcnow())
    db.session.execute(stmt.on_conflict_do_update(index_elements=["user_id", "type", "channel"],
                                                  set_={"enabled": enabled, "updated_at": utcnow()}))
    db.session.flush()


@dataclass(frozen=True)
class PreferenceRow:
    """One line of the preferences page: a type and, per channel, ``(on, locked, offered)``."""

    type_key: str
    label: str
    group: str
    is_marketing: bool
    channels: dict[str, tuple[bool, bool, bool]]


def audience_for_person(nt: registry.NotificationType, audiences: set[str] | None = None) -> str:
    """The audience whose defaults a person's preference page shows for ``nt``: ``staff`` for a
    member of a business when the type has it (what they hear about as staff), else the first of
    customer, participant, user, staff, owner that the type has."""
    if audiences and "staff" in audiences and "staff" in nt.audiences:
        return "staff"
    for audience in ("customer", "participant", "user", "staff", "owner"):
        if audience in nt.audiences:
            return audience
    return next(iter(nt.audiences))


def preference_table(user_id: uuid.UUID, audiences: set[str] | None = None) -> list[PreferenceRow]:
    """Every type (restricted to types with one of ``audiences`` when given) with its
    current per-channel state for this person, for the preferences page."""
    choices = stored_choices(user_id)
    rows = []
    for nt in registry.all_types():
        if audiences is not None and not (nt.audiences & audiences):
            continue
        audience = audience_for_person(nt, audiences)
        offered = {registry.EMAIL, registry.INAPP} if nt.is_marketing else set(registry.CHANNELS)
        cells = {c: (channel_enabled(user_id, nt.key, c, audience, choices), c in nt.locked, c in offered)
                 for c in registry.CHANNELS}
        rows.append(PreferenceRow(nt.key, nt.label, nt.group, nt.is_marketing, cells))
    return rows


# --- marketing consent -----------------------------------------------------------------


def current_consent(user_id: uuid.UUID, tenant_id: uuid.UUID | None = None) -> MarketingConsent | None:
    """The person's standing marketing consent: a platform-wide one, or one for ``tenant_id``."""
    scope = MarketingConsent.tenant_id.is_(None)
    if tenant_id is not None:
        scope = sa.or_(scope, MarketingConsent.tenant_id == tenant_id)
    return db.session.scalar(sa.select(MarketingConsent)
                             .where(MarketingConsent.user_id == user_id, MarketingConsent.withdrawn_at.is_(None), scope)
                             .order_by(MarketingConsent.granted_at.desc()).limit(1))


def has_marketing_consent(user_id: uuid.UUID, tenant_id: uuid.UUID | None = None) -> bool:
    """True when the person currently consents to marketing (from everyone, or ``tenant_id``)."""
    return current_consent(user_id, tenant_id) is not None


def grant_consent(user_id: uuid.UUID, *, method: str, source: str, ip: str | None = None,
                  tenant_id: uuid.UUID | None = None, now: datetime | None = None) -> MarketingConsent:
    """Record that the person agreed to marketing now, how (``method``) and where (``source``).

    Idempotent while a consent of the same scope stands (returns it)."""
    existing = db.session.scalar(sa.select(MarketingConsent).where(
        MarketingConsent.user_id == user_id, MarketingConsent.withdrawn_at.is_(None),
        MarketingConsent.tenant_id.is_(None) if tenant_id is None else MarketingConsent.tenant_id == tenant_id))
    if existing is not None:
        return existing
    consent = MarketingConsent(user_id=user_id, tenant_id=tenant_id, granted_at=now or utcnow(), method=method[:80],
                               source=source[:500], ip=(ip or None) and ip[:64])
    db.session.add(consent)
    db.session.flush()
    return consent


def withdraw_consent(user_id: uuid.UUID, *, method: str, now: datetime | None = None) -> int:
    """Withdraw every standing marketing consent of the person; returns how many were withdrawn."""
    result = db.session.execute(
        sa.update(MarketingConsent).where(MarketingConsent.user_id == user_id, MarketingConsent.withdrawn_at.is_(None))
        .values(withdrawn_at=now or utcnow(), withdrawn_method=method[:80]).execution_options(synchronize_session=False))
    db.session.flush()
    return result.rowcount or 0


# --- one-click unsubscribe -------------------------------------------------------------


def unsubscribe_token(user_id: uuid.UUID, type_key: str) -> str:
    """Signed token for the one-click link that stops email of ``type_key`` for the person."""
    return make_token(UNSUBSCRIBE_PURPOSE, {"u": str(user_id), "t": type_key})


def read_unsubscribe_token(token: str) -> tuple[uuid.UUID, str]:
    """``(user_id, type_key)`` of a token made by :func:`unsubscribe_token`.

    Raises:
        TokenError: bad signature, expired, or naming an unknown type.
    """
    data = read_token(UNSUBSCRIBE_PURPOSE, token, UNSUBSCRIBE_MAX_AGE)
    try:
        registry.get(str(data.get("t")))
        return uuid.UUID(str(data["u"])), str(data["t"])
    except (KeyError, ValueError) as exc:
        raise TokenError("This link is not valid.") from exc


def unsubscribe(user_id: uuid.UUID, type_key: str, method: str = "one-click link") -> None:
    """Stop email of ``type_key`` for the person; for a marketing type also withdraw consent."""
    set_preference(user_id, type_key, registry.EMAIL, False)
    if registry.get(type_key).is_marketing:
        withdraw_consent(user_id, method=method)


def grouped(rows: list[PreferenceRow]) -> list[tuple[str, list[PreferenceRow]]]:
    """``rows`` grouped by heading, groups in registry order (bookings first, news last)."""
    out: dict[str, list[PreferenceRow]] = {}
    for row in rows:
        out.setdefault(row.group, []).append(row)
    return list(out.items())
