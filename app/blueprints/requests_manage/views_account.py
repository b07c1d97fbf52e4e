"""The signed-in customer's dashboard of job requests on the apex: ``/account/requests``."""

from __future__ import annotations

from flask import request
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app.blueprints.requests_manage import bp
from app.leads.customer_dashboard import TABS, best_providers, my_requests, spending_by_month
from app.web import apex_only, render_page


@bp.get("/account/requests")
@apex_only
@login_required
def my_requests_page() -> Response:
    """My job requests in tabs (``?tab=active|completed|closed``, with counts), my spending by
    month on the jobs I booked, and the best-rated providers I used (HTMX: the ``requests`` block)."""
    tab = request.args.get("tab", "active")
    if tab not in TABS:
        tab = "active"
    rows = my_requests(current_user.id)
    counts = {name: sum(1 for r in rows if r.tab == name) for name in TABS}
    spend = spending_by_month(current_user.id)
    top = max((m.amount for m in spend), default=0)
    return render_page("account/requests.html", block="requests", tab=tab, tabs=list(TABS), counts=counts,
                       rows=[r for r in rows if r.tab == tab], spend=spend, spend_max=top,
                       providers=best_providers(current_user.id))
