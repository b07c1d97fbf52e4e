"""Reviews on the business's host: the review page from the after-visit email, and the public
reviews page.

``/review/<token>`` (the booking's manage token, as in the completed email and the account's
bookings list): the customer taps the stars (radio groups, keyboard and screen-reader friendly),
optionally rates the four dimensions and writes a few words, and posts; the page then shows the
review, and for 14 days an "Edit" link opens the same form filled in. Refusals (not completed,
already reviewed, too late) are said on the page (409); invalid input re-renders the form with
each error beside its field (422) and writes nothing. POSTs are rate-limited per client.

``/reviews``: the summary and every visible review with the business's reply, 10 per page.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from babel.numbers import format_decimal
from flask import abort, current_app, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from app.blueprints.storefront import bp
from app.blueprints.storefront.review_forms import DIMENSION_LABELS, ReviewForm
from app.booking.models import Booking, BookingStatus
from app.errors import InputError
from app.extensions import limiter
from app.formatting import reader_locale
from app.reviews.errors import AlreadyReviewed, NotCompleted, ReviewWindowClosed
from app.reviews.links import booking_from_review_token, review_path
from app.reviews.models import DIMENSIONS, MAX_PHOTOS, Review
from app.reviews.queries import PER_PAGE, rating_summary, review_of_booking, service_name_of, visible_reviews
from app.reviews.service import REVIEW_WINDOW, can_edit, create_review, edit_review, edit_until, review_refusal
from app.storage.images import ImageRejected, PreparedImage, prepare_photo, store_photo
from app.storage.local import default_storage
from app.timeutil import utcnow
from app.web import render_page, tenant_required

#: Review posts per client IP (Flask-Limiter syntax): a person writes one, maybe fixes it twice.
REVIEW_POST_LIMIT = "10 per hour;30 per day"


def review_booking_or_404(token: str) -> Booking:
    """The booking of the review link ``token`` in this business; 404 when not valid here."""
    booking = booking_from_review_token(token)
    if booking is None:
        abort(404)
    return booking


def _context(booking: Booking, review: Review | None, form: ReviewForm, **extra: Any) -> dict[str, Any]:
    return {"tenant": g.tenant, "booking": booking, "review": review, "form": form,
            "dimensions": DIMENSION_LABELS, "editable": review is not None and can_edit(review),
            "edit_until": edit_until(review) if review is not None else None,
            "tz": booking.customer_timezone or g.tenant.timezone,
            "service_name": review.service_name if review is not None else service_name_of(booking.service_id), **extra}


def _fill(form: ReviewForm, review: Review) -> None:
    form.rating.data = str(review.rating)
    for name in DIMENSIONS:
        value = getattr(review, name)
        getattr(form, name).data = str(value) if value else None
    form.text.data = review.text


def photo_uploads() -> list[PreparedImage]:
    """The photos sent with the form, each checked by its content and re-encoded (nothing stored yet).

    Raises:
        ImageRejected: more than :data:`~app.reviews.models.MAX_PHOTOS` files, or one that is not
            an acceptable image (too large, not an image, broken).
    """
    files = [f for f in request.files.getlist("photos") if f and f.filename]
    if len(files) > MAX_PHOTOS:
        raise ImageRejected(_("Add at most %(max)d photos.", max=MAX_PHOTOS), "photos")
    limit = int(current_app.config.get("MEDIA_MAX_UPLOAD_BYTES") or 5_000_000)
    return [prepare_photo(f.stream.read(limit + 1), max_bytes=limit) for f in files]


def _form_field(field: str | None) -> str | None:
    """The form field of a domain error's ``field`` (``ratings.quality`` -> ``quality``)."""
    if not field:
        return None
    return field.split(".", 1)[1] if field.startswith("ratings.") else field


