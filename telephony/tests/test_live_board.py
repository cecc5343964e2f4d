"""The supervisors' live board: each agent's state from the rows Asterisk and the listener
write (ps_contacts, Call), today's numbers in the local time zone, a constant query count,
and who may see it."""

from __future__ import annotations

import time
import zoneinfo
from datetime import datetime, timedelta

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from telephony.models import AgentSession, Call, Phone
from telephony.services.live_board import AgentState, live_board
from telephony.tests.call_fixtures import *  # noqa: F403
from telephony.tests.call_fixtures import make_call
from telephony.tests.fakes.ami import closed_port, registered_endpoint
from telephony.tests.phone_helpers import add_contact

pytestmark = pytest.mark.django_db


def register(fake_ami, extension: str, status: str = "Reachable") -> None:
    """A softphone (MicroSIP/3.21.3) registers: Asterisk has its contact (PJSIPShowContacts,
    which the board asks) and writes its ps_contacts row."""
    fake_ami.endpoints[extension] = registered_endpoint(extension, status,
                                                        user_agent="MicroSIP/3.21.3")
    add_contact(extension, expires=int(time.time()) + 3600)


@pytest.fixture
def nobody_registered(fake_ami):
    """Asterisk has no contact (the fixtures' phones start registered in the fake): list it
    after the phone fixtures."""
    fake_ami.endpoints.clear()


def rows_by_name(board) -> dict:
    return {row.user.username: row for row in board.rows}


# --- what each agent's row says ---
def test_each_agent_state_comes_from_their_phone_registration_and_live_call(
        server, agent, other_agent, agent_phone, other_phone, django_user_model, fake_ami,
        nobody_registered):
    idle = django_user_model.objects.create_user("dave", password="pw-dave-123")
    idle.groups.add(Group.objects.get(name="Agent"))
    Phone.objects.create(extension="1003", name="Dave's desk", server=server, user=idle)
    register(fake_ami, "1001")
    register(fake_ami, "1003")
    answered = make_call(agent_phone, status=Call.Status.ANSWERED,
                         answered_at=timezone.now() - timedelta(seconds=75))
    make_call(other_phone, status=Call.Status.RINGING)  # Carol's phone is not registered...

    rows = rows_by_name(live_board())

    assert rows["bob"].state == AgentState.ON_CALL and rows["bob"].call == answered
    assert 75 <= rows["bob"].call_seconds(timezone.now()) <= 77
    assert rows["carol"].state == AgentState.DIALING  # ...but a live call says more
    assert rows["dave"].state == AgentState.AVAILABLE
    assert rows["dave"].registration.user_agent == "MicroSIP/3.21.3"


def test_an_agent_without_a_phone_and_one_whose_phone_is_offline(agent, other_agent,
                                                                other_phone, nobody_registered):
    rows = rows_by_name(live_board())

    assert rows["bob"].state == AgentState.NO_PHONE
    assert rows["carol"].state == AgentState.OFFLINE


def test_a_registered_phone_asterisk_cannot_reach_is_not_available(agent_phone, fake_ami,
                                                                   nobody_registered):
    # Defect 5 of issue #12: ps_contacts says registered, Asterisk says the contact failed its
    # last qualify and refuses to ring it.
    register(fake_ami, "1001", status="Unreachable")

    row = rows_by_name(live_board())["bob"]

    assert row.state == AgentState.UNREACHABLE and row.state_label == "Phone unreachable"
    assert row.registration.registered and not row.registration.reachable


def test_without_asterisk_the_board_reads_ps_contacts_and_says_so(agent_phone, server,
                                                                  supervisor_client):
    add_contact("1001", expires=int(time.time()) + 3600)
    server.ami_port = closed_port()
    server.save()

    board = live_board()

    row = rows_by_name(board)["bob"]
    assert row.state == AgentState.AVAILABLE and row.registration.source == "database"
    assert "Asterisk could not be asked" in board.registration_problem
    html = supervisor_client.get(reverse("telephony:live_board_fragment")).content.decode()
    assert 'id="registration-problem"' in html and "connection refused" in html


