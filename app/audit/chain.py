"""The audit log's hash chain: checking that no row was changed, removed or slipped in.

Each ``audit_entry`` row carries ``row_hash``, the SHA-256 (hex) of its canonical content and of
``prev_hash``, the row before it in ``seq`` order (migration ``l12p1_audit_chain_totp``: the
digest is computed by the database function ``audit_entry_digest`` and filled by an insert
trigger that serialises inserts with a transaction-level advisory lock). :func:`verify_chain`
recomputes every digest with that same function and follows the links.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import sqlalchemy as sa

from app.extensions import db

#: How many rows are read per round trip while walking the chain.
BATCH = 2000


@dataclass(frozen=True)
class ChainBreak:
    """The first row where the chain does not hold: its ``seq`` and ``id``, and ``problem``
    (``"content changed"``: its hash does not match its content; ``"link broken"``: its
    ``prev_hash`` is not the previous row's hash, so a row was removed, inserted or rehashed)."""

    seq: int
    id: uuid.UUID
    problem: str


@dataclass(frozen=True)
class ChainReport:
    """What :func:`verify_chain` found: ``rows`` checked and the first break (``None``: intact)."""

    rows: int
    broken: ChainBreak | None

    @property
    def intact(self) -> bool:
        """True when every row checked out."""
        return self.broken is None


_WALK = sa.text(
    "select a.seq, a.id, a.prev_hash, a.row_hash, audit_entry_digest(a) as digest "
    "from audit_entry a where a.seq > :after order by a.seq limit :limit")


def verify_chain() -> ChainReport:
    """Walk the whole chain in ``seq`` order and return the first broken row, if any.

    Must run where every row is visible (inside ``platform_scope`` on the platform role, as the
    ``flask audit verify`` command does); with fewer rows visible the links look broken.
    """
    previous, after, rows = "", -1, 0
    while True:
        batch = db.session.execute(_WALK, {"after": after, "limit": BATCH}).all()
        if not batch:
            return ChainReport(rows, None)
        for seq, entry_id, prev_hash, row_hash, digest in batch:
            rows += 1
            if prev_hash != previous:
                return ChainReport(rows, ChainBreak(seq, entry_id, "link broken"))
            if row_hash != digest:
                return ChainReport(rows, ChainBreak(seq, entry_id, "content changed"))
            previous, after = row_hash, seq
