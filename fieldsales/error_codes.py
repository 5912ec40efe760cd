"""Every snake_case `error` code the API answers: its HTTP status and what it means for a client.

The OpenAPI document lists them per operation and response (`openapi.finalize`), so a code
raised anywhere in fieldsales/ must be catalogued here (tests/contract checks it).
"""

CODES = {
    # any operation, by kind (added by openapi.finalize)
    "bad_request": (400, "the body is not valid JSON"),
    "missing_token": (401, "no `Authorization: Bearer` header"),
    "invalid_token": (401, "the access token is not valid"),
    "token_expired": (401, "the access token has expired: refresh it"),
    "user_inactive": (401, "the account is deactivated"),
    "forbidden": (403, "the caller may see this resource but not do this"),
    "not_found": (404, "no such resource, or one the caller may not see"),
    "idempotency_conflict": (409, "this `id` was already used for a different request"),
    "precondition_failed": (412, "`If-Match` does not match the current ETag"),
    "payload_too_large": (413, "the body is larger than allowed"),
    "unsupported_media_type": (415, "the body's content type is not accepted"),
    "validation_error": (422, "a field is not valid: see `errors`"),
    "invalid_text": (422, "text contains a NUL character or an unpaired surrogate"),
    "database_unavailable": (503, "the database is unavailable: retry shortly"),
    # particular operations (declared with `responds(blp, "code", ...)` on the view)
    "invalid_credentials": (401, "wrong email or password"),
    "invalid_refresh_token": (401, "the refresh token is unknown, expired or revoked"),
    "refresh_token_reused": (401, "a spent refresh token was replayed: the whole login is "
                                  "revoked"),
    "too_many_attempts": (429, "too many failed logins for this email and address"),
    "webhook_url_private": (422, "the webhook URL's host is loopback, private or link-local "
                                 "(allowed only with FIELDSALES_WEBHOOK_PRIVATE_TARGETS)"),
    "email_taken": (409, "a user with this email already exists"),
    "self_lockout": (409, "you cannot deactivate or demote yourself"),
    "team_cycle": (422, "a team cannot be placed under itself or one of its sub-teams"),
    "already_checked_out": (409, "the visit is already checked out"),
    "upload_window_closed": (409, "photos can be added until 2 hours after check-out"),
    "image_too_large": (422, "the image has too many pixels"),
    "invalid_image": (422, "the file is not a readable image"),
    "storage_unavailable": (503, "the photo store is unavailable: retry later"),
    "direct_upload_unavailable": (409, "direct upload needs the S3 photo store: send the photo "
                                       "as multipart"),
    "upload_missing": (422, "nothing was uploaded under the key: PUT the photo to the "
                            "upload-url first"),
    "upload_mismatch": (422, "the key is not this visit's, or the uploaded object is not the "
                             "declared bytes"),
    "photo_damaged": (500, "the stored photo file is missing or no longer matches its SHA-256"),
    "duplicate_lead": (409, "a live lead already has this phone number or company name (撞单); "
                            "`kind`: phone|company, `owner`: {id, name} of its holder or null"),
    "duplicate_customer": (409, "a customer already has this phone number or company name "
                                "(撞单); `kind`: phone|company, `owner`: {id, name} or null"),
    "lead_not_dead": (422, "only a dead lead can be revived"),
    "invalid_csv": (422, "the CSV file cannot be read (encoding, header)"),
    "already_claimed": (409, "someone else claimed the lead first"),
    "lead_closed": (409, "the lead is converted or dead"),
    "lead_not_claimed": (409, "the lead is not claimed by anyone"),
    "holding_limit_reached": (422, "the caller (or, assigning, the recipient; distributing, "
                                   "every rep) holds as many leads of this pool as allowed"),
    "daily_claim_limit_reached": (422, "the caller claimed as many leads of this pool today "
                                       "as allowed"),
    "cooldown_active": (422, "the caller released this lead recently (`until` says when it "
                             "may claim it again)"),
    "pool_empty": (404, "no lead in the pool is claimable by the caller (claim-next) or "
                        "waiting to be distributed (distribute) right now"),
    "distribution_off": (409, "the pool's assignment strategy is `claim`: reps claim leads "
                              "themselves"),
    "no_recipients": (422, "no active rep can receive leads from this pool"),
    "not_lead_owner": (403, "only the lead's current owner may do this"),
    "too_many_features": (422, "too many visits for one GeoJSON answer: use clusters or tiles"),
    "date_in_future": (422, "this date has not begun yet in the rep's time zone"),
    "report_too_old": (422, "the report is older than the write-back window"),
    "report_locked": (409, "the report is submitted or approved"),
    "report_not_submitted": (409, "only submitted reports can be reviewed"),
    "plan_closed": (409, "the plan is no longer `planned` (done, missed or cancelled)"),
    "contract_number_taken": (409, "another contract of the organisation has this number"),
    "contract_terminated": (409, "the contract is terminated: no payments, plans, edits or "
                                 "renewal"),
    "already_renewed": (409, "the contract was already renewed (by another renewal)"),
    "overpaid": (422, "the payment would take what was received past the contract amount"),
    "plans_exceed_contract": (422, "the payment plans would add up to more than the contract "
                                   "amount"),
    "stage_backwards": (409, "a project's stage moves forward only (reopening a won or lost "
                             "project is for the owner's managers and admins)"),
    "target_exists": (409, "a target for this metric, period and subject already exists"),
    "allocation_short": (422, "the target's children add up to less than the target"),
    "no_approver": (422, "nobody but the requester could decide this approval (no manager "
                         "above, no other admin)"),
    "already_decided": (409, "this step of the approval was already decided the other way"),
    "approval_closed": (409, "the approval is no longer pending (approved, rejected or "
                             "withdrawn)"),
}

# Codes every operation answering with this status can give, whatever it does.
GENERIC = {
    400: ("bad_request",),
    401: ("missing_token", "invalid_token", "token_expired", "user_inactive"),
    403: ("forbidden",),
    404: ("not_found",),
    412: ("precondition_failed",),
    413: ("payload_too_large",),
    415: ("unsupported_media_type",),
    422: ("validation_error",),
    503: ("database_unavailable",),
}


def status_of(code):
    return CODES[code][0]
