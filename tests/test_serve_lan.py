"""`make serve-lan`'s certificates (config/lan.py): an authority made once and kept, which only
vouches for local names and private addresses, and a server certificate that follows the
machine's names and address. Checked with the `cryptography` library's own path validation."""

import datetime
import ipaddress
import stat

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.verification import PolicyBuilder, Store, VerificationError

from config import lan


def chain(folder):
    return x509.load_pem_x509_certificates((folder / lan.SERVER_CERT).read_bytes())


def verify(authority, certificate, name):
    subject = (
        x509.IPAddress(ipaddress.ip_address(name)) if name[0].isdigit() else x509.DNSName(name)
    )
    verifier = PolicyBuilder().store(Store([authority])).build_server_verifier(subject)
    return verifier.verify(certificate, [])


def test_the_authority_is_made_once_and_its_key_kept_private(tmp_path):
    first, _ = lan.ensure_authority(tmp_path, ["bureau"])
    again, _ = lan.ensure_authority(tmp_path, ["bureau"])

    assert again == first  # the desks trust it once; a restart does not replace it
    assert stat.S_IMODE((tmp_path / lan.CA_KEY).stat().st_mode) == 0o600
    assert first.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


def test_the_server_certificate_is_valid_for_each_name_and_address(tmp_path):
    authority = lan.ensure_authority(tmp_path, ["bureau"])
    lan.ensure_server_certificate(
        tmp_path,
        ["bureau", "bureau.local", "naumur.test"],
        ["192.168.1.20", "127.0.0.1"],
        authority,
    )
    server, sent_authority = chain(tmp_path)

    assert sent_authority == authority[0]  # gunicorn sends the whole chain
    for name in ("bureau", "bureau.local", "naumur.test", "192.168.1.20", "127.0.0.1"):
        assert verify(authority[0], server, name)[-1] == authority[0]
    with pytest.raises(VerificationError):
        verify(authority[0], server, "autre.local")
    lifetime = server.not_valid_after_utc - server.not_valid_before_utc
    assert lifetime <= datetime.timedelta(days=398)  # browsers refuse longer ones
    assert stat.S_IMODE((tmp_path / lan.SERVER_KEY).stat().st_mode) == 0o600


def test_the_authority_cannot_vouch_for_a_public_site(tmp_path):
    """Its key lives on an office machine: even stolen, it signs nothing a browser would take
    for a real site (name constraints: local names, private addresses)."""
    ca_cert, ca_key = lan.ensure_authority(tmp_path, ["bureau"])
    now = datetime.datetime.now(datetime.UTC)
    forged = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([]))
        .issuer_name(ca_cert.subject)
        .public_key(ec.generate_private_key(ec.SECP256R1()).public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("www.banque.example.com")]),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )

    with pytest.raises(VerificationError):
        verify(ca_cert, forged, "www.banque.example.com")


def test_a_new_address_renews_the_server_certificate_but_keeps_the_authority(tmp_path):
    authority = lan.ensure_authority(tmp_path, ["bureau"])
    lan.ensure_server_certificate(tmp_path, ["bureau"], ["192.168.1.20"], authority)
    before = chain(tmp_path)[0]
    lan.ensure_server_certificate(tmp_path, ["bureau"], ["192.168.1.20"], authority)
    assert chain(tmp_path)[0] == before  # nothing changed: kept

    lan.ensure_server_certificate(tmp_path, ["bureau"], ["10.0.0.7"], authority)  # new DHCP lease
    after = chain(tmp_path)[0]

    assert after != before
    assert verify(authority[0], after, "10.0.0.7")
    assert lan.ensure_authority(tmp_path, ["bureau"])[0] == authority[0]


def test_the_address_comes_from_lan_address_when_given(monkeypatch):
    monkeypatch.setenv("LAN_ADDRESS", "192.168.1.20")

    assert lan.lan_address() == "192.168.1.20"
