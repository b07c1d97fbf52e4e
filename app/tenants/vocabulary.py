"""The curated lists a business profile chooses from: languages spoken (BCP 47 primary tags),
amenities (codes with labels), and the social networks it may link to."""

from __future__ import annotations

#: BCP 47 tag -> name shown (English name, then the language's own name when it differs).
LANGUAGES: dict[str, str] = {
    "en": "English", "da": "Danish (dansk)", "de": "German (Deutsch)", "sv": "Swedish (svenska)",
    "nb": "Norwegian (norsk bokmål)", "fr": "French (français)", "es": "Spanish (español)",
    "it": "Italian (italiano)", "pt": "Portuguese (português)", "nl": "Dutch (Nederlands)",
    "pl": "Polish (polski)", "uk": "Ukrainian (українська)", "ru": "Russian (русский)",
    "tr": "Turkish (Türkçe)", "ar": "Arabic (العربية)", "fa": "Persian (فارسی)", "ur": "Urdu (اردو)",
    "hi": "Hindi (हिन्दी)", "bn": "Bengali (বাংলা)", "zh": "Chinese (中文)", "ja": "Japanese (日本語)",
    "ko": "Korean (한국어)", "vi": "Vietnamese (Tiếng Việt)", "so": "Somali (Soomaali)",
}

#: Amenity code -> label.
AMENITIES: dict[str, str] = {
    "wheelchair": "Wheelchair accessible", "wifi": "Free Wi-Fi", "parking": "Parking",
    "card": "Card payments", "mobilepay": "Mobile payments", "kids": "Child-friendly",
    "pets": "Pets welcome", "toilet": "Toilet", "drinks": "Free drinks",
    "air-conditioning": "Air conditioning", "transit": "Near public transport", "home-visits": "Comes to you",
}

#: Social network -> (label, hosts its links may point to; empty for any host).
SOCIAL_NETWORKS: dict[str, tuple[str, tuple[str, ...]]] = {
    "instagram": ("Instagram", ("instagram.com", "www.instagram.com")),
    "facebook": ("Facebook", ("facebook.com", "www.facebook.com", "m.facebook.com", "fb.com")),
    "tiktok": ("TikTok", ("tiktok.com", "www.tiktok.com")),
    "website": ("Website", ()),
}


def language_names(tags: list[str]) -> list[str]:
    """The names of ``tags`` (unknown tags as given), in the order of :data:`LANGUAGES`."""
    order = list(LANGUAGES)
    return [LANGUAGES.get(t, t) for t in sorted(tags, key=lambda t: order.index(t) if t in order else len(order))]


def amenity_labels(codes: list[str]) -> list[tuple[str, str]]:
    """``(code, label)`` of ``codes`` that are known, in the order of :data:`AMENITIES`."""
    return [(code, label) for code, label in AMENITIES.items() if code in codes]
