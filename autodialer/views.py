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
