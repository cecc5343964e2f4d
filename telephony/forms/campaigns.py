"""Campaign form: validates names and caller ID before they can reach an AMI frame."""

from __future__ import annotations

from django import forms

from telephony.models import Campaign, Carrier
from telephony.validators import caller_id_name_validator


class CampaignForm(forms.ModelForm):
    class Meta:
        model = Campaign
        fields = ["name", "description", "is_active", "caller_id_name", "caller_id_number",
                  "carrier"]
        help_texts = {
            "caller_id_name": "Shown to the called party when the carrier passes it on. "
                              "Empty: the agent's extension's caller ID is used.",
            "caller_id_number": "Digits with an optional leading +. Empty: the extension's.",
            "carrier": "Optional default carrier for this campaign's calls.",
        }
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["carrier"].queryset = Carrier.objects.filter(is_active=True)
        # Goes into the Originate's CallerID as "name" <number>: no quotes or angle brackets.
        self.fields["caller_id_name"].validators.append(caller_id_name_validator)

    def clean_name(self) -> str:
        return self.cleaned_data["name"].strip()
