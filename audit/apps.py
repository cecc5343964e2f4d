from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Audit log"

    def ready(self) -> None:
        from audit import auth_events, tracked

        tracked.register_all()
        auth_events.connect()
