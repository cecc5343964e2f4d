"""What a dialplan rule entered in the UI may contain: Asterisk's pattern syntax, an allowlist of
applications, and arguments that survive the trip through `extensions_table`.

The rules are written to the realtime table Asterisk executes as-is, from a web form, so this is
also a security edge. Asterisk rebuilds argument text at run time, so nothing here refuses bad
names: only allowed applications, each with the argument grammar of dialplan_arguments.py.

Each check raises `django.core.exceptions.ValidationError` with a message an operator can act on.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

from telephony.asterisk.dialplan_arguments import (
    application_names,
    check_application_arguments,
)

# The column widths of Asterisk's `extensions` table (schema/): exten varchar(40), app
# varchar(40), appdata varchar(256).
MAX_PATTERN_LENGTH = 40
MAX_ARGUMENTS_LENGTH = 256

# Asterisk's special extensions: start, hangup, invalid, response timeout, exception, operator,
# the voicemail "*" key, fax detection, absolute timeout.
SPECIAL_EXTENSIONS = ("s", "h", "i", "t", "e", "o", "a", "fax", "T")

# Real applications of Asterisk 22, spelled as Asterisk prints them: used to tell "not allowed
# here" from "not an application". Applications removed in Asterisk 21 (Macro, MeetMe, Monitor,
# ...) are not here: Asterisk 22 would fail the call.
ASTERISK_APPLICATIONS: tuple[str, ...] = (
    "AddQueueMember", "AGI", "AMD", "Answer", "AttendedTransfer", "AudioSocket",
    "Authenticate", "BackGround", "BackgroundDetect", "BlindTransfer", "Bridge", "BridgeAdd",
    "BridgeWait", "Busy", "CELGenUserEvent", "ChanIsAvail", "ChannelRedirect", "ChanSpy",
    "ConfBridge", "ConfKick", "Congestion", "ContinueWhile", "ControlPlayback", "DBdeltree",
    "Dial", "Directory", "DumpChan", "EAGI", "Echo", "EndWhile", "ExecIf", "ExitWhile",
    "ExtenSpy", "FollowMe", "Gosub", "GosubIf", "Goto", "GotoIf", "GotoIfTime", "Hangup",
    "ImportVar", "Incomplete", "Log", "MessageSend", "Milliwatt", "MixMonitor", "MorseCode",
    "MusicOnHold", "NoOp", "Originate", "Page", "Park", "ParkAndAnnounce", "ParkedCall",
    "PauseQueueMember", "Pickup", "PickupChan", "Playback", "PlayTones", "PrivacyManager",
    "Proceeding", "Progress", "Queue", "QueueLog", "QueueUpdate", "RaiseException", "Read",
    "ReadExten", "ReceiveFAX", "Record", "RemoveQueueMember", "ResetCDR", "RetryDial", "Return",
    "Ringing", "SayAlpha", "SayAlphaCase", "SayCountedAdj", "SayCountedNoun", "SayDigits",
    "SayNumber", "SayPhonetic", "SayUnixTime", "SendDTMF", "SendFAX", "SendText", "Set",
    "SoftHangup", "StackPop", "StartMusicOnHold", "Stasis", "StopMixMonitor",
    "StopMusicOnHold", "StopPlayTones", "Transfer", "UnpauseQueueMember", "UserEvent",
    "Verbose", "VMAuthenticate", "VoiceMail", "VoiceMailMain", "Wait", "WaitDigit",
    "WaitExten", "WaitForNoise", "WaitForRing", "WaitForSilence", "WaitUntil", "While",
)
_REAL = {name.lower() for name in ASTERISK_APPLICATIONS}

# The applications a rule may use: each has an argument grammar in dialplan_arguments.py.
# An allowlist, because applications that run other applications (Originate, ExecIf, Gosub),
# programs (System, AGI) or read other code cannot be made safe by looking at their text.
APPLICATIONS: tuple[str, ...] = tuple(sorted(application_names(), key=str.lower))
_BY_LOWER = {name.lower(): name for name in APPLICATIONS}

# Why some refused applications are refused (lowercase keys: Asterisk ignores case).
REFUSED_APPLICATIONS: dict[str, str] = {
    "system": "System runs a shell command on the Asterisk server",
    "trysystem": "TrySystem runs a shell command on the Asterisk server",
    "exec": "Exec runs any application named in its arguments",
    "tryexec": "TryExec runs any application named in its arguments",
    "execif": "ExecIf runs any application named in its arguments; use GotoIf to a rule",
    "execiftime": "ExecIfTime runs any application named in its arguments",
    "originate": "Originate runs any application named in its arguments",
    "agi": "AGI runs a program on the Asterisk server",
    "eagi": "EAGI runs a program on the Asterisk server",
    "fastagi": "FastAGI hands the call to a program elsewhere",
    "deadagi": "DeadAGI runs a program on the Asterisk server",
    "gosub": "Gosub runs dialplan this page does not check; use Goto",
    "gosubif": "GosubIf runs dialplan this page does not check; use GotoIf",
    "shell": "SHELL runs a shell command on the Asterisk server",
    "externalivr": "ExternalIVR starts a program on the Asterisk server",
    "macro": "Macro was removed in Asterisk 21",
    "meetme": "MeetMe was removed in Asterisk 21; use ConfBridge",
    "monitor": "Monitor was removed in Asterisk 21; use MixMonitor",
    "stopmonitor": "StopMonitor was removed in Asterisk 21; use StopMixMonitor",
    "changemonitor": "ChangeMonitor was removed in Asterisk 21; use MixMonitor",
    "pausemonitor": "PauseMonitor was removed in Asterisk 21",
    "unpausemonitor": "UnpauseMonitor was removed in Asterisk 21",
    "sipaddheader": "SIPAddHeader belonged to chan_sip, removed in Asterisk 21; "
                    "use Set(PJSIP_HEADER(add,X-Name)=value)",
}

_CONTEXT_NAME = re.compile(r"^[A-Za-z0-9_-]{1,40}\Z")
# Inside a pattern: X (0-9), Z (1-9), N (2-9), digits, * # +, and [...] sets; `.` (one or more
# characters) or `!` (zero or more) only at the end. Asterisk ignores '-' between characters of a
# pattern (it is for readability: _555-XXXX); we allow it the same way.
_PATTERN_BODY = re.compile(r"^(?:[XxZzNn0-9*#+\-]|\[[0-9*#+\-]+\])+[.!]?\Z")
_LITERAL_DIGITS = re.compile(r"^[0-9*#+]+\Z")
_LITERAL_NAME = re.compile(r"^[A-Za-z0-9]+\Z")
_RANGE_IN_SET = re.compile(r"\[([^\]]*)\]")


def validate_context_name(name: str) -> str:
    if not _CONTEXT_NAME.match(name or ""):
        raise ValidationError(
            "A context name is 1 to 40 letters, digits, '_' or '-' (no spaces, ';' or other "
            "punctuation), e.g. agents or from-trunk.",
            code="context_name",
        )
    return name


def validate_pattern(pattern: str) -> str:
    """An extension Asterisk can match: a pattern starting with `_`, literal digits (`*`, `#` and
    `+` allowed), or a name such as `s`, `h`, `i`, `t`."""
    pattern = (pattern or "").strip()
    if not pattern:
        raise ValidationError("Enter an extension or a pattern, e.g. _X. or 1001 or s.",
                              code="pattern")
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise ValidationError(
            f"An extension is at most {MAX_PATTERN_LENGTH} characters (the width of Asterisk's "
            "exten column).", code="pattern")
    if pattern.startswith("_"):
        body = pattern[1:]
        if body in (".", "!"):
            raise ValidationError(
                f"'_{body}' also matches the special extensions h, i, t and fax and breaks "
                "hangup handling; use _X. (one or more digits) instead.", code="pattern")
        if not _PATTERN_BODY.match(body):
            raise ValidationError(
                "Not an Asterisk pattern. After '_' use X (any digit), Z (1-9), N (2-9), digits, "
                "* # +, sets like [1-5] or [137], and optionally '.' or '!' at the very end, "
                "e.g. _X. or _NXXNXXXXXX or _[1-5]XX.", code="pattern")
        for chars in _RANGE_IN_SET.findall(body):
            for low, high in re.findall(r"([0-9])-([0-9])", chars):
                if low > high:
                    raise ValidationError(
                        f"The range [{low}-{high}] is backwards; write [{high}-{low}].",
                        code="pattern")
        return pattern
    if _LITERAL_DIGITS.match(pattern) or _LITERAL_NAME.match(pattern):
        return pattern
    raise ValidationError(
        "Not an Asterisk extension. Use digits (with * # +), a name such as s, h, i, t, e, o, "
        "a or fax (letters and digits only), or a pattern starting with '_' such as _X.",
        code="pattern")


def canonical_application(name: str) -> str:
    """The application as Asterisk spells it, or a ValidationError saying why not."""
    key = (name or "").strip().lower()
    if not key:
        raise ValidationError("Choose an application, e.g. Dial, Playback or Hangup.",
                              code="application")
    if key in REFUSED_APPLICATIONS:
        raise ValidationError(f"{name.strip()} is not allowed: {REFUSED_APPLICATIONS[key]}.",
                              code="application_refused")
    if key in _REAL and key not in _BY_LOWER:
        raise ValidationError(
            f"{name.strip()[:40]} is an Asterisk application this page does not allow: its "
            "arguments cannot be checked. Allowed: " + ", ".join(APPLICATIONS) + ".",
            code="application_refused")
    if key not in _BY_LOWER:
        raise ValidationError(
            f"'{name.strip()[:40]}' is not an Asterisk application this page can write. Use one "
            "of the listed applications (Dial, Answer, Playback, Queue, Set, Goto, Hangup, ...).",
            code="application")
    return _BY_LOWER[key]


def validate_arguments(arguments: str, application: str) -> str:
    """Arguments Asterisk will read back from `extensions_table` exactly as written, in the
    grammar of their (allowed) application."""
    arguments = arguments or ""
    if "\r" in arguments or "\n" in arguments:
        raise ValidationError("Arguments must be on one line (no line breaks).",
                              code="arguments_newline")
    if re.search(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]", arguments):
        raise ValidationError("Arguments must not contain control characters such as tabs.",
                              code="arguments_control")
    if len(arguments) > MAX_ARGUMENTS_LENGTH:
        raise ValidationError(
            f"Arguments are at most {MAX_ARGUMENTS_LENGTH} characters (Asterisk's appdata column); "
            f"these are {len(arguments)}.", code="arguments_length")
    # res_config_odbc splits every value on ';' and decodes '^XX' as hex
    # (docs/asterisk-behaviour.md): the arguments Asterisk would execute would not be the ones
    # shown here.
    if ";" in arguments or "^" in arguments:
        raise ValidationError(
            "Arguments cannot contain ';' or '^': Asterisk's realtime driver splits values on ';' "
            "and decodes '^' sequences, so the rule would not run as written.",
            code="arguments_odbc")
    check_application_arguments(canonical_application(application), arguments)
    return arguments


def render_step(application: str, arguments: str) -> str:
    """`App(arguments)` as extensions.conf writes it."""
    return f"{application}({arguments})"
