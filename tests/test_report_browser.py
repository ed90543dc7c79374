"""`rota report` in a real browser: headless Chromium loads the file from disk, every chart has
rendered (an SVG with a size, and marks where there is data), nothing was logged to the console,
and a full-page screenshot is kept as a test artefact.

Needs Chromium and chromedriver (`apt-get install chromium chromium-driver`) and selenium (in the
[test] extra). Without them the tests skip; under .ci/run (ROTA_REQUIRE_BROWSER=1) they fail.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from report_support import SimMonth, build_sim_month

REPO = Path(__file__).resolve().parent.parent
INSTALL = "apt-get install chromium chromium-driver"
ARTIFACTS = Path(os.environ.get("ROTA_TEST_ARTIFACTS") or REPO / "test-artifacts")


def _binaries() -> tuple[str | None, str | None]:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    return browser, driver


def _need_browser() -> tuple[str, str]:
    browser, driver = _binaries()
    missing = []
    if browser is None or driver is None:
        missing.append(f"Chromium and chromedriver (`{INSTALL}`)")
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("selenium (`pip install -e '.[test]'`)")
    if missing:
        reason = "the report's browser test needs " + " and ".join(missing)
        if os.environ.get("ROTA_REQUIRE_BROWSER"):
            pytest.fail(reason + " (ROTA_REQUIRE_BROWSER is set: CI must run it)")
        pytest.skip(reason)
    return browser, driver  # type: ignore[return-value]


@pytest.fixture(scope="module")
def browser():
    chromium, chromedriver = _need_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="rota-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for arg in (
        "--headless",
        "--no-sandbox",  # the suite runs as root
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--window-size=1280,1000",
        "--hide-scrollbars",
    ):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # The system chromedriver, named: selenium must not look for (or download) another one.
    os.environ.setdefault("SE_AVOID_STATS", "true")
    driver = webdriver.Chrome(service=Service(executable_path=chromedriver), options=opts)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def sim_month(tmp_path_factory) -> SimMonth:
    return build_sim_month(tmp_path_factory.mktemp("sim-month"))


# What the page is checked for, in the browser itself: every figure's SVG laid out with a size,
# and its marks (lines, bars, dots, spans) counted.
CHARTS_JS = """
return Array.from(document.querySelectorAll('figure')).map(f => {
  const svg = f.querySelector('svg.chart');
  const box = svg ? svg.getBoundingClientRect() : {width: 0, height: 0};
  return {
    figure: f.dataset.figure,
    chart: svg ? svg.dataset.chart : null,
    width: box.width, height: box.height,
    lines: svg ? svg.querySelectorAll('path.line').length : 0,
    bands: svg ? svg.querySelectorAll('path.band').length : 0,
    dots: svg ? svg.querySelectorAll('circle.dot').length : 0,
    bars: svg ? svg.querySelectorAll('rect.bar').length : 0,
    spans: svg ? svg.querySelectorAll('rect.span').length : 0,
    empty: svg ? svg.querySelectorAll('text.empty').length : 0,
    ticks: svg ? svg.querySelectorAll('text.tick').length : 0,
    axes: svg ? svg.querySelectorAll('text.axis').length : 0,
    legend: f.querySelectorAll('ul.legend li').length,
  };
});
"""


def _load(driver, path: Path, shot: str) -> tuple[list[dict], list[dict]]:
    driver.get_log("browser")  # drop anything from an earlier page
    driver.get(path.as_uri())
    # get() returns at the load event as a rule, but a loaded machine can hand back a page still
    # "loading"; wait for it (a page that never completes still fails, after a minute).
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, 60, poll_frequency=0.2).until(
        lambda d: d.execute_script("return document.readyState") == "complete"
    )
    charts = driver.execute_script(CHARTS_JS)
    logs = driver.get_log("browser")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    import base64

    png = driver.execute_cdp_cmd(
        "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}
    )
    (ARTIFACTS / shot).write_bytes(base64.b64decode(png["data"]))
    return charts, logs


def _report(env, *args: str) -> dict:
    out = env.root / "report.html"
    proc = env.run("report", "--out", str(out), "--json", *args, check=True)
    return json.loads(proc.stdout)


def test_simulated_month_renders_every_chart(rota_env, sim_month, browser) -> None:
    sim_month.install(rota_env)
    data = _report(rota_env)
    charts, logs = _load(browser, Path(data["out"]), "report-simulated-month.png")
    assert [c["chart"] for c in charts] == data["charts"]
    assert len(charts) >= 4 * 2 + 3  # 4 categories x (posterior, grades), shares, quota, blocks
    for c in charts:
        assert c["width"] > 300 and c["height"] > 100, c
        assert c["axes"] >= 1 and c["ticks"] >= 3, c  # labelled axes with ticks
        assert c["legend"] >= 1, c
        assert c["empty"] == 0, f"{c['chart']} says it has no data: {c}"
    by_name = {c["chart"]: c for c in charts}
    for cat in ("code", "infrastructure", "strategic", "triage"):
        post = by_name[f"posterior-{cat}"]
        assert post["lines"] >= 2 and post["bands"] == post["lines"], post
        assert by_name[f"grades-{cat}"]["dots"] > 20, by_name[f"grades-{cat}"]
    assert by_name["shares"]["bars"] >= 25  # a month of daily bars, one rect per arm and day
    quota = [c for c in charts if c["chart"].startswith("quota-")]
    assert quota and all(q["lines"] == 1 for q in quota)
    assert by_name["blocks"]["bars"] >= 1  # the outage and the Claude pool's limit hits
    assert [e for e in logs if e.get("level") in ("SEVERE", "WARNING")] == [], logs


def test_empty_store_renders_every_chart(rota_env, browser) -> None:
    from conftest import BASIC_CONFIG

    rota_env.write_config(BASIC_CONFIG)
    data = _report(rota_env)
    assert data["sessions"] == 0
    charts, logs = _load(browser, Path(data["out"]), "report-empty-store.png")
    assert [c["chart"] for c in charts] == data["charts"]
    by_name = {c["chart"]: c for c in charts}
    assert set(by_name) == {"posterior-code", "grades-code", "shares", "blocks"}
    for c in charts:
        assert c["width"] > 300 and c["height"] > 50, c
    # What rota believes before any session: each enabled arm's prior, as a line with its band.
    assert by_name["posterior-code"]["lines"] == 4 and by_name["posterior-code"]["empty"] == 0
    assert by_name["posterior-code"]["bands"] == 0  # priors only: said in words, not shaded
    for name in ("grades-code", "shares", "blocks"):
        assert by_name[name]["empty"] == 1, by_name[name]  # says so, in the chart
    assert [e for e in logs if e.get("level") in ("SEVERE", "WARNING")] == [], logs


def test_one_session_renders(rota_env, browser) -> None:
    import time

    from report_support import fill
    from rota.store.sqlite import SQLiteStore

    with SQLiteStore(rota_env.state / "rota.db") as store:
        sc = fill(store, end=time.time(), slots=1)
    from report_support import config_toml

    rota_env.config.write_text(config_toml(sc, rota_env.workspace))
    data = _report(rota_env)
    assert data["sessions"] == 1
    charts, logs = _load(browser, Path(data["out"]), "report-one-session.png")
    for c in charts:
        assert c["width"] > 300 and c["height"] > 50, c
    by_name = {c["chart"]: c for c in charts}
    assert by_name["shares"]["bars"] == 1
    assert sum(c["dots"] for n, c in by_name.items() if n.startswith("grades-")) == 1
    assert [e for e in logs if e.get("level") in ("SEVERE", "WARNING")] == [], logs


@pytest.mark.slow
def test_ten_thousand_sessions_stay_readable(rota_env, browser, tmp_path_factory) -> None:
    """10,000 sessions over 208 days: weekly bars, thinned dots, peaks of quota kept."""
    month = build_sim_month(tmp_path_factory.mktemp("sim-10k"), sessions=10_000)
    month.install(rota_env)
    data = _report(rota_env, "--since", "365d")
    assert data["sessions"] == 10_000
    charts, logs = _load(browser, Path(data["out"]), "report-10000-sessions.png")
    by_name = {c["chart"]: c for c in charts}
    for c in charts:
        assert c["width"] > 300 and c["height"] > 100 and c["empty"] == 0, c
    for name, c in by_name.items():
        if name.startswith("grades-"):
            assert 0 < c["dots"] <= 1500, c  # thinned: the trend lines use every grade
    assert 25 <= by_name["shares"]["bars"] <= 31 * 5  # weekly bars, one rect per arm and week
    assert Path(data["out"]).stat().st_size < 4_000_000
    assert [e for e in logs if e.get("level") in ("SEVERE", "WARNING")] == [], logs
