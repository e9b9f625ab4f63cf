"""The dashboard in a real headless Chromium (part of `make test`).

Starts the system `make run` starts (config/ as shipped, on free ports, in a scratch directory),
loads http://127.0.0.1:PORT/ with Selenium, waits for the engines table to show 15 running, clicks
stop on one engine and sees it stopped in the table and in `superbot-cli engines`, sees a live
event arrive, both SVG charts drawn and a closed trade listed, and fails on any error in the
browser console. Saves a
screenshot (--screenshot) for the README.
"""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait(what, predicate, timeout):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            last = predicate()
            if last:
                return last
        except Exception as e:  # the page or the daemon is still starting
            last = e
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", default=".build/debug")
    parser.add_argument("--config", default="config")
    parser.add_argument("--screenshot", default=".build/dashboard.png")
    args = parser.parse_args()
    bin_dir = os.path.abspath(args.bin)
    work = tempfile.mkdtemp(prefix="superbot-browser-")
    shutil.copytree(args.config, os.path.join(work, "config"))
    web, sim = free_port(), free_port()
    for name, pairs in [("daemon.yaml", [("8080", str(web)), ("8081", str(sim))]),
                        ("trading.yaml", [("8081", str(sim))])]:
        path = os.path.join(work, "config", name)
        text = open(path).read()
        for old, new in pairs:
            text = text.replace(old, new)
        open(path, "w").write(text)
    daemon = subprocess.Popen([os.path.join(bin_dir, "superbot"), "--config", "config"], cwd=work,
                              stdout=open(os.path.join(work, "daemon.out"), "w"), stderr=subprocess.STDOUT)
    driver = None
    base = f"http://127.0.0.1:{web}"
    try:
        wait("the web UI to reach the daemon",
             lambda: json.load(urllib.request.urlopen(base + "/health", timeout=2))["daemon"] == "reachable", 60)
        options = Options()
        for flag in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1400,1800"]:
            options.add_argument(flag)
        options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        driver = webdriver.Chrome(service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"),
                                  options=options)
        driver.get(base + "/")

        # The tables are re-rendered every 2 s, so they are read, and their buttons clicked, in one
        # script each: an element found earlier may be gone by the time it is used.
        def rows():
            return driver.execute_script(
                "return [...document.querySelectorAll('#engines tbody tr')]"
                ".map(r => [r.dataset.symbol, r.cells[1].textContent])")

        def click(selector):
            return driver.execute_script(
                "const e = document.querySelector(arguments[0]); if (!e) return false; e.click(); return true;",
                selector)

        wait("15 running engines in the table",
             lambda: len(rows()) == 15 and all(status == "running" for _, status in rows()), 60)
        assert "15 engines · 15 running" in driver.find_element(By.ID, "engineCount").text
        assert driver.find_element(By.ID, "conn").text == "live"

        symbol = "ETHUSDT"
        assert click(f'#engines tr[data-symbol="{symbol}"] button[data-action="stop"]')
        wait(f"{symbol} stopped in the table", lambda: dict(rows()).get(symbol) == "stopped", 20)
        cli = subprocess.run([os.path.join(bin_dir, "superbot-cli"), "--json", "engines"], cwd=work,
                             capture_output=True, text=True, timeout=20)
        engines = {e["symbol"]: e["status"] for e in json.loads(cli.stdout)}
        assert engines[symbol] == "stopped", f"superbot-cli engines says {engines[symbol]}"

        def stopped_event():
            feed = driver.execute_script("return [...document.querySelectorAll('#feed div')].map(d => d.textContent)")
            return any(f"engine.{symbol}.status" in line and "stopped" in line for line in feed)
        wait("the engine's status event in the live feed", stopped_event, 20)

        def charts_drawn():
            points = driver.execute_script(
                "return ['priceChart', 'equityChart'].map(id => { const l = document.querySelector('#' + id + ' polyline');"
                " return l ? l.getAttribute('points').split(' ').length : 0; })")
            return all(n >= 2 for n in points)
        wait("both SVG charts drawn", charts_drawn, 30)
        wait("the log tail", lambda: driver.find_element(By.ID, "log").text.strip() != "", 20)
        # Sorting and filtering keep working at any size: sort by symbol descending, filter one.
        driver.find_element(By.CSS_SELECTOR, '#engines th[data-k="symbol"]').click()
        wait("the table sorted by symbol, descending", lambda: rows()[0][0] == "XRPUSDT", 5)
        driver.find_element(By.CSS_SELECTOR, '#engines th[data-k="symbol"]').click()
        driver.find_element(By.ID, "filter").send_keys("BTC")
        wait("the filter", lambda: [r[0] for r in rows()] == ["BTCUSDT"], 5)
        driver.find_element(By.ID, "filter").clear()
        driver.execute_script("document.getElementById('filter').dispatchEvent(new Event('input'))")
        wait("all rows back", lambda: len(rows()) == 15, 5)

        # The engines trade on their own: a closed round trip shows up in the trades table.
        wait("a closed trade in the recent trades table",
             lambda: driver.execute_script("return document.querySelectorAll('#trades tbody tr').length") > 0, 90)
        os.makedirs(os.path.dirname(os.path.abspath(args.screenshot)), exist_ok=True)
        driver.save_screenshot(args.screenshot)
        errors = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
        assert not errors, f"errors in the browser console: {errors}"
        print(f"dashboard: 15 engines running, stop of {symbol} seen in the table and the CLI, live event, "
              f"charts drawn, a closed trade listed, no console errors; screenshot {args.screenshot}")
    except Exception:
        print(open(os.path.join(work, "daemon.out")).read()[-3000:], file=sys.stderr)
        raise
    finally:
        if driver is not None:
            driver.quit()
        subprocess.run([os.path.join(bin_dir, "superbot-cli"), "daemon", "stop"], cwd=work,
                       capture_output=True, timeout=60)
        try:
            daemon.wait(timeout=60)
        except subprocess.TimeoutExpired:
            daemon.send_signal(signal.SIGKILL)
            daemon.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
