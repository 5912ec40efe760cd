"""POST /lead-pools/{id}/distribute: each strategy's fairness over 1,000 leads, the holding
limit, the ledger, the refusals, and distributing while reps claim."""
from collections import Counter

from sqlalchemy import func, select

from fieldsales.leads.models import Lead, LeadEvent, LeadHolding
from tests import factories
from tests.conftest import ApiClient, run_threads
from tests.factories import leads as lf


def _pool(strategy, n_reps=4, holding_limit=1000, tags=None, levels=None, n_leads=1000,
          lead_tags=None):
    org = factories.org()
    team = factories.team(org)
    manager = factories.user(org, "manager", team)
    reps = [factories.user(org, "rep", team) for _ in range(n_reps)]
    for i, rep in enumerate(reps):
        rep.tags = (tags or {}).get(i, [])
        rep.level = (levels or {}).get(i)
        factories._save(rep)
    factories.user(org, "rep", team, active=False)  # never a recipient
    pool = lf.pool(org, team, holding_limit=holding_limit, assignment={"strategy": strategy})
    leads = [lf.lead(org, pool, tags=(lead_tags(n) if lead_tags else []))
             for n in range(n_leads)]
    return org, manager, reps, pool, leads


def _distribute(app, manager, pool, **body):
    return ApiClient(app, manager).post(f"/api/v1/lead-pools/{pool.id}/distribute", json=body)


def _shares(response):
    return Counter(item["user_id"] for item in response.json["assigned"])


def test_round_robin_gives_1000_leads_in_turn_and_resumes_where_it_stopped(app, committed):
    org, manager, reps, pool, leads = _pool("round_robin", n_reps=3)
    first = _distribute(app, manager, pool, count=500)
    assert first.status_code == 200, first.json
    order = [item["user_id"] for item in first.json["assigned"]]
    ids = sorted(str(rep.id) for rep in reps)
    assert order[:6] == ids + ids  # in turn, by id
    second = _distribute(app, manager, pool, count=500)
    # The second call goes on after the rep the first one ended with.
    assert second.json["assigned"][0]["user_id"] == ids[(ids.index(order[-1]) + 1) % 3]
    total = _shares(first) + _shares(second)
    assert sorted(total.values()) == [333, 333, 334]
    assigned = [item["lead_id"] for r in (first, second) for item in r.json["assigned"]]
    assert len(assigned) == len(set(assigned)) == 1000
    # Oldest first.
    assert assigned[:3] == [str(lead.id) for lead in sorted(
        leads, key=lambda x: (x.created_at, x.id))[:3]]


def test_load_balance_evens_out_what_reps_already_hold(app, committed):
    org, manager, reps, pool, leads = _pool("load_balance", n_reps=4, n_leads=1000)
    for _ in range(100):
        lf.lead(org, pool, owner=reps[0], status="claimed")
    r = _distribute(app, manager, pool)
    assert r.status_code == 200
    shares = _shares(r)
    # 1,100 held in all: 275 each, rep 0 already had 100 of them.
    assert shares[str(reps[0].id)] == 175
    assert sorted(shares[str(rep.id)] for rep in reps[1:]) == [275, 275, 275]
    held = dict(committed.execute(select(LeadHolding.user_id, LeadHolding.holding).where(
        LeadHolding.pool_id == pool.id)).all())
    assert sorted(held[rep.id] for rep in reps) == [275, 275, 275, 275]


def test_tag_match_sends_each_lead_to_the_rep_sharing_its_tags(app, committed):
    tags = {0: ["hotel"], 1: ["hotel", "vip"], 2: ["factory"], 3: []}
    lead_tags = lambda n: [["hotel"], ["hotel", "vip"], ["factory"], ["school"]][n % 4]  # noqa: E731
    org, manager, reps, pool, leads = _pool("tag_match", tags=tags, levels={0: 5},
                                             lead_tags=lead_tags)
    r = _distribute(app, manager, pool)
    assert r.status_code == 200
    by_lead = {item["lead_id"]: item["user_id"] for item in r.json["assigned"]}
    got = Counter((tuple(lead.tags), by_lead.get(str(lead.id))) for lead in leads)
    rep = [str(x.id) for x in reps]
    # hotel: reps 0 and 1 share one tag each, the level-5 rep 0 wins the ties until it holds
    # more, then they alternate (fewer held first).
    hotel = {who: n for (t, who), n in got.items() if t == ("hotel",)}
    assert sum(hotel.values()) == 250 and set(hotel) <= {rep[0], rep[1]}
    assert abs(hotel.get(rep[0], 0) - (hotel.get(rep[1], 0) + got[(("hotel", "vip"), rep[1])])) <= 1
    assert got[(("hotel", "vip"), rep[1])] == 250  # two shared tags beat one
    assert got[(("factory",), rep[2])] == 250
    assert got[(("school",), None)] == 250  # nobody shares it: stays pooled
    assert rep[3] not in by_lead.values()


