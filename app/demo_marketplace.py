"""Demo marketplace (``flask seed-demo``): sixty businesses over Copenhagen, London and New York,
so that a search near any of the three cities looks like a real marketplace.

Every business is generated deterministically from its index (:func:`marketplace_specs`): a
category of the platform taxonomy, a name, an owner login (``owner@<slug>.test``, the demo
password), an address in a real neighbourhood with a point near its centre, a phone number from
the ranges set aside for fiction (Ofcom's 020 7946 0xxx, NANP's 555-01xx), one to three staff
members with working hours, a menu of services priced in the local currency, languages,
amenities, social links, a logo and a cover picture drawn with Pillow, and a plan (every tier
is represented). Businesses that travel to the customer (cleaning, handyman, plumbing,
electrician, pet care) get a service radius. Their calendars are filled like the two main demo
businesses' (:func:`app.demo.fill_demo_bookings`), which gives reviews completed visits to be
about. Existing businesses (by slug) are left alone. Flushes; the CLI command commits.
"""

from __future__ import annotations

import hashlib
import io
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import time

import sqlalchemy as sa
from PIL import Image, ImageDraw

from app.billing.models import BillingSubscription
from app.catalog.service import create_service, create_staff_member, set_working_hours
from app.community.posts import create_post
from app.extensions import db
from app.identity.service import create_user, find_user, hash_password
from app.storage.images import prepare_logo, prepare_photo, store_logo, store_photo
from app.storage.local import default_storage
from app.tenants.context import tenant_scope
from app.tenants.models import Role, Tenant
from app.tenants.service import add_membership, create_tenant
from app.timeutil import utcnow

#: Businesses per city.
PER_CITY = 20


@dataclass(frozen=True)
class City:
    """A demo city: its zone, currency, country, price factor against USD and neighbourhoods as
    (name, postcode, latitude, longitude) in WGS 84 degrees."""

    name: str
    timezone: str
    currency: str
    country: str
    price_factor: float
    streets: tuple[str, ...]
    areas: tuple[tuple[str, str, float, float], ...]


CITIES: tuple[City, ...] = (
    City("København", "Europe/Copenhagen", "DKK", "DK", 7.0,
         ("Nørrebrogade", "Istedgade", "Østerbrogade", "Gammel Kongevej", "Vesterbrogade", "Amagerbrogade",
          "Jægersborggade", "Blågårdsgade", "Valby Langgade", "Torvegade"),
         (("Nørrebro", "2200", 55.6940, 12.5490), ("Vesterbro", "1620", 55.6680, 12.5460),
          ("Østerbro", "2100", 55.7070, 12.5770), ("Frederiksberg", "2000", 55.6786, 12.5320),
          ("Indre By", "1165", 55.6800, 12.5750), ("Amager", "2300", 55.6600, 12.6000),
          ("Valby", "2500", 55.6620, 12.5160), ("Christianshavn", "1401", 55.6730, 12.5930))),
    City("London", "Europe/London", "GBP", "GB", 0.8,
         ("Brick Lane", "Camden High Street", "Coldharbour Lane", "Upper Street", "Old Compton Street",
          "Clapham High Street", "Mare Street", "Portobello Road", "Trafalgar Road", "Westferry Road"),
         (("Shoreditch", "E1 6QL", 51.5245, -0.0780), ("Camden", "NW1 8AB", 51.5390, -0.1426),
          ("Brixton", "SW2 1RW", 51.4613, -0.1156), ("Islington", "N1 0PB", 51.5362, -0.1033),
          ("Soho", "W1D 4HS", 51.5136, -0.1365), ("Clapham", "SW4 7UL", 51.4620, -0.1380),
          ("Hackney", "E8 4RU", 51.5450, -0.0553), ("Notting Hill", "W11 1LJ", 51.5090, -0.2060),
          ("Greenwich", "SE10 9JL", 51.4826, -0.0077), ("Canary Wharf", "E14 8JP", 51.5054, -0.0235))),
    City("New York", "America/New_York", "USD", "US", 1.0,
         ("W 23rd St", "E 7th St", "8th Ave", "Bleecker St", "W 57th St", "Amsterdam Ave", "Bedford Ave",
          "5th Ave", "Montague St", "Malcolm X Blvd"),
         (("Chelsea", "10001", 40.7506, -73.9972), ("East Village", "10003", 40.7318, -73.9893),
          ("West Village", "10014", 40.7340, -74.0060), ("Midtown", "10019", 40.7655, -73.9856),
          ("Upper West Side", "10025", 40.7988, -73.9665), ("Williamsburg", "11211", 40.7121, -73.9533),
          ("Park Slope", "11215", 40.6710, -73.9860), ("Brooklyn Heights", "11201", 40.6948, -73.9903),
          ("Harlem", "10027", 40.8116, -73.9531))),
)

