"""The console's question editor (/admin/questions): add, edit, reorder, retire questions and
set tiers per category or globally; every change audit-logged and asked by the wizard at once;
bad input 422 beside the form; outsiders 404."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.audit.models import AuditEntry
from app.extensions import db
from app.leads.questions import questions_for, tiers_for
from app.leads.questions_models import JobQuestion
from app.tenants.context import platform_scope
from tests.factories import make_user
from tests.helpers import csrf_from, login_admin, login_as

pytestmark = pytest.mark.integration

APEX = "http://localhost"


@pytest.fixture
def admin(app, ctx):
    make_user("root@plaza.test", is_platform_admin=True)
    client = app.test_client()
    login_admin(client, "root@plaza.test")
    return client


def post(client, path: str, data: dict):
    token = csrf_from(client.get("/admin/questions", base_url=APEX).data)
    return client.post(path, base_url=APEX, data={"csrf_token": token, **data})


def audit_actions() -> list[str]:
    with platform_scope("test"):
        return list(db.session.scalars(sa.select(AuditEntry.action).where(
            AuditEntry.object_type.in_(["job_question", "job_complexity_tier"])).order_by(AuditEntry.at)))


def add(client, text: str, **extra):
    data = {"category": "plumbing", "kind": "single_choice", "label": text,
            "options": "Leaking tap = 10\nBurst pipe = 40", **extra}
    return post(client, "/admin/questions/add", data)


def test_questions_are_added_edited_reordered_and_retired_with_audit(admin):
    assert add(admin, "What needs fixing?", required="y").status_code == 303
    assert add(admin, "Can you turn the water off?", kind="yes_no", weight="20", options="").status_code == 303
    first, second = questions_for("plumbing")
    assert first.options == [{"value": "leaking-tap", "label": "Leaking tap", "weight": 10},
                             {"value": "burst-pipe", "label": "Burst pipe", "weight": 40}]
    assert first.required and second.weight == 20
    page = admin.get("/admin/questions?category=plumbing", base_url=APEX).get_data(as_text=True)
    assert "What needs fixing?" in page and "Leaking tap = 10" in page

    resp = post(admin, f"/admin/questions/{second.id}/edit", {"category": "plumbing", "action": "up"})
    assert resp.status_code == 303
    db.session.expire_all()
    assert [q.label for q in questions_for("plumbing")] == ["Can you turn the water off?", "What needs fixing?"]
    post(admin, f"/admin/questions/{first.id}/edit", {"category": "plumbing", "action": "save", "kind": "single_choice",
                                                        "label": "What is broken?", "options": "Tap = 5\nPipe = 50"})
    post(admin, f"/admin/questions/{second.id}/edit", {"category": "plumbing", "action": "retire"})
    db.session.expire_all()
    (only,) = questions_for("plumbing")
    assert only.label == "What is broken?" and [o["weight"] for o in only.options] == [5, 50]
    assert audit_actions() == ["job_question.added", "job_question.added", "job_question.moved",
                               "job_question.changed", "job_question.retired"]


@pytest.mark.parametrize(("data", "message"), [
    ({"label": ""}, "Write the question"),
    ({"options": "Only one = 5"}, "Give at least two options"),
    ({"options": "A = lots\nB = 2"}, "must be a whole number from 0 to 1000"),
    ({"kind": "number", "weight": "9999", "options": ""}, "Enter a whole number from 0 to 1000."),
])
def test_bad_questions_are_refused_beside_the_form_and_nothing_is_written(admin, data, message):
    resp = add(admin, data.pop("label", "Label"), **data)
    assert resp.status_code == 422
    assert 'id="add-error"' in resp.get_data(as_text=True) and message in resp.get_data(as_text=True)
    with platform_scope("test"):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(JobQuestion)) == 0
    assert audit_actions() == []


def test_tiers_per_category_override_the_global_ones(admin):
    assert tiers_for("plumbing") == [(1, 0, 1), (2, 20, 2), (3, 40, 3), (4, 60, 4), (5, 80, 5)]
    assert post(admin, "/admin/questions/tiers", {"category": "global", "tiers": "0: 2\n50: 6"}).status_code == 303
    assert tiers_for("plumbing") == [(1, 0, 2), (2, 50, 6)]
    assert post(admin, "/admin/questions/tiers", {"category": "plumbing", "tiers": "0: 1\n30: 3\n70: 8"}
                ).status_code == 303
    assert tiers_for("plumbing") == [(1, 0, 1), (2, 30, 3), (3, 70, 8)] and tiers_for("cleaning")[1] == (2, 50, 6)
    resp = post(admin, "/admin/questions/tiers", {"category": "plumbing", "tiers": "10: 1"})
    assert resp.status_code == 422 and "The first tier starts at score 0." in resp.get_data(as_text=True)
    assert audit_actions() == ["job_complexity_tier.set", "job_complexity_tier.set"]


def test_only_platform_admins_see_the_editor(app, ctx):
    make_user("someone@example.com")
    client = app.test_client()
    login_as(client, "someone@example.com")
    assert client.get("/admin/questions", base_url=APEX).status_code == 404
