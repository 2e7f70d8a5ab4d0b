"""Load a large, realistic console database into PostgreSQL with COPY (not ORM objects), in minutes.

    .venv/bin/python bench/generate.py [--db console_bench] [--cases 1000000] [--reports 3000] [--seed 7]
        [--now 2026-06-01T00:00:00+00:00]

Creates the database (dropping an earlier one of the same name; only names starting with console_bench),
runs the migrations there, then COPYs policies, queues, users, reported users, cases, decisions (one per
decided case; AI-reviewed ones get the AI's decision too), media rows, external reports with their files and
the audit trail. Foreign keys and secondary indexes are dropped during the load and put back after it (exactly
the definitions the migrations made), the queues' `open_cases` and per-hour counters are set from the data,
then VACUUM ANALYZE.
The moderators sign in with bench/common.py's BENCH_PASSWORD.

Each queue gets an SLA target and an order (QUEUE_REVIEW), each case a report count and its priority rank
(console/cases/priority.py); the moderators hold claims (most live, some expired); a few cases are assigned.
Cases are dated back from --now (default: the current hour), so that the backlog is recent when the pages are
measured and the SLA windows hold what they would in production.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common  # noqa: E402
from console.ncmec import IncidentType  # noqa: E402

CSAM = IncidentType.CHILD_PORNOGRAPHY.value
ENTICEMENT = IncidentType.ONLINE_ENTICEMENT.value
# (slug, name, parent, incident type, weight among cases)
POLICIES = [
    ("child-safety", "Child safety", None, CSAM, 1),
    ("csam", "CSAM", "child-safety", CSAM, 3),
    ("grooming", "Grooming", "child-safety", ENTICEMENT, 2),
    ("sextortion", "Sextortion", "child-safety", ENTICEMENT, 1),
    ("spam", "Spam", None, None, 40),
    ("scam", "Scams and fraud", "spam", None, 10),
    ("harassment", "Harassment", None, None, 20),
    ("bullying", "Bullying", "harassment", None, 8),
    ("hate", "Hate speech", None, None, 8),
    ("violence", "Violent extremism", None, None, 3),
    ("self-harm", "Self-harm", None, None, 2),
    ("nudity", "Adult nudity", None, None, 2),
]
CHILD_SAFETY = {"child-safety", "csam", "grooming", "sextortion"}
# (slug, name, source kind, weight): user reports dominate, like every platform's.
QUEUES = [
    ("user-reports", "User reports", "user_report", 40),
    ("user-reports-priority", "User reports — priority", "user_report", 8),
    ("trusted-flaggers", "Trusted flaggers", "trusted_flagger", 8),
    ("lea-requests", "Law-enforcement requests", "lea_request", 1),
    ("proactive", "Proactive detection", "proactive", 18),
    ("ai-child-safety", "AI review — child safety", "ai_review", 5),
    ("ai-spam", "AI review — spam", "ai_review", 15),
    ("appeals", "Appeals", "user_report", 5),
]
TEXTS = [
    "Buy followers now!!! cheap cheap cheap",
    "Win a free phone, click the link in my bio",
    "You are worthless and everyone knows it",
    "I know where you live, watch out",
    "(bench) slur-laden post about a group",
    "(bench) adult asks a 13-year-old to keep their chats secret and move to another app",
    "(bench) threat to share images unless the minor sends more",
    "(bench) upload flagged by a hash match",
    "Check out this amazing investment opportunity, 500% returns guaranteed",
    "(bench) video glorifying an attack",
    "",
]
MODERATORS = 40
# (SLA minutes, order) per queue slug: the queues page counts past-SLA cases window by window.
QUEUE_REVIEW = {
    "user-reports": (24 * 60, "oldest"),
    "user-reports-priority": (4 * 60, "priority"),
    "trusted-flaggers": (12 * 60, "priority"),
    "lea-requests": (12 * 60, "oldest"),
    "proactive": (48 * 60, "priority"),
    "ai-child-safety": (60, "priority"),
    "ai-spam": (72 * 60, "oldest"),
    "appeals": (7 * 24 * 60, "oldest"),
}
LIVE_CLAIMS, EXPIRED_CLAIMS, ASSIGNED = 30, 10, 200
NOW = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


def ts(moment: datetime) -> str:
    return moment.isoformat()


def n(value) -> str:
    """A COPY text field: NULL as \\N."""
    return "\\N" if value is None else str(value)


def b(value: bool) -> str:
    return "t" if value else "f"


def audit_row(at: str, actor, label: str, action: str, cid: int, details: str) -> tuple:
    """An audit event's COPY fields as the console writes them: canonical details and their content hash."""
    from console.audit import canonical_json, content_hash

    values = {
        "at": datetime.fromisoformat(at),
        "actor_id": actor,
        "actor_label": label,
        "action": action,
        "object_type": "case",
        "object_id": str(cid),
        "case_id": cid,
        "details": json.loads(details),
    }
    text = canonical_json(values["details"]).replace("\\", "\\\\")  # COPY's text format escapes backslashes
    return (at, n(actor), label, action, "case", str(cid), str(cid), text, content_hash(values))


