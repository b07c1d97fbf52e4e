"""Staff invitations: an owner or manager invites a staff member by email to log in; the
email goes out through the outbox to a real SMTP server (aiosmtpd); the person accepts on
``/invite/<token>`` on the business's host, as a new account or an existing one.

Runs through the Flask test client on ``bella.localhost`` against PostgreSQL and Redis;
jobs run in-process with an rq ``SimpleWorker``.
"""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.catalog.models import StaffMember
from app.extensions import db
from app.identity.models import User
from app.identity.service import find_user, verify_password
from app.notifications.center_models import Notification
from app.outbox.relay import relay_outbox
from app.tenants.context import tenant_scope
from app.tenants.models import Membership, Role, StaffInvitation
from app.tenants.service import add_membership
from app.timeutil import utcnow
from tests.factories import make_business, make_user
from tests.helpers import csrf_from, login_as
from tests.support.billing_fixtures import localstripe_url, stripe_on  # noqa: F401
from tests.support.conftest_mail import run_jobs, subject_of, text_of

pytestmark = pytest.mark.integration

HOST = "bella.localhost"
BASE = f"http://{HOST}"
INVITEE = "sam@example.com"
PASSWORD = "a long enough password"


# --------------------------------------------------------------------------- helpers


@pytest.fixture
def bella(ctx):
    return make_business("bella")


def _client(app, email: str | None = None, host: str = HOST):
    client = app.test_client()
    if email:
        login_as(client, email, host=host)
    return client


def _staff_page(client, staff_id) -> str:
    resp = client.get(f"/dashboard/staff/{staff_id}", base_url=BASE)
    assert resp.status_code == 200
    return resp.get_data(as_text=True)


def _invite(client, staff_id, email: str = INVITEE, role: str = "staff", **kw):
    token = csrf_from(_staff_page(client, staff_id))
    return client.post(f"/dashboard/staff/{staff_id}/invite", base_url=BASE,
                       data={"csrf_token": token, "email": email, "role": role}, **kw)


def _invitations(biz) -> list[StaffInvitation]:
    with tenant_scope(biz.tenant_id):
        db.session.expire_all()
        rows = list(db.session.scalars(sa.select(StaffInvitation).order_by(StaffInvitation.created_at)))
        db.session.expunge_all()
        return rows


def _deliver(app) -> None:
    """Relay the outbox and run the jobs it caused (as the worker would)."""
    relay_outbox()
    assert run_jobs(app) == []


def _link_from_mail(mailbox, email: str = INVITEE) -> str:
    """The path of the accept link in the newest invitation email to ``email``."""
    msgs = mailbox.to(email)
    assert msgs, f"no email to {email}"
    m = re.search(r"http://bella\.localhost(?::\d+)?(/invite/[A-Za-z0-9_.\-]+)", text_of(msgs[-1]))
    assert m, text_of(msgs[-1])
    return m.group(1)


def _accept_link(app, biz, mailbox, staff_index: int = 0, role: str = "staff", email: str = INVITEE) -> str:
    owner = _client(app, biz.owner_email)
    assert _invite(owner, biz.staff_ids[staff_index], email=email, role=role).status_code == 303
    _deliver(app)
    return _link_from_mail(mailbox, email)


def _membership(biz, user_id) -> list[Membership]:
    with tenant_scope(biz.tenant_id):
        db.session.expire_all()
        return list(db.session.scalars(sa.select(Membership).where(Membership.user_id == user_id)))


def _staff(biz, staff_id) -> StaffMember:
    with tenant_scope(biz.tenant_id):
        db.session.expire_all()
        return db.session.scalar(sa.select(StaffMember).where(StaffMember.id == staff_id))


def _post_form(client, path: str, data: dict):
    token = csrf_from(client.get(path, base_url=BASE).data)
    return client.post(path, base_url=BASE, data={"csrf_token": token, **data})


# --------------------------------------------------------------------------- inviting


