import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

MODELS = [model for label in ("users", "telephony")
          for model in apps.get_app_config(label).get_models()]


def test_every_model_is_in_the_django_admin():
    missing = [model.__name__ for model in MODELS if model not in admin.site._registry]
    assert missing == []


@pytest.mark.django_db
@pytest.mark.parametrize("model", MODELS, ids=[model.__name__ for model in MODELS])
def test_every_admin_changelist_opens_for_a_superuser(client, django_user_model, model):
    root = django_user_model.objects.create_superuser("root", password="root-pass-123456")
    client.force_login(root)
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    assert client.get(url).status_code == 200
