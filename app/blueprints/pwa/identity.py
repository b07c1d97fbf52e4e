"""What an installed app is on each host: its names, colours and icons.

* a business's storefront (its host, scope ``/``) installs as the business;
* its dashboard (scope ``/dashboard/``) installs as "<business> · Plaza" for staff;
* the apex installs as Plaza.

Icons come from the business's logo (:mod:`app.blueprints.pwa.icons`), or its initial without one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from logging import getLogger

from flask import url_for
from flask_babel import gettext as _

from app.blueprints.pwa.icons import PLAZA_COLOUR, VARIANTS, IconSource, brand_colour, letter_source, logo_source
from app.storage import StorageError
from app.storage.local import default_storage
from app.tenants.models import Tenant

log = getLogger(__name__)

#: Plaza's own icons (static files), for the apex.
PLAZA_ICONS = (("icons/icon-192.png", "192x192", "any"), ("icons/icon-512.png", "512x512", "any"),
               ("icons/icon-512.png", "512x512", "maskable"))


@dataclass(frozen=True)
class AppIdentity:
    """One installable app: ``name`` / ``short_name`` (shown under the icon), ``description``,
    ``start_url`` and ``scope`` (paths on the host), ``theme`` (``#rrggbb``), ``icons`` as manifest
    entries (``src``, ``sizes``, ``type``, ``purpose``) and ``icon_url`` (the 192 px one, for the
    offline page and notifications)."""

    name: str
    short_name: str
    description: str
    start_url: str
    scope: str
    theme: str
    icons: tuple[dict[str, str], ...]
    icon_url: str

    def manifest(self, lang: str) -> dict[str, object]:
        """The Web App Manifest (a JSON object) in language ``lang`` (BCP 47)."""
        return {
            "id": self.start_url, "name": self.name, "short_name": self.short_name,
            "description": self.description, "lang": lang, "dir": "ltr",
            "start_url": self.start_url, "scope": self.scope, "display": "standalone",
            "background_color": "#ffffff", "theme_color": self.theme, "icons": list(self.icons),
        }


@lru_cache(maxsize=64)
def _logo_bytes(key: str) -> bytes | None:
    """The stored logo ``key`` (content-hashed keys never change, so this is memoised)."""
    try:
        return default_storage().get(key)
    except StorageError:
        log.warning("pwa: logo %s could not be read", key)
        return None


def icon_source(tenant: Tenant) -> IconSource:
    """Where ``tenant``'s icons are drawn from: its logo, else its initial on Plaza's colour."""
    if tenant.logo_key:
        data = _logo_bytes(tenant.logo_key)
        if data:
            return logo_source(data)
    return letter_source(tenant.name)


def theme_colour(tenant: Tenant | None) -> str:
    """The business's brand colour (the logo's main colour) as ``#rrggbb``, else Plaza's."""
    if tenant is None or not tenant.logo_key:
        return PLAZA_COLOUR
    return brand_colour(_logo_bytes(tenant.logo_key)) or PLAZA_COLOUR


def tenant_icons(tenant: Tenant) -> tuple[dict[str, str], ...]:
    """``tenant``'s three manifest icon entries (192, 512, maskable 512), content-addressed URLs."""
    digest = icon_source(tenant).digest
    return tuple({"src": url_for("pwa.icon", digest=digest, variant=variant), "sizes": f"{side}x{side}",
                  "type": "image/png", "purpose": "maskable" if maskable else "any"}
                 for variant, (side, maskable) in VARIANTS.items())


def storefront_identity(tenant: Tenant) -> AppIdentity:
    """The business's storefront app (its own host, scope ``/``)."""
    icons = tenant_icons(tenant)
    return AppIdentity(name=tenant.name, short_name=tenant.name[:30], scope="/", start_url="/",
                       description=_("Book an appointment with %(business)s.", business=tenant.name),
                       theme=theme_colour(tenant), icons=icons, icon_url=icons[0]["src"])


def dashboard_identity(tenant: Tenant) -> AppIdentity:
    """The business's dashboard app for staff ("<business> · Plaza", scope ``/dashboard/``)."""
    icons = tenant_icons(tenant)
    return AppIdentity(name=f"{tenant.name} · Plaza", short_name=tenant.name[:30], scope="/dashboard/",
                       start_url="/dashboard/",
                       description=_("Bookings, customers and messages of %(business)s.", business=tenant.name),
                       theme=theme_colour(tenant), icons=icons, icon_url=icons[0]["src"])


def apex_identity() -> AppIdentity:
    """Plaza itself, on the apex."""
    icons = tuple({"src": url_for("static", filename=path), "sizes": sizes, "type": "image/png", "purpose": purpose}
                  for path, sizes, purpose in PLAZA_ICONS)
    return AppIdentity(name="Plaza", short_name="Plaza", scope="/", start_url="/",
                       description=_("Book local businesses, chat about your bookings and get notified."),
                       theme=PLAZA_COLOUR, icons=icons, icon_url=icons[0]["src"])


def identity_for(tenant: Tenant | None) -> AppIdentity:
    """The storefront app on a business's host, Plaza on the apex."""
    return storefront_identity(tenant) if tenant is not None else apex_identity()


def identity_revision(identity: AppIdentity) -> str:
    """A short hash of what the offline pages show of ``identity`` (name, colour, icon)."""
    return hashlib.sha256(f"{identity.name}|{identity.theme}|{identity.icon_url}".encode()).hexdigest()[:12]
