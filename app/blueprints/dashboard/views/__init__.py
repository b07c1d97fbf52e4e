"""Staff dashboard on the tenant host, one module per page.

Bookings (``/dashboard/``: day and week views per staff member, polled every 10 s; a detail
page with the event history; confirm / decline / cancel with a reason / completed / no-show)
in :mod:`.board`; the front desk (new booking, walk-in, edit and move) in :mod:`.desk` and the
calendar (staff columns, drag and drop, blocked time) in :mod:`.calendar`; and, for owners and managers, the set-up pages: :mod:`.services`,
:mod:`.staff` (profile and invitations), :mod:`.hours` (weekly hours, date overrides, time
off) and :mod:`.settings` (booking rules and API tokens). Customers (CRM) in :mod:`.customers`
and, for managers, :mod:`.customer_privacy` (merge, export, erase); the owner's :mod:`.audit` log.

Every route needs a logged-in user with a staff role in this tenant (:mod:`app.web.access`:
anyone else gets 404, anonymous users are sent to log in; set-up pages answer plain staff
403). Views parse input, call the domain and render the page, or for HTMX requests the
page's named block; the request's unit of work (:mod:`app.uow`) commits. Invalid input
re-renders the form with 422, its values kept and each error beside its field; nothing is
written.
"""

from app.blueprints.dashboard import bp
from app.blueprints.dashboard.views import (
    audit,
    board,
    business,
    calendar,
    credits,
    customer_privacy,
    customers,
    desk,
    dispatch,
    disputes,
    hours,
    leads,
    metrics,
    photos,
    reviews,
    services,
    settings,
    staff,
    verification,
)
from app.blueprints.dashboard.views.common import day_text
from app.web.access import require_staff

__all__ = ["audit", "board", "business", "calendar", "credits", "customer_privacy", "customers", "desk", "dispatch",
           "disputes", "hours", "leads", "metrics", "photos", "reviews", "services", "settings", "staff",
           "verification"]

# Only staff of this tenant; sets ``g.is_staff`` and ``g.is_manager``. Set-up pages add
# ``@manager_required`` (or ``@owner_required``).
bp.before_request(require_staff)
# ``{{ some_date|day('%a %-d %b') }}``: a local calendar date in the reader's locale.
bp.add_app_template_filter(day_text, 'day')
