"""Campaign form: validates names and caller ID before they can reach an AMI frame, and the
dialling settings against the campaign's calling rules."""

from __future__ import annotations

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Fieldset, Layout
from django import forms

from telephony.models import Campaign, Carrier
from telephony.validators import caller_id_name_validator
from users.roles import AGENT

SAFE_HARBOR_MAX_BYTES = 10 * 1024 * 1024


def _sections() -> FormHelper:
    """The campaign page's form in titled sections (the admin ignores it). A field left out
    of SECTIONS still shows, after them, rather than vanishing from the page."""
    helper = FormHelper()
    helper.form_tag = False  # templates/form_page.html draws the <form> and its token
    helper.disable_csrf = True
    helper.render_unmentioned_fields = True
    helper.layout = Layout(*[Fieldset(title, *names, css_class="form-section mb-3")
                             for title, names in SECTIONS])
    return helper


SECTIONS = [
    ("Campaign", ["name", "description", "dial_mode", "agents"]),
    ("Caller ID and carriers", ["caller_id_name", "caller_id_number", "carrier",
                                "other_carriers"]),
    ("Calling rules", ["calling_rules", "default_timezone", "ring_timeout"]),
    ("Attempts and retries", ["max_attempts", "max_attempts_per_day",
                              "retry_no_answer_minutes", "retry_busy_minutes",
                              "retry_congestion_minutes", "retry_machine_minutes",
                              "retry_dropped_minutes"]),
    ("Abandoned calls", ["abandon_target_percent", "abandon_window", "safe_harbor"]),
    ("Answering machines", ["amd_enabled", "amd_machine_action", "amd_machine_sound",
                            "amd_notsure"]),
    ("Wrap-up", ["wrapup_seconds", "disposition_required"]),
]


class CampaignForm(forms.ModelForm):
    safe_harbor = forms.FileField(
        label="Safe-harbor message (WAV)", required=False,
        help_text="Played to a person the dialer cannot connect to an agent within 2 seconds. "
                  "A PCM WAV file; it is converted to 8 kHz mono for Asterisk.")

    class Meta:
        model = Campaign
        fields = ["name", "description", "dial_mode", "caller_id_name", "caller_id_number",
                  "carrier", "other_carriers", "agents", "calling_rules", "default_timezone",
                  "ring_timeout",
                  "max_attempts", "max_attempts_per_day", "retry_no_answer_minutes",
                  "retry_busy_minutes", "retry_congestion_minutes", "retry_machine_minutes",
                  "retry_dropped_minutes", "abandon_target_percent", "abandon_window",
                  "wrapup_seconds", "disposition_required", "amd_enabled",
                  "amd_machine_action", "amd_machine_sound", "amd_notsure"]
        help_texts = {
            "caller_id_name": "Shown to the called party when the carrier passes it on. "
                              "Empty: the agent's extension's caller ID is used.",
            "caller_id_number": "Digits with an optional leading +. Empty: the extension's.",
            "carrier": "The dialer's calls go out through this carrier, on its Asterisk "
                       "server, for the agents whose phones are on that server. Empty: "
                       "the agents' dialplan decides (manual calls only).",
            "calling_rules": "Empty: the built-in US federal rules (08:00-21:00 in each "
                             "lead's local time, every day).",
            "ring_timeout": "At least 15 seconds (the US Telemarketing Sales Rule).",
        }
        widgets = {"description": forms.Textarea(attrs={"rows": 3}),
                   "agents": forms.CheckboxSelectMultiple,
                   "other_carriers": forms.CheckboxSelectMultiple}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        active = Carrier.objects.filter(is_active=True).select_related("server")
        self.fields["carrier"].queryset = active
        self.fields["other_carriers"].queryset = active
        self.fields["other_carriers"].label_from_instance = (
            lambda carrier: f"{carrier.name} (on {carrier.server.name})")
        self.fields["agents"].queryset = (self.fields["agents"].queryset
                                          .filter(groups__name=AGENT, is_active=True)
                                          .order_by("username").distinct())
        # The AMD policies have defaults: a form (or client) that leaves them out keeps them.
        for name in ("amd_machine_action", "amd_notsure"):
            self.fields[name].required = False
        # Goes into the Originate's CallerID as "name" <number>: no quotes or angle brackets.
        self.fields["caller_id_name"].validators.append(caller_id_name_validator)
        self.helper = _sections()

    def clean_name(self) -> str:
        return self.cleaned_data["name"].strip()

    def _policy(self, name: str) -> str:
        default = Campaign._meta.get_field(name).default
        return self.cleaned_data.get(name) or getattr(self.instance, name, None) or default

    def clean_amd_machine_action(self) -> str:
        return self._policy("amd_machine_action")

    def clean_amd_notsure(self) -> str:
        return self._policy("amd_notsure")

    def clean_safe_harbor(self):
        upload = self.cleaned_data.get("safe_harbor")
        if upload and upload.size > SAFE_HARBOR_MAX_BYTES:
            raise forms.ValidationError("The message may be at most 10 MB.")
        return upload

    def clean(self) -> dict:
        data = super().clean()
        rules = data.get("calling_rules")
        if rules is not None:
            ring, target = data.get("ring_timeout"), data.get("abandon_target_percent")
            if ring is not None and ring < rules.min_ring_seconds:
                self.add_error("ring_timeout", f"{rules.name} requires at least "
                                               f"{rules.min_ring_seconds} seconds.")
            if target is not None and target > rules.max_abandon_percent:
                self.add_error("abandon_target_percent",
                               f"{rules.name} allows at most {rules.max_abandon_percent} %.")
        self._one_carrier_per_server(data)
        per_day, total = data.get("max_attempts_per_day"), data.get("max_attempts")
        if per_day and total and per_day > total:
            self.add_error("max_attempts_per_day", "Cannot be more than the attempts per lead.")
        return data

    def _one_carrier_per_server(self, data: dict) -> None:
        """A call for an agent goes out through the campaign's one carrier on the agent's
        server: two on a server would leave the choice to chance."""
        main, others = data.get("carrier"), list(data.get("other_carriers") or [])
        if others and main is None:
            self.add_error("other_carriers", "Pick the main carrier first.")
            return
        seen = {main.server_id: main} if main is not None else {}
        for carrier in others:
            if carrier == main:
                self.add_error("other_carriers", f"{carrier.name} is already the main carrier.")
            elif carrier.server_id in seen:
                self.add_error("other_carriers",
                               f"{carrier.name} and {seen[carrier.server_id].name} are both on "
                               f"{carrier.server.name}: one carrier per server.")
            else:
                seen[carrier.server_id] = carrier
