import pytest
from django.urls import reverse

from users.roles import ADMIN, is_agent, is_supervisor, primary_role, role_required, roles_of

pytestmark = pytest.mark.django_db


def test_roles_are_created_by_migration():
    from django.contrib.auth.models import Group

    assert set(Group.objects.values_list("name", flat=True)) >= {"Admin", "Supervisor", "Agent"}


def test_it_tells_roles_apart(admin_user, supervisor, agent, outsider):
    assert ADMIN in roles_of(admin_user) and not is_agent(admin_user)
    assert is_supervisor(supervisor) and ADMIN not in roles_of(supervisor)
    assert is_agent(agent) and not is_supervisor(agent) and ADMIN not in roles_of(agent)
    assert primary_role(outsider) is None


def test_superuser_counts_as_admin(django_user_model):
    root = django_user_model.objects.create_superuser("root", password="x-very-long-pw")
    assert primary_role(root) == ADMIN


def test_deactivated_user_has_no_role(agent):
    agent.is_active = False
    assert not is_agent(agent)


def test_role_required_refuses_unknown_roles():
    with pytest.raises(ValueError):
        role_required("Janitor")


USER_ADMIN_URLS = [
    ("users:list", {}),
    ("users:create", {}),
]


@pytest.mark.parametrize("name,kwargs", USER_ADMIN_URLS)
def test_anonymous_is_sent_to_login(client, name, kwargs):
    url = reverse(name, kwargs=kwargs)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("users:login"))


@pytest.mark.parametrize("name,kwargs", USER_ADMIN_URLS)
def test_it_rejects_agent_on_user_admin(agent_client, name, kwargs):
    assert agent_client.get(reverse(name, kwargs=kwargs)).status_code == 403


@pytest.mark.parametrize("name,kwargs", USER_ADMIN_URLS)
def test_it_rejects_supervisor_on_user_admin(supervisor_client, name, kwargs):
    assert supervisor_client.get(reverse(name, kwargs=kwargs)).status_code == 403


@pytest.mark.parametrize("name,kwargs", USER_ADMIN_URLS)
def test_it_serves_admin(admin_client, name, kwargs):
    assert admin_client.get(reverse(name, kwargs=kwargs)).status_code == 200


def test_edit_and_deactivate_need_admin(client, agent_client, admin_client, other_agent):
    edit = reverse("users:edit", args=[other_agent.pk])
    deactivate = reverse("users:deactivate", args=[other_agent.pk])
    assert client.get(edit).status_code == 302
    assert agent_client.get(edit).status_code == 403
    assert agent_client.post(deactivate).status_code == 403
    other_agent.refresh_from_db()
    assert other_agent.is_active
    assert admin_client.get(edit).status_code == 200


def test_dashboard_is_for_admins_and_supervisors(client, agent_client, supervisor, admin_client):
    url = reverse("dashboard")
    assert client.get(url).status_code == 302
    assert agent_client.get(url).status_code == 403
    assert admin_client.get(url).status_code == 200
    client.force_login(supervisor)
    assert client.get(url).status_code == 200


def test_home_sends_agent_to_own_page_and_admin_to_dashboard(client, agent, admin_user):
    client.force_login(admin_user)
    assert client.get(reverse("home"))["Location"] == reverse("dashboard")
    client.force_login(agent)
    response = client.get(reverse("home"), follow=True)
    assert response.status_code == 200
    assert b"My phone" in response.content or b"Agent panel" in response.content


def test_password_change_is_for_everyone_logged_in(client, agent):
    url = reverse("users:password_change")
    assert client.get(url).status_code == 302
    client.force_login(agent)
    response = client.post(url, {
        "old_password": "pw-bob-123",
        "new_password1": "a-new-Str0ng-passphrase",
        "new_password2": "a-new-Str0ng-passphrase",
    })
    assert response.status_code == 302
    agent.refresh_from_db()
    assert agent.check_password("a-new-Str0ng-passphrase")


def test_outsider_without_role_gets_403(client, outsider):
    client.force_login(outsider)
    assert client.get(reverse("dashboard")).status_code == 403
    assert client.get(reverse("users:list")).status_code == 403


def test_a_user_without_a_role_is_told_to_ask_for_one(client, outsider):
    client.force_login(outsider)
    response = client.get(reverse("home"))
    assert response.status_code == 403
    assert b"Your account has no role yet" in response.content
