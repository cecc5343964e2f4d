import pytest
from django.urls import reverse

from users.roles import is_agent, primary_role

pytestmark = pytest.mark.django_db


def test_admin_creates_an_agent(admin_client, django_user_model):
    response = admin_client.post(reverse("users:create"), {
        "username": "dave", "first_name": "Dave", "last_name": "D", "email": "d@example.com",
        "is_active": "on", "role": "Agent",
        "password1": "correct-horse-battery", "password2": "correct-horse-battery",
    })
    assert response.status_code == 302
    dave = django_user_model.objects.get(username="dave")
    assert is_agent(dave)
    assert dave.check_password("correct-horse-battery")
    assert not dave.is_staff


def test_create_refuses_mismatched_passwords_and_saves_nothing(admin_client, django_user_model):
    response = admin_client.post(reverse("users:create"), {
        "username": "eve", "is_active": "on", "role": "Agent",
        "password1": "correct-horse-battery", "password2": "other-horse-battery",
    })
    assert response.status_code == 200
    assert b"The two passwords differ" in response.content
    assert not django_user_model.objects.filter(username="eve").exists()


def test_edit_changes_role_and_keeps_password_when_blank(admin_client, agent):
    response = admin_client.post(reverse("users:edit", args=[agent.pk]), {
        "username": agent.username, "is_active": "on", "role": "Supervisor",
        "password1": "", "password2": "",
    })
    assert response.status_code == 302
    agent.refresh_from_db()
    assert primary_role(agent) == "Supervisor"
    assert agent.check_password("pw-bob-123")


def test_admin_deactivates_user(admin_client, agent):
    response = admin_client.post(reverse("users:deactivate", args=[agent.pk]))
    assert response.status_code == 302
    agent.refresh_from_db()
    assert not agent.is_active


def test_admin_cannot_deactivate_self(admin_client, admin_user):
    admin_client.post(reverse("users:deactivate", args=[admin_user.pk]))
    admin_user.refresh_from_db()
    assert admin_user.is_active


def test_user_list_searches(admin_client, agent, other_agent):
    response = admin_client.get(reverse("users:list"), {"q": "carol"})
    assert b"carol" in response.content
    assert b">bob<" not in response.content


def test_login_page_logs_in(client, agent):
    response = client.post(reverse("users:login"), {"username": "bob", "password": "pw-bob-123"})
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
