"""The peers of `make bench`'s backtest table: backtesting.py (run and optimize) and vectorbt,
timed in-process on the same CSV and strategy as our backtester. Prints one JSON line.

usage: backtest_peers.py run CSV REPEATS | optimize CSV FAST_FROM FAST_TO SLOW_FROM SLOW_TO SLOW_STEP | vectorbt CSV FAST_FROM FAST_TO SLOW_FROM SLOW_TO SLOW_STEP
"""
import json
import os
import statistics
import sys
import time
import warnings

import pandas as pd

warnings.simplefilter("ignore")


def load(path):
    df = pd.read_csv(path)
    first = df.columns[0]
    t = df[first]
    df.index = pd.to_datetime(t, unit="ms") if pd.api.types.is_numeric_dtype(t) else pd.to_datetime(t)
    df = df.drop(columns=[first])
    df.columns = [c.capitalize() for c in df.columns]
    return df


mode, path = sys.argv[1], sys.argv[2]

if mode in ("run", "optimize"):
    from backtesting import Backtest

    # The parity test's strategy, from a module, so optimize's worker processes can unpickle it.
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "BacktestTests"))
    from sma_cross import SmaCross  # noqa: E402

data = load(path)
if mode == "run":
    repeats = int(sys.argv[3])
    bt = Backtest(data, SmaCross, cash=10_000_000, commission=0.002)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        stats = bt.run()
        times.append(time.perf_counter() - start)
    print(json.dumps({"median_s": statistics.median(times), "trades": int(stats["# Trades"]),
                      "equity_final": float(stats["Equity Final [$]"])}))
elif mode == "optimize":
    f0, f1, s0, s1, step = map(int, sys.argv[3:8])
    bt = Backtest(data, SmaCross, cash=10_000_000, commission=0.002)
    start = time.perf_counter()
    stats = bt.optimize(fast=range(f0, f1 + 1), slow=range(s0, s1 + 1, step), maximize="SQN")
    elapsed = time.perf_counter() - start
    combos = (f1 - f0 + 1) * len(range(s0, s1 + 1, step))
    print(json.dumps({"seconds": elapsed, "combinations": combos}))
else:
    import numpy as np
    import vectorbt as vbt
    f0, f1, s0, s1, step = map(int, sys.argv[3:8])
    close = data["Close"]
    fasts = list(range(f0, f1 + 1))
    slows = list(range(s0, s1 + 1, step))
    # Compile numba's kernels on a small slice first: the timing is of the sweep, not the JIT.
    def sweep(c):
        fast_ma = vbt.MA.run(c, window=fasts, short_name="fast")
        slow_ma = vbt.MA.run(c, window=slows, short_name="slow")
        fm = fast_ma.ma.values
        sm = slow_ma.ma.values
        n = len(c)
        f_idx = np.repeat(np.arange(len(fasts)), len(slows))
        s_idx = np.tile(np.arange(len(slows)), len(fasts))
        f = fm[:, f_idx]
        s = sm[:, s_idx]
        above = f > s
        entries = np.zeros_like(above)
        exits = np.zeros_like(above)
        entries[1:] = above[1:] & ~above[:-1] & ~np.isnan(s[:-1])
        exits[1:] = ~above[1:] & above[:-1]
        columns = pd.MultiIndex.from_arrays([np.array(fasts)[f_idx], np.array(slows)[s_idx]], names=["fast", "slow"])
        entries = pd.DataFrame(entries, index=c.index, columns=columns)
        exits = pd.DataFrame(exits, index=c.index, columns=columns)
        pf = vbt.Portfolio.from_signals(c, entries, exits, fees=0.002, init_cash=10_000_000, freq="1min",
                                        direction="both")
        return pf.total_return()
    sweep(close.iloc[:500])
    start = time.perf_counter()
    returns = sweep(close)
    elapsed = time.perf_counter() - start
    print(json.dumps({"seconds": elapsed, "combinations": len(fasts) * len(slows)}))
