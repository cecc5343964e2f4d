from auditlog.context import auditlog_value
from auditlog.middleware import AuditlogMiddleware

from users.login_throttle import client_ip


class AuditMiddleware(AuditlogMiddleware):
    """auditlog's middleware (the request's user is the actor of every change it makes), with
    the client address read the way the login throttle reads it: X-Forwarded-For only from
    TRUSTED_PROXY_COUNT proxies, since a client can send that header itself."""

    @staticmethod
    def _get_remote_addr(request):
        return client_ip(request)

    @staticmethod
    def _get_remote_port(request):
        return None

    def __call__(self, request):
        # auditlog leaves its context variable set after the request; in the same thread a
        # later bulk write outside any request (a management command, a test) would take
        # this request's user as its actor. Put it back as it was.
        token = auditlog_value.set({})
        try:
            return super().__call__(request)
        finally:
            auditlog_value.reset(token)
