"""Slow work says it is working, in headless Chromium: a Test Connection to a server that
never answers disables its button at once, shows a spinner and "Testing…", and a second click
(or Enter, or a script's requestSubmit) sends nothing; the answer, when the timeout comes, is a
clear message."""

import json
import socket

import pytest
from playwright.sync_api import expect

from conftest import _make_user, browser_login
from telephony.tests.phone_helpers import make_server

pytestmark = pytest.mark.browser


WATCHER = """
document.addEventListener("DOMContentLoaded", () => {
    const form = document.querySelector("form[data-busy='Testing…']");
    if (!form) return;
    let clicked = 0;
    form.addEventListener("submit", () => { clicked = clicked || performance.now(); });
    const button = form.querySelector("button");
    new MutationObserver(() => {
        if (!button.disabled || !clicked) return;
        console.log("busy:" + JSON.stringify({
            ms: performance.now() - clicked, text: button.textContent.trim(),
            spinner: !!button.querySelector(".spinner-border")}));
        // A second click (even on a button made clickable again), Enter's requestSubmit():
        // neither may send the form a second time.
        button.disabled = false;
        button.click();
        form.requestSubmit();
        console.log("busy:resent");
    }).observe(button, {attributes: true, attributeFilter: ["disabled"]});
});
"""


@pytest.fixture
def blackhole():
    """A port that accepts the TCP connection (the kernel does that) and never says a word:
    the AMI banner and the ARI answer both wait until the client's timeout."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    yield listener.getsockname()[1]
    listener.close()


def test_test_connection_is_busy_at_once_and_cannot_be_sent_twice(page, django_user_model,
                                                                  settings, blackhole):
    settings.ASTERISK_TIMEOUT = 3
    _make_user(django_user_model, "alice", "Admin")
    server = make_server(ami_port=blackhole, ari_port=blackhole)
    browser_login(page, "alice", "pw-alice-123")
    page.goto(page.base_url + f"/telephony/servers/{server.pk}/")
    sent = []
    page.on("request", lambda request: sent.append(request.url)
            if request.method == "POST" and "test-connection" in request.url else None)

    # While the POST is pending Playwright cannot evaluate in the page (it waits for the
    # navigation), so a watcher installed before the page's scripts reports what the admin
    # sees, and tries to send the form again, from inside the page.
    reports = []
    page.on("console", lambda message: reports.append(message.text)
            if message.text.startswith("busy:") else None)
    page.add_init_script(WATCHER)
    page.reload()
    page.get_by_role("button", name="Test Connection").click(no_wait_after=True)
    expect(page.get_by_text("connection test failed")).to_be_visible(timeout=20_000)
    assert len(sent) == 1, sent
    state = json.loads(reports[0].removeprefix("busy:"))
    assert state["ms"] < 300 and state["text"] == "Testing…" and state["spinner"], state
    assert reports[1:] == ["busy:resent"], reports
    # The new page's button is usable again.
    expect(page.get_by_role("button", name="Test Connection")).to_be_enabled()
