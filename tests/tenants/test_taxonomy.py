"""The platform admin's category taxonomy edits without a deploy: ``flask marketplace categories
add|rename|retire|list``, and what businesses in a category see of them."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.tenants.context import tenant_scope
from app.tenants.models import MarketplaceCategory, Tenant
from app.tenants.taxonomy import active_categories
from tests.factories import make_business

pytestmark = pytest.mark.integration


def _run(app, *args: str):
    return app.test_cli_runner().invoke(args=["marketplace", "categories", *args])


def test_add_rename_retire_from_the_command_line(app, restore_taxonomy):
    business = make_business("bella")
    with tenant_scope(business.tenant_id):
        tenant = db.session.get(Tenant, business.tenant_id)
        tenant.category_slug, tenant.category = "barber", "Barber"
        db.session.commit()

    result = _run(app, "add", "dog-grooming", "Dog  grooming")
    assert result.exit_code == 0, result.output
    assert "added dog-grooming" in result.output
    db.session.rollback()
    assert [c.slug for c in active_categories()][-1] == "dog-grooming"
    assert db.session.get(MarketplaceCategory, "dog-grooming").name == "Dog grooming"

    result = _run(app, "rename", "barber", "Barbershop")
    assert result.exit_code == 0 and "renamed barber on 1 business(es)" in result.output
    db.session.rollback()
    with tenant_scope(business.tenant_id):
        assert db.session.get(Tenant, business.tenant_id).category == "Barbershop"
    db.session.rollback()

    result = _run(app, "retire", "barber")
    assert result.exit_code == 0 and "retired barber; 1 business(es) keep it" in result.output
    db.session.rollback()
    assert "barber" not in [c.slug for c in active_categories()]
    with tenant_scope(business.tenant_id):
        assert db.session.get(Tenant, business.tenant_id).category_slug == "barber"
    db.session.rollback()

    listing = _run(app, "list")
    assert "barber\tBarbershop\t(retired)" in listing.output and "hair\tHair salon\n" in listing.output
    # Added back, it is offered again at the end of the list.
    assert _run(app, "add", "barber", "Barber").exit_code == 0
    db.session.rollback()
    assert [c.slug for c in active_categories()][-1] == "barber"


@pytest.mark.parametrize(("args", "message"), [
    (("add", "Bad Slug", "X"), "A slug is 1-40 lowercase letters"),
    (("add", "hair", "Hair again"), "“hair” is already a category."),
    (("add", "ok", ""), "A name is 1-80 characters."),
    (("rename", "nope", "X"), "There is no category “nope”."),
    (("retire", "nope"), "There is no category “nope”."),
])
def test_bad_edits_are_refused_with_a_message_and_change_nothing(app, restore_taxonomy, args, message):
    result = _run(app, *args)
    assert result.exit_code == 1 and message in result.output
    db.session.rollback()
    assert len(active_categories()) == 12
