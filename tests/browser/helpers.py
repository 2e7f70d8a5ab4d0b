"""What every browser test does first: sign in the way a person does."""

from __future__ import annotations

from playwright.sync_api import expect

from tests import factories


def sign_in(page, email: str, password: str = factories.PASSWORD) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Queues")).to_be_visible()