@bp.route("/review/<token>", methods=["GET", "POST"])
@limiter.limit(REVIEW_POST_LIMIT, methods=["POST"])
@tenant_required
def review_page(token: str) -> Response:
    """The review page of one booking (see the module docstring). ``?edit=1`` opens the form of
    an existing review while it may still be changed."""
    booking = review_booking_or_404(token)
    review = review_of_booking(booking.id)
    form = ReviewForm()
    editing = review is not None and (request.method == "POST" or request.args.get("edit") == "1")
    if review is not None and editing and not can_edit(review):
        return render_page("storefront/review.html", block="review", status=409,
                           refusal=_("This review can no longer be changed."), **_context(booking, review, form))
    if request.method == "GET":
        if editing:
            _fill(form, review)
        refusal = None if review is not None else review_refusal(booking)
        return render_page("storefront/review.html", block="review", editing=editing, refusal=refusal,
                           **_context(booking, review, form))
    refusal = review_refusal(booking) if review is None else None
    if refusal:  # not completed, or too late: nothing to correct in the form
        return render_page("storefront/review.html", block="review", status=409, refusal=refusal,
                           **_context(booking, review, form))
    valid = form.validate()
    try:
        photos = photo_uploads()
    except ImageRejected as exc:
        form.photos.errors = [*form.photos.errors, exc.message]
        valid = False
    if not valid:
        return render_page("storefront/review.html", block="review", status=422, editing=editing,
                           **_context(booking, review, form))
    keys = [store_photo(default_storage(), g.tenant.id, p, "review") for p in photos] or None
    try:
        if review is None:
            create_review(booking, rating=form.rating.data, ratings=form.ratings(), text=form.text.data,
                          photo_keys=keys)
            flash(_("Thank you! Your review is on %(business)s's page.", business=g.tenant.name), "success")
        else:
            if keys is None and form.remove_photos.data:
                keys = []
            edit_review(review, rating=form.rating.data, ratings=form.ratings(), text=form.text.data,
                        photo_keys=keys)
            flash(_("Your review is updated."), "success")
    except (NotCompleted, AlreadyReviewed, ReviewWindowClosed) as exc:
        return render_page("storefront/review.html", block="review", status=409, refusal=exc.message,
                           **_context(booking, review_of_booking(booking.id), form))
    except InputError as exc:
        target = getattr(form, _form_field(exc.field) or "", None)
        if target is not None:
            target.errors = [*target.errors, exc.message]
        return render_page("storefront/review.html", block="review", status=422, editing=editing,
                           form_error=None if target is not None else exc.message,
                           **_context(booking, review, form))
    return redirect(url_for("storefront.review_page", token=token), 303)


@bp.get("/reviews")
@tenant_required
def reviews_index() -> Response:
    """Every visible review of the business, newest first, 10 per page (``?page=``), with the
    summary; the ``reviews`` block for HTMX."""
    raw = request.args.get("page", "1")
    page = int(raw) if raw.isdigit() and 0 < int(raw) < 100000 else 1
    reviews, more = visible_reviews(page, PER_PAGE)
    return render_page("storefront/reviews.html", block="reviews", tenant=g.tenant, summary=rating_summary(),
                       reviews=reviews, page=page, more=more, dimensions=DIMENSION_LABELS)


#: Reviews shown on the profile under the summary.
PROFILE_LATEST = 3


@bp.app_template_global("profile_reviews")
def profile_reviews() -> dict[str, Any]:
    """Data of ``storefront/_profile_reviews.html`` for the business in scope: ``summary``
    (:class:`~app.reviews.queries.RatingSummary`), the ``latest`` three visible reviews,
    dimension ``labels``, the business's ``tz`` and name. Called by the partial itself."""
    latest, _more = visible_reviews(1, PROFILE_LATEST)
    return {"summary": rating_summary(), "latest": latest, "labels": DIMENSION_LABELS,
            "tz": g.tenant.timezone, "business": g.tenant.name}


@bp.app_template_global("review_link_for")
def review_link_for(manage_url: str, status: str, starts_at: datetime) -> str | None:
    """The review page's absolute URL for a row of the account's bookings list (its ``manage_url``
    is built from configuration; the review page takes the same token), or ``None`` when the
    booking is not completed or its visit is more than the review window ago. The page itself
    shows an existing review instead of the form."""
    if status != BookingStatus.COMPLETED.value or utcnow() - starts_at > REVIEW_WINDOW or "/manage/" not in manage_url:
        return None
    base, _sep, token = manage_url.rpartition("/manage/")
    return base + review_path(token)


@bp.app_template_filter("one_decimal")
def one_decimal(value: float | int) -> str:
    """A rating or a distance with exactly one decimal in the reader's locale: ``4.5`` ->
    ``"4.5"`` (en), ``"4,5"`` (da); ``5`` -> ``"5.0"`` / ``"5,0"``."""
    return format_decimal(round(float(value), 1), "0.0", locale=reader_locale())
