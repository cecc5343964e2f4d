"""Which extensions the list shows: its search and filters as one value, so the page, its CSV
export and "select all N matching" (a bulk action on every extension the filter matches,
evaluated again when the admin confirms) read the same rows."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet

from telephony.models import AsteriskServer, Phone

YES_NO = ("yes", "no")


@dataclass(frozen=True)
class PhoneFilter:
    q: str = ""  # a substring of the extension, the name or the agent's username
    server_id: int | None = None
    assigned: str = ""  # "yes", "no" or "" (either)
    active: str = ""  # "yes", "no" or "" (either)

    def __post_init__(self) -> None:
        if self.assigned not in ("", *YES_NO) or self.active not in ("", *YES_NO):
            raise ValueError("assigned and active are 'yes', 'no' or ''")

    def queryset(self) -> QuerySet[Phone]:
        phones = Phone.objects.all()
        if self.q:
            phones = phones.filter(Q(extension__icontains=self.q) | Q(name__icontains=self.q)
                                   | Q(user__username__icontains=self.q))
        if self.server_id is not None:
            phones = phones.filter(server_id=self.server_id)
        if self.assigned:
            phones = phones.filter(user__isnull=self.assigned == "no")
        if self.active:
            phones = phones.filter(is_active=self.active == "yes")
        return phones

    def describe(self, server_names: dict[int, str] | None = None) -> str:
        """The filter in words: "every extension" when none. `server_names` ({pk: name}) saves
        the query for the server's name."""
        parts = []
        if self.q:
            parts.append(f"search “{self.q}”")
        if self.server_id is not None:
            name = (server_names.get(self.server_id) if server_names is not None else
                    AsteriskServer.objects.filter(pk=self.server_id)
                    .values_list("name", flat=True).first())
            parts.append(f"server {name}" if name else "a server that no longer exists")
        if self.assigned:
            parts.append("assigned to an agent" if self.assigned == "yes" else "unassigned")
        if self.active:
            parts.append("active" if self.active == "yes" else "inactive")
        return "every extension" if not parts else "every extension matching " + ", ".join(parts)

    def as_fields(self, prefix: str = "filter_") -> list[tuple[str, str]]:
        """The filter as (name, value) form fields, for the next POST to carry."""
        return [(prefix + "q", self.q),
                (prefix + "server", "" if self.server_id is None else str(self.server_id)),
                (prefix + "assigned", self.assigned), (prefix + "active", self.active)]
