"""Response schemas list every field as `required`: our dumps always write every declared field
(null where the field is nullable), so a generated client may rely on it being there.

A schema reached from a request as well is left alone (there `required` means "must be sent").
A response field that really can be absent says so with `metadata={"x_optional": True}`.
"""
OPTIONAL = "x-optional"
_NESTING = ("items", "additionalProperties", "not")
_CHOICES = ("allOf", "anyOf", "oneOf")


def mark_required(schemas, paths):
    """Set `required` on every component schema reached from a 1xx-3xx response only;
    return the names of those reached from both sides (left as they are)."""
    responses, requests = set(), set()
    for operations in paths.values():
        for method, op in operations.items():
            if not isinstance(op, dict):
                continue
            if method == "parameters":
                _reach(schemas, [p.get("schema") for p in op], requests)
                continue
            _reach(schemas, [p.get("schema") for p in op.get("parameters", [])], requests)
            _reach(schemas, [c.get("schema") for c in
                             op.get("requestBody", {}).get("content", {}).values()], requests)
            for status, response in op.get("responses", {}).items():
                if isinstance(response, dict) and str(status)[0] in "123":
                    _reach(schemas, [c.get("schema") for c in
                                     response.get("content", {}).values()], responses)
    for name in responses - requests:
        properties = schemas[name].get("properties", {})
        required = [key for key, prop in properties.items()
                    if not prop.pop(OPTIONAL, False) and not prop.get("writeOnly")]
        if required:
            schemas[name]["required"] = required
    return responses & requests


def _reach(schemas, roots, seen):
    stack = [r for r in roots if r]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
            continue
        if not isinstance(node, dict):
            continue
        ref = node.get("$ref", "")
        if ref.startswith("#/components/schemas/"):
            name = ref.rsplit("/", 1)[-1]
            if name not in seen and name in schemas:
                seen.add(name)
                stack.append(schemas[name])
            continue
        stack.extend(node.get("properties", {}).values())
        stack.extend(node[key] for key in _NESTING + _CHOICES if key in node)
