"""leads and lead pools: pools, leads, ledger, follow-ups, cooldowns, holdings and daily claim
counters, and the trigger that keeps holdings and enforces holding_limit

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

HOLDINGS_FUNCTION = """
CREATE FUNCTION leads_track_holdings() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    was_held boolean := TG_OP <> 'INSERT' AND OLD.status = 'claimed';
    is_held boolean := TG_OP <> 'DELETE' AND NEW.status = 'claimed';
    held integer;
    max_held integer;
BEGIN
    IF was_held AND is_held AND OLD.owner_id = NEW.owner_id AND OLD.pool_id = NEW.pool_id THEN
        RETURN NULL;
    END IF;
    IF was_held AND (NOT is_held OR OLD.owner_id < NEW.owner_id) THEN
        UPDATE lead_holdings SET holding = holding - 1
        WHERE pool_id = OLD.pool_id AND user_id = OLD.owner_id;
        was_held := false;
    END IF;
    IF is_held THEN
        INSERT INTO lead_holdings AS h (org_id, pool_id, user_id, holding)
        VALUES (NEW.org_id, NEW.pool_id, NEW.owner_id, 1)
        ON CONFLICT (pool_id, user_id) DO UPDATE SET holding = h.holding + 1
        RETURNING holding INTO held;
        SELECT holding_limit INTO max_held FROM lead_pools WHERE id = NEW.pool_id;
        IF held > max_held THEN
            RAISE EXCEPTION 'holding limit of % leads reached', max_held
                USING ERRCODE = 'check_violation', CONSTRAINT = 'lead_holding_limit',
                      TABLE = 'lead_holdings';
        END IF;
    END IF;
    IF was_held THEN
        UPDATE lead_holdings SET holding = holding - 1
        WHERE pool_id = OLD.pool_id AND user_id = OLD.owner_id;
    END IF;
    RETURN NULL;
