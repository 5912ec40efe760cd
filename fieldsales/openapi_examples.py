"""Realistic request examples for the rep's day (a shop in Shanghai), by operationId.

`openapi.finalize` puts each on its operation's JSON request body, where Swagger UI and client
generators show it.
"""
_SHOP = {"lat": 31.2304, "lng": 121.4737}
_FIX = {**_SHOP, "accuracy_m": 12.5, "crs": "wgs84", "provider": "fused"}
_CUSTOMER = "0b6f5bd2-6a4f-4a53-9f4b-3c1d3b8a2e10"
_VISIT = "6f1c2a90-3d4b-4c1e-8a57-2b9d7e4f0c31"
_LEAD = "c2d8e4f6-7a1b-4c3d-9e5f-a0b1c2d3e4f5"

REQUESTS = {
    "login": {"email": "rep1@demo.fieldsales.dev", "password": "fieldsales-demo"},
    "create_customer": {
        "id": _CUSTOMER, "name": "Jing'an Mart (Nanjing W Rd)",
        "address": "1266 Nanjing West Road, Jing'an, Shanghai", "phone": "+86 21 6288 0000",
        "location": {**_SHOP, "crs": "gcj02"}, "tags": ["grocery", "key-account"],
        "status": "active"},
    "check_in": {
        "id": _VISIT, "customer_id": _CUSTOMER, "location": _FIX,
        "device_time": "2026-03-02T10:15:00+08:00", "purpose": "Monthly order review"},
    "check_out": {
        "location": {**_FIX, "lat": 31.2306, "accuracy_m": 9.0},
        "device_time": "2026-03-02T10:48:00+08:00",
        "summary": "Agreed the spring order; wants samples of the new line.",
        "outcome": "order", "next_follow_up_at": "2026-03-09T10:00:00+08:00"},
    "claim_next_lead": {"near": {"lat": 31.2243, "lng": 121.4452, "accuracy_m": 20}},
    "sync": {"events": [
        {"type": "check_in", "id": _VISIT, "customer_id": _CUSTOMER, "location": _FIX,
         "device_time": "2026-03-02T10:15:00+08:00"},
        {"type": "check_out", "visit_id": _VISIT, "location": _FIX,
         "device_time": "2026-03-02T10:48:00+08:00"},
        {"type": "follow_up", "lead_id": _LEAD, "id": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
         "method": "call", "note": "Called the buyer; call back after the holiday."}]},
}


def apply(op):
    """Set the request example of an operation, if there is one."""
    example = REQUESTS.get(op.get("operationId"))
    content = op.get("requestBody", {}).get("content", {}).get("application/json")
    if example is not None and content is not None:
        content.setdefault("example", example)
