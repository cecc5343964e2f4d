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


# --- superusers are changed only by superusers (issue 11, item 2) -------------------------------

@pytest.fixture
def root(django_user_model):
    return django_user_model.objects.create_superuser("root", password="root-pass-123456")


def test_an_admin_cannot_set_a_superusers_password(admin_client, root):
    response = admin_client.post(reverse("users:edit", args=[root.pk]), {
        "username": "root", "is_active": "on", "role": "Agent",
        "password1": "taken-over-123456", "password2": "taken-over-123456",
    })
    assert response.status_code == 403
    root.refresh_from_db()
    assert root.check_password("root-pass-123456") and root.is_superuser and root.is_active
    assert admin_client.get(reverse("users:edit", args=[root.pk])).status_code == 403


def test_an_admin_cannot_deactivate_or_unlock_a_superuser(admin_client, root):
    assert admin_client.post(reverse("users:deactivate", args=[root.pk])).status_code == 403
    assert admin_client.post(reverse("users:unlock", args=[root.pk])).status_code == 403
    root.refresh_from_db()
    assert root.is_active


def test_the_user_list_offers_an_admin_no_edit_of_a_superuser(admin_client, root):
    html = admin_client.get(reverse("users:list")).content.decode()
    assert reverse("users:edit", args=[root.pk]) not in html
    assert reverse("users:deactivate", args=[root.pk]) not in html


def test_a_superuser_can_change_another_superuser(client, django_user_model, root):
    other = django_user_model.objects.create_superuser("root2", password="root2-pass-123456")
    client.force_login(other)
    response = client.post(reverse("users:edit", args=[root.pk]), {
        "username": "root", "is_active": "on", "role": "Admin",
        "password1": "new-root-pass-123456", "password2": "new-root-pass-123456",
    })
    assert response.status_code == 302
    root.refresh_from_db()
    assert root.check_password("new-root-pass-123456")


def test_an_admin_still_edits_ordinary_users(admin_client, agent):
    response = admin_client.post(reverse("users:edit", args=[agent.pk]), {
        "username": agent.username, "is_active": "on", "role": "Agent",
        "password1": "", "password2": "",
    })
    assert response.status_code == 302


# --- the Django admin for the Admin role ---------------------------------------------------

def test_an_admin_sees_the_telephony_models_in_the_django_admin(admin_client):
    html = admin_client.get(reverse("admin:index")).content.decode()
    for changelist in ("admin:telephony_asteriskserver_changelist",
                       "admin:telephony_phone_changelist", "admin:telephony_carrier_changelist",
                       "admin:telephony_psendpoint_changelist"):
        assert reverse(changelist) in html
        assert admin_client.get(reverse(changelist)).status_code == 200


def test_an_admin_cannot_reach_users_in_the_django_admin(admin_client, root):
    # Django's own user admin can grant superuser status: Admins use the Users page.
    assert admin_client.get(reverse("admin:users_user_changelist")).status_code == 403
    assert admin_client.post(reverse("admin:users_user_change", args=[root.pk]),
                             {"username": "root", "is_superuser": "on"}).status_code == 403
    assert admin_client.get(reverse("admin:auth_group_changelist")).status_code == 403


def test_the_django_admins_password_change_is_the_throttled_page(admin_client):
    for method in (admin_client.get, admin_client.post):
        response = method(reverse("admin:password_change"))
        assert response.status_code == 302
        assert response.url == reverse("users:password_change")
