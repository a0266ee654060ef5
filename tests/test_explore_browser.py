"""The explorer in a real browser: JupyterLab on a free local port, notebooks/06_explore.ipynb opened in headless
Chromium (Debian's, driven by Playwright from PyPI: no browser download), run through the UI; then a slider is
moved and another stem picked, and the page must show the updated plot and players.

The screenshot goes to ``results/<profile>/figures/explore_browser.png`` (also when the test fails, for debugging).
``make test`` installs chromium first (``scripts/ensure-chromium.sh``). The profile is the small explorable smoke
profile of ``tests/explore_fixture.py``; ``DEMUCS_STUDY_EXPLORE_PROFILE=quick`` runs the same test on the quick
profile's own results (after ``make paper-results``), which is how ``results/quick/figures/explore_browser.png``
is made.
"""
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path(os.environ.get("DEMUCS_STUDY_CHROMIUM", "/usr/bin/chromium"))
#: Without the background-networking flags Chromium's own connections are refused by a closed network.
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
#: smoke: the explore fixture (built by the test); another profile: its own data, runs and results, as made by its DAG.
PROFILE = os.environ.get("DEMUCS_STUDY_EXPLORE_PROFILE", "smoke")
RESULTS = Path(os.environ.get("DEMUCS_STUDY_RESULTS") or ROOT / "results")
SCREENSHOT = RESULTS / PROFILE / "figures" / "explore_browser.png"
TOKEN = "explore-browser-test"

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_server(url: str, proc: subprocess.Popen, log: Path, seconds: float = 60.0) -> None:
    """Poll ``url`` until the server answers (a polling wait: the server takes seconds to start)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"JupyterLab exited with code {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.25)
    raise RuntimeError(f"JupyterLab did not answer {url} within {seconds:.0f} s:\n{log.read_text()[-3000:]}")


@pytest.fixture
def profile_env(request) -> tuple[dict, str]:
    """The environment that points the library at the explored profile, and the first test track's name (the one
    the explorer opens)."""
    if PROFILE == "smoke":
        from explore_fixture import TEST_TRACKS

        return request.getfixturevalue("explore_root"), TEST_TRACKS[0]
    from demucs_study.explore.data import ProfileData

    data = ProfileData(PROFILE)
    return {}, data.tracks[0]


@pytest.fixture
def lab(profile_env, tmp_path):
    """JupyterLab serving a copy of the explorer notebook (the repository's stays untouched by autosave), with the
    small smoke profile of ``explore_root`` and this checkout's library; yields its base URL."""
    if not CHROMIUM.is_file():
        pytest.fail(f"Chromium is not installed at {CHROMIUM}: run bash scripts/ensure-chromium.sh (apt-get install "
                    "chromium) or set DEMUCS_STUDY_CHROMIUM")
    root = tmp_path / "lab"
    (root / "notebooks").mkdir(parents=True)
    shutil.copy(ROOT / "notebooks" / "06_explore.ipynb", root / "notebooks")
    (root / "params").symlink_to(ROOT / "params")
    port = free_port()
    env = {**os.environ, **profile_env[0], "DEMUCS_STUDY_PROFILE": PROFILE, "MPLBACKEND": "Agg",
           "PYTHONPATH": os.pathsep.join([str(ROOT / "lib"), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
           "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
           "JUPYTER_CONFIG_DIR": str(tmp_path / "jupyter-config"), "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
           "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "lab-settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "lab-workspaces")}
    news = tmp_path / "lab-settings" / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    news.parent.mkdir(parents=True)
    news.write_text('{"fetchNews": "false"}')                   # no "Jupyter news?" prompt over the page
    log = tmp_path / "jupyterlab.log"
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
           "--ServerApp.port_retries=0", f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={root}",
           "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
           "--allow-root"]
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=root)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for_server(f"{base}/api/status?token={TOKEN}", proc, log)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_explorer_in_chromium(lab, profile_env, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"), executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS,
            viewport={"width": 1280, "height": 1500})
        page = browser.pages[0] if browser.pages else browser.new_page()
        try:
            page.goto(f"{lab}/lab/tree/notebooks/06_explore.ipynb?token={TOKEN}")
            notebook = page.locator(".jp-NotebookPanel")
            expect(notebook).to_be_visible(timeout=60_000)
            expect(page.locator(".jp-Notebook-cell").first).to_be_visible(timeout=30_000)
            # the kernel has started and is attached (running cells earlier asks which kernel to use)
            expect(page.locator(".jp-StatusBar-Widget")).to_contain_text("Python 3 (ipykernel) | Idle",
                                                                         timeout=60_000)
            page.add_locator_handler(page.locator(".jp-Dialog", has_text="Select Kernel"),
                                     lambda dialog: dialog.locator("button.jp-mod-accept").click())
            # run every cell through the UI: menu Run > Run All Cells
            page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
            page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()

            status = page.locator(".explore-status")
            expect(status).to_contain_text(profile_env[1], timeout=90_000)
            expect(status).to_contain_text("vocals")
            image = page.locator("img.explore-signals")
            expect(image).to_have_attribute("src", re.compile(r"^blob:"), timeout=30_000)
            players = page.locator(".explore-players audio")
            expect(players).to_have_count(4)
            first_status = status.inner_text()
            first_image = image.get_attribute("src")
            first_reference = players.nth(1).get_attribute("src")
            status.scroll_into_view_if_needed()

            # move the start of the range: drag the slider's first handle to the right
            handle = page.locator(".explore-range .noUi-handle").first
            track = page.locator(".explore-range .noUi-target").first
            box, bar = handle.bounding_box(), track.bounding_box()
            page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            page.mouse.down()
            page.mouse.move(bar["x"] + bar["width"] * 0.45, box["y"] + box["height"] / 2, steps=8)
            page.mouse.up()
            expect(status).not_to_have_text(first_status, timeout=30_000)
            moved_status = status.inner_text()
            assert moved_status.split("·")[-1] != first_status.split("·")[-1]      # the range part changed

            # pick another stem
            page.locator(".explore-stem button", has_text="bass").click()
            expect(status).to_contain_text("bass", timeout=30_000)
            expect(page.locator('.explore-players audio[data-label="reference (bass)"]')).to_have_count(1,
                                                                                                       timeout=30_000)
            expect(image).not_to_have_attribute("src", first_image, timeout=30_000)
            assert players.nth(1).get_attribute("src") != first_reference
            expect(page.locator(".explore-errors")).to_be_hidden()
            page.locator(".explore-app").scroll_into_view_if_needed()
        finally:
            page.screenshot(path=str(SCREENSHOT))
            browser.close()
    assert SCREENSHOT.stat().st_size > 10_000
