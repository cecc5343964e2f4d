"""Navigation: menu entries appear only for roles that may use them; the entry of the section
the page belongs to is marked current, and the same knowledge gives every page its breadcrumbs
(docs/ui.md)."""

from django.urls import reverse

from users.roles import ADMIN, AGENT, SUPERVISOR, has_any_role, roles_of

# (label, list route, roles, the route-name prefixes of the pages that belong to the entry)
TELEPHONY_MENU = [
    ("Asterisk Servers", "telephony:server_list", (ADMIN,), ("telephony:server_",)),
    ("Extensions", "telephony:phone_list", (ADMIN,), ("telephony:phone_",)),
    ("Dialplan", "telephony:dialplan_list", (ADMIN,), ("telephony:dialplan_",)),
    ("Carriers", "telephony:carrier_list", (ADMIN,), ("telephony:carrier_",)),
    ("Campaigns", "telephony:campaign_list", (ADMIN, SUPERVISOR),
     ("telephony:campaign_", "telephony:lead_", "telephony:disposition", "telephony:dialer_")),
    ("Do not call", "telephony:dnc_global", (ADMIN, SUPERVISOR), ("telephony:dnc_",)),
    ("Live agents", "telephony:live_board", (ADMIN, SUPERVISOR), ("telephony:live_",)),
    ("Calls", "telephony:call_list", (ADMIN, SUPERVISOR, AGENT), ("telephony:call_",)),
]
AGENT_MENU = [
    ("Agent panel", "telephony:agent_panel", (AGENT,), ("telephony:agent_",)),
    ("My phone", "telephony:my_phone", (AGENT,), ("telephony:my_phone",)),
]
TOP_MENU = [
    ("Dashboard", "dashboard", (ADMIN, SUPERVISOR), ("dashboard",)),
    ("Users", "users:list", (ADMIN,), ("users:list", "users:create", "users:edit",
                                       "users:deactivate", "users:unlock", "users:import")),
    ("Audit log", "audit:log", (ADMIN,), ("audit:",)),
]
# The last crumb of a page that is not its section's list, by the route name's ending.
PAGE_WORDS = {"create": "Add", "new": "Add", "add": "Add", "edit": "Edit", "delete": "Delete",
              "detail": "Details", "import": "Import", "bulk_create": "Bulk create",
              "deactivate": "Deactivate", "diagnose": "Diagnose", "scaffold": "Scaffold",
              "selection": "Bulk action", "preview": "Preview", "mapping": "Columns"}


def _current(request) -> str:
    match = getattr(request, "resolver_match", None)
    return match.view_name if match else ""


def _entries(user, menu, current):
    return [{"label": label, "url": reverse(name), "name": name,
             "active": any(current.startswith(prefix) for prefix in prefixes)}
            for label, name, roles, prefixes in menu if has_any_role(user, roles)]


def _page_word(current: str) -> str:
    short = current.split(":", 1)[-1]
    for ending, word in sorted(PAGE_WORDS.items(), key=lambda item: -len(item[0])):
        if short.endswith(ending):
            return word
    return short.rsplit("_", 1)[-1].replace("_", " ").capitalize()


def _breadcrumbs(current: str, groups) -> list[dict]:
    """Home › [Telephony ›] Section › this page; the last one is the current page."""
    crumbs = [{"label": "Home", "url": reverse("home")}]
    for group, entries in groups:
        entry = next((entry for entry in entries if entry["active"]), None)
        if entry is None:
            continue
        if group:
            crumbs.append({"label": group, "url": None})
        crumbs.append({"label": entry["label"], "url": entry["url"]})
        if current != entry["name"]:
            crumbs.append({"label": _page_word(current), "url": None})
        break
    crumbs[-1] = {**crumbs[-1], "current": True}
    return crumbs


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    roles = roles_of(user)
    current = _current(request)
    telephony = _entries(user, TELEPHONY_MENU, current)
    agent = _entries(user, AGENT_MENU, current) if AGENT in roles else []
    top = _entries(user, TOP_MENU, current)
    return {
        "user_roles": roles,
        "nav_top": top,
        "nav_telephony": telephony,
        "nav_telephony_active": any(entry["active"] for entry in telephony),
        "nav_agent": agent,
        "nav_is_admin": ADMIN in roles,
        "breadcrumbs": _breadcrumbs(current, [("", top), ("", agent), ("Telephony", telephony)]),
    }
