"""`make serve-lan`: Naumur over HTTPS on the office network, with a certificate authority
made on this machine.

Browsers let a page use the microphone only in a secure context: HTTPS, or http://localhost.
`make run` serves 127.0.0.1 alone, so the other desks of an office could not record. This serves
the app with gunicorn on the machine's LAN address over HTTPS, with a certificate signed by a
small certificate authority generated here once (with the `cryptography` library) and kept in
LAN_DIR (default .lan/). Each operator's browser trusts that authority once; the server's
certificate can then be renewed, or cover a new address, without touching the desks again.

Why a CA of our own rather than Debian's caddy with its internal CA: one process (gunicorn
speaks TLS itself), nothing to install and no root needed on a fresh machine, and the authority
can be restricted (name constraints) to local names and private addresses, so that its key, kept
on an office machine, can never vouch for a real site. Caddy's internal CA has no such
restriction, rotates a short-lived intermediate the desks never see, and is one more daemon.

    make serve-lan                          # the LAN address found by the routing table
    LAN_ADDRESS=192.168.1.20 LAN_PORT=8443 LAN_NAMES=naumur.bureau make serve-lan

Production settings (DEBUG off, so no demo accounts: the first one comes from
`manage.py createsuperuser`), a SECRET_KEY generated once into LAN_DIR unless one is given,
SQLite unless DATABASE_URL says otherwise; migrations are applied before serving.
"""

import datetime
import hashlib
import ipaddress
import os
import secrets
import socket
import subprocess
import sys
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

BASE_DIR = Path(__file__).resolve().parent.parent
CA_CERT, CA_KEY = "naumur-ca.crt", "naumur-ca.key"
SERVER_CERT, SERVER_KEY = "server.pem", "server.key"
CA_YEARS = 10
# Browsers accept at most 398 days for a server certificate (Apple's rule covers private CAs).
SERVER_DAYS = 397
RENEW_BEFORE = datetime.timedelta(days=30)
# What the authority may vouch for: loopback, private and link-local addresses, local names.
PERMITTED_NETWORKS = [
    "127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16",
    "100.64.0.0/10", "::1/128", "fc00::/7", "fe80::/10",
]  # fmt: skip
PERMITTED_SUFFIXES = ["localhost", "local", "lan", "home.arpa", "internal", "intranet", "test"]


def lan_address() -> str:
    """LAN_ADDRESS, or the address this machine would use to reach the local network. Connecting
    a UDP socket only looks up a route: nothing is sent."""
    if address := os.environ.get("LAN_ADDRESS"):
        return address
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: routed like any outside address
            return probe.getsockname()[0]
        except OSError:
            return "127.0.0.1"


def server_names() -> list[str]:
    hostname = socket.gethostname().split(".")[0].lower()
    names = [hostname, f"{hostname}.local", "localhost"]
    names += [n.strip().lower() for n in os.environ.get("LAN_NAMES", "").split(",") if n.strip()]
    return list(dict.fromkeys(names))


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _write_private(path: Path, data: bytes) -> None:
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_bytes(data)


def _pem_key(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def ensure_authority(folder: Path, names: list[str]) -> tuple[x509.Certificate, object]:
    """The certificate authority the desks trust, made once and then kept."""
    cert_path, key_path = folder / CA_CERT, folder / CA_KEY
    if cert_path.exists() and key_path.exists():
        return (
            x509.load_pem_x509_certificate(cert_path.read_bytes()),
            serialization.load_pem_private_key(key_path.read_bytes(), password=None),
        )
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Naumur"),
            x509.NameAttribute(
                NameOID.COMMON_NAME, f"Naumur autorité locale {socket.gethostname()[:30]}"
            ),
        ]
    )
    dns = list(dict.fromkeys(PERMITTED_SUFFIXES + [n for n in names if "." not in n]))
    permitted = [x509.DNSName(name) for name in dns] + [
        x509.IPAddress(ipaddress.ip_network(net)) for net in PERMITTED_NETWORKS
    ]
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=365 * CA_YEARS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),  # fmt: skip
            critical=True,
        )
        .add_extension(
            x509.NameConstraints(permitted_subtrees=permitted, excluded_subtrees=None),
            critical=True,
        )  # fmt: skip
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_private(key_path, _pem_key(key))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert, key


def _alt_names(cert: x509.Certificate) -> set[str]:
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return set(san.get_values_for_type(x509.DNSName)) | {
        str(a) for a in san.get_values_for_type(x509.IPAddress)
    }


def ensure_server_certificate(
    folder: Path, names: list[str], addresses: list[str], authority
) -> Path:
    """The server's certificate for these names and addresses, signed by the authority; made
    again when one is missing, when it nears its end or when the authority changed. Written as
    the chain gunicorn sends (server certificate, then the authority's)."""
    ca_cert, ca_key = authority
    cert_path, key_path = folder / SERVER_CERT, folder / SERVER_KEY
    wanted = set(names) | set(addresses)
    if cert_path.exists() and key_path.exists():
        current = x509.load_pem_x509_certificates(cert_path.read_bytes())[0]
        if (
            _alt_names(current) == wanted
            and current.issuer == ca_cert.subject
            and current.not_valid_after_utc - _now() > RENEW_BEFORE
        ):
            return cert_path
    key = ec.generate_private_key(ec.SECP256R1())
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=SERVER_DAYS))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName(name) for name in names]
                + [x509.IPAddress(ipaddress.ip_address(a)) for a in addresses]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),  # fmt: skip
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    _write_private(key_path, _pem_key(key))
    cert_path.write_bytes(
        cert.public_bytes(serialization.Encoding.PEM)
        + ca_cert.public_bytes(serialization.Encoding.PEM)
    )
    return cert_path


