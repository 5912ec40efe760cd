"""Lead pools (公海), leads, their ownership ledger and follow-ups, and the per-rep rows that
make the claim limits hold under concurrency.

Who holds what is bookkept by the database itself: the trigger `leads_track_holdings`
(migrations/versions/0003_leads.py) keeps `lead_holdings` equal to the number of claimed leads
per (pool, rep) on every insert/update/delete of a lead, and refuses (check_violation
`lead_holding_limit`) the change that would take a rep past the pool's holding_limit. The row
it updates is the per-rep lock: concurrent claims by one rep queue on it, and each sees the
count its predecessors committed. Daily claims are counted the same way in `lead_daily_claims`
by a conditional upsert (see claims.py).
"""
import uuid
from datetime import UTC, date, datetime

from sqlalchemy import (CheckConstraint, and_, Computed, FetchedValue, Float, ForeignKey,
                        ForeignKeyConstraint, Index, Integer, SmallInteger, String,
                        text)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fieldsales.customers.models import CONTACT_METHODS, point_column
from fieldsales.db import Base, ClientIdMixin, OrgMixin, TenantIdMixin, TimestampMixin, UpdatedMixin
from fieldsales.leads import rules

LEAD_STATUSES = ("pooled", "claimed", "converted", "dead")
EVENT_ACTIONS = ("created", "imported", "claimed", "assigned", "released", "recycled",
                 "followed_up", "converted", "marked_dead", "revived")
INTENTS = ("hot", "warm", "cold", "none")
# claim-next takes hot, then warm, then cold, then unknown (null), then `none` (no intent).
INTENT_RANK = ("CASE intent WHEN 'hot' THEN 0 WHEN 'warm' THEN 1 WHEN 'cold' THEN 2 "
               "WHEN 'none' THEN 4 ELSE 3 END")
FOLLOW_UP_METHODS = CONTACT_METHODS  # they become contact records on conversion


def _in(values):
    return ", ".join(f"'{v}'" for v in values)


def _org_id_unindexed():
    """org_id for tables only ever read through a more selective key (each index is one more
    write on the claim path)."""
    return mapped_column(ForeignKey("orgs.id"), primary_key=True)


class LeadPool(TenantIdMixin, UpdatedMixin, ClientIdMixin, Base):
    """A shared pool of leads, open to the whole org (team_id NULL) or to a team's subtree."""

    __tablename__ = "lead_pools"
    __table_args__ = (
        ForeignKeyConstraint(["org_id", "team_id"], ["teams.org_id", "teams.id"]),
        CheckConstraint("holding_limit > 0", name="holding_limit_positive"),
        CheckConstraint("daily_claim_limit > 0", name="daily_claim_limit_positive"),
        CheckConstraint("recycle_after_days > 0", name="recycle_after_days_positive"),
        CheckConstraint("warn_before_days >= 0 AND warn_before_days < recycle_after_days",
                        name="warn_before_recycle"),
        CheckConstraint("cooldown_days >= 0", name="cooldown_days_nonnegative"),
        CheckConstraint(f"assignment ->> 'strategy' IN ({_in(rules.STRATEGIES)})",
                        name="assignment_strategy"),
        CheckConstraint("silent_after_days > 0", name="silent_after_days_positive"),
    )

    name: Mapped[str]
    team_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    holding_limit: Mapped[int] = mapped_column(Integer, server_default="20")
    daily_claim_limit: Mapped[int] = mapped_column(Integer, server_default="10")
    recycle_after_days: Mapped[int] = mapped_column(Integer, server_default="7")
    warn_before_days: Mapped[int] = mapped_column(Integer, server_default="1")
    cooldown_days: Mapped[int] = mapped_column(Integer, server_default="3")
    # How `distribute` hands out pooled leads (leads/distribute.py); `claim`: reps claim.
    assignment: Mapped[dict] = mapped_column(
        JSONB, server_default=text("""'{"strategy": "claim"}'::jsonb"""))
    # Round robin resumes after this user (the last one given a lead), call after call.
    round_robin_after: Mapped[uuid.UUID | None]
    silent_after_days: Mapped[int] = mapped_column(Integer, server_default="14")


