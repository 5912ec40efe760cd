"""Making the OpenAPI document tell generated clients the truth.

Views declare the errors particular to them with `responds(blp, 403, 409, "already_claimed")`
(statuses, and domain `error` codes from `error_codes.CODES`); `finalize()` then, for every
operation:
- adds the error responses every operation of a kind can give (401 without a token, 404 for a
  path id, 400/413/422 for a JSON body, 503 while the database is down), so each operation
  lists every status it can return and nothing else (no catch-all `default`);
- lists on each error response the `error` codes it can carry (`x-error-codes` and the
  description: generators keep the first, people read the second);
- names the operation (`operationId`: the view function's name unless `OPERATION_IDS` says
  better), so generated clients get `check_in()` rather than `post_api_v1_visits()`;
- sets the request examples of `openapi_examples`;
- marks every field of a response schema `required` (`response_schemas.mark_required`).
"""
import re
from http import HTTPStatus

from fieldsales import error_codes, openapi_examples, response_schemas
from fieldsales.schemas import Variants

PUBLIC_OPERATIONS = {("/api/v1/auth/login", "post"), ("/api/v1/auth/refresh", "post")}
METHODS = ("get", "post", "put", "patch", "delete")

# Where the view's name reads badly out of context (endpoint → operationId).
OPERATION_IDS = {
    "auth.me": "get_me",
    "auth.refresh": "refresh_tokens",
    "org.get_settings": "get_org_settings",
    "org.update_settings": "update_org_settings",
    "audit.verify": "verify_audit",
    "attendance.evidence": "get_attendance_evidence",
    "leads.list_pools": "list_lead_pools",
    "leads.create_pool": "create_lead_pool",
    "leads.get_pool": "get_lead_pool",
    "leads.update_pool": "update_lead_pool",
    "leads.claim_next": "claim_next_lead",
    "leads.list_follow_ups": "list_lead_follow_ups",
    "leads.add_follow_up": "add_lead_follow_up",
    "leads.mark_dead": "mark_lead_dead",
    "leads.list_events": "list_lead_events",
    "reports.get_report": "get_daily_report",
    "reports.save_report": "save_daily_report",
    "reports.list_reports": "list_daily_reports",
    "reports.review_report": "review_daily_report",
    "photos.photo_original": "get_photo_original",
    "photos.photo_preview": "get_photo_preview",
    "photos.photo_thumbnail": "get_photo_thumbnail",
    "maps.map_tile": "get_map_tile",
    "maps.map_visits": "get_map_visits",
    "maps.map_clusters": "get_map_clusters",
    "maps.map_route": "get_map_route",
    "customers.customer_timeline": "get_customer_timeline",
}

ERROR_CODES_KEY = "x-error-codes"

_descriptions = []


def ref(code):
    return HTTPStatus(code).name


def responds(blp, *codes):
    """Document error responses (ErrorSchema bodies) on a view: HTTP statuses, and domain
    `error` codes (their status is documented with them)."""
    statuses = sorted({c if isinstance(c, int) else error_codes.status_of(c) for c in codes})
    domain = [c for c in codes if isinstance(c, str)]

    def decorator(fn):
        for code in statuses:
            fn = blp.alt_response(code, response=ref(code))(fn)
        if domain:
            fn = blp.doc(**{ERROR_CODES_KEY: domain})(fn)
        return fn
    return decorator


def replayed(blp, schema):
    """Document the 200 a create answers when it is a retry of an earlier one with the same id."""
    return blp.alt_response(
        200, schema=schema,
        description="A retry of an earlier create with the same id and body: the stored resource.",
    )


def describe(text):
    """Add a section to the API description (rules a client must know, e.g. risk weights)."""
    _descriptions.append(text.strip())


def description():
    return "\n\n".join(_descriptions)


describe("""
**Error codes.** Every error body carries a snake_case `error` code for programs. Each error
response of an operation lists the codes it can carry, in its description and as a list in the
`x-error-codes` extension (for generators and tools). Any operation may also answer
405 `method_not_allowed` and, on a bug, 500 `internal_error`.
""")


def init(api):
    """Spec plugins that must be in place before the blueprints are registered."""
    api.ma_plugin.converter.add_attribute_function(nullable_enum)
    api.ma_plugin.converter.add_attribute_function(variants)


