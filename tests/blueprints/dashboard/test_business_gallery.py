"""The photo gallery on the business settings page: uploads checked by content and stripped of
their location, thumbnails made by a job, captions, order, removal, the size limit, and who may
change it."""

from __future__ import annotations

import io
import uuid

import pytest
from PIL import Image

from app.extensions import db
from app.tenants.context import tenant_scope
from app.tenants.models import Role
from app.tenants.photos import gallery
from app.tenants.service import add_membership
from tests.factories import make_business, make_user
from tests.helpers import csrf_from, login_as
from tests.support.conftest_mail import run_jobs

pytestmark = pytest.mark.integration

HOST = "bella.localhost"
BASE = f"http://{HOST}"


@pytest.fixture
def media_root(app, tmp_path):
    before = app.config.get("MEDIA_ROOT"), app.config.get("GALLERY_MAX_PHOTOS")
    app.config["MEDIA_ROOT"] = str(tmp_path / "media")
    yield tmp_path / "media"
    app.config["MEDIA_ROOT"], app.config["GALLERY_MAX_PHOTOS"] = before


@pytest.fixture
def bella(ctx):
    return make_business("bella")


def _client(app, email: str, host: str = HOST):
    client = app.test_client()
    login_as(client, email, host=host)
    return client


def _jpeg(colour=(200, 30, 90), size=(1600, 1200)) -> bytes:
    image = Image.new("RGB", size, colour)
    exif = image.getexif()
    exif[0x010F] = "SpyCam"
    exif[0x8825] = {1: "N", 2: (55.0, 40.0, 30.0), 3: "E", 4: (12.0, 34.0, 56.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def _post(client, path: str, data: dict, base: str = BASE):
    token = csrf_from(client.get("/dashboard/", base_url=base).data)
    return client.post(path, base_url=base, data={"csrf_token": token, **data}, content_type="multipart/form-data")


def _upload(client, caption: str = "", data: bytes | None = None):
    return _post(client, "/dashboard/business/photos",
                 {"photo": (io.BytesIO(data or _jpeg()), "IMG_0001.JPG"), "caption": caption})


def _photos(bella):
    db.session.expire_all()
    with tenant_scope(bella.tenant_id):
        return [(p.id, p.key, p.thumbnail_key, p.caption, p.width, p.height) for p in gallery()]


def test_an_upload_is_stored_without_its_location_and_gets_a_thumbnail_from_a_job(app, bella, media_root):
    owner = _client(app, bella.owner_email)
    resp = _upload(owner, "Our chairs")
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/dashboard/business#business-gallery")
    [(photo_id, key, thumb, caption, width, height)] = _photos(bella)
    assert key.startswith(f"gallery/{bella.tenant_id.hex}/") and thumb is None
    assert (caption, width, height) == ("Our chairs", 1600, 1200)
    stored = (media_root / key).read_bytes()
    assert b"SpyCam" not in stored
    with Image.open(io.BytesIO(stored)) as image:
        assert image.getexif().get_ifd(0x8825) == {} and dict(image.getexif()) == {}
    page = owner.get("/dashboard/business", base_url=BASE).data.decode()
    assert f'src="/media/{key}" alt="Our chairs"' in page  # the full photo until the thumbnail exists

    assert run_jobs(app) == []
    [(_, _, thumb, *_)] = _photos(bella)
    assert thumb.startswith(f"thumbs/{bella.tenant_id.hex}/")
    with Image.open(media_root / thumb) as image:
        assert image.size == (480, 360)
    page = owner.get("/dashboard/business", base_url=BASE).data.decode()
    assert f'src="/media/{thumb}" alt="Our chairs"' in page
    served = app.test_client().get(f"/media/{thumb}", base_url=BASE)
    assert served.status_code == 200 and served.mimetype == "image/webp"
    assert served.headers["Cache-Control"] == "public, max-age=31536000, immutable"


def test_caption_order_and_removal(app, bella, media_root):
    owner = _client(app, bella.owner_email)
    for colour in ((255, 0, 0), (0, 255, 0), (0, 0, 255)):
        assert _upload(owner, data=_jpeg(colour, (400, 300))).status_code == 303
    first, second, third = (p[0] for p in _photos(bella))
    assert _post(owner, f"/dashboard/business/photos/{third}", {"action": "up"}).status_code == 303
    assert [p[0] for p in _photos(bella)] == [first, third, second]
    assert _post(owner, f"/dashboard/business/photos/{first}", {"action": "up"}).status_code == 303  # already first
    assert _post(owner, f"/dashboard/business/photos/{first}", {"action": "down"}).status_code == 303
    assert [p[0] for p in _photos(bella)] == [third, first, second]
    assert _post(owner, f"/dashboard/business/photos/{first}",
                 {"action": "caption", "caption": "  The  front desk "}).status_code == 303
    assert _photos(bella)[1][3] == "The front desk"
    long = _post(owner, f"/dashboard/business/photos/{first}", {"action": "caption", "caption": "x" * 201})
    assert long.status_code == 422 and "Use at most 200 characters." in long.data.decode()
    key = _photos(bella)[0][1]
    assert (media_root / key).exists()
    assert _post(owner, f"/dashboard/business/photos/{third}", {"action": "remove"}).status_code == 303
    assert [p[0] for p in _photos(bella)] == [first, second]
    assert not (media_root / key).exists()


def test_the_gallery_limit_and_refused_uploads_write_nothing(app, bella, media_root):
    app.config["GALLERY_MAX_PHOTOS"] = 2
    owner = _client(app, bella.owner_email)
    refused = _upload(owner, data=b"GIF89a but not really")
    assert refused.status_code == 422 and "not an image we can read" in refused.data.decode()
    none = _post(owner, "/dashboard/business/photos", {"caption": "nothing"})
    assert none.status_code == 422 and "Choose an image file." in none.data.decode()
    assert _photos(bella) == [] and not media_root.exists()
    assert _upload(owner).status_code == 303 and _upload(owner, data=_jpeg((1, 2, 3))).status_code == 303
    page = owner.get("/dashboard/business", base_url=BASE).data.decode()
    assert "Your gallery is full: remove a photo to add another." in page
    full = _upload(owner, data=_jpeg((9, 9, 9)))
    assert full.status_code == 422 and "Your gallery is full (2 photos)" in full.data.decode()
    assert len(_photos(bella)) == 2


def test_only_the_owner_changes_the_gallery_and_other_businesses_photos_are_404(app, bella, media_root):
    owner = _client(app, bella.owner_email)
    assert _upload(owner).status_code == 303
    [(photo_id, *_)] = _photos(bella)
    make_user("manager@bella.test")
    from app.identity.service import find_user

    with tenant_scope(bella.tenant_id):
        add_membership(find_user("manager@bella.test"), Role.MANAGER)
        db.session.commit()
    manager = _client(app, "manager@bella.test")
    page = manager.get("/dashboard/business", base_url=BASE).data.decode()
    assert "Add photo" not in page and "Remove" not in page
    assert _upload(manager).status_code == 403
    assert _post(manager, f"/dashboard/business/photos/{photo_id}", {"action": "remove"}).status_code == 403
    other = make_business("fixit", timezone="America/New_York", currency="USD", owner_email="owner@fixit.test")
    fixit_owner = _client(app, other.owner_email, host="fixit.localhost")
    resp = _post(fixit_owner, f"/dashboard/business/photos/{photo_id}", {"action": "remove"},
                 base="http://fixit.localhost")
    assert resp.status_code == 404
    assert _post(owner, f"/dashboard/business/photos/{uuid.uuid4()}", {"action": "remove"}).status_code == 404
    assert len(_photos(bella)) == 1
