"""visits and photos: check-in/check-out evidence, photo evidence, contact_records.visit_id FK

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_geospatial_table('visits',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('customer_id', sa.Uuid(), nullable=False),
    sa.Column('project_id', sa.Uuid(), nullable=True),
    sa.Column('purpose', sa.String(), nullable=True),
    sa.Column('note', sa.String(), nullable=True),
    sa.Column('status', sa.String(), server_default='open', nullable=False),
    sa.Column('in_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('in_device_time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('in_received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('in_lat', sa.Float(), nullable=False),
    sa.Column('in_lng', sa.Float(), nullable=False),
    sa.Column('in_accuracy_m', sa.Float(), nullable=True),
    sa.Column('in_altitude_m', sa.Float(), nullable=True),
    sa.Column('in_provider', sa.String(), nullable=True),
    sa.Column('in_mock', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('in_distance_m', sa.Float(), nullable=True),
    sa.Column('in_within_geofence', sa.Boolean(), nullable=True),
    sa.Column('out_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('out_device_time', sa.DateTime(timezone=True), nullable=True),
    sa.Column('out_received_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('in_geom', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), sa.Computed('ST_SetSRID(ST_MakePoint(in_lng, in_lat), 4326)', persisted=True), nullable=True),
    sa.Column('out_lat', sa.Float(), nullable=True),
    sa.Column('out_lng', sa.Float(), nullable=True),
    sa.Column('out_accuracy_m', sa.Float(), nullable=True),
    sa.Column('out_altitude_m', sa.Float(), nullable=True),
    sa.Column('out_provider', sa.String(), nullable=True),
    sa.Column('out_mock', sa.Boolean(), nullable=True),
    sa.Column('out_distance_m', sa.Float(), nullable=True),
    sa.Column('out_within_geofence', sa.Boolean(), nullable=True),
    sa.Column('out_request_hash', sa.String(), nullable=True),
    sa.Column('summary', sa.String(), nullable=True),
    sa.Column('outcome', sa.String(), nullable=True),
    sa.Column('next_follow_up_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_by', sa.String(), nullable=True),
    sa.Column('out_geom', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), sa.Computed('ST_SetSRID(ST_MakePoint(out_lng, out_lat), 4326)', persisted=True), nullable=True),
    sa.Column('flags', postgresql.ARRAY(sa.String()), server_default=sa.text("'{}'"), nullable=False),
    sa.Column('risk_score', sa.SmallInteger(), server_default='0', nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('statement_timestamp()'), nullable=False),
    sa.Column('created_by', sa.Uuid(), nullable=True),
    sa.Column('request_hash', sa.String(), nullable=True),
    sa.CheckConstraint("(closed_by = 'rep') = (out_at IS NOT NULL)", name=op.f('ck_visits_check_out_by_rep')),
    sa.CheckConstraint("(status = 'open') = (closed_at IS NULL)", name=op.f('ck_visits_closed_when_closed')),
    sa.CheckConstraint("closed_by IS NULL OR closed_by IN ('rep', 'auto')", name=op.f('ck_visits_closed_by')),
    sa.CheckConstraint("status IN ('open', 'closed')", name=op.f('ck_visits_status')),
    sa.CheckConstraint('closed_at IS NULL OR closed_at >= in_at', name=op.f('ck_visits_closed_after_check_in')),
    sa.CheckConstraint('risk_score BETWEEN 0 AND 100', name=op.f('ck_visits_risk_score')),
    sa.ForeignKeyConstraint(['org_id', 'customer_id'], ['customers.org_id', 'customers.id'], name=op.f('fk_visits_org_id_customer_id_customers')),
    sa.ForeignKeyConstraint(['org_id', 'project_id'], ['projects.org_id', 'projects.id'], name=op.f('fk_visits_org_id_project_id_projects')),
    sa.ForeignKeyConstraint(['org_id', 'user_id'], ['users.org_id', 'users.id'], name=op.f('fk_visits_org_id_user_id_users')),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_visits_org_id_orgs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visits')),
    sa.UniqueConstraint('org_id', 'id', name=op.f('uq_visits_org_id_id'))
    )
    op.create_index('ix_visits_customer_in_at', 'visits', ['customer_id', 'in_at'], unique=False)
    op.create_geospatial_index('ix_visits_in_geom', 'visits', ['in_geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_visits_org_id'), 'visits', ['org_id'], unique=False)
    op.create_index('ix_visits_org_in_at', 'visits', ['org_id', 'in_at'], unique=False)
    op.create_index('ix_visits_project_id', 'visits', ['project_id'], unique=False, postgresql_where=sa.text('project_id IS NOT NULL'))
    op.create_index('ix_visits_user_in_at', 'visits', ['user_id', 'in_at'], unique=False)
    op.create_index('ix_visits_user_out_at', 'visits', ['user_id', 'out_at'], unique=False, postgresql_where=sa.text('out_at IS NOT NULL'))
    op.create_index('uq_visits_open_user', 'visits', ['user_id'], unique=True, postgresql_where=sa.text("status = 'open'"))
    op.create_table('photos',
    sa.Column('visit_id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('content_type', sa.String(), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('byte_size', sa.BigInteger(), nullable=False),
    sa.Column('taken_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('exif_lat', sa.Float(), nullable=True),
    sa.Column('exif_lng', sa.Float(), nullable=True),
    sa.Column('source', sa.String(), server_default='camera', nullable=False),
    sa.Column('flags', postgresql.ARRAY(sa.String()), server_default=sa.text("'{}'"), nullable=False),
    sa.Column('phash', sa.BigInteger(), nullable=False),
    sa.Column('phash_b0', sa.Integer(), nullable=False),
    sa.Column('phash_b1', sa.Integer(), nullable=False),
    sa.Column('phash_b2', sa.Integer(), nullable=False),
    sa.Column('phash_b3', sa.Integer(), nullable=False),
    sa.Column('storage_key', sa.String(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('statement_timestamp()'), nullable=False),
    sa.Column('created_by', sa.Uuid(), nullable=True),
    sa.Column('request_hash', sa.String(), nullable=True),
    sa.CheckConstraint("source IN ('camera', 'gallery')", name=op.f('ck_photos_source')),
    sa.CheckConstraint('(exif_lat IS NULL) = (exif_lng IS NULL)', name=op.f('ck_photos_exif_lat_lng_together')),
    sa.CheckConstraint('length(sha256) = 64', name=op.f('ck_photos_sha256_hex')),
    sa.ForeignKeyConstraint(['org_id', 'user_id'], ['users.org_id', 'users.id'], name=op.f('fk_photos_org_id_user_id_users')),
    sa.ForeignKeyConstraint(['org_id', 'visit_id'], ['visits.org_id', 'visits.id'], name=op.f('fk_photos_org_id_visit_id_visits')),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_photos_org_id_orgs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_photos')),
    sa.UniqueConstraint('org_id', 'id', name=op.f('uq_photos_org_id_id')),
    sa.UniqueConstraint('visit_id', 'sha256', name=op.f('uq_photos_visit_id_sha256'))
    )
    op.create_index(op.f('ix_photos_org_id'), 'photos', ['org_id'], unique=False)
    op.create_index('ix_photos_org_phash_b0', 'photos', ['org_id', 'phash_b0'], unique=False)
    op.create_index('ix_photos_org_phash_b1', 'photos', ['org_id', 'phash_b1'], unique=False)
    op.create_index('ix_photos_org_phash_b2', 'photos', ['org_id', 'phash_b2'], unique=False)
    op.create_index('ix_photos_org_phash_b3', 'photos', ['org_id', 'phash_b3'], unique=False)
    op.create_index('ix_photos_org_sha256', 'photos', ['org_id', 'sha256'], unique=False)
    op.create_foreign_key('fk_contact_records_org_id_visit_id_visits', 'contact_records', 'visits', ['org_id', 'visit_id'], ['org_id', 'id'])


def downgrade():
    op.drop_constraint('fk_contact_records_org_id_visit_id_visits', 'contact_records', type_='foreignkey')
    op.drop_index('ix_photos_org_sha256', table_name='photos')
    op.drop_index('ix_photos_org_phash_b3', table_name='photos')
    op.drop_index('ix_photos_org_phash_b2', table_name='photos')
    op.drop_index('ix_photos_org_phash_b1', table_name='photos')
    op.drop_index('ix_photos_org_phash_b0', table_name='photos')
    op.drop_index(op.f('ix_photos_org_id'), table_name='photos')
    op.drop_table('photos')
    op.drop_index('uq_visits_open_user', table_name='visits', postgresql_where=sa.text("status = 'open'"))
    op.drop_index('ix_visits_user_out_at', table_name='visits', postgresql_where=sa.text('out_at IS NOT NULL'))
    op.drop_index('ix_visits_user_in_at', table_name='visits')
    op.drop_index('ix_visits_project_id', table_name='visits', postgresql_where=sa.text('project_id IS NOT NULL'))
    op.drop_index('ix_visits_org_in_at', table_name='visits')
    op.drop_index(op.f('ix_visits_org_id'), table_name='visits')
    op.drop_geospatial_index('ix_visits_in_geom', table_name='visits', postgresql_using='gist', column_name='in_geom')
    op.drop_index('ix_visits_customer_in_at', table_name='visits')
    op.drop_geospatial_table('visits')