#: category slug -> (name patterns, services as (name, minutes, price in USD), travels to the customer).
#: ``{w}`` in a pattern is replaced by a word of :data:`WORDS`, ``{a}`` by the neighbourhood.
CATEGORY_MENUS: dict[str, tuple[tuple[str, ...], tuple[tuple[str, int, int], ...], bool]] = {
    "hair": (("{w} Hair Studio", "Salon {w}", "{a} Hair Lounge"),
             (("Women's haircut", 60, 75), ("Men's haircut", 30, 40), ("Full colour", 120, 160),
              ("Highlights", 90, 130), ("Blow-dry", 30, 35)), False),
    "barber": (("{w} Barbers", "The {a} Barber", "{w} Fade Co."),
               (("Haircut", 30, 32), ("Skin fade", 40, 38), ("Beard trim", 20, 20), ("Hot towel shave", 30, 35),
                ("Cut & beard", 50, 50)), False),
    "nails": (("{w} Nails", "Nail Bar {a}", "{w} Manicure"),
              (("Manicure", 40, 35), ("Gel polish", 45, 45), ("Pedicure", 50, 50), ("Nail art", 60, 60)), False),
    "beauty": (("{w} Beauty", "{a} Skin Clinic", "Studio {w}"),
               (("Facial", 60, 85), ("Brow shaping", 20, 25), ("Lash lift", 45, 65), ("Waxing, legs", 40, 45)),
               False),
    "massage": (("{w} Massage", "{a} Bodywork", "{w} Spa"),
                (("Swedish massage, 60 min", 60, 90), ("Deep tissue, 60 min", 60, 100),
                 ("Back & neck, 30 min", 30, 55), ("Hot stone, 90 min", 90, 140)), False),
    "cleaning": (("{w} Cleaning", "Sparkle {a}", "{w} Home Care"),
                 (("Standard clean, 2 h", 120, 90), ("Deep clean, 4 h", 240, 200), ("Move-out clean", 300, 260),
                  ("Window cleaning", 90, 70)), True),
    "handyman": (("{w} Handyman", "{a} Fix-It", "{w} Repairs"),
                 (("Handyman hour", 60, 70), ("Furniture assembly", 120, 120), ("Wall mounting", 60, 85),
                  ("Door repair", 60, 80)), True),
    "plumbing": (("{w} Plumbing", "{a} Plumbers", "{w} Pipe & Drain"),
                 (("Call-out & first hour", 60, 120), ("Unblock a drain", 60, 110), ("Tap replacement", 90, 150),
                  ("Boiler check", 60, 95)), True),
    "electrician": (("{w} Electric", "{a} Electricians", "{w} Sparks"),
                    (("Call-out & first hour", 60, 120), ("Socket installation", 60, 90),
                     ("Light fitting", 60, 85), ("Safety inspection", 120, 180)), True),
    "consulting": (("{w} Advisory", "{a} Business Clinic", "{w} Partners"),
                   (("Intro call", 30, 0), ("Strategy session", 90, 250), ("Tax review", 60, 180)), False),
    "tutoring": (("{w} Tutors", "{a} Learning", "{w} Academy"),
                 (("Maths lesson", 60, 55), ("Language lesson", 60, 50), ("Exam prep, 90 min", 90, 80)), False),
    "pet-care": (("{w} Pets", "{a} Dog Grooming", "{w} Paws"),
                 (("Dog groom, small", 60, 55), ("Dog groom, large", 90, 85), ("Nail clip", 15, 15),
                  ("Dog walk, 1 h", 60, 25)), True),
}
#: Categories in the order businesses are dealt them (hair and barbers are the most common).
CATEGORY_CYCLE = ("hair", "barber", "nails", "beauty", "massage", "cleaning", "handyman", "barber", "hair",
                  "plumbing", "electrician", "pet-care", "tutoring", "consulting", "hair", "beauty", "barber",
                  "massage", "nails", "cleaning")
