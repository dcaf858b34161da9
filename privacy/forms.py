from django import forms
from django.utils.translation import gettext_lazy as _


class ErasureForm(forms.Form):
    reason = forms.CharField(
        label=_("Motif de l'effacement"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Par exemple : « Demande écrite du gérant reçue le 3 mars 2027 ». Il est gardé dans "
            "l'historique : n'y recopiez ni le nom ni le numéro de l'entreprise."
        ),
        error_messages={"required": _("Indiquez le motif de l'effacement.")},
    )
    confirm = forms.BooleanField(
        label=_("Je confirme : l'effacement est définitif, rien ne pourra être récupéré."),
        error_messages={"required": _("Cochez la confirmation pour effacer.")},
    )
