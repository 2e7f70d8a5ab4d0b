import re
import threading

from console.cases.models import Case, Decision
from console.extensions import db
from console.media.models import MediaView
from console.queues.models import Queue
from tests import factories


def test_case_page_shows_content_user_report_time_ai_signal_and_history(ctx, client, auth):
    factories.user("moderator", email="m@example.org")
    policies = factories.policy_tree()
    q = factories.queue("AI review", "ai_review")
    c = factories.case(
        q,
        text="hello <script>alert(1)</script>",
        content_url="https://platform.example/p/1",
        images=1,
        ai_policy=policies["csam"],
        reported_user={"platform_id": "p-77", "name": "Rex Reported", "email": "rex@platform.example"},
    )
    auth.login("m@example.org")
    html = client.get(f"/cases/{c.id}").text
    assert "hello &lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html
    assert "https://platform.example/p/1" in html
    assert "Rex Reported" in html and "rex@platform.example" in html and "p-77" in html
    assert c.reported_at.strftime("%Y-%m-%d %H:%M") in html
    assert "AI signal" in html and "97%" in html and "test-model" in html
    assert "case opened" in html


def test_media_is_hidden_until_revealed_and_each_reveal_is_recorded(ctx, client, auth):
    mod = factories.user("moderator", email="m@example.org")
    c = factories.case(factories.queue(), images=2)
    first, second = c.media
    auth.login("m@example.org")
    html = client.get(f"/cases/{c.id}").text
    assert f"/media/{first.id}/file" not in html and 'class="preview"' in html
    # The file itself is refused to someone who has not revealed it: every view leaves a record.
    assert client.get(f"/cases/{c.id}/media/{first.id}/file").status_code == 403
    response = auth.post(f"/cases/{c.id}/media/{first.id}/reveal", htmx=True, token_from=f"/cases/{c.id}")
    assert response.status_code == 200 and f"/media/{first.id}/file" in response.text
    served = client.get(re.search(r'src="([^"]+/file[^"]*)"', response.text).group(1))
    assert served.status_code == 200 and served.headers["Cache-Control"] == "no-store"
    assert served.data[:8] == b"\x89PNG\r\n\x1a\n"
    views = db.session.scalars(db.select(MediaView)).all()
    assert [(v.media_id, v.user_id) for v in views] == [(first.id, mod.id)]
    assert client.get(f"/cases/{c.id}/media/{second.id}/file").status_code == 403
    assert "media revealed" in client.get(f"/cases/{c.id}").text


def test_media_of_another_case_is_not_served(ctx, client, auth):
    factories.user("moderator", email="m@example.org")
    q = factories.queue()
    a, b = factories.case(q, images=1), factories.case(q, images=1)
    auth.login("m@example.org")
    response = auth.post(f"/cases/{a.id}/media/{b.media[0].id}/reveal", token_from=f"/cases/{a.id}")
    assert response.status_code == 404


def test_confirming_a_violation_moves_the_case_out_of_the_queue(ctx, client, auth):
    factories.user("moderator", email="m@example.org")
    policies = factories.policy_tree()
    q = factories.queue()
    c = factories.case(q, text="spammy")
    auth.login("m@example.org")
    response = auth.post(
        f"/cases/{c.id}/decision",
        {"verdict": "violation", "policy": policies["spam"].id},
        htmx=True,
        token_from=f"/cases/{c.id}",
    )
    assert (
        response.status_code == 200
        and "Violation confirmed" in response.text
        and "case decided" in response.text
    )
    assert "<html" not in response.text
    db.session.expire_all()
    assert db.session.get(Case, c.id).status == "violation"
    assert db.session.get(Queue, q.id).open_cases == 0
    assert "spammy" not in client.get(f"/queues/{q.id}").text


def test_violation_without_policy_shows_the_field_error(ctx, client, auth):
    factories.user("moderator", email="m@example.org")
    c = factories.case(factories.queue())
    auth.login("m@example.org")
    response = auth.post(
        f"/cases/{c.id}/decision", {"verdict": "violation", "policy": 0}, token_from=f"/cases/{c.id}"
    )
    assert response.status_code == 422 and "Choose the policy that was violated." in response.text
    assert db.session.get(Case, c.id).status == "open"


def test_oversized_note_is_refused_with_the_field_error(ctx, client, auth):
    factories.user("moderator", email="m@example.org")
    c = factories.case(factories.queue())
    auth.login("m@example.org")
    response = auth.post(
        f"/cases/{c.id}/decision",
        {"verdict": "no_violation", "note": "x" * 5000},
        token_from=f"/cases/{c.id}",
    )
    assert response.status_code == 422 and "2000 characters" in response.text


def test_second_moderator_is_told_the_case_was_already_decided(ctx, client, auth):
    factories.user("moderator", email="m1@example.org", name="First Mod")
    other = factories.user("moderator", email="m2@example.org")
    c = factories.case(factories.queue())
    from console.cases.service import decide

    decide(c.id, "no_violation", None, other)
    auth.login("m1@example.org")
    policies = factories.policy_tree()
    response = auth.post(
        f"/cases/{c.id}/decision",
        {"verdict": "violation", "policy": policies["spam"].id},
        htmx=True,
        token_from=f"/cases/{c.id}",
    )
    assert "already decided by" in response.text and other.name in response.text
    assert db.session.get(Case, c.id).status == "no_violation"


def test_concurrent_decisions_exactly_one_wins(app):
    with app.app_context():
        mods = [factories.user("moderator") for _ in range(6)]
        policies = factories.policy_tree()
        c = factories.case(factories.queue())
        ids = [m.id for m in mods]
        case_id, spam = c.id, policies["spam"].id
    from console.accounts.models import User
    from console.cases.service import AlreadyDecided, decide

    barrier = threading.Barrier(len(ids))
    results = []

    def worker(uid):
        with app.app_context():
            moderator = db.session.get(User, uid)
            db.session.commit()  # no transaction held while waiting: on SQLite it would hold the write lock
            barrier.wait()
            try:
                decide(case_id, "violation", spam, moderator)
                results.append("won")
            except AlreadyDecided:
                results.append("refused")

    threads = [threading.Thread(target=worker, args=(uid,)) for uid in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["refused"] * 5 + ["won"]
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Decision)) == 1
        assert db.session.get(Queue, db.session.get(Case, case_id).queue_id).open_cases == 0


def test_unknown_case_is_a_404_page(ctx, client, auth):
    factories.user("moderator", email="m@example.org")
    auth.login("m@example.org")
    response = client.get("/cases/999999")
    assert response.status_code == 404 and "Not found" in response.text
