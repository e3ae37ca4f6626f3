"""Request bodies for the load tests: sellable solar leads, each a different person."""

from __future__ import annotations

import datetime as dt
import json
import random

FIRST = [
    "Maria",
    "James",
    "Linda",
    "Robert",
    "Patricia",
    "Michael",
    "Jennifer",
    "David",
    "Susan",
    "Daniel",
    "Karen",
    "Joseph",
    "Nancy",
    "Thomas",
    "Lisa",
    "Charles",
    "Betty",
    "Matthew",
    "Sandra",
    "Anthony",
    "Ashley",
    "Mark",
    "Donna",
    "Steven",
    "Emily",
    "Paul",
    "Michelle",
    "Andrew",
    "Carol",
    "Joshua",
    "Amanda",
    "Kevin",
    "Melissa",
    "Brian",
    "Deborah",
    "George",
    "Stephanie",
    "Edward",
]
LAST = [
    "Lopez",
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Torres",
    "Nguyen",
]
AREA_CODES = [
    "201",
    "202",
    "203",
    "205",
    "206",
    "207",
    "208",
    "209",
    "210",
    "212",
    "213",
    "214",
    "215",
    "216",
    "217",
    "218",
    "219",
    "224",
    "225",
    "228",
    "229",
    "231",
    "234",
    "239",
    "240",
    "248",
    "251",
    "252",
    "253",
    "254",
    "256",
    "260",
    "262",
    "267",
    "269",
    "270",
    "276",
    "281",
    "301",
    "302",
    "303",
    "304",
    "305",
    "307",
]


def _zips(seed: int) -> list[tuple[str, str]]:
    from bench.seed import STATES
    from exchange.regions import all_us_zips

    rng = random.Random(seed)
    states = {f"US-{s}" for s in STATES}
    zips = [(z.zip_code, z.region) for z in all_us_zips() if z.region in states]
    return rng.sample(zips, 2000)


def lead_bodies(count: int, seed: int = 1) -> list[str]:
    """`count` solar leads from all over the US that pass quality: unique e-mail, phone, IP."""
    rng = random.Random(seed)
    zips = _zips(seed)
    captured = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=30)).replace(microsecond=0)
    out = []
    for n in range(count):
        m = seed * 100_000 + n  # a different person for every (seed, n)
        first, last = rng.choice(FIRST), rng.choice(LAST)
        postal_code, _region = zips[n % len(zips)]
        area = AREA_CODES[m % len(AREA_CODES)]
        exchange = 234 + (m // len(AREA_CODES)) // 10000 % 600
        line = (m // len(AREA_CODES)) % 10000
        out.append(
            json.dumps(
                {
                    "niche": "solar",
                    "external_id": f"bench-{seed}-{n}",
                    "first_name": first,
                    "last_name": last,
                    "email": f"{first.lower()}.{last.lower()}.{seed}x{n}@gmail.com",
                    "phone": f"({area}) {exchange}-{line:04d}",
                    "country": "US",
                    "postal_code": postal_code,
                    "ip": f"{11 + m // 65536 % 200}.{m // 256 % 256}.{m % 256}.9",
                    "source": "google",
                    "form_seconds": 40 + n % 60,
                    "consent": {
                        "text": "I agree to be contacted about solar.",
                        "url": "https://solar.example.org/quote",
                        "captured_at": captured.isoformat(),
                    },
                    "fields": {
                        "homeowner": True,
                        "monthly_electric_bill": 120 + n % 200,
                        "roof_type": "asphalt",
                    },
                }
            )
        )
    return out


def ping_bodies(count: int, seed: int = 2) -> list[str]:
    """`count` solar pings (no personal data) from all over the US."""
    zips = _zips(seed)
    return [
        json.dumps(
            {
                "niche": "solar",
                "country": "US",
                "postal_code": zips[n % len(zips)][0],
                "fields": {"homeowner": True, "monthly_electric_bill": 150, "roof_type": "asphalt"},
            }
        )
        for n in range(count)
    ]
