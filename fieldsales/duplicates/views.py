from fieldsales.auth.guard import current
from fieldsales.duplicates import service
from fieldsales.duplicates.schemas import DuplicateQuerySchema, DuplicateSchema
from fieldsales.extensions import Blueprint
from fieldsales.openapi import describe

blp = Blueprint("duplicates", __name__, url_prefix="/api/v1",
                description="The duplicate guard (撞单): who already holds a phone or company")

describe("""
### Duplicate guard (撞单)

A normalised phone number (digits only; +86 / 0086 / 86 in front of a mobile number, spaces,
dashes and brackets ignored) and a normalised company name (a customer's `name`, a lead's
`company`; case, full-width characters and runs of spaces ignored) belong to one customer or
one live lead (pooled or claimed) per organisation. Creating or editing a customer or a lead
that would take a key someone else holds answers 409 `duplicate_customer` or `duplicate_lead`
with `kind` (`phone` or `company`) and `owner` (`{id, name}` of the holder's owner, or null for
a pooled lead or an unowned card), also when both are created at the same moment. A dead or
converted lead holds nothing: converting a lead hands its keys to the customer it becomes. A
lead import counts rows whose phone or company is held (or repeated earlier in the file) as
`duplicates`. `GET /duplicates` lets the app warn before saving.
""")


@blp.get("/duplicates")
@blp.arguments(DuplicateQuerySchema, location="query")
@blp.response(200, DuplicateSchema(many=True))
def find_duplicates(query):
    """Customers and live leads holding this phone or company name (contact masked as for
    leads)."""
    return service.find(principal=current(), phone=query.get("phone"),
                        company=query.get("company"))