@pytest.mark.parametrize(("device", "state"), [("INUSE", AgentState.ON_CALL),
                                               ("RINGING", AgentState.DIALING),
                                               ("NOT_INUSE", AgentState.AVAILABLE)])
def test_a_call_missing_from_the_log_shows_from_asterisks_device_state(
        agent_phone, fake_ami, nobody_registered, device, state):
    # Defect 8 of issue #12: the listener missed the call; DeviceStateList still tells.
    register(fake_ami, "1001")
    fake_ami.device_states = {"PJSIP/1001": device, "PJSIP/trunk-acme": "INUSE"}

    row = rows_by_name(live_board())["bob"]

    assert row.call is None and row.state == state
    assert row.registration.device_state == device
    assert len(fake_ami.actions_named("DeviceStateList")) == fake_ami.login_count == 1


def test_a_dialer_sessions_phone_leg_is_not_taken_for_a_call(agent, agent_phone, fake_ami,
                                                             nobody_registered):
    # Between customers the agent's leg waits up in Stasis: INUSE, yet not on a call.
    AgentSession.objects.create(agent=agent, phone=agent_phone, live_agent_id=agent.pk,
                                state=AgentSession.State.READY)
    register(fake_ami, "1001")
    fake_ami.device_states = {"PJSIP/1001": "INUSE"}

    assert rows_by_name(live_board())["bob"].state == AgentState.AVAILABLE


def test_only_active_agents_are_on_the_board(agent, supervisor, admin_user, django_user_model):
    gone = django_user_model.objects.create_user("eve", password="pw-eve-123", is_active=False)
    gone.groups.add(Group.objects.get(name="Agent"))

    assert [row.user.username for row in live_board().rows] == ["bob"]


def test_a_queued_call_nothing_reported_on_does_not_show_the_agent_dialling(agent_phone,
                                                                            nobody_registered):
    stale = make_call(agent_phone)
    Call.objects.filter(pk=stale.pk).update(created_at=timezone.now() - timedelta(minutes=5))

    row = rows_by_name(live_board())["bob"]

    assert row.call is None and row.state == AgentState.OFFLINE
    stale.refresh_from_db()
    assert stale.status == Call.Status.FAILED


def test_todays_numbers_start_at_local_midnight(settings, agent_phone):
    settings.TIME_ZONE = "America/New_York"
    zone = zoneinfo.ZoneInfo("America/New_York")
    now = datetime(2026, 11, 26, 9, 30, tzinfo=zone)
    with timezone.override(zone):
        ended = [
            # 23:50 the day before, New York time: 04:50 UTC today, yet yesterday's call.
            (datetime(2026, 11, 25, 23, 50, tzinfo=zone), Call.Status.COMPLETED, 600),
            (datetime(2026, 11, 26, 0, 10, tzinfo=zone), Call.Status.COMPLETED, 95),
            (datetime(2026, 11, 26, 8, 0, tzinfo=zone), Call.Status.COMPLETED, 30),
            (datetime(2026, 11, 26, 9, 0, tzinfo=zone), Call.Status.NO_ANSWER, 0),
        ]
        for created, status, duration in ended:
            call = make_call(agent_phone, status=status, duration=duration,
                             ended_at=created + timedelta(seconds=duration + 20),
                             answered_at=created + timedelta(seconds=20) if duration else None)
            Call.objects.filter(pk=call.pk).update(created_at=created)

        row = rows_by_name(live_board(now=now))["bob"]

    assert (row.calls_today, row.answered_today, row.talk_seconds_today) == (3, 2, 125)


