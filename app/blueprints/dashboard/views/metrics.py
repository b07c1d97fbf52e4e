"""The owner's metrics page (``/dashboard/metrics``): the business's bookings, revenue, no-shows,
returning customers and utilisation per staff member, from the same rollups as the console.

``?from=YYYY-MM-DD&to=YYYY-MM-DD`` picks the UTC days (the last 30 by default), compared with the
period just before; a CSV of the days at ``/dashboard/metrics.csv``.
"""

from __future__ import annotations

import csv
import io
import json

from flask import request
from flask_login import login_required
from werkzeug.wrappers import Response

from app.blueprints.dashboard import bp
from app.blueprints.dashboard.views.common import current_tenant
from app.metrics.queries import daily, parse_period, staff_utilisation, totals
from app.timeutil import utcnow
from app.web import render_page
from app.web.access import owner_required


@bp.get("/dashboard/metrics")
@login_required
@owner_required
def metrics() -> Response:
    """The business's KPIs for the chosen period, with charts and tables of the same numbers."""
    tid = current_tenant().id
    period = parse_period(request.args.get("from"), request.args.get("to"), utcnow().date())
    now, before = totals(period, tid), totals(period.previous(), tid)
    rows, previous = daily(period, tid), daily(period.previous(), tid)
    staff = staff_utilisation(period)
    currencies = sorted({c for r in rows for c in r["gross"]})
    chart = {"labels": [r["day"].isoformat() for r in rows], "bookings": [r["bookings"] for r in rows],
             "previous": [r["bookings"] for r in previous][:len(rows)],
             "gross": {c: [r["gross"].get(c, 0) / 100 for r in rows] for c in currencies},
             "staff": {"labels": [s["name"] for s in staff],
                       "values": [round(100 * (s["utilisation"] or 0), 1) for s in staff]}}
    return render_page("dashboard/metrics.html", block="report", period=period, now=now, before=before, rows=rows,
                       staff=staff, chart=json.dumps(chart))


@bp.get("/dashboard/metrics.csv")
@login_required
@owner_required
def metrics_csv() -> Response:
    """The business's numbers per day as CSV (money in minor units, one column per currency)."""
    period = parse_period(request.args.get("from"), request.args.get("to"), utcnow().date())
    rows = daily(period, current_tenant().id)
    currencies = sorted({c for r in rows for c in r["gross"]})
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["day", "bookings", "cancelled", "no_shows", "customers", *(f"revenue_{c}_minor" for c in currencies)])
    for r in rows:
        writer.writerow([r["day"].isoformat(), r["bookings"], r["cancelled"], r["no_shows"], r["customers"],
                         *(r["gross"].get(c, 0) for c in currencies)])
    resp = Response(out.getvalue(), mimetype="text/csv")
    resp.headers["Content-Disposition"] = f'attachment; filename="metrics-{period.first}-{period.last}.csv"'
    return resp
