"""backtesting.py (PyPI, in .build/test-venv) on its bundled GOOG sample with SmaCross(fast, slow),
printed as JSON for BacktestParityTests: the trades and the statistics, plus the CSV path.

usage: backtesting_oracle.py FAST SLOW CASH COMMISSION [finalize]
"""
import json
import math
import os
import sys
import warnings

import pandas as pd
from backtesting import Backtest
from backtesting.test import GOOG

import backtesting.test

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sma_cross import SmaCross  # noqa: E402

fast, slow = int(sys.argv[1]), int(sys.argv[2])
cash, commission = float(sys.argv[3]), float(sys.argv[4])
finalize = len(sys.argv) > 5 and sys.argv[5] == "finalize"


def plain(v):
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    if isinstance(v, pd.Timedelta):
        return v.total_seconds()
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        f = float(v)
        return None if math.isnan(f) or math.isinf(f) else f
    return str(v)


with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    stats = Backtest(GOOG, SmaCross, cash=cash, commission=commission, finalize_trades=finalize).run(
        fast=fast, slow=slow)
trades = stats["_trades"]
print(json.dumps({
    "csv": backtesting.test.__path__[0] + "/GOOG.csv",
    "stats": {k: plain(v) for k, v in stats.items() if not k.startswith("_")},
    "trades": [{
        "size": float(t.Size), "entry_bar": int(t.EntryBar), "exit_bar": int(t.ExitBar),
        "entry_price": float(t.EntryPrice), "exit_price": float(t.ExitPrice), "pnl": float(t.PnL),
        "return_pct": float(t.ReturnPct) * 100, "commission": float(t.Commission),
    } for t in trades.itertuples()],
    "equity_final": float(stats["_equity_curve"]["Equity"].iloc[-1]),
}))
