"""Dialplan write paths: contexts and their rules, each change mirrored into `extensions_table`
in the same transaction, and the one-click default `agents` context.

Layout rules the services keep, so the realtime table is always runnable:
- The steps of one pattern are numbered 1..n with no gaps (Asterisk stops at a missing priority).
  Inserting at priority p shifts the later steps down; deleting closes the gap.
- All steps of a pattern share one `order`, the pattern's position on the page (1..k). Asterisk
  itself does not care about the order of patterns (it tries the most specific one first).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction

from telephony.asterisk.dialplan_syntax import (
    canonical_application,
    validate_arguments,
    validate_context_name,
    validate_pattern,
)
from telephony.models.carriers import Carrier
from telephony.models.dialplan import DialplanContext, DialplanExtension
from telephony.models.phones import Phone
from telephony.realtime.carriers import carrier_object_id
from telephony.realtime.dialplan import dialplan_sync_context, dialplan_unsync_context
from telephony.services.call_events import CALL_ID_VARIABLE
from telephony.services.errors import ServiceError

# Priorities are parked above this while a pattern is renumbered, so UNIQUE(context, pattern,
# priority) never sees two steps on one number mid-way.
_PARKED = 1_000_000
MAX_PRIORITY = 999

AGENTS_CONTEXT = "agents"
# Phones default to 1000-1999; used when there are no phones yet to derive patterns from.
DEFAULT_INTERNAL_PATTERN = "_1XXX"
INTERNAL_DIAL_TIMEOUT = 30
OUTBOUND_DIAL_TIMEOUT = 60
CARRIER_GROUP_CATEGORY = "carriers"
# Where an outbound call goes when its carrier has max_channels calls already. A name of its own
# rather than a priority number, so a step inserted into _X. cannot make it jump elsewhere.
CARRIERS_FULL_EXTENSION = "carriersfull"

Groups = list[tuple[str, list[DialplanExtension]]]


class DialplanError(ServiceError):
    """A change the dialplan refuses as a whole (a value that breaks a rule's syntax is the
    validators' ValidationError, shown on its field by the form)."""

    code = "dialplan_refused"


# --- contexts -----------------------------------------------------------------------------

def _phones_using(name: str) -> int:
    return Phone.objects.filter(context=name).count()


def context_create(*, name: str, description: str = "") -> DialplanContext:
    validate_context_name(name)
    with transaction.atomic():
        context = DialplanContext.objects.create(name=name, description=description)
        dialplan_sync_context(context)  # clears rows a context of that name left behind
    return context


def context_update(*, context: DialplanContext, name: str,
                   description: str = "") -> DialplanContext:
    """Rename or describe a context; a rename moves its rows to the new name."""
    validate_context_name(name)
    with transaction.atomic():
        context = DialplanContext.objects.select_for_update().get(pk=context.pk)
        previous_name = context.name
        if name != previous_name and _phones_using(previous_name):
            raise DialplanError(
                f"{_phones_using(previous_name)} extension(s) use the context {previous_name}; "
                "change their context first, or they would dial into nothing.",
                code="context_in_use", field="name", status=409)
        context.name, context.description = name, description
        context.save()
        dialplan_sync_context(context, previous_name=previous_name)
    return context


def context_delete(*, context: DialplanContext) -> None:
    with transaction.atomic():
        used = _phones_using(context.name)
        if used:
            raise DialplanError(
                f"{used} extension(s) use the context {context.name}; change their context first, "
                "or they would dial into nothing.", code="context_in_use", status=409)
        dialplan_unsync_context(context.name)
        context.delete()


# --- rules --------------------------------------------------------------------------------

def _groups(context: DialplanContext) -> Groups:
    groups: dict[str, list[DialplanExtension]] = {}
    for rule in context.extensions.order_by("order", "pattern", "priority", "pk"):
        groups.setdefault(rule.pattern, []).append(rule)
    return list(groups.items())


def _apply_layout(groups: Groups) -> None:
    """Give every step its pattern, group order and contiguous priority; insert new steps."""
    changes = []
    for group_index, (pattern, steps) in enumerate(groups, 1):
        for step_index, step in enumerate(steps, 1):
            if (step.pk is None or step.pattern != pattern or step.order != group_index
                    or step.priority != step_index):
                changes.append((step, pattern, group_index, step_index))
    for parked, (step, *_rest) in enumerate(changes):
        if step.pk is not None:
            DialplanExtension.objects.filter(pk=step.pk).update(priority=_PARKED + parked)
    for step, pattern, group_index, step_index in changes:
        step.pattern, step.order, step.priority = pattern, group_index, step_index
        step.save()


def _insert(groups: Groups, step: DialplanExtension, priority: int | None) -> None:
    for pattern, steps in groups:
        if pattern == step.pattern:
            index = len(steps) if priority is None else min(max(priority - 1, 0), len(steps))
            steps.insert(index, step)
            return
    groups.append((step.pattern, [step]))


def _remove(groups: Groups, step: DialplanExtension) -> int:
    """Take a step out of its group; returns the index it had."""
    for position, (_pattern, steps) in enumerate(groups):
        for index, existing in enumerate(steps):
            if existing.pk == step.pk:
                del steps[index]
                if not steps:
                    del groups[position]
                return index
    raise ValueError(f"{step!r} is not in this context")


def _clean_rule(pattern: str, application: str, arguments: str) -> tuple[str, str, str]:
    pattern = validate_pattern(pattern)
    application = canonical_application(application)
    return pattern, application, validate_arguments(arguments or "", application)


def _locked(context: DialplanContext) -> DialplanContext:
    # One writer per context at a time: renumbering reads the whole context first.
    return DialplanContext.objects.select_for_update().get(pk=context.pk)


def extension_create(*, context: DialplanContext, pattern: str, application: str,
                     arguments: str = "", priority: int | None = None,
                     scaffolded: bool = False) -> DialplanExtension:
    """Add a step; `priority` None appends it to its pattern, a number inserts it there."""
    pattern, application, arguments = _clean_rule(pattern, application, arguments)
    with transaction.atomic():
        context = _locked(context)
        groups = _groups(context)
        step = DialplanExtension(context=context, pattern=pattern, application=application,
                                 arguments=arguments, scaffolded=scaffolded)
        _insert(groups, step, priority)
        _apply_layout(groups)
        dialplan_sync_context(context)
    return step


def extension_update(*, extension: DialplanExtension, pattern: str, application: str,
                     arguments: str = "", priority: int | None = None) -> DialplanExtension:
    """Change a step; `priority` None keeps its place (or appends it to a new pattern)."""
    pattern, application, arguments = _clean_rule(pattern, application, arguments)
    with transaction.atomic():
        context = _locked(extension.context)
        groups = _groups(context)
        step = next(s for _p, steps in groups for s in steps if s.pk == extension.pk)
        old_index = _remove(groups, step)
        if priority is None and pattern == step.pattern:
            priority = old_index + 1
        step.pattern, step.application, step.arguments = pattern, application, arguments
        _insert(groups, step, priority)
        _apply_layout(groups)
        step.save()  # its application or arguments may be all that changed
        dialplan_sync_context(context)
    return step


def extension_delete(*, extension: DialplanExtension) -> None:
    with transaction.atomic():
        context = _locked(extension.context)
        DialplanExtension.objects.filter(pk=extension.pk).delete()
        _apply_layout(_groups(context))
        dialplan_sync_context(context)


def extension_move(*, extension: DialplanExtension, direction: str) -> DialplanExtension:
    """Move a step up or down within its pattern (it runs earlier or later). The first step
    moved up, or the last moved down, moves the whole pattern on the page instead."""
    if direction not in ("up", "down"):
        raise ValueError("direction is 'up' or 'down'")
    with transaction.atomic():
        context = _locked(extension.context)
        groups = _groups(context)
        for position, (_pattern, steps) in enumerate(groups):
            index = next((i for i, s in enumerate(steps) if s.pk == extension.pk), None)
            if index is None:
                continue
            target = index - 1 if direction == "up" else index + 1
            if 0 <= target < len(steps):
                steps[index], steps[target] = steps[target], steps[index]
            else:
                other = position - 1 if direction == "up" else position + 1
                if 0 <= other < len(groups):
                    groups[position], groups[other] = groups[other], groups[position]
            break
        _apply_layout(groups)
        dialplan_sync_context(context)
    extension.refresh_from_db()
    return extension


# --- the default agents context -------------------------------------------------------------

@dataclass
class ScaffoldResult:
    context: DialplanContext
    created_context: bool
    internal_patterns: list[str]
    outbound_patterns: list[str]
    carrier: Carrier | None
    rules_written: int
    rules_removed: int
    skipped_patterns: list[str] = field(default_factory=list)

    @property
    def messages(self) -> list[str]:
        texts = [
            f"Context {self.context.name}: {self.rules_written} scaffolded rule(s) written, "
            f"{self.rules_removed} old scaffolded rule(s) replaced. Internal calls: "
            f"{', '.join(self.internal_patterns) or 'none'}."
        ]
        if self.carrier:
            texts.append(f"Outbound calls ({', '.join(self.outbound_patterns)}) go through "
                         f"the carrier {self.carrier.name} "
                         f"({carrier_object_id(self.carrier.slug)}).")
        else:
            texts.append("No active carrier: outbound calls were not scaffolded, only internal "
                         "calls. Add or activate a carrier, then scaffold again.")
        if self.skipped_patterns:
            texts.append(f"Left alone because they hold rules you added: "
                         f"{', '.join(self.skipped_patterns)}.")
        return texts

    def __str__(self) -> str:
        return " ".join(self.messages)


def internal_patterns(extensions: Iterable[str]) -> list[str]:
    """One pattern per extension length, limited to the leading digits in use, so short outside
    numbers (112, 911) are not taken for extensions unless an extension starts that way."""
    leading: dict[int, set[str]] = defaultdict(set)
    for extension in extensions:
        if extension.isdigit() and len(extension) >= 2:
            leading[len(extension)].add(extension[0])
    if not leading:
        return [DEFAULT_INTERNAL_PATTERN]
    patterns = []
    for length in sorted(leading):
        digits = "".join(sorted(leading[length]))
        head = digits if len(digits) == 1 else ("X" if len(digits) == 10 else f"[{digits}]")
        patterns.append("_" + head + "X" * (length - 1))
    return patterns


def outbound_steps(carrier: Carrier, number: str = "${EXTEN}") -> list[tuple[str, str]]:
    """(application, arguments) of an outbound call through this carrier; `number` is the
    Dial argument of the number in the carrier's format (`outbound_routes`)."""
    trunk = carrier_object_id(carrier.slug)
    steps = []
    if carrier.caller_id_number:
        steps.append(("Set", f"CALLERID(num)={carrier.caller_id_number}"))
    elif carrier.server.default_caller_id:
        # A call dialled on a softphone carries the phone's identity ("Agent 7101" <7101>);
        # calls the app originates (they carry our call id) already have the right one.
        # No ExecIf (it runs any application named in it): a relative jump over the two Sets
        # ("+3" from this step), which a step inserted before them does not break.
        default = carrier.server.default_caller_id
        steps.append(("GotoIf", f'$["${{{CALL_ID_VARIABLE}}}" != ""]?+3'))
        steps.append(("Set", f"CALLERID(num)={default}"))
        steps.append(("Set", "CALLERID(name)="))
    if carrier.max_channels:
        # GROUP_COUNT counts this call too: more than max_channels means one too many.
        steps.append(("Set", f"GROUP({CARRIER_GROUP_CATEGORY})={trunk}"))
        steps.append(("GotoIf", f"$[${{GROUP_COUNT({trunk}@{CARRIER_GROUP_CATEGORY})}} > "
                                f"{carrier.max_channels}]?{CARRIERS_FULL_EXTENSION},1"))
    steps.append(("Dial", f"PJSIP/{number}@{trunk},{OUTBOUND_DIAL_TIMEOUT}"))
    steps.append(("Hangup", ""))
    return steps


def outbound_routes(carrier: Carrier) -> dict[str, list[tuple[str, str]]]:
    """Pattern -> steps: one pattern per shape a number is dialled in (+E.164, E.164 without
    +, national), each dialling the number in the carrier's number format (issue #12: one
    strip for both `_X.` and `_+X.` cut the first digit off numbers dialled without +)."""
    return {route.pattern: outbound_steps(carrier, route.expression())
            for route in carrier.number_routes()}


def first_active_carrier() -> Carrier | None:
    return Carrier.objects.filter(is_active=True).order_by("order", "name").first()


def dialplan_scaffold_agents() -> ScaffoldResult:
    """Write (or rewrite) the scaffolded rules of the `agents` context.

    Internal calls: one pattern per extension length -> Dial(PJSIP/${EXTEN},30), Hangup().
    Everything else (_X., _+X. and the carrier's national patterns) -> the first active
    carrier, each number in the carrier's format (and `carriersfull` -> Congestion when it
    has a channel limit).
    Only patterns whose steps are all scaffolded are replaced; a pattern holding a rule an admin
    added is left whole and reported.
    """
    with transaction.atomic():
        context, created = DialplanContext.objects.get_or_create(
            name=AGENTS_CONTEXT,
            defaults={"description": "Agents' phones: internal calls and outbound calls "
                                     "(scaffolded)"})
        context = _locked(context)
        carrier = first_active_carrier()
        internal = internal_patterns(Phone.objects.values_list("extension", flat=True))
        wanted: dict[str, list[tuple[str, str]]] = {
            pattern: [("Dial", f"PJSIP/${{EXTEN}},{INTERNAL_DIAL_TIMEOUT}"), ("Hangup", "")]
            for pattern in internal
        }
        routes = outbound_routes(carrier) if carrier else {}
        outbound = list(routes)
        wanted.update(routes)
        if carrier and carrier.max_channels:
            wanted[CARRIERS_FULL_EXTENSION] = [("Congestion", "5"), ("Hangup", "")]

        groups = _groups(context)
        kept: Groups = []
        removed = 0
        skipped = []
        for pattern, steps in groups:
            if all(step.scaffolded for step in steps):
                DialplanExtension.objects.filter(pk__in=[s.pk for s in steps]).delete()
                removed += len(steps)
            else:
                kept.append((pattern, steps))
                if pattern in wanted:
                    skipped.append(pattern)
        new_groups: Groups = []
        written = 0
        for pattern, steps in wanted.items():
            if pattern in skipped:
                continue
            rules = []
            for application, arguments in steps:
                _clean_rule(pattern, application, arguments)
                rules.append(DialplanExtension(context=context, pattern=pattern,
                                               application=application, arguments=arguments,
                                               scaffolded=True))
            new_groups.append((pattern, rules))
            written += len(rules)
        _apply_layout(new_groups + kept)
        dialplan_sync_context(context)
    return ScaffoldResult(
        context=context, created_context=created,
        internal_patterns=[p for p in internal if p not in skipped],
        outbound_patterns=[p for p in outbound if p not in skipped],
        carrier=carrier, rules_written=written, rules_removed=removed,
        skipped_patterns=skipped,
    )


# --- one outbound context per carrier, for campaigns ----------------------------------------

def carrier_context_name(carrier: Carrier) -> str:
    name = f"out-{carrier.slug}"
    return name if len(name) <= 40 else f"out-carrier-{carrier.pk}"


def dialplan_carrier_context(*, carrier: Carrier) -> str:
    """The context whose rules dial any number through `carrier` (its prefix, strip and
    channel limit rules), written (scaffolded) or rewritten when the carrier changed. A
    campaign's calls are originated into it, so they leave through the campaign's carrier
    whatever the agents' own context does. Returns its name."""
    name = carrier_context_name(carrier)
    routes = outbound_routes(carrier)
    wanted = [(pattern, index, application, arguments)
              for pattern, steps in routes.items()
              for index, (application, arguments) in enumerate(steps, 1)]
    if carrier.max_channels:
        wanted += [(CARRIERS_FULL_EXTENSION, 1, "Congestion", "5"),
                   (CARRIERS_FULL_EXTENSION, 2, "Hangup", "")]
    with transaction.atomic():
        context, _created = DialplanContext.objects.get_or_create(
            name=name, defaults={"description": f"Campaign calls through the carrier "
                                                f"{carrier.name} (scaffolded)"})
        context = _locked(context)
        have = sorted((rule.pattern, rule.priority, rule.application, rule.arguments)
                      for rule in context.extensions.all())
        if have != sorted(wanted):
            context.extensions.all().delete()
            orders = {pattern: order for order, pattern in enumerate(dict.fromkeys(
                pattern for pattern, *_rest in wanted), 1)}
            for pattern, index, application, arguments in wanted:
                _clean_rule(pattern, application, arguments)
                DialplanExtension.objects.create(
                    context=context, pattern=pattern, priority=index, order=orders[pattern],
                    application=application, arguments=arguments, scaffolded=True)
            dialplan_sync_context(context)
    return name