def nullable_enum(converter, field, ret, **kwargs):
    """A nullable enum lists `null` among its values (else generated clients reject null)."""
    if field.allow_none and "enum" in ret and None not in ret["enum"]:
        return {"enum": [*ret["enum"], None]}
    return {}


def variants(converter, field, ret, **kwargs):
    """`Variants` fields: a `oneOf` with a discriminator mapping, or an `anyOf`."""
    if not isinstance(field, Variants):
        return {}
    refs = {key: converter.resolve_nested_schema(schema)
            for key, schema in field.variants.items()}
    if field.discriminator is None:
        return {"anyOf": list(refs.values())}
    return {"oneOf": list(refs.values()), "discriminator": {
        "propertyName": field.discriminator,
        "mapping": {key: ref["$ref"] for key, ref in refs.items()}}}


def _endpoints(app):
    """(OpenAPI path, method) → Flask endpoint."""
    out = {}
    for rule in app.url_map.iter_rules():
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        for method in rule.methods:
            out[(path, method.lower())] = rule.endpoint
    return out


def finalize(api, app):
    endpoints = _endpoints(app)
    components = api.spec.components
    for path, operations in api.spec._paths.items():
        for method, op in operations.items():
            if method not in METHODS:
                continue
            endpoint = endpoints[(path, method)]
            op.setdefault("operationId", OPERATION_IDS.get(endpoint, endpoint.split(".")[-1]))
            openapi_examples.apply(op)
            _raw_bodies_are_bytes(op)
            if path.startswith("/api/v1"):
                _error_responses(components, path, method, op)
    response_schemas.mark_required(components.schemas, api.spec._paths)


def _raw_bodies_are_bytes(op):
    """A raw body (CSV …) is bytes to a client: as a plain string, openapi-python-client emits
    code that cannot send it, and reads bytes into a `str`."""
    bodies = [op.get("requestBody", {})] + [r for r in op.get("responses", {}).values()
                                            if isinstance(r, dict)]
    for body in bodies:
        for media_type, content in body.get("content", {}).items():
            schema = content.get("schema", {})
            if "json" not in media_type and "form" not in media_type \
                    and schema.get("type") == "string":
                schema.setdefault("format", "binary")


def _error_responses(components, path, method, op):
    responses = op.setdefault("responses", {})
    extra = [503]
    if (path, method) not in PUBLIC_OPERATIONS:
        extra.append(401)
    if "{" in path:
        extra.append(404)
    body = op.get("requestBody", {}).get("content", {})
    if "application/json" in body:
        extra += [400, 413, 422]
    elif body:
        extra += [413]
    if _creates_with_id(components, body):
        extra.append(409)
    for code in extra:
        if str(code) not in responses and code not in responses:
            # get_ref also emits the lazily registered response component
            responses[str(code)] = components.get_ref("response", ref(code))
    declared = op.pop(ERROR_CODES_KEY, [])
    for status in list(responses):
        if int(status) < 400:
            continue
        codes = list(error_codes.GENERIC.get(int(status), ()))
        if int(status) == 422 and "application/json" in body:
            codes.append("invalid_text")
        if int(status) == 401 and (path, method) in PUBLIC_OPERATIONS:
            codes = []
        if int(status) == 409 and _creates_with_id(components, body):
            codes.append("idempotency_conflict")
        codes += [c for c in declared if error_codes.status_of(c) == int(status)]
        responses[status] = _listed(responses[status], codes)


def _creates_with_id(components, body):
    """A create taking a client id (IdArg) answers 409 idempotency_conflict on a reused id."""
    for content in body.values():
        schema = content.get("schema", {})
        if "$ref" in schema:
            schema = components.schemas.get(schema["$ref"].rsplit("/", 1)[-1], {})
        if "id" in schema.get("properties", {}):
            return True
    return False


def _listed(response, codes):
    """The error response (inlined: a `$ref` cannot carry siblings) with its codes."""
    if isinstance(response, str) or "$ref" in response:
        name = response if isinstance(response, str) else response["$ref"]
        status = HTTPStatus[name.rsplit("/", 1)[-1]]
        response = {"description": status.phrase,
                    "content": {"application/json": {"schema": {"$ref":
                                                                "#/components/schemas/Error"}}}}
    if not codes:
        return response
    codes = list(dict.fromkeys(codes))
    lines = "\n".join(f"- `{c}`: {error_codes.CODES[c][1]}" for c in codes)
    return {**response, "description": f"{response['description']}. Error codes:\n{lines}",
            ERROR_CODES_KEY: codes}
