"""Verifying the audit chains: consistent and complete.

Consistent: every entry's HMAC recomputes and links to the one before; every chain has its
head and agrees with it; no chain is shorter than, or diverges from, the latest checkpoint.
Complete: every visit, photo, daily report and lead event has its sealing entry (anti-joins in
SQL) and still matches the evidence that entry sealed (digests recomputed in batches).

Evidence versions: an entry records `evidence_version`; entries written before versions existed
are version 1 and are recomputed in that form. Lead events were not sealed one by one before
version 2: such a legacy event must be matched by a legacy `lead.<action>` entry about its
lead (counted per lead and action), and imported ones by their `lead.imported` entry's digest
of the lead ids.
"""
import hashlib
import uuid
from collections import defaultdict

from sqlalchemy import select, text

from fieldsales.audit import checkpoint
from fieldsales.audit.models import AuditEntry, AuditHead
from fieldsales.audit.service import EVIDENCE_LOADERS, GENESIS, _entry_payload, _hmac
from fieldsales.audit.service import evidence_digest
from fieldsales.extensions import db

PROBLEM_LIMIT = 1000  # problems listed; `problems_total` counts them all
BATCH = 2000

# Sealed rows: table, the column naming whose chain seals them. Lead events are sealed by
# `lead` entries naming them in data.lead_event_id (their chain is the user the move is about).
SEALED = {"visit": ("visits", "user_id"), "photo": ("photos", "user_id"),
          "daily_report": ("daily_reports", "user_id")}


class _Report:
    def __init__(self):
        self.problems, self.total = [], 0

    def add(self, kind, detail, **fields):
        self.total += 1
        if len(self.problems) < PROBLEM_LIMIT:
            clean = {k: str(v) if isinstance(v, uuid.UUID) else v
                     for k, v in fields.items() if v is not None}
            self.problems.append({"kind": kind, **clean, "detail": detail})


def sealed_key(data, entity_type, entity_id):
    """(type, id) of the row an entry seals."""
    if "lead_event_id" in data:
        return "lead_event", uuid.UUID(data["lead_event_id"])
    return entity_type, entity_id


def _filters(alias, org_id, user_id, user_column="user_id"):
    """SQL conditions (constant text) and their parameters."""
    where, params = ["true"], {}
    if org_id is not None:
        where.append(f"{alias}.org_id = :org_id")
        params["org_id"] = org_id
    if user_id is not None:
        where.append(f"{alias}.{user_column} = :user_id")
        params["user_id"] = user_id
    return " AND ".join(where), params


def verify(*, org_id=None, user_id=None, progress=None) -> dict:
    """Every check, for every org (org_id None), one org, or one user's chain and rows."""
    report = _Report()
    say = progress or (lambda msg: None)
    try:
        cp_name, cp_chains = checkpoint.latest_checkpoint()
    except ValueError as exc:
        report.add("checkpoint_invalid", str(exc))
        cp_name, cp_chains = None, {}
    cp_chains = {k: v for k, v in cp_chains.items()
                 if (org_id is None or k[0] == str(org_id))
                 and (user_id is None or k[1] == str(user_id))}
    chains, latest, entries = _walk_chains(report, org_id, user_id, cp_chains, say)
    _check_heads(report, chains, org_id, user_id)
    for (org, uid), (seq, _hash) in cp_chains.items():
        last = chains.get((uuid.UUID(org), uuid.UUID(uid)), (0, None))[0]
        if last < seq:
            report.add("checkpoint_truncated", f"the chain ends at seq {last}; checkpoint "
                       f"{cp_name} saw it at seq {seq}", user_id=uid, seq=last + 1)
    say(f"verified {len(chains)} chains, {entries} entries; checking sealed rows")
    _check_evidence(report, latest)
    for entity_type in SEALED:
        _check_sealed(report, entity_type, org_id, user_id)
    _check_lead_events(report, org_id, user_id)
    say(f"checked sealed rows: {report.total} problems")
    seqs = [p["seq"] for p in report.problems if "seq" in p]
    first = next((p for p in report.problems if "seq" in p), None)
    return {"ok": report.total == 0, "chains": len(chains), "entries": entries,
            "first_bad_seq": (min(seqs) if user_id is not None else first["seq"])
            if seqs else None,
            "first_bad_user_id": first.get("user_id") if first else None,
            "checkpoint": cp_name, "problems": report.problems,
            "problems_total": report.total}


