"""The origin of map tiles a page's Content-Security-Policy must allow."""

from __future__ import annotations

import pytest

from app.geo.tiles import tile_origin

pytestmark = pytest.mark.unit


def test_tile_origins():
    assert tile_origin("https://tile.openstreetmap.org/{z}/{x}/{y}.png") == "https://tile.openstreetmap.org"
    assert tile_origin("https://{s}.tiles.example.org/{z}/{x}/{y}.png") == "https://*.tiles.example.org"
    assert tile_origin("") == "" and tile_origin("/tiles/{z}/{x}/{y}.png") == ""
