"""Reading the whole audit log (the platform console's viewer): filters, pages, CSV rows.

Run inside ``platform_scope`` (the platform role sees every business's rows and the platform's).
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from app.audit.models import AuditEntry
from app.extensions import db

#: Rows read per round trip while exporting.
EXPORT_BATCH = 1000
#: Columns of the CSV export, in order.
CSV_COLUMNS = ("seq", "at", "tenant_id", "actor_user_id", "actor_email", "action", "object_type", "object_id",
               "reason", "ip", "user_agent", "before", "after", "prev_hash", "row_hash")


@dataclass(frozen=True)
class AuditFilter:
    """What the viewer shows: ``actor`` (a user id, or part of the actor's email), ``object_type``
    and ``object_id`` (exact), ``action`` (a prefix: ``"customer."``), ``since``/``until``
    (tz-aware UTC, ``until`` exclusive), ``tenant_id`` and ``platform_only`` (rows with no
    business). Empty fields do not filter."""

    actor: str = ""
    object_type: str = ""
    object_id: str = ""
    action: str = ""
    since: datetime | None = None
    until: datetime | None = None
    tenant_id: uuid.UUID | None = None
    platform_only: bool = False

    def apply(self, query: sa.Select) -> sa.Select:
        """``query`` narrowed by these filters."""
        if self.actor:
            try:
                query = query.where(AuditEntry.actor_user_id == uuid.UUID(self.actor))
            except ValueError:
                query = query.where(AuditEntry.actor_email.ilike(f"%{_escape_like(self.actor)}%", escape="\\"))
        if self.object_type:
            query = query.where(AuditEntry.object_type == self.object_type)
        if self.object_id:
            query = query.where(AuditEntry.object_id == self.object_id)
        if self.action:
            query = query.where(AuditEntry.action.startswith(self.action, autoescape=True))
        if self.since is not None:
            query = query.where(AuditEntry.at >= self.since)
        if self.until is not None:
            query = query.where(AuditEntry.at < self.until)
        if self.tenant_id is not None:
            query = query.where(AuditEntry.tenant_id == self.tenant_id)
        elif self.platform_only:
            query = query.where(AuditEntry.tenant_id.is_(None))
        return query


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_entries(flt: AuditFilter, page: int = 1, per_page: int = 50) -> tuple[list[AuditEntry], bool]:
    """Entries matching ``flt``, newest first (chain order), ``per_page`` per page (``page``
    from 1); and whether a further page exists."""
    page = max(1, page)
    rows = list(db.session.scalars(flt.apply(sa.select(AuditEntry)).order_by(AuditEntry.seq.desc())
                                   .offset((page - 1) * per_page).limit(per_page + 1)))
    return rows[:per_page], len(rows) > per_page


def _csv_line(values: list) -> str:
    out = io.StringIO()
    csv.writer(out).writerow(values)
    return out.getvalue()


def _cell(value: object) -> object:
    """A CSV cell; text starting with a formula character is prefixed with ``'`` (spreadsheet
    formula injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def export_csv(flt: AuditFilter) -> Iterator[str]:
    """The entries matching ``flt`` as CSV text, header first, oldest first, in batches of
    :data:`EXPORT_BATCH` rows (for a streamed download). ``at`` is ISO 8601 UTC; ``before`` and
    ``after`` are JSON text."""
    yield _csv_line(list(CSV_COLUMNS))
    after = -1
    while True:
        batch = list(db.session.scalars(flt.apply(sa.select(AuditEntry)).where(AuditEntry.seq > after)
                                        .order_by(AuditEntry.seq).limit(EXPORT_BATCH)))
        if not batch:
            return
        for e in batch:
            yield _csv_line([_cell(v) for v in (
                e.seq, e.at.isoformat(), e.tenant_id or "", e.actor_user_id or "", e.actor_email or "", e.action,
                e.object_type, e.object_id or "", e.reason, e.ip or "", e.user_agent or "",
                _json(e.before), _json(e.after), e.prev_hash, e.row_hash)])
        after = batch[-1].seq


def _json(value: dict | None) -> str:
    return "" if value is None else json.dumps(value, sort_keys=True, ensure_ascii=False)