class LeadFacts:
    """What LeadSchema reads besides the stored columns, derived from them and the lead's
    `pool`: for an ORM Lead and for a LeadRow alike."""

    # Whether the caller may read phone and email in full; set by the service for each caller,
    # never stored. Absent means masked.
    reveal = False

    @property
    def location(self):
        return None if self.lat is None else {"lat": self.lat, "lng": self.lng}

    @property
    def recycle_at(self):
        return rules.recycle_at(status=self.status, claimed_at=self.claimed_at,
                                last_follow_up_at=self.last_follow_up_at,
                                recycle_after_days=self.pool.recycle_after_days)

    @property
    def silent(self):
        return self.status == "pooled" and rules.is_silent(
            pooled_at=self.pooled_at, silent_after_days=self.pool.silent_after_days,
            now=datetime.now(UTC))

    @property
    def recycle_warning(self):
        return rules.recycle_warning(recycle_at=self.recycle_at,
                                     warn_before_days=self.pool.warn_before_days,
                                     now=datetime.now(UTC))


class LeadRow(LeadFacts):
    """A lead as a Core statement returned it (the claim hot paths): the stored columns as
    attributes, its pool's settings as `pool`; no ORM object, nothing in the session."""

    def __init__(self, columns: dict, pool):
        self.__dict__.update(columns)
        self.pool = pool


class Lead(LeadFacts, TenantIdMixin, TimestampMixin, ClientIdMixin, Base):
    __tablename__ = "leads"
    __table_args__ = (
        ForeignKeyConstraint(["org_id", "pool_id"], ["lead_pools.org_id", "lead_pools.id"]),
        ForeignKeyConstraint(["org_id", "owner_id"], ["users.org_id", "users.id"]),
        ForeignKeyConstraint(["org_id", "converted_customer_id"],
                             ["customers.org_id", "customers.id"]),
        CheckConstraint(f"status IN ({_in(LEAD_STATUSES)})", name="status"),
        CheckConstraint("status <> 'claimed' OR (owner_id IS NOT NULL AND claimed_at IS NOT NULL)",
                        name="claimed_has_owner"),
        CheckConstraint("status <> 'pooled' OR owner_id IS NULL", name="pooled_has_no_owner"),
        CheckConstraint("(status = 'converted') = (converted_customer_id IS NOT NULL)",
                        name="converted_has_customer"),
        CheckConstraint("(lat IS NULL) = (lng IS NULL)", name="lat_lng_together"),
        CheckConstraint("follow_up_count >= 0", name="follow_up_count_nonnegative"),
        CheckConstraint(f"intent IN ({_in(INTENTS)})", name="intent"),
        # (Duplicate phones and companies: party_keys, fieldsales/duplicates.)
        # claim-next without `near`: the hottest, then oldest pooled lead of a pool.
        Index("ix_leads_pooled_oldest", "pool_id", "intent_rank", "created_at", "id",
              postgresql_where=text("status = 'pooled'")),
        # claim-next with `near`: planar KNN over pooled leads (see claims._PICK_NEAREST).
        Index("ix_leads_pooled_geom", "geom", postgresql_using="gist",
              postgresql_where=text("status = 'pooled'")),
        # GET /leads?near=&radius_m= (ST_DWithin on geography).
        Index("ix_leads_geog", text("geography(geom)"), postgresql_using="gist"),
        Index("ix_leads_owner_status", "owner_id", "status"),
        # Lists: newest first per pool (per owner: ix_leads_owner_status). No trigram indexes
        # for `q`: a claim rewrites the row (status and owner are indexed, so no HOT update)
        # and every GIN index would be one more insert on the hottest path.
        Index("ix_leads_pool_created", "pool_id", "created_at"),
    )

    # No index led by org_id alone: for an org the statistics have not seen yet (a new
    # tenant's first import) the planner would pick it for the foreign-key checks of
    # lead_events/lead_follow_ups (org_id, lead_id) and scan the whole org per row, making a
    # big import quadratic. uq_leads_org_id_id serves those checks.
    org_id: Mapped[uuid.UUID] = _org_id_unindexed()

    pool_id: Mapped[uuid.UUID]
    name: Mapped[str]
    company: Mapped[str | None]
    phone: Mapped[str | None]
    phone_normalized: Mapped[str | None]
    email: Mapped[str | None]
    address: Mapped[str | None]
    lat: Mapped[float | None] = mapped_column(Float)
    lng: Mapped[float | None] = mapped_column(Float)
    geom = point_column()
    source: Mapped[str | None]
    tags: Mapped[list[str]] = mapped_column(ARRAY(String), default=list,
                                            server_default=text("'{}'"))
    status: Mapped[str] = mapped_column(default="pooled", server_default="pooled")
    owner_id: Mapped[uuid.UUID | None]
    claimed_at: Mapped[datetime | None]
    last_follow_up_at: Mapped[datetime | None]
    follow_up_count: Mapped[int] = mapped_column(default=0, server_default="0")
    converted_customer_id: Mapped[uuid.UUID | None]
    intent: Mapped[str | None]
    intent_rank: Mapped[int] = mapped_column(SmallInteger, Computed(INTENT_RANK, persisted=True))
    # Set by the database (trigger leads_pooled_at, migration 0011) whenever the lead enters
    # its pool: `silent` counts from here.
    pooled_at: Mapped[datetime | None] = mapped_column(server_default=FetchedValue(),
                                                       server_onupdate=FetchedValue())

    # Many-to-one by primary key: served from the session's identity map once the pool is
    # loaded, so serialising a page costs one pool query, not one per lead.
    pool: Mapped[LeadPool] = relationship(
        primaryjoin="and_(foreign(Lead.org_id) == LeadPool.org_id, "
                    "foreign(Lead.pool_id) == LeadPool.id)", viewonly=True, lazy="select")



