"""HTTP helpers shared by views."""
from flask import Response, request


def none_match(etag: str) -> bool:
    """Does this GET's If-None-Match list `etag` (compared weakly, as RFC 9110 says)?"""
    if request.method != "GET":
        return False
    return etag in {t.strip().removeprefix("W/") for t in
                    request.headers.get("If-None-Match", "").split(",")}


def with_etag(resource, status=200):
    """Return `resource` with its ETag; a GET whose If-None-Match matches gets 304."""
    etag = resource.etag
    if none_match(etag):
        return Response(status=304, headers={"ETag": etag})
    return resource, status, {"ETag": etag}


def check_if_match(resource, header):
    """412 when an If-Match header names none of the resource's current ETag."""
    from fieldsales.errors import PreconditionFailed

    if not header or header.strip() == "*":
        return
    if resource.etag not in {t.strip().removeprefix("W/") for t in header.split(",")}:
        raise PreconditionFailed()
