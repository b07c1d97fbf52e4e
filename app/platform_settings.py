"""Platform-wide settings admins change without a deploy (dispute windows, answer deadlines, plan
features): typed values with defaults, read through one function.

Every known key is declared once in :data:`SETTINGS` (its type, default, bounds and label). The
``platform_setting`` table holds only the values an admin changed; a key without a row reads as its
default. Other packages read a value with :func:`get_setting` (e.g. ``get_setting("dispute_window_days")``
-> ``30``); the console changes one with :func:`set_setting`, which validates it and writes an audit
entry with the value before and after, in the same transaction. The table has no ``tenant_id``:
tenant hosts may read it, only the platform role writes it (``migrations.rls.PLATFORM_READ_TABLES``).

The console's edits of the category taxonomy go through the same domain functions as the
``flask marketplace categories`` CLI (:mod:`app.tenants.taxonomy`), wrapped here with their audit
entry (:func:`edit_category`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.audit.service import AuditActor, record_audit
from app.errors import InputError
from app.extensions import db
from app.tenants.context import platform_scope
from app.tenants.taxonomy import add_category, category_by_slug, move_category, rename_category, retire_category
from app.timeutil import utcnow


class PlatformSetting(db.Model):
    """One changed setting: ``key`` (from :data:`SETTINGS`), ``value`` (JSON of the declared type),
    when (tz-aware UTC) and by whom (account id, not a foreign key) it was last changed."""

    __tablename__ = "platform_setting"

    key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    value: Mapped[Any] = mapped_column(JSONB, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
    updated_by: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)


class SettingError(InputError, ValueError):
    """A value that cannot be stored for a setting, or an unknown key; ``message`` is user-facing."""

    field = "value"


@dataclass(frozen=True)
class Setting:
    """A known setting: ``key``; ``kind`` ``"int"``, ``"bool"`` or ``"choice"``; ``default``;
    ``minimum``/``maximum`` (ints, inclusive); ``choices`` (for ``"choice"``); ``label`` and ``unit``
    (``"days"``, ``"hours"``, …) shown in the console; ``group`` the settings page section."""

    key: str
    kind: str
    default: Any
    label: str
    group: str
    unit: str = ""
    minimum: int | None = None
    maximum: int | None = None
    choices: tuple[str, ...] = ()

    def coerce(self, raw: Any) -> Any:
        """``raw`` (a value of the type, or the text of a form field) as this setting's type.

        Raises:
            SettingError: not of the type, out of bounds, or not one of the choices.
        """
        if self.kind == "int":
            return self._int(raw)
        if self.kind == "bool":
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in {"1", "true", "on", "yes"}:
                return True
            if text in {"0", "false", "off", "no", ""}:
                return False
            raise SettingError(_("%(setting)s: yes or no.", setting=self.label))
        text = str(raw).strip()
        if text not in self.choices:
            raise SettingError(_("%(setting)s: one of %(choices)s.", setting=self.label, choices=", ".join(self.choices)))
        return text

    def _int(self, raw: Any) -> int:
        if isinstance(raw, bool):
            raise SettingError(_("%(setting)s: a whole number.", setting=self.label))
        try:
            value = raw if isinstance(raw, int) else int(str(raw).strip())
        except ValueError:
            raise SettingError(_("%(setting)s: a whole number.", setting=self.label)) from None
        if (self.minimum is not None and value < self.minimum) or (self.maximum is not None and value > self.maximum):
            raise SettingError(_("%(setting)s: from %(minimum)s to %(maximum)s %(unit)s.", setting=self.label, minimum=self.minimum,
                                 maximum=self.maximum, unit=self.unit))
        return value


#: Settings page sections, in order.
GROUPS = {"disputes": _l("Disputes and refund requests"), "plans": _l("Plan features"),
          "leads": _l("Job requests: routing and leads"),  # issue 13 (V)
          "credits": _l("Lead credit packs (USD)"),  # issue 13 (Y)
          "dispatch": _l("Dispatch now")}  # issue 13 (X)

#: Marketplace placement tiers a plan may have (app.billing.plans, app.marketplace.ranking).
MARKETPLACE_TIERS = ("basic", "featured", "top")


def _declare(*settings: Setting) -> dict[str, Setting]:
    return {s.key: s for s in settings}


#: Every known setting, by key.
SETTINGS: dict[str, Setting] = _declare(
    Setting("dispute_window_days", "int", 30, _l("Days after a paid booking a customer may open a dispute"),
            "disputes", _l("days"), 1, 365),
    Setting("dispute_business_answer_hours", "int", 72, _l("Hours a business has to answer a dispute"),
            "disputes", _l("hours"), 1, 720),
    Setting("refund_request_answer_hours", "int", 72, _l("Hours a business has to answer a refund request"),
            "disputes", _l("hours"), 1, 720),
    Setting("dispute_reminder_hours", "int", 24, _l("Hours before a deadline the parties are reminded"),
            "disputes", _l("hours"), 1, 168),
    Setting("plan.free.staff_seats", "int", 2, _l("Free: staff seats"), "plans", _l("seats"), 1, 500),
    Setting("plan.free.marketplace_tier", "choice", "basic", _l("Free: marketplace tier"), "plans",
            choices=MARKETPLACE_TIERS),
    Setting("plan.pro.staff_seats", "int", 10, _l("Pro: staff seats"), "plans", _l("seats"), 1, 500),
    Setting("plan.pro.sms_per_month", "int", 500, _l("Pro: SMS reminders per month"), "plans", _l("SMS"), 0, 100000),
    Setting("plan.pro.marketplace_tier", "choice", "featured", _l("Pro: marketplace tier"), "plans",
            choices=MARKETPLACE_TIERS),
    Setting("plan.premium.staff_seats", "int", 50, _l("Premium: staff seats"), "plans", _l("seats"), 1, 500),
    Setting("plan.premium.sms_per_month", "int", 5000, _l("Premium: SMS reminders per month"), "plans", _l("SMS"),
            0, 100000),
    Setting("plan.premium.marketplace_tier", "choice", "top", _l("Premium: marketplace tier"), "plans",
            choices=MARKETPLACE_TIERS),
    # issue 13 (V): routing job requests to providers (app.leads.scoring, app.leads.routing, app.leads.sweeps)
    Setting("routing.top_n", "int", 2, _l("Providers a job request is offered to at once"), "leads", _l("providers"), 1, 10),
    Setting("routing.window_minutes", "int", 240, _l("Minutes the offered providers have to claim a job request"),
            "leads", _l("minutes"), 5, 10080),
    Setting("leads.contact_hours", "int", 24, _l("Hours a provider who claimed has to contact the customer"),
            "leads", _l("hours"), 1, 336),
    Setting("leads.confirm_days", "int", 14, _l("Days a job request stays open for the customer to confirm a quote"),
            "leads", _l("days"), 1, 90),
    Setting("routing.weight.rating", "int", 25, _l("Routing weight: rating (Bayesian)"), "leads", _l("points"), 0, 100),
    Setting("routing.weight.completed", "int", 10, _l("Routing weight: completed jobs"), "leads", _l("points"), 0, 100),
    Setting("routing.weight.response_rate", "int", 10, _l("Routing weight: response rate"), "leads", _l("points"), 0, 100),
    Setting("routing.weight.response_time", "int", 5, _l("Routing weight: response time"), "leads", _l("points"), 0, 100),
    Setting("routing.weight.distance", "int", 20, _l("Routing weight: distance"), "leads", _l("points"), 0, 100),
    Setting("routing.weight.load", "int", 10, _l("Routing weight: current load (fewer open jobs)"), "leads", _l("points"),
            0, 100),
    Setting("routing.weight.expertise", "int", 10, _l("Routing weight: expertise in the category"), "leads", _l("points"),
            0, 100),
    Setting("routing.weight.verified", "int", 5, _l("Routing weight: verified business"), "leads", _l("points"), 0, 100),
    Setting("routing.weight.recency", "int", 5, _l("Routing weight: time since their last lead (spreads leads)"),
            "leads", _l("points"), 0, 100),
    # issue 13 (Y): credit packs (app.credits.packs); 0 credits takes a pack off sale
    Setting("credits.pack.starter.credits", "int", 5, _l("Starter pack: credits"), "credits", _l("credits"), 0, 1000),
    Setting("credits.pack.starter.price", "int", 2500, _l("Starter pack: price"), "credits", _l("cents"), 100, 1000000),
    Setting("credits.pack.standard.credits", "int", 15, _l("Standard pack: credits"), "credits", _l("credits"), 0, 1000),
    Setting("credits.pack.standard.price", "int", 6000, _l("Standard pack: price"), "credits", _l("cents"), 100, 1000000),
    Setting("credits.pack.pro.credits", "int", 40, _l("Pro pack: credits"), "credits", _l("credits"), 0, 1000),
    Setting("credits.pack.pro.price", "int", 14000, _l("Pro pack: price"), "credits", _l("cents"), 100, 1000000),
    # issue 13 (X)
    Setting("dispatch.accept_seconds", "int", 45, _l("Seconds an operator has to accept an on-demand offer"),
            "dispatch", _l("seconds"), 5, 600),
    Setting("dispatch.radius_km", "int", 25, _l("How far dispatch looks for an operator"), "dispatch", _l("km"), 1, 200),
)


def setting_spec(key: str) -> Setting:
    """The declaration of ``key``.

    Raises:
        SettingError: no such setting.
    """
    spec = SETTINGS.get(key)
    if spec is None:
        raise SettingError(_("There is no setting “%(key)s”.", key=key), "key")
    return spec


def get_setting(key: str) -> Any:
    """The current value of setting ``key`` (``int`` for day/hour counts, ``bool``, or ``str``): the
    stored one, or the declared default when none is stored (or the stored one no longer fits the
    declaration). Reads in the caller's transaction; works with or without a tenant in scope.

    Raises:
        SettingError: ``key`` is not declared in :data:`SETTINGS`.
    """
    spec = setting_spec(key)
    stored = db.session.scalar(sa.select(PlatformSetting.value).where(PlatformSetting.key == key))
    if stored is None:
        return spec.default
    try:
        return spec.coerce(stored)
    except SettingError:
        return spec.default


def all_settings() -> dict[str, Any]:
    """Every declared setting's current value, by key (one query)."""
    stored = {key: value for key, value in db.session.execute(sa.select(PlatformSetting.key, PlatformSetting.value))}
    values = {}
    for key, spec in SETTINGS.items():
        try:
            values[key] = spec.coerce(stored[key]) if key in stored else spec.default
        except SettingError:
            values[key] = spec.default
    return values


