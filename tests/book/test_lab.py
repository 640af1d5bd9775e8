"""The notebooks in real JupyterLab: run through its UI in headless Chromium, outputs checked.

A JupyterLab server, started as ``make lab`` starts it (this environment's python, its
python3 kernel), serves copies of the chapter notebooks from a temporary folder; user
settings, workspaces and the home folder are temporary too, and the browser may reach
nothing but the server.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import pytest
from playwright.sync_api import expect

from frametabs.frameworks import FRAMEWORKS, LABELS
from frametabs.kernel_env import QUIET_KERNEL_ENV

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
CHAPTERS = ROOT / "chapters"
NOTEBOOKS = ("exercises.ipynb", "custom-layers.ipynb")
EXERCISES = ("TensorReduction", "FourierHalf")
NOT_IMPLEMENTED = "Ainda não implementado: complete a classe e rode esta célula de novo."
# Each framework's own way of printing a tensor, as the stored outputs show it.
DISTINCTIVE = {"mxnet": "array(", "pytorch": "tensor(", "tensorflow": "<tf.Tensor:"}
NUMBER = re.compile(r"-?\d+(\.\d*)?(e[-+]?\d+)?")
SERVER_START_S = 120
KERNEL_IDLE_MS = 180_000
RUN_ALL_MS = 600_000
# Silence the notification toasts (news, update checks) and ask nothing of the reader.
USER_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}
PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"  # the notebook on show
KERNEL_STATUS = '.jp-StatusBar-TextItem[title^="Change kernel for"]'  # "<kernel> | <status>"
# What the UI shows of a notebook: each cell's type, input prompt and rendered outputs.
CELLS_JS = """
(panel) => Array.from(document.querySelectorAll(`${panel} .jp-Notebook .jp-Cell`)).map((cell) => ({
  code: cell.classList.contains("jp-CodeCell"),
  outputs: Array.from(cell.querySelectorAll(".jp-OutputArea-output")).map((output) => ({
    mime: output.getAttribute("data-mime-type"),
    text: output.textContent,
    tables: output.querySelectorAll("table").length,
  })),
}))
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (state, ppid, ...)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def _descendants(pid: int) -> set[tuple[int, str]]:
    """Every live descendant of ``pid``, kernels included, as (pid, start time) pairs.

    The start time tells a process from a later one that reuses its pid.
    """
    pids = [int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit()]
    stats = {child: _stat(child) for child in pids}
    stats = {child: stat for child, stat in stats.items() if stat is not None}
    found: set[tuple[int, str]] = set()
    frontier = [pid]
    while frontier:
        parent = frontier.pop()
        for child, stat in stats.items():
            if int(stat[1]) == parent:
                found.add((child, stat[19]))
                frontier.append(child)
    return found


def _alive(process: tuple[int, str]) -> bool:
    stat = _stat(process[0])
    return stat is not None and stat[19] == process[1] and stat[0] != "Z"


def _cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
    except OSError:
        return [""]


class Lab:
    """A running JupyterLab server and the REST calls the tests make to it."""

    def __init__(self, url: str, token: str, process: subprocess.Popen, root: Path):
        self.url, self.token, self.process, self.root = url, token, process, root
        self.seen: set[tuple[int, str]] = set()  # every descendant seen: kernels and theirs

    def api(self, path: str, method: str = "GET"):
        request = urllib.request.Request(
            f"{self.url}{path}", method=method, headers={"Authorization": f"token {self.token}"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read()
        return json.loads(body) if body else None

    def notebook_url(self, name: str) -> str:
        """The notebook alone in a fresh workspace of its own (no other tab restored)."""
        return f"{self.url}/lab/workspaces/{Path(name).stem}/tree/{name}?reset&token={self.token}"

    def watch(self) -> None:
        """Remember the server's descendants now alive, to check they all end."""
        self.seen.update(_descendants(self.process.pid))

    def shut_down_kernels(self) -> None:
        self.watch()
        for session in self.api("/api/sessions"):
            self.api(f"/api/sessions/{session['id']}", method="DELETE")


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """``python -m jupyterlab`` on a free 127.0.0.1 port, serving copies of the notebooks."""
    base = tmp_path_factory.mktemp("lab")
    root, home, settings = base / "root", base / "home", base / "settings"
    for folder in (root, home, settings):
        folder.mkdir()
    for name in NOTEBOOKS:
        shutil.copy2(CHAPTERS / name, root / name)
    shutil.copytree(CHAPTERS / "images", root / "images")
    for name, values in USER_SETTINGS.items():
        path = settings / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    env = {
        **os.environ,
        "HOME": str(home),
        "JUPYTER_CONFIG_DIR": str(base / "config"),
        "JUPYTER_DATA_DIR": str(base / "data"),
        "JUPYTER_RUNTIME_DIR": str(base / "runtime"),
        "IPYTHONDIR": str(base / "ipython"),
    }
    # The reader's environment, as ``make lab`` gets it: all frameworks, TensorFlow not
    # quieted beforehand (``%load_ext frametabs`` does that).
    for key in ("FRAMETABS_FRAMEWORKS", *QUIET_KERNEL_ENV):
        env.pop(key, None)
    port, token = _free_port(), secrets.token_hex(16)
    log_path = base / "server.log"
    with log_path.open("w") as log:
        process = _start_server(root, base, settings, port, token, env, log)
        server = Lab(f"http://127.0.0.1:{port}", token, process, root)
        try:
            yield _wait_for_server(server, log_path)
        finally:
            left = _stop_server(server)
            print(f"\nJupyterLab server log: {log_path}")
    assert left == [], "processes left behind by the JupyterLab server"


def _start_server(root, base, settings, port, token, env, log) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}",
            "--ServerApp.port_retries=0",
            f"--ServerApp.root_dir={root}",
            f"--IdentityProvider.token={token}",
            f"--LabApp.user_settings_dir={settings}",
            f"--LabApp.workspaces_dir={base / 'workspaces'}",
            "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            *(["--allow-root"] if os.geteuid() == 0 else []),
        ],
        cwd=root,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _wait_for_server(server: Lab, log: Path) -> Lab:
    deadline = time.monotonic() + SERVER_START_S
    while True:
        assert server.process.poll() is None, log.read_text()
        try:
            server.api("/api/status")
            return server
        except (urllib.error.URLError, ConnectionError):
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.5)


