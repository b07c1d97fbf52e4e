"""Side effects of a request that must wait for its unit of work to commit.

Views never commit (:mod:`app.uow` commits when the view answers below 400). Work that tells
the outside world about the request's writes — queueing a mail, a Socket.IO emit — must not
run before that commit (a reader could see an event for a row that is then rolled back), so
a view hands it to :func:`after_commit`, which runs it once the request has committed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import after_this_request
from werkzeug.wrappers import Response

from app.tenants.context import current_tenant_id, tenant_scope
from app.uow import FIRST_FAILED_STATUS

log = logging.getLogger("plaza.web")


def after_commit(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """Run ``fn(*args, **kwargs)`` after the request's unit of work commits.

    It runs when the answer's status is below 400 (the unit of work committed; a rolled-back
    request never runs it), after the view returned, in the tenant that was in scope when it
    was registered (a view may have entered ``tenant_scope`` only for a block). Effects are
    best effort: an exception is logged, never turned into an error answer (the data is
    already committed and live views catch up on their next refresh).
    """
    tenant_id = current_tenant_id()

    @after_this_request
    def run(response: Response) -> Response:
        if response.status_code >= FIRST_FAILED_STATUS:
            return response
        try:
            if tenant_id is not None and current_tenant_id() != tenant_id:
                with tenant_scope(tenant_id):
                    fn(*args, **kwargs)
            else:
                fn(*args, **kwargs)
        except Exception:  # noqa: BLE001 - the one boundary for after-commit effects: logged, never raised
            log.exception("after-commit effect failed", extra={"effect": getattr(fn, "__qualname__", repr(fn))})
        return response
