"""What the audit log records: every change to the things admins configure.

django-auditlog writes one LogEntry per create, update and delete of a registered model, with
the before/after value of each changed field. Secrets are masked whole (never a readable half,
which is auditlog's default mask); bookkeeping fields that change on their own (timestamps, a
connection check's result, last_login) are left out so the log shows decisions, not noise.
"""

from __future__ import annotations

from django.apps import apps
from django.contrib.auth.models import Group

MASK = "********"

# What the pages call each kind of object (the model names are the code's, not the admin's).
KIND_LABELS = {
    "asteriskserver": "Asterisk server", "phone": "Extension", "carrier": "Carrier",
    "dialplancontext": "Dialplan context", "dialplanextension": "Dialplan rule",
    "campaign": "Campaign", "user": "User", "group": "Role",
}

# (app_label.Model, fields masked, fields left out, many-to-many fields followed)
TRACKED = [
    ("telephony.AsteriskServer", ["ami_password", "ari_password"],
     ["created_at", "updated_at", "connection_status", "connection_message",
      "asterisk_version", "last_checked_at"], []),
    ("telephony.Phone", ["secret"], ["created_at", "updated_at"], []),
    ("telephony.Carrier", ["password"], ["created_at", "updated_at"], []),
    ("telephony.DialplanContext", [], ["created_at", "updated_at"], []),
    ("telephony.DialplanExtension", [], ["created_at", "updated_at"], []),
    ("telephony.Campaign", [], ["created_at", "updated_at"], []),
    ("users.User", ["password"], ["last_login", "date_joined"], ["groups"]),
]


def mask(value: str) -> str:
    """The whole value hidden: the log says a secret changed, never what it is. No value
    (auditlog writes "None") stays visible: "set for the first time" is worth reading."""
    return value if value in ("None", "") else MASK


def register_all() -> None:
    from auditlog.registry import auditlog

    for label, masked, excluded, m2m in TRACKED:
        model = apps.get_model(label)
        if auditlog.contains(model):
            continue
        auditlog.register(model, mask_fields=masked, exclude_fields=excluded,
                          m2m_fields=set(m2m), mask_callable="audit.tracked.mask")
    if not auditlog.contains(Group):
        # Roles are groups: who may do what changes when their permissions do.
        auditlog.register(Group, m2m_fields={"permissions"})


def tracked_models() -> list:
    return [apps.get_model(label) for label, *_rest in TRACKED] + [Group]
