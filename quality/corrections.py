"""A supervisor corrects the answers of a submitted call, with a reason.

Everything happens in one transaction:
1. the call row is locked (SELECT ... FOR UPDATE on PostgreSQL) and read as it was;
2. the company follows through `Company.objects.correct_outcome()` (companies/lifecycle.py):
   when the call is the company's latest, the company takes the corrected outcome's state and
   AAPOR code, so every dashboard rate (computed from each company's latest code) follows; a
   correction of an older call changes that call only; a company an operator holds right now is
   never taken from them: the correction is refused and nothing changes;
3. the call is saved with its new answers and AAPOR code;
4. the audit trail gets an entry for the call and, when it moved, one for the company: who,
   when, before, after and the reason (core/audit.py).
5. the dashboard's kept figures of the call's day are counted again (calls/daily.py), so its
   per-operator counts follow at once.
"""

from django.db import transaction
from django.utils.translation import gettext as _

from calls import daily
from calls.models import CallRecord
from companies.lifecycle import Correction
from companies.models import Company
from core.audit import disable_auditlog, record_change

ANSWER_FIELDS = [
    "status_numero",
    "call_status",
    "presentation_level",
    "questions_libres_level",
    "questions_orientees_level",
    "callback_at",
    "callback_personal",
    "notes",
]


class CorrectionRefused(Exception):
    """Nothing was changed; the message says why, for the supervisor."""


def correct_call(corrected: CallRecord, supervisor, reason: str) -> Correction:
    """Store `corrected` (a submitted call carrying its new answers, not saved yet)."""
    with transaction.atomic():
        before = CallRecord.objects.select_for_update().get(pk=corrected.pk)
        if before.submitted_at is None:
            raise CorrectionRefused(_("Seul un appel validé peut être corrigé."))
        if all(getattr(before, name) == getattr(corrected, name) for name in ANSWER_FIELDS):
            raise CorrectionRefused(_("Aucune réponse n'a changé : rien à corriger."))
        company_before = Company.objects.get(pk=before.company_id)
        if company_before.erased_at is not None:
            # Its state must stay « done » for good (privacy/erasure.py): out of the queue.
            raise CorrectionRefused(
                _(
                    "Les données de cette entreprise ont été effacées : ses appels ne se "
                    "corrigent plus."
                )
            )
        effect = Company.objects.correct_outcome(
            before.company_id, corrected.outcome(), before.submitted_at
        )
        if effect is Correction.HELD:
            raise CorrectionRefused(
                _(
                    "« %(company)s » est en cours d'appel : la correction n'a pas été enregistrée. "
                    "Réessayez une fois l'appel terminé (ou libérez l'entreprise)."
                )
                % {"company": company_before}
            )
        corrected.disposition = corrected.outcome_disposition()
        with disable_auditlog():  # the entry below carries the reason
            corrected.save()
        record_change(before, corrected, actor=supervisor, reason=reason)
        if effect is Correction.APPLIED:
            company_after = Company.objects.get(pk=before.company_id)
            record_change(company_before, company_after, actor=supervisor, reason=reason)
        daily.refresh_for_calls(before, corrected)
    return effect
