"""Demo visits: the last three local days for every demo rep, a few of them flagged.

Written through the same service functions as the API (so distances, flags and the audit
chain are real), with deterministic ids (fieldsales.seeding.sid), so running the seed again adds
nothing for days it already filled.
"""
import math
import random
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from fieldsales.extensions import db
from fieldsales.scope import Principal
from fieldsales.visits import service
from fieldsales.visits.models import Visit

SLOTS = (time(9, 30), time(11, 0), time(14, 0), time(15, 45))
DAYS = 3


def _near(lat, lng, metres, rng):
    bearing = rng.uniform(0, 2 * math.pi)
    return (lat + metres * math.cos(bearing) / 111_320,
            lng + metres * math.sin(bearing) / (111_320 * math.cos(math.radians(lat))))


def seed_visits(context) -> str:
    """Seeder for fieldsales.seed.SEEDERS."""
    from fieldsales.seeding import sid

    org, customers = context["org"], context["customers"]
    made = 0
    reps = [u for u in context["users"].values() if u.role == "rep"]
    for rep in reps:
        principal = Principal.for_user(rep, org_timezone=org.timezone)
        tz = ZoneInfo(principal.timezone)  # the rep's local days, as its reports count them
        today = datetime.now(tz).date()
        mine = [c for c in customers if c.owner_id == rep.id and c.lat is not None]
        for back in range(DAYS, 0, -1):
            day = today - timedelta(days=back)
            rng = random.Random(f"{rep.email}/{day.isoformat()}")
            for slot, start in enumerate(SLOTS):
                visit_id = sid("visit", rep.email, day.isoformat(), str(slot))
                if db.session.get(Visit, (org.id, visit_id)) is not None:
                    continue
                made += _one_visit(principal, visit_id, rng.choice(mine),
                                   datetime.combine(day, start, tz), rng,
                                   last=slot == len(SLOTS) - 1)
    return f"seed: {made} demo visits"


def _one_visit(principal, visit_id, customer, start, rng, last=False) -> int:
    twist = rng.random()  # a few visits carry the flags managers should see
    accuracy = 150.0 if twist < 0.08 else round(rng.uniform(5, 40), 1)
    distance = 450 if 0.08 <= twist < 0.16 else rng.uniform(5, 60)
    lat, lng = _near(customer.lat, customer.lng, distance, rng)
    arrive = start + timedelta(minutes=rng.randint(-10, 10))
    visit, _ = service.check_in(principal=principal, received_at=arrive + timedelta(seconds=20),
                                data={"id": visit_id, "customer_id": customer.id,
                                      "purpose": rng.choice(["Order review", "New catalogue",
                                                             "Payment follow-up", "Demo"]),
                                      "location": {"lat": lat, "lng": lng,
                                                   "accuracy_m": accuracy, "provider": "fused"},
                                      "device_time": arrive,
                                      "mock_location": 0.16 <= twist < 0.2})
    if 0.2 <= twist < 0.26 and not last:  # forgot to check out: the next check-in closes it
        return 1
    minutes = 1 if 0.26 <= twist < 0.32 else rng.randint(20, 70)
    leave = arrive + timedelta(minutes=minutes)
    out_lat, out_lng = _near(customer.lat, customer.lng, rng.uniform(5, 50), rng)
    service.check_out(principal=principal, visit_id=visit.id, received_at=leave,
                      data={"location": {"lat": out_lat, "lng": out_lng,
                                         "accuracy_m": round(rng.uniform(5, 30), 1),
                                         "provider": "fused"},
                            "device_time": leave, "mock_location": False,
                            "summary": rng.choice(["Took a new order.", "Left samples.",
                                                   "Owner away; spoke to the buyer.",
                                                   "Agreed on next steps."]),
                            "outcome": rng.choice(["order", "follow_up", "no_interest"])})
    return 1
