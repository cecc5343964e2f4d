"""A dialled number in each shape reaches the carrier in its number format (issue #12, defect 3):
the routes the dialplan is generated from, and the same routes applied in Python (the dialer)."""

import pytest

from telephony.asterisk.carrier_numbers import dial_number, number_routes, route_for


@pytest.mark.parametrize("fmt, options, dialled, sent", [
    ("e164_plus", {}, "+15551234567", "+15551234567"),
    ("e164_plus", {}, "15551234567", "+15551234567"),
    ("e164", {}, "+15551234567", "15551234567"),
    ("e164", {}, "15551234567", "15551234567"),
    ("national", {"country_code": "44", "national_prefix": "0", "international_prefix": "00"},
     "+442079460000", "02079460000"),
    ("national", {"country_code": "44", "national_prefix": "0", "international_prefix": "00"},
     "442079460000", "02079460000"),
    ("national", {"country_code": "44", "national_prefix": "0", "international_prefix": "00"},
     "02079460000", "02079460000"),
    ("national", {"country_code": "44", "national_prefix": "0", "international_prefix": "00"},
     "+15551234567", "0015551234567"),
    ("national", {"country_code": "44", "national_prefix": "0", "international_prefix": "00"},
     "15551234567", "0015551234567"),
    ("national", {"country_code": "44", "national_prefix": "0", "international_prefix": "00"},
     "0015551234567", "0015551234567"),
    ("national", {"country_code": "1", "national_prefix": "", "international_prefix": "011"},
     "+15551234567", "5551234567"),
    ("national", {"country_code": "1", "national_prefix": "1", "international_prefix": "011"},
     "+15551234567", "15551234567"),
    ("e164_plus", {"strip": 1, "prefix": "00"}, "+15551234567", "0015551234567"),
    ("e164_plus", {"strip": 1, "prefix": "00"}, "15551234567", "0015551234567"),
    ("e164", {"strip": 2}, "+15551234567", "551234567"),
    ("e164_plus", {"prefix": "1234#"}, "15551234567", "1234#+15551234567"),
])
def test_every_shape_reaches_the_carrier_in_its_format(fmt, options, dialled, sent):
    assert dial_number(number_routes(fmt, **options), dialled) == sent


def test_the_dialplan_expression_is_the_same_rule_as_the_python_one():
    routes = number_routes("national", country_code="44", national_prefix="0",
                           international_prefix="00", prefix="9")
    assert [(r.pattern, r.expression()) for r in routes] == [
        ("_+44X.", "90${EXTEN:3}"), ("_+X.", "900${EXTEN:1}"), ("_44X.", "90${EXTEN:2}"),
        ("_0X.", "9${EXTEN}"), ("_X.", "900${EXTEN}")]
    assert route_for(routes, "+442079460000").pattern == "_+44X."  # the longest lead wins


def test_a_national_prefix_equal_to_the_country_code_adds_no_second_pattern():
    routes = number_routes("national", country_code="1", national_prefix="1")
    assert [r.pattern for r in routes] == ["_+1X.", "_+X.", "_1X.", "_X."]


def test_unknown_formats_and_a_national_format_without_country_are_refused():
    with pytest.raises(ValueError):
        number_routes("local")
    with pytest.raises(ValueError):
        number_routes("national")