def _walk_chains(report, org_id, user_id, cp_chains, say):
    """Recompute every entry in chain order (streamed). Returns ({chain: (last seq, hash)},
    {sealed key: latest sealing entry}, number of entries)."""
    stmt = select(AuditEntry.__table__).order_by(AuditEntry.org_id, AuditEntry.user_id,
                                                 AuditEntry.seq)
    if org_id is not None:
        stmt = stmt.where(AuditEntry.org_id == org_id)
    if user_id is not None:
        stmt = stmt.where(AuditEntry.user_id == user_id)
    chains, latest, n = {}, {}, 0
    chain, expected, prev = None, 1, GENESIS
    for e in db.session.execute(stmt.execution_options(yield_per=BATCH)):
        n += 1
        if n % 50000 == 0:
            say(f"verified {n} entries")
        if (e.org_id, e.user_id) != chain:
            chain, expected, prev = (e.org_id, e.user_id), 1, GENESIS
        if e.seq != expected:
            report.add("entries_missing", f"seq {expected} to {e.seq - 1} are missing",
                       user_id=e.user_id, seq=expected)
        elif e.prev_hash != prev:
            report.add("chain_broken", "prev_hash does not link to the entry before",
                       user_id=e.user_id, seq=e.seq)
        if e.hash != _hmac(e.prev_hash, _entry_payload(e)):
            report.add("entry_tampered", "the entry's hash does not recompute",
                       user_id=e.user_id, seq=e.seq, entity_type=e.entity_type,
                       entity_id=e.entity_id)
        cp = cp_chains.get((str(e.org_id), str(e.user_id)))
        if cp is not None and cp[0] == e.seq and cp[1] != e.hash:
            report.add("checkpoint_diverged", "the entry differs from the one the latest "
                       "checkpoint saw at this seq", user_id=e.user_id, seq=e.seq)
        if "evidence_sha256" in e.data:
            # A row may be sealed in more than one chain (a contract handed to a new owner is
            # sealed again in its chain): the latest in time counts, not the last chain walked.
            key = sealed_key(e.data, e.entity_type, e.entity_id)
            if key not in latest or latest[key][4] <= e.at:
                latest[key] = (e.user_id, e.seq, e.data["evidence_sha256"],
                               e.data.get("evidence_version", 1), e.at)
        chains[chain] = (e.seq, e.hash)
        expected, prev = e.seq + 1, e.hash
    return chains, latest, n


def _check_heads(report, chains, org_id, user_id):
    stmt = select(AuditHead.org_id, AuditHead.user_id, AuditHead.seq, AuditHead.hash)
    if org_id is not None:
        stmt = stmt.where(AuditHead.org_id == org_id)
    if user_id is not None:
        stmt = stmt.where(AuditHead.user_id == user_id)
    heads = {(h.org_id, h.user_id): (h.seq, h.hash) for h in db.session.execute(stmt)}
    for key, (seq, hash_) in chains.items():
        head = heads.get(key)
        if head is None:
            report.add("head_missing", "the chain has entries but no head", user_id=key[1],
                       seq=seq)
        elif head != (seq, hash_):
            report.add("head_mismatch", f"the head says seq {head[0]}, the chain ends at "
                       f"seq {seq}", user_id=key[1], seq=min(seq, head[0]) + 1)
    for key, (seq, _hash) in heads.items():
        if key not in chains and seq > 0:
            report.add("entries_missing", f"the head says seq {seq} but the chain has no "
                       "entries", user_id=key[1], seq=1)


def _check_evidence(report, latest):
    """Each sealed row, as stored now, against the latest entry that sealed it."""
    groups = defaultdict(list)
    for (entity_type, entity_id), (_uid, _seq, _digest, version, _at) in latest.items():
        if entity_type in EVIDENCE_LOADERS:
            groups[(entity_type, version)].append(entity_id)
    for (entity_type, version), ids in groups.items():
        for i in range(0, len(ids), BATCH):
            batch = ids[i:i + BATCH]
            live = EVIDENCE_LOADERS[entity_type](batch, version)
            for entity_id in batch:
                uid, seq, digest, _v, at = latest[(entity_type, entity_id)]
                current = live.get(entity_id)
                if current is not None and evidence_digest(current) != digest:
                    # Verifying one chain: a later seal in another chain may own the row now.
                    digest = _newer_seal(entity_type, entity_id, at) or digest
                if current is None:
                    report.add("sealed_row_missing", f"the sealed {entity_type} is gone",
                               entity_type=entity_type, entity_id=entity_id, user_id=uid,
                               seq=seq)
                elif evidence_digest(current) != digest:
                    report.add("evidence_mismatch", f"the {entity_type} differs from what "
                               "was sealed", entity_type=entity_type, entity_id=entity_id,
                               user_id=uid, seq=seq)


def _newer_seal(entity_type, entity_id, at):
    """The digest of a seal of this row later than `at`, in any chain (None: there is none)."""
    return db.session.scalar(
        select(AuditEntry.data["evidence_sha256"].astext)
        .where(AuditEntry.entity_type == entity_type, AuditEntry.entity_id == entity_id,
               AuditEntry.at > at, AuditEntry.data.has_key("evidence_sha256"))
        .order_by(AuditEntry.at.desc()).limit(1))


