"""Side effects of a request that must wait for its unit of work to commit.

Views never commit (:mod:`app.uow` commits when the view answers below 400). Work that tells
the outside world about the request's writes — queueing a mail, a Socket.IO emit — must not
run before that commit (a reader could see an event for a row that is then rolled back), so
a view hands it to :func:`after_commit`, which registers it with the unit of work
(:func:`app.uow.after_commit`) in the tenant that is in scope now.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.tenants.context import current_tenant_id, tenant_scope
from app.uow import after_commit as run_after_unit


def after_commit(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """Run ``fn(*args, **kwargs)`` after the request's unit of work commits.

    It runs only when the unit of work committed (a rolled-back request never runs it), after
    the view returned, in the tenant that was in scope when it was registered (a view may
    have entered ``tenant_scope`` only for a block). Effects are best effort: an exception is
    logged, never turned into an error answer (see :func:`app.uow.run_effects`).
    """
    tenant_id = current_tenant_id()

    def effect() -> None:
        if tenant_id is not None and current_tenant_id() != tenant_id:
            with tenant_scope(tenant_id):
                fn(*args, **kwargs)
        else:
            fn(*args, **kwargs)

    run_after_unit(effect)