END
$$
"""


def upgrade():
    op.create_table('lead_pools',
    sa.Column('name', sa.String(), nullable=False),
    sa.Column('team_id', sa.Uuid(), nullable=True),
    sa.Column('holding_limit', sa.Integer(), server_default='20', nullable=False),
    sa.Column('daily_claim_limit', sa.Integer(), server_default='10', nullable=False),
    sa.Column('recycle_after_days', sa.Integer(), server_default='7', nullable=False),
    sa.Column('warn_before_days', sa.Integer(), server_default='1', nullable=False),
    sa.Column('cooldown_days', sa.Integer(), server_default='3', nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('statement_timestamp()'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('statement_timestamp()'), nullable=False),
    sa.Column('created_by', sa.Uuid(), nullable=True),
    sa.Column('request_hash', sa.String(), nullable=True),
    sa.CheckConstraint('cooldown_days >= 0', name=op.f('ck_lead_pools_cooldown_days_nonnegative')),
    sa.CheckConstraint('daily_claim_limit > 0', name=op.f('ck_lead_pools_daily_claim_limit_positive')),
    sa.CheckConstraint('holding_limit > 0', name=op.f('ck_lead_pools_holding_limit_positive')),
    sa.CheckConstraint('recycle_after_days > 0', name=op.f('ck_lead_pools_recycle_after_days_positive')),
    sa.CheckConstraint('warn_before_days >= 0 AND warn_before_days < recycle_after_days', name=op.f('ck_lead_pools_warn_before_recycle')),
    sa.ForeignKeyConstraint(['org_id', 'team_id'], ['teams.org_id', 'teams.id'], name=op.f('fk_lead_pools_org_id_team_id_teams')),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_lead_pools_org_id_orgs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lead_pools')),
    sa.UniqueConstraint('org_id', 'id', name=op.f('uq_lead_pools_org_id_id'))
    )
    op.create_index(op.f('ix_lead_pools_org_id'), 'lead_pools', ['org_id'], unique=False)
    op.create_index(op.f('ix_lead_pools_team_id'), 'lead_pools', ['team_id'], unique=False)
    op.create_table('lead_daily_claims',
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.Column('pool_id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('claims', sa.Integer(), nullable=False),
    sa.CheckConstraint('claims > 0', name=op.f('ck_lead_daily_claims_claims_positive')),
    sa.ForeignKeyConstraint(['org_id', 'pool_id'], ['lead_pools.org_id', 'lead_pools.id'], name=op.f('fk_lead_daily_claims_org_id_pool_id_lead_pools')),
    sa.ForeignKeyConstraint(['org_id', 'user_id'], ['users.org_id', 'users.id'], name=op.f('fk_lead_daily_claims_org_id_user_id_users')),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_lead_daily_claims_org_id_orgs')),
    sa.PrimaryKeyConstraint('pool_id', 'user_id', 'day', name=op.f('pk_lead_daily_claims'))
    )
    op.create_table('lead_holdings',
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.Column('pool_id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('holding', sa.Integer(), nullable=False),
    sa.CheckConstraint('holding >= 0', name=op.f('ck_lead_holdings_holding_nonnegative')),
    sa.ForeignKeyConstraint(['org_id', 'pool_id'], ['lead_pools.org_id', 'lead_pools.id'], name=op.f('fk_lead_holdings_org_id_pool_id_lead_pools')),
    sa.ForeignKeyConstraint(['org_id', 'user_id'], ['users.org_id', 'users.id'], name=op.f('fk_lead_holdings_org_id_user_id_users')),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_lead_holdings_org_id_orgs')),
    sa.PrimaryKeyConstraint('pool_id', 'user_id', name=op.f('pk_lead_holdings'))
    )
    op.create_geospatial_table('leads',
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.Column('pool_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(), nullable=False),
    sa.Column('company', sa.String(), nullable=True),
    sa.Column('phone', sa.String(), nullable=True),
    sa.Column('phone_normalized', sa.String(), nullable=True),
    sa.Column('email', sa.String(), nullable=True),
    sa.Column('address', sa.String(), nullable=True),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('lng', sa.Float(), nullable=True),
    sa.Column('source', sa.String(), nullable=True),
    sa.Column('geom', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), sa.Computed('ST_SetSRID(ST_MakePoint(lng, lat), 4326)', persisted=True), nullable=True),
    sa.Column('tags', postgresql.ARRAY(sa.String()), server_default=sa.text("'{}'"), nullable=False),
    sa.Column('status', sa.String(), server_default='pooled', nullable=False),
    sa.Column('owner_id', sa.Uuid(), nullable=True),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_follow_up_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('follow_up_count', sa.Integer(), server_default='0', nullable=False),
    sa.Column('converted_customer_id', sa.Uuid(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('statement_timestamp()'), nullable=False),
    sa.Column('created_by', sa.Uuid(), nullable=True),
    sa.Column('request_hash', sa.String(), nullable=True),
    sa.CheckConstraint("(status = 'converted') = (converted_customer_id IS NOT NULL)", name=op.f('ck_leads_converted_has_customer')),
    sa.CheckConstraint("status <> 'claimed' OR (owner_id IS NOT NULL AND claimed_at IS NOT NULL)", name=op.f('ck_leads_claimed_has_owner')),
    sa.CheckConstraint("status <> 'pooled' OR owner_id IS NULL", name=op.f('ck_leads_pooled_has_no_owner')),
    sa.CheckConstraint("status IN ('pooled', 'claimed', 'converted', 'dead')", name=op.f('ck_leads_status')),
    sa.CheckConstraint('(lat IS NULL) = (lng IS NULL)', name=op.f('ck_leads_lat_lng_together')),
    sa.CheckConstraint('follow_up_count >= 0', name=op.f('ck_leads_follow_up_count_nonnegative')),
    sa.ForeignKeyConstraint(['org_id', 'converted_customer_id'], ['customers.org_id', 'customers.id'], name=op.f('fk_leads_org_id_converted_customer_id_customers')),
    sa.ForeignKeyConstraint(['org_id', 'owner_id'], ['users.org_id', 'users.id'], name=op.f('fk_leads_org_id_owner_id_users')),
    sa.ForeignKeyConstraint(['org_id', 'pool_id'], ['lead_pools.org_id', 'lead_pools.id'], name=op.f('fk_leads_org_id_pool_id_lead_pools')),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_leads_org_id_orgs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_leads')),
    sa.UniqueConstraint('org_id', 'id', name=op.f('uq_leads_org_id_id'))
    )
    op.create_index('ix_leads_geog', 'leads', [sa.literal_column('geography(geom)')], unique=False, postgresql_using='gist')
    op.create_index('ix_leads_owner_status', 'leads', ['owner_id', 'status'], unique=False)
    op.create_index('ix_leads_pool_created', 'leads', ['pool_id', 'created_at'], unique=False)
    op.create_index('ix_leads_pooled_geom', 'leads', ['geom'], unique=False, postgresql_using='gist', postgresql_where=sa.text("status = 'pooled'"))
    op.create_index('ix_leads_pooled_oldest', 'leads', ['pool_id', 'created_at', 'id'], unique=False, postgresql_where=sa.text("status = 'pooled'"))
    op.create_index('uq_leads_org_phone', 'leads', ['org_id', 'phone_normalized'], unique=True, postgresql_where=sa.text('phone_normalized IS NOT NULL'))
    op.create_table('lead_cooldowns',
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.Column('lead_id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('until', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['org_id', 'lead_id'], ['leads.org_id', 'leads.id'], name=op.f('fk_lead_cooldowns_org_id_lead_id_leads')),
    sa.ForeignKeyConstraint(['org_id', 'user_id'], ['users.org_id', 'users.id'], name=op.f('fk_lead_cooldowns_org_id_user_id_users')),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_lead_cooldowns_org_id_orgs')),
    sa.PrimaryKeyConstraint('lead_id', 'user_id', name=op.f('pk_lead_cooldowns'))
    )
    op.create_table('lead_events',
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.Column('lead_id', sa.Uuid(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('action', sa.String(), nullable=False),
    sa.Column('actor_id', sa.Uuid(), nullable=True),
    sa.Column('from_user_id', sa.Uuid(), nullable=True),
    sa.Column('to_user_id', sa.Uuid(), nullable=True),
    sa.Column('reason', sa.String(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.CheckConstraint("action IN ('created', 'imported', 'claimed', 'assigned', 'released', 'recycled', 'followed_up', 'converted', 'marked_dead')", name=op.f('ck_lead_events_action')),
    sa.ForeignKeyConstraint(['org_id', 'lead_id'], ['leads.org_id', 'leads.id'], name=op.f('fk_lead_events_org_id_lead_id_leads')),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_lead_events_org_id_orgs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lead_events'))
    )
    op.create_index('ix_lead_events_lead_at', 'lead_events', ['lead_id', 'at'], unique=False)
    op.create_index('ix_lead_events_to_user_at', 'lead_events', ['org_id', 'to_user_id', 'at'], unique=False)
    op.create_table('lead_follow_ups',
    sa.Column('lead_id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('method', sa.String(), nullable=False),
    sa.Column('note', sa.String(), nullable=False),
    sa.Column('next_follow_up_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('statement_timestamp()'), nullable=False),
    sa.Column('created_by', sa.Uuid(), nullable=True),
    sa.Column('request_hash', sa.String(), nullable=True),
    sa.CheckConstraint("method IN ('visit', 'call', 'message', 'email', 'meeting')", name=op.f('ck_lead_follow_ups_method')),
    sa.ForeignKeyConstraint(['org_id', 'lead_id'], ['leads.org_id', 'leads.id'], name=op.f('fk_lead_follow_ups_org_id_lead_id_leads')),
    sa.ForeignKeyConstraint(['org_id', 'user_id'], ['users.org_id', 'users.id'], name=op.f('fk_lead_follow_ups_org_id_user_id_users')),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_lead_follow_ups_org_id_orgs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lead_follow_ups'))
    )
    op.create_index('ix_lead_follow_ups_lead_created', 'lead_follow_ups', ['lead_id', 'created_at'], unique=False)
    op.create_index(op.f('ix_lead_follow_ups_org_id'), 'lead_follow_ups', ['org_id'], unique=False)
    # Holdings are bookkept by the database on every change of a lead, whoever makes it, and
    # the change that would take a rep past the pool's holding_limit is refused. The upsert
    # locks the (pool, rep) row until commit: concurrent claims by one rep queue here, and each
    # sees the count its predecessors committed. When a lead moves between two holders the two
    # rows are locked in user-id order, so opposite reassignments cannot deadlock.
    op.execute(HOLDINGS_FUNCTION)
    op.execute("""
        CREATE TRIGGER leads_track_holdings
        AFTER INSERT OR DELETE OR UPDATE OF status, owner_id, pool_id ON leads
        FOR EACH ROW EXECUTE FUNCTION leads_track_holdings()
    """)


def downgrade():
    op.execute("DROP TRIGGER IF EXISTS leads_track_holdings ON leads")
    op.execute("DROP FUNCTION IF EXISTS leads_track_holdings()")
    op.drop_index(op.f('ix_lead_follow_ups_org_id'), table_name='lead_follow_ups')
    op.drop_index('ix_lead_follow_ups_lead_created', table_name='lead_follow_ups')
    op.drop_table('lead_follow_ups')
    op.drop_index('ix_lead_events_to_user_at', table_name='lead_events')
    op.drop_index('ix_lead_events_lead_at', table_name='lead_events')
    op.drop_table('lead_events')
    op.drop_table('lead_cooldowns')
    op.drop_index('uq_leads_org_phone', table_name='leads', postgresql_where=sa.text('phone_normalized IS NOT NULL'))
    op.drop_index('ix_leads_pooled_oldest', table_name='leads', postgresql_where=sa.text("status = 'pooled'"))
    op.drop_index('ix_leads_pooled_geom', table_name='leads', postgresql_using='gist', postgresql_where=sa.text("status = 'pooled'"))
    op.drop_index('ix_leads_pool_created', table_name='leads')
    op.drop_index('ix_leads_owner_status', table_name='leads')
    op.drop_index('ix_leads_geog', table_name='leads', postgresql_using='gist')
    op.drop_geospatial_table('leads')
    op.drop_table('lead_holdings')
    op.drop_table('lead_daily_claims')
    op.drop_index(op.f('ix_lead_pools_team_id'), table_name='lead_pools')
    op.drop_index(op.f('ix_lead_pools_org_id'), table_name='lead_pools')
    op.drop_table('lead_pools')