WORDS = ("Nordic", "Golden", "Urban", "Maple", "Harbour", "Velvet", "Copper", "Linden", "Juniper", "Cedar",
         "Birch", "Indigo", "Saffron", "Olive", "Marble", "Willow", "Amber", "Fjord", "Thistle", "Hudson")
FIRST_NAMES = ("Anna", "Jonas", "Priya", "Marcus", "Lea", "Omar", "Chloe", "Lucas", "Sara", "Ben", "Nina",
               "Theo", "Maya", "Ravi", "Eva", "Sam")
LANGUAGES = {"DK": ["da", "en"], "GB": ["en"], "US": ["en"]}
EXTRA_LANGUAGES = ("de", "es", "pl", "ar", "fr", "sv")
AMENITIES = ("wifi", "wheelchair", "card", "parking", "kids", "drinks")
#: Plans dealt in rotation: every tier is represented in every city.
PLAN_CYCLE = ("free", "pro", "free", "premium", "free", "pro", "free")
#: News posts by category (``{area}``: the neighbourhood); two thirds of the businesses publish one or two.
POSTS: dict[str, tuple[str, ...]] = {
    "hair": ("New this month: balayage appointments on Thursday evenings.", "We're hiring a junior stylist in {area}!"),
    "barber": ("Walk-ins welcome before noon on weekdays.", "Beard oil restocked: ask at the chair."),
    "nails": ("Winter colours are in: deep reds and glitter tips.", "Gift cards now available in the studio."),
    "beauty": ("Lash lifts are back with our new specialist.", "Skin consultation free with any facial this month."),
    "massage": ("Hot stone sessions now on Sundays.", "Tip from our therapists: stretch your neck every hour."),
    "cleaning": ("Spring-clean slots for March are open.", "We now use only eco-certified products."),
    "handyman": ("Shelves, TVs, curtain rails: book a 1-hour slot and we do them all.", "Now covering all of {area}."),
    "plumbing": ("Frozen pipes? Call us before it gets worse.", "Boiler checks before winter: book early."),
    "electrician": ("EV charger installations now available.", "Free safety check with any rewiring job."),
    "consulting": ("New: 30-minute intro calls, free of charge.", "Our notes from this year's small-business survey."),
    "tutoring": ("Exam prep groups start next month.", "New Spanish tutor joining the team."),
    "pet-care": ("Puppy's first groom: gentle and quick.", "Dog walks now on weekends too."),
}
#: Fill colours (RGB) of the generated pictures.
PALETTE = ((214, 92, 69), (46, 134, 171), (94, 140, 49), (143, 82, 161), (224, 159, 62), (52, 73, 94),
           (200, 80, 120), (38, 166, 154))