def fingerprint(cert: x509.Certificate) -> str:
    digest = hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest().upper()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def secret_key(folder: Path) -> str:
    path = folder / "secret_key"
    if not path.exists():
        _write_private(path, secrets.token_urlsafe(50).encode())
    return path.read_text().strip()


def server_environment(folder: Path, hosts: list[str], origins: list[str]) -> dict:
    """Production settings for gunicorn speaking TLS itself (no proxy in front). Values already
    in the environment or in .env win."""
    import environ

    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)
    env = dict(os.environ)
    defaults = {
        "DEBUG": "false",
        "SECRET_KEY": secret_key(folder),
        "ALLOWED_HOSTS": ",".join(hosts),
        "CSRF_TRUSTED_ORIGINS": ",".join(origins),
        # gunicorn terminates TLS: requests are HTTPS by themselves, no proxy header to trust.
        "BEHIND_HTTPS_PROXY": "false",
        # One machine on a local network: HSTS yes, but no browser preload list.
        "SECURE_HSTS_PRELOAD": "false",
    }
    for name, value in defaults.items():
        env.setdefault(name, value)
    return env


def gunicorn_command(binds: list[str], folder: Path, workers: int) -> list[str]:
    command = [sys.executable, "-m", "gunicorn", "config.wsgi"]
    for bind in binds:
        command += ["--bind", bind]
    return command + [
        "--workers", str(workers),
        "--certfile", str(folder / SERVER_CERT),
        "--keyfile", str(folder / SERVER_KEY),
        "--access-logfile", "-",
        "--timeout", os.environ.get("GUNICORN_TIMEOUT", "120"),
    ]  # fmt: skip


def instructions(url: str, other_urls: list[str], ca_path: Path, ca: x509.Certificate) -> str:
    return f"""
Naumur est servi en HTTPS sur le réseau local :

    {url}
{"".join(f"    {other}{chr(10)}" for other in other_urls)}
Les navigateurs n'autorisent le micro qu'en HTTPS (ou sur localhost) : chaque poste doit faire
confiance, une seule fois, à l'autorité de certification créée sur cette machine :

    {ca_path}
    empreinte SHA-256 : {fingerprint(ca)}

Copiez ce fichier sur chaque poste (clé USB, dossier partagé), vérifiez l'empreinte, puis :
  - Windows (Chrome, Edge) : double-cliquez le fichier → « Installer le certificat… » →
    « Placer tous les certificats dans le magasin suivant » → « Autorités de certification
    racines de confiance ».
  - macOS (Safari, Chrome) : double-cliquez le fichier (Trousseau d'accès), puis dans le
    certificat « Naumur autorité locale » → « Se fier » → « Toujours approuver ».
  - Firefox (tous systèmes) : Paramètres → Vie privée et sécurité → Certificats → « Afficher
    les certificats » → Autorités → « Importer… » → cocher « Confirmer cette AC pour
    identifier des sites web ».
  - Chrome ou Chromium sous Linux : chrome://settings/certificates → Autorités → Importer.
Puis ouvrez {url} : le cadenas s'affiche sans avertissement et « Lancer le micro » fonctionne.
Premier démarrage : créez le compte administrateur avec
`.venv/bin/python manage.py createsuperuser`, puis ceux des opérateurs dans /admin/.
Cette autorité ne peut signer que des noms locaux et des adresses privées ; gardez le dossier
{ca_path.parent} pour vous (sa clé privée y est).
"""


def main() -> None:
    folder = Path(os.environ.get("LAN_DIR") or BASE_DIR / ".lan").resolve()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    address = lan_address()
    port = int(os.environ.get("LAN_PORT", "8443"))
    names = server_names()
    addresses = list(dict.fromkeys([address, "127.0.0.1"]))
    authority = ensure_authority(folder, names)
    ensure_server_certificate(folder, names, addresses, authority)

    def url(host: str) -> str:
        return f"https://{host}:{port}/" if port != 443 else f"https://{host}/"

    origins = [url(host).rstrip("/") for host in [address, *names]]
    env = server_environment(folder, [*addresses, *names], origins)
    for step in (["migrate", "--no-input"], ["collectstatic", "--no-input", "-v", "0"]):
        subprocess.run([sys.executable, "manage.py", *step], cwd=BASE_DIR, env=env, check=True)

    binds = [f"{a}:{port}" for a in addresses]
    others = [url(name) for name in names if name != "localhost"]
    print(instructions(url(address), others, folder / CA_CERT, authority[0]), flush=True)
    workers = int(os.environ.get("WEB_CONCURRENCY", 2 * (os.cpu_count() or 1) + 1))
    command = gunicorn_command(binds, folder, workers)
    os.chdir(BASE_DIR)
    os.execve(command[0], command, env)


if __name__ == "__main__":
    main()
