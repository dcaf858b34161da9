from datetime import date, datetime, timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from companies import fieldwork, importing
from companies.lifecycle import QUOTA_FIELDS
from companies.models import (
    MAX_NUMBERS,
    MAX_PEOPLE,
    ZONE_CHOICES,
    Campaign,
    Company,
    ContactPerson,
    DoNotCallEntry,
    ImportMode,
    PhoneLabel,
    PinnedNote,
    QuotaCell,
    default_consent_sentence,
    default_consent_sentences,
    normalise_phone,
)


def check_list_size(upload) -> None:
    try:
        importing.check_size(upload.size)
    except importing.ImportFileError as exc:
        raise ValidationError(str(exc)) from exc


def list_file_field(label, help_text) -> forms.FileField:
    """A list to import: CSV or the text a spreadsheet saves (companies/importing reads it)."""
    return forms.FileField(
        label=label,
        help_text=help_text,
        validators=[check_list_size],
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.tsv,text/csv,text/plain"}),
        error_messages={
            "empty": _("Le fichier est vide."),
            "required": _("Choisissez le fichier à importer."),
        },
    )


class ImportUploadForm(forms.Form):
    file = list_file_field(
        _("Fichier CSV"),
        _(
            "CSV ou texte d'Excel, de LibreOffice ou d'un autre outil : encodage, séparateur "
            "et en-tête sont détectés, l'aperçu montre ce qui sera fait avant tout "
            "enregistrement."
        ),
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


def parse_days(text: str) -> list[date]:
    """Dates written one per line (or separated by commas), as JJ/MM/AAAA or AAAA-MM-JJ."""
    days = []
    for chunk in text.replace(",", "\n").replace(";", "\n").split():
        for pattern in ("%d/%m/%Y", "%Y-%m-%d", "%d/%m/%y"):
            try:
                days.append(datetime.strptime(chunk, pattern).date())
                break
            except ValueError:
                continue
        else:
            raise ValidationError(
                _("« %(text)s » n'est pas une date (JJ/MM/AAAA).") % {"text": chunk[:40]}
            )
    return sorted(set(days))


def minutes_field(label: str, help_text: str = "") -> forms.IntegerField:
    return forms.IntegerField(label=label, min_value=0, max_value=60 * 24 * 60, help_text=help_text)


def attempts_field(label: str, required: bool = True) -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        min_value=1,
        max_value=50,
        required=required,
        help_text="" if required else _("Vide : sans limite."),
    )


