"""The apex marketplace: the platform's read model of listed businesses (``marketplace_listing``),
search over it, and fair ranking. Never reads tenant tables at query time."""