def test_invite_is_emailed_after_commit_with_the_accept_link(app, bella, mailbox):
    owner = _client(app, bella.owner_email)
    resp = _invite(owner, bella.staff_ids[0])
    assert resp.status_code == 303
    [inv] = _invitations(bella)
    assert (inv.email, inv.role, inv.status, inv.staff_member_id) == (INVITEE, "staff", "pending", bella.staff_ids[0])
    assert timedelta(days=6, hours=23) < inv.expires_at - inv.created_at <= timedelta(days=7)
    assert inv.invited_by == find_user(bella.owner_email).id
    assert mailbox.messages == []  # only the worker sends, from the committed outbox
    _deliver(app)
    [msg] = mailbox.to(INVITEE)
    assert subject_of(msg) == "bella owner invited you to join Bella on Plaza"
    assert "Bella via Plaza" in str(msg["From"])
    assert "/invite/" in _link_from_mail(mailbox)
    _deliver(app)  # a second relay / retry sends nothing again
    assert len(mailbox.to(INVITEE)) == 1
    page = _staff_page(owner, bella.staff_ids[0])
    assert "Invitation sent to <strong>sam@example.com</strong>" in page
    listing = owner.get("/dashboard/staff", base_url=BASE).get_data(as_text=True)
    assert "Invited as staff (pending)" in listing
    assert _staff(bella, bella.staff_ids[0]).email == INVITEE  # a member without an email gets the invited one


def test_invalid_invite_input_rerenders_the_card_with_422(app, bella):
    owner = _client(app, bella.owner_email)
    resp = _invite(owner, bella.staff_ids[0], email="not-an-email", headers={"HX-Request": "true"})
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert html.lstrip().startswith('<section id="staff-login"')  # the named block only
    assert "Enter a valid email address" in html or "valid email" in html
    assert _invitations(bella) == []


def test_reinviting_the_same_email_replaces_the_pending_invitation(app, bella, mailbox):
    first = _accept_link(app, bella, mailbox)
    second = _accept_link(app, bella, mailbox)
    assert first != second
    rows = _invitations(bella)
    assert [r.status for r in rows] == ["revoked", "pending"]
    assert len(mailbox.to(INVITEE)) == 2
    anon = _client(app)
    resp = anon.get(first, base_url=BASE)
    assert resp.status_code == 410 and "withdrawn" in resp.get_data(as_text=True)
    assert anon.get(second, base_url=BASE).status_code == 200


def test_a_manager_may_invite_staff_but_not_a_manager(app, bella):
    make_user("manager@bella.test")
    with tenant_scope(bella.tenant_id):
        add_membership(find_user("manager@bella.test"), Role.MANAGER)
        db.session.commit()
    manager = _client(app, "manager@bella.test")
    page = _staff_page(manager, bella.staff_ids[0])
    assert 'value="manager"' not in page and "Only the owner can invite a manager." in page
    resp = _invite(manager, bella.staff_ids[0], role="manager")
    assert resp.status_code == 422
    assert "Only an owner can invite a manager." in resp.get_data(as_text=True)
    assert _invitations(bella) == []
    assert _invite(manager, bella.staff_ids[0], role="staff").status_code == 303
    [inv] = _invitations(bella)
    # Withdrawing is for owners.
    token = csrf_from(_staff_page(manager, bella.staff_ids[0]))
    resp = manager.post(f"/dashboard/staff/{bella.staff_ids[0]}/invitations/{inv.id}/revoke", base_url=BASE,
                        data={"csrf_token": token})
    assert resp.status_code == 403
    assert _invitations(bella)[0].status == "pending"


def test_a_manager_cannot_replace_an_owners_manager_invitation(app, bella):
    make_user("manager@bella.test")
    with tenant_scope(bella.tenant_id):
        add_membership(find_user("manager@bella.test"), Role.MANAGER)
        db.session.commit()
    owner = _client(app, bella.owner_email)
    assert _invite(owner, bella.staff_ids[1], role="manager").status_code == 303
    manager = _client(app, "manager@bella.test")
    resp = _invite(manager, bella.staff_ids[1], role="staff")
    assert resp.status_code == 422 and "invitation to join as a manager is pending" in resp.get_data(
        as_text=True)
    assert [(i.role, i.status) for i in _invitations(bella)] == [("manager", "pending")]


def test_plain_staff_and_other_tenants_cannot_invite(app, bella):
    other = make_business("fixit", timezone="America/New_York", currency="USD")
    make_user("stylist@bella.test")
    with tenant_scope(bella.tenant_id):
        add_membership(find_user("stylist@bella.test"), Role.STAFF, staff_member_id=bella.staff_ids[1])
        db.session.commit()
    stylist = _client(app, "stylist@bella.test")
    token = csrf_from(stylist.get("/dashboard/", base_url=BASE).data)
    resp = stylist.post(f"/dashboard/staff/{bella.staff_ids[0]}/invite", base_url=BASE,
                        data={"csrf_token": token, "email": INVITEE, "role": "staff"})
    assert resp.status_code == 403
    foreign = _client(app, other.owner_email, host="fixit.localhost")
    token = csrf_from(foreign.get("/dashboard/", base_url="http://fixit.localhost").data)
    resp = foreign.post(f"/dashboard/staff/{bella.staff_ids[0]}/invite", base_url="http://fixit.localhost",
                        data={"csrf_token": token, "email": INVITEE, "role": "staff"})
    assert resp.status_code == 404  # another business's staff member
    assert _invitations(bella) == []


