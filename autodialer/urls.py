from django.contrib import admin
from django.urls import include, path

from autodialer import views

urlpatterns = [
    path("", views.home, name="home"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("users/", include("users.urls")),
    path("telephony/", include("telephony.urls")),
    path("audit/", include("audit.views")),
    path("admin/", admin.site.urls),
]

# The API answers JSON everywhere, 404 included (docs/api.md).
handler404 = "autodialer.views.not_found"
