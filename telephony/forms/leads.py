"""Forms of the lead pages: a list, an upload, the column mapping, DNC entries, dispositions."""

from __future__ import annotations

import phonenumbers
from django import forms

from telephony.models import Disposition
from telephony.services.lead_csv import FIELD_LABELS, FIELDS

REGIONS = sorted((region, region) for region in phonenumbers.SUPPORTED_REGIONS)


class LeadListForm(forms.Form):
    name = forms.CharField(max_length=100)
    default_region = forms.ChoiceField(choices=REGIONS, initial="US",
                                       help_text="Country of numbers written without +.")


class UploadForm(forms.Form):
    file = forms.FileField(label="CSV file", help_text="Comma-, semicolon- or tab-separated; "
                                                       "UTF-8 or Windows-1252.")


class MappingForm(forms.Form):
    """One choice per column of the file: which lead field it fills."""

    has_header = forms.BooleanField(required=False, label="The first row is a header")

    def __init__(self, *args, columns: list[str], mapping: dict, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        choices = [(name, FIELD_LABELS[name]) for name in (*FIELDS, "extra", "skip")]
        by_index = {index: name for name, index in mapping.items() if name in FIELDS}
        for index, column in enumerate(columns):
            initial = by_index.get(index) or ("extra" if index in mapping.get("extra", [])
                                              else "skip")
            self.fields[f"column_{index}"] = forms.ChoiceField(
                label=column, choices=choices, initial=initial)
        self.width = len(columns)

    def mapping(self) -> dict:
        mapping: dict = {"extra": []}
        for index in range(self.width):
            choice = self.cleaned_data[f"column_{index}"]
            if choice == "extra":
                mapping["extra"].append(index)
            elif choice in FIELDS:
                if choice in mapping:
                    raise forms.ValidationError(f"{FIELD_LABELS[choice]} is chosen for two "
                                                f"columns.")
                mapping[choice] = index
        return mapping


class DncAddForm(forms.Form):
    number = forms.CharField(max_length=40)
    reason = forms.CharField(max_length=200, required=False)


class DncImportForm(forms.Form):
    file = forms.FileField(label="CSV file", help_text="Numbers in the first column.")
    reason = forms.CharField(max_length=200, required=False)


class DispositionForm(forms.ModelForm):
    class Meta:
        model = Disposition
        fields = ["name", "policy", "retry_minutes", "is_sale", "is_contact", "order",
                  "is_active"]
