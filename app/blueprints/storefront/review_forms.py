"""The customer's review form: overall stars (required), four optional dimensions, optional text."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, MultipleFileField, StringField, TextAreaField
from wtforms.validators import InputRequired, Optional

from app.reviews.models import MAX_TEXT

#: Dimension field name -> what the page calls it.
DIMENSION_LABELS = {"quality": _l("Quality"), "communication": _l("Communication"),
                    "professionalism": _l("Professionalism"), "value": _l("Value for money")}


class ReviewForm(FlaskForm):
    """Star ratings (the page shows each as a group of radio buttons "1"–"5"; the domain checks the
    value) and the text.

    ``rating`` is required; each dimension may be left unrated. ``text`` is plain text, at most
    2,000 characters (HTML is removed by the domain before counting).
    """

    rating = StringField(_l("Overall"), validators=[InputRequired(_l("Choose a rating from 1 to 5 stars."))])
    quality = StringField(DIMENSION_LABELS["quality"], validators=[Optional()])
    communication = StringField(DIMENSION_LABELS["communication"], validators=[Optional()])
    professionalism = StringField(DIMENSION_LABELS["professionalism"], validators=[Optional()])
    value = StringField(DIMENSION_LABELS["value"], validators=[Optional()])
    text = TextAreaField(_l("Tell others about your visit (optional)"), validators=[Optional()],
                         render_kw={"maxlength": MAX_TEXT, "rows": 4})
    #: Up to three photos, checked by their content and re-encoded (:func:`app.storage.images.prepare_photo`).
    photos = MultipleFileField(_l("Photos (optional, up to 3)"))
    #: When editing: drop the review's photos (new uploads replace them anyway).
    remove_photos = BooleanField(_l("Remove my photos"))

    def ratings(self) -> dict[str, str | None]:
        """The four dimension values as sent (``None`` when unrated)."""
        return {name: getattr(self, name).data or None for name in DIMENSION_LABELS}
