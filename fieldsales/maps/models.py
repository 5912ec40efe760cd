"""The map's index on visits (the table is the visits domain's; this is what maps add to it).

Map reads choose visits by check-in time AND place (a day in a city viewport, a tile). With
separate indexes PostgreSQL can only AND two bitmaps, and the place bitmap of a busy city holds
every visit ever made there (measured on the 1M-visit bench set: 190,000 entries read to keep
1,955; 58 ms). One GiST over (in_at, in_geom) (btree_gist gives GiST the timestamp) finds
exactly the matching rows: 12 ms for the same query.
"""
from sqlalchemy import Index

from fieldsales.visits.models import Visit

visits_in_at_in_geom = Index("ix_visits_in_at_in_geom", Visit.__table__.c.in_at,
                             Visit.__table__.c.in_geom, postgresql_using="gist")
