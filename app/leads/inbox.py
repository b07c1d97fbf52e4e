"""The provider's lead inbox: its own tenant's leads by tab, filtered and searched, and why each came.

Tabs (:data:`TABS`): ``available`` (offered, not yet expired, not reported as spam), ``claimed``,
``quoted``, ``won``, ``lost`` and ``refunded``. Filters: marketplace category (slug), the
greatest distance in km from the business's base, the complexity tier; ``q`` searches the title,
area and answers (case-insensitive substring). Reads only ``lead`` rows of the business in scope.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from app.extensions import db
from app.formatting import format_duration
from app.leads.models import Lead, LeadStatus
from app.timeutil import utcnow

#: Tab key -> label, in order.
TABS = {"available": _l("Available"), "claimed": _l("Claimed"), "quoted": _l("Quoted"), "won": _l("Won"),
        "lost": _l("Lost"), "refunded": _l("Refunded")}
#: Leads shown per page.
PAGE = 50
#: Longest search text, in characters.
MAX_Q = 80
#: Score factor -> (label, (what a strong, a fair and a weak value means, in plain words)).
FACTORS = {
    "rating": (_l("Rating"), (_l("customers rate you well"), _l("customers rate you fairly well"),
                          _l("few or mixed ratings so far"))),
    "completed": (_l("Completed jobs"), (_l("you have finished many jobs"), _l("you have finished some jobs"),
                                     _l("few finished jobs on Plaza yet"))),
    "response_rate": (_l("Response rate"), (_l("you answer most leads"), _l("you answer many leads"), _l("you answer few leads"))),
    "response_time": (_l("Response time"), (_l("you answer quickly"), _l("you answer in fair time"), _l("you answer slowly"))),
    "distance": (_l("Distance"), (_l("the job is close to you"), _l("the job is a fair way from you"), _l("the job is far from you"))),
    "load": (_l("Current load"), (_l("you have room in your schedule"), _l("your schedule is fairly busy"),
                              _l("your schedule is full"))),
    "expertise": (_l("Expertise"), (_l("you often do jobs in this category"), _l("you have done some jobs in this category"),
                                _l("few jobs in this category on Plaza yet"))),
    "verified": (_l("Verified"), (_l("your business is verified"), _l("your business is partly verified"),
                              _l("your business is not verified yet"))),
    "recency": (_l("Fair share"), (_l("you have not had a lead for a while"), _l("you had a lead a little while ago"),
                               _l("you had a lead very recently"))),
}
#: Routing tier -> how the provider matched, in plain words.
MATCHES = {1: _l("The job's postcode is in your service area."), 2: _l("The job is in your home postcode or city."),
           3: _l("The job is within your travel radius.")}


@dataclass(frozen=True)
class Filters:
    """The inbox's filters: ``tab`` (a key of :data:`TABS`), ``category`` slug, ``max_km``
    (greatest distance, km), ``tier`` (complexity tier), ``q`` (search text); empty = any."""

    tab: str = "available"
    category: str = ""
    max_km: float | None = None
    tier: int | None = None
    q: str = ""


def parse_filters(args: dict[str, str]) -> Filters:
    """:class:`Filters` from query parameters (``tab``, ``category``, ``distance``, ``tier``, ``q``);
    unknown or malformed values are ignored (treated as "any")."""
    tab = args.get("tab", "available")
    tab = tab if tab in TABS else "available"
    category = (args.get("category") or "").strip().lower()[:40]
    try:
        max_km = float(args.get("distance") or "")
        max_km = max_km if 0 < max_km <= 20000 else None
    except ValueError:
        max_km = None
    raw_tier = args.get("tier") or ""
    tier = int(raw_tier) if raw_tier.isdigit() and 0 < int(raw_tier) < 100 else None
    q = " ".join((args.get("q") or "").split())[:MAX_Q]
    return Filters(tab, category, max_km, tier, q)


def tab_condition(tab: str, now: datetime | None = None, entity: Any = Lead) -> sa.ColumnElement[bool]:
    """SQL condition of ``tab``'s leads (on ``entity``: :class:`Lead` or an alias of it)."""
    if tab == "available":
        now = now or utcnow()
        return sa.and_(entity.status == LeadStatus.OFFERED.value, entity.spam_reported_at.is_(None),
                       sa.or_(entity.expires_at.is_(None), entity.expires_at > now))
    return entity.status == LeadStatus(tab).value


