"""The price and volatility process behind the built-in market.

Model (time in years, variance annualised)
-----------------------------------------
Log-variance ``x = ln v`` follows a mean-reverting Ornstein-Uhlenbeck process
with upward kicks at jump times (a log-OU stochastic-volatility model, Scott
1987, with the GARCH-like feedback that a crash raises volatility)::

    dx = kappa (m - x) dt + eta dW_x + jump_log_var dN_t

and the BTC log price follows, with ``v = exp(x)``::

    d ln S = -(v/2 + lambda kbar) dt + sqrt(v) dW_S + J dN_t,  J ~ N(mu_J, sigma_J^2)

where ``N`` is a Poisson process of rate ``lambda`` and ``kbar = E[e^J] - 1``
keeps the price a martingale. ETH shares the variance factor with a vol
multiplier (1.2), diffusive correlation 0.8 and the same jump times (sizes
scaled by 1.2).

Steps use the exact OU transition for ``x`` (so annualised vol does not depend
on the tick rate) and an Euler step for the price with ``v`` at the step start,
so E[r^2] = E[v] dt + lambda dt E[J^2] at every step length.

Calibration (``VolParams`` defaults)
------------------------------------
* Median BTC vol 50 % (``m = 2 ln 0.5``); log-variance stationary s.d. 0.5 (so
  the log of vol has s.d. 0.25: one s.d. spans 39-64 %).
* Persistence 0.985 per hour for the log-variance, the GARCH(1,1) persistence
  alpha + beta ~ 0.98-0.99 typical of hourly BTC fits: ``kappa = -ln(0.985) x
  8760 = 132 / year``, a half-life of 46 h, so regimes last days.
* Jumps 12 a year: price jump N(-1 %, 4 %), log-variance +1.0 (vol x 1.65) that
  decays at ``kappa``, so a crash starts a storm.
* Unconditional expectation, exact for the model (``expected_variance``)::

      E[v] = exp(m + s^2/2) x exp((lambda/kappa) sum_n J_x^n / (n n!))

  the second factor being E[exp(shot noise)] of the decaying kicks. With the
  defaults: BTC expected vol of returns sqrt(E[v] + lambda E[J^2]) = 58.3 %
  (ETH 69.9 %).
* Check against what the engine sees: a GARCH(1,1)-t fit (arch) to the 2,160
  back-filled hourly BTC bars gives alpha + beta = 0.977-0.993 and a long-run
  vol of 57-60 % (seeds 7-11), in line with hourly fits to real BTC.
* Why not a discrete GARCH recursion: its annualised vol would depend on the
  tick rate and on time acceleration; the OU step is exact for any step.

References
----------
L. Scott (1987), "Option pricing when the variance changes randomly", JFQA 22(4).
R. Merton (1976), "Option pricing when underlying stock returns are discontinuous".
D. Nelson (1990), "ARCH models as diffusion approximations", J. Econometrics 45.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

HOURS_PER_YEAR = 8760.0
SECONDS_PER_YEAR = HOURS_PER_YEAR * 3600.0


@dataclass(frozen=True, slots=True)
class VolParams:
    """Parameters of the simulated BTC/ETH process (see module docstring)."""

    median_vol: float = 0.50
    log_var_sd: float = 0.5
    hourly_persistence: float = 0.985
    jumps_per_year: float = 12.0
    jump_mean: float = -0.01
    jump_sd: float = 0.04
    jump_log_var: float = 1.0
    eth_vol_ratio: float = 1.2
    eth_correlation: float = 0.8

    @property
    def kappa(self) -> float:
        """Mean-reversion speed of log-variance per year."""
        return -math.log(self.hourly_persistence) * HOURS_PER_YEAR

    @property
    def log_var_mean(self) -> float:
        return 2.0 * math.log(self.median_vol)

    @property
    def eta(self) -> float:
        """Diffusion of log-variance per sqrt(year)."""
        return self.log_var_sd * math.sqrt(2.0 * self.kappa)

    @property
    def jump_compensator(self) -> float:
        """kbar = E[e^J] - 1 for the BTC jump size."""
        return math.exp(self.jump_mean + 0.5 * self.jump_sd**2) - 1.0


def expected_variance(params: VolParams) -> float:
    """Stationary E[v] of the BTC diffusive variance (annualised), exact for the model."""
    j = params.jump_log_var
    series = sum(j**n / (n * math.factorial(n)) for n in range(1, 30))
    shot = math.exp(params.jumps_per_year / params.kappa * series)
    return math.exp(params.log_var_mean + 0.5 * params.log_var_sd**2) * shot


def expected_vol_annual(params: VolParams, vol_ratio: float = 1.0) -> float:
    """Expected annualised vol of log returns, jumps included: sqrt(E[r^2] / dt).

    ``vol_ratio`` scales the asset (1.2 for ETH: diffusion and jumps both scale).
    """
    jump_var = params.jumps_per_year * (params.jump_mean**2 + params.jump_sd**2)
    return vol_ratio * math.sqrt(expected_variance(params) + jump_var)


@dataclass(frozen=True, slots=True)
class Path:
    """A simulated path: ``log_var`` at each step's start, log returns per step."""

    log_var: np.ndarray
    btc_returns: np.ndarray
    eth_returns: np.ndarray
    last_log_var: float


