"""How a dialled number reaches a carrier in the carrier's own number format.

Pure functions (no Django): the scaffolded dialplan and the dialer's direct dial strings are
both built from `number_routes`, so a call reaches the carrier the same way whichever placed it.

A number comes in one of the shapes the `agents` context catches (issue #12, defect 3):
- `+` and digits, E.164 (every call the app places: services/calls.py normalises to it);
- digits without `+`, read as E.164 without the `+` (country code first), as a softphone user
  types an international number;
- for a carrier in national format, digits that start with its national prefix, already in its
  format (and an international access code such as `00` starts with it too), pass as dialled.

Each shape is one pattern; its number is a fixed text plus the dialled number from a position
(`${EXTEN:k}`), which is all Asterisk needs and what `dial_number` does in Python.
"""

from __future__ import annotations

from dataclasses import dataclass

E164_PLUS = "e164_plus"
E164 = "e164"
NATIONAL = "national"


@dataclass(frozen=True)
class NumberRoute:
    pattern: str  # the dialplan pattern, e.g. "_+44X."
    text: str  # put in front...
    skip: int  # ...of the dialled number without its first `skip` characters

    @property
    def lead(self) -> str:
        """What a number must start with to take this route (the pattern's fixed part)."""
        return self.pattern[1:-2]

    def expression(self) -> str:
        """The number as a Dial argument: `0${EXTEN:3}`, `+${EXTEN}`."""
        return self.text + (f"${{EXTEN:{self.skip}}}" if self.skip else "${EXTEN}")

    def apply(self, number: str) -> str:
        return self.text + number[self.skip:]


def _strip(route: NumberRoute, strip: int, prefix: str) -> NumberRoute:
    """Remove `strip` characters from the front of the formatted number, then add `prefix`."""
    text, skip = route.text, route.skip
    if strip <= len(text):
        text = text[strip:]
    else:
        skip += strip - len(text)
        text = ""
    return NumberRoute(route.pattern, prefix + text, skip)


def number_routes(number_format: str, *, country_code: str = "", national_prefix: str = "",
                  international_prefix: str = "", strip: int = 0,
                  prefix: str = "") -> list[NumberRoute]:
    """One route per shape of dialled number, most specific first. `strip` and `prefix` (the
    carrier's own extra rules) apply to the number once it is in the carrier's format."""
    if number_format == E164_PLUS:
        routes = [NumberRoute("_+X.", "", 0), NumberRoute("_X.", "+", 0)]
    elif number_format == E164:
        routes = [NumberRoute("_+X.", "", 1), NumberRoute("_X.", "", 0)]
    elif number_format == NATIONAL:
        if not country_code.isdigit():
            raise ValueError("a national number format needs the country code")
        cc = country_code
        routes = [
            NumberRoute(f"_+{cc}X.", national_prefix, 1 + len(cc)),
            NumberRoute("_+X.", international_prefix, 1),
            NumberRoute(f"_{cc}X.", national_prefix, len(cc)),
        ]
        if national_prefix and not national_prefix.startswith(cc) \
                and not cc.startswith(national_prefix):
            routes.append(NumberRoute(f"_{national_prefix}X.", "", 0))
        routes.append(NumberRoute("_X.", international_prefix, 0))
    else:
        raise ValueError(f"unknown number format {number_format!r}")
    return [_strip(route, strip, prefix) for route in routes]


def route_for(routes: list[NumberRoute], number: str) -> NumberRoute:
    """The route Asterisk would take for `number`: the longest fixed part it starts with
    (`_X.` and `_+X.` need at least one digit after it)."""
    fitting = [r for r in routes if number.startswith(r.lead) and len(number) > len(r.lead)
               and number[len(r.lead):].isdigit()]
    if not fitting:
        raise ValueError(f"no route for {number!r}")
    return max(fitting, key=lambda r: len(r.lead))


def dial_number(routes: list[NumberRoute], number: str) -> str:
    return route_for(routes, number).apply(number)
