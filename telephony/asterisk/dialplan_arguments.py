"""The arguments a dialplan rule may carry, as an allowlist grammar.

Asterisk rebuilds an application's arguments at run time: it substitutes every `${...}` (inner
ones first, so `${SH${Z}ELL(id)}` becomes `${SHELL(id)}` and runs, `main/pbx_variables.c`), and
the expression parser of `$[...]` calls any dialplan function it finds (`SHELL(id)`, also one a
variable spelled out). Looking for dangerous names in the text cannot work, so this module
accepts only known shapes:

- each application has a list of argument kinds, one per comma position, and no more positions;
- literal text is made of a small set of ASCII characters per kind;
- a `${...}` names one variable or function of an allowlist, with no `${` or `$[` inside it;
- `$[...]` appears only where Asterisk expects a condition (GotoIf), holds no function call, and
  refers only to values Asterisk itself sets (never to caller-supplied text);
- `Set` assigns a variable, or one of three functions that change only the call itself.

Every check raises ValidationError with the rule an operator can follow.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from django.core.exceptions import ValidationError

# --- what a ${...} may name -----------------------------------------------------------------

# Variables Asterisk sets on the call, read-only in spirit. Our own: the call id the originate
# API sets, and any variable named AD_... (set one with Set(AD_NAME=...)).
BUILTIN_VARIABLES = frozenset({
    "EXTEN", "CONTEXT", "PRIORITY", "UNIQUEID", "DIALSTATUS", "DIALEDTIME", "ANSWEREDTIME",
    "HANGUPCAUSE", "QUEUESTATUS", "VMSTATUS", "AUTODIALER_CALL_ID",
})
OWN_VARIABLE_PREFIX = "AD_"
# Read-only functions and the arguments each may take.
READ_FUNCTIONS: dict[str, re.Pattern] = {
    "CALLERID": re.compile(r"(?:num|name)\Z"),
    "CHANNEL": re.compile(r"(?:name|uniqueid|linkedid|language|accountcode|state|channeltype)\Z"),
    "GROUP_COUNT": re.compile(r"[A-Za-z0-9_-]{1,40}(?:@[A-Za-z0-9_-]{1,40})?\Z"),
}
# What a condition in $[...] may read: values Asterisk sets, never text the caller chose
# (EXTEN and CALLERID come from the far end on inbound calls).
# AUTODIALER_CALL_ID is set by the originate API only: no rule may assign it (nor any name here).
EXPRESSION_VARIABLES = frozenset({"DIALSTATUS", "DIALEDTIME", "ANSWEREDTIME", "HANGUPCAUSE",
                                  "QUEUESTATUS", "VMSTATUS", "AUTODIALER_CALL_ID"})
EXPRESSION_FUNCTIONS = frozenset({"GROUP_COUNT"})
# The only functions Set may write: they change this call, nothing on the server.
WRITE_FUNCTIONS: dict[str, re.Pattern] = {
    "CALLERID": re.compile(r"(?:num|name)\Z"),
    "GROUP": re.compile(r"[A-Za-z0-9_-]{1,40}\Z"),
    "PJSIP_HEADER": re.compile(r"add,X-[A-Za-z0-9-]{1,40}\Z"),
}

_VARIABLE = re.compile(r"[A-Z][A-Z0-9_]{0,79}\Z")
_SET_VARIABLE = re.compile(r"_{0,2}[A-Za-z][A-Za-z0-9_]{0,79}\Z")
_SUBSTRING = re.compile(r"-?[0-9]{1,3}(?::-?[0-9]{1,3})?\Z")
# Asterisk finds functions ignoring case (ast_custom_function_find uses strcasecmp).
_FUNCTION = re.compile(r"([A-Za-z_]{1,40})\((.*)\)\Z", re.S)

# --- literal characters per kind ------------------------------------------------------------

_TEXT = r"A-Za-z0-9 _.:+*#@/=!?-"     # messages (NoOp, Verbose, Log) and Set values
_WORD = r"A-Za-z0-9_.+*#@-"           # names, numbers, extensions, mailboxes
_PATH = r"A-Za-z0-9_./-"              # sound and recording files


def _error(message: str, code: str = "arguments") -> ValidationError:
    return ValidationError(message, code=code)


def check_reference(body: str, *, in_expression: bool = False) -> None:
    """The inside of one `${...}`."""
    if "$" in body or "{" in body:
        raise _error("A ${...} cannot contain another ${...} or $[...]: Asterisk would build "
                     "the name at run time.", "arguments_nested")
    function = _FUNCTION.match(body)
    if function:
        name, argument = function.groups()
        name = name.upper()
        allowed = READ_FUNCTIONS.get(name)
        if in_expression and name not in EXPRESSION_FUNCTIONS:
            allowed = None
        if allowed is None or not allowed.match(argument):
            raise _error(f"${{{body[:40]}}} is not a function this page allows. Allowed: "
                         "${CALLERID(num)}, ${CALLERID(name)}, ${CHANNEL(name)} (and uniqueid, "
                         "linkedid, language, accountcode, state), ${GROUP_COUNT(name@group)}; "
                         "in a $[...] condition only ${GROUP_COUNT(...)}.", "arguments_refused")
        return
    name, _colon, substring = body.partition(":")
    if _colon and not _SUBSTRING.match(substring):
        raise _error(f"${{{body[:40]}}}: a substring is ${{NAME:offset}} or "
                     "${NAME:offset:length} with whole numbers.")
    known = (name in BUILTIN_VARIABLES or name.startswith(OWN_VARIABLE_PREFIX)) \
        and _VARIABLE.match(name)
    if in_expression and name not in EXPRESSION_VARIABLES:
        known = False
    if not known:
        where = ("In a $[...] condition only " + ", ".join(sorted(EXPRESSION_VARIABLES))
                 + " and ${GROUP_COUNT(...)} may be read (never text the caller sent)."
                 if in_expression else
                 "Use one of " + ", ".join(sorted(BUILTIN_VARIABLES))
                 + f", or a variable of your own named {OWN_VARIABLE_PREFIX}...")
        raise _error(f"${{{body[:40]}}} is not a variable this page allows. {where}",
                     "arguments_refused")


def _scan(text: str, allowed: str, *, what: str) -> None:
    """Literal characters from `allowed`, and `${...}` references from the allowlist."""
    literal = re.compile(f"[{allowed}]")
    index = 0
    while index < len(text):
        if text.startswith("${", index):
            end = text.find("}", index + 2)
            if end < 0:
                raise _error(f"{what}: a '${{' is not closed with '}}'.")
            check_reference(text[index + 2:end])
            index = end + 1
            continue
        char = text[index]
        if text.startswith("$[", index):
            raise _error(f"{what}: a $[...] expression is allowed only as a GotoIf condition.",
                         "arguments_refused")
        if not literal.match(char):
            shown = repr(char) if not char.isprintable() or char == " " else f"'{char}'"
            raise _error(f"{what} cannot contain {shown}. Allowed here: letters, digits, "
                         f"{_describe(allowed)} and ${{...}} references.", "arguments_character")
        index += 1


def _describe(allowed: str) -> str:
    return " ".join(c for c in allowed.replace("A-Za-z0-9", "").replace(" ", "")
                    if c not in "\\") + (" and spaces" if " " in allowed else "")


# --- argument kinds -------------------------------------------------------------------------

Kind = Callable[[str, str], None]


def text(value: str, what: str) -> None:
    _scan(value, _TEXT, what=what)


def word(value: str, what: str) -> None:
    _scan(value, _WORD, what=what)


def number(value: str, what: str) -> None:
    if not re.fullmatch(r"[0-9]{1,6}(?:\.[0-9]{1,3})?", value, re.A) and not (
            value.startswith("${") and value.endswith("}") and value.count("${") == 1):
        raise _error(f"{what} is a number, e.g. 30.")
    if value.startswith("${"):
        check_reference(value[2:-1])


def _path(value: str, what: str, *, absolute: bool) -> None:
    if ".." in value.split("/") or (value.startswith("/") and not absolute):
        raise _error(f"{what} is a file name relative to Asterisk's own directory (no leading "
                     "'/' and no '..'), e.g. calls/${UNIQUEID}.wav.", "arguments_refused")
    _scan(value, _PATH, what=what)


def sounds(value: str, what: str) -> None:
    """Files to play, joined by '&' (reading a sound is harmless wherever it is)."""
    for part in value.split("&"):
        _path(part, what, absolute=True)


def recording(value: str, what: str) -> None:
    """A file Asterisk writes: only below its own recording directory."""
    _path(value, what, absolute=False)


def empty(value: str, what: str) -> None:
    if value:
        raise _error(f"{what} must be left empty here.", "arguments_refused")


def options(letters: str, with_argument: str = "", argument: Kind = word) -> Kind:
    """Single-letter options; those in `with_argument` may take one (argument)."""
    def check(value: str, what: str) -> None:
        index = 0
        while index < len(value):
            letter = value[index]
            index += 1
            if index < len(value) and value[index] == "(" and letter in with_argument:
                end = value.find(")", index)
                if end < 0:
                    raise _error(f"{what}: option {letter}( is not closed.")
                argument(value[index + 1:end], f"{what} {letter}(...)")
                index = end + 1
            elif letter not in letters + with_argument:
                raise _error(f"{what}: option '{letter}' is not allowed here. Allowed: "
                             f"{' '.join(letters + with_argument)}.", "arguments_refused")
    return check


def one_of(*choices: str) -> Kind:
    def check(value: str, what: str) -> None:
        if value and value.lower() not in choices:
            raise _error(f"{what} is one of: {', '.join(choices)}.")
    return check


def dial_target(value: str, what: str) -> None:
    """PJSIP/1001, PJSIP/${EXTEN}@trunk-acme, Local/1001@agents; several joined by '&'."""
    for part in value.split("&"):
        tech, slash, resource = part.partition("/")
        if tech not in ("PJSIP", "Local") or not slash or not resource:
            raise _error(f"{what}: dial PJSIP/<endpoint> or Local/<exten>@<context> "
                         "(several joined by '&').", "arguments_refused")
        if tech == "Local" and resource.endswith(("/n", "/j", "/m", "/b")):
            resource = resource[:-2]
        word(resource, what)


def goto_label(value: str, what: str) -> None:
    """[[context,]exten,]priority, as Goto and the branches of GotoIf take it."""
    parts = value.split(",")
    if len(parts) > 3 or not all(parts):
        raise _error(f"{what}: a destination is priority, exten,priority or "
                     "context,exten,priority.")
    for part in parts:
        word(part, what)


def _condition(value: str, what: str) -> None:
    """`$[ ... ]` with numbers, quoted words, operators and allowed ${...}: no function call."""
    if not (value.startswith("$[") and value.endswith("]")):
        raise _error(f"{what} is a condition written $[...], e.g. $[${{DIALSTATUS}} = BUSY].")
    inner = value[2:-1]
    index = 0
    previous_is_operand = False
    while index < len(inner):
        if inner.startswith("${", index):
            end = inner.find("}", index + 2)
            if end < 0:
                raise _error(f"{what}: a '${{' is not closed with '}}'.")
            check_reference(inner[index + 2:end], in_expression=True)
            index, previous_is_operand = end + 1, True
            continue
        token = re.compile(r"\s+|[A-Za-z0-9_]+|!=|<=|>=|[\"=<>&|+\-*/%!()]")
        match = token.match(inner, index)
        if not match:
            raise _error(f"{what} cannot contain '{inner[index]}' in a condition.",
                         "arguments_character")
        piece = match.group()
        if piece == "(" and previous_is_operand:
            raise _error(f"{what}: a condition cannot call a function (Asterisk's expression "
                         "parser runs any dialplan function named there).", "arguments_refused")
        if not piece.isspace():
            previous_is_operand = bool(re.match(r"[A-Za-z0-9_\"]", piece)) or piece == ")"
        index = match.end()


def _branches(value: str, what: str, *, condition: Kind) -> None:
    head, question, labels = value.partition("?")
    if not question or not labels:
        raise _error(f"{what} needs condition?destination[:destination], e.g. "
                     "$[${DIALSTATUS} = BUSY]?busy,1.")
    condition(head, what)
    for label in labels.split(":", 1):
        if label:
            goto_label(label, what)


def _time_spec(value: str, what: str) -> None:
    parts = value.split(",")
    if not 4 <= len(parts) <= 5:
        raise _error(f"{what}: times,weekdays,days,months[,timezone], e.g. "
                     "08:00-17:00,mon-fri,*,*.")
    for part in parts:
        _scan(part, r"A-Za-z0-9:*&/_-", what=what)


# --- applications ---------------------------------------------------------------------------

Spec = list[Kind] | Callable[[str], None]


def _whole(check: Callable[[str, str], None], name: str) -> Callable[[str], None]:
    return lambda arguments: check(arguments, name)


def _set(arguments: str) -> None:
    target, equals, value = arguments.partition("=")
    if not equals:
        raise _error("Set takes NAME=value, e.g. Set(AD_LANG=en).")
    function = _FUNCTION.match(target)
    if function:
        name, argument = function.groups()
        allowed = WRITE_FUNCTIONS.get(name.upper())
        if allowed is None or not allowed.match(argument):
            raise _error(f"Set may assign a variable, or CALLERID(num), CALLERID(name), "
                         f"GROUP(name) or PJSIP_HEADER(add,X-Name); not {target[:40]} (functions "
                         "such as FILE, SHELL, DB, CURL or ODBC act on the server).",
                         "arguments_refused")
    elif not _SET_VARIABLE.match(target):
        raise _error("Set's name is a variable: letters, digits and '_', starting with a letter "
                     "(one or two leading '_' make it inherited).", "arguments_refused")
    else:
        _assignable(target.lstrip("_"), "Set")
    text(value, "Set's value")


def _assignable(name: str, application: str) -> None:
    # Conditions trust these to hold what Asterisk (or the originate API) put there; a rule
    # copying caller-supplied text into one would carry it into a $[...].
    if name.upper() in BUILTIN_VARIABLES:
        raise _error(f"{application} cannot assign {name}: Asterisk or this app sets it, and "
                     f"conditions rely on that. Use a variable of your own named "
                     f"{OWN_VARIABLE_PREFIX}...", "arguments_refused")


def _read_variable(value: str, what: str) -> None:
    _scan(value, "A-Za-z0-9_", what=what)
    _assignable(value, "Read")


APPLICATION_ARGUMENTS: dict[str, Spec] = {
    "Answer": [number],
    "Hangup": [number],
    "Busy": [number],
    "Congestion": [number],
    "Progress": [],
    "Ringing": [],
    "Echo": [],
    "NoOp": _whole(text, "NoOp's text"),
    "Verbose": [number, text],
    "Log": [one_of("error", "warning", "notice", "debug", "verbose", "dtmf"), text],
    "Wait": [number],
    "WaitExten": [number, options("", "m")],
    "Playback": [sounds, one_of("skip", "noanswer", "skip&noanswer", "noanswer&skip")],
    "BackGround": [sounds, options("snm"), word, word],
    "Read": [_read_variable, sounds, number, options("sin"), number, number],
    "SayDigits": [word],
    "SayNumber": [word, word],
    "SayAlpha": [word],
    "PlayTones": [word],
    "StopPlayTones": [],
    "MusicOnHold": [word, number],
    "StartMusicOnHold": [word],
    "StopMusicOnHold": [],
    # Dial's options that run routines or jump to other contexts (b, B, U, M, G, F, d) are left
    # out: they would execute dialplan this page did not check.
    "Dial": [dial_target, number, options("eghHikKrRtTwWxX", "ADLmS")],
    "Goto": _whole(goto_label, "Goto's destination"),
    "GotoIf": _whole(lambda v, w: _branches(v, w, condition=_condition), "GotoIf"),
    "GotoIfTime": _whole(lambda v, w: _branches(v, w, condition=_time_spec), "GotoIfTime"),
    "Set": _set,
    "VoiceMail": [lambda v, w: [word(p, w) for p in v.split("&")], options("bsuU")],
    "VoiceMailMain": [word, options("s")],
    # Queue's URL, AGI, macro and gosub positions are left out (they run other code).
    "Queue": [word, options("cdhHiknrRtTwWxX"), empty, sounds, number],
    "ConfBridge": [word, word, word, word],
    "MixMonitor": [recording, options("ab", "vVW", number)],
    "StopMixMonitor": [word],
}


def application_names() -> Iterable[str]:
    return APPLICATION_ARGUMENTS.keys()


def split_arguments(arguments: str) -> list[str]:
    """Split on the commas Asterisk splits an application's arguments on (not inside ())."""
    parts, current, depth = [], [], 0
    for char in arguments:
        if char == "(":
            depth += 1
        elif char == ")":
            depth = max(depth - 1, 0)
        elif char == "," and depth == 0:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return parts


def check_application_arguments(application: str, arguments: str) -> None:
    spec = APPLICATION_ARGUMENTS[application]
    if callable(spec):
        spec(arguments)
        return
    if not arguments:
        return
    parts = split_arguments(arguments)
    if len(parts) > len(spec):
        raise _error(f"{application} takes at most {len(spec)} argument(s) here; these are "
                     f"{len(parts)}.", "arguments_count")
    for position, (kind, part) in enumerate(zip(spec, parts, strict=False), 1):
        if part:
            kind(part, f"{application}'s argument {position}")
