"""Progress of won_amount (won projects' amounts by won_at, the owner's) and collected_amount
(payments by received_on, the contract owner's), against hand-built data: local days, cents,
reopened and lost projects, and a rep moving team mid-period."""
from datetime import UTC, date, datetime

from tests import factories
from tests.factories import deals
from tests.factories import targets as tf

PROGRESS = "/api/v1/targets/progress"


def at(text):
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _achieved(api, user, metric):
    out, stack = {}, list(api.as_(user).get(f"{PROGRESS}?metric={metric}").json)
    while stack:
        e = stack.pop()
        out[e["target"]["subject"]["id"]] = e["achieved"]
        stack.extend(e["children"])
    return out


def test_won_amount_by_the_owners_local_day(api, world):
    w = world
    shop = factories.customer(w.org, w.rep_east)
    won = dict(stage="won")
    factories.project(w.org, shop, w.rep_east, amount=2500.25, won_at=at("2027-03-02T01:00:00"),
                      **won)
    factories.project(w.org, shop, w.rep_east, amount=1000.50,  # 1 April in Shanghai
                      won_at=at("2027-03-31T16:30:00"), **won)
    factories.project(w.org, shop, w.rep_east, amount=7, won_at=at("2027-02-28T16:00:00"),
                      **won)  # 1 March 00:00 in Shanghai
    factories.project(w.org, shop, w.rep_east, amount=900, stage="lost",
                      lost_at=at("2027-03-05T01:00:00"))
    factories.project(w.org, shop, w.rep_east, amount=800, stage="negotiation")  # reopened
    factories.project(w.org, shop, w.rep_north, amount=100, won_at=at("2027-03-09T01:00:00"),
                      **won)
    factories.project(w.org, shop, w.rep_west, amount=1, won_at=at("2027-03-09T01:00:00"), **won)
    for row in (w.org, w.east, w.north, w.rep_east):
        tf.target(w.org, row, metric="won_amount", period="2027-03", amount="5000.50")
    got = _achieved(api, w.admin, "won_amount")
    assert got[str(w.rep_east.id)] == "2507.25"
    assert got[str(w.north.id)] == "100.00"
    assert got[str(w.east.id)] == "2607.25"
    assert got[str(w.org.id)] == "2608.25"
    [entry] = [e for e in api.as_(w.rep_east).get(
        f"{PROGRESS}?metric=won_amount&as_of=2027-03-31").json]
    assert (entry["expected_to_date"], entry["gap"], entry["rate"]) == \
        ("5000.50", "2493.25", 0.5014)


def test_collected_amount_by_received_on_and_the_team_of_the_day(api, world, db):
    w = world
    rep = w.rep_east2
    c = deals.contract(w.org, factories.customer(w.org, rep), rep, amount="10000.00")
    deals.payment(c, "300.10", date(2027, 3, 5))   # in East
    deals.payment(c, "99.90", date(2027, 3, 11))   # in East (the move is on 12 March)
    deals.payment(c, "1000.00", date(2027, 4, 1))  # April
    r = api.as_(w.admin).patch(f"/api/v1/users/{rep.id}", json={"team_id": str(w.west.id)})
    assert r.status_code == 200
    tf.moved_at(rep, at("2027-03-11T16:00:00"))  # 12 March 00:00 in Shanghai
    deals.payment(c, "50.05", date(2027, 3, 12))   # in West from its first minute
    other = deals.contract(w.org, factories.customer(w.org, w.rep_west), w.rep_west)
    deals.payment(other, "0.01", date(2027, 2, 28))  # February
    for row in (w.org, w.east, w.west, rep):
        tf.target(w.org, row, metric="collected_amount", period="2027-Q1", amount="1000")
    got = _achieved(api, w.admin, "collected_amount")
    assert got[str(w.east.id)] == "400.00"
    assert got[str(w.west.id)] == "50.06"
    assert got[str(rep.id)] == "450.05"
    assert got[str(w.org.id)] == "450.06"


def test_money_targets_take_cents(api, world):
    r = api.as_(world.admin).post("/api/v1/targets", json={
        "metric": "collected_amount", "period": "2027", "amount": "1234567.89",
        "subject": tf.subject(world.east)})
    assert r.status_code == 201 and r.json["amount"] == "1234567.89"
