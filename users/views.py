from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Max, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_POST

from telephony.services.phones import PhoneError, phone_assign
from telephony.views.csv_import import csv_download, csv_import_page
from telephony.views.import_jobs import (
    JobPages,
    job_cancel_page,
    job_page,
    job_requeue_page,
    job_status,
)
from telephony.views.service_errors import form_add_service_error
from users.forms import LoginForm, UserForm, UserImportForm
from users.login_throttle import (
    client_ip,
    login_attempt_failed,
    login_attempt_start,
    login_attempt_succeeded,
    login_failures_clear,
    login_failures_of,
    login_locked_usernames,
)
from users.models import User, UserImportJob
from users.password_links import (
    password_link_path,
    password_links_csv,
    users_without_password,
)
from users.roles import ADMIN, AGENT, SUPERVISOR, admin_required, role_required
from users.services import user_create, user_update
from users.user_csv import user_csv_check, user_csv_import, user_csv_template
from users.user_import_job import BATCH as USER_IMPORT_BATCH
from users.user_import_job import (
    user_import_cancel,
    user_import_enqueue,
    user_import_requeue,
)


class LoginView(auth_views.LoginView):
    """Django's login, throttled per username and address (users/login_throttle.py)."""

    template_name = "users/login.html"
    redirect_authenticated_user = True
    form_class = LoginForm
    attempt = None

    def post(self, request, *args, **kwargs):
        # With a field left empty the form checks no password, so there is no guess to count.
        if request.POST.get("username", "").strip() and request.POST.get("password"):
            self.attempt = login_attempt_start(username=request.POST["username"],
                                               ip=client_ip(request))
        return super().post(request, *args, **kwargs)

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        if self.attempt:
            kwargs["wait_minutes"] = self.attempt.wait_minutes
        return kwargs

    def form_valid(self, form):
        if self.attempt:
            login_attempt_succeeded(self.attempt)
        return super().form_valid(form)

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if self.attempt and self.attempt.refused:
            response.status_code = 429
        elif self.attempt:
            login_attempt_failed(self.attempt)
        return response


@method_decorator(role_required(ADMIN, SUPERVISOR, AGENT), name="dispatch")
class PasswordChangeView(auth_views.PasswordChangeView):
    """Throttled like the login page: an open session left on a shared desk must not become a
    way to guess the account's password through the "old password" field."""

    template_name = "users/password_change.html"
    success_url = reverse_lazy("home")
    attempt = None

    def post(self, request, *args, **kwargs):
        if request.POST.get("old_password"):
            self.attempt = login_attempt_start(username=request.user.get_username(),
                                               ip=client_ip(request))
            if self.attempt.refused:  # refused before the old password is checked
                messages.error(request, f"Too many wrong passwords. Try again in "
                                        f"{self.attempt.wait_minutes} minute"
                                        f"{'s' if self.attempt.wait_minutes != 1 else ''}.")
                form = self.get_form_class()(user=request.user)
                return self.render_to_response(self.get_context_data(form=form), status=429)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        if self.attempt:
            login_attempt_succeeded(self.attempt)
        messages.success(self.request, "Your password was changed.")
        return super().form_valid(form)

    def form_invalid(self, form):
        if self.attempt and "old_password" in form.errors:
            login_attempt_failed(self.attempt)
        elif self.attempt:  # the old password was right; only the new one was refused
            login_attempt_succeeded(self.attempt)
        return super().form_invalid(form)


@admin_required
def user_list(request):
    # The agent's active extension (at most one) comes in the same query as the user.
    active = Q(phones__is_active=True)
    users = User.objects.prefetch_related("groups").annotate(
        extension=Max("phones__extension", filter=active),
        extension_pk=Max("phones__pk", filter=active)).order_by("username")
    query = request.GET.get("q", "").strip()
    if query:
        users = users.filter(
            Q(username__icontains=query) | Q(first_name__icontains=query)
            | Q(last_name__icontains=query) | Q(email__icontains=query)
        )
    status = request.GET.get("status", "active")
    if status == "active":
        users = users.filter(is_active=True)
    elif status == "inactive":
        users = users.filter(is_active=False)
    page = Paginator(users, 50).get_page(request.GET.get("page"))
    locked = login_locked_usernames(user.username for user in page)
    return render(request, "users/user_list.html", {"page": page, "q": query, "status": status,
                                                    "locked": locked})


def _editable(request, pk) -> User:
    """The user an Admin may change. A superuser's account (its password, role, active flag)
    only another superuser may change: otherwise an Admin could set a superuser's password
    and log in as them."""
    user = get_object_or_404(User, pk=pk)
    if user.is_superuser and not request.user.is_superuser:
        raise PermissionDenied("Only a superuser can change a superuser's account.")
    return user


@admin_required
def user_create_view(request):
    form = UserForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                user = user_create(**form.service_values())
                phone_assign(user=user, phone=form.cleaned_data["extension"])
        except PhoneError as exc:
            form_add_service_error(form, exc)
        else:
            messages.success(request, f"User {user.username} created.")
            return redirect("users:list")
    return render(request, "users/user_form.html", {"form": form, "title": "Add user"})


