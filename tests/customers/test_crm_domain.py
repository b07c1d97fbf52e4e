"""The CRM's domain: searching and sorting the customer list, the customer summary (visits,
no-shows, spend), notes and tags, contact edits (audited), merging duplicates and GDPR export and
erasure (audited, across bookings, notes, tags, chat and payments)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.audit.models import AuditEntry
from app.audit.service import AuditActor
from app.booking.models import Booking, BookingStatus, Customer
from app.chat.access import customer_principal
from app.chat.models import Message, Participant
from app.chat.service import conversation_for_booking, post_message
from app.crm import consent_of, erase_customer, export_customer, merge_customers
from app.customers.errors import AlreadyErased, CannotMerge, CustomerError, EmailInUse
from app.customers.merge import plan_merge
from app.customers.models import CustomerNote, CustomerTag
from app.customers.queries import customer_summary, list_customers
from app.customers.service import add_note, add_tag, remove_tag, update_contact
from app.extensions import db
from app.identity.models import User
from app.notifications.preferences import grant_consent, withdraw_consent
from app.payments.models import LedgerEntry
from app.tenants.context import tenant_scope
from tests.customers.crm_support import book, customer
from tests.factories import make_business, make_user

pytestmark = pytest.mark.integration

DESK = AuditActor(None, "198.51.100.7", "pytest")


def _entries(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action)))


def test_search_by_name_email_or_phone_and_sort_by_last_visit(ctx):
    biz = make_business("bella", staff=3)
    with tenant_scope(biz.tenant_id):
        book(biz, "Anna Berg", "anna@x.test", days=-10, phone="+4512345678", status=BookingStatus.COMPLETED)
        book(biz, "Bo Dahl", "bo@x.test", days=-3, index=1, status=BookingStatus.COMPLETED)
        book(biz, "Cai 100%", "cai@y.test", days=4)
        names = lambda rows: [r.customer.name for r in rows]  # noqa: E731
        assert names(list_customers()[0]) == ["Bo Dahl", "Anna Berg", "Cai 100%"]
        assert names(list_customers(sort="name")[0]) == ["Anna Berg", "Bo Dahl", "Cai 100%"]
        assert names(list_customers("ANNA")[0]) == ["Anna Berg"]
        assert names(list_customers("@x.test")[0]) == ["Bo Dahl", "Anna Berg"]
        assert names(list_customers("12 34 5")[0]) == ["Anna Berg"]
        assert names(list_customers("0%")[0]) == ["Cai 100%"]
        assert names(list_customers("%")[0]) == ["Cai 100%"]  # a wildcard is a character
        first, more = list_customers(per_page=2)
        second, last = list_customers(page=2, per_page=2)
        assert more and not last and names(first + second) == ["Bo Dahl", "Anna Berg", "Cai 100%"]


def test_summary_counts_visits_no_shows_and_spend(ctx):
    biz = make_business("bella", staff=3)
    with tenant_scope(biz.tenant_id):
        book(biz, "Anna", "anna@x.test", days=-9, status=BookingStatus.COMPLETED)
        book(biz, "Anna", "anna@x.test", days=-5, index=1, status=BookingStatus.COMPLETED)
        book(biz, "Anna", "anna@x.test", days=-4, index=2, status=BookingStatus.NO_SHOW)
        upcoming = book(biz, "Anna", "anna@x.test", days=6)
        s = customer_summary(customer("anna@x.test"))
        assert (s.visits, s.no_shows, s.spend) == (2, 1, [(100000, "DKK")])
        assert [x.booking.id for x in s.upcoming] == [upcoming.id] and len(s.past) == 3
        assert s.upcoming[0].service_name == "Haircut" and s.upcoming[0].staff_name.startswith("Staff")


def test_notes_tags_and_contact_edits(ctx):
    biz = make_business("bella")
    with tenant_scope(biz.tenant_id):
        book(biz, "Anna", "anna@x.test")
        book(biz, "Bo", "bo@x.test", index=1)
        anna = customer("anna@x.test")
        add_note(anna, "  Prefers Staff 2  ", author_user_id=None, author_name="Desk")
        with pytest.raises(CustomerError):
            add_note(anna, "   ", author_user_id=None, author_name="Desk")
        assert add_tag(anna, " VIP ") and not add_tag(anna, "vip") and add_tag(anna, "colour  allergy")
        with pytest.raises(CustomerError):
            add_tag(anna, "a, b")
        summary = customer_summary(anna)
        assert [n.body for n in summary.notes] == ["Prefers Staff 2"]
        assert [t.tag for t in summary.tags] == ["colour allergy", "VIP"]
        assert remove_tag(anna, summary.tags[0].id) and [t.tag for t in customer_summary(anna).tags] == ["VIP"]
        with pytest.raises(EmailInUse):
            update_contact(anna, DESK, name="Anna", email="BO@x.test", phone=None)
        changes = update_contact(anna, DESK, name="Anna Berg", email="Anna.B@x.test", phone="+4512345678")
        assert changes == {"name": ["Anna", "Anna Berg"], "email": ["anna@x.test", "anna.b@x.test"],
                           "phone": [None, "+4512345678"]}
        entry, = _entries("customer.updated")
        assert entry.before == {"name": "Anna", "email": "anna@x.test", "phone": None}
        assert entry.ip == "198.51.100.7"
        assert update_contact(anna, DESK, name="Anna Berg", email="anna.b@x.test", phone="+4512345678") == {}


def test_merge_moves_bookings_notes_tags_and_chat_and_removes_the_duplicate(ctx):
    biz = make_business("bella", staff=3)
    account = make_user("anna@x.test")
    with tenant_scope(biz.tenant_id):
        kept_booking = book(biz, "Anna Berg", "anna@x.test", days=-3, status=BookingStatus.COMPLETED)
        dup_booking = book(biz, "Anna B", "anna.berg@work.test", days=5, index=1, phone="+4512345678")
        keep, dup = customer("anna@x.test"), customer("anna.berg@work.test")
        add_note(dup, "Allergic to ammonia", author_user_id=None, author_name="Desk")
        add_tag(dup, "VIP")
        add_tag(keep, "vip")
        add_tag(dup, "Regular")
        conv = conversation_for_booking(dup_booking.id)
        post_message(conv, customer_principal(dup_booking), "Can I bring my dog?")
        plan = plan_merge(keep, dup)
        assert (plan.bookings, plan.notes, plan.tags, plan.phone, plan.account_id) == (
            1, 1, 1, "+4512345678", account)
        dup_id = dup.id
        merge_customers(keep, dup, DESK, reason="same person")
        db.session.commit()
        assert db.session.scalar(sa.select(Customer).where(Customer.id == dup_id)) is None
        assert set(db.session.scalars(sa.select(Booking.customer_id))) == {keep.id}
        assert {kept_booking.id, dup_booking.id} == set(db.session.scalars(sa.select(Booking.id)))
        assert db.session.scalar(sa.select(CustomerNote.customer_id)) == keep.id
        assert sorted(db.session.scalars(sa.select(CustomerTag.tag))) == ["Regular", "vip"]
        assert set(db.session.scalars(sa.select(Participant.customer_id).where(Participant.role == "customer"))) \
            == {keep.id}
        assert (keep.phone, keep.user_id) == ("+4512345678", account)
        entry, = _entries("customer.merged")
        assert entry.reason == "same person" and entry.object_id == str(keep.id)
        assert entry.before["duplicate"]["email"] == "anna.berg@work.test"
        assert entry.after["moved"] == {"bookings": 1, "notes": 1, "tags": 1, "conversations": 1}


def test_merge_refuses_the_same_record_and_two_accounts(ctx):
    biz = make_business("bella")
    make_user("anna@x.test")
    make_user("bo@x.test")
    with tenant_scope(biz.tenant_id):
        book(biz, "Anna", "anna@x.test")
        book(biz, "Bo", "bo@x.test", index=1)
        anna, bo = customer("anna@x.test"), customer("bo@x.test")
        with pytest.raises(CannotMerge):
            merge_customers(anna, anna, DESK)
        with pytest.raises(CannotMerge, match="two different customer accounts"):
            merge_customers(anna, bo, DESK)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Customer)) == 2


def test_export_has_profile_bookings_notes_messages_payments_and_consent(ctx):
    biz = make_business("bella")
    account = make_user("anna@x.test")
    with tenant_scope(biz.tenant_id):
        booking = book(biz, "Anna", "anna@x.test", notes="Short please")
        anna = customer("anna@x.test")
        add_note(anna, "Chatty", author_user_id=None, author_name="Desk")
        post_message(conversation_for_booking(booking.id), customer_principal(booking), "Hello there")
        grant_consent(account, method="checkbox", source="signup", tenant_id=biz.tenant_id)
        data = export_customer(anna, DESK)
        assert data["profile"]["email"] == "anna@x.test" and data["profile"]["account_linked"] is False
        assert [(b["id"], b["notes"], b["service"]) for b in data["bookings"]] == [
            (str(booking.id), "Short please", "Haircut")]
        assert data["notes"][0]["text"] == "Chatty" and data["messages"][0]["text"] == "Hello there"
        assert data["payments"] == [] and data["marketing_consent"]["status"] == "granted"
        assert _entries("customer.exported")[0].after == {"bookings": 1, "messages": 1, "notes": 1}
        assert consent_of(anna).scope == "business"


def test_erase_anonymises_the_record_and_keeps_bookings_and_ledger(ctx):
    biz = make_business("bella")
    account = make_user("anna@x.test")
    with tenant_scope(biz.tenant_id):
        booking = book(biz, "Anna Berg", "anna@x.test", phone="+4512345678", notes="My knee hurts")
        anna = customer("anna@x.test")
        anna.user_id = account
        add_note(anna, "Knee surgery in May", author_user_id=None, author_name="Desk")
        add_tag(anna, "VIP")
        conv = conversation_for_booking(booking.id)
        post_message(conv, customer_principal(booking, db.session.get(User, account)), "See you")
        db.session.add(LedgerEntry(kind="payment", amount=50000, currency="DKK", booking_id=booking.id,
                                   idempotency_key="pi_1"))
        db.session.flush()
        with pytest.raises(CustomerError):
            erase_customer(anna, DESK, reason="  ")
        counts = erase_customer(anna, DESK, reason="Asked by phone on 5 Dec")
        db.session.commit()
        assert counts == {"notes": 1, "tags": 1, "bookings_kept": 1, "messages": 1}
        anna = db.session.get(Customer, (biz.tenant_id, anna.id))
        assert (anna.name, anna.phone, anna.user_id) == ("Deleted customer", None, None)
        assert anna.email is None and anna.erased_at is not None
        booking = db.session.get(Booking, (biz.tenant_id, booking.id))
        assert booking.notes == "" and booking.price_amount == 50000
        assert db.session.scalar(sa.select(sa.func.count()).select_from(LedgerEntry)) == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(CustomerNote)) == 0
        assert "See you" not in list(db.session.scalars(sa.select(Message.body)))
        entry, = _entries("customer.erased")
        assert entry.reason == "Asked by phone on 5 Dec" and "Anna" not in str(entry.before) + str(entry.after)
        assert list_customers()[0] == [] and consent_of(anna).status == "no_account"
        with pytest.raises(AlreadyErased):
            erase_customer(anna, DESK, reason="again")
        with pytest.raises(AlreadyErased):
            add_note(anna, "x", author_user_id=None, author_name="Desk")


def test_consent_from_every_business_is_read_on_the_tenant_role_and_withdrawal_shows(ctx):
    biz = make_business("bella")
    account = make_user("anna@x.test")
    grant_consent(account, method="signup checkbox", source="signup")  # platform-wide: no business
    db.session.commit()
    with tenant_scope(biz.tenant_id):
        book(biz, "Anna", "anna@x.test")
        db.session.commit()
        consent = consent_of(customer("anna@x.test"))
        assert (consent.status, consent.scope, consent.method) == ("granted", "platform", "signup checkbox")
    db.session.rollback()
    withdraw_consent(account, method="one-click link")
    db.session.commit()
    with tenant_scope(biz.tenant_id):
        consent = consent_of(customer("anna@x.test"))
        assert (consent.status, consent.method) == ("withdrawn", "one-click link")
        book(biz, "Bo", "bo@x.test", index=1)
        assert consent_of(customer("bo@x.test")).status == "no_account"