def _check_sealed(report, entity_type, org_id, user_id):
    """Rows that no entry on their user's chain seals (one anti-join)."""
    table, user_column = SEALED[entity_type]
    where, params = _filters("r", org_id, user_id, user_column)
    sql = (f"SELECT r.id, r.{user_column} AS user_id FROM {table} r WHERE {where} "  # noqa: S608
           "AND NOT EXISTS (SELECT 1 FROM audit_entries e WHERE e.entity_type = :etype "
           f"AND e.entity_id = r.id AND e.org_id = r.org_id AND e.user_id = r.{user_column} "
           "AND e.data ? 'evidence_sha256') ORDER BY r.id")
    for row in db.session.execute(text(sql), {**params, "etype": entity_type}):
        report.add("seal_missing", f"no audit entry seals this {entity_type}",
                   entity_type=entity_type, entity_id=row.id, user_id=row.user_id)


_UNSEALED_EVENTS = """
    SELECT le.id, le.org_id, le.lead_id, le.action, le.actor_id, le.at FROM lead_events le
    WHERE {where} AND NOT EXISTS (
        SELECT 1 FROM audit_entries e WHERE e.org_id = le.org_id AND e.entity_type = 'lead'
        AND e.entity_id = le.lead_id AND e.data->>'lead_event_id' = le.id::text)
    ORDER BY le.org_id, le.lead_id, le.action, le.id
"""
_LEGACY_ENTRIES = """
    SELECT e.org_id, e.entity_id AS lead_id, substr(e.action, 6) AS action, count(*) AS n
    FROM audit_entries e
    WHERE {where} AND e.entity_type = 'lead' AND e.action LIKE 'lead.%%'
      AND NOT e.data ? 'lead_event_id'
    GROUP BY 1, 2, 3
"""
_IMPORT_ENTRIES = """
    SELECT e.org_id, e.user_id, e.seq, e.data->>'lead_ids_sha256' AS digest FROM audit_entries e
    WHERE {where} AND e.action = 'lead.imported' AND (e.data->>'created')::int > 0
"""


def _check_lead_events(report, org_id, user_id):
    """Lead events without a version-2 seal must be legacy events a legacy entry accounts
    for; version-2 seals were already matched by _check_evidence."""
    from fieldsales.leads.models import EVENT_ACTIONS

    where, params = _filters("le", org_id, None)
    if user_id is not None:
        where += " AND :user_id IN (le.actor_id, le.from_user_id, le.to_user_id)"
        params["user_id"] = user_id
    unsealed = db.session.execute(text(_UNSEALED_EVENTS.format(where=where)), params).all()
    e_where, e_params = _filters("e", org_id, None)
    legacy = {(r.org_id, r.lead_id, r.action): r.n for r in db.session.execute(
        text(_LEGACY_ENTRIES.format(where=e_where)), e_params)}
    groups, counted = defaultdict(list), defaultdict(list)
    for ev in unsealed:
        if ev.action == "imported":
            groups[(ev.org_id, ev.actor_id, ev.at)].append(ev)
        else:
            counted[(ev.org_id, ev.lead_id, ev.action)].append(ev)
    for key, events in counted.items():
        for ev in events[legacy.get(key, 0):]:
            report.add("seal_missing", f"no audit entry seals this lead event ({ev.action})",
                       entity_type="lead_event", entity_id=ev.id)
    if user_id is None:  # a legacy event deleted: its entry is left over
        for (org, lead_id, action), n in legacy.items():
            if action in EVENT_ACTIONS and n > len(counted.get((org, lead_id, action), ())):
                report.add("sealed_row_missing", f"a sealed lead event ({action}) is gone",
                           entity_type="lead", entity_id=lead_id)
    imports = {(r.org_id, r.digest): r for r in db.session.execute(
        text(_IMPORT_ENTRIES.format(where=e_where)), e_params)}
    matched = set()
    for (org, _actor, _at), events in groups.items():
        ids = "\n".join(sorted(str(ev.lead_id) for ev in events))
        key = (org, hashlib.sha256(ids.encode()).hexdigest())
        if key in imports:
            matched.add(key)
            continue
        for ev in events:
            report.add("seal_missing", "no audit entry seals this lead event (imported)",
                       entity_type="lead_event", entity_id=ev.id)
    if user_id is None:
        for key, entry in imports.items():
            if key not in matched:
                report.add("sealed_row_missing", "the lead events of this import are gone "
                           "or changed", user_id=entry.user_id, seq=entry.seq)
