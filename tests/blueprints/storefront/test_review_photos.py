"""Photos on a review: up to three, checked by content and re-encoded without metadata, shown
with the review on the profile and in the API, replaced or removed when the review is edited."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image

from app.booking.links import manage_token
from app.extensions import db
from app.reviews.links import review_path
from app.tenants.context import tenant_scope
from tests.factories import make_business
from tests.helpers import csrf_from
from tests.reviews.support import visit

pytestmark = pytest.mark.integration

BASE = "http://bella.localhost"


def _jpeg_with_gps(colour=(200, 30, 90)) -> bytes:
    image = Image.new("RGB", (900, 600), colour)
    exif = image.getexif()
    exif[0x010F] = "SpyCam"
    exif[0x8825] = {1: "N", 2: (55.0, 40.0, 30.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def _page(biz) -> str:
    with tenant_scope(biz.tenant_id):
        booking = visit(biz)
        db.session.commit()
        return review_path(manage_token(booking))


def _send(client, path: str, data: dict, files: list[tuple[bytes, str]]):
    token = csrf_from(client.get(path, base_url=BASE).data)
    body = {"csrf_token": token, **data, "photos": [(io.BytesIO(b), name) for b, name in files]}
    return client.post(path, data=body, base_url=BASE, content_type="multipart/form-data")


def test_photos_are_reencoded_and_shown_with_the_review(ctx, client, media_root):
    biz = make_business("bella")
    path = _page(biz)
    resp = _send(client, path, {"rating": "5", "text": "Look at this"},
                 [(_jpeg_with_gps(), "a.jpg"), (_jpeg_with_gps((10, 90, 200)), "b.jpg")])
    assert resp.status_code == 303
    profile = client.get("/", base_url=BASE).get_data(as_text=True)
    urls = re.findall(r'<img src="(/media/reviews/[0-9a-f]{32}/[0-9a-f]{16}\.webp)"', profile)
    assert len(urls) == 2
    served = client.get(urls[0], base_url=BASE)
    assert served.status_code == 200 and served.mimetype == "image/webp"
    assert b"SpyCam" not in served.data and not Image.open(io.BytesIO(served.data)).getexif()
    api = client.get("/api/v1/reviews", base_url=BASE).get_json()["reviews"][0]["photos"]
    assert [u.split("bella.localhost:", 1)[1].split("/", 1)[1] for u in api] == [u[1:] for u in urls]
    # Editing without new photos keeps them; "Remove my photos" drops them.
    assert _send(client, path + "?edit=1", {"rating": "4"}, []).status_code == 303
    assert client.get("/reviews", base_url=BASE).get_data(as_text=True).count("<img src=\"/media/reviews/") == 2
    assert _send(client, path + "?edit=1", {"rating": "4", "remove_photos": "y"}, []).status_code == 303
    assert "/media/reviews/" not in client.get("/reviews", base_url=BASE).get_data(as_text=True)


def test_too_many_or_not_images_are_refused_inline(ctx, client, media_root):
    biz = make_business("bella")
    path = _page(biz)
    four = _send(client, path, {"rating": "5"}, [(_jpeg_with_gps(), f"{i}.jpg") for i in range(4)])
    assert four.status_code == 422 and "Add at most 3 photos." in four.get_data(as_text=True)
    fake = _send(client, path, {"rating": "5"}, [(b"<svg onload=alert(1)></svg>", "x.jpg")])
    html = fake.get_data(as_text=True)
    assert fake.status_code == 422 and 'id="photos-error"' in html and "not an image we can read" in html
    assert "No reviews yet." in client.get("/", base_url=BASE).get_data(as_text=True)