class Loader:
    def __init__(self, conn, chunk: int = 20000):
        self.conn = conn
        self.chunk = chunk

    def copy(self, table: str, columns: list[str], rows) -> int:
        count = 0
        with self.conn.cursor() as cur:
            with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as cp:
                buf: list[str] = []
                for row in rows:
                    buf.append("\t".join(row))
                    count += 1
                    if len(buf) >= self.chunk:
                        cp.write("\n".join(buf) + "\n")
                        buf.clear()
                if buf:
                    cp.write("\n".join(buf) + "\n")
        return count


def drop_constraints(conn, tables: list[str]) -> list[str]:
    """Drop foreign keys and plain secondary indexes of `tables`; return the statements that restore them."""
    restore: list[str] = []
    fks = conn.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE contype = 'f' AND conrelid::regclass::text = ANY(%s)",
        (tables,),
    ).fetchall()
    indexes = conn.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "JOIN pg_class c ON c.oid = i.indrelid WHERE c.relname = ANY(%s) AND NOT i.indisprimary "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)",
        (tables,),
    ).fetchall()
    for table, name, _definition in fks:
        conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _definition in indexes:
        conn.execute(f"DROP INDEX {name}")
    restore += [definition for _name, definition in indexes]
    restore += [
        f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}' for table, name, definition in fks
    ]
    return restore


