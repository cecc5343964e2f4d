"""The realtime dialplan: `extensions_table` rows written from the rules edited in the UI.

Asterisk reads a context's rows through `switch => Realtime/<context>@extensions` in
extensions.conf (docs/asterisk-behaviour.md), on every call, with no reload. A context's rows
are rewritten as a whole (delete, then insert) inside the caller's transaction, so the table
always equals what the Dialplan page shows and the UNIQUE(context, exten, priority) key never
sees a half-renumbered context.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from telephony.asterisk.dialplan_syntax import (
    canonical_application,
    render_step,
    validate_arguments,
    validate_pattern,
)
from telephony.models.dialplan import DialplanContext, DialplanExtension
from telephony.models.realtime import ExtensionsTable

# The extconfig.conf family the switch names (`extensions => odbc,asterisk,extensions_table`).
REALTIME_FAMILY = "extensions"


def context_rules(context: DialplanContext) -> list[DialplanExtension]:
    """A context's rules in display order: pattern groups by `order`, steps by priority."""
    return list(context.extensions.order_by("order", "pattern", "priority", "pk"))


def rule_check(rule: DialplanExtension, context_name: str) -> None:
    """The last line before a rule reaches extensions_table: the services check it first, but a
    rule saved by other code (a shell, a script, a row from before a rule was tightened) must
    not be written for Asterisk to run either."""
    try:
        validate_pattern(rule.pattern)
        validate_arguments(rule.arguments or "", canonical_application(rule.application))
    except ValidationError as error:
        raise ValidationError(
            f"Rule {rule.pattern} priority {rule.priority} of context {context_name} "
            f"({rule.application}): {' '.join(error.messages)}", code=error.code) from error


def context_rows(context: DialplanContext) -> list[dict]:
    """The extensions_table rows equivalent to a context's rules (without the table's id);
    a ValidationError if any rule is not one the Dialplan page would accept."""
    rules = context_rules(context)
    for rule in rules:
        rule_check(rule, context.name)
    return [
        {
            "context": context.name,
            "exten": rule.pattern,
            "priority": rule.priority,
            "app": rule.application,
            # Asterisk's column is NOT NULL: '' means "no arguments".
            "appdata": rule.arguments or "",
        }
        for rule in rules
    ]


def dialplan_sync_context(context: DialplanContext, *, previous_name: str | None = None) -> int:
    """Rewrite a context's extensions_table rows from its rules; returns the rows written.

    `previous_name`: the context was renamed, so the rows under its old name go too.
    """
    with transaction.atomic():
        names = {context.name} | ({previous_name} if previous_name else set())
        ExtensionsTable.objects.filter(context__in=names).delete()
        rows = [ExtensionsTable(**row) for row in context_rows(context)]
        ExtensionsTable.objects.bulk_create(rows)
        return len(rows)


def dialplan_unsync_context(name: str) -> int:
    """Remove every extensions_table row of a context; returns how many were removed."""
    deleted, _ = ExtensionsTable.objects.filter(context=name).delete()
    return deleted


def dialplan_orphan_rows():
    """extensions_table rows of contexts the UI does not manage (written by hand or left over)."""
    names = DialplanContext.objects.values_list("name", flat=True)
    return ExtensionsTable.objects.exclude(context__in=names).order_by(
        "context", "exten", "priority")


def switch_stanza(names) -> str:
    """The extensions.conf lines that make Asterisk read these contexts from the table."""
    return "\n\n".join(
        f"[{name}]\nswitch => Realtime/{name}@{REALTIME_FAMILY}" for name in names
    ) + "\n"


def dialplan_preview(context: DialplanContext) -> str:
    """The extensions.conf text the context's rows are equivalent to, for reading only.

    A step directly following the previous one of the same pattern is written `same => n`, as
    people write extensions.conf; any other priority is written out.
    """
    lines = [f"[{context.name}]"]
    if context.description:
        lines.append(f"; {context.description}")
    previous: DialplanExtension | None = None
    for rule in context_rules(context):
        step = render_step(rule.application, rule.arguments)
        same_pattern = previous is not None and previous.pattern == rule.pattern
        if same_pattern and rule.priority == previous.priority + 1:
            lines.append(f" same => n,{step}")
        else:
            if previous is not None and not same_pattern:
                lines.append("")
            lines.append(f"exten => {rule.pattern},{rule.priority},{step}")
        previous = rule
    if previous is None:
        lines.append("; no rules yet: calls to this context find no extension")
    return "\n".join(lines) + "\n"
