"""A person logs in and out in a real browser."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_author_logs_in_and_out(live_stack, page):
    live_stack.create_user("writer@example.org", "a long enough password", role="author")
    page.goto(f"{live_stack.base_url}/author/")
    assert "/login" in page.url  # the author area needs a login

    page.fill("#email", "writer@example.org")
    page.fill("#password", "wrong password!!")
    page.click("button[type=submit]")
    assert page.get_by_text("Wrong email or password.").is_visible()

    page.fill("#email", "writer@example.org")
    page.fill("#password", "a long enough password")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_stack.base_url}/author/")
    assert page.get_by_role("heading", name="Your newsletter").is_visible()

    cookie = next(c for c in page.context.cookies() if c["name"] == "session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"

    page.get_by_role("button", name="Log out (writer@example.org)").click()
    page.wait_for_url(f"{live_stack.base_url}/login")
    page.goto(f"{live_stack.base_url}/author/")
    assert "/login" in page.url
