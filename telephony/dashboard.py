"""Numbers for the admin dashboard, a handful of aggregate queries."""

from django.db.models import Count, Q
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
    return {
        "servers": list(AsteriskServer.objects.all()[:20]),
        "phones": phones,
        "calls_today": calls,
        "carriers_active": Carrier.objects.filter(is_active=True).count(),
    }
