"""The console's overview: each queue waiting for the platform, with how many items wait, how
long the oldest has waited and a link to the queue."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from app.audit.service import SYSTEM_ACTOR
from app.community import moderation
from app.extensions import db
from app.jobs.runner import run_on_platform
from app.leads.routing_tasks import route_request
from app.leads.sweeps import sweep
from app.reviews.service import create_review
from app.storage.local import default_storage
from app.tenants.context import tenant_scope
from app.timeutil import utcnow
from app.verification.service import submit_document
from tests.factories import make_business, make_user
from tests.helpers import login_admin
from tests.leads.routing_factories import get_request, make_provider, make_request
from tests.reviews.support import visit

pytestmark = pytest.mark.integration

APEX = "http://localhost"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def _queues(client, **headers) -> dict[str, str]:
    """Each queue's card on the overview, as text without tags and extra spaces."""
    page = client.get("/admin/", base_url=APEX, headers=headers)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    cards = re.findall(r'<li class="card ad-queue[^"]*" data-queue="(\w+)">(.*?)</li>', html, re.S)
    return {key: " ".join(re.sub(r"<[^>]+>", " ", body).split()) for key, body in cards}


def _links(client) -> dict[str, str]:
    html = client.get("/admin/", base_url=APEX).get_data(as_text=True)
    return dict(re.findall(r'data-queue="(\w+)">\s*<a href="([^"]+)"', html))


def test_an_empty_platform_says_nothing_waits_and_links_every_queue(client, ctx):
    make_user("root@plaza.test", is_platform_admin=True)
    login_admin(client, "root@plaza.test")
    assert _queues(client) == {
        "moderation": "0 reported items to moderate Nothing waiting.",
        "verification": "0 documents to verify Nothing waiting.",
        "disputes": "0 disputes escalated to the platform Nothing waiting.",
        "fulfilment": "0 job requests to match by hand Nothing waiting.",
    }
    links = _links(client)
    assert links == {"moderation": "/admin/moderation", "verification": "/admin/verification",
                     "disputes": "/admin/disputes?status=todo", "fulfilment": "/admin/fulfilment"}
    assert all(client.get(url, base_url=APEX).status_code == 200 for url in links.values())


def test_waiting_work_is_counted_as_each_queue_lists_it_with_the_oldest_age(client, ctx, media_root):
    biz = make_business("bella")
    r1, r2 = make_user("r1@example.com"), make_user("r2@example.com")
    with tenant_scope(biz.tenant_id):
        fake = create_review(visit(biz, "troll@example.com", index=0), rating=1, text="Worst ever")
        for uid in (r1, r2):  # two reports of one review: one decision to take
            moderation.report_content("review", fake.id, "fake", "Never a customer here", reporter_user_id=uid)
        submit_document(default_storage(), SYSTEM_ACTOR, "licence", "Trade licence 2027",
                        utcnow().date() + timedelta(days=300), PDF)
        db.session.commit()
    make_provider("slow-plumbing", service_postcodes=["10001"])
    job_id = make_request(title="Fix a leaking tap")
    route_request(str(job_id))
    run_on_platform(sweep, get_request(job_id).routed_until + timedelta(minutes=1))  # nobody took it
    make_user("root@plaza.test", is_platform_admin=True)
    login_admin(client, "root@plaza.test")
    queues = _queues(client)
    assert queues["moderation"].startswith("1 reported item to moderate The oldest has waited ")
    assert queues["verification"].startswith("1 document to verify The oldest has waited ")
    assert queues["fulfilment"].startswith("1 job request to match by hand The oldest has waited ")
    assert queues["disputes"] == "0 disputes escalated to the platform Nothing waiting."
    assert re.search(r"waited \d+ seconds?\.$", queues["verification"])  # just sent
    danish = _queues(client, **{"Accept-Language": "da"})
    assert danish["moderation"].startswith("1 anmeldt element at moderere Den ældste har ventet ")
    assert danish["disputes"] == "0 tvister sendt videre til platformen Intet venter."
