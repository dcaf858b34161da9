from datetime import timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from companies import importing
from companies.models import (
    MAX_NUMBERS,
    MAX_PEOPLE,
    Campaign,
    Company,
    ContactPerson,
    ImportMode,
    PhoneLabel,
    PinnedNote,
    default_consent_sentence,
    normalise_phone,
)


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Fichier CSV"),
        help_text=_(
            "CSV ou texte d'Excel, de LibreOffice ou d'un autre outil : encodage, séparateur "
            "et en-tête sont détectés, l'aperçu montre ce qui sera fait avant tout "
            "enregistrement."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.tsv,text/csv,text/plain"}),
        error_messages={
            "empty": _("Le fichier est vide."),
            "required": _("Choisissez le fichier à importer."),
        },
    )
    mode = forms.ChoiceField(
        label=_("Mode"),
        choices=ImportMode.choices,
        initial=ImportMode.NEW,
        widget=forms.RadioSelect,
    )
    campaign_name = forms.CharField(
        label=_("Nom de la nouvelle campagne"),
        max_length=200,
        required=False,
        help_text=_("Par défaut : le nom du fichier et la date."),
    )
    campaign = forms.ModelChoiceField(
        label=_("Campagne à compléter ou à remplacer"),
        queryset=Campaign.objects.order_by("name"),
        required=False,
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        try:
            importing.check_size(upload.size)
        except importing.ImportFileError as exc:
            raise ValidationError(str(exc)) from exc
        return upload

    def clean(self):
        cleaned = super().clean()
        mode = cleaned.get("mode")
        if mode == ImportMode.NEW:
            name = cleaned.get("campaign_name", "").strip()
            if not name and cleaned.get("file"):
                name = importing.default_campaign_name(cleaned["file"].name)
            if name and Campaign.objects.filter(name=name).exists():
                self.add_error(
                    "campaign_name",
                    _(
                        "Une campagne porte déjà ce nom : choisissez-en un autre, ou le mode "
                        "« Ajouter à une campagne »."
                    ),
                )
            cleaned["campaign_name"] = name
            cleaned["campaign"] = None
        elif mode in (ImportMode.ADD, ImportMode.REPLACE) and not cleaned.get("campaign"):
            self.add_error("campaign", _("Choisissez la campagne à compléter ou à remplacer."))
        return cleaned


HEADER_CHOICES = [("oui", _("Oui, la première ligne nomme les colonnes")), ("non", _("Non"))]


class ImportSettingsForm(forms.Form):
    """Correct what was detected when reading the file (the preview is computed again)."""

    encoding = forms.ChoiceField(
        label=_("Encodage"), choices=list(importing.ENCODING_LABELS.items())
    )
    delimiter = forms.ChoiceField(
        label=_("Séparateur"), choices=list(importing.DELIMITER_LABELS.items())
    )
    has_header = forms.ChoiceField(label=_("Ligne d'en-tête"), choices=HEADER_CHOICES)
    campaign_name = forms.CharField(
        label=_("Nom de la nouvelle campagne"), max_length=200, required=False
    )

    def __init__(self, *args, batch, **kwargs):
        self.batch = batch
        kwargs.setdefault(
            "initial",
            {
                "encoding": batch.encoding,
                "delimiter": batch.delimiter,
                "has_header": "oui" if batch.has_header else "non",
                "campaign_name": batch.campaign_name,
            },
        )
        super().__init__(*args, **kwargs)
        if batch.mode != ImportMode.NEW:
            del self.fields["campaign_name"]

    def clean_has_header(self) -> bool:
        return self.cleaned_data["has_header"] == "oui"

    def clean_campaign_name(self) -> str:
        name = self.cleaned_data["campaign_name"].strip() or self.batch.campaign_name
        if Campaign.objects.filter(name=name).exists():
            raise ValidationError(_("Une campagne porte déjà ce nom : choisissez-en un autre."))
        return name


class CampaignForm(forms.ModelForm):
    max_attempts = forms.IntegerField(
        label=_("Tentatives maximum"),
        min_value=1,
        max_value=50,
        help_text=_("Après ce nombre d'appels sans réponse, l'entreprise est terminée."),
    )
    retry_delay_minutes = forms.IntegerField(
        label=_("Délai avant nouvel essai (minutes)"),
        min_value=0,
        max_value=60 * 24 * 60,
        help_text=_("Attente après « Pas de réponse » ou « Répondeur »."),
    )
    field_order = ["name", "is_active", "max_attempts", "retry_delay_minutes", "consent_sentence"]

    class Meta:
        model = Campaign
        fields = ["name", "is_active", "max_attempts", "consent_sentence"]
        help_texts = {
            "is_active": _("Une campagne inactive ne donne plus d'entreprise aux opérateurs."),
        }
        widgets = {"consent_sentence": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        delay = self.instance.retry_delay if self.instance.pk else timedelta(hours=2)
        self.fields["retry_delay_minutes"].initial = int(delay.total_seconds() // 60)
        sentence = self.fields["consent_sentence"]
        sentence.required = False
        sentence.help_text = _(
            "Lue à l'interlocuteur avant de lancer le micro ; s'il refuse, l'opérateur clique "
            "« Refus d'enregistrement » et l'audio de l'appel est effacé. Vide : la phrase par "
            "défaut."
        )

    def clean_consent_sentence(self) -> str:
        return self.cleaned_data["consent_sentence"] or default_consent_sentence()

    def save(self, commit=True):
        self.instance.retry_delay = timedelta(minutes=self.cleaned_data["retry_delay_minutes"])
        return super().save(commit=commit)


# --- A company's numbers, people and pinned notes -----------------------------------------------

UNRECOGNISED_NUMBER = _(
    "Numéro non reconnu : vérifiez les chiffres, et l'indicatif pour un numéro de l'étranger."
)


class NumberForm(forms.Form):
    """Add a number to a company (the call form, the company page)."""

    number = forms.CharField(label=_("Nouveau numéro"), max_length=100)
    label = forms.ChoiceField(label=_("Type"), choices=PhoneLabel.choices)

    def __init__(self, *args, company: Company, **kwargs):
        super().__init__(*args, **kwargs)
        self.company = company

    def clean_number(self) -> str:
        number = self.cleaned_data["number"].strip()
        e164 = normalise_phone(number)
        if not e164:
            raise ValidationError(UNRECOGNISED_NUMBER)
        if self.company.phones.filter(e164=e164).exists() or self.company.phone_e164 == e164:
            raise ValidationError(_("Ce numéro est déjà dans la liste."))
        if self.company.phones.count() >= MAX_NUMBERS:
            raise ValidationError(
                _("Une entreprise a au plus %(max)s numéros.") % {"max": MAX_NUMBERS}
            )
        return number

    def save(self) -> None:
        self.company.merge_numbers([(self.cleaned_data["number"], self.cleaned_data["label"])])


class PersonForm(forms.ModelForm):
    """A contact person, added or corrected in place."""

    class Meta:
        model = ContactPerson
        fields = ["name", "role", "phone", "email"]
        labels = {
            "name": _("Nom"),
            "role": _("Fonction"),
            "phone": _("Ligne directe"),
            "email": _("E-mail"),
        }
        error_messages = {
            "name": {"required": _("Indiquez le nom de la personne.")},
            "email": {"invalid": _("Adresse e-mail invalide.")},
        }

    def __init__(self, *args, company: Company, **kwargs):
        super().__init__(*args, **kwargs)
        self.company = company
        self.instance.company = company

    def clean_name(self) -> str:
        return self.cleaned_data["name"].strip()

    def clean_phone(self) -> str:
        phone = self.cleaned_data["phone"].strip()
        if phone and not normalise_phone(phone):
            raise ValidationError(UNRECOGNISED_NUMBER)
        return phone

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk is None and self.company.people.count() >= MAX_PEOPLE:
            raise ValidationError(
                _("Une entreprise a au plus %(max)s personnes à contacter.") % {"max": MAX_PEOPLE}
            )
        return cleaned


class PinnedNoteForm(forms.ModelForm):
    class Meta:
        model = PinnedNote
        fields = ["text"]
        labels = {"text": _("Note à épingler")}
        widgets = {"text": forms.Textarea(attrs={"rows": 2})}
        error_messages = {
            "text": {
                "required": _("La note est vide."),
                "max_length": _("Une note a au plus %(limit_value)d caractères."),
            }
        }

    def clean_text(self) -> str:
        text = self.cleaned_data["text"].strip()
        if not text:
            raise ValidationError(_("La note est vide."))
        return text
