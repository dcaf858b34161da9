"""`make serve-lan` end to end: HTTPS on a name that is not localhost (naumur.test, mapped to
127.0.0.1 inside Chromium: nothing leaves the loopback), with the generated certificate
authority trusted the way an operator trusts it (imported into the browser's certificate store,
an NSS database under a HOME of its own). An operator records a call there; on plain HTTP under
the same kind of name the page says the microphone cannot start."""

import os
import re
import socket
import sqlite3
import ssl
import subprocess
import sys
import time
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from config import lan
from tests.browser.call_form import record_a_complete_interview
from tests.conftest import PASSWORD, free_port, make_running

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent.parent
NAME = "naumur.test"
RESOLVER = f"--host-resolver-rules=MAP {NAME} 127.0.0.1"


@pytest.fixture(scope="module")
def serve_lan(tmp_path_factory):
    """`make serve-lan` on 127.0.0.1 (LAN_ADDRESS), its own SQLite database and media folder."""
    folder = tmp_path_factory.mktemp("serve-lan")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    for name in ("DATABASE_URL", "SECRET_KEY", "ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS", "DEBUG"):
        env.pop(name, None)
    env.update(
        LAN_ADDRESS="127.0.0.1",
        LAN_PORT=str(port),
        LAN_NAMES=NAME,
        LAN_DIR=str(folder / "lan"),
        DATABASE_URL=f"sqlite:///{folder / 'db.sqlite3'}",
        MEDIA_ROOT=str(folder / "media"),
        STATIC_ROOT=str(folder / "static"),
        WEB_CONCURRENCY="2",
    )
    # The office's data: here the demo campaign and accounts, made beforehand (the demo
    # command refuses to run with DEBUG off, as `make serve-lan` serves).
    demo = subprocess.run(
        f"{sys.executable} manage.py migrate -v 0 && {sys.executable} manage.py demo",
        shell=True, cwd=ROOT, env={**env, "DEBUG": "true"}, capture_output=True, text=True,
    )  # fmt: skip
    assert demo.returncode == 0, demo.stderr
    log_path = folder / "serve-lan.log"
    with make_running("serve-lan", env, log_path) as process:
        authority = wait_for_https(port, folder / "lan" / lan.CA_CERT, process, log_path)
        yield {
            "url": f"https://{NAME}:{port}",
            "port": port,
            "folder": folder,
            "authority": authority,
            "output": log_path.read_text(),
            "passwords": demo.stdout,
        }


def wait_for_https(port, ca_path, process, log_path, deadline=180):
    """/healthz/ over TLS, the certificate checked against the authority for naumur.test."""
    start = time.monotonic()
    while time.monotonic() - start < deadline:
        assert process.poll() is None, log_path.read_text()[-3000:]
        if ca_path.exists():
            context = ssl.create_default_context(cafile=str(ca_path))
            try:
                with (
                    socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
                    context.wrap_socket(raw, server_hostname=NAME) as tls,
                ):
                    tls.sendall(f"GET /healthz/ HTTP/1.0\r\nHost: {NAME}\r\n\r\n".encode())
                    if tls.recv(100).startswith(b"HTTP/1.0 200"):
                        return ca_path.read_bytes()
            except OSError:
                pass
        time.sleep(0.5)
    raise AssertionError("make serve-lan never answered over HTTPS:\n" + log_path.read_text())


@pytest.fixture
def trusting_browser(browser_type, browser_type_launch_args, serve_lan, tmp_path):
    """Chromium whose certificate store (NSS, under its HOME) trusts the authority, as an
    operator's browser does after « Importer » in its certificate settings."""
    nss = tmp_path / "home" / ".pki" / "nssdb"
    nss.mkdir(parents=True)
    (tmp_path / "ca.crt").write_bytes(serve_lan["authority"])
    subprocess.run(["certutil", "-N", "-d", f"sql:{nss}", "--empty-password"], check=True)
    subprocess.run(
        ["certutil", "-A", "-d", f"sql:{nss}", "-n", "Naumur", "-t", "C,,",
         "-i", str(tmp_path / "ca.crt")],
        check=True,
    )  # fmt: skip
    browser = launch(browser_type, browser_type_launch_args, tmp_path / "home")
    yield browser
    browser.close()