def _stop_server(server: Lab) -> list[tuple[int, str]]:
    """Shut the server and its kernels down; the descendants still alive (then killed)."""
    process = server.process
    server.watch()
    descendants = sorted(server.seen)
    if process.poll() is None:
        try:
            server.api("/api/shutdown", method="POST")
            process.wait(timeout=60)
        except (OSError, subprocess.TimeoutExpired):
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    deadline = time.monotonic() + 10
    while any(_alive(child) for child in descendants) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = [child for child in descendants if _alive(child)]
    for pid, _ in left:
        os.kill(pid, signal.SIGKILL)
    return left


@pytest.fixture
def page(browser, lab):
    """A JupyterLab page that may only load from the local server; console errors printed."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    blocked: list[str] = []

    def local_only(route):
        if route.request.url.startswith(lab.url):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    context.route("**/*", local_only)
    page = context.new_page()
    errors: list[str] = []
    page.on(
        "console",
        lambda message: (
            errors.append(f"console: {message.text} ({message.location.get('url')})")
            if message.type == "error"
            else None
        ),
    )
    page.on("pageerror", lambda error: errors.append(f"page error: {error.message}"))
    yield page
    context.close()
    lab.shut_down_kernels()
    print("\nJupyterLab console errors:", *errors or ["none"], sep="\n  ")
    print("Blocked requests (not 127.0.0.1):", *blocked or ["none"], sep="\n  ")
    # JupyterLab's own console noise is not ours; anything about the notebooks' files is.
    assert [e for e in errors if any(name in e for name in (*NOTEBOOKS, "/files/"))] == []


def menu(page, menu_name: str, item: str) -> None:
    """Click ``menu_name > item`` in JupyterLab's menu bar."""
    page.locator(".lm-MenuBar-item", has_text=re.compile(f"^{menu_name}$")).click()
    page.locator(".lm-Menu:visible .lm-Menu-item", has_text=re.compile(f"^{item}$")).click()


def prompts(page) -> list[str]:
    return [
        text.strip()
        for text in page.locator(f"{PANEL} .jp-CodeCell .jp-InputPrompt").all_text_contents()
    ]


