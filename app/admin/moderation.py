"""The platform's moderation queue over ``content_report``: every report whose
``platform_status`` is ``new`` or ``reviewing``, grouped by the reported content, with that
content and its context; and the platform's decision on a group.

Decisions: ``hide`` / ``restore`` the content (through the registry of
:mod:`app.community.moderation`, so reviews go through :mod:`app.reviews.moderation` and their
aggregates stay exact), ``warn`` or ``suspend`` its author (a person, or the business when the
business wrote it: :mod:`app.admin.sanctions`), ``dismiss`` the reports. Every open report
about the content gets ``platform_status`` ``upheld`` (hide, warn, suspend) or ``rejected``
(restore, dismiss) and the business-side status to match: the platform's decision wins, and
content the platform hid can be restored only by the platform. Each decision is audit-logged
in the business's log; each reporter with an account is told the outcome.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from app.admin import notices, sanctions
from app.admin.sanctions import BUSINESS, PERSON, SanctionError, Subject
from app.audit.service import AuditActor, record_audit
from app.chat.models import Message
from app.community import posts
from app.community.models import ACTIONED, DISMISSED, OPEN, ContentReport
from app.community.moderation import Target, TargetKind, kind_of
from app.errors import InputError
from app.extensions import db
from app.formatting import format_local
from app.identity.models import User
from app.reviews.models import Review
from app.tenants.context import platform_scope, tenant_scope
from app.tenants.models import Tenant
from app.timeutil import utcnow

#: Platform statuses that put a report in the queue.
WAITING = ("new", "reviewing")
#: The platform's decisions.
DECISIONS = ("hide", "restore", "warn", "suspend", "dismiss")
#: Messages shown before a reported message.
PREVIOUS_MESSAGES = 3
OUTCOMES = {
    "hide": _l("We removed the content you reported."),
    "restore": _l("We reviewed the content you reported and it stays up."),
    "warn": _l("We reviewed the content you reported and warned its author."),
    "suspend": _l("We reviewed the content you reported and suspended its author."),
    "dismiss": _l("We reviewed the content you reported and found it does not break the rules."),
}


class ModerationError(InputError):
    """A decision that cannot be taken (unknown decision, nothing waiting, no author to warn)."""


@dataclass
class Group:
    """The reports about one piece of content of business ``tenant_id``: the business's name,
    the kind (``None`` when no longer registered), the loaded target (``None``: content gone),
    ``context`` lines (plain text: the visit of a review, the previous messages, the post
    under a comment) and the reports, oldest first."""

    tenant_id: uuid.UUID
    business: str
    target_type: str
    target_id: uuid.UUID
    kind: TargetKind | None
    target: Target | None
    context: list[str] = field(default_factory=list)
    reports: list[ContentReport] = field(default_factory=list)

    @property
    def key(self) -> str:
        """A stable id of the group for forms and anchors."""
        return f"{self.tenant_id}:{self.target_type}:{self.target_id}"

    @property
    def label(self) -> str:
        """What kind of content it is, for people."""
        return self.kind.label if self.kind is not None else self.target_type


def context_of(target_type: str, target_id: uuid.UUID) -> list[str]:
    """Context lines of a target in the tenant in scope: a review's service and month; a
    reply's review; a comment's post; a message's previous :data:`PREVIOUS_MESSAGES` messages."""
    if target_type in ("review", "review_reply"):
        review = db.session.scalar(sa.select(Review).where(Review.id == target_id))
        if review is None:
            return []
        lines = [ngettext("%(service)s, visit in %(month)s, %(num)d star", "%(service)s, visit in %(month)s, %(num)d stars",
                          review.rating, service=review.service_name,
                          month=format_local(review.visit_at, "UTC", "%B %Y"))]
        if target_type == "review_reply":
            lines.append(_("Review by %(name)s: %(text)s", name=review.author_name, text=review.text or _("(no text)")))
        return lines
    if target_type == "comment":
        comment = posts.get_comment(target_id)
        post = posts.get_post(comment.post_id) if comment is not None else None
        return [_("On the post: %(text)s", text=post.body[:280])] if post is not None else []
    if target_type == "message":
        msg = db.session.scalar(sa.select(Message).where(Message.id == target_id))
        if msg is None:
            return []
        before = list(db.session.scalars(sa.select(Message).where(
            Message.conversation_id == msg.conversation_id, Message.seq < msg.seq)
            .order_by(Message.seq.desc()).limit(PREVIOUS_MESSAGES)))
        return [f"{m.author_name or m.author_role}: {m.body[:280]}" for m in reversed(before)]
    return []


def waiting_groups(limit: int = 200) -> list[Group]:
    """The queue: groups of waiting reports, the group with the oldest report first, each with
    its content and context loaded in its business's scope."""
    with platform_scope("console: moderation queue"):
        rows = list(db.session.scalars(sa.select(ContentReport).where(ContentReport.platform_status.in_(WAITING))
                                       .order_by(ContentReport.created_at, ContentReport.id).limit(limit)))
        names = dict(db.session.execute(sa.select(Tenant.id, Tenant.name).where(
            Tenant.id.in_({r.tenant_id for r in rows}))).all()) if rows else {}
        groups: dict[tuple, Group] = {}
        for r in rows:
            key = (r.tenant_id, r.target_type, r.target_id)
            if key not in groups:
                groups[key] = Group(r.tenant_id, names.get(r.tenant_id, ""), r.target_type, r.target_id,
                                    kind_of(r.target_type), None)
            groups[key].reports.append(r)
        for g in groups.values():
            with tenant_scope(g.tenant_id):
                g.target = g.kind.load(g.target_id) if g.kind is not None else None
                g.context = context_of(g.target_type, g.target_id)
        return list(groups.values())


def _author(target_type: str, target: Target | None, tenant_id: uuid.UUID) -> Subject | None:
    """Whom a warning or suspension about ``target`` is for: its author's account (by id, or by
    the email of a customer), else the business when the business wrote it (its profile, posts,
    replies)."""
    if target is None:
        return None
    if target_type == "profile":
        return Subject(BUSINESS, tenant_id)
    if target.author_user_id is not None:
        return Subject(PERSON, target.author_user_id)
    if target.author_email:
        uid = db.session.scalar(sa.select(User.id).where(User.email == target.author_email))
        return Subject(PERSON, uid) if uid is not None else None
    if target.author_name == "The business":
        return Subject(BUSINESS, tenant_id)
    return None


def decide(tenant_id: uuid.UUID, target_type: str, target_id: uuid.UUID, decision: str, reason: str,
           actor: AuditActor) -> int:
    """Take the platform's ``decision`` on the content, for ``reason``; the number of reports
    it settled. Audit-logged (``moderation.<decision>``, in the business's log, before/after);
    the reporters with an account are told. Flushes.

    Raises:
        ModerationError: unknown decision, no waiting report about it, empty reason, content
            that cannot be hidden, or no author to warn or suspend.
        SanctionError: the sanction of the author was refused (e.g. an admin).
    """
    if decision not in DECISIONS:
        raise ModerationError(_("Choose a decision."), "action")
    text = (reason or "").strip()
    if not text:
        raise ModerationError(_("Give a reason."), "reason")
    with platform_scope(f"console: moderation {decision}"), tenant_scope(tenant_id):
        reports = list(db.session.scalars(sa.select(ContentReport).where(
            ContentReport.tenant_id == tenant_id, ContentReport.target_type == target_type,
            ContentReport.target_id == target_id, ContentReport.platform_status.in_(WAITING))))
        if not reports:
            raise ModerationError(_("Nothing is waiting about this content: someone decided already."))
        kind = kind_of(target_type)
        target = kind.load(target_id) if kind is not None else None
        before = {"visible": target.visible if target is not None else None}
        if decision in ("hide", "restore"):
            if kind is None or kind.set_hidden is None or target is None:
                raise ModerationError(_("This content cannot be hidden: suspend its author instead."), "action")
            kind.set_hidden(target_id, decision == "hide")
        author = _author(target_type, target, tenant_id) if decision in ("warn", "suspend") else None
        if decision in ("warn", "suspend") and author is None:
            raise ModerationError(_("This content has no author with an account to warn or suspend."), "action")
        now = utcnow()
        upheld = decision in ("hide", "warn", "suspend")
        for r in reports:
            r.platform_status = "upheld" if upheld else "rejected"
            if r.status == OPEN or decision in ("hide", "restore"):
                r.status = ACTIONED if upheld else DISMISSED
            r.resolved_by, r.resolved_at, r.updated_at = actor.user_id, now, now
        db.session.flush()
        after_target = kind.load(target_id) if kind is not None else None
        record_audit(actor, f"moderation.{decision}", target_type, target_id, reason=text, before=before,
                     after={"visible": after_target.visible if after_target is not None else None,
                            "reports": [str(r.id) for r in reports],
                            "platform_status": "upheld" if upheld else "rejected"})
        excerpt = target.excerpt if target is not None else target_type
        for r in reports:
            if r.reporter_user_id is not None:
                notices.tell_reporter(r.reporter_user_id, excerpt, OUTCOMES[decision], f"report:{r.id}:outcome")
    if author is not None:
        sanctions.impose(author, "warn" if decision == "warn" else "suspend",
                         f"After a report about your {kind.label.lower() if kind else 'content'}: {text}", actor)
    return len(reports)


__all__ = ["DECISIONS", "Group", "ModerationError", "SanctionError", "context_of", "decide", "waiting_groups"]
