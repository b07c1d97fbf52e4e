"""The unit of work: the one module in Plaza that commits.

A unit of work is a request, a job, a socket event or a CLI command. Domain functions write
and flush; the unit around them commits once when it succeeds and rolls back when it fails.
Each kind of unit is wrapped in one place:

* requests: :func:`transactional_views` wraps every view function of the app (``create_app``);
* jobs, socket events and CLI commands: :func:`unit_of_work`, used by their runners.

A step that must be durable before the unit around it ends (claiming a delivery before the
message leaves) uses :func:`own_transaction`, a second session with a transaction of its own.

Nothing outside this module calls ``db.session.commit()`` (checked by a test).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from flask import Flask, current_app, g
from sqlalchemy.orm import Session

from app.extensions import db

T = TypeVar("T")

log = logging.getLogger("plaza.uow")

#: ``flask.g`` key of the effects waiting for the running unit of work to commit.
AFTER_COMMIT = "plaza_after_commit"

#: Responses with a status below this commit the request's work; anything else rolls it back.
FIRST_FAILED_STATUS = 400


class PermanentFailure(Exception):
    """A unit of work that cannot succeed by being tried again (e.g. a stored address unusable
    in a mail header). The job runner rolls back, logs it and ends the job with :attr:`outcome`
    instead of raising, so RQ does not retry it."""

    #: What the job returns when it stops with this error.
    outcome = "failed"


@contextmanager
def own_transaction() -> Iterator[Session]:
    """A new session, on its own connection and transaction, committed when the block ends.

    For the one kind of step that must be durable before the surrounding unit of work ends:
    claiming a delivery (and recording its result) before and after the message leaves. The
    caller's session and its pending work are untouched. The tenant in scope applies (the RLS
    settings are set on every transaction's begin). Rolls back and re-raises on any error.

    Yields:
        The :class:`sqlalchemy.orm.Session`; closed after the block.
    """
    session = db.session.session_factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


@contextmanager
def unit_of_work() -> Iterator[None]:
    """Commit the session when the block ends normally, roll back (and re-raise) when it raises.

    Used once per job, socket event and CLI command. ``BaseException`` rolls back too, so a job
    killed by RQ's timeout leaves nothing half-written.
    """
    try:
        yield
    except BaseException:
        db.session.rollback()
        discard_effects()
        raise
    db.session.commit()
    run_effects()


def after_commit(effect: Callable[[], None]) -> None:
    """Run ``effect`` (no arguments) once the running unit of work (request, job, socket event,
    CLI command) has committed; it is dropped when the unit rolls back. Effects run in the
    order they were registered, inside the unit's app context.

    For what tells the outside world about the unit's writes and must not happen before they
    are visible (a Socket.IO emit, queueing a job for a row just written). Needs an app context.
    """
    g.setdefault(AFTER_COMMIT, []).append(effect)


def run_effects() -> None:
    """Run the effects registered by :func:`after_commit` (after a commit). Best effort: each
    failure is logged and the others still run — the data is committed, and live views catch
    up on their next refresh."""
    for effect in g.pop(AFTER_COMMIT, []):
        try:
            effect()
        except Exception:  # noqa: BLE001 - the one boundary of after-commit effects: logged, never raised
            log.exception("after-commit effect failed", extra={"effect": getattr(effect, "__qualname__", repr(effect))})


def discard_effects() -> None:
    """Drop the effects registered by :func:`after_commit` (the unit rolled back)."""
    g.pop(AFTER_COMMIT, None)


def commit_response(view: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap one view: commit when its answer's status is below 400 (or the view called
    :func:`keep_work`), else roll back.

    An exception from the view (or from the commit) rolls back and propagates to the app's
    error handlers, so a failed request never leaves a half-written row. Effects registered
    with :func:`after_commit` run after the commit, or are dropped with the rollback.
    """

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            response = current_app.make_response(view(*args, **kwargs))
            if response.status_code < FIRST_FAILED_STATUS or g.pop(KEEP_WORK, False):
                db.session.commit()
            else:
                db.session.rollback()
                discard_effects()
                return response
        except BaseException:
            db.session.rollback()
            discard_effects()
            raise
        run_effects()
        return response

    return wrapped


#: ``flask.g`` flag set by :func:`keep_work`.
KEEP_WORK = "plaza_keep_work"


def keep_work() -> None:
    """Commit the current request's work even though its answer will be a refusal (4xx).

    For a domain call that recorded facts from outside before it refused — e.g. a payment
    step that stored what Stripe said about a declined card and then answers 409 —
    losing those facts would make the next attempt start from a stale state. Only the
    request's unit of work commits; this only tells it to. Needs a request context.
    """
    setattr(g, KEEP_WORK, True)


def transactional_views(app: Flask) -> None:
    """Make every registered view of ``app`` one unit of work (:func:`commit_response`).

    Call after all blueprints are registered; views added later are not wrapped.
    """
    for endpoint, view in list(app.view_functions.items()):
        if not getattr(view, "plaza_unit_of_work", False):
            wrapped = commit_response(view)
            wrapped.plaza_unit_of_work = True  # type: ignore[attr-defined]
            app.view_functions[endpoint] = wrapped
