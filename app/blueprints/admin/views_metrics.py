"""The console's KPI dashboard (``/admin/metrics``) and its CSV export, read from the rollups.

``?from=YYYY-MM-DD&to=YYYY-MM-DD`` picks the UTC days (the last 30 by default); every tile is
compared with the period of the same length just before. Charts (Chart.js) each have a table of
the same numbers; the map (Leaflet) shows bookings by city.
"""

from __future__ import annotations

import csv
import io
import json

from flask import current_app, request
from werkzeug.wrappers import Response

from app.blueprints.admin import bp
from app.blueprints.admin.access import admin_required
from app.metrics.queries import bookings_by_city, dispute_kpis, parse_period, platform_daily, platform_kpis
from app.timeutil import utcnow
from app.web import render_page


def chart_data(rows: list[dict], previous: list[dict]) -> dict:
    """What the charts draw: day labels, bookings (this and the previous period) and the gross
    booking value per currency in major units."""
    currencies = sorted({c for r in rows for c in r["gross"]})
    return {
        "labels": [r["day"].isoformat() for r in rows],
        "bookings": [r["bookings"] for r in rows],
        "previous": [r["bookings"] for r in previous][:len(rows)],
        "gross": {c: [r["gross"].get(c, 0) / 100 for r in rows] for c in currencies},
    }


@bp.get("/metrics")
@admin_required
def metrics() -> Response:
    """The KPI dashboard for the chosen period with the previous period beside it."""
    period = parse_period(request.args.get("from"), request.args.get("to"), utcnow().date())
    kpis, before = platform_kpis(period), platform_kpis(period.previous())
    rows, previous = platform_daily(period), platform_daily(period.previous())
    cities = bookings_by_city(period)
    return render_page("admin/metrics.html", block="report", period=period, kpis=kpis, before=before, rows=rows,
                       cases=dispute_kpis(period), cases_before=dispute_kpis(period.previous()),
                       cities=cities, chart=json.dumps(chart_data(rows, previous)),
                       points=json.dumps([c for c in cities if c["lat"] is not None]),
                       tile_url=current_app.config.get("MAP_TILE_URL", ""),
                       attribution=current_app.config.get("MAP_ATTRIBUTION", ""))


@bp.get("/metrics.csv")
@admin_required
def metrics_csv() -> Response:
    """The period's numbers per day as CSV (money in minor units, one column per currency)."""
    period = parse_period(request.args.get("from"), request.args.get("to"), utcnow().date())
    rows = platform_daily(period)
    currencies = sorted({c for r in rows for c in r["gross"]})
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["day", "bookings", "cancelled", "no_shows", "active_customers", "searches",
                     *(f"gross_{c}_minor" for c in currencies)])
    for r in rows:
        writer.writerow([r["day"].isoformat(), r["bookings"], r["cancelled"], r["no_shows"], r["customers"],
                         r["searches"], *(r["gross"].get(c, 0) for c in currencies)])
    resp = Response(out.getvalue(), mimetype="text/csv")
    resp.headers["Content-Disposition"] = (
        f'attachment; filename="plaza-metrics-{period.first.isoformat()}-{period.last.isoformat()}.csv"')
    return resp