# --------------------------------------------------------------------------- accepting


def test_a_new_person_sets_name_and_password_and_lands_on_the_dashboard(app, bella, mailbox):
    link = _accept_link(app, bella, mailbox)
    person = _client(app)
    page = person.get(link, base_url=BASE)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Join Bella" in html and 'id="invite-signup-form"' in html and INVITEE in html
    short = _post_form(person, link, {"name": "Sam Stylist", "password": "short"})
    assert short.status_code == 422 and "Use 10 to 200 characters." in short.get_data(as_text=True)
    assert find_user(INVITEE) is None
    resp = _post_form(person, link, {"name": "Sam Stylist", "password": PASSWORD})
    assert resp.status_code == 303 and resp.headers["Location"] == "/dashboard/"
    assert person.get("/dashboard/", base_url=BASE).status_code == 200

    user = find_user(INVITEE)
    db.session.refresh(user)
    assert user.name == "Sam Stylist" and user.email_verified_at is not None
    assert user.password_hash.startswith("$argon2") and verify_password(user, PASSWORD)
    uid = user.id
    [m] = _membership(bella, uid)
    assert (m.role, m.staff_member_id) == ("staff", bella.staff_ids[0])
    assert _staff(bella, bella.staff_ids[0]).user_id == uid
    [inv] = _invitations(bella)
    assert (inv.status, inv.accepted_by) == ("accepted", uid) and inv.accepted_at is not None

    # The owner hears about it in the notification center (through the outbox, as the worker would).
    _deliver(app)
    owner_id = find_user(bella.owner_email).id
    joined = list(db.session.scalars(sa.select(Notification).where(Notification.user_id == owner_id,
                                                                   Notification.type == "staff_joined")))
    assert len(joined) == 1 and joined[0].tenant_id == bella.tenant_id
    assert joined[0].context["member"] == "Sam Stylist"

    # Plain staff: bookings yes, set-up no; the staff page now says who logs in.
    assert person.get("/dashboard/staff", base_url=BASE).status_code == 403
    owner = _client(app, bella.owner_email)
    assert "Logs in as staff" in owner.get("/dashboard/staff", base_url=BASE).get_data(as_text=True)

    # The link works once.
    again = _client(app).get(link, base_url=BASE)
    assert again.status_code == 410 and "already been used" in again.get_data(as_text=True)
    assert person.get(link, base_url=BASE).headers.get("Location") == "/dashboard/"


def test_an_existing_account_logs_in_then_accepts_as_manager(app, bella, mailbox):
    uid = make_user(INVITEE, password=PASSWORD, name="Sam Existing")
    link = _accept_link(app, bella, mailbox, role="manager")
    # The existing account also gets the in-app notice (the email above is the only email).
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification).where(
        Notification.user_id == uid, Notification.type == "staff_invited")) == 1
    assert len(mailbox.to(INVITEE)) == 1

    person = _client(app)
    page = person.get(link, base_url=BASE).get_data(as_text=True)
    assert "Log in to accept" in page and 'id="invite-signup-form"' not in page
    # Posting a new password for an existing address does not take the account over.
    token = csrf_from(person.get("/login", base_url=BASE).data)
    resp = person.post(link, base_url=BASE, data={"csrf_token": token, "name": "X", "password": "another password!"})
    assert resp.status_code == 409 and _membership(bella, uid) == []

    login = person.post("/login", base_url=BASE, data={"csrf_token": token, "email": INVITEE, "password": PASSWORD,
                                                        "next": link})
    assert login.status_code == 302 and login.headers["Location"] == link
    page = person.get(link, base_url=BASE).get_data(as_text=True)
    assert 'id="invite-accept-form"' in page
    before = person.get_cookie("session", domain=HOST).value
    resp = _post_form(person, link, {})
    assert resp.status_code == 303 and resp.headers["Location"] == "/dashboard/"
    assert [m.role for m in _membership(bella, uid)] == ["manager"]
    # New privileges, new session id: the session id from before the accept is dead.
    assert person.get_cookie("session", domain=HOST).value != before
    replayed = app.test_client()
    replayed.set_cookie("session", before, domain=HOST)
    assert replayed.get("/dashboard/", base_url=BASE).status_code == 302
    assert _staff(bella, bella.staff_ids[0]).user_id == uid
    assert person.get("/dashboard/staff", base_url=BASE).status_code == 200  # managers run the set-up


