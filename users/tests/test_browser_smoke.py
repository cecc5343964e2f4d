import pytest
from django.contrib.auth.models import Group

from conftest import browser_login

pytestmark = pytest.mark.browser


def _user(django_user_model, username, role):
    user = django_user_model.objects.create_user(username=username,
                                                 password="pw-" + username + "-123")
    user.groups.add(Group.objects.get(name=role))
    return user


def test_admin_logs_in_and_sees_dashboard_agent_is_refused_user_admin(page, django_user_model):
    _user(django_user_model, "alice", "Admin")
    _user(django_user_model, "bob", "Agent")

    browser_login(page, "alice", "pw-alice-123")
    assert page.url.endswith("/dashboard/")
    assert page.get_by_role("heading", name="Dashboard").is_visible()
    assert page.get_by_role("link", name="Users").is_visible()

    page.context.clear_cookies()
    browser_login(page, "bob", "pw-bob-123")
    assert "/users/login/" not in page.url
    assert page.get_by_role("link", name="Users").count() == 0
    response = page.goto(page.base_url + "/users/")
    assert response.status == 403
    assert page.get_by_role("heading", name="Not allowed").is_visible()


def test_under_the_csp_a_confirmation_still_asks_and_no_script_is_blocked(page,
                                                                          django_user_model):
    _user(django_user_model, "alice", "Admin")
    bob = _user(django_user_model, "bob", "Agent")
    blocked = []
    page.on("console", lambda message: blocked.append(message.text)
            if "Content Security Policy" in message.text else None)
    browser_login(page, "alice", "pw-alice-123")
    page.goto(page.base_url + "/users/")

    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="Deactivate").click()
    page.wait_for_load_state()
    bob.refresh_from_db()
    assert bob.is_active  # dismissed: nothing was posted

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Deactivate").click()
    page.wait_for_url("**/users/")
    bob.refresh_from_db()
    assert not bob.is_active
    assert blocked == []
