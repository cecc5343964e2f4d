from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse

from telephony.admin.readonly import ReadOnlyAdmin
from users.models import LoginFailure, User, UserImportJob

admin.site.register(User, UserAdmin)


@admin.register(UserImportJob)
class UserImportJobAdmin(ReadOnlyAdmin):
    """Background users imports, as the extensions' (read-only; the file and plan, emptied when
    a job ends, are not shown)."""

    list_display = ("created_at", "created_by", "status", "created", "updated", "rejected",
                    "finished_at")
    list_filter = ("status",)
    exclude = ("data", "fingerprint", "plan")


@admin.register(LoginFailure)
class LoginFailureAdmin(admin.ModelAdmin):
    """Recent failed logins. Deleting rows lifts a lockout: a user's by username, or an
    address's cap across all usernames by address. Admins also see a user's on the user page."""

    list_display = ["username", "ip", "at"]
    search_fields = ["username", "ip"]
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


def _admin_login(request, extra_context=None):
    """Send the admin's login to the app's own page.

    The admin's login form checks passwords too, and would be a way round the throttle of
    users/login_throttle.py for exactly the accounts worth guessing.
    """
    if admin.site.has_permission(request):
        return redirect("admin:index")
    if request.user.is_authenticated:
        # Logged in without staff rights: the login page would send them straight back here.
        raise PermissionDenied("The Django admin is for staff users.")
    return redirect_to_login(request.GET.get("next") or reverse("admin:index"),
                             login_url=reverse("users:login"))


admin.site.login = _admin_login


def _admin_password_change(request, extra_context=None):
    """The admin's password change checks the old password unthrottled: use the app's page,
    which counts wrong old passwords like failed logins."""
    return redirect("users:password_change")


admin.site.password_change = _admin_password_change
