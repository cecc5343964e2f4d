"""Navigation: menu entries appear only for roles that may use them."""

from django.urls import reverse

from users.roles import ADMIN, AGENT, SUPERVISOR, has_any_role, roles_of

TELEPHONY_MENU = [
    ("Asterisk Servers", "telephony:server_list", (ADMIN,)),
    ("Extensions", "telephony:phone_list", (ADMIN,)),
    ("Dialplan", "telephony:dialplan_list", (ADMIN,)),
    ("Carriers", "telephony:carrier_list", (ADMIN,)),
    ("Campaigns", "telephony:campaign_list", (ADMIN, SUPERVISOR)),
    ("Do not call", "telephony:dnc_global", (ADMIN, SUPERVISOR)),
    ("Live agents", "telephony:live_board", (ADMIN, SUPERVISOR)),
    ("Calls", "telephony:call_list", (ADMIN, SUPERVISOR, AGENT)),
]
AGENT_MENU = [
    ("Agent panel", "telephony:agent_panel", (AGENT,)),
    ("My phone", "telephony:my_phone", (AGENT,)),
]


def _entries(user, menu):
    return [{"label": label, "url": reverse(name)} for label, name, roles in menu
            if has_any_role(user, roles)]


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    roles = roles_of(user)
    return {
        "user_roles": roles,
        "nav_telephony": _entries(user, TELEPHONY_MENU),
        "nav_agent": _entries(user, AGENT_MENU) if AGENT in roles else [],
        "nav_is_admin": ADMIN in roles,
    }
