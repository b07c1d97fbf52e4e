"""The ``sanction`` table: the platform's suspensions, bans and warnings (platform-level)."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.timeutil import utcnow

SUSPEND, BAN, WARN = "suspend", "ban", "warn"
#: Every kind, in the order the console offers them.
KINDS = (SUSPEND, BAN, WARN)


class Sanction(db.Model):
    """One sanction of a business (``business_id``) or a person (``user_id``), never both.

    ``kind`` suspend, ban or warn; ``reason`` as the admin typed it; ``ends_at`` tz-aware UTC or
    ``None`` (until lifted). A suspension or ban is *active* while ``lifted_at`` is ``None`` and
    ``ends_at`` is ``None`` or in the future; a warning is never active. ``created_by`` and
    ``lifted_by`` are admin account ids (``None``: the system, e.g. the expiry worker).
    Not tenant-scoped: the console reads it on the platform role.
    """

    __tablename__ = "sanction"
    __table_args__ = (
        sa.CheckConstraint("kind in ('suspend', 'ban', 'warn')", name="sanction_kind"),
        sa.CheckConstraint("(business_id is null) <> (user_id is null)", name="sanction_subject"),
        sa.Index("sanction_business", "business_id", "created_at"),
        sa.Index("sanction_user", "user_id", "created_at"),
        sa.Index("sanction_due", "ends_at", postgresql_where=sa.text("lifted_at is null and ends_at is not null")),
    )

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    business_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid, sa.ForeignKey("tenant.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid, sa.ForeignKey("user_account.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(sa.String(16), nullable=False)
    reason: Mapped[str] = mapped_column(sa.String(1000), nullable=False)
    ends_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    created_by: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
    lifted_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    lifted_by: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    lift_reason: Mapped[str] = mapped_column(sa.String(1000), nullable=False, default="", server_default="")

    def active_at(self, now: datetime) -> bool:
        """True when this suspension or ban is in force at ``now`` (tz-aware UTC)."""
        return (self.kind != WARN and self.lifted_at is None
                and (self.ends_at is None or self.ends_at > now))
