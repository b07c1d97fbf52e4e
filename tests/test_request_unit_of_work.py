"""The request unit of work (app.uow.transactional_views): a view's writes are committed when
it answers below 400 and rolled back when it answers 4xx/5xx or raises — no view commits."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import abort, request

from app import create_app
from app.extensions import csrf, db
from app.identity.models import User
from app.identity.service import create_user
from app.uow import after_commit as uow_after_commit
from app.uow import transactional_views, unit_of_work
from app.web.effects import after_commit

pytestmark = pytest.mark.integration

#: What the after-commit effect saw: (email, whether another connection already sees the row).
SEEN: list[tuple[str, bool]] = []


def _seen_from_outside(email: str) -> None:
    """The effect: look for the row on a connection of its own (only a committed row is visible)."""
    with db.engine.connect() as conn:
        found = conn.scalar(sa.select(sa.func.count()).select_from(User).where(User.email == email))
    SEEN.append((email, found == 1))


@pytest.fixture(scope="module")
def uow_app(services):
    """A fresh app with one extra view that writes a user, then answers the status it is asked for."""
    application = create_app({"TESTING": True, "SERVER_NAME": None})

    @csrf.exempt
    def write_then_answer():
        create_user(request.form["email"], "a-long-password-123", "Unit of work")
        db.session.flush()  # the row is written inside the request's transaction
        after_commit(_seen_from_outside, request.form["email"])
        if request.form.get("raise"):
            raise RuntimeError("boom after the write")
        if request.form.get("abort"):
            abort(int(request.form["abort"]))
        return "answered", int(request.form["status"])

    application.add_url_rule("/_test/uow", "test_uow", write_then_answer, methods=["POST"])
    transactional_views(application)  # wraps only the view added above
    return application


def _exists(app, email: str) -> bool:
    with app.app_context():
        try:
            return db.session.scalar(sa.select(sa.func.count()).select_from(User).where(User.email == email)) == 1
        finally:
            db.session.remove()


@pytest.mark.parametrize("status", [200, 201, 303])
def test_an_answer_below_400_commits(uow_app, status):
    email = f"ok{status}@uow.test"
    resp = uow_app.test_client().post("/_test/uow", base_url="http://localhost",
                                      data={"email": email, "status": str(status)})
    assert resp.status_code == status
    assert _exists(uow_app, email)


@pytest.mark.parametrize("status", [400, 404, 409, 422])
def test_a_4xx_answer_after_a_domain_write_leaves_no_row(uow_app, status):
    email = f"no{status}@uow.test"
    resp = uow_app.test_client().post("/_test/uow", base_url="http://localhost",
                                      data={"email": email, "status": str(status)})
    assert resp.status_code == status
    assert not _exists(uow_app, email)


def test_an_abort_or_an_exception_after_the_write_leaves_no_row(uow_app):
    client = uow_app.test_client()
    assert client.post("/_test/uow", base_url="http://localhost",
                       data={"email": "abort@uow.test", "abort": "403"}).status_code == 403
    assert client.post("/_test/uow", base_url="http://localhost",
                       data={"email": "raise@uow.test", "raise": "1", "status": "200"}).status_code == 500
    assert not _exists(uow_app, "abort@uow.test") and not _exists(uow_app, "raise@uow.test")


def test_after_commit_effects_run_only_after_a_commit(uow_app):
    SEEN.clear()
    client = uow_app.test_client()
    client.post("/_test/uow", base_url="http://localhost", data={"email": "fx-ok@uow.test", "status": "201"})
    client.post("/_test/uow", base_url="http://localhost", data={"email": "fx-no@uow.test", "status": "422"})
    client.post("/_test/uow", base_url="http://localhost", data={"email": "fx-raise@uow.test", "raise": "1"})
    assert SEEN == [("fx-ok@uow.test", True)]  # ran once, and the row was already committed


def test_a_job_or_socket_event_runs_its_effects_only_after_its_commit(uow_app):
    """The same rule for every other unit (jobs, socket events, CLI commands): ``unit_of_work``."""
    SEEN.clear()
    with uow_app.app_context():
        try:
            with unit_of_work():
                create_user("job-ok@uow.test", "a-long-password-123", "Unit of work")
                db.session.flush()
                uow_after_commit(lambda: _seen_from_outside("job-ok@uow.test"))
            with pytest.raises(RuntimeError), unit_of_work():
                create_user("job-no@uow.test", "a-long-password-123", "Unit of work")
                db.session.flush()
                uow_after_commit(lambda: _seen_from_outside("job-no@uow.test"))
                raise RuntimeError("the job failed after its write")
            with unit_of_work():  # a later unit in the same context does not re-run old effects
                pass
        finally:
            db.session.remove()
    assert SEEN == [("job-ok@uow.test", True)]
    assert not _exists(uow_app, "job-no@uow.test")
