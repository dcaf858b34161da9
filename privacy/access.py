"""Subject access (GDPR art. 15, Cameroon's law n° 2024/017): everything Naumur keeps about one
company, as one JSON document a supervisor downloads and hands over.

The audio itself is not in it: a recording holds the operator's voice too (someone else's
personal data, to review before handing it over), it may be large, and each one can be saved
from its player on the company page; the document lists every recording with its date and
duration so nothing is missed.
"""

import json
from datetime import datetime

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from calls.models import CallRecord, Recording
from companies.models import Company

FORMAT = "naumur-acces-1"


def when(value: datetime | None) -> str | None:
    return timezone.localtime(value).isoformat() if value else None


def label(instance, name: str) -> str:
    """A choice's label as the pages show it (empty when unanswered)."""
    return str(getattr(instance, f"get_{name}_display")()) if getattr(instance, name) else ""


def company_part(company: Company) -> dict:
    return {
        "id": company.pk,
        "campagne": company.campaign.name,
        "nom": company.name,
        "téléphone": company.phone,
        "téléphone_normalisé": company.phone_e164,
        "produit": company.product,
        "activité": company.activity,
        "localisation": company.location,
        "forme_juridique": company.legal_form,
        "niu": company.niu,
        "score": company.validity_score,
        "statut": label(company, "status"),
        "code_aapor": company.disposition,
        "résultat": label(company, "disposition"),
        "tentatives": company.attempts,
        "dernier_appel": when(company.last_called_at),
        "rappel_prévu": when(company.callback_at),
        "archivée": company.is_archived,
        "données_effacées_le": when(company.erased_at),
        "créée_le": when(company.created_at),
        "modifiée_le": when(company.updated_at),
    }


def call_part(call: CallRecord) -> dict:
    return {
        "id": call.pk,
        "tentative": call.attempt,
        "commencé_le": when(call.created_at),
        "validé_le": when(call.submitted_at),
        "numéro_appelé": call.phone.number if call.phone else "",
        "statut_numéros": label(call, "status_numero"),
        "statut_appel": label(call, "call_status"),
        "présentation": label(call, "presentation_level"),
        "questions_libres": label(call, "questions_libres_level"),
        "questions_orientées": label(call, "questions_orientees_level"),
        "rappel_prévu": when(call.callback_at),
        "notes": call.notes,
        "code_aapor": call.disposition,
        "résultat": label(call, "disposition"),
        "sans_enregistrement_vocal": call.without_recording,
    }


def recording_part(recording: Recording) -> dict:
    return {
        "id": recording.pk,
        "appel": recording.call_id,
        "enregistré_le": when(recording.created_at),
        "durée_secondes": recording.duration_seconds,
        "taille_octets": recording.size_bytes,
        "type": recording.mime_type,
        "son_purgé_le": when(recording.purged_at),
    }


def subject_access(company: Company) -> dict:
    calls = CallRecord.objects.filter(company=company).select_related("phone")
    recordings = Recording.objects.filter(call__company=company)
    return {
        "format": FORMAT,
        "produit_le": when(timezone.now()),
        "entreprise": company_part(company),
        "numéros": [
            {
                "type": label(phone, "label"),
                "numéro": phone.number,
                "numéro_normalisé": phone.e164,
                "hors_service": phone.is_dead,
                "dernier_résultat": phone.last_disposition,
                "dernier_appel": when(phone.last_called_at),
                "ajouté_le": when(phone.created_at),
            }
            for phone in company.phones.order_by("position", "pk")
        ],
        "personnes_à_contacter": [
            {
                "nom": person.name,
                "fonction": person.role,
                "ligne_directe": person.phone,
                "e_mail": person.email,
                "ajoutée_le": when(person.created_at),
            }
            for person in company.people.order_by("name", "pk")
        ],
        "notes_épinglées": [
            {
                "note": note.text,
                "épinglée_le": when(note.pinned_at),
                "détachée_le": when(note.unpinned_at),
            }
            for note in company.notes.order_by("pinned_at", "pk")
        ],
        "appels": [call_part(call) for call in calls.order_by("created_at", "pk")],
        "enregistrements": [
            recording_part(recording) for recording in recordings.order_by("created_at", "pk")
        ],
    }


def as_json(data: dict) -> str:
    return json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)