def launch(browser_type, launch_args, home):
    args = [*launch_args["args"], RESOLVER]
    return browser_type.launch(
        **{**launch_args, "args": args}, env={**os.environ, "HOME": str(home)}
    )


def demo_password(output, username):
    return re.search(rf"^\s+{username}\s+(\S+)$", output, re.M).group(1)


def test_make_serve_lan_prints_the_address_and_how_to_trust_the_authority(serve_lan):
    output = " ".join(serve_lan["output"].split())  # the instructions are wrapped
    from cryptography import x509

    authority = x509.load_pem_x509_certificate(serve_lan["authority"])

    assert f"https://127.0.0.1:{serve_lan['port']}/" in output
    assert f"https://{NAME}:{serve_lan['port']}/" in output
    assert "Les navigateurs n'autorisent le micro qu'en HTTPS" in output
    assert lan.fingerprint(authority) in output
    assert "Autorités de certification racines de confiance" in output  # Windows
    assert "Confirmer cette AC pour identifier des sites web" in output  # Firefox


def test_an_operator_records_a_call_over_https_on_a_lan_name(serve_lan, trusting_browser):
    page = trusting_browser.new_context(locale="fr-FR").new_page()
    page.goto(f"{serve_lan['url']}/appels/acces/")
    page.get_by_label("Identifiant").fill("operateur1")
    page.get_by_label("Mot de passe").fill(demo_password(serve_lan["passwords"], "operateur1"))
    page.get_by_role("button", name="Se connecter").click()
    page.get_by_role("button", name="Appeler le suivant").click()

    assert page.evaluate("window.isSecureContext && !!navigator.mediaDevices")
    expect(page.locator("#mic-insecure")).to_be_hidden()
    record_a_complete_interview(page, mic_timeout=15_000)

    with sqlite3.connect(serve_lan["folder"] / "db.sqlite3") as db:
        rows = db.execute(
            "SELECT r.is_complete, r.size_bytes, r.file FROM calls_recording r "
            "JOIN calls_callrecord c ON c.id = r.call_id WHERE c.submitted_at IS NOT NULL"
        ).fetchall()
    assert len(rows) == 1
    complete, size, name = rows[0]
    audio = (serve_lan["folder"] / "media" / name).read_bytes()
    assert complete and size == len(audio) > 1000
    assert audio.startswith(b"\x1a\x45\xdf\xa3")  # WebM


def test_without_the_authority_the_browser_refuses_the_site(
    serve_lan, browser_type, browser_type_launch_args, tmp_path
):
    browser = launch(browser_type, browser_type_launch_args, tmp_path)  # an empty store
    try:
        with pytest.raises(PlaywrightError, match="ERR_CERT_AUTHORITY_INVALID"):
            browser.new_page().goto(f"{serve_lan['url']}/appels/acces/")
    finally:
        browser.close()


def test_plain_http_on_that_name_cannot_start_the_microphone(
    browser_type, browser_type_launch_args, live_server, settings, operator, company, tmp_path
):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, NAME]
    url = f"http://{NAME}:{live_server.thread.port}"
    browser = launch(browser_type, browser_type_launch_args, tmp_path)
    try:
        page = browser.new_context(locale="fr-FR").new_page()
        page.goto(f"{url}/appels/acces/")
        page.get_by_label("Identifiant").fill(operator.username)
        page.get_by_label("Mot de passe").fill(PASSWORD)
        page.get_by_role("button", name="Se connecter").click()
        page.get_by_role("button", name="Appeler le suivant").click()
        expect(page.get_by_role("heading", name=company.name)).to_be_visible()

        assert page.evaluate("window.isSecureContext") is False
        assert page.evaluate("typeof navigator.mediaDevices") == "undefined"
        expect(page.locator("#mic-insecure")).to_be_visible()
        expect(page.locator("#mic-insecure")).to_contain_text(
            "Le micro ne peut pas démarrer : cette page n'est pas en HTTPS."
        )
        expect(page.get_by_role("button", name="Lancer le micro")).to_be_disabled()
        expect(page.get_by_label("Décroche")).to_be_disabled()
    finally:
        browser.close()
