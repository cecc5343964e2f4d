"""Discrete-event simulation of a campaign, to tune and compare the pacing policies.

    .venv/bin/python benchmarks/pacing_sim.py [--hours 4] [--seeds 5] [--only NAME ...]

Deterministic: every run draws from its own random.Random(seed). Each second the dialer builds
a PacingState from what it has observed (never from the scenario's true parameters) and asks
the policy how many calls to launch; the calls then ring, answer (a person or a machine), ring
out or fail, and a person who answers is given to the longest-idle ready agent, or waits up to
the 2 s grace period and is abandoned. Agents talk, wrap up, and go ready again; some scenarios
log agents out mid-shift (an agent on a call leaves when the call and wrap-up end) or change
the answer rate mid-shift.

Prints, per scenario and policy, the mean and worst over the seeds of: busy occupancy (talk +
wrap-up over logged-in time), talk occupancy, and abandon rate (abandons over calls answered by
a person). docs/pacing.md has the table of the default run.
"""

from __future__ import annotations

import argparse
import heapq
import itertools
import math
import random
import sys
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from telephony.dialer.pacing import (  # noqa: E402
    OutcomeWindow,
    PacingState,
    Predictive,
    ProgressiveRatio,
)

GRACE = 2.0
RING_TIMEOUT = 25.0
TARGET = 0.03


@dataclass(frozen=True)
class Scenario:
    name: str
    agents: int
    answer_rate: float  # a person answers
    talk_mean: float
    wrap_mean: float = 15.0
    machine_rate: float = 0.0  # an answering machine answers (AMD hangs it up)
    # A mid-shift change: from `change_at` seconds, the answer rate is `answer_rate_after`.
    answer_rate_after: float | None = None
    change_at: float = 2 * 3600
    # Agents leaving: `leavers` agents log out, evenly spread between these two times.
    leavers: int = 0
    leave_from: float = 3600
    leave_until: float = 2 * 3600

    def rate_at(self, t: float) -> float:
        if self.answer_rate_after is not None and t >= self.change_at:
            return self.answer_rate_after
        return self.answer_rate


SCENARIOS = [
    Scenario("5 agents, answer 30 %, talk 120 s", 5, 0.30, 120),
    Scenario("5 agents, answer 10 %, talk 60 s", 5, 0.10, 60),
    Scenario("20 agents, answer 50 %, talk 300 s", 20, 0.50, 300),
    Scenario("20 agents, answer 20 %, talk 90 s", 20, 0.20, 90),
    Scenario("100 agents, answer 30 %, talk 180 s", 100, 0.30, 180),
    Scenario("100 agents, answer 10 %, talk 60 s", 100, 0.10, 60),
    Scenario("20 agents, answer 40 % -> 15 % at 2 h", 20, 0.40, 120, answer_rate_after=0.15),
    Scenario("100 agents, answer 15 % -> 40 % at 2 h", 100, 0.15, 120, answer_rate_after=0.40),
    Scenario("20 agents, 10 leave between 1 h and 2 h", 20, 0.25, 120, leavers=10),
    Scenario("20 agents, answer 25 % + machines 25 %", 20, 0.25, 120, machine_rate=0.25),
]


class _Agent:
    __slots__ = ("idx", "state", "since", "leaving", "logged_in_at", "logged_out_at", "talk",
                 "wrap")

    def __init__(self, idx: int) -> None:
        self.idx = idx
        self.state = "ready"
        self.since = 0.0
        self.leaving = False
        self.logged_in_at = 0.0
        self.logged_out_at: float | None = None
        self.talk = 0.0
        self.wrap = 0.0


def _lognormal(rng: random.Random, mean: float, sd: float) -> float:
    sigma = math.sqrt(math.log(1 + (sd / mean) ** 2))
    return rng.lognormvariate(math.log(mean) - sigma ** 2 / 2, sigma)


