"""Django admin for phones. Every save and delete goes through Phone.save()/delete(), so the
ps_* rows follow; the bulk delete action too (a queryset delete would leave rows behind)."""

from django import forms
from django.contrib import admin

from telephony.admin.readonly import ReadOnlyAdmin
from telephony.asterisk.values import codecs_problem
from telephony.forms.phones import agents_queryset
from telephony.models import Phone, PhoneImportJob


class PhoneAdminForm(forms.ModelForm):
    """The model's validators plus what the Extensions pages check (codecs, one active phone)."""

    class Meta:
        model = Phone
        fields = ["extension", "name", "secret", "server", "context", "codecs", "transport",
                  "max_contacts", "caller_id_name", "caller_id_number", "user", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = agents_queryset()
        self.fields["user"].help_text = "Only active users with the Agent role."

    def clean(self):
        cleaned = super().clean()
        user = cleaned.get("user")
        if user and cleaned.get("is_active"):
            # MariaDB cannot enforce the partial unique constraint: check it here too.
            taken = (Phone.objects.filter(user=user, is_active=True)
                     .exclude(pk=self.instance.pk).values_list("extension", flat=True).first())
            if taken:
                self.add_error("user", f"{user.username} already has active extension {taken}.")
        return cleaned

    def clean_codecs(self) -> str:
        codecs = [codec.strip() for codec in self.cleaned_data["codecs"].split(",")]
        if problem := codecs_problem([codec for codec in codecs if codec]):
            raise forms.ValidationError(problem)
        return ",".join(codec for codec in codecs if codec)


@admin.register(Phone)
class PhoneAdmin(admin.ModelAdmin):
    form = PhoneAdminForm
    list_display = ("extension", "name", "server", "user", "context", "is_active")
    list_filter = ("is_active", "server", "context")
    search_fields = ("extension", "name", "user__username")
    list_select_related = ("server", "user")
    raw_id_fields = ("user",)
    readonly_fields = ("created_at", "updated_at")

    def delete_queryset(self, request, queryset):
        for phone in queryset:
            phone.delete()


@admin.register(PhoneImportJob)
class PhoneImportJobAdmin(ReadOnlyAdmin):
    """Background extension imports: what ran, for whom, and how it ended. The worker writes
    them; the file itself is emptied when a job ends (it may hold secrets)."""

    list_display = ("created_at", "created_by", "status", "created", "updated", "rejected",
                    "finished_at")
    list_filter = ("status",)
    exclude = ("data", "fingerprint", "plan")
