from django.db import models

from telephony.validators import context_name_validator


class DialplanContext(models.Model):
    """A dialplan context managed in the UI; its rules are mirrored into extensions_table."""

    name = models.CharField(max_length=40, unique=True, validators=[context_name_validator])
    description = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class DialplanExtension(models.Model):
    """One dialplan step: `exten => pattern,priority,application(arguments)`."""

    context = models.ForeignKey(DialplanContext, on_delete=models.CASCADE,
                                related_name="extensions")
    pattern = models.CharField(max_length=40)
    priority = models.PositiveIntegerField()
    application = models.CharField(max_length=40)
    arguments = models.CharField(max_length=256, blank=True)
    order = models.PositiveIntegerField(default=0)
    # Rows written by "Scaffold default context": re-running the scaffold replaces only these.
    scaffolded = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["context", "order", "pattern", "priority"]
        constraints = [
            models.UniqueConstraint(fields=["context", "pattern", "priority"],
                                    name="unique_dialplan_step"),
        ]

    def __str__(self) -> str:
        return f"{self.context.name}: {self.pattern},{self.priority},{self.application}"
