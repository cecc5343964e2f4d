"""The extension list's bulk form: which extensions (ids from the page's checkboxes), what to
do to them, and the server for "assign to server"."""

from __future__ import annotations

from django import forms

from telephony.models import AsteriskServer, Phone
from telephony.services.phones import MAX_SELECTION

ACTIONS = {
    "server": "Assign to server",
    "activate": "Activate",
    "deactivate": "Deactivate",
    "delete": "Delete",
    "export": "Export as CSV",
}


class PhoneIdsField(forms.ModelMultipleChoiceField):
    """Ids read strictly before any query: a 400-digit number or '²' is "not an id", never an
    integer overflow in the database driver."""

    def _check_values(self, value):
        for pk in value:
            text = str(pk)
            if not (text.isascii() and text.isdigit() and len(text) <= 18):
                raise forms.ValidationError(self.error_messages["invalid_pk_value"],
                                            code="invalid_pk_value", params={"pk": text[:20]})
        return super()._check_values(value)


class PhoneSelectionForm(forms.Form):
    ids = PhoneIdsField(
        queryset=Phone.objects.all(), error_messages={
            "required": "Select at least one extension first.",
            "invalid_choice": "One of the selected extensions no longer exists; reload the list.",
            "invalid_pk_value": "That is not an extension id."})
    action = forms.ChoiceField(choices=list(ACTIONS.items()))
    server = forms.ModelChoiceField(queryset=AsteriskServer.objects.order_by("name"),
                                    required=False, empty_label="Choose a server")

    def clean_ids(self):
        phones = self.cleaned_data["ids"]
        if len(phones) > MAX_SELECTION:
            raise forms.ValidationError(f"Select at most {MAX_SELECTION:,} extensions at once.")
        return phones.select_related("server", "user").order_by("extension")

    def clean(self):
        data = super().clean()
        if data.get("action") == "server" and not data.get("server"):
            self.add_error("server", "Choose the server to assign the extensions to.")
        return data
