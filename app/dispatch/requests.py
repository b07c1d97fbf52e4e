"""The customer's side of dispatch: asking for a service now at a point, and reading one's
own requests. Runs on the apex (platform role); functions flush, the unit of work commits."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from flask_babel import gettext as _

from app.dispatch import engine
from app.dispatch.errors import DispatchInputError
from app.dispatch.models import DispatchOperator, DispatchRequest, RequestStatus
from app.dispatch.services import ON_DEMAND_SERVICES
from app.extensions import db
from app.tenants.context import platform_scope
from app.tenants.models import Tenant
from app.timeutil import utcnow


def new_request_row(user_id: uuid.UUID | None, customer_name: str, service: str, lat: float, lon: float,
                    address_line: str = "") -> DispatchRequest:
    """Write a ``searching`` request for ``service`` at (``lat``, ``lon``) (WGS 84 degrees) for
    account ``user_id`` (``None``: a system or bench request), without offering it. Flushes.

    Raises:
        DispatchInputError: unknown service (``field`` ``service``), or a point out of range
            (``field`` ``location``).
    """
    if service not in ON_DEMAND_SERVICES:
        raise DispatchInputError(_("Pick a service."), "service")
    if not (-85.05 <= lat <= 85.05 and -180 <= lon <= 180):
        raise DispatchInputError(_("That location is not on the map."), "location")
    now = utcnow()
    req = DispatchRequest(id=uuid.uuid4(), user_id=user_id, customer_name=customer_name[:120], service=service,
                          latitude=lat, longitude=lon, address_line=address_line[:200],
                          status=RequestStatus.SEARCHING.value, tried=0, created_at=now, updated_at=now)
    with platform_scope("dispatch: a customer asks"):
        db.session.add(req)
        db.session.flush()
    return req


def request_now(user_id: uuid.UUID | None, customer_name: str, service: str, lat: float, lon: float,
                address_line: str = "") -> DispatchRequest:
    """Ask for ``service`` now at (``lat``, ``lon``): :func:`new_request_row`, then offered to the
    best operator at once (or ``unfulfilled`` when nobody is near). Returns the request. Flushes.

    Raises:
        DispatchInputError: as :func:`new_request_row`.
    """
    req = new_request_row(user_id, customer_name, service, lat, lon, address_line)
    engine.offer_next(req.id)
    return req


def customer_request(request_id: uuid.UUID, user_id: uuid.UUID) -> DispatchRequest | None:
    """Request ``request_id`` if it belongs to account ``user_id``, else ``None``."""
    with platform_scope("dispatch: the customer's request"):
        return db.session.scalar(sa.select(DispatchRequest).where(
            DispatchRequest.id == request_id, DispatchRequest.user_id == user_id))


def operator_summary(req: DispatchRequest) -> dict[str, str] | None:
    """``{"name", "business"}`` of the operator on ``req`` (offered or working), or ``None``."""
    if req.operator_id is None or req.business_id is None:
        return None
    with platform_scope("dispatch: who is coming"):
        row = db.session.execute(sa.select(DispatchOperator.name, Tenant.name).join(
            Tenant, Tenant.id == DispatchOperator.tenant_id).where(
            DispatchOperator.tenant_id == req.business_id, DispatchOperator.id == req.operator_id)).first()
    return {"name": row[0], "business": row[1]} if row else None


def recent_requests(user_id: uuid.UUID, limit: int = 10) -> list[DispatchRequest]:
    """The account's latest requests, newest first."""
    with platform_scope("dispatch: the customer's requests"):
        return list(db.session.scalars(sa.select(DispatchRequest).where(DispatchRequest.user_id == user_id)
                                       .order_by(DispatchRequest.created_at.desc()).limit(limit)))