class CampaignForm(forms.ModelForm):
    """A campaign and its fieldwork rules: calling hours, retry rules, quota settings."""

    no_answer_delay_minutes = minutes_field(
        _("Délai après « Pas de réponse » (minutes)"),
        _("Tentatives maximum : tous les appels de l'entreprise comptent, celui-ci compris."),
    )
    no_answer_max_attempts = attempts_field(_("Tentatives maximum après « Pas de réponse »"))
    voicemail_delay_minutes = minutes_field(_("Délai après « Répondeur » (minutes)"))
    voicemail_max_attempts = attempts_field(_("Tentatives maximum après « Répondeur »"))
    callback_delay_minutes = minutes_field(
        _("Délai d'un rappel sans heure convenue (minutes)"),
        _("« Rappel » sans date ni heure : 0 = à rappeler dès maintenant."),
    )
    callback_max_attempts = attempts_field(
        _("Tentatives maximum après un rappel sans heure"), required=False
    )
    refusal_conversion_days = forms.IntegerField(
        label=_("Jours avant la conversion de refus"), min_value=1, max_value=365
    )
    closed_days_text = forms.CharField(
        label=_("Jours de fermeture de la campagne"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Une date par ligne (JJ/MM/AAAA) : aucun appel ce jour-là."),
    )

    class Meta:
        model = Campaign
        fields = [
            "name",
            "is_active",
            "time_zone",
            "public_holidays",
            "no_answer_max_attempts",
            "voicemail_max_attempts",
            "callback_max_attempts",
            "spread_attempts",
            "refusal_conversion",
            "refusal_conversion_days",
            "quota_counts_partials",
            "quota_others_callable",
            "consent_sentence",
            "recording_retention_days",
        ]
        help_texts = {
            "is_active": _("Une campagne inactive ne donne plus d'entreprise aux opérateurs."),
        }
        widgets = {"consent_sentence": forms.Textarea(attrs={"rows": 4})}

    GROUPS = [
        (_("Campagne"), ["name", "is_active"]),
        (
            _("Heures d'appel (heure locale de chaque entreprise)"),
            [*(f"hours_{day}" for day in range(7)), "time_zone", "public_holidays"],
        ),
        (_("Jours de fermeture"), ["closed_days_text"]),
        (
            _("Nouveaux essais"),
            [
                "no_answer_delay_minutes",
                "no_answer_max_attempts",
                "voicemail_delay_minutes",
                "voicemail_max_attempts",
                "callback_delay_minutes",
                "callback_max_attempts",
                "spread_attempts",
                "refusal_conversion",
                "refusal_conversion_days",
            ],
        ),
        (_("Quotas"), ["quota_counts_partials", "quota_others_callable"]),
        (_("Données personnelles"), ["consent_sentence", "recording_retention_days"]),
    ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        campaign = self.instance
        hours = campaign.calling_hours if campaign.pk else fieldwork.default_hours()
        for day, label in enumerate(fieldwork.WEEKDAYS):
            self.fields[f"hours_{day}"] = forms.CharField(
                label=label,
                required=False,
                max_length=200,
                initial=fieldwork.day_text(hours[day] if day < len(hours) else []),
                help_text=_("Ex. 08:00-12:30, 14:00-18:00 ; vide : pas d'appel ce jour-là.")
                if day == 0
                else "",
            )
        for name in ["no_answer", "voicemail", "callback"]:
            delay = getattr(campaign, f"{name}_delay")
            self.fields[f"{name}_delay_minutes"].initial = int(delay.total_seconds() // 60)
        self.fields["closed_days_text"].initial = "\n".join(
            date.fromisoformat(day).strftime("%d/%m/%Y") for day in campaign.closed_days or []
        )
        sentence = self.fields["consent_sentence"]
        sentence.required = False
        # The default sentence in the reader's language, whichever language it was stored in.
        self.initial["consent_sentence"] = campaign.consent_text
        sentence.help_text = _(
            "Lue à l'interlocuteur avant de lancer le micro ; s'il refuse, l'opérateur clique "
            "« Refus d'enregistrement » et l'audio de l'appel est effacé. Vide : la phrase par "
            "défaut."
        )
        self.order_fields([name for _title, names in self.GROUPS for name in names])

    def groups(self):
        """The form's fields by section, for the template."""
        return [(title, [self[name] for name in names]) for title, names in self.GROUPS]

    def clean(self):
        cleaned = super().clean()
        hours = []
        for day in range(7):
            try:
                hours.append(fieldwork.parse_day(cleaned.get(f"hours_{day}", "")))
            except fieldwork.HoursError as error:
                self.add_error(f"hours_{day}", str(error))
        cleaned["calling_hours"] = hours
        try:
            cleaned["closed_days"] = parse_days(cleaned.get("closed_days_text", ""))
        except ValidationError as error:
            self.add_error("closed_days_text", error)
        return cleaned

    def clean_consent_sentence(self) -> str:
        sentence = self.cleaned_data["consent_sentence"] or default_consent_sentence()
        defaults = default_consent_sentences()
        if sentence in defaults and self.instance.consent_sentence in defaults:
            return self.instance.consent_sentence  # still the default: nothing changes
        return sentence

    def save(self, commit=True):
        campaign = self.instance
        campaign.calling_hours = self.cleaned_data["calling_hours"]
        campaign.closed_days = [day.isoformat() for day in self.cleaned_data["closed_days"]]
        for name in ["no_answer", "voicemail", "callback"]:
            minutes = self.cleaned_data[f"{name}_delay_minutes"]
            setattr(campaign, f"{name}_delay", timedelta(minutes=minutes))
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


class QuotaCellForm(forms.ModelForm):
    """A quota cell: one or two company fields, a value each, a target of interviews."""

    target = forms.IntegerField(label=_("Objectif (entretiens)"), min_value=1, max_value=1_000_000)

    class Meta:
        model = QuotaCell
        fields = ["field1", "value1", "field2", "value2", "target"]
        labels = {
            "field1": _("Champ"),
            "value1": _("Valeur"),
            "field2": _("Second champ (facultatif)"),
            "value2": _("Seconde valeur"),
        }

    def __init__(self, *args, campaign: Campaign, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.campaign = campaign
        self.fields["field2"].choices = [("", _("— aucun —")), *QUOTA_FIELDS]
        for name in ["value1", "value2"]:
            self.fields[name].widget.attrs["list"] = "quota-values"

    def clean(self):
        cleaned = super().clean()
        field1, field2 = cleaned.get("field1"), cleaned.get("field2")
        cleaned["value1"] = (cleaned.get("value1") or "").strip()
        cleaned["value2"] = (cleaned.get("value2") or "").strip()
        if field2 and field2 == field1:
            self.add_error("field2", _("Choisissez un autre champ que le premier."))
        if field2 and not cleaned["value2"]:
            self.add_error("value2", _("Indiquez la valeur du second champ."))
        if not field2:
            cleaned["value2"] = ""
        if not self.errors and (
            QuotaCell.objects.filter(
                campaign=self.instance.campaign,
                field1=field1,
                value1=cleaned["value1"],
                field2=field2 or "",
                value2=cleaned["value2"],
            )
            .exclude(pk=self.instance.pk)
            .exists()
        ):
            raise ValidationError(_("Cette cellule existe déjà : changez plutôt son objectif."))
        return cleaned


class QuotaTargetForm(forms.Form):
    target = forms.IntegerField(label=_("Objectif"), min_value=1, max_value=1_000_000)


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Motif"),
        max_length=DoNotCallEntry._meta.get_field("reason").max_length,
        error_messages={"required": _("Indiquez le motif.")},
    )


class DoNotCallAddForm(ReasonForm):
    phone = forms.CharField(label=_("Téléphone"), max_length=100, required=False)
    niu = forms.CharField(label=_("NIU"), max_length=100, required=False)

    field_order = ["phone", "niu", "reason"]

    def clean(self):
        cleaned = super().clean()
        if not (cleaned.get("phone", "").strip() or cleaned.get("niu", "").strip()):
            raise ValidationError(_("Indiquez un numéro de téléphone ou un NIU."))
        return cleaned


class DoNotCallImportForm(forms.Form):
    file = list_file_field(
        _("Liste (CSV)"),
        _(
            "Colonnes reconnues par leur nom : téléphone, NIU, entreprise, motif. Sans ligne "
            "d'en-tête : téléphone, NIU, motif."
        ),
    )
    reason = forms.CharField(
        label=_("Motif des lignes qui n'en ont pas"),
        max_length=DoNotCallEntry._meta.get_field("reason").max_length,
        required=False,
    )


class CompanyTimeZoneForm(forms.Form):
    time_zone = forms.ChoiceField(
        label=_("Fuseau horaire"),
        choices=[("", _("D'après le numéro (sinon celui de la campagne)")), *ZONE_CHOICES],
        required=False,
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )
