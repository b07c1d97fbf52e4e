"""Reports about user content, and what the business does about them.

Every reportable kind of content is one entry of a small registry (:func:`register`): how to
load a target of the business in scope (:class:`Target`: a short excerpt, its author and
whether it is shown) and how to hide or restore it. Reviews and their replies (hidden through
:mod:`app.reviews.moderation`, so the aggregates stay exact), posts, comments, chat messages and
the business profile are registered here; another kind is one more call::

    register(TargetKind("flyer", "Flyer", load_flyer, set_flyer_hidden))

A report (:class:`~app.community.models.ContentReport`) is stored for the business whose
content it is (its owners and managers see it at ``/dashboard/reports``) with a
``platform_status`` the platform console's moderation queue uses; a ``content.reported``
outbox event tells the platform. Tenant in scope; functions flush, never commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from app.booking.models import Customer
from app.chat.models import BOOKING, INQUIRY, Conversation, Inquiry, Message, Participant
from app.community import blocks, posts
from app.community.models import ACTIONED, DISMISSED, OPEN, REASONS, ContentReport
from app.errors import InputError
from app.extensions import db
from app.formatting import format_number
from app.identity.models import User
from app.identity.service import normalize_email
from app.outbox.events import emit
from app.reviews.models import Review, ReviewStatus
from app.reviews.moderation import set_reply_hidden, set_review_hidden
from app.tenants.context import require_tenant_id
from app.tenants.models import Tenant
from app.timeutil import utcnow

#: Longest note a reporter may add, in characters.
MAX_NOTE = 1000
#: Characters of the target's text shown beside a report.
EXCERPT = 280
#: Outbox event for the platform's moderation queue (payload: ``report_id``, ``target_type``, ``reason``).
REPORTED = "content.reported"
#: What the business may do with a report.
ACTIONS = ("hide", "restore", "dismiss", "block")


class ReportError(InputError):
    """A report that cannot be accepted (unknown content, bad reason, note too long)."""


@dataclass(frozen=True)
class Target:
    """A reportable piece of content: ``excerpt`` (plain text, at most :data:`EXCERPT`
    characters), its author (account ``author_user_id`` and/or ``author_email``, and a
    display name), and whether it is ``visible`` now."""

    excerpt: str
    author_name: str
    author_user_id: uuid.UUID | None
    author_email: str | None
    visible: bool


@dataclass(frozen=True)
class TargetKind:
    """One kind of reportable content: ``name`` (stored as ``target_type``), a ``label`` for
    people, ``load(target_id) -> Target | None`` in the tenant in scope, and
    ``set_hidden(target_id, hidden) -> object`` (``None`` when the business cannot hide it:
    only the platform can, e.g. the profile itself)."""

    name: str
    label: str
    load: Callable[[uuid.UUID], Target | None]
    set_hidden: Callable[[uuid.UUID, bool], object] | None = None


REGISTRY: dict[str, TargetKind] = {}


def register(kind: TargetKind) -> None:
    """Make ``kind`` reportable (a second registration of the same name replaces the first)."""
    REGISTRY[kind.name] = kind


def kind_of(name: str) -> TargetKind | None:
    """The registered kind ``name``, or ``None``."""
    return REGISTRY.get(name)


def _excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= EXCERPT else flat[:EXCERPT].rstrip() + "…"


def _user_email(user_id: uuid.UUID | None) -> str | None:
    return db.session.scalar(sa.select(User.email).where(User.id == user_id)) if user_id else None


# --------------------------------------------------------------------------- the built-in kinds


def load_post(post_id: uuid.UUID) -> Target | None:
    """A post as a :class:`Target` (its author is the business)."""
    post = posts.get_post(post_id)
    if post is None:
        return None
    return Target(_excerpt(post.body), _("The business"), None, None, posts.is_visible(post))


def load_comment(comment_id: uuid.UUID) -> Target | None:
    """A comment as a :class:`Target`."""
    comment = posts.get_comment(comment_id)
    if comment is None:
        return None
    return Target(_excerpt(comment.body), comment.author_name, comment.user_id, _user_email(comment.user_id),
                  comment.hidden_at is None)


def load_message(message_id: uuid.UUID) -> Target | None:
    """A chat message as a :class:`Target`; its author's account and email are those of the
    participant (a customer's: the booking's customer record or the inquiry's address)."""
    msg = db.session.scalar(sa.select(Message).where(Message.id == message_id))
    if msg is None:
        return None
    author = db.session.scalar(sa.select(Participant).where(Participant.id == msg.author_participant_id))
    conv = db.session.scalar(sa.select(Conversation).where(Conversation.id == msg.conversation_id))
    user_id = author.user_id if author is not None else None
    email = _user_email(user_id)
    if msg.author_role == "customer" and conv is not None and author is not None:
        if conv.subject_type == INQUIRY:
            email = db.session.scalar(sa.select(Inquiry.email).where(Inquiry.id == conv.subject_id)) or email
        elif conv.subject_type == BOOKING:
            email = db.session.scalar(sa.select(Customer.email).where(Customer.id == author.customer_id)) or email
    return Target(_excerpt(msg.body), msg.author_name, user_id, email, msg.hidden_at is None)


def set_message_hidden(message_id: uuid.UUID, hidden: bool) -> bool:
    """Hide (or restore) a chat message; True when it exists. Flushes."""
    msg = db.session.scalar(sa.select(Message).where(Message.id == message_id))
    if msg is None:
        return False
    msg.hidden_at = utcnow() if hidden else None
    db.session.flush()
    return True


def load_profile(tenant_id: uuid.UUID) -> Target | None:
    """The business profile itself (only its own id, the tenant in scope)."""
    if tenant_id != require_tenant_id():
        return None
    tenant = db.session.get(Tenant, tenant_id)
    if tenant is None:
        return None
    return Target(_excerpt(tenant.name), tenant.name, None, None, tenant.suspended_at is None)


def load_review(review_id: uuid.UUID) -> Target | None:
    """A review as a :class:`Target` (its author: the booking's customer)."""
    review = db.session.scalar(sa.select(Review).where(Review.id == review_id))
    if review is None or review.status == ReviewStatus.REMOVED.value:
        return None
    email = db.session.scalar(sa.select(Customer.email).where(Customer.id == review.customer_id))
    return Target(_excerpt(review.text or ngettext("%(num)d star", "%(num)d stars", review.rating)), review.author_name, None, email,
                  review.status == ReviewStatus.VISIBLE.value)


def load_reply(review_id: uuid.UUID) -> Target | None:
    """The business's public reply to a review (by the review's id) as a :class:`Target`."""
    review = db.session.scalar(sa.select(Review).where(Review.id == review_id))
    if review is None or not review.reply_text:
        return None
    return Target(_excerpt(review.reply_text), _("The business"), None, None, not review.reply_hidden)


register(TargetKind("review", _l("Review"), load_review, set_review_hidden))
register(TargetKind("review_reply", _l("Reply to a review"), load_reply, set_reply_hidden))
register(TargetKind("post", _l("Post"), load_post, posts.set_post_hidden))
register(TargetKind("comment", _l("Comment"), load_comment, posts.set_comment_hidden))
register(TargetKind("message", _l("Message"), load_message, set_message_hidden))
register(TargetKind("profile", _l("Business profile"), load_profile, None))


# --------------------------------------------------------------------------- reports


def report_content(target_type: str, target_id: uuid.UUID | None, reason: str, note: str = "", *,
                   reporter_user_id: uuid.UUID | None = None, reporter_email: str | None = None) -> ContentReport:
    """Store a report about content of the business in scope and tell the platform (outbox
    :data:`REPORTED`). A second open report by the same account about the same content is
    returned instead of a new one. Flushes.

    Raises:
        ReportError: unknown kind or content (``field`` ``None``), reason not in
            :data:`~app.community.models.REASONS` (``"reason"``), note over :data:`MAX_NOTE` (``"note"``).
    """
    kind = kind_of(target_type)
    target = kind.load(target_id) if kind is not None and target_id is not None else None
    if kind is None or target is None or target_id is None:
        raise ReportError(_("There is nothing to report here: the content may have been removed."))
    if reason not in REASONS:
        raise ReportError(_("Choose a reason."), "reason")
    text = (note or "").replace("\r\n", "\n").strip()
    if len(text) > MAX_NOTE:
        raise ReportError(_("The note can be at most %(count)s characters.", count=format_number(MAX_NOTE)), "note")
    if reporter_user_id is not None:
        same = db.session.scalar(sa.select(ContentReport).where(
            ContentReport.target_type == target_type, ContentReport.target_id == target_id,
            ContentReport.reporter_user_id == reporter_user_id, ContentReport.status == OPEN))
        if same is not None:
            return same
    report = ContentReport(target_type=target_type, target_id=target_id, reason=reason, note=text,
                           reporter_user_id=reporter_user_id,
                           reporter_email=normalize_email(reporter_email) if reporter_email else None)
    db.session.add(report)
    db.session.flush()
    emit(REPORTED, {"report_id": str(report.id), "target_type": target_type, "reason": reason})
    return report


@dataclass(frozen=True)
class ReportView:
    """A report with its target for the business's page (``target`` ``None`` once the content is gone)."""

    report: ContentReport
    kind: TargetKind | None
    target: Target | None

    @property
    def can_hide(self) -> bool:
        """True when the business can hide or restore the content."""
        return self.kind is not None and self.kind.set_hidden is not None and self.target is not None

    @property
    def can_block(self) -> bool:
        """True when the content has an author the business can block (a customer)."""
        return self.target is not None and bool(self.target.author_user_id or self.target.author_email)


def list_reports(status: str | None = OPEN, limit: int = 200) -> list[ReportView]:
    """The business's reports (``status`` open, actioned or dismissed; ``None`` for all), newest
    first, each with its target loaded."""
    q = sa.select(ContentReport).order_by(ContentReport.created_at.desc()).limit(limit)
    if status is not None:
        q = q.where(ContentReport.status == status)
    out = []
    for report in db.session.scalars(q):
        kind = kind_of(report.target_type)
        out.append(ReportView(report, kind, kind.load(report.target_id) if kind is not None else None))
    return out


def get_report(report_id: uuid.UUID | None) -> ContentReport | None:
    """The business's report with this id, or ``None``."""
    if report_id is None:
        return None
    return db.session.scalar(sa.select(ContentReport).where(ContentReport.id == report_id))


def count_open() -> int:
    """Open reports of the business in scope."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(ContentReport)
                             .where(ContentReport.status == OPEN)) or 0


def act_on_report(report: ContentReport, action: str, *, by: uuid.UUID) -> ContentReport:
    """The business acts on ``report``: ``hide`` or ``restore`` the content, ``dismiss`` the
    report, or ``block`` the content's author (and hide the content when it can be hidden).
    Every other open report about the same content gets the same status. Flushes.

    Raises:
        ReportError: an unknown action, or one this content does not allow.
    """
    if action not in ACTIONS:
        raise ReportError(_("Choose what to do with this report."))
    kind = kind_of(report.target_type)
    target = kind.load(report.target_id) if kind is not None else None
    view = ReportView(report, kind, target)
    if action in ("hide", "restore") and not view.can_hide:
        raise ReportError(_("Only the platform can hide this content; the report has reached it."))
    if action == "restore" and db.session.scalar(sa.select(ContentReport.id).where(  # the platform's decision wins
            ContentReport.target_type == report.target_type, ContentReport.target_id == report.target_id,
            ContentReport.platform_status == "upheld").limit(1)) is not None:
        raise ReportError(_("Plaza's moderators hid this content; only they can restore it."))
    if action == "block" and not view.can_block:
        raise ReportError(_("This content has no customer author to block."))
    if action == "block" and target is not None:
        blocks.block_person(user_id=target.author_user_id, email=target.author_email, name=target.author_name,
                            note=f"Blocked after a report ({report.reason}).", by=by)
    if action in ("hide", "block") and view.can_hide and kind is not None and kind.set_hidden is not None:
        kind.set_hidden(report.target_id, True)
    if action == "restore" and kind is not None and kind.set_hidden is not None:
        kind.set_hidden(report.target_id, False)
    status = DISMISSED if action in ("dismiss", "restore") else ACTIONED
    now = utcnow()
    same = sa.select(ContentReport).where(ContentReport.target_type == report.target_type,
                                          ContentReport.target_id == report.target_id,
                                          sa.or_(ContentReport.status == OPEN, ContentReport.id == report.id))
    for r in db.session.scalars(same):
        r.status, r.resolved_by, r.resolved_at, r.updated_at = status, by, now, now
    db.session.flush()
    return report
