"""The business's reviews in the dashboard: every review that is not removed (hidden ones marked),
filtered by overall rating or "no reply yet", 25 per page, with the public reply.

Access: every staff member may read (``staff_required``); owners and managers reply and edit
the reply (``manager_required``: plain staff get 403), because the reply speaks for the business
in public. A reply is one per review; sending again replaces it.
"""

from __future__ import annotations

from flask import request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app.blueprints.dashboard import bp
from app.blueprints.dashboard.review_forms import ReplyForm
from app.blueprints.dashboard.views.common import current_tenant, done
from app.reviews.errors import ReviewRefused
from app.reviews.models import Review
from app.reviews.queries import rating_summary, staff_reviews
from app.reviews.service import reply_to_review
from app.web import get_or_404, render_page
from app.web.access import manager_required, staff_required

#: Reviews per page.
PER_PAGE = 25
#: Dimension -> label, as the public pages show them.
LABELS = {"quality": _l("Quality"), "communication": _l("Communication"), "professionalism": _l("Professionalism"),
          "value": _l("Value for money")}


def _filters() -> tuple[int | None, bool, int]:
    raw_rating = request.args.get("rating", "")
    rating = int(raw_rating) if raw_rating in {"1", "2", "3", "4", "5"} else None
    raw_page = request.args.get("page", "1")
    page = int(raw_page) if raw_page.isdigit() and 0 < int(raw_page) < 100000 else 1
    return rating, request.args.get("unreplied") == "1", page


def reviews_page(status: int = 200, forms: dict[str, ReplyForm] | None = None) -> Response:
    """The reviews page with the filters of the query string; ``forms`` keeps a refused reply's
    form (by review id) so its error shows beside it."""
    rating, unreplied, page = _filters()
    reviews, more = staff_reviews(rating=rating, unreplied=unreplied, page=page, per_page=PER_PAGE)
    return render_page("dashboard/reviews.html", block="reviews", status=status, reviews=reviews, more=more,
                       page=page, rating=rating, unreplied=unreplied, summary=rating_summary(), labels=LABELS,
                       forms=forms or {}, tz=current_tenant().timezone)


@bp.get("/dashboard/reviews")
@login_required
@staff_required
def reviews() -> Response:
    """Reviews of the business (``?rating=1..5``, ``?unreplied=1``, ``?page=``); the ``reviews`` block for HTMX."""
    return reviews_page()


@bp.post("/dashboard/reviews/<review_id>/reply")
@login_required
@manager_required
def review_reply(review_id: str) -> Response:
    """Reply to a review, or change the reply; 422 with the error beside the form otherwise."""
    review = get_or_404(Review, review_id)
    form = ReplyForm()
    if form.validate():
        try:
            reply_to_review(review, form.reply.data, current_user.id)
        except ReviewRefused as exc:
            form.reply.errors = [exc.message]
        else:
            return done(_("Reply published."), url_for("dashboard.reviews") + f"#review-{review.id}")
    return reviews_page(status=422, forms={str(review.id): form})
