"""How many customer calls to launch now: the pacing policies.

Pure Python, no Django and no clock: a policy sees one frozen `PacingState` (what a real dialer
observes at this instant, docs/pacing.md explains every field) and answers `decide(state) -> int`.
The worker builds the state from the agent sessions and the attempt ledger; the simulator in
benchmarks/pacing_sim.py builds it from its own events. Both call the same `decide`.

The predictive policy looks a few seconds apart over the next ring timeout and compares, at each
horizon h, the customers expected to have answered by h (answered-waiting, ringing calls that may
still answer, new calls) with the agents expected free by h (ready now, busy agents whose talk +
wrap-up or wrap-up should end by then), each a sum of independent yes/no outcomes taken as a
normal distribution whose variance is widened `spread` times (the model is approximate, and its
tails are what abandons are made of). A customer beyond the agents at some horizon is an
abandon; the largest expected overflow over the horizons is the expected abandons. It launches
calls while each extra call adds at most its share of the abandon target (target x its answer
chance) to that expectation. On top sits feedback from the ledger, like VICIdial's adaptive dial
level but with a hard floor: the allowance shrinks as the measured abandon rate rises, and when
that rate nears the target the policy dials progressively (one call per ready agent, which does
not abandon while agents stay logged in).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field


@dataclass(frozen=True)
class WindowStats:
    """Outcomes of the attempts that finished ringing within one time window.

    Ring times are of human-answered calls (launch to answer); talk and wrap-up of connected
    calls. Means and spreads (population standard deviation) are 0.0 when nothing was seen.
    """

    dialed: int = 0  # attempts whose ring phase ended (answered, machine, no answer, busy, failed)
    answered: int = 0  # answered by a person: connects + abandons
    machines: int = 0  # answered by an answering machine (AMD), never given to an agent
    connects: int = 0  # answered and given to an agent
    abandons: int = 0  # answered, no agent within the grace period
    ring_mean: float = 0.0
    ring_sd: float = 0.0
    talk_mean: float = 0.0
    talk_sd: float = 0.0
    wrap_mean: float = 0.0
    wrap_sd: float = 0.0
    talks: int = 0  # how many talk times the talk mean is over
    wraps: int = 0

    @property
    def answer_rate(self) -> float:
        return self.answered / self.dialed if self.dialed else 0.0

    @property
    def abandon_rate(self) -> float:
        """Abandons over calls answered by a person (the FCC/Ofcom definition)."""
        return self.abandons / self.answered if self.answered else 0.0


@dataclass(frozen=True)
class PacingState:
    now: float  # seconds (any epoch); policies only compare it with itself
    abandon_target: float  # the campaign's cap, a fraction (0.03 = 3 %)
    grace_period: float  # seconds an answered customer may wait for an agent (2.0)
    ring_timeout: float  # seconds a customer leg rings before we give up
    agents_total: int  # logged in to the campaign: ready + reserved/on call + wrap-up + paused
    agents_ready: int
    agents_on_call: int  # reserved for a customer or talking
    agents_wrap_up: int
    calls_ringing: int  # customer legs launched, not answered yet
    calls_waiting: int  # answered by a person, waiting for an agent (within the grace period)
    last_5min: WindowStats = field(default_factory=WindowStats)
    last_30min: WindowStats = field(default_factory=WindowStats)
    campaign: WindowStats = field(default_factory=WindowStats)  # the campaign so far (today)
    ring_elapsed: tuple[float, ...] = ()  # seconds each ringing call has rung
    talk_elapsed: tuple[float, ...] = ()  # seconds each agent on call has talked
    wrap_elapsed: tuple[float, ...] = ()  # seconds each agent in wrap-up has spent in it

    @property
    def agents_paused(self) -> int:
        return max(self.agents_total - self.agents_ready - self.agents_on_call
                   - self.agents_wrap_up, 0)

    @property
    def agents_working(self) -> int:
        """Agents who are, or will soon be, able to take a call (not paused)."""
        return self.agents_ready + self.agents_on_call + self.agents_wrap_up


def _unreserved_ready(state: PacingState) -> int:
    """Ready agents not already promised to a call in flight."""
    return state.agents_ready - state.calls_ringing - state.calls_waiting


class ProgressiveRatio:
    """`ratio` calls in flight per ready agent (ratio 1 is progressive dialling)."""

    def __init__(self, ratio: float = 1.0) -> None:
        if ratio <= 0:
            raise ValueError("ratio must be positive")
        self.ratio = ratio
        self.name = "progressive" if ratio == 1 else f"ratio {ratio:g}"

    def decide(self, state: PacingState) -> int:
        if state.agents_total <= 0 or state.agents_ready <= 0:
            return 0
        wanted = math.floor(state.agents_ready * self.ratio + 1e-9)
        return max(wanted - state.calls_ringing - state.calls_waiting, 0)


Progressive = ProgressiveRatio


def _phi(x: float) -> float:
    return math.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)


def _big_phi(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2)))


def expected_overflow(mean: float, var: float) -> float:
    """E[max(0, D)] for D ~ Normal(mean, var)."""
    if var <= 1e-12:
        return max(mean, 0.0)
    sd = math.sqrt(var)
    z = mean / sd
    return mean * _big_phi(z) + sd * _phi(z)


class _LogNormal:
    """A duration distribution fitted to a mean and a spread (durations are skewed right).

    The CDF is tabulated per whole second: the policy evaluates it thousands of times a tick
    (every busy agent and ringing call at every horizon step) and the table keeps that cheap.
    """

    def __init__(self, mean: float, sd: float, *, upto: float) -> None:
        sd = max(sd, mean * 0.05)
        sigma = math.sqrt(math.log(1 + (sd / mean) ** 2))
        mu = math.log(mean) - sigma ** 2 / 2
        scale = 1 / (sigma * math.sqrt(2))
        self.size = int(upto) + 2
        self.table = [0.0] + [0.5 * (1.0 + math.erf((math.log(x) - mu) * scale))
                              for x in range(1, self.size)]

    def cdf(self, x: float) -> float:
        if x <= 0:
            return 0.0
        i = int(x)
        if i >= self.size - 1:
            return self.table[-1] if i == self.size - 1 else 1.0
        low = self.table[i]
        return low + (self.table[i + 1] - low) * (x - i)


def _censored_mean(mean: float, count: int, running: tuple[float, ...]) -> float:
    """The mean duration, counting the time already spent by the ones still running.

    Early in a shift only the short calls have ended, so the plain mean of ended calls is far
    too short and the dialer would expect agents back long before they are. Total time over
    the number ended (the exponential estimate for censored durations) errs long instead:
    a few per cent once many calls have ended, which costs a little occupancy, not abandons.
    """
    if count <= 0:
        return mean
    return max(mean, (mean * count + sum(running)) / count)


def _fit(mean: float, sd: float, upto: float) -> _LogNormal | None:
    if mean <= 0:
        return None
    # Rounded so that consecutive ticks (whose rolling means barely move) share one table.
    return _fit_cached(round(mean, 1), round(sd, 1), int(upto))


_TABLES: dict[tuple[float, float, int], _LogNormal] = {}


def _fit_cached(mean: float, sd: float, upto: int) -> _LogNormal:
    key = (mean, sd, upto)
    model = _TABLES.get(key)
    if model is None:
        if len(_TABLES) > 256:
            _TABLES.clear()
        model = _TABLES[key] = _LogNormal(mean, sd, upto=upto)
    return model


class Predictive:
    """Launch as many calls as the expected abandons allow (see the module docstring).

    share:       the part of the abandon target each new call may spend.
    spread:      how many times the model's variances are widened (tuned in the simulator).
    fallback_at: dial progressively while the measured abandon rate (last 30 minutes, or the
                 campaign so far) is at or above this part of the target.
    min_dialed:  below this many finished attempts the answer rate is not known: progressive.
    step:        seconds between the horizons the model looks at.
    """

    name = "predictive"

    def __init__(self, *, share: float = 1.0, fallback_at: float = 0.8, min_dialed: int = 30,
                 min_answered_for_rate: int = 20, step: float = 3.0,
                 spread: float = 4.0) -> None:
        self.spread = spread
        self.share = share
        self.fallback_at = fallback_at
        self.min_dialed = min_dialed
        self.min_answered_for_rate = min_answered_for_rate
        self.step = step
        self._progressive = ProgressiveRatio(1)

    def decide(self, state: PacingState) -> int:
        if state.agents_total <= 0 or state.agents_working <= 0:
            return 0  # nobody logged in, or everyone paused: never dial for nobody
        progressive = self._progressive.decide(state)
        if self.falls_back(state):
            return progressive
        p = self.answer_rate(state)
        ring = self._ring_model(state)
        if p <= 0 or ring is None:
            return progressive
        horizons = self._horizons(state)
        supply = self.agent_supply(state, horizons)
        demand = self.customer_demand(state, horizons, p, ring)
        new_share = [ring.cdf(h) for h in horizons]  # a new call has answered by h
        # Each call launched must carry its own risk: the abandons it adds (its own, and those
        # of the calls whose agent it may take) at most `allowed` per expected answer. Bounding
        # the in-flight total instead would spend the budget again every tick, as news about
        # the calls already ringing comes in, and abandon several times the target.
        budget = state.abandon_target * self.share * self.throttle(state) * p

        def overflow(n: int) -> float:
            worst = 0.0
            for (s_mean, s_var), (d_mean, d_var, _), f in zip(supply, demand, new_share,
                                                              strict=True):
                q = n * p * f
                worst = max(worst, expected_overflow(
                    d_mean + q - s_mean, (d_var + q * (1 - p * f) + s_var) * self.spread))
            return worst

        def acceptable(n: int) -> bool:  # the n-th call's marginal abandons are in budget
            return overflow(n) - overflow(n - 1) <= budget

        if not acceptable(1):
            return progressive
        # The overflow is convex in n: the largest acceptable n by bisection.
        top = supply[-1][0] + 4 * math.sqrt(supply[-1][1] + 1) + 2
        low, high = 1, max(2, math.ceil(top / p))
        if acceptable(high):
            return high
        while high - low > 1:
            middle = (low + high) // 2
            if acceptable(middle):
                low = middle
            else:
                high = middle
        # Progressive calls each have a ready agent nobody else is promised: never fewer.
        return max(low, progressive)

    def throttle(self, state: PacingState) -> float:
        """1.0 with no abandons so far, falling towards 0 as the measured rate (the worse of
        the last 30 minutes and the campaign so far) nears the fallback point: the model is
        only approximate, the ledger is the truth."""
        limit = state.abandon_target * self.fallback_at
        rates = [w.abandon_rate for w in (state.last_30min, state.campaign)
                 if w.answered >= self.min_answered_for_rate]
        worst = max(rates, default=0.0)
        return max(1.0 - worst / limit, 0.05)

    def falls_back(self, state: PacingState) -> bool:
        if state.campaign.dialed < self.min_dialed:
            return True
        if state.campaign.talks < state.agents_working:
            return True  # the first calls to end are the short ones: durations not known yet
        limit = state.abandon_target * self.fallback_at
        for window in (state.last_30min, state.campaign):
            if window.answered >= self.min_answered_for_rate and window.abandon_rate >= limit:
                return True
        # Too few answers to trust the rate: a single abandon already counts against it.
        return state.campaign.answered < self.min_answered_for_rate and state.campaign.abandons > 0

    @staticmethod
    def answer_rate(state: PacingState) -> float:
        """Recent rate, shrunk towards the 30-minute one (then the campaign's) when the last
        5 minutes saw few calls: follows a change quickly without jumping on noise."""
        base = state.last_30min if state.last_30min.dialed >= 20 else state.campaign
        if base.dialed == 0:
            return state.last_5min.answer_rate
        weight = 20.0
        return (state.last_5min.answered + weight * base.answer_rate) / (
            state.last_5min.dialed + weight)

    def _horizons(self, state: PacingState) -> list[float]:
        count = max(int(state.ring_timeout // self.step), 1)
        return [self.step * (i + 1) for i in range(count)]

    @staticmethod
    def _durations(state: PacingState) -> WindowStats:
        return state.last_30min if state.last_30min.talks >= 10 else state.campaign

    def _ring_model(self, state: PacingState) -> _LogNormal | None:
        ring = state.last_30min if state.last_30min.answered >= 10 else state.campaign
        return _fit(ring.ring_mean, ring.ring_sd, state.ring_timeout * 2)

    def agent_supply(self, state: PacingState,
                     horizons: list[float]) -> list[tuple[float, float]]:
        """(mean, variance) of the agents free by each horizon + the grace period."""
        window = self._durations(state)
        reach = horizons  # no credit for the grace period: it is the model's safety margin
        means = [float(state.agents_ready)] * len(horizons)
        variances = [0.0] * len(horizons)
        if window.talks == 0:  # no talk seen yet: busy agents stay busy
            return list(zip(means, variances, strict=True))
        longest = max([*state.talk_elapsed, *state.wrap_elapsed, 0.0]) + reach[-1]
        talk_mean = _censored_mean(window.talk_mean, window.talks, state.talk_elapsed)
        wrap_mean = _censored_mean(window.wrap_mean, window.wraps, state.wrap_elapsed)
        talk = _fit(talk_mean, window.talk_sd * talk_mean / window.talk_mean, longest)
        wrap = (_fit(wrap_mean, window.wrap_sd * wrap_mean / window.wrap_mean, longest)
                if window.wrap_mean > 0 else None)
        for model, elapsed_all, extra in ((talk, state.talk_elapsed, wrap_mean),
                                          (wrap, state.wrap_elapsed, 0.0)):
            for elapsed in elapsed_all:
                if model is None:  # no wrap-up seen: it ends at once
                    chances = [1.0] * len(reach)
                else:
                    base = model.cdf(elapsed)
                    survive = 1.0 - base
                    if survive <= 1e-9:
                        chances = [1.0] * len(reach)
                    else:
                        chances = [max(model.cdf(elapsed + r - extra) - base, 0.0) / survive
                                   for r in reach]
                for i, chance in enumerate(chances):
                    means[i] += chance
                    variances[i] += chance * (1 - chance)
        return list(zip(means, variances, strict=True))

    @staticmethod
    def customer_demand(state: PacingState, horizons: list[float], p: float,
                        ring: _LogNormal) -> list[tuple[float, float, float]]:
        """(mean, variance, all-answers mean) of the customers answered by each horizon among
        those waiting and ringing now. A call that has rung long is likely to ring out (people
        answer early), which the conditional probability below accounts for."""
        means = [float(state.calls_waiting)] * len(horizons)
        variances = [0.0] * len(horizons)
        total = 0.0
        elapsed_all = list(state.ring_elapsed[:state.calls_ringing])
        elapsed_all += [0.0] * (state.calls_ringing - len(elapsed_all))
        for elapsed in elapsed_all:
            base = ring.cdf(elapsed)
            still = p * (1.0 - base)
            norm = still + (1 - p)
            if still <= 1e-9:
                continue
            total += still / norm
            for i, h in enumerate(horizons):
                chance = p * (ring.cdf(elapsed + h) - base) / norm
                means[i] += chance
                variances[i] += chance * (1 - chance)
        return [(m, v, total) for m, v in zip(means, variances, strict=True)]


POLICIES = {"predictive": Predictive, "progressive": lambda: ProgressiveRatio(1)}


def policy_for(mode: str) -> Predictive | ProgressiveRatio:
    """The pacing policy of a campaign's dial mode ("predictive" or "progressive")."""
    try:
        return POLICIES[mode]()
    except KeyError:
        raise ValueError(f"no pacing policy for dial mode {mode!r}") from None


class RollingWindow:
    """Running count, mean and spread of (time, value) samples over the last `seconds`
    (None: forever). O(1) per sample: the simulator and the worker feed it as calls end."""

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self._samples: deque[tuple[float, float]] = deque()
        self.count = 0
        self._sum = 0.0
        self._sumsq = 0.0

    def add(self, at: float, value: float) -> None:
        if self.seconds is not None:
            self._samples.append((at, value))
        self.count += 1
        self._sum += value
        self._sumsq += value * value

    def expire(self, now: float) -> None:
        if self.seconds is None:
            return
        horizon = now - self.seconds
        while self._samples and self._samples[0][0] < horizon:
            _, value = self._samples.popleft()
            self.count -= 1
            self._sum -= value
            self._sumsq -= value * value

    @property
    def mean(self) -> float:
        return self._sum / self.count if self.count else 0.0

    @property
    def sd(self) -> float:
        if self.count < 2:
            return 0.0
        return math.sqrt(max(self._sumsq / self.count - self.mean ** 2, 0.0))


class OutcomeWindow:
    """The attempt outcomes of one window, fed as they happen, read as a WindowStats."""

    OUTCOMES = ("answered", "machine", "unanswered")

    def __init__(self, seconds: float | None) -> None:
        self._dialed = RollingWindow(seconds)
        self._answered = RollingWindow(seconds)
        self._machines = RollingWindow(seconds)
        self._connects = RollingWindow(seconds)
        self._abandons = RollingWindow(seconds)
        self._ring = RollingWindow(seconds)
        self._talk = RollingWindow(seconds)
        self._wrap = RollingWindow(seconds)
        self._all = (self._dialed, self._answered, self._machines, self._connects,
                     self._abandons, self._ring, self._talk, self._wrap)

    def ring_ended(self, at: float, outcome: str, ring_seconds: float) -> None:
        """outcome: "answered" (a person), "machine" or "unanswered" (no answer/busy/failed)."""
        self._dialed.add(at, 1)
        if outcome == "answered":
            self._answered.add(at, 1)
            self._ring.add(at, ring_seconds)
        elif outcome == "machine":
            self._machines.add(at, 1)

    def connected(self, at: float) -> None:
        self._connects.add(at, 1)

    def abandoned(self, at: float) -> None:
        self._abandons.add(at, 1)

    def talked(self, at: float, seconds: float) -> None:
        self._talk.add(at, seconds)

    def wrapped(self, at: float, seconds: float) -> None:
        self._wrap.add(at, seconds)

    def stats(self, now: float) -> WindowStats:
        for window in self._all:
            window.expire(now)
        return WindowStats(
            dialed=self._dialed.count, answered=self._answered.count,
            machines=self._machines.count, connects=self._connects.count,
            abandons=self._abandons.count, ring_mean=self._ring.mean, ring_sd=self._ring.sd,
            talk_mean=self._talk.mean, talk_sd=self._talk.sd, wrap_mean=self._wrap.mean,
            wrap_sd=self._wrap.sd, talks=self._talk.count, wraps=self._wrap.count)