@dataclass
class MarketplaceSpec:
    """One generated demo business. Money in minor units of ``city.currency``; points in degrees."""

    index: int
    slug: str
    name: str
    category: str
    city: City
    area: str
    postcode: str
    address_line: str
    latitude: float
    longitude: float
    phone: str
    plan: str
    travels: bool
    staff: list[str] = field(default_factory=list)
    services: list[tuple[str, int, int]] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    amenities: list[str] = field(default_factory=list)


def _price(usd: int, factor: float) -> int:
    """A list price in minor units: ``usd`` converted with ``factor``, rounded to a friendly 5."""
    major = usd * factor
    step = 5 if major >= 20 else 1
    return int(round(major / step) * step) * 100


def _phone(country: str, n: int) -> str:
    """A number from the ranges reserved for drama/fiction (DK: an unallocated 3x series)."""
    if country == "GB":
        return f"+44207946{n % 1000:04d}"[:13]
    if country == "US":
        return f"+1212555{100 + n % 100:04d}"
    return f"+4538{n % 1000000:06d}"


def marketplace_specs() -> Iterator[MarketplaceSpec]:
    """The :data:`PER_CITY` businesses of every city in :data:`CITIES`, deterministically."""
    for c, city in enumerate(CITIES):
        for i in range(PER_CITY):
            n = c * PER_CITY + i
            rng = random.Random(f"plaza-demo-{n}")
            category = CATEGORY_CYCLE[i % len(CATEGORY_CYCLE)]
            patterns, menu, travels = CATEGORY_MENUS[category]
            area, postcode, lat, lon = city.areas[i % len(city.areas)]
            name = patterns[n % len(patterns)].format(w=WORDS[(n * 7) % len(WORDS)], a=area)
            slug = ("demo-" + "-".join(name.lower().replace("&", "and").replace(".", "").replace("'", "")
                                       .replace("ø", "o").replace("å", "a").replace("æ", "ae").split()))[:36]
            spec = MarketplaceSpec(
                index=n, slug=f"{slug}-{n}"[:40], name=name, category=category, city=city, area=area,
                postcode=postcode, address_line=f"{city.streets[i % len(city.streets)]} {rng.randint(2, 180)}",
                latitude=round(lat + rng.uniform(-0.006, 0.006), 6), longitude=round(lon + rng.uniform(-0.009, 0.009), 6),
                phone=_phone(city.country, n * 37 + 11), plan=PLAN_CYCLE[n % len(PLAN_CYCLE)], travels=travels)
            spec.staff = [f"{FIRST_NAMES[(n + k * 5) % len(FIRST_NAMES)]}" for k in range(1 + n % 3)]
            count = rng.randint(3, len(menu))
            spec.services = [(s, minutes, _price(usd, city.price_factor)) for s, minutes, usd in menu[:count]]
            spec.languages = LANGUAGES[city.country] + ([rng.choice(EXTRA_LANGUAGES)] if rng.random() < 0.4 else [])
            spec.amenities = sorted(rng.sample(AMENITIES, rng.randint(2, 4)))
            yield spec


def _hours(spec: MarketplaceSpec) -> dict[int, list[tuple[time, time]]]:
    """Opening hours by weekday (0 = Monday): trades start early, salons open late on Thursdays."""
    if spec.travels:
        return {d: [(time(8), time(16))] for d in range(5)}
    late = {3: [(time(10), time(20))]}
    weekdays = {d: [(time(9 + spec.index % 2), time(17 + spec.index % 2))] for d in range(5)}
    return weekdays | late | ({5: [(time(10), time(15))]} if spec.index % 3 else {})