def test_an_unconfirmed_account_with_the_invited_address_cannot_take_the_role(app, bella, mailbox):
    """Anyone can sign up with an address they do not hold and never confirm it: such an
    account is not told about the invitation in the app, and cannot accept it until it
    confirms the address."""
    uid = make_user(INVITEE, password=PASSWORD, name="Not Sam", email_verified_at=None)
    link = _accept_link(app, bella, mailbox, role="manager")  # the link goes to the mailbox only
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification).where(
        Notification.user_id == uid, Notification.type == "staff_invited")) == 0
    person = _client(app)
    token = csrf_from(person.get("/login", base_url=BASE).data)
    person.post("/login", base_url=BASE, data={"csrf_token": token, "email": INVITEE, "password": PASSWORD,
                                               "next": link})
    page = person.get(link, base_url=BASE)
    assert page.status_code == 403 and "Please confirm your email address first" in page.get_data(as_text=True)
    resp = _post_form(person, link, {})
    assert resp.status_code == 403 and _membership(bella, uid) == []
    db.session.rollback()
    assert db.session.get(User, uid).email_verified_at is None


def test_logged_in_with_another_email_gets_a_clear_message(app, bella, mailbox):
    make_user("someone.else@example.com")
    link = _accept_link(app, bella, mailbox)
    other = _client(app, "someone.else@example.com")
    resp = other.get(link, base_url=BASE)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 403
    assert "This invitation is for <strong>sam@example.com</strong>" in html
    assert "you are logged in as <strong>someone.else@example.com</strong>" in html
    token = csrf_from(html)
    assert other.post(link, base_url=BASE, data={"csrf_token": token}).status_code == 403
    assert _invitations(bella)[0].status == "pending"


def test_an_expired_invitation_gets_a_clear_page(app, bella, mailbox):
    link = _accept_link(app, bella, mailbox)
    with tenant_scope(bella.tenant_id):
        db.session.execute(sa.update(StaffInvitation).values(expires_at=utcnow() - timedelta(minutes=1)))
        db.session.commit()
    person = _client(app)
    resp = person.get(link, base_url=BASE)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 410
    assert "This invitation has expired." in html and "Ask Bella to send you a new one." in html
    token = csrf_from(person.get("/login", base_url=BASE).data)
    resp = person.post(link, base_url=BASE, data={"csrf_token": token, "name": "Sam", "password": PASSWORD})
    assert resp.status_code == 410 and find_user(INVITEE) is None
    owner = _client(app, bella.owner_email)
    assert "has expired" in _staff_page(owner, bella.staff_ids[0])


def test_the_owner_withdraws_an_invitation_and_its_link_stops_working(app, bella, mailbox):
    link = _accept_link(app, bella, mailbox)
    [inv] = _invitations(bella)
    owner = _client(app, bella.owner_email)
    page = _staff_page(owner, bella.staff_ids[0])
    assert "Withdraw invitation" in page
    resp = owner.post(f"/dashboard/staff/{bella.staff_ids[0]}/invitations/{inv.id}/revoke", base_url=BASE,
                      data={"csrf_token": csrf_from(page)})
    assert resp.status_code == 303
    [inv] = _invitations(bella)
    assert inv.status == "revoked" and inv.revoked_at is not None
    resp = _client(app).get(link, base_url=BASE)
    assert resp.status_code == 410 and "withdrawn" in resp.get_data(as_text=True)


def test_a_revoked_invitation_is_not_emailed(app, bella, mailbox):
    owner = _client(app, bella.owner_email)
    assert _invite(owner, bella.staff_ids[0]).status_code == 303
    [inv] = _invitations(bella)
    owner.post(f"/dashboard/staff/{bella.staff_ids[0]}/invitations/{inv.id}/revoke", base_url=BASE,
               data={"csrf_token": csrf_from(_staff_page(owner, bella.staff_ids[0]))})
    _deliver(app)
    assert mailbox.to(INVITEE) == []