def generate(args) -> dict:
    import psycopg

    from console.accounts.passwords import hash_password
    from console.cases import priority
    from console.reporting import credentials

    rnd = random.Random(args.seed)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    common.create_database(args.db, replace=True)
    env = common.console_env(args.db, "bench-generate")
    common.migrate(env)
    common.use_env(env)
    timings["create + migrate"] = time.perf_counter() - t0

    conn = psycopg.connect(common.db_url(args.db), autocommit=True)
    loader = Loader(conn)
    tables = [
        "cases",
        "reported_users",
        "decisions",
        "media_files",
        "external_reports",
        "external_report_files",
        "report_contents",
        "audit_events",
    ]

    step = time.perf_counter()
    # Small tables: plain inserts.
    pw_hash = hash_password(common.BENCH_PASSWORD)
    users = [(common.BENCH_ADMIN, "Bench Admin", "admin")] + [
        (f"bench-mod{i}@example.org", f"Moderator {i}", "moderator") for i in range(1, MODERATORS + 1)
    ]
    for email, name, role in users:
        conn.execute(
            "INSERT INTO users (email, name, password_hash, role, active, created_at) "
            "VALUES (%s, %s, %s, %s, true, %s)",
            (email, name, pw_hash, role, NOW - timedelta(days=400)),
        )
    user_ids = [r[0] for r in conn.execute("SELECT id FROM users ORDER BY id")]
    moderator_ids = user_ids[1:]
    policy_ids: dict[str, int] = {}
    for slug, name, parent, incident, _w in POLICIES:
        policy_ids[slug] = conn.execute(
            "INSERT INTO policies (name, slug, parent_id, description, ncmec_incident_type) "
            "VALUES (%s, %s, %s, '', %s) RETURNING id",
            (name, slug, policy_ids.get(parent), incident),
        ).fetchone()[0]
    queue_ids: dict[str, int] = {}
    for slug, name, kind, _w in QUEUES:
        sla, order = QUEUE_REVIEW[slug]
        queue_ids[slug] = conn.execute(
            "INSERT INTO queues (name, slug, source_kind, description, open_cases, sla_minutes, "
            "review_order) VALUES (%s, %s, %s, '', 0, %s, %s) RETURNING id",
            (name, slug, kind, sla, order),
        ).fetchone()[0]
    agency_id = conn.execute("SELECT id FROM agencies WHERE slug = 'ncmec'").fetchone()[0]
    conn.execute(
        "UPDATE agencies SET environment = 'custom', custom_base_url = 'http://127.0.0.1:9/ispws', "
        "username = 'esp-bench', password_encrypted = %s WHERE id = %s",
        (credentials_encrypt(credentials, "esp-bench-password"), agency_id),
    )
    rule_id = conn.execute(
        "INSERT INTO reporting_rules (name, agency_id, review_queue_id, contact_first_name, "
        "contact_last_name, "
        "contact_email, enabled, created_at) VALUES ('NCMEC — child safety', %s, %s, 'Rita', 'Reporter', "
        "'rita@example.org', true, %s) RETURNING id",
        (agency_id, queue_ids["ai-child-safety"], NOW),
    ).fetchone()[0]
    conn.execute(
        "INSERT INTO reporting_rule_policies (rule_id, policy_id) VALUES (%s, %s)",
        (rule_id, policy_ids["child-safety"]),
    )
    restore = drop_constraints(conn, tables)
    timings["small tables, drop constraints"] = time.perf_counter() - step

    # Reported users: a long tail, a few repeat offenders.
    step = time.perf_counter()
    n_users = max(1000, args.cases // 5)

    def reported_users():
        for i in range(1, n_users + 1):
            ips = (
                json.dumps(
                    [
                        {
                            "ip": f"198.51.{i % 250}.{i % 200 + 1}",
                            "at": ts(NOW - timedelta(days=i % 300)),
                            "event": "Login",
                        }
                    ]
                )
                if i % 4 == 0
                else "[]"
            )
            yield (
                str(i),
                f"pu-{i}",
                f"Platform user {i}",
                f"user{i}@platform.example",
                f"user{i}",
                f"https://platform.example/u/{i}",
                ips,
            )

    loader.copy(
        "reported_users",
        ["id", "platform_id", "name", "email", "screen_name", "profile_url", "ip_events"],
        reported_users(),
    )
    timings["reported_users"] = time.perf_counter() - step

    # Cases, and for each decided case its decisions and audit events, in one pass.
    step = time.perf_counter()
    q_slugs = [q[0] for q in QUEUES]
    q_weights = [q[3] for q in QUEUES]
    p_slugs = [p[0] for p in POLICIES]
    p_weights = [p[4] for p in POLICIES]
    decisions: list[tuple] = []
    audits: list[tuple] = []
    media: list[tuple] = []
    violation_child_cases: list[tuple[int, int]] = []  # (case id, policy id)
    open_sample: list[int] = []  # open cases to claim and assign once loaded
    span = 365 * 24 * 3600

    def cases():
        queue_pick = rnd.choices(q_slugs, q_weights, k=args.cases)
        for cid in range(1, args.cases + 1):
            qslug = queue_pick[cid - 1]
            kind = QUEUES[q_slugs.index(qslug)][2]
            pslug = (
                ("csam" if rnd.random() < 0.5 else rnd.choice(["grooming", "sextortion"]))
                if qslug == "ai-child-safety"
                else rnd.choices(p_slugs, p_weights)[0]
            )
            policy = policy_ids[pslug]
            reported_at = NOW - timedelta(seconds=rnd.randrange(span))
            age = (NOW - reported_at).total_seconds()
            # Old cases are mostly decided; the backlog is recent (about a third of all cases are open).
            p_open = 0.9 if age < 14 * 86400 else 0.3
            status = (
                "open" if rnd.random() < p_open else ("violation" if rnd.random() < 0.35 else "no_violation")
            )
            decided_at = (
                reported_at + timedelta(minutes=rnd.randrange(5, 3 * 24 * 60)) if status != "open" else None
            )
            ai = kind in ("ai_review", "proactive")
            user = (
                min(n_users, int(rnd.paretovariate(1.2))) if rnd.random() < 0.2 else rnd.randint(1, n_users)
            )
            text = rnd.choice(TEXTS)
            url = f"https://platform.example/p/{cid}" if rnd.random() < 0.6 or not text else ""
            confirmed = policy if status == "violation" else policy
            if status != "open":
                moderator = rnd.choice(moderator_ids)
                if ai:
                    decisions.append((cid, "violation", policy, None, "ai", ts(reported_at)))
                verdict_policy = confirmed if status == "violation" else None
                decisions.append((cid, status, verdict_policy, moderator, "human", ts(decided_at)))
                audits.append(
                    (
                        ts(decided_at),
                        moderator,
                        "",
                        "case_decided",
                        cid,
                        json.dumps({"verdict": status, "policy": pslug if status == "violation" else None}),
                    )
                )
                if status == "violation" and pslug in CHILD_SAFETY:
                    violation_child_cases.append((cid, policy))
            audits.append(
                (ts(reported_at), None, "api:ingest", "case_opened", cid, json.dumps({"queue": qslug}))
            )
            if cid % 50 == 0:
                for j in range(rnd.randint(1, 3)):
                    media.append((cid, j, ts(reported_at)))
            if status == "open" and rnd.random() < 0.002:
                open_sample.append(cid)
            # Most content is reported once; some by many people (what a priority queue puts first).
            reports = 1 if rnd.random() < 0.8 else min(50, int(rnd.paretovariate(1.5)) + 1)
            confidence = round(rnd.uniform(0.6, 0.99), 3) if ai else None
            yield (
                str(cid),
                f"c-{cid}",
                str(queue_ids[qslug]),
                status,
                kind,
                "" if not ai else "model v3",
                text,
                url,
                str(user),
                ts(reported_at),
                ts(reported_at + timedelta(seconds=30)),
                str(confirmed),
                str(policy),
                b(ai),
                n(policy if ai else None),
                n(confidence),
                "bench-classifier-3" if ai else "",
                n(ts(decided_at) if decided_at else None),
                str(reports),
                str(priority.rank(kind, reports, confidence)),
            )

    loader.copy(
        "cases",
        [
            "id",
            "content_id",
            "queue_id",
            "status",
            "source_kind",
            "source_detail",
            "text",
            "content_url",
            "reported_user_id",
            "reported_at",
            "received_at",
            "policy_id",
            "reported_policy_id",
            "ai_detected",
            "ai_policy_id",
            "ai_confidence",
            "ai_model",
            "decided_at",
            "report_count",
            "priority_rank",
        ],
        cases(),
    )
    timings["cases"] = time.perf_counter() - step

    step = time.perf_counter()
    loader.copy(
        "decisions",
        ["case_id", "verdict", "policy_id", "moderator_id", "made_by", "note", "created_at"],
        ((str(c), v, n(p), n(m), by, "", at) for c, v, p, m, by, at in decisions),
    )
    timings["decisions"] = time.perf_counter() - step

    step = time.perf_counter()
    media_ids: dict[int, list[tuple[int, str, str]]] = {}

    def media_rows():
        for mid, (cid, j, at) in enumerate(media, start=1):
            sha = hashlib.sha256(f"{cid}-{j}".encode()).hexdigest()
            md5 = hashlib.md5(f"{cid}-{j}".encode()).hexdigest()  # noqa: S324 - NCMEC asks for MD5
            media_ids.setdefault(cid, []).append((mid, sha, md5))
            yield (
                str(mid),
                str(cid),
                f"bench-{cid}-{j}",
                f"file-{j}.png",
                "image/png",
                "image",
                "2048",
                sha,
                md5,
                "f",
                at,
            )

    loader.copy(
        "media_files",
        [
            "id",
            "case_id",
            "storage_key",
            "original_name",
            "mime_type",
            "kind",
            "size",
            "sha256",
            "md5",
            "has_preview",
            "created_at",
        ],
        media_rows(),
    )
    timings["media_files"] = time.perf_counter() - step

    # External reports: a few thousand child-safety violations, mostly finished.
    step = time.perf_counter()
    picked = rnd.sample(violation_child_cases, min(args.reports, len(violation_child_cases)))
    report_files: list[tuple] = []
    report_contents: list[tuple] = []

    def reports():
        for rid, (cid, _policy) in enumerate(picked, start=1):
            state = rnd.choices(["finished", "failed", "queued", "waiting_credentials"], [95, 2, 2, 1])[0]
            created = NOW - timedelta(days=rnd.randrange(300))
            files = media_ids.get(cid, [])
            # The content item (reporting.filing.content_item): the case's content id, never the bytes.
            fingerprint = "content:" + hashlib.sha256(f"c-{cid}".encode()).hexdigest()
            for pos, (mid, sha, md5) in enumerate(files):
                report_files.append((rid, mid, pos, sha, md5, state == "finished"))
            # Each report is about one content (reporting.models.ReportContent: a bundle of one).
            report_contents.append((rid, cid, fingerprint))
            payload = json.dumps({"case_id": cid, "incident_type": CSAM, "content_id": f"c-{cid}"})
            finished = state == "finished"
            audits.append(
                (
                    ts(created),
                    None,
                    "worker",
                    "report_finished" if finished else "report_created",
                    cid,
                    json.dumps({"report": rid}),
                )
            )
            yield (
                str(rid),
                str(agency_id),
                str(cid),
                str(rule_id),
                fingerprint,
                "t",
                state,
                "human",
                str(rnd.choice(moderator_ids)),
                CSAM,
                "f",
                "Rita",
                "Reporter",
                "rita@example.org",
                payload,
                n(str(100000 + rid) if finished else None),
                "0",
                "" if state != "failed" else "(bench) HTTP 500",
                "" if state != "failed" else "retry",
                ts(created),
                ts(created),
                n(ts(created) if finished else None),
                n(ts(created) if finished else None),
            )

    loader.copy(
        "external_reports",
        [
            "id",
            "agency_id",
            "case_id",
            "rule_id",
            "fingerprint",
            "live",
            "state",
            "triggered_by",
            "created_by_id",
            "incident_type",
            "escalate",
            "contact_first_name",
            "contact_last_name",
            "contact_email",
            "payload",
            "ncmec_report_id",
            "attempts",
            "last_error",
            "error_kind",
            "created_at",
            "updated_at",
            "submitted_at",
            "finished_at",
        ],
        reports(),
    )
    loader.copy(
        "external_report_files",
        [
            "report_id",
            "media_id",
            "position",
            "original_name",
            "sha256",
            "md5",
            "viewed_by_esp",
            "exif_viewed_by_esp",
            "annotations",
            "ncmec_file_id",
            "fileinfo_sent",
        ],
        (
            (str(r), str(m), str(p), "file.png", s, h, "t", "f", "[]", n(f"f{m}" if done else None), b(done))
            for r, m, p, s, h, done in report_files
        ),
    )
    loader.copy(
        "report_contents",
        ["report_id", "agency_id", "case_id", "item", "live", "position"],
        ((str(r), str(agency_id), str(c), item, "t", "0") for r, c, item in report_contents),
    )
    timings["external_reports"] = time.perf_counter() - step

    step = time.perf_counter()
    audits.sort(key=lambda a: a[0])
    loader.copy(
        "audit_events",
        [
            "at",
            "actor_id",
            "actor_label",
            "action",
            "object_type",
            "object_id",
            "case_id",
            "details",
            "content_hash",
        ],
        (audit_row(*a) for a in audits),
    )
    timings["audit_events"] = time.perf_counter() - step

    step = time.perf_counter()
    for statement in restore:
        conn.execute(statement)
    timings["indexes + foreign keys"] = time.perf_counter() - step

    step = time.perf_counter()
    for table in [
        "cases",
        "reported_users",
        "decisions",
        "media_files",
        "external_reports",
        "external_report_files",
        "report_contents",
        "audit_events",
        "users",
        "policies",
        "queues",
    ]:
        conn.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"(SELECT coalesce(max(id), 1) FROM {table}))"
        )
    # The counters the console keeps in every transaction, set once from the data.
    conn.execute(
        "UPDATE queues SET open_cases = (SELECT count(*) FROM cases "
        "WHERE cases.queue_id = queues.id AND cases.status = 'open')"
    )
    conn.execute("DELETE FROM queue_open_hours")
    conn.execute(
        "INSERT INTO queue_open_hours (queue_id, hour, open) "
        "SELECT queue_id, date_trunc('hour', reported_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', count(*) "
        "FROM cases WHERE status = 'open' GROUP BY 1, 2"
    )
    # Claims as the moderators hold them now (most live, some run out) and cases escalated to them by name.
    # Live claims last past the benchmark: they count as "claimed" on the queues page.
    wall = datetime.now(UTC)
    picked_open = rnd.sample(open_sample, min(len(open_sample), LIVE_CLAIMS + EXPIRED_CLAIMS + ASSIGNED))
    for i, cid in enumerate(picked_open[: LIVE_CLAIMS + EXPIRED_CLAIMS]):
        expires = wall + timedelta(days=7) if i < LIVE_CLAIMS else wall - timedelta(hours=1)
        conn.execute(
            "UPDATE cases SET claimed_by_id = %s, claimed_at = %s, claim_expires_at = %s, claim_token = %s "
            "WHERE id = %s",
            (
                moderator_ids[i % len(moderator_ids)],
                expires - timedelta(days=7, minutes=5),
                expires,
                f"b{i}",
                cid,
            ),
        )
    for i, cid in enumerate(picked_open[LIVE_CLAIMS + EXPIRED_CLAIMS :]):
        conn.execute(
            "UPDATE cases SET assigned_to_id = %s WHERE id = %s", (moderator_ids[i % len(moderator_ids)], cid)
        )
    # VACUUM as autovacuum leaves a table in production: with the visibility map set, counting the cases
    # within a queue's SLA window is an index-only scan (a table just filled by COPY has no map yet).
    conn.execute("VACUUM ANALYZE")
    timings["counters + claims + VACUUM ANALYZE"] = time.perf_counter() - step
    counts = {
        t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        for t in ["cases", "reported_users", "decisions", "media_files", "external_reports", "audit_events"]
    }
    conn.close()
    timings["total"] = time.perf_counter() - t0
    return {"timings": timings, "counts": counts}


def credentials_encrypt(credentials, password: str) -> bytes:
    from console import create_app

    app = create_app(
        {"CREDENTIALS_KEYS": common.BENCH_CREDENTIALS_KEY, "SQLALCHEMY_DATABASE_URI": "sqlite://"}
    )
    with app.app_context():
        return credentials.encrypt(password)


def main() -> int:
    global NOW
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default=common.DEFAULT_DB)
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--reports", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--now", type=datetime.fromisoformat, default=NOW, help="the moment cases are dated back from"
    )
    args = parser.parse_args()
    NOW = args.now
    common.print_machine()
    result = generate(args)
    for name, seconds in result["timings"].items():
        print(f"  {name:32s} {seconds:8.1f} s")
    print("rows: " + ", ".join(f"{k}={v:,}" for k, v in result["counts"].items()))
    print(f"generated {args.cases:,} cases into {args.db} in {result['timings']['total']:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
