"""Helpers for demo data: ids derived from names (uuid5), so a second run finds what the first
made and only adds what is missing."""
import uuid

from fieldsales.extensions import db

NS = uuid.UUID("6f1c1a52-8d7e-4c55-9f43-0d7c2f5e1b10")


def sid(*parts) -> uuid.UUID:
    return uuid.uuid5(NS, "/".join(parts))


def get_or_add(model, id_, **fields):
    # Tenant rows are keyed (org_id, id); orgs by id.
    row = db.session.get(model, (fields["org_id"], id_) if "org_id" in fields else id_)
    if row is None:
        row = model(id=id_, **fields)
        db.session.add(row)
        db.session.flush()
    return row
