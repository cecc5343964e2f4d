from django.contrib.auth import views as auth_views
from django.urls import path

from users import views

app_name = "users"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("", views.user_list, name="list"),
    path("add/", views.user_create_view, name="create"),
    path("import/", views.user_import, name="import"),
    path("import/template/", views.user_import_template, name="import_template"),
    path("import/jobs/<int:pk>/", views.user_import_job, name="import_job"),
    path("import/jobs/<int:pk>/status/", views.user_import_job_status, name="import_job_status"),
    path("import/jobs/<int:pk>/cancel/", views.user_import_job_cancel, name="import_job_cancel"),
    path("import/jobs/<int:pk>/requeue/", views.user_import_job_requeue,
         name="import_job_requeue"),
    path("import/password-links/", views.user_password_links, name="password_links"),
    path("set-password/<uidb64>/<token>/", views.SetPasswordView.as_view(), name="set_password"),
    path("<int:pk>/edit/", views.user_edit, name="edit"),
    path("<int:pk>/unlock/", views.user_unlock, name="unlock"),
    path("<int:pk>/deactivate/", views.user_deactivate, name="deactivate"),
]
