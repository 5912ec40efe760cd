"""Demo data: an org-wide lead pool and an East team pool around Shanghai, a few leads already
claimed and followed up (one close to recycling). Ids are derived from names, so running the
seed again adds nothing twice."""
import random
from datetime import UTC, datetime, timedelta

from fieldsales.extensions import db
from fieldsales.leads.models import Lead, LeadEvent, LeadFollowUp, LeadPool
from fieldsales.leads.rules import normalize_phone
from fieldsales.seeding import get_or_add, sid

CITY = (31.2304, 121.4737)
PEOPLE = ["Li Na", "Wang Lei", "Zhang Min", "Liu Yang", "Chen Jie", "Yang Fan", "Zhao Qiang",
          "Huang Li", "Zhou Tao", "Wu Xia", "Xu Bin", "Sun Hong"]
FIRMS = ["Jinqiao Foods", "Hengda Hardware", "Xinhua Printing", "Baolong Auto Parts",
         "Huamei Optics", "Ruifeng Textiles", "Dongfang Pharmacy", "Pudong Logistics",
         "Changning Bakery", "Minhang Furniture"]
SOURCES = ["expo", "website", "referral", "cold-call"]


def _lead(org, pool, n_pool, i, rng, now, seals):
    key = f"{pool.name}/{i}"
    # "Co." and a number unique across both pools: no lead takes a customer's company name or
    # another lead's (the duplicate guard would refuse it).
    fields = {"name": rng.choice(PEOPLE),
              "company": f"{rng.choice(FIRMS)} Co. #{n_pool * 100 + i + 1}",
              "address": f"{rng.randint(1, 999)} Lane {rng.randint(1, 200)}, Shanghai",
              "lat": round(CITY[0] + rng.uniform(-0.15, 0.15), 6),
              "lng": round(CITY[1] + rng.uniform(-0.18, 0.18), 6),
              "source": rng.choice(SOURCES), "tags": rng.sample(["hot", "new", "retail", "b2b"], 1)}
    existing = db.session.get(Lead, (org.id, sid("lead", key)))
    if existing is not None:
        return existing, False
    digits = f"13{(i * 7) % 10}{(i * 48271 + n_pool) % 10**8:08d}"  # distinct per (pool, i)
    phone = f"{digits[:3]} {digits[3:7]} {digits[7:]}"
    lead = Lead(
        id=sid("lead", key), org_id=org.id, pool_id=pool.id, **fields,
        phone=phone, phone_normalized=normalize_phone(phone),
        email=f"contact{i + 1}@{pool.name.split()[0].lower()}.example.com", status="pooled",
        follow_up_count=0, created_at=now - timedelta(days=30 - i % 20),
    )
    db.session.add(lead)
    _add_event(seals, lead, id=sid("event", key, "created"), at=lead.created_at,
               action="imported", actor_id=None)
    return lead, True


def _add_event(seals, lead, *, chain_user_id=None, **fields):
    """A ledger entry, to be sealed on `chain_user_id`'s audit chain (the admin's for imports)."""
    event = LeadEvent(org_id=lead.org_id, lead_id=lead.id, **fields)
    db.session.add(event)
    seals.append((lead, event, chain_user_id))


def _seal_events(seals, admin):
    from fieldsales.leads.ledger import seal_event

    for lead, event, chain_user_id in seals:
        seal_event(lead, event.action, event=event, user_id=chain_user_id or admin.id,
                   actor_id=event.actor_id, seed=True)


def _claim(lead, rep, claimed_at, follow_ups, seals):
    lead.status, lead.owner_id, lead.claimed_at = "claimed", rep.id, claimed_at
    _add_event(seals, lead, chain_user_id=rep.id, id=sid("event", str(lead.id), "claimed"),
               at=claimed_at, action="claimed", actor_id=rep.id, to_user_id=rep.id)
    for n, (days_after, method, note) in enumerate(follow_ups):
        at = claimed_at + timedelta(days=days_after)
        db.session.add(LeadFollowUp(id=sid("follow-up", str(lead.id), str(n)),
                                    org_id=lead.org_id, lead_id=lead.id, user_id=rep.id,
                                    method=method, note=note, created_at=at))
        _add_event(seals, lead, chain_user_id=rep.id,
                   id=sid("event", str(lead.id), "follow-up", str(n)), at=at,
                   action="followed_up", actor_id=rep.id)
        lead.last_follow_up_at = at
        lead.follow_up_count += 1


def seed_leads(context):
    """An org-wide pool of 60 leads and an East team pool of 20; reps hold a few."""
    org, teams, users = context["org"], context["teams"], context["users"]
    # Our own generator: the shared one's sequence stays the same for the seeders after us,
    # whether or not this run had anything to add.
    rng = random.Random(20261123)
    now = datetime.now(UTC).replace(microsecond=0)
    pools = [
        get_or_add(LeadPool, sid("pool", "open"), org_id=org.id, name="Shanghai open pool",
             team_id=None, holding_limit=20, daily_claim_limit=10, recycle_after_days=7,
             warn_before_days=1, cooldown_days=3),
        get_or_add(LeadPool, sid("pool", "east"), org_id=org.id, name="East team pool",
             team_id=teams["East"].id, holding_limit=10, daily_claim_limit=5,
             recycle_after_days=5, warn_before_days=1, cooldown_days=2),
    ]
    made, seals = [], []
    for n_pool, (pool, count) in enumerate(zip(pools, (60, 20), strict=True)):
        for i in range(count):
            lead, created = _lead(org, pool, n_pool, i, rng, now, seals)
            if created:
                made.append(lead)
    db.session.flush()
    if made:
        rep1 = users["rep1@demo.fieldsales.dev"]
        rep4 = users["rep4@demo.fieldsales.dev"]
        open_leads = [lead for lead in made if lead.pool_id == pools[0].id]
        _claim(open_leads[0], rep1, now - timedelta(days=2),
               [(1, "call", "Interested in a quote for 200 units; call back next week.")], seals)
        _claim(open_leads[1], rep1, now - timedelta(days=6, hours=12), [],  # recycle warning
               seals)
        _claim(open_leads[2], rep4, now - timedelta(days=3),
               [(0, "visit", "Met the buyer at the shop."),
                (2, "message", "Sent the catalogue on WeChat.")], seals)
        east = [lead for lead in made if lead.pool_id == pools[1].id]
        if east:
            _claim(east[0], users["rep2@demo.fieldsales.dev"], now - timedelta(days=1), [], seals)
        db.session.flush()
    _seal_events(seals, users["admin@demo.fieldsales.dev"])
    return f"seed: {len(pools)} lead pools, {len(made)} new leads"
