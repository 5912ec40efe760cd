from flask import request
from fieldsales.extensions import Blueprint

from fieldsales.customers import service
from fieldsales.customers.schemas import (ContactCreateSchema, ContactRecordCreateSchema,
                                          ContactRecordSchema, ContactSchema,
                                          CustomerCreateSchema, CustomerPatchSchema,
                                          CustomerQuerySchema, CustomerSchema,
                                          TimelineItemSchema)
from fieldsales.openapi import replayed, responds
from fieldsales.web import with_etag
from fieldsales.auth.guard import current

blp = Blueprint("customers", __name__, url_prefix="/api/v1",
                description="Customer cards, contacts, follow-ups, timeline")


@blp.get("/customers")
@blp.arguments(CustomerQuerySchema, location="query")
@blp.response(200, CustomerSchema(many=True))
@blp.paginate()
def list_customers(filters, pagination_parameters):
    """Search customers; with `near`, nearest first and each with `distance_m`."""
    return service.list_customers(principal=current(), filters=filters,
                                  page=pagination_parameters)


@blp.post("/customers")
@blp.arguments(CustomerCreateSchema)
@blp.response(201, CustomerSchema, headers={"ETag": {"schema": {"type": "string"}}})
@replayed(blp, CustomerSchema)
@responds(blp, 403, 409, "duplicate_customer", "duplicate_lead")
def create_customer(data):
    """Create a customer card (location accepts `crs`)."""
    customer, created = service.create_customer(principal=current(), data=data)
    return with_etag(customer, 201 if created else 200)


@blp.get("/customers/<uuid:customer_id>")
@blp.response(200, CustomerSchema, headers={"ETag": {"schema": {"type": "string"}}})
@blp.alt_response(304, description="Not modified (If-None-Match matched the ETag)")
def get_customer(customer_id):
    """Get a customer card (with ETag; If-None-Match → 304)."""
    return with_etag(service.get_customer(principal=current(), customer_id=customer_id))


@blp.patch("/customers/<uuid:customer_id>")
@blp.arguments(CustomerPatchSchema)
@blp.response(200, CustomerSchema, headers={"ETag": {"schema": {"type": "string"}}})
@blp.doc(parameters=[{"in": "header", "name": "If-Match", "required": False,
                      "schema": {"type": "string"},
                      "description": "ETag from a GET; a stale one → 412"}])
@responds(blp, 403, 412, "duplicate_customer", "duplicate_lead")
def update_customer(data, customer_id):
    """Edit a customer (owner, its managers, admin). If-Match with a stale ETag → 412."""
    customer = service.update_customer(principal=current(), customer_id=customer_id, data=data,
                                       if_match=request.headers.get("If-Match"))
    return with_etag(customer)


@blp.get("/customers/<uuid:customer_id>/timeline")
@blp.response(200, TimelineItemSchema(many=True))
@blp.paginate()
def customer_timeline(customer_id, pagination_parameters):
    """The customer's history (your visible visits, contact records, projects), newest first."""
    return service.customer_timeline(principal=current(), customer_id=customer_id,
                                     page=pagination_parameters)


@blp.get("/customers/<uuid:customer_id>/contacts")
@blp.response(200, ContactSchema(many=True))
@blp.paginate()
def list_contacts(customer_id, pagination_parameters):
    """Contacts of a customer."""
    return service.list_contacts(principal=current(), customer_id=customer_id,
                                 page=pagination_parameters)


@blp.post("/customers/<uuid:customer_id>/contacts")
@blp.arguments(ContactCreateSchema)
@blp.response(201, ContactSchema)
@replayed(blp, ContactSchema)
@responds(blp, 403, 409)
def create_contact(data, customer_id):
    """Add a contact person to a customer."""
    contact, created = service.create_contact(principal=current(), customer_id=customer_id,
                                              data=data)
    return contact, 201 if created else 200


@blp.get("/customers/<uuid:customer_id>/contact-records")
@blp.response(200, ContactRecordSchema(many=True))
@blp.paginate()
def list_contact_records(customer_id, pagination_parameters):
    """Follow-up log of a customer, newest first."""
    return service.list_contact_records(principal=current(), customer_id=customer_id,
                                        page=pagination_parameters)


@blp.post("/customers/<uuid:customer_id>/contact-records")
@blp.arguments(ContactRecordCreateSchema)
@blp.response(201, ContactRecordSchema)
@replayed(blp, ContactRecordSchema)
@responds(blp, 403, 409)
def create_contact_record(data, customer_id):
    """Log a follow-up (call, message, email, meeting, visit) on a customer."""
    record, created = service.create_contact_record(principal=current(),
                                                    customer_id=customer_id, data=data)
    return record, 201 if created else 200