def test_distribution_never_passes_a_holding_limit(app, committed):
    org, manager, reps, pool, leads = _pool("round_robin", n_reps=3, holding_limit=5,
                                            n_leads=30)
    lf.lead(org, pool, owner=reps[0], status="claimed")
    lf.lead(org, pool, owner=reps[0], status="claimed")
    r = _distribute(app, manager, pool)
    assert r.status_code == 200
    assert sorted(_shares(r).values()) == [3, 5, 5]
    again = _distribute(app, manager, pool)
    assert again.status_code == 422 and again.json["error"] == "holding_limit_reached"


def test_every_distributed_lead_is_in_the_ledger(app, committed):
    org, manager, reps, pool, leads = _pool("load_balance", n_leads=40)
    r = _distribute(app, manager, pool, count=25)
    assert len(r.json["assigned"]) == 25
    events = committed.scalars(select(LeadEvent).where(LeadEvent.org_id == org.id,
                                                       LeadEvent.action == "assigned")).all()
    assert {(str(e.lead_id), str(e.to_user_id)) for e in events} == {
        (item["lead_id"], item["user_id"]) for item in r.json["assigned"]}
    assert {e.reason for e in events} == {"distribute:load_balance"}


def test_distributing_while_reps_claim_and_twice_at_once_gives_each_lead_once(app, committed):
    org, manager, reps, pool, leads = _pool("round_robin", n_reps=4, holding_limit=50,
                                            n_leads=120)
    mgr = ApiClient(app, manager)
    claimers = [ApiClient(app, rep) for rep in reps]

    def act(i):
        if i < 2:
            return mgr.post(f"/api/v1/lead-pools/{pool.id}/distribute", json={"count": 40})
        return claimers[i % 4].post(f"/api/v1/lead-pools/{pool.id}/claim-next", json={})

    results = run_threads(10, act)
    assert all(r.status_code == 200 for r in results), [r.json for r in results]
    committed.expire_all()
    owners = Counter(committed.scalars(select(Lead.owner_id).where(
        Lead.pool_id == pool.id, Lead.status == "claimed")).all())
    handed = sum(len(r.json["assigned"]) for r in results[:2])
    assert sum(owners.values()) == handed + 8 and handed == 80
    for rep in reps:
        held = committed.scalar(select(LeadHolding.holding).where(
            LeadHolding.pool_id == pool.id, LeadHolding.user_id == rep.id))
        assert held == owners[rep.id]


def test_refusals(app, committed):
    org, manager, reps, pool, leads = _pool("claim", n_leads=2)
    r = _distribute(app, manager, pool)
    assert r.status_code == 409 and r.json["error"] == "distribution_off"
    empty = lf.pool(org, None, assignment={"strategy": "round_robin"})
    admin = factories.user(org, "admin")
    r = ApiClient(app, admin).post(f"/api/v1/lead-pools/{empty.id}/distribute", json={})
    assert r.status_code == 404 and r.json["error"] == "pool_empty"
    r = ApiClient(app, reps[0]).post(f"/api/v1/lead-pools/{pool.id}/distribute", json={})
    assert r.status_code == 403
    for body in ({"count": 0}, {"count": 1001}, {"count": "x"}, {"extra": 1}):
        assert _distribute(app, manager, pool, **body).status_code == 422
    nobody = factories.team(org)
    lonely = lf.pool(org, nobody, assignment={"strategy": "load_balance"})
    lf.lead(org, lonely)
    r = ApiClient(app, admin).post(f"/api/v1/lead-pools/{lonely.id}/distribute", json={})
    assert r.status_code == 422 and r.json["error"] == "no_recipients"
    assert committed.scalar(select(func.count()).select_from(LeadEvent).where(
        LeadEvent.org_id == org.id)) == 0


def test_pool_assignment_is_set_and_validated_through_the_api(api, world):
    admin = api.as_(world.admin)
    r = admin.post("/api/v1/lead-pools", json={"name": "RR", "assignment": {
        "strategy": "round_robin"}})
    assert r.status_code == 201 and r.json["assignment"] == {"strategy": "round_robin"}
    pool_id = r.json["id"]
    r = admin.patch(f"/api/v1/lead-pools/{pool_id}", json={"assignment": {"strategy": "x"}})
    assert r.status_code == 422
    r = admin.patch(f"/api/v1/lead-pools/{pool_id}", json={"assignment": {
        "strategy": "tag_match"}})
    assert r.json["assignment"] == {"strategy": "tag_match"}
    r = admin.patch(f"/api/v1/users/{world.rep_east.id}", json={"tags": ["hotel"], "level": 3})
    assert (r.json["tags"], r.json["level"]) == (["hotel"], 3)
    assert admin.patch(f"/api/v1/users/{world.rep_east.id}",
                       json={"level": 11}).status_code == 422
