"""The pacing policies' invariants: never dial for nobody, keep to the abandon cap, fall back to
progressive when the ledger's abandon rate nears it. Pure: no database, no Asterisk."""

from __future__ import annotations

import dataclasses
import importlib.util
import sys
from pathlib import Path

import pytest

from telephony.dialer.pacing import (
    OutcomeWindow,
    PacingState,
    Predictive,
    ProgressiveRatio,
    WindowStats,
    expected_overflow,
    policy_for,
)

ROOT = Path(__file__).resolve().parents[2]


def history(*, dialed=2000, answer_rate=0.3, abandons=0, talk=120.0, wrap=15.0):
    answered = int(dialed * answer_rate)
    return WindowStats(dialed=dialed, answered=answered, machines=0,
                       connects=answered - abandons, abandons=abandons, ring_mean=12.0,
                       ring_sd=6.0, talk_mean=talk, talk_sd=talk * 0.6, wrap_mean=wrap,
                       wrap_sd=wrap * 0.4, talks=answered, wraps=answered)


def state(**overrides) -> PacingState:
    """100 agents: 2 ready, 90 talking (elapsed 0 to 267 s, calls last 120 s on average),
    8 wrapping up, a long and steady history."""
    values = dict(now=10_000.0, abandon_target=0.03, grace_period=2.0, ring_timeout=25.0,
                  agents_total=100, agents_ready=2, agents_on_call=90, agents_wrap_up=8,
                  calls_ringing=0, calls_waiting=0, last_5min=history(dialed=300),
                  last_30min=history(), campaign=history(dialed=8000),
                  ring_elapsed=(), talk_elapsed=tuple(float(3 * i) for i in range(90)),
                  wrap_elapsed=tuple(float(2 * i) for i in range(8)))
    values.update(overrides)
    return PacingState(**values)


POLICIES = [Predictive(), ProgressiveRatio(1), ProgressiveRatio(2), ProgressiveRatio(3)]


@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: p.name)
def test_it_never_dials_when_nobody_is_logged_in(policy):
    nobody = state(agents_total=0, agents_ready=0, agents_on_call=0, agents_wrap_up=0,
                   talk_elapsed=(), wrap_elapsed=())
    assert policy.decide(nobody) == 0


@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: p.name)
def test_it_never_dials_when_every_agent_is_paused(policy):
    paused = state(agents_total=20, agents_ready=0, agents_on_call=0, agents_wrap_up=0,
                   talk_elapsed=(), wrap_elapsed=())
    assert paused.agents_paused == 20
    assert policy.decide(paused) == 0


def test_progressive_launches_one_call_per_ready_agent_not_yet_served():
    assert ProgressiveRatio(1).decide(state(agents_ready=3, calls_ringing=1)) == 2
    assert ProgressiveRatio(1).decide(state(agents_ready=3, calls_ringing=2,
                                            calls_waiting=1)) == 0


def test_a_ratio_keeps_that_many_calls_per_ready_agent():
    assert ProgressiveRatio(2).decide(state(agents_ready=3, calls_ringing=1)) == 5
    assert ProgressiveRatio(3).decide(state(agents_ready=3, calls_ringing=9)) == 0


def test_predictive_dials_ahead_of_agents_who_are_about_to_be_free():
    """Not progressive in disguise: with agents about to finish it launches more calls than
    there are ready agents."""
    assert Predictive().decide(state()) > ProgressiveRatio(1).decide(state())


def test_predictive_stops_when_the_calls_in_flight_already_fill_the_agents():
    crowded = state(agents_ready=0, agents_on_call=92, agents_wrap_up=8,
                    talk_elapsed=(1.0,) * 92, wrap_elapsed=(1.0,) * 8, calls_ringing=60,
                    ring_elapsed=(1.0,) * 60)
    assert Predictive().decide(crowded) == 0


def test_predictive_falls_back_to_progressive_when_the_window_nears_the_cap():
    near = history(abandons=int(2000 * 0.3 * 0.025))  # 2.5 % of answers, cap 3 %
    policy = Predictive()
    assert policy.decide(state(last_30min=near)) == ProgressiveRatio(1).decide(state())
    assert policy.decide(state(campaign=history(dialed=8000, abandons=60))) == 2
    assert policy.decide(state()) > 2  # and without those abandons it would dial more


def test_predictive_dials_less_as_the_measured_abandon_rate_rises():
    policy = Predictive()
    calm = policy.decide(state())
    warm = policy.decide(state(last_30min=history(abandons=int(600 * 0.012))))
    assert warm < calm


def test_predictive_is_progressive_until_the_answer_rate_and_durations_are_known():
    cold = state(campaign=history(dialed=10), last_30min=history(dialed=10),
                 last_5min=history(dialed=10))
    assert Predictive().decide(cold) == ProgressiveRatio(1).decide(cold)
    few_calls_ended = state(campaign=dataclasses.replace(history(), talks=5))
    assert Predictive().decide(few_calls_ended) == 2


def test_one_early_abandon_stops_predictive_dialling():
    early = history(dialed=40, answer_rate=0.3, abandons=1)
    assert Predictive().decide(state(campaign=early, last_30min=early)) == 2


def test_the_state_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        state().agents_ready = 5  # type: ignore[misc]


def test_the_same_state_gives_the_same_decision():
    assert len({Predictive().decide(state()) for _ in range(5)}) == 1


def test_policy_for_names_the_modes():
    assert isinstance(policy_for("predictive"), Predictive)
    assert policy_for("progressive").decide(state(agents_ready=4)) == 4
    with pytest.raises(ValueError):
        policy_for("preview")


def test_expected_overflow_matches_the_normal_formula():
    assert expected_overflow(5.0, 0.0) == 5.0
    assert expected_overflow(-5.0, 0.0) == 0.0
    assert expected_overflow(0.0, 1.0) == pytest.approx(0.39894, abs=1e-4)


def test_outcome_window_forgets_what_is_older_than_its_span():
    window = OutcomeWindow(300)
    window.ring_ended(0.0, "answered", 10.0)
    window.abandoned(1.0)
    window.ring_ended(100.0, "unanswered", 25.0)
    window.ring_ended(200.0, "answered", 14.0)
    window.connected(201.0)
    early = window.stats(250.0)
    assert (early.dialed, early.answered, early.abandons, early.connects) == (3, 2, 1, 1)
    assert early.ring_mean == 12.0 and early.abandon_rate == 0.5
    later = window.stats(350.0)
    assert (later.dialed, later.answered, later.abandons) == (2, 1, 0)
    assert later.answer_rate == 0.5


def _simulator():
    spec = importlib.util.spec_from_file_location("pacing_sim", ROOT / "benchmarks/pacing_sim.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["pacing_sim"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("agents,answer_rate,talk", [(5, 0.1, 60), (20, 0.2, 90)])
def test_predictive_keeps_the_cap_in_a_simulated_hour_and_beats_progressive(
        agents, answer_rate, talk):
    sim = _simulator()
    scenario = sim.Scenario("test", agents, answer_rate, talk)
    predictive = sim.Simulation(scenario, Predictive(), 7, 1.0).run()
    progressive = sim.Simulation(scenario, ProgressiveRatio(1), 7, 1.0).run()
    assert predictive["abandon"] <= 0.03
    assert predictive["busy"] > progressive["busy"]
