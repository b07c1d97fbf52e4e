"""Home-screen icons made with Pillow from a business's logo (or, without one, its initial).

Three variants, all square PNGs (:data:`VARIANTS`): ``192`` and ``512`` (purpose ``any``: the logo
scaled to fit on white) and ``maskable-512`` (purpose ``maskable``: the logo inside the safe zone,
the centred circle of 80 % of the side that every launcher mask keeps, on a full-bleed background).
Results are memoised by the source's content hash, which is also in the icon's URL, so a browser
may keep an icon for ever and a new logo gets new URLs.
"""

from __future__ import annotations

import colorsys
import hashlib
import io
from dataclasses import dataclass
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

#: Icon variant name -> (side in pixels, maskable?).
VARIANTS: dict[str, tuple[int, bool]] = {"192": (192, False), "512": (512, False), "maskable-512": (512, True)}
#: Plaza's own colour (manifests' theme colour, icons of businesses without a logo).
PLAZA_COLOUR = "#4f46e5"
#: The background of pages and icons.
BACKGROUND = "#ffffff"
#: Share of the side a maskable icon's content may use: the square inscribed in the safe-zone
#: circle (diameter 80 % of the side) is 0.8 / √2 ≈ 0.566 of the side; a little margin below it.
MASKABLE_CONTENT = 0.56
#: Share of the side the logo uses in an ordinary (``any``) icon.
ANY_CONTENT = 0.9


class UnknownVariant(KeyError):
    """An icon variant not in :data:`VARIANTS`."""


@dataclass(frozen=True)
class IconSource:
    """What an icon is drawn from: ``logo`` bytes (PNG/WebP, already checked when uploaded) or, when
    ``None``, the ``initial`` letter on ``colour`` (``#rrggbb``). ``digest`` identifies the content
    (16 hex digits) and goes into the icon's URL."""

    digest: str
    logo: bytes | None = None
    initial: str = "P"
    colour: str = PLAZA_COLOUR


def letter_source(name: str, colour: str = PLAZA_COLOUR) -> IconSource:
    """The source of a business without a logo: the first letter of ``name`` (upper-case) on ``colour``."""
    initial = (name.strip()[:1] or "P").upper()
    digest = hashlib.sha256(f"{initial}|{colour}".encode()).hexdigest()[:16]
    return IconSource(digest=digest, initial=initial, colour=colour)


def logo_source(logo: bytes) -> IconSource:
    """The source of a business with a logo (its stored bytes)."""
    return IconSource(digest=hashlib.sha256(logo).hexdigest()[:16], logo=logo)


def render_icon(source: IconSource, variant: str) -> bytes:
    """The PNG bytes of ``variant`` (a key of :data:`VARIANTS`) drawn from ``source``, memoised.

    Raises:
        UnknownVariant: ``variant`` is not one of :data:`VARIANTS`.
        PIL.UnidentifiedImageError: the logo bytes are not an image Pillow reads.
    """
    if variant not in VARIANTS:
        raise UnknownVariant(variant)
    return _render(source, variant)


@lru_cache(maxsize=128)
def _render(source: IconSource, variant: str) -> bytes:
    side, maskable = VARIANTS[variant]
    if source.logo is None:
        canvas = Image.new("RGB", (side, side), source.colour)
        share = MASKABLE_CONTENT if maskable else 0.7
        font = ImageFont.load_default(size=int(side * share))
        draw = ImageDraw.Draw(canvas)
        draw.text((side / 2, side / 2), source.initial, fill="#ffffff", font=font, anchor="mm")
    else:
        canvas = Image.new("RGB", (side, side), BACKGROUND)
        with Image.open(io.BytesIO(source.logo)) as opened:
            logo = opened.convert("RGBA")
        box = int(side * (MASKABLE_CONTENT if maskable else ANY_CONTENT))
        logo.thumbnail((box, box), Image.Resampling.LANCZOS)
        if logo.width < box and logo.height < box:  # small logos grow to the box too
            scale = box / max(logo.width, logo.height)
            logo = logo.resize((max(1, round(logo.width * scale)), max(1, round(logo.height * scale))),
                               Image.Resampling.LANCZOS)
        canvas.paste(logo, ((side - logo.width) // 2, (side - logo.height) // 2), logo)
    out = io.BytesIO()
    canvas.save(out, "PNG", optimize=True)
    return out.getvalue()


def brand_colour(logo: bytes | None) -> str | None:
    """The logo's most used clearly coloured colour as ``#rrggbb`` (saturation and lightness
    away from white, black and grey), or ``None`` for no logo or a logo without one."""
    if not logo:
        return None
    return _brand_colour(logo)


@lru_cache(maxsize=128)
def _brand_colour(logo: bytes) -> str | None:
    with Image.open(io.BytesIO(logo)) as opened:
        image = opened.convert("RGBA")
    image.thumbnail((96, 96))
    background = Image.new("RGBA", image.size, (255, 255, 255, 255))
    flat = Image.alpha_composite(background, image).convert("RGB").quantize(colors=8)
    palette = flat.getpalette() or []
    for count, index in sorted(flat.getcolors() or [], reverse=True):
        r, g, b = palette[index * 3:index * 3 + 3]
        _h, lightness, saturation = colorsys.rgb_to_hls(r / 255, g / 255, b / 255)
        if saturation >= 0.3 and 0.2 <= lightness <= 0.75 and count >= 20:
            return f"#{r:02x}{g:02x}{b:02x}"
    return None


def text_colour_on(background: str) -> str:
    """``#ffffff`` or ``#111827``, whichever reads better on ``background`` (``#rrggbb``), by WCAG
    relative luminance."""
    r, g, b = (int(background[i:i + 2], 16) / 255 for i in (1, 3, 5))

    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    luminance = 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b)
    return "#111827" if (luminance + 0.05) / 0.05 > 1.05 / (luminance + 0.05) else "#ffffff"
