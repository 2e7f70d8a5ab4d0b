"""Upstream systems say where the content was, send a chat thread, name the recipient and a known minor."""

from __future__ import annotations

from console.cases import kinds
from console.cases.models import Case
from console.extensions import db
from console.settings import cybertip_details
from tests import factories
from tests.api import test_ingestion
from tests.api.test_ingestion import body

api = test_ingestion.api  # the upstream system posting cases (a fixture)

CHAT = [
    {
        "sender": "acct-77",
        "recipient": "kid-12",
        "sent_at": "2024-05-01T11:58:00Z",
        "text": "hi! how old are you?",
    },
    {"sender": "kid-12", "recipient": "acct-77", "sent_at": "2024-05-01T11:59:00Z", "text": "13"},
    {
        "sender": "acct-77",
        "recipient": "kid-12",
        "sent_at": "2024-05-01T12:00:00Z",
        "text": "send me a photo,\nnobody will know",
        "attachments": [0],
    },
]


def chat_body(**overrides):
    out = body(
        content_id="dm-thread-9",
        text="",
        content_url="",
        content_kind="chat",
        internet_details={"chat_service": "Platform DMs", "chat_room": "dm:acct-77/kid-12"},
        thread=CHAT,
        intended_recipient={"platform_id": "kid-12", "screen_name": "kiddo12", "age": 13},
        victim={"platform_id": "kid-12", "first_name": "Kim", "age": 13, "date_of_birth": "2011-02-03"},
    )
    out.update(overrides)
    return out


def test_a_chat_thread_with_an_attachment_opens_one_case_with_its_messages(api):
    response = api.post_multipart(chat_body(), [("photo.png", factories.png_bytes(3), "image/png")])
    assert response.status_code == 201, response.json
    case = db.session.get(Case, response.json["case_id"])
    assert case.content_kind == "chat" and case.incident_details["chat_room"] == "dm:acct-77/kid-12"
    [photo] = case.media
    messages = case.thread_messages
    assert [m.sender for m in messages] == ["acct-77", "kid-12", "acct-77"]
    assert messages[2].media == [photo] and messages[2].text == "send me a photo,\nnobody will know"
    assert case.intended_recipient == {"platform_id": "kid-12", "screen_name": "kiddo12", "age": 13}
    assert case.victim["date_of_birth"] == "2011-02-03"
    assert kinds.kind_for(case) == "chat"


def test_a_thread_alone_is_content_enough(api):
    response = api.post(chat_body(thread=CHAT[:2]))
    assert response.status_code == 201, response.json
    response = api.post(chat_body(content_id="nothing", thread=None, content_kind=None))
    assert response.status_code == 422
    assert "thread" in response.json["errors"]["content"]


def test_each_bad_field_is_named(api):
    response = api.post(
        chat_body(
            content_kind="carrier-pigeon",
            internet_details={"chat_service": "x" * 201, "game_name": "Not a chat field"},
            thread=[
                {"sender": "", "sent_at": "2024-05-01T12:00:00", "text": "a\x00b"},
                {"sender": "a", "sent_at": "2999-01-01T00:00:00Z", "attachments": [3]},
                {"sender": "a", "sent_at": "2024-05-01T12:00:00Z", "colour": "red"},
            ],
            intended_recipient={"age": 200, "email": "no-at-sign", "shoe_size": 9},
            victim={"date_of_birth": "2011-13-45", "first_name": "N" * 101},
        )
    )
    assert response.status_code == 422
    errors = response.json["errors"]
    assert errors["content_kind"].startswith("must be one of web_page, chat")
    assert errors["thread[0].sender"] == "is required"
    assert "UTC offset" in errors["thread[0].sent_at"]
    assert "NUL" in errors["thread[0].text"]
    assert "future" in errors["thread[1].sent_at"]
    assert errors["thread[1].attachments"] == "no media part 3: the request has 0"
    assert errors["thread[2].colour"] == "unknown field"
    assert errors["thread[2].text"] == "give the message's text or its attachments"
    assert errors["intended_recipient.age"].startswith("must be a whole number")
    assert errors["intended_recipient.email"] == "is not an email address"
    assert errors["intended_recipient.shoe_size"] == "unknown field"
    assert errors["victim.date_of_birth"] == "must be a date, YYYY-MM-DD"
    assert errors["victim.first_name"] == "must be at most 100 characters"
    # Once the kind is valid, a field of another kind is refused by name.
    response = api.post(chat_body(internet_details={"game_name": "Roblox"}))
    assert response.json["errors"]["internet_details.game_name"] == "is not a field of content kind chat"


def test_the_platforms_content_type_maps_to_a_kind(api):
    cybertip_details.map_content_type("Forum_Post", "web_page")
    response = api.post(body(content_id="fp-1", content_type="forum_post"))
    case = db.session.get(Case, response.json["case_id"])
    assert case.content_kind is None and case.platform_content_type == "forum_post"
    assert kinds.kind_for(case) == "web_page"
    # A type mapped after the case arrived still decides: the kind is read when the report is made.
    response = api.post(body(content_id="g-1", content_type="lobby_chat", content_url=""))
    case = db.session.get(Case, response.json["case_id"])
    assert kinds.kind_for(case) is None
    cybertip_details.map_content_type("lobby_chat", "online_game")
    assert kinds.kind_for(case) == "online_game"
    # An email's addresses, each checked.
    response = api.post(
        body(
            content_id="mail-1",
            content_kind="email",
            internet_details={"email_addresses": ["a@example.org", "oops"]},
        )
    )
    assert response.json["errors"] == {"internet_details.email_addresses[1]": "is not an email address"}


def test_the_case_page_shows_the_thread_with_its_files_hidden(api, client, auth):
    response = api.post_multipart(chat_body(), [("photo.png", factories.png_bytes(3), "image/png")])
    case = db.session.get(Case, response.json["case_id"])
    [photo] = case.media
    factories.user("moderator", email="mod@example.org")
    auth.login("mod@example.org")
    page = client.get(f"/cases/{case.id}").text
    assert "Message thread (3)" in page
    assert (
        "<strong><bdi>kid-12</bdi></strong> → <bdi>acct-77</bdi>" in page
        and "send me a photo,\nnobody will know" in page
    )
    assert 'id="content-kind">Chat or direct message · Chat service: Platform DMs' in page
    assert "Known minor</dt><dd>Kim · age 13 · born 2011-02-03" in page
    # The attachment is shown in its message, hidden like every file: its preview, never the file itself.
    message = page.split('id="message-3"')[1].split("</li>\n  \n</ol>")[0]
    assert (
        f"/cases/{case.id}/media/{photo.id}/preview" in message and f"/media/{photo.id}/file" not in message
    )
    assert "<h3>Media" not in page  # every file is in the thread
