"""Submitting a job request: checked whole, scored, opened for an account (routing queued) or
left unconfirmed for a guest until the emailed link is followed; refused inputs write nothing."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from app.audit.models import AuditEntry
from app.audit.service import SYSTEM_ACTOR
from app.extensions import db
from app.jobs.runner import get_queue
from app.leads.access import request_for_token
from app.leads.models import JobRequest
from app.leads.questions import AnswersInvalid
from app.leads.submit import RequestNotConfirmable, confirm_link_token, confirm_request, submit_request
from app.leads.submit_checks import OutsideServiceArea, RequestPartInvalid
from app.tenants.context import platform_scope
from app.uow import unit_of_work
from tests.blueprints.requests.support import plumber, plumbing_questions
from tests.factories import make_user

pytestmark = pytest.mark.integration


def draft(q: dict[str, uuid.UUID], **fields) -> JobRequest:
    values = {"category_slug": "plumbing", "answers": {str(q["what"]): "tap", str(q["taps"]): 2,
                                                        str(q["water_off"]): True},
              "postcode": "10001", "timing_kind": "flexible", "contact_name": "Ada Guest",
              "contact_email": "Ada@Example.com", "contact_phone": "+1 212 555 0100", **fields}
    return JobRequest(**values)


def routing_jobs() -> list:
    return [j for j in get_queue().get_jobs() if j.func_name == "app.leads.routing_tasks.route_request"]


def test_an_account_request_opens_scored_and_queued_for_routing(ctx):
    plumber()
    q = plumbing_questions()
    user_id = make_user("ada@example.com")
    with unit_of_work():
        jr = draft(q, details="Under the kitchen sink")
        done = submit_request(jr, actor=SYSTEM_ACTOR, user_id=user_id)
    # 10 (tap) of 40 + 0 of 20 rooms + 20*2/4 = 10 of 20 + 20 of 20 = 40 of 100
    assert (jr.status, jr.complexity_score, jr.complexity_tier, jr.credits_cost) == ("open", 40, 3, 3)
    assert jr.submitted_at is not None and jr.contact_email == "ada@example.com"
    assert jr.summary[0] == {"label": "What needs fixing?", "text": "Leaking tap"}
    assert {"label": "Can you turn the water off?", "text": "Yes"} in jr.summary
    assert jr.summary[-1] == {"label": "Details", "text": "Under the kitchen sink"}
    assert [j.args for j in routing_jobs()] == [(str(jr.id),)]
    token = done.manage_url.split("t=")[1]
    assert request_for_token(jr.id, token).id == jr.id
    with platform_scope("test"):
        actions = db.session.scalars(sa.select(AuditEntry.action).where(AuditEntry.object_id == str(jr.id))).all()
    assert actions == ["job_request.submitted"]


def test_a_guest_request_waits_for_the_emailed_link(ctx):
    plumber()
    q = plumbing_questions()
    with unit_of_work():
        jr = draft(q)
        submit_request(jr, actor=SYSTEM_ACTOR)
    assert jr.status == "unconfirmed" and routing_jobs() == []
    with unit_of_work():
        opened = confirm_request(confirm_link_token(jr.id), actor=SYSTEM_ACTOR)
    assert opened.job_request.status == "open" and len(routing_jobs()) == 1
    with pytest.raises(RequestNotConfirmable, match="already confirmed"), unit_of_work():
        confirm_request(confirm_link_token(jr.id), actor=SYSTEM_ACTOR)
    with pytest.raises(RequestNotConfirmable, match="not valid"):
        confirm_request("forged", actor=SYSTEM_ACTOR)


@pytest.mark.parametrize(("change", "error", "field"), [
    ({"answers": {}}, AnswersInvalid, "answers.what"),
    ({"answers": {"what": "tap", "nope": 1}}, AnswersInvalid, "answers.nope"),
    ({"answers": {"what": "tap", "taps": "many"}}, AnswersInvalid, "answers.taps"),
    ({"postcode": "90210"}, OutsideServiceArea, "location.postcode"),
    ({"timing_kind": "range", "timing_start": date.today() + timedelta(days=5),
      "timing_end": date.today() + timedelta(days=2)}, RequestPartInvalid, "timing.end"),
    ({"contact_email": "not-an-email"}, RequestPartInvalid, "contact.email"),
    ({"category_slug": "nothing"}, RequestPartInvalid, "category"),
])
def test_a_refused_request_names_the_field_and_writes_nothing(ctx, change, error, field):
    plumber()
    q = plumbing_questions()
    if "answers" in change:
        change = {"answers": {str(q.get(k, k)): v for k, v in change["answers"].items()}}
        field = field.replace("what", str(q["what"])).replace("taps", str(q["taps"]))
    with pytest.raises(error) as refused, unit_of_work():
        jr = draft(q, **change)
        submit_request(jr, actor=SYSTEM_ACTOR)
    assert refused.value.field == field
    if isinstance(refused.value, OutsideServiceArea):
        assert refused.value.message == "No provider covers 90210 yet."
    with platform_scope("test"):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(JobRequest)) == 0
    assert routing_jobs() == []


def test_only_opted_in_active_businesses_cover_a_postcode(ctx):
    from app.leads.submit_checks import locate

    plumber(accepts_job_requests=False)
    with pytest.raises(OutsideServiceArea):
        locate("10001", None, None)
    plumber("radius", service_postcodes=[], latitude=40.75, longitude=-73.99, service_radius_km=10)
    assert locate("10001", None, None).providers == 1
    with pytest.raises(OutsideServiceArea):
        locate("", 51.5, -0.12)  # a pin in London
