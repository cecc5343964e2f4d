from django.contrib.auth.models import AbstractUser
from django.db import models

from telephony.models.jobs import CsvImportJob, JobStatus


class User(AbstractUser):
    """The project's own user model, so fields can be added later without a painful swap.

    Roles are auth groups (Admin, Supervisor, Agent); see users/roles.py.
    """

    class Meta:
        ordering = ["username"]


class LoginFailure(models.Model):
    """A failed login, kept for LOGIN_LOCKOUT_MINUTES; see users/login_throttle.py.

    The row is written before the password is checked and deleted if the login succeeds, so
    while a check is under way it already counts (that is what bounds parallel guesses).
    """

    # As typed (normalised and case-folded), not a foreign key: guesses at names that do not
    # exist must count too, or the lockout would tell an attacker which names are real.
    username = models.CharField(max_length=150)
    ip = models.GenericIPAddressField()
    at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-at"]
        indexes = [
            models.Index(fields=["username", "ip", "at"], name="loginfailure_user_ip_at"),
            models.Index(fields=["ip", "at"], name="loginfailure_ip_at"),
        ]

    def __str__(self) -> str:
        return f"{self.username} from {self.ip} at {self.at:%Y-%m-%d %H:%M:%S}"


class UserImportJob(CsvImportJob):
    """A confirmed users CSV import of more than IMPORT_BACKGROUND_AFTER rows, run in the
    background (users/user_import_job.py); the same fields as the extensions import's job."""

    Status = JobStatus

    class Meta(CsvImportJob.Meta):
        pass

    def __str__(self) -> str:
        return f"users import #{self.pk} ({self.status})"
