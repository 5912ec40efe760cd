"""Who may see and change what: the caller turned into SQL filters, in one place.

Every query that lists rows or loads one by id goes through a Scope method, so a forgotten
filter cannot leak another team's or another org's data. Invisible rows are 404 (existence is
not revealed); visible rows the caller may not change are 403.

Roles (API.md "Roles and scope"):
- rep: itself; customers owned by its team or by nobody; its own visits, reports, claimed leads.
- manager: everything of the users in its team and the teams below it.
- hr: read-only on the whole org.
- admin: everything in the org.
"""
import uuid
from dataclasses import dataclass
from functools import cached_property

from sqlalchemy import and_, false, literal, or_, select
from sqlalchemy.orm import with_loader_criteria

from fieldsales.errors import Forbidden, NotFound, field_error
from fieldsales.extensions import db
from fieldsales.leads.visibility import LeadVisibility


@dataclass(frozen=True)
class Principal:
    """The authenticated caller, loaded from the database on every request."""

    id: uuid.UUID
    org_id: uuid.UUID
    role: str
    team_id: uuid.UUID | None
    name: str
    email: str
    timezone: str  # effective IANA zone: user's, else the org's, else UTC

    @classmethod
    def for_user(cls, user, *, org_timezone: str | None) -> "Principal":
        """The principal acting as `user` (a User or a row with its columns); the one place a
        Principal is built for a user (authentication, seeds, jobs, tests; `system` is the
        org's own)."""
        from fieldsales.users.timezone import effective_timezone

        return cls(id=user.id, org_id=user.org_id, role=user.role, team_id=user.team_id,
                   name=user.name, email=user.email,
                   timezone=effective_timezone(user.timezone, org_timezone))

    @classmethod
    def system(cls, org_id, *, org_timezone: str | None) -> "Principal":
        """The org's own background jobs, seeing what its admins see (the alert evaluation);
        no user stands behind it (a nil id that no row has)."""
        return cls(id=uuid.UUID(int=0), org_id=org_id, role="admin", team_id=None,
                   name="system", email="", timezone=org_timezone or "UTC")

    @cached_property
    def scope(self) -> "Scope":
        """This caller's visibility rules as SQL filters, built once per principal (services
        derive everything from the principal they are given, never from flask.g)."""
        return Scope(self)

    @property
    def is_admin(self):
        return self.role == "admin"

    @property
    def is_manager(self):
        return self.role == "manager"

    @property
    def is_rep(self):
        return self.role == "rep"

    @property
    def is_hr(self):
        return self.role == "hr"


def routing(org_id) -> list:
    """Load options: the correlated subqueries read with every row (a contract's `received`,
    a visit's `outing_id`) filter their table on `org_id` as a value."""
    # Citus routes a statement to one worker only when every table in it, a correlated
    # subquery's too, is filtered on one org_id value; a locking read must be routed.
    from fieldsales.approvals.models import Approval
    from fieldsales.contracts.models import Payment

    return [with_loader_criteria(Payment, lambda cls: cls.org_id == org_id),
            with_loader_criteria(Approval, lambda cls: cls.org_id == org_id)]


def team_subtree_ids(org_id, root_team_id):
    """Ids of a team and every team below it (recursive CTE)."""
    from fieldsales.teams.models import Team

    tree = (
        select(Team.id).where(Team.org_id == org_id, Team.id == root_team_id)
        .cte("subtree", recursive=True)
    )
    tree = tree.union_all(
        select(Team.id).where(Team.org_id == org_id, Team.parent_id == tree.c.id)
    )
    return list(db.session.scalars(select(tree.c.id)))


def team_ancestor_ids(org_id, team_id):
    """Ids of a team and every team above it."""
    from fieldsales.teams.models import Team

    chain = (
        select(Team.id, Team.parent_id).where(Team.org_id == org_id, Team.id == team_id)
        .cte("chain", recursive=True)
    )
    chain = chain.union_all(
        select(Team.id, Team.parent_id).where(Team.org_id == org_id, Team.id == chain.c.parent_id)
    )
    return list(db.session.scalars(select(chain.c.id)))


