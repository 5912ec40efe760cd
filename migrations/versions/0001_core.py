"""core: orgs, users, teams, auth, customers, projects, audit

Revision ID: 0001
Revises:
"""
from alembic import op
import sqlalchemy as sa
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    # Created by `make run`/`make test` as superuser already; here for external databases.
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_table('login_throttle',
    sa.Column('key', sa.String(), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('window_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_login_throttle'))
    )
    op.create_table('orgs',
    sa.Column('name', sa.String(), nullable=False),
    sa.Column('timezone', sa.String(), server_default='UTC', nullable=False),
    sa.Column('workdays', postgresql.ARRAY(sa.SmallInteger()), server_default=sa.text("'{1,2,3,4,5}'"), nullable=False),
    sa.Column('geofence_radius_m', sa.Integer(), server_default='200', nullable=False),
    sa.Column('low_accuracy_m', sa.Integer(), server_default='100', nullable=False),
    sa.Column('max_speed_kmh', sa.Integer(), server_default='200', nullable=False),
    sa.Column('min_visit_minutes', sa.Integer(), server_default='2', nullable=False),
    sa.Column('photo_max_mb', sa.Integer(), server_default='15', nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('statement_timestamp()'), nullable=False),
    sa.CheckConstraint('geofence_radius_m > 0', name=op.f('ck_orgs_geofence_positive')),
    sa.CheckConstraint('low_accuracy_m > 0', name=op.f('ck_orgs_low_accuracy_positive')),
    sa.CheckConstraint('max_speed_kmh > 0', name=op.f('ck_orgs_max_speed_positive')),
    sa.CheckConstraint('min_visit_minutes >= 0', name=op.f('ck_orgs_min_visit_nonnegative')),
    sa.CheckConstraint('photo_max_mb BETWEEN 1 AND 100', name=op.f('ck_orgs_photo_max_mb_range')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_orgs'))
    )
    op.create_table('audit_entries',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Uuid(), nullable=True),
    sa.Column('action', sa.String(), nullable=False),
    sa.Column('entity_type', sa.String(), nullable=False),
    sa.Column('entity_id', sa.Uuid(), nullable=True),
    sa.Column('data', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('prev_hash', sa.String(), nullable=False),
    sa.Column('hash', sa.String(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_audit_entries_org_id_orgs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_entries')),
    sa.UniqueConstraint('user_id', 'seq', name=op.f('uq_audit_entries_user_id_seq'))
    )
    op.create_index('ix_audit_entries_entity', 'audit_entries', ['entity_type', 'entity_id'], unique=False)
    op.create_index('ix_audit_entries_org_at', 'audit_entries', ['org_id', 'at'], unique=False)
    op.create_index(op.f('ix_audit_entries_org_id'), 'audit_entries', ['org_id'], unique=False)
    op.create_table('audit_heads',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('hash', sa.String(), nullable=False),
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_audit_heads_org_id_orgs')),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_audit_heads'))
    )
    op.create_index(op.f('ix_audit_heads_org_id'), 'audit_heads', ['org_id'], unique=False)
    op.create_table('teams',
    sa.Column('name', sa.String(), nullable=False),
    sa.Column('parent_id', sa.Uuid(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('statement_timestamp()'), nullable=False),
    sa.Column('created_by', sa.Uuid(), nullable=True),
    sa.Column('request_hash', sa.String(), nullable=True),
    sa.ForeignKeyConstraint(['org_id', 'parent_id'], ['teams.org_id', 'teams.id'], name=op.f('fk_teams_org_id_parent_id_teams')),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_teams_org_id_orgs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_teams')),
    sa.UniqueConstraint('org_id', 'id', name=op.f('uq_teams_org_id_id'))
    )
    op.create_index(op.f('ix_teams_org_id'), 'teams', ['org_id'], unique=False)
    op.create_table('users',
    sa.Column('email', sa.String(), nullable=False),
    sa.Column('name', sa.String(), nullable=False),
    sa.Column('role', sa.String(), nullable=False),
    sa.Column('team_id', sa.Uuid(), nullable=True),
    sa.Column('timezone', sa.String(), nullable=True),
    sa.Column('active', sa.Boolean(), server_default='true', nullable=False),
    sa.Column('password_hash', sa.String(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('statement_timestamp()'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('statement_timestamp()'), nullable=False),
    sa.Column('created_by', sa.Uuid(), nullable=True),
    sa.Column('request_hash', sa.String(), nullable=True),
    sa.CheckConstraint("role IN ('admin', 'manager', 'hr', 'rep')", name=op.f('ck_users_role')),
    sa.ForeignKeyConstraint(['org_id', 'team_id'], ['teams.org_id', 'teams.id'], name=op.f('fk_users_org_id_team_id_teams')),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_users_org_id_orgs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('org_id', 'id', name=op.f('uq_users_org_id_id'))
    )
    op.create_index(op.f('ix_users_org_id'), 'users', ['org_id'], unique=False)
    op.create_index(op.f('ix_users_team_id'), 'users', ['team_id'], unique=False)
    op.create_index('uq_users_email_lower', 'users', [sa.literal_column('lower(email)')], unique=True)
    op.create_geospatial_table('customers',
    sa.Column('name', sa.String(), nullable=False),
    sa.Column('address', sa.String(), nullable=True),
    sa.Column('phone', sa.String(), nullable=True),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('lng', sa.Float(), nullable=True),
    sa.Column('geom', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), sa.Computed('ST_SetSRID(ST_MakePoint(lng, lat), 4326)', persisted=True), nullable=True),
    sa.Column('geofence_radius_m', sa.Integer(), nullable=True),
    sa.Column('owner_id', sa.Uuid(), nullable=True),
    sa.Column('team_id', sa.Uuid(), nullable=True),
    sa.Column('tags', postgresql.ARRAY(sa.String()), server_default=sa.text("'{}'"), nullable=False),
    sa.Column('status', sa.String(), server_default='active', nullable=False),
    sa.Column('custom', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'"), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('statement_timestamp()'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('statement_timestamp()'), nullable=False),
    sa.Column('created_by', sa.Uuid(), nullable=True),
    sa.Column('request_hash', sa.String(), nullable=True),
    sa.CheckConstraint("status IN ('prospect', 'active', 'inactive')", name=op.f('ck_customers_status')),
    sa.CheckConstraint('(lat IS NULL) = (lng IS NULL)', name=op.f('ck_customers_lat_lng_together')),
    sa.CheckConstraint('geofence_radius_m IS NULL OR geofence_radius_m > 0', name=op.f('ck_customers_radius')),
    sa.ForeignKeyConstraint(['org_id', 'owner_id'], ['users.org_id', 'users.id'], name=op.f('fk_customers_org_id_owner_id_users')),
    sa.ForeignKeyConstraint(['org_id', 'team_id'], ['teams.org_id', 'teams.id'], name=op.f('fk_customers_org_id_team_id_teams')),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_customers_org_id_orgs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customers')),
    sa.UniqueConstraint('org_id', 'id', name=op.f('uq_customers_org_id_id'))
    )
    op.create_index('ix_customers_geog', 'customers', [sa.literal_column('geography(geom)')], unique=False, postgresql_using='gist')
    op.create_index('ix_customers_name_trgm', 'customers', ['name'], unique=False, postgresql_using='gin', postgresql_ops={'name': 'gin_trgm_ops'})
    op.create_index(op.f('ix_customers_org_id'), 'customers', ['org_id'], unique=False)
    op.create_index('ix_customers_org_updated', 'customers', ['org_id', 'updated_at'], unique=False)
    op.create_index(op.f('ix_customers_owner_id'), 'customers', ['owner_id'], unique=False)
    op.create_index('ix_customers_tags', 'customers', ['tags'], unique=False, postgresql_using='gin')
    op.create_index(op.f('ix_customers_team_id'), 'customers', ['team_id'], unique=False)
    op.create_table('refresh_tokens',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('family_id', sa.Uuid(), nullable=False),
    sa.Column('token_hash', sa.String(), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('statement_timestamp()'), nullable=False),
    sa.ForeignKeyConstraint(['org_id', 'user_id'], ['users.org_id', 'users.id'], name=op.f('fk_refresh_tokens_org_id_user_id_users')),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_refresh_tokens_org_id_orgs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_refresh_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_refresh_tokens_token_hash'))
    )
    op.create_index(op.f('ix_refresh_tokens_family_id'), 'refresh_tokens', ['family_id'], unique=False)
    op.create_index(op.f('ix_refresh_tokens_org_id'), 'refresh_tokens', ['org_id'], unique=False)
    op.create_index(op.f('ix_refresh_tokens_user_id'), 'refresh_tokens', ['user_id'], unique=False)
    op.create_table('contacts',
    sa.Column('customer_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(), nullable=False),
    sa.Column('title', sa.String(), nullable=True),
    sa.Column('phone', sa.String(), nullable=True),
    sa.Column('email', sa.String(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('statement_timestamp()'), nullable=False),
    sa.Column('created_by', sa.Uuid(), nullable=True),
    sa.Column('request_hash', sa.String(), nullable=True),
    sa.ForeignKeyConstraint(['org_id', 'customer_id'], ['customers.org_id', 'customers.id'], name=op.f('fk_contacts_org_id_customer_id_customers')),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_contacts_org_id_orgs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contacts')),
    sa.UniqueConstraint('org_id', 'id', name=op.f('uq_contacts_org_id_id'))
    )
    op.create_index(op.f('ix_contacts_customer_id'), 'contacts', ['customer_id'], unique=False)
    op.create_index(op.f('ix_contacts_org_id'), 'contacts', ['org_id'], unique=False)
    op.create_table('projects',
    sa.Column('customer_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(), nullable=False),
    sa.Column('stage', sa.String(), server_default='prospecting', nullable=False),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('owner_id', sa.Uuid(), nullable=False),
    sa.Column('expected_close_date', sa.Date(), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('statement_timestamp()'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('statement_timestamp()'), nullable=False),
    sa.Column('created_by', sa.Uuid(), nullable=True),
    sa.Column('request_hash', sa.String(), nullable=True),
    sa.CheckConstraint("stage IN ('prospecting', 'needs_analysis', 'demo', 'quote', 'negotiation', 'won', 'lost')", name=op.f('ck_projects_stage')),
    sa.CheckConstraint('amount IS NULL OR amount >= 0', name=op.f('ck_projects_amount')),
    sa.ForeignKeyConstraint(['org_id', 'customer_id'], ['customers.org_id', 'customers.id'], name=op.f('fk_projects_org_id_customer_id_customers')),
    sa.ForeignKeyConstraint(['org_id', 'owner_id'], ['users.org_id', 'users.id'], name=op.f('fk_projects_org_id_owner_id_users')),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_projects_org_id_orgs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_projects')),
    sa.UniqueConstraint('org_id', 'id', name=op.f('uq_projects_org_id_id'))
    )
    op.create_index(op.f('ix_projects_customer_id'), 'projects', ['customer_id'], unique=False)
    op.create_index(op.f('ix_projects_org_id'), 'projects', ['org_id'], unique=False)
    op.create_index(op.f('ix_projects_owner_id'), 'projects', ['owner_id'], unique=False)
    op.create_table('contact_records',
    sa.Column('customer_id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('method', sa.String(), nullable=False),
    sa.Column('contact_id', sa.Uuid(), nullable=True),
    sa.Column('visit_id', sa.Uuid(), nullable=True),
    sa.Column('summary', sa.String(), nullable=False),
    sa.Column('outcome', sa.String(), nullable=True),
    sa.Column('next_follow_up_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('statement_timestamp()'), nullable=False),
    sa.Column('created_by', sa.Uuid(), nullable=True),
    sa.Column('request_hash', sa.String(), nullable=True),
    sa.CheckConstraint("method IN ('visit', 'call', 'message', 'email', 'meeting')", name=op.f('ck_contact_records_method')),
    sa.ForeignKeyConstraint(['org_id', 'contact_id'], ['contacts.org_id', 'contacts.id'], name=op.f('fk_contact_records_org_id_contact_id_contacts')),
    sa.ForeignKeyConstraint(['org_id', 'customer_id'], ['customers.org_id', 'customers.id'], name=op.f('fk_contact_records_org_id_customer_id_customers')),
    sa.ForeignKeyConstraint(['org_id', 'user_id'], ['users.org_id', 'users.id'], name=op.f('fk_contact_records_org_id_user_id_users')),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_contact_records_org_id_orgs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contact_records'))
    )
    op.create_index('ix_contact_records_customer_created', 'contact_records', ['customer_id', 'created_at'], unique=False)
    op.create_index(op.f('ix_contact_records_org_id'), 'contact_records', ['org_id'], unique=False)
    op.create_index(op.f('ix_contact_records_visit_id'), 'contact_records', ['visit_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_contact_records_visit_id'), table_name='contact_records')
    op.drop_index(op.f('ix_contact_records_org_id'), table_name='contact_records')
    op.drop_index('ix_contact_records_customer_created', table_name='contact_records')
    op.drop_table('contact_records')
    op.drop_index(op.f('ix_projects_owner_id'), table_name='projects')
    op.drop_index(op.f('ix_projects_org_id'), table_name='projects')
    op.drop_index(op.f('ix_projects_customer_id'), table_name='projects')
    op.drop_table('projects')
    op.drop_index(op.f('ix_contacts_org_id'), table_name='contacts')
    op.drop_index(op.f('ix_contacts_customer_id'), table_name='contacts')
    op.drop_table('contacts')
    op.drop_index(op.f('ix_refresh_tokens_user_id'), table_name='refresh_tokens')
    op.drop_index(op.f('ix_refresh_tokens_org_id'), table_name='refresh_tokens')
    op.drop_index(op.f('ix_refresh_tokens_family_id'), table_name='refresh_tokens')
    op.drop_table('refresh_tokens')
    op.drop_index(op.f('ix_customers_team_id'), table_name='customers')
    op.drop_index('ix_customers_tags', table_name='customers', postgresql_using='gin')
    op.drop_index(op.f('ix_customers_owner_id'), table_name='customers')
    op.drop_index('ix_customers_org_updated', table_name='customers')
    op.drop_index(op.f('ix_customers_org_id'), table_name='customers')
    op.drop_index('ix_customers_name_trgm', table_name='customers', postgresql_using='gin', postgresql_ops={'name': 'gin_trgm_ops'})
    op.drop_index('ix_customers_geog', table_name='customers', postgresql_using='gist')
    op.drop_geospatial_table('customers')
    op.drop_index('uq_users_email_lower', table_name='users')
    op.drop_index(op.f('ix_users_team_id'), table_name='users')
    op.drop_index(op.f('ix_users_org_id'), table_name='users')
    op.drop_table('users')
    op.drop_index(op.f('ix_teams_org_id'), table_name='teams')
    op.drop_table('teams')
    op.drop_index(op.f('ix_audit_heads_org_id'), table_name='audit_heads')
    op.drop_table('audit_heads')
    op.drop_index(op.f('ix_audit_entries_org_id'), table_name='audit_entries')
    op.drop_index('ix_audit_entries_org_at', table_name='audit_entries')
    op.drop_index('ix_audit_entries_entity', table_name='audit_entries')
    op.drop_table('audit_entries')
    op.drop_table('orgs')
    op.drop_table('login_throttle')
