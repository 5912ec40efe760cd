"""Who sees and claims which leads and pools: the lead rules of the caller's Scope (a mixin of
fieldsales.scope.Scope; `self.p` is the principal, the team building blocks come from Scope).

A pool is open to the whole org (team_id NULL) or to the reps of a team's subtree, i.e. to a
rep whose team is that team or below it. Reps see pooled leads of open pools (contact masked)
and the leads they hold; managers their people's leads and the unowned leads of pools they can
see; admin and hr the org (hr read-only). Phone and email are in full only for the owner, the
owner's managers, admin, and (for unowned leads) the managers of the pool's team; an org-wide
pool's unowned leads are masked for managers too.
"""
from functools import cached_property

from sqlalchemy import and_, false, literal, or_, select


class LeadVisibility:

    @cached_property
    def _my_team_and_above(self):
        """Subquery: ancestor_team_ids inside the statement that needs it, saving a round trip
        on every lead request (one CTE object, so a statement using it twice renders it once)."""
        from fieldsales.teams.models import Team

        chain = (select(Team.id, Team.parent_id)
                 .where(Team.org_id == self.p.org_id, Team.id == self.p.team_id)
                 .cte("my_team_and_above", recursive=True))
        chain = chain.union_all(select(Team.id, Team.parent_id).where(
            Team.org_id == self.p.org_id, Team.id == chain.c.parent_id))
        return select(chain.c.id)

    def pools_open_to_me(self):
        """Clause: pools whose leads the caller may claim."""
        from fieldsales.leads.models import LeadPool

        clause = LeadPool.org_id == self.p.org_id
        if self.p.role == "admin":
            return clause
        if self.p.role == "hr":
            return false()
        if self.p.team_id is None:
            return and_(clause, LeadPool.team_id.is_(None))
        return and_(clause, or_(LeadPool.team_id.is_(None),
                                LeadPool.team_id.in_(self._my_team_and_above)))

    def lead_pools(self):
        from fieldsales.leads.models import LeadPool

        clause = LeadPool.org_id == self.p.org_id
        if self.org_wide:
            return clause
        visible = self.pools_open_to_me()
        if self.p.role == "manager":
            visible = or_(visible, and_(clause, LeadPool.team_id.in_(self.managed_teams)))
        return visible

    def can_manage_pool(self, pool) -> bool:
        """Change the pool, add or import leads, mark its unowned leads dead: admin, and the
        managers of the pool's team (org-wide pools are the admin's)."""
        if self.p.role == "admin":
            return True
        return self.p.role == "manager" and pool.team_id in self.managed_team_ids

    def _visible_pool_ids(self):
        from fieldsales.leads.models import LeadPool

        return select(LeadPool.id).where(self.lead_pools())

    def leads(self):
        from fieldsales.leads.models import Lead, LeadPool

        clause = Lead.org_id == self.p.org_id
        if self.org_wide:
            return clause
        if self.p.role == "manager":
            return and_(clause, or_(
                Lead.owner_id == self.p.id,
                Lead.owner_id.in_(self.member_ids(self.managed_teams)),
                and_(Lead.owner_id.is_(None), Lead.pool_id.in_(self._visible_pool_ids())),
            ))
        open_pools = select(LeadPool.id).where(self.pools_open_to_me())
        return and_(clause, or_(
            Lead.owner_id == self.p.id,
            and_(Lead.status == "pooled", Lead.pool_id.in_(open_pools)),
        ))

    def leads_to_claim(self):
        """Clause for locking a lead to claim or assign it: visible, or in a visible pool
        whatever its state, so that losing a race reads as 409 already_claimed, not 404."""
        from fieldsales.leads.models import Lead

        return or_(self.leads(), and_(Lead.org_id == self.p.org_id,
                                      Lead.pool_id.in_(self._visible_pool_ids())))

    def reveals_lead_contact(self, lead) -> bool:
        """The rule of lead_contact_revealed() for one loaded lead."""
        if self.p.role == "admin" or lead.owner_id == self.p.id:
            return True
        if self.p.role != "manager":
            return False
        if lead.owner_id is not None:
            return self.manages_user(lead.owner_id)
        return lead.pool.team_id in self.managed_team_ids

    def lead_contact_revealed(self):
        """Clause: the caller may read this lead's phone and email in full."""
        from fieldsales.leads.models import Lead, LeadPool

        if self.p.role == "admin":
            return literal(True)
        if self.p.role != "manager":
            return Lead.owner_id == self.p.id
        managed = self.managed_teams
        return or_(
            Lead.owner_id == self.p.id,
            Lead.owner_id.in_(self.member_ids(managed)),
            and_(Lead.owner_id.is_(None), Lead.pool_id.in_(
                select(LeadPool.id).where(LeadPool.org_id == self.p.org_id,
                                          LeadPool.team_id.in_(managed)))),
        )