class Simulation:
    def __init__(self, scenario: Scenario, policy, seed: int, hours: float) -> None:
        self.s = scenario
        self.policy = policy
        self.rng = random.Random(seed)
        self.end = hours * 3600
        self.now = 0.0
        self.events: list = []
        self.seq = itertools.count()
        self.agents = [_Agent(i) for i in range(scenario.agents)]
        self.ringing: dict[int, float] = {}  # call id -> launched at
        self.waiting: deque[int] = deque()
        self.waiting_since: dict[int, float] = {}
        self.call_ids = itertools.count()
        self.windows = [OutcomeWindow(300), OutcomeWindow(1800), OutcomeWindow(None)]
        self.connects = self.abandons = self.launched = 0
        if scenario.leavers:
            step = (scenario.leave_until - scenario.leave_from) / max(scenario.leavers, 1)
            for i in range(scenario.leavers):
                self._at(scenario.leave_from + i * step, "leave", i)

    def _at(self, t: float, kind: str, item: int) -> None:
        heapq.heappush(self.events, (t, next(self.seq), kind, item))

    def run(self) -> dict[str, float]:
        tick = 0.0
        while tick < self.end:
            while self.events and self.events[0][0] <= tick:
                t, _, kind, item = heapq.heappop(self.events)
                self.now = t
                getattr(self, "_on_" + kind)(item)
            self.now = tick
            for _ in range(self.policy.decide(self.state())):
                self._launch()
            tick += 1.0
        return self._results()

    # --- what the dialer observes ---
    def state(self) -> PacingState:
        now = self.now
        ready = on_call = wrap = total = 0
        talk_elapsed, wrap_elapsed = [], []
        for agent in self.agents:
            if agent.state == "out":
                continue
            total += 1
            if agent.state == "ready":
                ready += 1
            elif agent.state == "talk":
                on_call += 1
                talk_elapsed.append(now - agent.since)
            elif agent.state == "wrap":
                wrap += 1
                wrap_elapsed.append(now - agent.since)
        five, thirty, campaign = (w.stats(now) for w in self.windows)
        return PacingState(
            now=now, abandon_target=TARGET, grace_period=GRACE, ring_timeout=RING_TIMEOUT,
            agents_total=total, agents_ready=ready, agents_on_call=on_call,
            agents_wrap_up=wrap, calls_ringing=len(self.ringing),
            calls_waiting=len(self.waiting), last_5min=five, last_30min=thirty,
            campaign=campaign, ring_elapsed=tuple(now - t for t in self.ringing.values()),
            talk_elapsed=tuple(talk_elapsed), wrap_elapsed=tuple(wrap_elapsed))

    # --- the world ---
    def _launch(self) -> None:
        call = next(self.call_ids)
        self.launched += 1
        self.ringing[call] = self.now
        u = self.rng.random()
        person = self.s.rate_at(self.now)
        ring = min(max(_lognormal(self.rng, 12.0, 6.0), 2.0), RING_TIMEOUT - 0.5)
        if u < person:
            self._at(self.now + ring, "answer", call)
        elif u < person + self.s.machine_rate:
            self._at(self.now + ring, "machine", call)
        elif self.rng.random() < 0.15:  # busy or failed: ends within seconds
            self._at(self.now + self.rng.uniform(1.0, 5.0), "ring_out", call)
        else:
            self._at(self.now + RING_TIMEOUT, "ring_out", call)

    def _ring_ended(self, call: int, outcome: str) -> None:
        launched = self.ringing.pop(call)
        for window in self.windows:
            window.ring_ended(self.now, outcome, self.now - launched)

    def _on_ring_out(self, call: int) -> None:
        self._ring_ended(call, "unanswered")

    def _on_machine(self, call: int) -> None:
        self._ring_ended(call, "machine")

    def _on_answer(self, call: int) -> None:
        self._ring_ended(call, "answered")
        agent = self._longest_idle()
        if agent is not None:
            self._connect(agent)
        else:
            self.waiting.append(call)
            self.waiting_since[call] = self.now
            self._at(self.now + GRACE, "grace_end", call)

    def _on_grace_end(self, call: int) -> None:
        if call in self.waiting_since:
            del self.waiting_since[call]
            self.waiting.remove(call)
            self.abandons += 1
            for window in self.windows:
                window.abandoned(self.now)

    def _longest_idle(self) -> _Agent | None:
        best = None
        for agent in self.agents:
            if agent.state == "ready" and (best is None or agent.since < best.since):
                best = agent
        return best

    def _connect(self, agent: _Agent) -> None:
        self.connects += 1
        for window in self.windows:
            window.connected(self.now)
        agent.state, agent.since = "talk", self.now
        talk = _lognormal(self.rng, self.s.talk_mean, self.s.talk_mean * 0.6)
        self._at(self.now + talk, "talk_end", agent.idx)

    def _on_talk_end(self, idx: int) -> None:
        agent = self.agents[idx]
        talked = self.now - agent.since
        agent.talk += talked
        for window in self.windows:
            window.talked(self.now, talked)
        agent.state, agent.since = "wrap", self.now
        wrap = _lognormal(self.rng, self.s.wrap_mean, self.s.wrap_mean * 0.4)
        self._at(self.now + wrap, "wrap_end", idx)

    def _on_wrap_end(self, idx: int) -> None:
        agent = self.agents[idx]
        wrapped = self.now - agent.since
        agent.wrap += wrapped
        for window in self.windows:
            window.wrapped(self.now, wrapped)
        if agent.leaving:
            self._log_out(agent)
            return
        agent.state, agent.since = "ready", self.now
        while self.waiting:
            call = self.waiting.popleft()
            if self.waiting_since.pop(call, None) is not None:
                self._connect(agent)
                return

    def _on_leave(self, idx: int) -> None:
        agent = self.agents[idx]
        agent.leaving = True
        if agent.state == "ready":
            self._log_out(agent)

    def _log_out(self, agent: _Agent) -> None:
        agent.state, agent.logged_out_at = "out", self.now

    def _results(self) -> dict[str, float]:
        logged = talk = busy = 0.0
        for agent in self.agents:
            until = agent.logged_out_at if agent.logged_out_at is not None else self.end
            extra_talk = self.end - agent.since if agent.state == "talk" else 0.0
            extra_wrap = self.end - agent.since if agent.state == "wrap" else 0.0
            logged += until - agent.logged_in_at
            talk += agent.talk + extra_talk
            busy += agent.talk + agent.wrap + extra_talk + extra_wrap
        answered = self.connects + self.abandons
        return {"busy": busy / logged, "talk": talk / logged,
                "abandon": self.abandons / answered if answered else 0.0,
                "calls": self.launched}