class Scope(LeadVisibility):
    def __init__(self, principal: Principal):
        self.p = principal

    # --- building blocks ------------------------------------------------------------------

    @property
    def org_wide(self):
        """admin and hr see the whole org."""
        return self.p.role in ("admin", "hr")

    @cached_property
    def managed_team_ids(self) -> list[uuid.UUID]:
        """Teams whose members this caller manages (a manager's subtree; nothing for others)."""
        if self.p.role != "manager" or self.p.team_id is None:
            return []
        return team_subtree_ids(self.p.org_id, self.p.team_id)

    @cached_property
    def managed_teams(self):
        """Subquery of managed_team_ids, for SQL clauses: the subtree is resolved inside the
        statement that needs it instead of in a round trip of its own."""
        from fieldsales.teams.models import Team

        if self.p.role != "manager" or self.p.team_id is None:
            return select(Team.id).where(false())
        tree = (select(Team.id).where(Team.org_id == self.p.org_id, Team.id == self.p.team_id)
                .cte("managed_teams", recursive=True))
        tree = tree.union_all(select(Team.id).join(tree, Team.parent_id == tree.c.id)
                              .where(Team.org_id == self.p.org_id))
        return select(tree.c.id)

    @cached_property
    def ancestor_team_ids(self) -> list[uuid.UUID]:
        """The caller's team and the teams above it (a pool opened to any of them is open)."""
        if self.p.team_id is None:
            return []
        return team_ancestor_ids(self.p.org_id, self.p.team_id)

    def member_ids(self, team_ids):
        """Subquery: ids of the org's users in these teams."""
        from fieldsales.users.models import User

        return select(User.id).where(User.org_id == self.p.org_id, User.team_id.in_(team_ids))

    def user_visible(self, user_col):
        """Clause: user_col is a user whose records the caller may see."""
        if self.org_wide:
            return literal(True)
        if self.p.role == "manager":
            return or_(user_col == self.p.id, user_col.in_(self.member_ids(self.managed_teams)))
        return user_col == self.p.id

    def manages_user(self, user_id, user_team_id=None) -> bool:
        """May the caller act on this user's records (assign, review, edit)? hr never may."""
        if self.p.role == "admin":
            return True
        if self.p.role == "manager":
            if user_id == self.p.id:
                return True
            if user_team_id is None:
                from fieldsales.users.models import User

                user_team_id = db.session.scalar(
                    select(User.team_id).where(User.org_id == self.p.org_id, User.id == user_id)
                )
            return user_team_id in self.managed_team_ids
        return user_id == self.p.id

    def assignable_owner(self, owner_id, *, what: str):
        """The user the caller may make the owner of `what` (customers, projects): reps only
        themselves (403 otherwise), managers their people, admin anyone in the org; any other
        id is a 422 on owner_id."""
        from fieldsales.users.models import User

        if self.p.role == "rep" and owner_id != self.p.id:
            raise Forbidden(f"Reps can only own {what} themselves.")
        owner = db.session.scalar(select(User).where(User.org_id == self.p.org_id,
                                                     User.id == owner_id))
        if owner is None or not self.manages_user(owner.id, owner.team_id):
            raise field_error("owner_id", "No such user in your scope.")
        return owner

    def require_team_in_org(self, team_id, *, field: str = "team_id"):
        """A team id given in a body (None allowed) names a team of the caller's org, else a
        422 on `field`."""
        from fieldsales.teams.models import Team

        if team_id is not None and db.session.scalar(
                select(Team.id).where(Team.org_id == self.p.org_id, Team.id == team_id)) is None:
            raise field_error(field, "No such team in your organisation.")

    def require_writer(self):
        """hr is read-only everywhere."""
        if self.p.role == "hr":
            raise Forbidden("The hr role is read-only.")

    def require_role(self, *roles):
        if self.p.role not in roles:
            raise Forbidden(f"Only {', '.join(roles)} may do this.")

    # --- per resource ---------------------------------------------------------------------

    def users(self):
        from fieldsales.users.models import User

        return and_(User.org_id == self.p.org_id, self.user_visible(User.id))

    def teams(self):
        from fieldsales.teams.models import Team

        clause = Team.org_id == self.p.org_id
        if self.org_wide:
            return clause
        if self.p.role == "manager":
            if self.p.team_id is None:
                return false()
            return and_(clause, Team.id.in_(self.managed_teams))
        return and_(clause, Team.id == self.p.team_id) if self.p.team_id else false()

    def customers(self):
        from fieldsales.customers.models import Customer

        clause = Customer.org_id == self.p.org_id
        if self.org_wide:
            return clause
        unowned = and_(Customer.owner_id.is_(None), Customer.team_id.is_(None))
        if self.p.role == "manager":
            teams = self.managed_teams
            return and_(clause, or_(
                unowned,
                Customer.owner_id == self.p.id,
                Customer.owner_id.in_(self.member_ids(teams)),
                and_(Customer.owner_id.is_(None), Customer.team_id.in_(teams)),
            ))
        # rep: customers owned by anyone in its own team, or by nobody (unowned cards stay
        # with the team they were filed under, if any).
        own_team = [self.p.team_id] if self.p.team_id is not None else []
        return and_(clause, or_(
            unowned,
            Customer.owner_id == self.p.id,
            Customer.owner_id.in_(self.member_ids(own_team)),
            and_(Customer.owner_id.is_(None), Customer.team_id.in_(own_team)),
        ))

    def can_edit_customer(self, customer) -> bool:
        """The owner, the owner's managers (or the card's team's managers if unowned), admin."""
        if self.p.role == "admin":
            return True
        if self.p.role == "hr":
            return False
        if customer.owner_id is not None:
            return self.manages_user(customer.owner_id)
        return self.p.role == "manager" and (
            customer.team_id is None or customer.team_id in self.managed_team_ids
        )

    def projects(self):
        """A project is visible with its customer."""
        from fieldsales.customers.models import Customer
        from fieldsales.projects.models import Project

        visible_customers = select(Customer.id).where(self.customers())
        return and_(Project.org_id == self.p.org_id, Project.customer_id.in_(visible_customers))

    def contracts(self):
        """A contract is visible with its customer."""
        from fieldsales.contracts.models import Contract
        from fieldsales.customers.models import Customer

        visible_customers = select(Customer.id).where(self.customers())
        return and_(Contract.org_id == self.p.org_id,
                    Contract.customer_id.in_(visible_customers))

    # --- visits and photos ------------------------------------------------------------------

    def visits(self):
        """rep: its own; manager: its own and its subtree's people; hr, admin: the org."""
        from fieldsales.visits.models import Visit

        return and_(Visit.org_id == self.p.org_id, self.user_visible(Visit.user_id))

    def photos(self):
        """A photo is visible with its visit (photos carry the visit's rep)."""
        from fieldsales.photos.models import Photo

        return and_(Photo.org_id == self.p.org_id, self.user_visible(Photo.user_id))

    def require_visit_rep(self, visit):
        """Only the visit's rep checks out or adds photos (hr never writes)."""
        self.require_writer()
        if visit.user_id != self.p.id:
            raise Forbidden("Only the rep who checked in may do this.")

    # --- daily reports ---
    # A report is visible with its rep (rep: its own; manager: its subtree's people and itself;
    # hr, admin: the org). Reviews: the rep's managers and admin, never the author itself.

    def daily_reports(self):
        from fieldsales.reports.models import DailyReport

        return and_(DailyReport.org_id == self.p.org_id, self.user_visible(DailyReport.user_id))

    def can_review_report(self, report) -> bool:
        if report.user_id == self.p.id or self.p.role not in ("admin", "manager"):
            return False
        return self.manages_user(report.user_id)

    def plans(self):
        """A plan is visible with its user (rep: its own; manager: its people's; hr, admin:
        the org)."""
        from fieldsales.plans.models import Plan

        return and_(Plan.org_id == self.p.org_id, self.user_visible(Plan.user_id))

    def targets(self):
        """rep: its own targets; manager: those of its subtree's teams and people (itself
        included); hr, admin: the org's."""
        from fieldsales.targets.models import Target

        clause = Target.org_id == self.p.org_id
        if self.org_wide:
            return clause
        people = and_(Target.subject_type == "user", self.user_visible(Target.subject_id))
        if self.p.role == "manager":
            return and_(clause, or_(people, and_(Target.subject_type == "team",
                                                 Target.subject_id.in_(self.managed_teams))))
        return and_(clause, people)

    def approvals(self):
        """An approval is visible to its requester, to anyone on its steps, to the managers
        over the requester and to admins (hr: only as a requester)."""
        from fieldsales.approvals.models import Approval

        clause = Approval.org_id == self.p.org_id
        if self.p.role == "admin":
            return clause
        mine = or_(Approval.requester_id == self.p.id,
                   Approval.steps.contains([{"approver_ids": [str(self.p.id)]}]))
        if self.p.role == "manager":
            mine = or_(mine, Approval.requester_id.in_(self.member_ids(self.managed_teams)))
        return and_(clause, mine)

    def webhooks(self):
        """Webhooks are the org's admins' alone (their secrets sign every delivery)."""
        from fieldsales.webhooks.models import Webhook

        self.require_role("admin")
        return Webhook.org_id == self.p.org_id

    # --- loading --------------------------------------------------------------------------

    @property
    def routing(self) -> list:
        """Load options for the caller's org (module function `routing`)."""
        return routing(self.p.org_id)

    def get(self, model, id_, clause, *, for_update=False):
        """Load one row by id under `clause`, or 404; for_update locks it FOR NO KEY UPDATE."""
        stmt = select(model).where(model.id == id_, clause).options(*self.routing)
        if for_update:
            # NO KEY UPDATE: no write through the API changes a row's key, and a plain FOR
            # UPDATE would block the key-share locks that foreign keys take on this row, which a
            # check-in or a claim takes while it holds an audit chain head (a deadlock with
            # an edit that locks this row, then that chain).
            stmt = stmt.with_for_update(key_share=True)
        row = db.session.scalar(stmt)
        if row is None:
            raise NotFound(f"{model.__name__} not found.")
        return row
