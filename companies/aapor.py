"""AAPOR final disposition codes for telephone surveys, and the class each counts in for the
response rates (docs/ARCHITECTURE.md, « Outcomes and AAPOR codes »)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Disposition(models.TextChoices):
    COMPLETE = "1.1", _("1.1 Entretien complet")
    PARTIAL = "1.2", _("1.2 Entretien partiel")
    REFUSAL = "2.11", _("2.11 Refus")
    RESPONDENT_UNAVAILABLE = "2.21", _("2.21 Non-contact, répondant indisponible (rappel)")
    NO_ANSWER = "3.13", _("3.13 Pas de réponse")
    ANSWERING_MACHINE = "3.14", _("3.14 Répondeur")
    NON_WORKING = "4.30", _("4.30 Numéro non valide")
    NOT_ELIGIBLE = "4.70", _("4.70 Non éligible (pas transformateur)")


# The AAPOR class each code counts in for the rates: I, P, R, NC, O, UH, UO, NE.
DISPOSITION_CLASS = {
    Disposition.COMPLETE: "I",
    Disposition.PARTIAL: "P",
    Disposition.REFUSAL: "R",
    Disposition.RESPONDENT_UNAVAILABLE: "NC",
    Disposition.NO_ANSWER: "UH",
    Disposition.ANSWERING_MACHINE: "UH",
    Disposition.NON_WORKING: "NE",
    Disposition.NOT_ELIGIBLE: "NE",
}

# Nobody answered: the company is tried again later, until its attempts run out.
UNANSWERED = [Disposition.NO_ANSWER, Disposition.ANSWERING_MACHINE]