POLICY_FACTORIES = {
    "predictive": Predictive,
    "progressive": lambda: ProgressiveRatio(1),
    "ratio 2": lambda: ProgressiveRatio(2),
    "ratio 3": lambda: ProgressiveRatio(3),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hours", type=float, default=4.0)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--only", nargs="*", help="scenario names containing these words")
    parser.add_argument("--policies", nargs="*", default=list(POLICY_FACTORIES))
    args = parser.parse_args()
    scenarios = [s for s in SCENARIOS
                 if not args.only or any(word in s.name for word in args.only)]
    started = time.process_time()
    print(f"{args.hours:g} simulated hours, seeds 1..{args.seeds}, abandon target "
          f"{TARGET:.0%}, grace {GRACE:g} s, ring timeout {RING_TIMEOUT:g} s\n")
    print("| scenario | policy | busy occ. mean (worst) | talk occ. mean (worst) "
          "| abandon mean (worst) |")
    print("|---|---|---|---|---|")
    for scenario in scenarios:
        for name in args.policies:
            runs = [Simulation(scenario, POLICY_FACTORIES[name](), seed, args.hours).run()
                    for seed in range(1, args.seeds + 1)]
            busy = [r["busy"] for r in runs]
            talk = [r["talk"] for r in runs]
            abandon = [r["abandon"] for r in runs]
            print(f"| {scenario.name} | {name} | {_mean(busy):.1%} ({min(busy):.1%}) "
                  f"| {_mean(talk):.1%} ({min(talk):.1%}) "
                  f"| {_mean(abandon):.2%} ({max(abandon):.2%}) |", flush=True)
    print(f"\nCPU time {time.process_time() - started:.0f} s")


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


if __name__ == "__main__":
    main()
