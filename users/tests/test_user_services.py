"""users.services: a user, its one role and is_staff are written together or not at all."""

import pytest
from django.contrib.auth.models import Group

from users.models import User
from users.roles import roles_of
from users.services import user_create, user_update

pytestmark = pytest.mark.django_db

VALUES = {"username": "dave", "first_name": "Dave", "last_name": "D", "email": "d@example.com",
          "is_active": True}


def test_creating_an_admin_gives_the_one_role_and_the_django_admin():
    user = user_create(role="Admin", password="correct-horse-battery", **VALUES)
    user = User.objects.get(pk=user.pk)
    assert set(user.groups.values_list("name", flat=True)) == {"Admin"}
    assert user.is_staff and user.check_password("correct-horse-battery")


def test_a_role_that_cannot_be_given_leaves_no_user_behind():
    Group.objects.filter(name="Supervisor").delete()
    with pytest.raises(Group.DoesNotExist):
        user_create(role="Supervisor", password="correct-horse-battery", **VALUES)
    assert not User.objects.filter(username="dave").exists()


def test_a_failed_edit_keeps_the_old_role_staff_flag_and_name(admin_user):
    Group.objects.filter(name="Agent").delete()
    with pytest.raises(Group.DoesNotExist):
        user_update(user=admin_user, role="Agent", username="renamed", first_name="",
                    last_name="", email="", is_active=True)
    admin_user = User.objects.get(pk=admin_user.pk)
    assert admin_user.username == "alice" and admin_user.is_staff
    assert roles_of(admin_user) == {"Admin"}


def test_an_edit_replaces_the_role_and_a_blank_password_keeps_the_old_one(agent):
    user_update(user=agent, role="Supervisor", password="", **{**VALUES, "username": "bob"})
    agent = User.objects.get(pk=agent.pk)
    assert roles_of(agent) == {"Supervisor"} and not agent.is_staff
    assert agent.check_password("pw-bob-123")


def test_it_refuses_fields_the_user_pages_do_not_manage():
    with pytest.raises(TypeError, match="is_superuser"):
        user_create(role="Agent", password="correct-horse-battery", is_superuser=True,
                    **VALUES)