def set_setting(key: str, value: Any, *, by: AuditActor, reason: str = "") -> tuple[Any, Any]:
    """Set ``key`` to ``value`` (its type, or a form field's text) on behalf of ``by`` and write the
    audit entry ``platform_setting.changed`` with ``before``/``after``; nothing (no row, no entry)
    when the value is unchanged. Runs in platform scope; flushes, never commits.

    Returns:
        ``(before, after)`` typed values.

    Raises:
        SettingError: unknown key or a value that does not fit the declaration.
    """
    spec = setting_spec(key)
    new = spec.coerce(value)
    with platform_scope(f"platform settings: change {key}"):
        before = get_setting(key)
        if before == new:
            return before, new
        row = db.session.get(PlatformSetting, key)
        if row is None:
            db.session.add(PlatformSetting(key=key, value=new, updated_at=utcnow(), updated_by=by.user_id))
        else:
            row.value, row.updated_at, row.updated_by = new, utcnow(), by.user_id
        db.session.flush()
        record_audit(by, "platform_setting.changed", "platform_setting", key, reason=reason,
                     before={key: before}, after={key: new})
    return before, new


def plan_overrides(code: str) -> dict[str, Any]:
    """The plan features of plan ``code`` (``free``/``pro``/``premium``) as the settings hold them:
    ``{"staff_seats": 10, "sms_per_month": 500, "marketplace_tier": "featured"}`` (only declared
    ones; :func:`app.billing.plans.current_plan` applies them). One query."""
    prefix = f"plan.{code}."
    return {key.removeprefix(prefix): value for key, value in all_settings().items() if key.startswith(prefix)}


