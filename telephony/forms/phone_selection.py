"""The extension list's bulk form: which extensions (ids from the page's checkboxes, or every
extension matching the list's filter, carried as filter_* fields), what to do to them, and the
server for "assign to server"."""

from __future__ import annotations

from django import forms

from telephony.models import AsteriskServer, Phone
from telephony.services.phone_selection import PhoneFilter
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


EITHER_YES_NO = [("", "either"), ("yes", "yes"), ("no", "no")]
SCOPES = {"page": "the ticked extensions", "matching": "every extension matching the filter"}


class PhoneSelectionForm(forms.Form):
    ids = PhoneIdsField(
        queryset=Phone.objects.all(), required=False, error_messages={
            "invalid_choice": "One of the selected extensions no longer exists; reload the list.",
            "invalid_pk_value": "That is not an extension id."})
    scope = forms.ChoiceField(choices=list(SCOPES.items()), required=False)
    # The list's filter, for scope "matching": evaluated again when the action is confirmed.
    filter_q = forms.CharField(required=False, max_length=1000)
    filter_server = forms.ModelChoiceField(
        queryset=AsteriskServer.objects.all(), required=False, error_messages={
            "invalid_choice": "The server in the filter no longer exists; reload the list."})
    filter_assigned = forms.ChoiceField(choices=EITHER_YES_NO, required=False)
    filter_active = forms.ChoiceField(choices=EITHER_YES_NO, required=False)
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
        data["scope"] = data.get("scope") or "page"
        filter_fields = ("filter_q", "filter_server", "filter_assigned", "filter_active")
        if data["scope"] == "matching" and any(name in self.errors for name in filter_fields):
            pass  # never fall back to a wider filter than the one shown
        elif data["scope"] == "matching":
            server = data.get("filter_server")
            data["filter"] = PhoneFilter(
                q=data.get("filter_q", "").strip(), server_id=server.pk if server else None,
                assigned=data.get("filter_assigned", ""), active=data.get("filter_active", ""))
            # Not evaluated here: the service reads it inside its transaction.
            data["phones"] = data["filter"].queryset().select_related("server", "user") \
                .order_by("extension")
        elif "ids" in data:
            data["filter"], data["phones"] = None, data["ids"]
            if not data["ids"]:
                self.add_error("ids", "Select at least one extension first.")
        if data.get("action") == "server" and not data.get("server"):
            self.add_error("server", "Choose the server to assign the extensions to.")
        return data