def run_all_cells(page, lab, name: str, screenshot: Path) -> list[dict]:
    """Open the notebook, clear its stored outputs, Run > Run All Cells; the cells' state."""
    page.goto(lab.notebook_url(name))
    kernel = page.locator(KERNEL_STATUS)
    kernel.filter(has_text=re.compile(r"^Python 3 \(ipykernel\) \| Idle$")).wait_for(
        timeout=KERNEL_IDLE_MS
    )
    stored = nbformat.read(lab.root / name, as_version=4)
    code_cells = sum(cell.cell_type == "code" for cell in stored.cells)
    # Every cell attached (JupyterLab adds them in batches), then the stored outputs and
    # counts cleared: what the page shows next is this run's.
    expect(page.locator(f"{PANEL} .jp-Notebook .jp-Cell")).to_have_count(
        len(stored.cells), timeout=KERNEL_IDLE_MS
    )
    menu(page, "Edit", "Clear Outputs of All Cells")
    expect(page.locator(f"{PANEL} .jp-OutputArea-output")).to_have_count(0, timeout=60_000)
    assert prompts(page) == ["[ ]:"] * code_cells
    menu(page, "Run", "Run All Cells")
    # Done when every code cell shows an execution count and the kernel is idle again.
    page.wait_for_function(
        """([panel, status, count]) => {
          const prompts = Array.from(document.querySelectorAll(
            `${panel} .jp-CodeCell .jp-InputPrompt`));
          const kernel = document.querySelector(status);
          return prompts.length === count
            && prompts.every((prompt) => /^\\[\\d+\\]:$/.test(prompt.textContent.trim()))
            && kernel !== null && kernel.textContent.endsWith("| Idle");
        }""",
        arg=[PANEL, KERNEL_STATUS, code_cells],
        timeout=RUN_ALL_MS,
        polling=1000,
    )
    cells = page.evaluate(CELLS_JS, PANEL)
    page.locator(
        f"{PANEL} .jp-CodeCell:has(.jp-OutputArea-output)"
    ).last.scroll_into_view_if_needed()
    page.screenshot(path=screenshot)
    print(f"\nScreenshot of {name}: {screenshot}")
    assert len(cells) == len(stored.cells)
    assert prompts(page) == [f"[{count}]:" for count in range(1, code_cells + 1)]
    # The notebook's kernel is the project's: python3, run by this environment's python.
    (session,) = [s for s in lab.api("/api/sessions") if s["path"] == name]
    assert session["kernel"]["name"] == "python3"
    lab.watch()
    running = [_cmdline(pid) for pid, _ in _descendants(lab.process.pid)]
    kernels = [cmd for cmd in running if "ipykernel_launcher" in cmd]
    assert kernels and all(cmd[0] == sys.executable for cmd in kernels), kernels
    for cell in cells:
        for output in cell["outputs"]:
            assert "Traceback" not in output["text"], output["text"]
            assert output["mime"] != "application/vnd.jupyter.stderr", output["text"]
    return cells


def test_project_kernel_is_the_default(lab):
    """The server offers the project's python3 kernel (the environment's, run by its python)."""
    specs = lab.api("/api/kernelspecs")
    assert specs["default"] == "python3"
    assert specs["kernelspecs"]["python3"]["spec"]["argv"][0] in {"python", sys.executable}


def test_exercises_show_not_implemented_verdicts(page, lab, tmp_path):
    cells = run_all_cells(page, lab, "exercises.ipynb", tmp_path / "exercises.png")
    verdicts = [
        output for cell in cells for output in cell["outputs"] if NOT_IMPLEMENTED in output["text"]
    ]
    expected = [f"{name} · {LABELS[fw]}: 0/10 pontos" for name in EXERCISES for fw in FRAMEWORKS]
    # One rendered verdict (the HTML table of checks) per exercise and framework.
    assert len(verdicts) == len(expected)
    for output in verdicts:
        assert output["mime"] == "text/html"
        assert output["tables"] == 1
        assert "ainda não implementado" in output["text"]
    titles = [[t for t in expected if t in output["text"]] for output in verdicts]
    assert titles == [[title] for title in expected]


def _masked(text: str) -> str:
    """The text with every number replaced by ``#``: its shape, not its rounding residue."""
    return NUMBER.sub("#", text.rstrip("\n"))


def test_custom_layers_shows_all_three_frameworks(page, lab, tmp_path):
    cells = run_all_cells(page, lab, "custom-layers.ipynb", tmp_path / "custom-layers.png")
    stored = nbformat.read(lab.root / "custom-layers.ipynb", as_version=4)
    shown = dict.fromkeys(FRAMEWORKS, 0)
    for cell, live in zip(stored.cells, cells, strict=True):
        if cell.cell_type != "code":
            continue
        expected = [output.get("text") or output["data"]["text/plain"] for output in cell.outputs]
        texts = [output["text"] for output in live["outputs"]]
        # The live outputs are the stored ones, as strict nbval checks them: exactly, or,
        # in the cells nbval may not compare (rounding residues), up to the numbers.
        if "nbval-ignore-output" in cell.metadata.get("tags", []):
            assert [_masked(text) for text in texts] == [_masked(text) for text in expected]
        else:
            assert [text.rstrip("\n") for text in texts] == [text.rstrip("\n") for text in expected]
        framework = cell.source.splitlines()[0].removeprefix("%%tab ")
        if framework in FRAMEWORKS:
            shown[framework] += sum(DISTINCTIVE[framework] in text for text in texts)
    # Each framework's cells ran in this kernel and printed its own tensors.
    assert all(count >= 3 for count in shown.values()), shown
