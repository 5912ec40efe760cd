"""Making the OpenAPI document tell the truth about error responses.

Views declare the errors particular to them with `responds(blp, 403, 409)`; `finalize()` adds
the ones every operation of a kind can give (401 without a token, 404 for a path id, 400/413
for a JSON body, 503 while the database is down), so each operation lists every status it can
return and nothing else (no catch-all `default`).
"""
from http import HTTPStatus

PUBLIC_OPERATIONS = {("/api/v1/auth/login", "post"), ("/api/v1/auth/refresh", "post")}

_descriptions = []


def ref(code):
    return HTTPStatus(code).name


def responds(blp, *codes):
    """Document error responses `codes` (ErrorSchema bodies) on a view."""
    def decorator(fn):
        for code in codes:
            fn = blp.alt_response(code, response=ref(code))(fn)
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


def finalize(api):
    paths = api.spec._paths
    for path, operations in paths.items():
        if not path.startswith("/api/v1"):
            continue
        for method, op in operations.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
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
            for code in extra:
                if str(code) not in responses and code not in responses:
                    # get_ref also emits the lazily registered response component
                    responses[str(code)] = api.spec.components.get_ref("response", ref(code))