#: Taxonomy edits the console makes: ``add``, ``rename``, ``move`` (up/down), ``retire``.
CATEGORY_EDITS = ("add", "rename", "up", "down", "retire")
#: The audit action of each edit.
CATEGORY_ACTIONS = {"add": "category.added", "rename": "category.renamed", "up": "category.moved",
                    "down": "category.moved", "retire": "category.retired"}


def _category_state(slug: str) -> dict[str, Any] | None:
    c = category_by_slug(slug)
    return None if c is None else {"name": c.name, "position": c.position, "active": c.active}


def edit_category(edit: str, slug: str, name: str = "", *, by: AuditActor) -> None:
    """One taxonomy edit from the console (``edit`` in :data:`CATEGORY_EDITS`; ``name`` for add and
    rename) through :mod:`app.tenants.taxonomy`, with an audit entry ``category.<edit>`` holding
    the category before and after. Platform scope; flushes, never commits.

    Raises:
        app.tenants.taxonomy.TaxonomyError: a bad slug or name, or no such category.
        SettingError: an unknown ``edit``.
    """
    if edit not in CATEGORY_EDITS:
        raise SettingError(_("Unknown change “%(edit)s”.", edit=edit), "edit")
    slug = slug.strip().lower()
    with platform_scope(f"platform settings: category {edit}"):
        before = _category_state(slug)
        if edit == "add":
            add_category(slug, name)
        elif edit == "rename":
            rename_category(slug, name)
        elif edit == "retire":
            retire_category(slug)
        else:
            move_category(slug, -1 if edit == "up" else 1)
        record_audit(by, CATEGORY_ACTIONS[edit], "marketplace_category", slug, before={slug: before}, after={slug: _category_state(slug)})