@admin_required
def user_edit(request, pk):
    user = _editable(request, pk)
    form = UserForm(request.POST or None, instance=user)
    if request.method == "POST" and form.is_valid():
        if user == request.user and not form.cleaned_data["is_active"]:
            form.add_error("is_active", "You cannot deactivate your own account.")
        else:
            try:
                with transaction.atomic():
                    user_update(user=user, **form.service_values())
                    phone_assign(user=user, phone=form.cleaned_data["extension"])
            except PhoneError as exc:
                form_add_service_error(form, exc)
            else:
                messages.success(request, f"User {user.username} saved.")
                return redirect("users:list")
    # An imported user has no password until they follow a set-password link.
    link = request.build_absolute_uri(password_link_path(user)) \
        if user.is_active and not user.has_usable_password() else ""
    return render(request, "users/user_form.html",
                  {"form": form, "title": f"Edit user {user.username}", "edited": user,
                   "set_password_link": link,
                   "reset_days": settings.PASSWORD_RESET_TIMEOUT // 86400,
                   "login_failures": login_failures_of(user.username),
                   "login_lockout_minutes": settings.LOGIN_LOCKOUT_MINUTES})


@admin_required
@require_POST
def user_unlock(request, pk):
    user = _editable(request, pk)
    if login_failures_clear(username=user.username):
        messages.success(request, f"Failed logins of {user.username} cleared.")
    return redirect("users:edit", pk=user.pk)


@admin_required
def user_deactivate(request, pk):
    user = _editable(request, pk)
    if user == request.user:
        messages.error(request, "You cannot deactivate your own account.")
    elif request.method != "POST":
        return render(request, "confirm.html", {
            "title": f"Deactivate {user.username}?",
            "crumbs": [("Users", reverse("users:list"))],
            "lead": f"{user.username} can no longer log in; their calls and history stay. "
                    "Edit the user to activate them again.",
            "confirm_label": f"Deactivate {user.username}", "danger": True,
            "cancel_url": reverse("users:list")})
    else:
        user.is_active = False
        user.save(update_fields=["is_active"])
        messages.success(request, f"User {user.username} deactivated; they can no longer log in.")
    return redirect("users:list")


CREATED_NOTE = "they have no password yet: download their set-password links on this page"


@admin_required
def user_import(request):
    return csv_import_page(
        request, upload_form=UserImportForm,
        check=lambda data: user_csv_check(data=data, actor=request.user),
        apply=lambda data, fingerprint: user_csv_import(data=data, actor=request.user,
                                                        fingerprint=fingerprint),
        template="users/user_import.html", done_url="users:import",
        done_message=lambda plan: (
            f"Import done: {len(plan.created)} created, {len(plan.updated)} updated"
            + (f"; {plan.rejected} rejected row(s) skipped" if plan.rejected else "")
            + (f"; {CREATED_NOTE}" if plan.created else "") + "."),
        context={"without_password": users_without_password(actor=request.user).count(),
                 "reset_days": settings.PASSWORD_RESET_TIMEOUT // 86400,
                 "cancel_url": reverse("users:list")},
        background=lambda data, fingerprint, writes: reverse(
            "users:import_job", args=[user_import_enqueue(
                data=data, fingerprint=fingerprint, user=request.user, writes=writes).pk]),
        background_after=settings.IMPORT_BACKGROUND_AFTER)


def _job_pages() -> JobPages:
    return JobPages(
        title="Users import", noun="users", crumbs=[("Users", reverse("users:list"))],
        back=("Back to the users", reverse("users:list")),
        again_url=reverse("users:import"),
        page_url=lambda pk: reverse("users:import_job", args=[pk]),
        status_url=lambda pk: reverse("users:import_job_status", args=[pk]),
        cancel_url=lambda pk: reverse("users:import_job_cancel", args=[pk]),
        requeue_url=lambda pk: reverse("users:import_job_requeue", args=[pk]),
        batch_size=USER_IMPORT_BATCH)


@admin_required
def user_import_job(request, pk):
    """A background users import's progress, then its result or its error."""
    job = get_object_or_404(UserImportJob, pk=pk)
    return job_page(request, job, _job_pages(), extra={
        "stale_seconds": settings.JOB_STALE_SECONDS,
        "done_note": "The new users have no password yet: download their set-password links."
        if job.created else "",
        "done_link": ("Download the set-password links", reverse("users:password_links"))
        if job.created else None})


@admin_required
def user_import_job_status(request, pk):
    """What the progress bar polls."""
    return job_status(get_object_or_404(UserImportJob, pk=pk))


@admin_required
def user_import_job_cancel(request, pk):
    """POST: the confirmation, then the cancel (after the current batch)."""
    return job_cancel_page(request, get_object_or_404(UserImportJob, pk=pk), _job_pages(),
                           lambda job: user_import_cancel(job=job))


@admin_required
def user_import_job_requeue(request, pk):
    return job_requeue_page(request, get_object_or_404(UserImportJob, pk=pk), _job_pages(),
                            lambda job: user_import_requeue(job=job))


@admin_required
def user_import_template(request):
    return csv_download(user_csv_template(), "users-template.csv")


@admin_required
def user_password_links(request):
    """Set-password links of every active account that has no password yet, as CSV."""
    users = users_without_password(actor=request.user).order_by("username")
    response = csv_download(password_links_csv(users=users,
                                               base_url=request.build_absolute_uri("/")[:-1]),
                            "set-password-links.csv")
    # Each link sets a password: it must not linger in a shared cache or the browser's.
    response["Cache-Control"] = "no-store"
    return response


class SetPasswordView(auth_views.PasswordResetConfirmView):
    """Where a set-password link leads (no login: the link's token is the proof)."""

    template_name = "users/set_password.html"
    success_url = reverse_lazy("users:login")
    post_reset_login = False

    def form_valid(self, form):
        messages.success(self.request, "Your password is set. Log in with it.")
        return super().form_valid(form)
