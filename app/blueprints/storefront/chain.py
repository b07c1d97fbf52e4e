"""'Add another service' on the storefront's staff step: the services already chosen (the
first from the URL path, the next ones as repeated ``also`` query values) with a link to take
each added one out, and the other services that can be added (those at least one staff member
performs together with every chosen one)."""

from __future__ import annotations

from typing import Any

from flask import url_for

from app.booking.items import MAX_ITEMS
from app.catalog.models import Service
from app.catalog.service import list_services
from app.scheduling.service import chain_performers, performers


def chain_choices(service: Service, also: list[Service], tz: str | None) -> dict[str, Any]:
    """Template context of the staff step's service list: ``chain`` (the chosen services in
    order), ``removals`` (``(service, url)`` taking each added service out), ``addable``
    (``(service, url)`` adding one more; empty at :data:`~app.booking.items.MAX_ITEMS`)."""
    chain = [service, *also]
    tz_args = {"tz": tz} if tz else {}

    def url(extra: list[Service]) -> str:
        values = [str(s.id) for s in extra]
        return url_for("storefront.choose_staff", service_id=service.id, **tz_args,
                       **({"also": values} if values else {}))

    removals = [(s, url(also[:i] + also[i + 1:])) for i, s in enumerate(also)]
    addable: list[tuple[Service, str]] = []
    if len(chain) < MAX_ITEMS:
        staff = set(chain_performers(chain))
        for candidate in list_services():
            if candidate.id not in {s.id for s in chain} and staff & set(performers(candidate.id)):
                addable.append((candidate, url([*also, candidate])))
    return {"chain": chain, "removals": removals, "addable": addable}
