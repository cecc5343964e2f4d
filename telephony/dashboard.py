"""Numbers for the admin dashboard, a handful of aggregate queries."""

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone


def dashboard_context() -> dict:
    from telephony.models import AsteriskServer, Call, Carrier, Phone

    # "Today" is the call centre's day (TIME_ZONE), not UTC's.
    today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    phones = Phone.objects.aggregate(
        total=Count("id"),
        active=Count("id", filter=Q(is_active=True)),
        assigned=Count("id", filter=Q(user__isnull=False, is_active=True)),
    )
    calls = Call.objects.filter(created_at__gte=today).aggregate(
        total=Count("id"),
        live=Count("id", filter=Q(status__in=Call.LIVE_STATUSES)),
        answered=Count("id", filter=Q(answered_at__isnull=False)),
    )
    servers = list(AsteriskServer.objects.all()[:20])
    carriers_active = Carrier.objects.filter(is_active=True).count()
    checklist = _checklist(servers, phones, carriers_active)
    return {
        # Calls from these servers go out as the extension or "Anonymous" without a campaign.
        "servers_without_caller_id": [s for s in servers
                                      if s.is_active and not s.default_caller_id],
        "servers": servers,
        "phones": phones,
        "calls_today": calls,
        "carriers_active": carriers_active,
        "checklist": checklist,
        "checklist_complete": all(item["done"] for item in checklist),
    }


def _checklist(servers: list, phones: dict, carriers_active: int) -> list[dict]:
    """The integration guide's quick checklist, ticked from what the database holds, so a new
    install shows its admin what is left to do."""
    from telephony.models import DialplanContext

    def step(label: str, done: bool, url_name: str) -> dict:
        return {"label": label, "done": done, "url": reverse(url_name)}

    return [
        step("Register an Asterisk server", bool(servers), "telephony:server_create"),
        step("Test its connection (AMI and ARI)",
             any(s.connection_status == "ok" for s in servers), "telephony:server_list"),
        step("Create extensions", phones["active"] > 0, "telephony:phone_bulk_create"),
        step("Assign extensions to agents", phones["assigned"] > 0, "telephony:phone_list"),
        step("Add a carrier (SIP trunk)", carriers_active > 0, "telephony:carrier_create"),
        step("Route the agents context (Dialplan → Scaffold)",
             DialplanContext.objects.filter(name="agents", extensions__isnull=False).exists(),
             "telephony:dialplan_list"),
    ]
