"""The words the demo's made-up sales team, customers and places are built from."""

from __future__ import annotations

from typing import Final

FIRST_NAMES: Final = (
    "Anna", "Ben", "Chloé", "David", "Elif", "Farid", "Greta", "Hiroshi", "Ines", "Jonas",
    "Kaja", "Luca", "Maya", "Nils", "Olga", "Pablo", "Quinn", "Rosa", "Sven", "Tomás",
    "Uma", "Viktor", "Wen", "Ximena", "Yusuf", "Zoe", "Aiko", "Bruno", "Carla", "Dmitri",
    "Emma", "Felix", "Hana", "Ivan", "Julia", "Kenji", "Lena", "Marco", "Noor", "Oskar",
)  # fmt: skip

LAST_NAMES: Final = (
    "Adler", "Berg", "Costa", "Dubois", "Eriksen", "Fischer", "García", "Hoffmann", "Ito",
    "Jansen", "Kowalski", "Lambert", "Müller", "Nakamura", "Olsen", "Petrov", "Quint",
    "Rossi", "Schmidt", "Tanaka", "Ullmann", "Vogel", "Weber", "Xu", "Yamada", "Zimmer",
    "Novák", "Silva", "Moreau", "Larsen", "Kaya", "Bauer", "Smith", "Brown", "Wilson",
)  # fmt: skip

COMPANY_WORDS: Final = (
    "Acme", "Brightside", "Lumen", "Northwind", "Polaris", "Solace", "Vertex", "Helios",
    "Aurora", "Beacon", "Crescent", "Delta", "Ember", "Fjord", "Granite", "Harbor",
    "Indigo", "Juniper", "Kestrel", "Lantern", "Meridian", "Nova", "Orchid", "Pioneer",
)  # fmt: skip

COMPANY_KINDS: Final = (
    "Lighting", "Hotels", "Retail", "Logistics", "Foods", "Clinics", "Offices", "Stores",
    "Facilities", "Warehousing", "Hospitality", "Property",
)  # fmt: skip

LEGAL_FORMS: Final = ("GmbH", "AG", "Ltd", "Inc.", "SA", "BV", "AB", "KK", "S.p.A.", "Pty Ltd")

INDUSTRIES: Final = (
    "retail", "hospitality", "healthcare", "logistics", "manufacturing", "education",
    "public_sector", "real_estate",
)  # fmt: skip

TITLES: Final = (
    "Facility Manager", "Head of Purchasing", "Operations Director", "CFO", "Store Manager",
    "Buyer", "Technical Lead", "Office Manager",
)  # fmt: skip

#: Lead sources, with how often each brings a lead (weights) and how well its leads
#: convert (the chance a lead of that source becomes a customer).
SOURCES: Final = (
    ("web", 34, 0.08),
    ("webinar", 14, 0.13),
    ("trade_show", 12, 0.10),
    ("referral", 8, 0.30),
    ("partner", 10, 0.18),
    ("cold_call", 14, 0.04),
    ("email_campaign", 8, 0.06),
)

LOST_REASONS: Final = ("price", "competitor", "no_budget", "no_decision", "timing", "other")
