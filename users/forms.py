from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm

from telephony.forms.phones import free_phones_queryset
from telephony.validators import extension_validator
from users.models import User
from users.roles import ROLES, primary_role
from users.services import EDITABLE_FIELDS


class UserForm(forms.ModelForm):
    """Create or edit a user with exactly one role. A password is required only on create.
    Validates only: `users.services.user_create` / `user_update` write the user and its role."""

    role = forms.ChoiceField(choices=[(r, r) for r in ROLES])
    password1 = forms.CharField(label="Password", widget=forms.PasswordInput, required=False,
                                strip=False)
    password2 = forms.CharField(label="Password (again)", widget=forms.PasswordInput,
                                required=False, strip=False)
    extension = forms.ModelChoiceField(
        queryset=None, required=False, empty_label="No extension",
        help_text="An extension nobody has yet (Agents only). Add more under Extensions.")

    class Meta:
        model = User
        fields = list(EDITABLE_FIELDS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        creating = self.instance.pk is None
        self.fields["extension"].queryset = free_phones_queryset(
            keep_user=None if creating else self.instance)
        if not creating:
            self.fields["extension"].initial = (
                self.fields["extension"].queryset.filter(user=self.instance).first())
        self.fields["password1"].required = creating
        self.fields["password2"].required = creating
        if not creating:
            self.fields["role"].initial = primary_role(self.instance) or "Agent"
            self.fields["password1"].help_text = "Leave blank to keep the current password."
        else:
            self.fields["role"].initial = "Agent"

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("extension") and cleaned.get("role") != "Agent":
            self.add_error("extension", "Only a user with the Agent role can have an extension.")
        p1, p2 = cleaned.get("password1"), cleaned.get("password2")
        if p1 or p2:
            if p1 != p2:
                self.add_error("password2", "The two passwords differ.")
            else:
                try:
                    password_validation.validate_password(p1, self.instance)
                except forms.ValidationError as exc:
                    self.add_error("password1", exc)
        return cleaned

    def service_values(self) -> dict:
        """The cleaned values, as the user services take them."""
        values = {name: self.cleaned_data[name] for name in EDITABLE_FIELDS}
        return {**values, "role": self.cleaned_data["role"],
                "password": self.cleaned_data.get("password1") or ""}


class UserCsvRowForm(forms.Form):
    """One row of a users CSV file, validated like the user form (the model's own username,
    name and email fields); `users/user_csv.py` resolves existing users, extensions, servers."""

    # formfield() leaves out the model field's validators (a ModelForm runs them in
    # full_clean): the username rule (letters, digits and @ . + - _) is one of them.
    username = User._meta.get_field("username").formfield(validators=[User.username_validator])
    first_name = User._meta.get_field("first_name").formfield()
    last_name = User._meta.get_field("last_name").formfield()
    email = User._meta.get_field("email").formfield()
    role = forms.CharField(required=False)
    extension = forms.CharField(required=False, validators=[extension_validator])
    server = forms.CharField(required=False, max_length=100)

    def clean_role(self) -> str:
        """Admin, Supervisor or Agent, in any case; blank: the user's current role (Agent for a
        new user)."""
        raw = self.cleaned_data["role"].strip()
        role = next((name for name in ROLES if name.lower() == raw.lower()), None)
        if raw and role is None:
            raise forms.ValidationError(f"{raw!r} is not a role; use one of {', '.join(ROLES)}.")
        return role or ""


class UserImportForm(forms.Form):
    file = forms.FileField(label="CSV file", help_text="UTF-8 CSV, separated by commas, "
                           "semicolons or tabs; at most 2 MB and 10,000 rows.")


class LoginForm(AuthenticationForm):
    """The login form; while the view says the attempt is refused, no password is checked."""

    def __init__(self, *args, wait_minutes: int = 0, **kwargs):
        super().__init__(*args, **kwargs)
        self.wait_minutes = wait_minutes

    def clean(self):
        if self.wait_minutes:
            unit = "minute" if self.wait_minutes == 1 else "minutes"
            raise forms.ValidationError(
                "Too many failed logins. Try again in %(minutes)d %(unit)s.",
                code="locked_out", params={"minutes": self.wait_minutes, "unit": unit})
        return super().clean()
