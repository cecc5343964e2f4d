"""Forms of the agent's dialer session: which campaign to work, which pause code."""

from django import forms

from telephony.models import Campaign, PauseCode


def dialable_campaigns():
    """Campaigns an agent may work in a session. (Campaign statuses and dial modes arrive with
    the campaigns module; until then every active campaign.)"""
    fields = {field.name for field in Campaign._meta.get_fields()}
    if "status" in fields:
        return Campaign.objects.filter(status__in=("running", "paused"))
    return Campaign.objects.filter(is_active=True)


class SessionStartForm(forms.Form):
    campaign = forms.ModelChoiceField(queryset=Campaign.objects.none(), empty_label=None)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["campaign"].queryset = dialable_campaigns()


class PauseForm(forms.Form):
    pause_code = forms.ModelChoiceField(queryset=PauseCode.objects.filter(is_active=True),
                                        empty_label=None, label="Reason")


class SkipForm(forms.Form):
    reason = forms.CharField(max_length=120, label="Why skip?", strip=True)
