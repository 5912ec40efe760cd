"""contract_expiring and payment_overdue on a fixed clock (Asia/Shanghai, UTC+8): computed from
dates on read, in the owner's local calendar."""
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask_smorest.pagination import PaginationParameters

from tests import factories
from tests.factories import deals

NOW = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)  # 10:00 on 2026-06-01 in Shanghai


def _alerts(app, user, kind, now=NOW):
    from fieldsales.alerts.service import list_alerts
    from fieldsales.plans.service import as_principal

    with app.app_context():
        return {(a.subject_id, a.since.astimezone(UTC).isoformat(), a.detail)
                for a in list_alerts(principal=as_principal(user), filters={"type": kind},
                                     page=PaginationParameters(1, 100), now=now)}


def _since(day):
    """The start of a Shanghai day, in UTC."""
    return datetime(day.year, day.month, day.day, tzinfo=ZoneInfo("Asia/Shanghai")) \
        .astimezone(UTC).isoformat()


def test_contract_expiring_at_each_remind_threshold(app, world):
    c = factories.customer(world.org, world.rep_east, name="Acme")
    k = lambda end, **kw: deals.contract(world.org, c, world.rep_east,  # noqa: E731
                                         end_date=end, **kw).id
    at_90 = k(date(2026, 8, 30))
    k(date(2026, 8, 31))  # 91 days: not yet
    at_30 = k(date(2026, 7, 1))
    at_7 = k(date(2026, 6, 5))
    k(date(2026, 6, 3), status="renewed")
    k(date(2026, 6, 3), status="expired")
    own_14 = k(date(2026, 6, 10), remind_days=[14])
    k(date(2026, 6, 20), remind_days=[14])
    past = k(date(2026, 5, 20))  # ended, the expire job has not run: still reminded
    k(None)  # open-ended
    got = {(s, since) for s, since, _ in _alerts(app, world.mgr_east, "contract_expiring")}
    assert got == {(at_90, _since(date(2026, 6, 1))), (at_30, _since(date(2026, 6, 1))),
                   (at_7, _since(date(2026, 5, 29))), (own_14, _since(date(2026, 5, 27))),
                   (past, _since(date(2026, 5, 13)))}
    # one minute before local midnight the 90-day threshold is not crossed yet
    before = datetime(2026, 5, 31, 15, 59, tzinfo=UTC)
    assert at_90 not in {s for s, _, _ in _alerts(app, world.mgr_east, "contract_expiring",
                                                  now=before)}
    details = {s: d for s, _, d in _alerts(app, world.mgr_east, "contract_expiring")}
    assert "ends in 4 days (2026-06-05)" in details[at_7] and "Acme" in details[at_7]
    # scope: another team's manager sees none of them
    assert _alerts(app, world.mgr_west, "contract_expiring") == set()


def test_payment_overdue_follows_what_the_money_covers(app, world):
    c = factories.customer(world.org, world.rep_east)
    k = deals.contract(world.org, c, world.rep_east, amount="1000.00")
    p1 = deals.payment_plan(k, date(2026, 5, 1), "300.00")
    p2 = deals.payment_plan(k, date(2026, 5, 31), "300.00")
    deals.payment_plan(k, date(2026, 6, 1), "400.00")  # due today: not overdue yet
    assert {s for s, _, _ in _alerts(app, world.mgr_east, "payment_overdue")} == {p1.id, p2.id}
    deals.payment(k, "300.00")  # loose money covers the earliest plan
    got = _alerts(app, world.mgr_east, "payment_overdue")
    assert {(s, since) for s, since, _ in got} == {(p2.id, _since(date(2026, 6, 1)))}
    assert "was due 2026-05-31" in next(iter(got))[2]
    # money named for the last plan leaves the earlier ones unpaid
    k2 = deals.contract(world.org, c, world.rep_east, amount="1000.00")
    q1 = deals.payment_plan(k2, date(2026, 5, 1), "300.00")
    q2 = deals.payment_plan(k2, date(2026, 7, 1), "700.00")
    deals.payment(k2, "700.00", plan=q2)
    assert q1.id in {s for s, _, _ in _alerts(app, world.mgr_east, "payment_overdue")}
    # a terminated contract is not chased
    k3 = deals.contract(world.org, c, world.rep_east, status="terminated")
    t1 = deals.payment_plan(k3, date(2026, 5, 1), "10.00")
    assert t1.id not in {s for s, _, _ in _alerts(app, world.mgr_east, "payment_overdue")}


def test_alerts_over_http(api, world):
    c = factories.customer(world.org, world.rep_east)
    k = deals.contract(world.org, c, world.rep_east,
                       end_date=datetime.now(ZoneInfo("Asia/Shanghai")).date())
    r = api.as_(world.mgr_east).get("/api/v1/alerts?type=contract_expiring")
    assert r.status_code == 200 and [a["subject_id"] for a in r.json] == [str(k.id)]
