from django.shortcuts import redirect, render

from users.roles import ADMIN, SUPERVISOR, is_agent, is_supervisor, primary_role, role_required


def home(request):
    """Send each role to its own landing page: agents to their phone, others to the dashboard."""
    if not request.user.is_authenticated:
        return redirect("users:login")
    if primary_role(request.user) is None:
        # Logged in, but an admin has not given the account a role yet: say so, not 403.
        return render(request, "no_role.html", status=403)
    if is_agent(request.user) and not is_supervisor(request.user):
        return redirect("telephony:agent_panel")
    return redirect("dashboard")


@role_required(ADMIN, SUPERVISOR)
def dashboard(request):
    from telephony.dashboard import dashboard_context

    return render(request, "dashboard.html", dashboard_context())


def not_found(request, exception=None):
    """404: JSON on the API's paths (a script asking for /calls/NOT-A-UUID/status/ gets the
    API's error shape, not an HTML page), Django's page elsewhere."""
    from django.http import JsonResponse
    from django.views.defaults import page_not_found

    from autodialer.input import is_api_path

    if is_api_path(request.path):
        return JsonResponse({"code": "not_found", "error": "No such API resource."}, status=404)
    return page_not_found(request, exception)