def _ou_coefficients(params: VolParams, dt_years: float) -> tuple[float, float]:
    a = math.exp(-params.kappa * dt_years)
    s = params.eta * math.sqrt((1.0 - a * a) / (2.0 * params.kappa))
    return a, s


def simulate(
    params: VolParams, n_steps: int, dt_years: float, log_var0: float, rng: np.random.Generator
) -> Path:
    """``n_steps`` steps of length ``dt_years``, vectorised (the OU recursion in blocks)."""
    if n_steps < 1:
        raise ValueError(f"n_steps: {n_steps}; pass at least 1")
    if not dt_years > 0:
        raise ValueError(f"dt_years: {dt_years}; pass a positive step length")
    a, s = _ou_coefficients(params, dt_years)
    m = params.log_var_mean
    z_var = rng.standard_normal(n_steps)
    z_btc = rng.standard_normal(n_steps)
    z_eth = rng.standard_normal(n_steps)
    n_jumps = rng.poisson(params.jumps_per_year * dt_years, n_steps)
    jump_z = rng.standard_normal(n_steps)
    # x_{n+1} - m = a (x_n - m) + shocks_n, with y_0 = x_0 - m
    shocks = s * z_var + params.jump_log_var * n_jumps
    y_next = _ar1(shocks, a, log_var0 - m)
    log_var = np.concatenate(([log_var0], y_next[:-1] + m))
    btc, eth = _returns(params, log_var, dt_years, z_btc, z_eth, n_jumps, jump_z)
    return Path(log_var, btc, eth, float(y_next[-1] + m))


def _ar1(shocks: np.ndarray, a: float, y0: float) -> np.ndarray:
    """y_k = a y_{k-1} + shocks_{k-1}, k = 1..n, from y_0: vectorised in blocks as
    y_{j+k} = a^k (y_j + sum_{i<k} a^{-(i+1)} s_{j+i}), blocks short enough that
    a^{-k} stays below e^20 (no loss of precision)."""
    n = len(shocks)
    out = np.empty(n)
    decay = -math.log(a) if a > 0 else math.inf
    block = int(min(512, 20.0 / decay)) if decay > 0 else 512
    y = float(y0)
    if block < 2:
        for k in range(n):
            y = a * y + shocks[k]
            out[k] = y
        return out
    powers = a ** np.arange(1, block + 1)
    for start in range(0, n, block):
        s = shocks[start : start + block]
        pw = powers[: len(s)]
        out[start : start + len(s)] = pw * (y + np.cumsum(s / pw))
        y = float(out[start + len(s) - 1])
    return out


def _returns(params, log_var, dt_years, z_btc, z_eth, n_jumps, jump_z):
    var = np.exp(log_var)
    sd = np.sqrt(var * dt_years)
    # the sum of n normal jumps is N(n mu, n sigma^2)
    jumps = n_jumps * params.jump_mean + np.sqrt(n_jumps) * params.jump_sd * jump_z
    lam = params.jumps_per_year
    btc = -(0.5 * var + lam * params.jump_compensator) * dt_years + sd * z_btc + jumps
    k = params.eth_vol_ratio
    rho = params.eth_correlation
    eth_jump_comp = math.exp(k * params.jump_mean + 0.5 * (k * params.jump_sd) ** 2) - 1.0
    z = rho * z_btc + math.sqrt(1.0 - rho * rho) * z_eth
    eth = -(0.5 * k * k * var + lam * eth_jump_comp) * dt_years + k * sd * z + k * jumps
    return btc, eth


def step(
    params: VolParams, log_var: float, dt_years: float, rng: np.random.Generator
) -> tuple[float, float, float]:
    """One live step (scalar, same law as ``simulate``): returns (next log-variance,
    BTC log return, ETH log return)."""
    a, s = _ou_coefficients(params, dt_years)
    z_var, z_btc, z_eth, jump_z = rng.standard_normal(4)
    n_jumps = int(rng.poisson(params.jumps_per_year * dt_years))
    m = params.log_var_mean
    next_log_var = m + a * (log_var - m) + s * z_var + params.jump_log_var * n_jumps
    btc, eth = _returns(params, log_var, dt_years, z_btc, z_eth, n_jumps, jump_z)
    return next_log_var, float(btc), float(eth)