def test_another_tenants_invitation_and_forged_tokens_answer_404(app, bella, mailbox):
    other = make_business("fixit", timezone="America/New_York", currency="USD")
    owner = _client(app, other.owner_email, host="fixit.localhost")
    token = csrf_from(owner.get(f"/dashboard/staff/{other.staff_ids[0]}", base_url="http://fixit.localhost").data)
    resp = owner.post(f"/dashboard/staff/{other.staff_ids[0]}/invite", base_url="http://fixit.localhost",
                      data={"csrf_token": token, "email": INVITEE, "role": "staff"})
    assert resp.status_code == 303
    _deliver(app)
    msg = mailbox.to(INVITEE)[-1]
    path = re.search(r"http://fixit\.localhost(?::\d+)?(/invite/\S+)", text_of(msg)).group(1)
    person = _client(app)
    assert person.get(path, base_url="http://fixit.localhost").status_code == 200
    assert person.get(path, base_url=BASE).status_code == 404  # fixit's invitation on Bella's host
    assert person.get(path, base_url="http://localhost").status_code == 404  # nor on the apex
    for forged in (path[:-3] + "abc", "/invite/nonsense", f"/invite/{uuid.uuid4()}"):
        assert person.get(forged, base_url=BASE).status_code == 404, forged


def test_someone_already_on_the_team_cannot_be_invited_again(app, bella, mailbox):
    link = _accept_link(app, bella, mailbox)
    person = _client(app)
    assert _post_form(person, link, {"name": "Sam", "password": PASSWORD}).status_code == 303
    owner = _client(app, bella.owner_email)
    page = _staff_page(owner, bella.staff_ids[0])
    assert "logs in as <strong>staff</strong>" in page and 'id="invite-form"' not in page
    resp = _invite(owner, bella.staff_ids[1], email=INVITEE)
    assert resp.status_code == 422 and "already on your team" in resp.get_data(as_text=True)


# --------------------------------------------------------------------------- staff seats


def _deactivate(biz, staff_id) -> None:
    with tenant_scope(biz.tenant_id):
        member = db.session.scalar(sa.select(StaffMember).where(StaffMember.id == staff_id))
        member.active = False
        db.session.commit()


def _activate(client, staff_id):
    token = csrf_from(client.get(f"/dashboard/staff/{staff_id}", base_url=BASE).data)
    return client.post(f"/dashboard/staff/{staff_id}", base_url=BASE,
                       data={"csrf_token": token, "name": "Back Again", "email": "", "bio": "", "active": "y"})


@pytest.mark.usefixtures("stripe_on")
def test_reactivating_staff_beyond_the_seats_is_refused_with_the_upgrade_link(client, ctx):
    biz = make_business("bella", staff=2)  # Free: 2 seats, both taken
    with tenant_scope(biz.tenant_id):
        from app.catalog.service import create_staff_member

        extra = create_staff_member(name="Third Person", position=2)
        extra.active = False
        db.session.commit()
        extra_id = extra.id
    login_as(client, biz.owner_email, HOST)
    resp = _activate(client, extra_id)
    text = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "Your Free plan includes 2 staff seats" in text and 'href="/dashboard/billing"' in text
    assert 'value="Back Again"' in text
    member = _staff(biz, extra_id)
    assert member.active is False and member.name == "Third Person"
    # Editing an already active member is not a new seat.
    token = csrf_from(client.get(f"/dashboard/staff/{biz.staff_ids[0]}", base_url=BASE).data)
    resp = client.post(f"/dashboard/staff/{biz.staff_ids[0]}", base_url=BASE,
                       data={"csrf_token": token, "name": "Renamed", "email": "", "bio": "", "active": "y"})
    assert resp.status_code == 303
    # With a seat free, reactivating works.
    _deactivate(biz, biz.staff_ids[1])
    assert _activate(client, extra_id).status_code == 303
    assert _staff(biz, extra_id).active is True


def test_without_billing_reactivating_is_not_limited(app, bella):
    owner = _client(app, bella.owner_email)
    _deactivate(bella, bella.staff_ids[1])
    with tenant_scope(bella.tenant_id):
        from app.catalog.service import create_staff_member

        create_staff_member(name="Third", position=2)
        db.session.commit()
    assert _activate(owner, bella.staff_ids[1]).status_code == 303
    assert _staff(bella, bella.staff_ids[1]).active is True


def test_user_model_is_untouched_by_a_failed_accept(app, bella, mailbox):
    """A 422 on the new-account form writes nothing (no half-made account)."""
    link = _accept_link(app, bella, mailbox)
    person = _client(app)
    resp = _post_form(person, link, {"name": "", "password": PASSWORD})
    assert resp.status_code == 422
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User).where(User.email == INVITEE)) == 0
