"""The confirmation of a CSV import's dry run (the extension and user imports)."""

from __future__ import annotations

import base64
import binascii

from django import forms


class CsvConfirmForm(forms.Form):
    """Carries the file the dry run read back to the server, with the fingerprint of the plan
    the admin saw: the import runs on these very bytes, and refuses if the plan has changed.
    Base64, so every byte (a BOM, a lone CR) comes back as it was uploaded."""

    data = forms.CharField(widget=forms.HiddenInput, strip=False)
    fingerprint = forms.RegexField(r"^[0-9a-f]{40,128}$", widget=forms.HiddenInput)
    # How many rows the dry run would write: only picks the background job for a big import
    # (which then writes what the fingerprinted plan says, whatever this number claims).
    writes = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0)

    @staticmethod
    def encode(data: bytes) -> str:
        return base64.b64encode(data).decode("ascii")

    def clean_data(self) -> bytes:
        try:
            return base64.b64decode(self.cleaned_data["data"], validate=True)
        except (binascii.Error, ValueError):
            raise forms.ValidationError("The confirmation lost its file; upload it again.") \
                from None