# A lead and its pool, joined within the org (Citus routes the join by org_id).
LEAD_POOL = and_(LeadPool.org_id == Lead.org_id, LeadPool.id == Lead.pool_id)


class LeadEvent(TenantIdMixin, Base):
    """The ownership ledger: who held a lead when, and why it moved."""

    __tablename__ = "lead_events"
    __table_args__ = (
        ForeignKeyConstraint(["org_id", "lead_id"], ["leads.org_id", "leads.id"]),
        CheckConstraint(f"action IN ({_in(EVENT_ACTIONS)})", name="action"),
        Index("ix_lead_events_lead_at", "lead_id", "at"),
        Index("ix_lead_events_to_user_at", "org_id", "to_user_id", "at"),
    )

    org_id: Mapped[uuid.UUID] = _org_id_unindexed()

    lead_id: Mapped[uuid.UUID]
    at: Mapped[datetime]
    action: Mapped[str]
    actor_id: Mapped[uuid.UUID | None]  # None: the recycle job
    from_user_id: Mapped[uuid.UUID | None]
    to_user_id: Mapped[uuid.UUID | None]
    reason: Mapped[str | None]


class LeadFollowUp(TenantIdMixin, TimestampMixin, ClientIdMixin, Base):
    __tablename__ = "lead_follow_ups"
    __table_args__ = (
        ForeignKeyConstraint(["org_id", "lead_id"], ["leads.org_id", "leads.id"]),
        ForeignKeyConstraint(["org_id", "user_id"], ["users.org_id", "users.id"]),
        CheckConstraint(f"method IN ({_in(FOLLOW_UP_METHODS)})", name="method"),
        Index("ix_lead_follow_ups_lead_created", "lead_id", "created_at"),
    )

    lead_id: Mapped[uuid.UUID]
    user_id: Mapped[uuid.UUID]
    method: Mapped[str]
    note: Mapped[str]
    next_follow_up_at: Mapped[datetime | None]


class LeadCooldown(OrgMixin, Base):
    """A rep who released (or lost to recycling) a lead may not claim it back until `until`."""

    __tablename__ = "lead_cooldowns"
    __table_args__ = (
        ForeignKeyConstraint(["org_id", "lead_id"], ["leads.org_id", "leads.id"]),
        ForeignKeyConstraint(["org_id", "user_id"], ["users.org_id", "users.id"]),
    )

    org_id: Mapped[uuid.UUID] = _org_id_unindexed()

    lead_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    until: Mapped[datetime]


class LeadHolding(OrgMixin, Base):
    """Claimed leads per (pool, rep), kept by the leads_track_holdings trigger; its row is the
    lock that serialises one rep's claims in one pool."""

    __tablename__ = "lead_holdings"
    __table_args__ = (
        ForeignKeyConstraint(["org_id", "pool_id"], ["lead_pools.org_id", "lead_pools.id"]),
        ForeignKeyConstraint(["org_id", "user_id"], ["users.org_id", "users.id"]),
        CheckConstraint("holding >= 0", name="holding_nonnegative"),
    )

    org_id: Mapped[uuid.UUID] = _org_id_unindexed()

    pool_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    holding: Mapped[int] = mapped_column(Integer)


class LeadDailyClaims(OrgMixin, Base):
    """Claims per (pool, rep, the rep's local date): only claims count, not assignments and not
    holdings, so releasing a lead does not give a claim back."""

    __tablename__ = "lead_daily_claims"
    __table_args__ = (
        ForeignKeyConstraint(["org_id", "pool_id"], ["lead_pools.org_id", "lead_pools.id"]),
        ForeignKeyConstraint(["org_id", "user_id"], ["users.org_id", "users.id"]),
        CheckConstraint("claims > 0", name="claims_positive"),
    )

    org_id: Mapped[uuid.UUID] = _org_id_unindexed()

    pool_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    claims: Mapped[int] = mapped_column(Integer)