# --- the page ---
def test_a_supervisor_sees_the_board(supervisor_client, agent_phone, other_phone,
                                     django_user_model, fake_ami, nobody_registered):
    register(fake_ami, "1001")
    no_phone = django_user_model.objects.create_user("dave", password="pw-dave-123")
    no_phone.groups.add(Group.objects.get(name="Agent"))
    make_call(agent_phone, status=Call.Status.ANSWERED, number="+15551234567",
              answered_at=timezone.now() - timedelta(seconds=125))

    response = supervisor_client.get(reverse("telephony:live_board"))

    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-agent="bob" data-state="on_call"' in html
    assert 'data-agent="carol" data-state="offline"' in html
    assert "+15551234567" in html
    assert "2:05" in html  # talk time of Bob's live call
    assert 'data-live-url="/telephony/live/board/"' in html
    # Registered out of the agents who have a phone: Bob's of Bob's and Carol's, not Dave.
    assert '<div class="fs-4" data-total="registered">1 / 2</div>' in html


def test_the_fragment_is_the_board_alone_and_never_cached(admin_client, agent_phone):
    response = admin_client.get(reverse("telephony:live_board_fragment"))

    assert response.status_code == 200
    assert "no-cache" in response["Cache-Control"]
    html = response.content.decode()
    assert 'id="board-agents"' in html and "<html" not in html


def test_values_are_escaped(supervisor_client, agent, server):
    agent.first_name = "<script>alert(1)</script>"
    agent.save()

    html = supervisor_client.get(reverse("telephony:live_board")).content.decode()

    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_agents_and_anonymous_visitors_cannot_see_the_board(client, agent_client, agent_phone):
    for name in ("telephony:live_board", "telephony:live_board_fragment"):
        assert agent_client.get(reverse(name)).status_code == 403
        anonymous = client.get(reverse(name))
        assert anonymous.status_code == 302 and "/users/login/" in anonymous["Location"]


def test_the_board_costs_the_same_queries_for_3_or_30_agents(supervisor_client, server,
                                                             django_user_model, fake_ami):
    agent_group = Group.objects.get(name="Agent")

    def add_agents(first: int, count: int) -> None:
        for n in range(first, first + count):
            user = django_user_model.objects.create_user(f"agent{n:03d}", password="x")
            user.groups.add(agent_group)
            phone = Phone.objects.create(extension=str(2000 + n), name=f"Desk {n}",
                                         server=server, user=user)
            register(fake_ami, phone.extension)
            make_call(phone, status=Call.Status.ANSWERED if n % 2 else Call.Status.COMPLETED,
                      answered_at=timezone.now(), duration=None if n % 2 else 40,
                      ended_at=None if n % 2 else timezone.now())

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert supervisor_client.get(reverse("telephony:live_board_fragment")).status_code \
                == 200
        return len(captured)

    add_agents(0, 3)
    few = queries()
    add_agents(3, 27)
    assert queries() == few


def test_the_menu_links_the_board_for_supervisors_only(supervisor_client, agent_client,
                                                       agent_phone):
    board = f'href="{reverse("telephony:live_board")}"'

    assert board in supervisor_client.get(reverse("telephony:call_list")).content.decode()
    assert board not in agent_client.get(reverse("telephony:call_list")).content.decode()


def test_boards_polling_within_the_cache_window_share_one_ami_answer(agent_phone, fake_ami,
                                                                    nobody_registered,
                                                                    settings):
    import time

    settings.LIVE_BOARD_CACHE_SECONDS = 1
    register(fake_ami, "1001")
    fake_ami.device_states = {"PJSIP/1001": "NOT_INUSE"}
    assert rows_by_name(live_board())["bob"].state == AgentState.AVAILABLE
    fake_ami.device_states = {"PJSIP/1001": "INUSE"}  # Bob's phone goes off hook
    # A second board within the second: the same answer, no second login.
    assert rows_by_name(live_board())["bob"].state == AgentState.AVAILABLE
    assert fake_ami.login_count == 1
    time.sleep(1.1)  # past the window: Asterisk is asked again and the change shows
    assert rows_by_name(live_board())["bob"].state == AgentState.ON_CALL
    assert fake_ami.login_count == 2


def test_with_the_cache_off_every_board_asks_asterisk(agent_phone, fake_ami,
                                                     nobody_registered, settings):
    settings.LIVE_BOARD_CACHE_SECONDS = 0
    register(fake_ami, "1001")
    live_board()
    live_board()
    assert fake_ami.login_count == 2