def _filtered(f: Filters) -> sa.Select:
    q = sa.select(Lead)
    if f.category:
        q = q.where(Lead.category_slug == f.category)
    if f.max_km is not None:
        q = q.where(Lead.distance_km <= f.max_km)
    if f.tier is not None:
        q = q.where(Lead.complexity_tier == f.tier)
    if f.q:
        pattern = "%" + f.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        q = q.where(sa.or_(Lead.title.ilike(pattern), Lead.city.ilike(pattern), Lead.postcode.ilike(pattern),
                           sa.cast(Lead.answers_summary, sa.Text).ilike(pattern)))
    return q


def list_leads(f: Filters, limit: int = PAGE) -> list[Lead]:
    """The leads of ``f.tab`` matching ``f``: available ones soonest-expiring first, the others
    latest activity first."""
    q = _filtered(f).where(tab_condition(f.tab))
    if f.tab == "available":
        q = q.order_by(Lead.expires_at.asc().nulls_last(), Lead.offered_at.desc())
    else:
        q = q.order_by(sa.func.coalesce(Lead.decided_at, Lead.quoted_at, Lead.claimed_at, Lead.offered_at).desc())
    return list(db.session.scalars(q.limit(limit)))


def tab_counts(f: Filters) -> dict[str, int]:
    """How many leads each tab holds under ``f``'s filters (the tab itself aside); one query."""
    now = utcnow()
    sub = _filtered(f).subquery()
    cols = [sa.func.count().filter(tab_condition(tab, now, sub.c)) for tab in TABS]
    row = db.session.execute(sa.select(*cols).select_from(sub)).one()
    return dict(zip(TABS, (int(n) for n in row), strict=True))


def categories() -> list[str]:
    """The category slugs among the business's leads, sorted."""
    return sorted(c for c in db.session.scalars(sa.select(Lead.category_slug).distinct()) if c)


def get_lead(lead_id: uuid.UUID | None) -> Lead | None:
    """The business's lead with this id, or ``None``."""
    if lead_id is None:
        return None
    return db.session.scalar(sa.select(Lead).where(Lead.id == lead_id))


@dataclass(frozen=True)
class Reason:
    """One part of why a lead came: ``label``, ``words`` (plain sentence), ``value`` (0–100, the
    factor's strength), ``share`` (0–100, its share of the score)."""

    label: str
    words: str
    value: int
    share: int


def why(lead: Lead) -> list[Reason]:
    """The lead's score parts as plain words and bar lengths, largest contribution first."""
    parts = lead.score_parts or {}
    total = sum(max(float(p.get("contribution") or 0), 0.0) for p in parts.values() if isinstance(p, dict)) or 1.0
    out = []
    for key, part in parts.items():
        if not isinstance(part, dict):
            continue
        label, meanings = FACTORS.get(key, (key.replace("_", " ").capitalize(), ("", "", "")))
        label = str(label)
        value = max(0.0, min(1.0, float(part.get("value") or 0)))
        contribution = max(float(part.get("contribution") or 0), 0.0)
        level = 0 if value >= 0.7 else 1 if value >= 0.4 else 2
        strength, meaning = (_("Strong"), _("Fair"), _("Weak"))[level], meanings[level]
        words = _("%(strength)s: %(meaning)s.", strength=strength, meaning=meaning) if meaning else f"{strength}."
        out.append(Reason(label, words, round(value * 100), round(contribution / total * 100)))
    out.sort(key=lambda r: -r.share)
    return out


def match_line(lead: Lead) -> str:
    """How the business matched the job (routing tier in words; manual assignments say so)."""
    if lead.source == "manual":
        return _("Plaza's team chose you for this job.")
    return str(MATCHES.get(lead.routing_tier or 0, ""))


def expires_in(lead: Lead, now: datetime | None = None) -> str:
    """Time left to claim, e.g. ``"2 h 5 min"``, ``"12 min"``, ``"expired"`` (empty without an expiry)."""
    if lead.expires_at is None:
        return ""
    seconds = int((lead.expires_at - (now or utcnow())).total_seconds())
    if seconds <= 0:
        return _("expired")
    hours, minutes = divmod(max(seconds // 60, 1), 60)
    if hours >= 48:
        return ngettext("%(num)d day", "%(num)d days", hours // 24)
    return format_duration(hours * 60 + minutes)