def picture(spec: MarketplaceSpec, *, width: int, height: int, initials: bool) -> bytes:
    """A PNG drawn for ``spec``: a colour field with stripes (a cover), or with its initials (a logo)."""
    colour = PALETTE[int(hashlib.sha256(spec.slug.encode()).hexdigest(), 16) % len(PALETTE)]
    image = Image.new("RGB", (width, height), colour)
    draw = ImageDraw.Draw(image)
    light = tuple(min(255, c + 40) for c in colour)
    for x in range(-height, width, max(24, width // 12)):
        draw.line([(x, height), (x + height, 0)], fill=light, width=max(4, width // 60))
    if initials:
        letters = "".join(w[0] for w in spec.name.split()[:2]).upper()
        draw.ellipse([width * 0.15, height * 0.15, width * 0.85, height * 0.85], fill=(255, 255, 255))
        draw.text((width / 2, height / 2), letters, fill=colour, anchor="mm", font_size=width // 4)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _create(spec: MarketplaceSpec, password_hash: str) -> Tenant:
    """Create the business of ``spec`` with its owner (whose password hash is ``password_hash``),
    staff, services, hours, profile, logo and plan."""
    email = f"owner@{spec.slug}.test"
    owner = find_user(email)
    if owner is None:
        owner = create_user(email, None, f"{spec.name} owner")
        owner.password_hash = password_hash  # one Argon2 hash for the sixty demo owners
    owner.email_verified_at = owner.email_verified_at or utcnow()
    tenant = create_tenant(name=spec.name, slug=spec.slug, timezone=spec.city.timezone,
                           currency=spec.city.currency, owner=owner, category_slug=spec.category)
    tenant.address_line, tenant.postcode, tenant.city = spec.address_line, spec.postcode, spec.city.name
    tenant.latitude, tenant.longitude, tenant.phone = spec.latitude, spec.longitude, spec.phone
    tenant.public_email = f"hello@{spec.slug}.test"
    tenant.description = (f"{spec.name} in {spec.area}: friendly, on time and fairly priced. "
                          f"Book online in a minute, or call us.")
    tenant.languages, tenant.amenities = spec.languages, spec.amenities
    tenant.social_links = {"instagram": f"https://instagram.com/{spec.slug.removeprefix('demo-')}"}
    tenant.service_radius_km = 8 + spec.index % 12 if spec.travels else None
    storage = default_storage()
    tenant.logo_key = store_logo(storage, tenant.id, prepare_logo(
        picture(spec, width=256, height=256, initials=True), max_bytes=2_000_000))
    tenant.cover_key = store_photo(storage, tenant.id, prepare_photo(
        picture(spec, width=1200, height=400, initials=False), max_bytes=5_000_000), "cover")
    with tenant_scope(tenant.id):
        staff_ids = []
        for i, name in enumerate(spec.staff):
            staff = create_staff_member(name=name, bio="", position=i)
            set_working_hours(staff.id, _hours(spec))
            staff_ids.append(staff.id)
        add_membership(owner, Role.OWNER, staff_ids[0])
        for i, (name, minutes, price) in enumerate(spec.services):
            create_service(name=name, description="", category="", duration_minutes=minutes, price_amount=price,
                           currency=spec.city.currency, buffer_before_minutes=0,
                           buffer_after_minutes=15 if spec.travels else 5, staff_ids=staff_ids, position=i)
        for body in POSTS[spec.category][: 1 + spec.index % 2] if spec.index % 3 != 2 else ():
            create_post(body.format(area=spec.area), author_user_id=owner.id)
        if spec.plan != "free":
            db.session.add(BillingSubscription(stripe_customer_id=f"cus_demo_{uuid.uuid5(uuid.NAMESPACE_DNS, spec.slug).hex[:14]}",
                                               status="active", plan=spec.plan))
        db.session.flush()
    return tenant


def seed_marketplace(password: str) -> list[Tenant]:
    """Create the demo marketplace businesses that do not exist yet (by slug); returns every one of
    them, new or old, so the caller can fill their calendars. Flushes."""
    specs = list(marketplace_specs())
    existing = {t.slug: t for t in db.session.scalars(
        sa.select(Tenant).where(Tenant.slug.in_([s.slug for s in specs])))}
    password_hash = hash_password(password) if len(existing) < len(specs) else ""
    return [existing.get(spec.slug) or _create(spec, password_hash) for spec in specs]
